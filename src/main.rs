use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::Context;
use mailbox::challenges::ChallengeError;
use mailbox::challenges::tenancy::Tenancies;
use mailbox::clock::Clock;
use mailbox::db::Database;
use mailbox::settings::{LogFormat, Settings};
use mailbox::startup::{self, Application, OneLineFields};
use tracing_subscriber::EnvFilter;

const USAGE: &str = "usage:
  mailbox-challenges                          run the app and the challenge API
  mailbox-challenges tenancy create           create a tenancy; prints its id and API key
  mailbox-challenges tenancy rotate-key ID    give tenancy ID a new API key; prints it";

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // Read first: they say how to log (and `.env` may hold `RUST_LOG`). Their errors go to
    // stderr as plain text, since the log format may be the setting that is wrong.
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(err) => {
            eprintln!("{err}");
            return ExitCode::FAILURE;
        }
    };
    start_logging(settings.log_format);
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

/// Logs to stdout at the level of `RUST_LOG` (default `info`): lines of text, or with
/// `LOG_FORMAT=json` one JSON object per line, whose `spans` list the spans it happened in,
/// outermost first, with their fields: a request's line has the request's id in `spans[0]`.
fn start_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Text => logs.fmt_fields(OneLineFields).with_ansi(log_in_colour()).init(),
        // The innermost span is the last of `spans`: naming it again as `span` would only repeat it.
        LogFormat::Json => logs.json().flatten_event(true).with_current_span(false).with_span_list(true).init(),
    }
}

/// Colour codes only for a person at a terminal (the log goes to stdout) who has not asked for
/// none with `NO_COLOR`: in a file or a log collector they are noise.
fn log_in_colour() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let stop = startup::stop_signal().context("could not listen for SIGTERM and SIGINT")?;
    let (base_url, format, metrics) = (settings.app_base_url.clone(), settings.log_format, settings.metrics);
    let database = mailbox::db::describe(settings.database_url.expose());
    let dev_mailbox = dev_mailbox_line(&settings);
    let app = Application::build(settings).await?;
    let mut facts = vec![("App", format!("{base_url} (listening on http://{})", app.app_addr()))];
    let api = match app.api_addr() {
        Some(addr) => format!("http://{addr}"),
        None => "not served (CHALLENGE_API_ADDR is empty)".to_owned(),
    };
    facts.push(("Challenge API", api));
    if let Some(addr) = app.api_addr().filter(|_| metrics) {
        facts.push(("Metrics", format!("http://{addr}{}", mailbox::metrics::PATH)));
    }
    if let Some(line) = dev_mailbox {
        facts.push(("Dev mailbox", line));
    }
    facts.push(("Database", database));
    announce(format, &facts);
    app.run_until(stop).await
}

/// Tells where the app listens, where mail goes and which database it uses: lined up for a
/// person at a terminal, or as log lines where every line is JSON.
fn announce(format: LogFormat, facts: &[(&str, String)]) {
    for (what, value) in facts {
        match format {
            LogFormat::Text => println!("{:<15}{value}", format!("{what}:")),
            LogFormat::Json => tracing::info!("{what}: {value}"),
        }
    }
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
