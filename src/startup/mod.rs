//! Builds the whole application from its settings: the database, the challenge service, the
//! app's parts, its listeners and background tasks. Tests build it on port 0 and read back the
//! real ports. This is the one place that reads `Settings`.

mod app_server;
mod health;
mod log_fields;
mod request_log;
mod server_keys;
mod shutdown;

use std::future::Future;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use actix_web::cookie::Key;
use actix_web::dev::{Server, ServerHandle};
use actix_web::web;
use anyhow::Context;
use futures_util::future::join_all;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use self::app_server::{Site, serve_api, serve_app};
use self::health::Readiness;
pub use self::log_fields::OneLineFields;
use self::server_keys::configured_or_stored;
use self::shutdown::Background;
pub use self::shutdown::stop_signal;
use crate::accounts::deletion::AccountDeletion;
use crate::accounts::flows::{FlowParts, Flows};
use crate::accounts::recovery::{Recovery, RecoveryParts};
use crate::accounts::session_store::DbSessionStore;
use crate::accounts::users::Users;
use crate::challenges::ChallengeService;
use crate::challenges::engine::Parts;
use crate::challenges::store::ChallengeStore;
use crate::challenges::tenancy::{ConfiguredKey, Tenancies};
use crate::client::{ChallengeClient, HttpClient, HttpClientConfig, InProcessClient, RecordingClient};
use crate::clock::Clock;
use crate::db::Database;
use crate::mail::{Brand, DevMailbox, Mailer, Outbox, SmtpMailer};
use crate::metrics::{CountedMailer, Metrics};
use crate::passkeys::Passkeys;
use crate::passkeys::ceremonies::Ceremonies;
use crate::settings::Settings;
use crate::tls;
use crate::web::AppState;
use crate::web::csrf::CsrfCookies;
use crate::web::dev_notes::DevNotesConfig;
use crate::web::throttle::Throttle;

const PURGE_EVERY: Duration = Duration::from_secs(60);
/// How often the outbox looks for notices due for another try.
const OUTBOX_EVERY: Duration = Duration::from_secs(1);
/// How long a stop waits for the database to commit what is queued and close: a connection
/// held by a request that was cut off must not keep the process from exiting.
const DATABASE_CLOSE_WAIT: Duration = Duration::from_secs(5);

