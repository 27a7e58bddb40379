//! Builds the whole application from its settings: database, challenge service, listeners and
//! background tasks. Tests build it on port 0 and read back the real ports.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::{App, HttpServer, web};
use anyhow::Context;

use crate::challenges::{ChallengeService, api};
use crate::clock::Clock;
use crate::db::Database;
use crate::settings::Settings;
use crate::{keys, mail, tls};

const PURGE_EVERY: Duration = Duration::from_secs(60);

pub struct Application {
    pub settings: Settings,
    pub db: Database,
    pub service: ChallengeService,
    api: Option<(SocketAddr, Server)>,
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
        let service = ChallengeService::new(db.clone(), &hash_key, clock, settings.policy.clone(), mailer);
        service
            .tenancies()
            .ensure(&settings.tenancy_id, settings.api_key.expose())
            .await
            .context("could not create the tenancy of PASSLOCK_TENANCY_ID")?;
        let api = match settings.challenge_api_addr {
            Some(addr) => Some(serve_api(addr, service.clone())?),
            None => None,
        };
        Ok(Self { settings, db, service, api })
    }

    /// Where the REST API listens, if it is served.
    pub fn api_addr(&self) -> Option<SocketAddr> {
        self.api.as_ref().map(|(addr, _)| *addr)
    }

    /// Runs until the servers stop (Ctrl-C).
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let purge = self.service.spawn_purge(PURGE_EVERY);
        if let Some((_, server)) = self.api {
            server.await?;
        } else {
            tokio::signal::ctrl_c().await?;
        }
        purge.abort();
        Ok(())
    }

    /// Starts the servers in the background; for tests and the benchmark.
    pub fn spawn(self) -> Arc<ChallengeService> {
        let service = Arc::new(self.service.clone());
        tokio::spawn(self.run_until_stopped());
        service
    }
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
