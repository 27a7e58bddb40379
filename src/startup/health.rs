//! Health probes, served on both listeners without authentication: `/healthz` answers while the
//! process does (no I/O), `/readyz` while it can serve requests (the database answers in time).

use std::time::Duration;

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::challenges::error::UNAVAILABLE_RETRY_SECONDS;
use crate::db::{Database, on_backend};

/// How long the database may take to answer before the instance counts as not ready.
const DATABASE_DEADLINE: Duration = Duration::from_secs(1);

/// What readiness depends on. A mailer needs no check of its own: the application does not start
/// without one (`SMTP_URL`, or outside production the development mailbox in the database).
#[derive(Clone)]
pub struct Readiness {
    db: Database,
}

impl Readiness {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

/// Mounts `/healthz` and `/readyz`.
pub fn configure(cfg: &mut web::ServiceConfig, readiness: Readiness) {
    cfg.app_data(web::Data::new(readiness))
        .route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz));
}

async fn healthz() -> HttpResponse {
    probe_answer(HttpResponse::Ok()).json(json!({ "status": "ok" }))
}

async fn readyz(readiness: web::Data<Readiness>) -> HttpResponse {
    let problem = match tokio::time::timeout(DATABASE_DEADLINE, database_answers(&readiness.db)).await {
        Ok(Ok(())) => return probe_answer(HttpResponse::Ok()).json(json!({ "status": "ready" })),
        Ok(Err(err)) => {
            tracing::warn!(error = %err, "not ready: the database failed");
            "the database failed".to_owned()
        }
        Err(_) => format!("the database did not answer within {} s", DATABASE_DEADLINE.as_secs()),
    };
    probe_answer(HttpResponse::ServiceUnavailable())
        .insert_header((header::RETRY_AFTER, UNAVAILABLE_RETRY_SECONDS.to_string()))
        .json(json!({ "status": "unavailable", "reason": problem }))
}

async fn database_answers(db: &Database) -> sqlx::Result<()> {
    on_backend!(db.reader(), pool => sqlx::query("SELECT 1").execute(pool).await.map(drop))
}

/// A probe's answer is about this moment only.
fn probe_answer(mut builder: actix_web::HttpResponseBuilder) -> actix_web::HttpResponseBuilder {
    builder.insert_header((header::CACHE_CONTROL, "no-store"));
    builder
}