pub struct Application {
    pub db: Database,
    pub service: ChallengeService,
    api: Option<(SocketAddr, Server)>,
    app: (SocketAddr, Server),
    background: Background,
    /// How long requests in flight and the background tasks' current round may take at a stop.
    shutdown_grace: Duration,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        Self::build_with_clock(settings, Clock::System).await
    }

    pub async fn build_with_clock(settings: Settings, clock: Clock) -> anyhow::Result<Self> {
        tls::install_ring_provider();
        let db = Database::open(settings.database_url.expose()).await?;
        let metrics = Metrics::new(&db);
        let mailer: Arc<dyn Mailer> =
            Arc::new(CountedMailer::new(mailer(&settings, &db, &clock)?, metrics.mail.clone()));
        let service = challenge_service(&settings, &db, &clock, mailer.clone(), &metrics).await?;
        let readiness = Readiness::new(db.clone());
        let outbox = Outbox::new(db.clone(), mailer.clone(), clock.clone());
        let grace = settings.shutdown_grace;
        let api = settings
            .challenge_api_addr
            .map(|addr| {
                let endpoint = settings.metrics.then(|| metrics.endpoint(outbox.clone()));
                serve_api(addr, service.clone(), readiness.clone(), metrics.request_timer("api"), endpoint, grace)
            })
            .transpose()?;
        let state = app_state(&settings, &db, &clock, challenge_client(&settings, &service)?, mailer, outbox.clone())?;
        let sessions = state.sessions.clone();
        let throttle = throttle(settings.throttle_per_minute).behind(settings.trusted_proxies.clone());
        let mut background = Background::default();
        background.stoppable(service.spawn_purge(PURGE_EVERY, background.stop_token()));
        background.stoppable(outbox.spawn_worker(OUTBOX_EVERY, background.stop_token()));
        background.stoppable(spawn_app_purge(
            sessions.clone(),
            state.passkeys.ceremonies().clone(),
            DevMailbox::new(db.clone(), clock.clone()),
            outbox,
            background.stop_token(),
        ));
        background.in_memory(throttle.spawn_cleanup(PURGE_EVERY));
        let session_key = configured_or_stored(&db, "session_key", settings.session_key.as_ref(), 64)
            .await
            .context("could not load SESSION_KEY")?;
        let site = Site {
            state: web::Data::new(state),
            dev_mailbox: serves_dev_mailbox(&settings).then(|| DevMailbox::new(db.clone(), clock.clone())),
            dev_notes: shows_dev_notes(&settings)
                .then(|| DevNotesConfig::new(settings.app_base_url.clone(), clock.clone())),
            sessions,
            session_key: Key::from(session_key.as_bytes()),
            csrf_cookies: web::Data::new(CsrfCookies::new(session_key.as_bytes(), settings.is_production())),
            secure_cookies: settings.is_production(),
            throttle: web::Data::new(throttle),
            trusted_proxies: web::Data::new(settings.trusted_proxies.clone()),
            readiness,
            request_timer: metrics.request_timer("app"),
        };
        let app = serve_app(settings.app_addr, site, grace)?;
        Ok(Self { db, service, api, app, background, shutdown_grace: grace })
    }

    /// Where the sample app listens.
    pub fn app_addr(&self) -> SocketAddr {
        self.app.0
    }

    /// Where the REST API listens, if it is served.
    pub fn api_addr(&self) -> Option<SocketAddr> {
        self.api.as_ref().map(|(addr, _)| *addr)
    }

    /// Serves until `stop` completes (see [`stop_signal`]), then stops in order: the listeners
    /// stop accepting, the requests in flight and the background tasks' current round finish
    /// (within the grace period), and the database commits what is queued and closes.
    pub async fn run_until(self, stop: impl Future<Output = ()>) -> anyhow::Result<()> {
        let Self { db, api, app, background, shutdown_grace, .. } = self;
        let servers: Vec<Server> = api.into_iter().chain([app]).map(|(_, server)| server).collect();
        let handles: Vec<ServerHandle> = servers.iter().map(Server::handle).collect();
        let mut serving = join_all(servers);
        let (ended, deadline) = tokio::select! {
            ended = &mut serving => (ended, Instant::now() + shutdown_grace),
            () = stop => {
                let deadline = Instant::now() + shutdown_grace;
                let grace_seconds = shutdown_grace.as_secs();
                tracing::info!(grace_seconds, "stopping: no new connections; requests in flight may finish");
                background.request_stop();
                // Each server waits for its requests in flight for at most the grace period.
                let stopping = join_all(handles.iter().map(|server| server.stop(true)));
                (tokio::join!(stopping, serving).1, deadline)
            }
        };
        background.stop(deadline).await;
        tokio::time::timeout(DATABASE_CLOSE_WAIT, db.close())
            .await
            .context("the database did not close in time")?
            .context("could not close the database")?;
        tracing::info!("stopped");
        ended.into_iter().collect::<std::io::Result<()>>().context("a server failed")
    }

    /// Starts the servers in the background, for as long as the runtime runs; for tests and the
    /// benchmark, which keep their signals to themselves.
    pub fn spawn(self) {
        tokio::spawn(self.run_until(std::future::pending()));
    }
}

/// SMTP when `SMTP_URL` is set, otherwise the development mailbox.
///
/// Must be called inside a Tokio runtime: the SMTP connection pool starts its upkeep task here.
fn mailer(settings: &Settings, db: &Database, clock: &Clock) -> anyhow::Result<Arc<dyn Mailer>> {
    Ok(match &settings.smtp_url {
        Some(url) => Arc::new(SmtpMailer::new(url.expose(), settings.mail_from.clone())?),
        None => Arc::new(DevMailbox::new(db.clone(), clock.clone())),
    })
}

/// The embedded challenge service, with the tenancy of the settings made sure to exist.
async fn challenge_service(
    settings: &Settings,
    db: &Database,
    clock: &Clock,
    mailer: Arc<dyn Mailer>,
    metrics: &Metrics,
) -> anyhow::Result<ChallengeService> {
    let hash_key = configured_or_stored(db, "challenge_hash_key", settings.challenge_hash_key.as_ref(), 32)
        .await
        .context("could not load CHALLENGE_HASH_KEY")?;
    let service = ChallengeService::new(Parts {
        store: ChallengeStore::new(db.clone()),
        tenancies: Tenancies::new(db.clone(), clock.clone()),
        hash_key: hash_key.into_bytes(),
        clock: clock.clone(),
        policy: settings.policy.clone(),
        mailer,
        metrics: metrics.challenges.clone(),
    });
    let key = service
        .tenancies()
        .ensure(&settings.tenancy_id, settings.api_key.expose())
        .await
        .context("could not create the tenancy of PASSLOCK_TENANCY_ID")?;
    if key == ConfiguredKey::Rotated {
        let problem = format!(
            "PASSLOCK_API_KEY is not the key of tenancy {:?}: it was rotated since. Set it to the key that `tenancy rotate-key` printed",
            settings.tenancy_id
        );
        if settings.is_production() {
            anyhow::bail!(problem);
        }
        tracing::warn!("{problem}; until then the app's calls to the challenge service are refused");
    }
    Ok(service)
}

