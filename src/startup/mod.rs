//! Builds the whole application from its settings: the database, the challenge service, the
//! app's parts, its listeners and background tasks. Tests build it on port 0 and read back the
//! real ports. This is the one place that reads `Settings`.

mod app_server;
mod server_keys;

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use actix_web::cookie::Key;
use actix_web::dev::Server;
use actix_web::web;
use anyhow::Context;

use self::app_server::{Site, serve_api, serve_app};
use self::server_keys::configured_or_stored;
use crate::accounts::deletion::AccountDeletion;
use crate::accounts::flows::{FlowParts, Flows};
use crate::accounts::recovery::{Recovery, RecoveryParts};
use crate::accounts::session_store::DbSessionStore;
use crate::accounts::users::Users;
use crate::challenges::ChallengeService;
use crate::challenges::engine::Parts;
use crate::challenges::store::ChallengeStore;
use crate::challenges::tenancy::{ConfiguredKey, Tenancies};
use crate::client::{ChallengeClient, HttpClient, HttpClientConfig, InProcessClient};
use crate::clock::Clock;
use crate::db::Database;
use crate::mail::{Brand, DevMailbox, Mailer, Outbox, SmtpMailer};
use crate::passkeys::Passkeys;
use crate::passkeys::ceremonies::Ceremonies;
use crate::settings::Settings;
use crate::tls;
use crate::web::AppState;
use crate::web::csrf::CsrfCookies;
use crate::web::throttle::Throttle;

const PURGE_EVERY: Duration = Duration::from_secs(60);
/// How often the outbox looks for notices due for another try.
const OUTBOX_EVERY: Duration = Duration::from_secs(1);

pub struct Application {
    pub db: Database,
    pub service: ChallengeService,
    api: Option<(SocketAddr, Server)>,
    app: (SocketAddr, Server),
    background: Vec<tokio::task::JoinHandle<()>>,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        Self::build_with_clock(settings, Clock::System).await
    }

    pub async fn build_with_clock(settings: Settings, clock: Clock) -> anyhow::Result<Self> {
        tls::install_ring_provider();
        let db = Database::open(settings.database_url.expose()).await?;
        let mailer = mailer(&settings, &db, &clock)?;
        let service = challenge_service(&settings, &db, &clock, mailer.clone()).await?;
        let api = settings.challenge_api_addr.map(|addr| serve_api(addr, service.clone())).transpose()?;
        let outbox = Outbox::new(db.clone(), mailer.clone(), clock.clone());
        let state = app_state(&settings, &db, &clock, challenge_client(&settings, &service)?, mailer, outbox.clone())?;
        let sessions = DbSessionStore::new(db.clone(), clock.clone());
        let throttle = throttle(settings.throttle_per_minute).behind(settings.trusted_proxies.clone());
        let background = vec![
            service.spawn_purge(PURGE_EVERY),
            throttle.spawn_cleanup(PURGE_EVERY),
            outbox.spawn_worker(OUTBOX_EVERY),
            spawn_app_purge(
                sessions.clone(),
                state.passkeys.ceremonies().clone(),
                DevMailbox::new(db.clone(), clock.clone()),
                outbox,
            ),
        ];
        let session_key = configured_or_stored(&db, "session_key", settings.session_key.as_ref(), 64)
            .await
            .context("could not load SESSION_KEY")?;
        let site = Site {
            state: web::Data::new(state),
            dev_mailbox: serves_dev_mailbox(&settings).then(|| DevMailbox::new(db.clone(), clock.clone())),
            sessions,
            session_key: Key::from(session_key.as_bytes()),
            csrf_cookies: web::Data::new(CsrfCookies::new(session_key.as_bytes(), settings.is_production())),
            secure_cookies: settings.is_production(),
            throttle: web::Data::new(throttle),
        };
        let app = serve_app(settings.app_addr, site)?;
        Ok(Self { db, service, api, app, background })
    }

    /// Where the sample app listens.
    pub fn app_addr(&self) -> SocketAddr {
        self.app.0
    }

    /// Where the REST API listens, if it is served.
    pub fn api_addr(&self) -> Option<SocketAddr> {
        self.api.as_ref().map(|(addr, _)| *addr)
    }

    /// Runs until the servers stop (Ctrl-C).
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let (_, app) = self.app;
        match self.api {
            Some((_, api)) => {
                tokio::select! {
                    done = app => done?,
                    done = api => done?,
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            None => tokio::select! {
                done = app => done?,
                _ = tokio::signal::ctrl_c() => {}
            },
        }
        for task in self.background {
            task.abort();
        }
        Ok(())
    }

    /// Starts the servers in the background; for tests and the benchmark.
    pub fn spawn(self) {
        tokio::spawn(self.run_until_stopped());
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
/// otherwise the embedded engine in-process.
fn challenge_client(settings: &Settings, service: &ChallengeService) -> anyhow::Result<Arc<dyn ChallengeClient>> {
    Ok(match &settings.passlock_endpoint {
        Some(endpoint) => Arc::new(
            HttpClient::new(HttpClientConfig::new(endpoint.clone(), &settings.tenancy_id, settings.api_key.clone()))
                .map_err(|e| anyhow::anyhow!("could not build the HTTP client for PASSLOCK_ENDPOINT: {e}"))?,
        ),
        None => Arc::new(InProcessClient::new(service.clone(), &settings.tenancy_id, settings.api_key.clone())),
    })
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

/// Removes expired sessions, WebAuthn ceremonies, development mail and sent notices.
fn spawn_app_purge(
    sessions: DbSessionStore,
    ceremonies: Ceremonies,
    dev_mailbox: DevMailbox,
    outbox: Outbox,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(PURGE_EVERY);
        loop {
            tick.tick().await;
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
