//! What an operator's Prometheus reads at `GET /metrics` on the API's listener when
//! `METRICS=true`: the challenge service's counters, mail, the outbox, HTTP request durations,
//! SQLite's group commits and the purge's chunks, in the Prometheus text format.
//!
//! Each `Application` has a registry of its own, so that an instance (and a test) counts only
//! its own work. No label holds an address, an id or a key: routes are patterns, failures are
//! wire tags.

mod challenges;
mod http;
mod mail;
mod route;

use std::sync::Arc;
use std::time::Duration;

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use prometheus_client::encoding::prometheus_text;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

pub use self::challenges::ChallengeMetrics;
use self::http::RequestDurations;
pub use self::http::{RequestTimer, time_requests};
pub use self::mail::{CountedMailer, MailMetrics};
pub use self::route::answered_route;
use crate::db::Database;
use crate::mail::Outbox;

pub const PATH: &str = "/metrics";
/// How long a scrape waits for the database to count the outbox.
const OUTBOX_DEADLINE: Duration = Duration::from_secs(1);

/// A metric without labels whose sample can be left out: the outbox depth when the database
/// cannot tell it, rather than a stale or made-up number.
type Optional = Family<[(&'static str, &'static str); 0], Gauge>;

/// The instruments of one application, and the registry that lists them.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    pub challenges: ChallengeMetrics,
    pub mail: MailMetrics,
    requests: RequestDurations,
    outbox_depth: Optional,
}

impl Metrics {
    /// The application's instruments, with those `db` keeps of its own.
    pub fn new(db: &Database) -> Self {
        let mut registry = Registry::default();
        let (challenges, mail, requests, outbox_depth) =
            (ChallengeMetrics::default(), MailMetrics::default(), RequestDurations::default(), Optional::default());
        challenges.register(&mut registry);
        mail.register(&mut registry);
        requests.register(&mut registry);
        registry.register(
            "outbox_depth",
            "Emails in the outbox not sent yet, as counted at this scrape (none when the database did not answer)",
            outbox_depth.clone(),
        );
        if let Some(batch_sizes) = db.group_commit_batch_sizes() {
            registry.register(
                "sqlite_group_commit_batch_size",
                "Writes committed together in one SQLite transaction",
                batch_sizes.clone(),
            );
        }
        if let Some(wal_restarts) = db.sqlite_wal_restart_seconds() {
            registry.register(
                "sqlite_wal_restart_seconds",
                "How long writes waited, each time, for the writer to finish a checkpoint so that the WAL starts over",
                wal_restarts.clone(),
            );
        }
        registry.register(
            "purge_chunk_seconds",
            "How long each chunk of a background purge held the database writer (on PostgreSQL, took in its transaction)",
            db.purge_chunk_seconds().clone(),
        );
        Self { registry: Arc::new(registry), challenges, mail, requests, outbox_depth }
    }

    /// The request timer of the listener named `listener`.
    pub fn request_timer(&self, listener: &'static str) -> RequestTimer {
        self.requests.timer(listener)
    }

    /// The `GET /metrics` route, counting `outbox` at each scrape.
    pub fn endpoint(&self, outbox: Outbox) -> Endpoint {
        Endpoint { metrics: self.clone(), outbox }
    }

    /// Every metric in the Prometheus text format.
    fn render(&self) -> Result<String, std::fmt::Error> {
        let mut text = String::new();
        prometheus_text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}

#[derive(Clone)]
pub struct Endpoint {
    metrics: Metrics,
    outbox: Outbox,
}

impl Endpoint {
    /// Mounts `GET /metrics` on the server `cfg` configures.
    pub fn configure(&self, cfg: &mut web::ServiceConfig) {
        cfg.app_data(web::Data::new(self.clone())).route(PATH, web::get().to(scrape));
    }

    async fn count_outbox(&self) {
        let depth = &self.metrics.outbox_depth;
        depth.clear();
        match tokio::time::timeout(OUTBOX_DEADLINE, self.outbox.depth()).await {
            Ok(Ok(count)) => {
                depth.get_or_create(&[]).set(count);
            }
            Ok(Err(err)) => tracing::warn!(error = %err, "metrics: the outbox could not be counted"),
            Err(_) => tracing::warn!("metrics: the database did not count the outbox in time"),
        }
    }
}

async fn scrape(endpoint: web::Data<Endpoint>) -> HttpResponse {
    endpoint.count_outbox().await;
    match endpoint.metrics.render() {
        Ok(text) => HttpResponse::Ok()
            .content_type(prometheus_text::CONTENT_TYPE)
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(text),
        Err(err) => {
            tracing::error!(error = %err, "metrics could not be written");
            HttpResponse::InternalServerError().finish()
        }
    }
}