/// The app's way to the challenge service: over HTTP when `PASSLOCK_ENDPOINT` is set,
/// otherwise the embedded engine in-process; noting each call where the notes are shown.
fn challenge_client(settings: &Settings, service: &ChallengeService) -> anyhow::Result<Arc<dyn ChallengeClient>> {
    let client: Arc<dyn ChallengeClient> = match &settings.passlock_endpoint {
        Some(endpoint) => Arc::new(
            HttpClient::new(HttpClientConfig::new(endpoint.clone(), &settings.tenancy_id, settings.api_key.clone()))
                .map_err(|e| anyhow::anyhow!("could not build the HTTP client for PASSLOCK_ENDPOINT: {e}"))?,
        ),
        None => Arc::new(InProcessClient::new(service.clone(), &settings.tenancy_id, settings.api_key.clone())),
    };
    Ok(if shows_dev_notes(settings) { Arc::new(RecordingClient::new(client, &settings.tenancy_id)) } else { client })
}

/// The developer notes explain each step of a flow on its pages, in development only: they
/// show what production keeps to itself, such as whether an address has an account.
fn shows_dev_notes(settings: &Settings) -> bool {
    !settings.is_production()
}

/// What the app's handlers share: the flows, recovery, deletion, accounts and passkeys.
fn app_state(
    settings: &Settings,
    db: &Database,
    clock: &Clock,
    client: Arc<dyn ChallengeClient>,
    mailer: Arc<dyn Mailer>,
    outbox: Outbox,
) -> anyhow::Result<AppState> {
    let users = Users::new(db.clone(), clock.clone());
    let brand = Brand::new(&settings.app_name, &settings.app_base_url);
    Ok(AppState {
        flows: Flows::new(FlowParts {
            client,
            users: users.clone(),
            mailer,
            outbox: outbox.clone(),
            clock: clock.clone(),
            brand: brand.clone(),
            max_attempts: settings.policy.max_attempts,
        }),
        recovery: Recovery::new(RecoveryParts {
            users: users.clone(),
            outbox: outbox.clone(),
            clock: clock.clone(),
            ttl: settings.recovery_ttl,
            brand: brand.clone(),
        }),
        deletion: AccountDeletion::new(outbox, brand),
        passkeys: Passkeys::new(&settings.app_base_url, db.clone(), clock.clone())?,
        sessions: DbSessionStore::new(db.clone(), clock.clone()),
        users,
        clock: clock.clone(),
    })
}

/// `per_minute` form POSTs per client IP, in bursts of at most ten.
fn throttle(per_minute: u32) -> Throttle {
    Throttle::new(
        NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN),
        NonZeroU32::new(per_minute.min(10)).unwrap_or(NonZeroU32::MIN),
    )
}

/// `/dev/mailbox` shows every code the app sent, so it is served only in development without
/// SMTP, and only on a loopback address unless `DEV_MAILBOX_ON_PUBLIC_ADDR=true` says otherwise.
pub fn serves_dev_mailbox(settings: &Settings) -> bool {
    settings.smtp_url.is_none()
        && !settings.is_production()
        && (settings.app_addr.ip().is_loopback() || settings.dev_mailbox_on_public_addr)
}

/// Removes expired sessions, WebAuthn ceremonies, development mail and sent notices, until `stop`
/// is cancelled; a purge that started is finished first.
fn spawn_app_purge(
    sessions: DbSessionStore,
    ceremonies: Ceremonies,
    dev_mailbox: DevMailbox,
    outbox: Outbox,
    stop: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(PURGE_EVERY);
        loop {
            tokio::select! {
                biased;
                () = stop.cancelled() => return,
                _ = tick.tick() => {}
            }
            if let Err(err) = sessions.purge_expired().await {
                tracing::warn!(error = %err, "session purge failed; will retry");
            }
            if let Err(err) = ceremonies.purge_expired().await {
                tracing::warn!(error = %err, "ceremony purge failed; will retry");
            }
            if let Err(err) = dev_mailbox.purge_expired().await {
                tracing::warn!(error = %err, "development mailbox purge failed; will retry");
            }
            if let Err(err) = outbox.purge_sent().await {
                tracing::warn!(error = %err, "outbox purge failed; will retry");
            }
        }
    })
}
