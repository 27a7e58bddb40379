use std::io::IsTerminal;
use std::process::ExitCode;

use mailbox::challenges::ChallengeError;
use mailbox::challenges::tenancy::Tenancies;
use mailbox::clock::Clock;
use mailbox::db::Database;
use mailbox::settings::Settings;
use mailbox::startup::{self, Application};
use tracing_subscriber::EnvFilter;

const USAGE: &str = "usage:
  mailbox-challenges                          run the app and the challenge API
  mailbox-challenges tenancy create           create a tenancy; prints its id and API key
  mailbox-challenges tenancy rotate-key ID    give tenancy ID a new API key; prints it";

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .with_ansi(log_in_colour())
        .init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(err) => {
            eprintln!("{err}");
            return ExitCode::FAILURE;
        }
    };
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        [] | ["serve"] => serve(settings).await,
        ["tenancy", "create"] => tenancy(settings, None).await,
        ["tenancy", "rotate-key", id] => tenancy(settings, Some(id)).await,
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Colour codes only for a person at a terminal (the log goes to stdout) who has not asked for
/// none with `NO_COLOR`: in a file or a log collector they are noise.
fn log_in_colour() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let base_url = settings.app_base_url.clone();
    let database = mailbox::db::describe(settings.database_url.expose());
    let dev_mailbox = dev_mailbox_line(&settings);
    let app = Application::build(settings).await?;
    println!("App:           {base_url} (listening on http://{})", app.app_addr());
    match app.api_addr() {
        Some(addr) => println!("Challenge API: http://{addr}"),
        None => println!("Challenge API: not served (CHALLENGE_API_ADDR is empty)"),
    }
    if let Some(line) = dev_mailbox {
        println!("Dev mailbox:   {line}");
    }
    println!("Database:      {database}");
    app.run_until_stopped().await
}

/// Where mail goes when there is no SMTP server, and who can read it.
fn dev_mailbox_line(settings: &Settings) -> Option<String> {
    if settings.smtp_url.is_some() || settings.is_production() {
        return None;
    }
    let url = format!("{}dev/mailbox", settings.app_base_url);
    Some(match (startup::serves_dev_mailbox(settings), settings.app_addr.ip().is_loopback()) {
        (true, true) => url,
        (true, false) => format!("{url} (DEV_MAILBOX_ON_PUBLIC_ADDR=true: anyone who reaches {} reads every code)", settings.app_addr),
        (false, _) => "not served: APP_ADDR is not a loopback address; set DEV_MAILBOX_ON_PUBLIC_ADDR=true to serve it anyway, or set SMTP_URL".to_owned(),
    })
}

/// The tenancy commands open only the database, so they work beside a running server.
async fn tenancy(settings: Settings, rotate: Option<&str>) -> anyhow::Result<()> {
    let db = Database::open(settings.database_url.expose()).await?;
    let tenancies = Tenancies::new(db, Clock::System);
    let issued = match rotate {
        None => tenancies.create().await?,
        Some(id) => match tenancies.rotate_key(id).await {
            Err(ChallengeError::NotFound) => anyhow::bail!("no tenancy {id:?} in the database of DATABASE_URL"),
            other => other?,
        },
    };
    println!("PASSLOCK_TENANCY_ID={}", issued.tenancy_id);
    println!("PASSLOCK_API_KEY={}", issued.api_key.expose());
    println!("The API key is shown only now; keep it somewhere safe.");
    Ok(())
}
