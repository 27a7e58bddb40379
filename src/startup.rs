//! Builds the whole application from its settings: database, challenge service, listeners and
//! background tasks. Tests build it on port 0 and read back the real ports.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use std::num::NonZeroU32;

use actix_session::SessionMiddleware;
use actix_session::config::{BrowserSession, CookieContentSecurity};
use actix_web::cookie::{Key, SameSite};
use actix_web::dev::Server;
use actix_web::middleware::{DefaultHeaders, from_fn};
use actix_web::{App, HttpServer, web};
use anyhow::Context;

use crate::accounts::flows::Flows;
use crate::accounts::session_store::SqliteSessionStore;
use crate::accounts::users::Users;
use crate::challenges::{ChallengeService, api};
use crate::client::{ChallengeClient, HttpClient, HttpClientConfig, InProcessClient};
use crate::clock::Clock;
use crate::db::Database;
use crate::mail::DevMailbox;
use crate::passkeys::Passkeys;
use crate::passkeys::ceremonies::Ceremonies;
use crate::settings::Settings;
use crate::web::throttle::{self, Throttle};
use crate::web::{self as site, AppState, recovery};
use crate::{keys, mail, tls};

const PURGE_EVERY: Duration = Duration::from_secs(60);

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
        let db = Database::open(&settings.database_url).await?;
        let hash_key = keys::configured_or_stored(&db, "challenge_hash_key", settings.challenge_hash_key.as_ref(), 32)
            .await
            .context("could not load CHALLENGE_HASH_KEY")?;
        let mailer = mail::from_settings(&settings, &db, &clock)?;
        let service =
            ChallengeService::new(db.clone(), &hash_key, clock.clone(), settings.policy.clone(), mailer.clone());
        service
            .tenancies()
            .ensure(&settings.tenancy_id, settings.api_key.expose())
            .await
            .context("could not create the tenancy of PASSLOCK_TENANCY_ID")?;
        let api = match settings.challenge_api_addr {
            Some(addr) => Some(serve_api(addr, service.clone())?),
            None => None,
        };
        let session_key = keys::configured_or_stored(&db, "session_key", settings.session_key.as_ref(), 64)
            .await
            .context("could not load SESSION_KEY")?;
        let client = challenge_client(&settings, &service)?;
        let sessions = SqliteSessionStore::new(db.clone(), clock.clone());
        let throttle = Throttle::new(
            NonZeroU32::new(settings.throttle_per_minute).unwrap_or(NonZeroU32::MIN),
            NonZeroU32::new(settings.throttle_per_minute.min(10)).unwrap_or(NonZeroU32::MIN),
        );
        let passkeys = Passkeys::new(&settings.app_base_url, db.clone(), clock.clone())?;
        let background = vec![
            service.spawn_purge(PURGE_EVERY),
            throttle.spawn_cleanup(PURGE_EVERY),
            spawn_session_purge(sessions.clone(), passkeys.ceremonies().clone()),
        ];
        let site = Site {
            state: web::Data::new(AppState {
                flows: Flows::new(
                    client,
                    Users::new(db.clone(), clock.clone()),
                    mailer,
                    clock.clone(),
                    settings.app_base_url.as_str(),
                    settings.policy.max_attempts,
                ),
                users: Users::new(db.clone(), clock.clone()),
                passkeys: passkeys.clone(),
                sessions: sessions.clone(),
                clock: clock.clone(),
                recovery_ttl: settings.recovery_ttl,
            }),
            dev_mailbox: (settings.smtp_url.is_none() && !settings.is_production())
                .then(|| DevMailbox::new(db.clone(), clock.clone())),
            sessions,
            session_key: Key::from(&session_key),
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

/// Removes expired sessions and WebAuthn ceremonies.
fn spawn_session_purge(sessions: SqliteSessionStore, ceremonies: Ceremonies) -> tokio::task::JoinHandle<()> {
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
        }
    })
}

/// What the app's server is built from.
struct Site {
    state: web::Data<AppState>,
    dev_mailbox: Option<DevMailbox>,
    sessions: SqliteSessionStore,
    session_key: Key,
    secure_cookies: bool,
    throttle: web::Data<Throttle>,
}

fn serve_app(addr: SocketAddr, site: Site) -> anyhow::Result<(SocketAddr, Server)> {
    let listener = TcpListener::bind(addr).with_context(|| format!("could not listen on APP_ADDR {addr}"))?;
    let bound = listener.local_addr()?;
    let server = HttpServer::new(move || {
        let sessions = SessionMiddleware::builder(site.sessions.clone(), site.session_key.clone())
            .cookie_name("session".into())
            .cookie_http_only(true)
            .cookie_same_site(SameSite::Lax)
            .cookie_secure(site.secure_cookies)
            .cookie_content_security(CookieContentSecurity::Private)
            .session_lifecycle(BrowserSession::default())
            .build();
        App::new()
            .app_data(site.state.clone())
            .app_data(site.throttle.clone())
            // A WebAuthn credential is a few KiB; nothing the app reads needs more.
            .app_data(web::JsonConfig::default().limit(64 * 1024))
            .wrap(from_fn(recovery::confine_recovery))
            .wrap(from_fn(throttle::limit_posts))
            .wrap(sessions)
            .wrap(security_headers(site.secure_cookies))
            .configure(|cfg| site::configure(cfg, site.dev_mailbox.clone()))
            .default_service(web::to(site::not_found))
    })
    .listen(listener)?
    .disable_signals()
    .run();
    Ok((bound, server))
}

/// Headers that keep the pages from being framed, sniffed, cached or leaking where they were;
/// over HTTPS, browsers are also told to never use plain HTTP for this site.
fn security_headers(https: bool) -> DefaultHeaders {
    let headers = DefaultHeaders::new()
        // Pages show codes, addresses and passkeys; the static assets set their own policy.
        .add(("Cache-Control", "no-store"))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("X-Frame-Options", "DENY"))
        .add(("Referrer-Policy", "same-origin"))
        .add((
            "Content-Security-Policy",
            "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
             frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        ));
    if https { headers.add(("Strict-Transport-Security", "max-age=31536000")) } else { headers }
}

fn serve_api(addr: SocketAddr, service: ChallengeService) -> anyhow::Result<(SocketAddr, Server)> {
    let listener = TcpListener::bind(addr).with_context(|| format!("could not listen on CHALLENGE_API_ADDR {addr}"))?;
    let bound = listener.local_addr()?;
    let data = web::Data::new(service);
    let server = HttpServer::new(move || {
        App::new().app_data(data.clone()).configure(api::configure).default_service(web::to(api::unknown_route))
    })
    .listen(listener)?
    .disable_signals()
    .run();
    Ok((bound, server))
}
