//! A session that cannot be loaded or saved because the database is in trouble: answered as the
//! rest of the app answers that trouble, `503` with a `Retry-After` and a page that says to try
//! again, rather than actix-session's empty `500`. actix-session keeps the cause of its error
//! private, so the store notes it, for the request it is serving, where [`answer_unavailable`]
//! finds it.

use std::cell::Cell;
use std::collections::HashMap;
use std::error::Error;

use actix_session::storage::{LoadError, SaveError, SessionKey, SessionStore, UpdateError};
use actix_web::body::MessageBody;
use actix_web::cookie::time::Duration;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{HttpResponse, ResponseError};

use super::error::{caused_by_unavailable_database, unavailable_page};

tokio::task_local! {
    /// Whether the session store of the request being answered met an unavailable database.
    static STORE_UNAVAILABLE: Cell<bool>;
}

/// A session store that notes when its database is unavailable; otherwise it is `S`.
#[derive(Clone)]
pub struct NotingUnavailable<S>(pub S);

/// Notes, and logs with its cause, an error of the store that comes from an unavailable database.
fn note_cause(err: &(dyn Error + 'static)) {
    if caused_by_unavailable_database(err) {
        tracing::error!(error = ?err, "the session store cannot use the database");
        // Outside a request there is nothing to answer, so nothing to note.
        let _ = STORE_UNAVAILABLE.try_with(|unavailable| unavailable.set(true));
    }
}

fn note<T, E: Error + 'static>(result: Result<T, E>) -> Result<T, E> {
    if let Err(err) = &result {
        note_cause(err);
    }
    result
}

fn note_anyhow<T>(result: anyhow::Result<T>) -> anyhow::Result<T> {
    if let Err(err) = &result {
        note_cause(err.as_ref());
    }
    result
}

impl<S: SessionStore> SessionStore for NotingUnavailable<S> {
    async fn load(&self, session_key: &SessionKey) -> Result<Option<HashMap<String, String>>, LoadError> {
        note(self.0.load(session_key).await)
    }

    async fn save(&self, session_state: HashMap<String, String>, ttl: &Duration) -> Result<SessionKey, SaveError> {
        note(self.0.save(session_state, ttl).await)
    }

    async fn update(
        &self,
        session_key: SessionKey,
        session_state: HashMap<String, String>,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        note(self.0.update(session_key, session_state, ttl).await)
    }

    async fn update_ttl(&self, session_key: &SessionKey, ttl: &Duration) -> anyhow::Result<()> {
        note_anyhow(self.0.update_ttl(session_key, ttl).await)
    }

    async fn delete(&self, session_key: &SessionKey) -> anyhow::Result<()> {
        note_anyhow(self.0.delete(session_key).await)
    }
}

/// Middleware around the session's: a request whose session store met an unavailable database
/// is answered with the page for that trouble.
pub async fn answer_unavailable(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    STORE_UNAVAILABLE
        .scope(Cell::new(false), async move {
            match next.call(req).await {
                Err(_) if STORE_UNAVAILABLE.with(Cell::get) => Err(SessionStoreUnavailable.into()),
                answered => answered,
            }
        })
        .await
}

/// The session store's error, once it is known to come from an unavailable database.
#[derive(Debug, thiserror::Error)]
#[error("the session store cannot use the database")]
struct SessionStoreUnavailable;

impl ResponseError for SessionStoreUnavailable {
    fn status_code(&self) -> StatusCode {
        StatusCode::SERVICE_UNAVAILABLE
    }

    fn error_response(&self) -> HttpResponse {
        unavailable_page()
    }
}
