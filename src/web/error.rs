//! How a request that cannot go on ends: [`PageError`] for the pages (an error page or a
//! redirect), [`JsonError`] for the passkey script's JSON endpoints, and the status of a flow
//! error shown on its form. Failures of our own are logged here, in [`report`], and only here;
//! what the person sees never includes their cause.

use std::borrow::Cow;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use maud::html;
use serde_json::json;

use super::layout;
use super::response::{html, see_other, with_retry_after};
use crate::accounts::flows::FlowError;
use crate::challenges::error::database_unavailable;
use crate::passkeys::PasskeyError;

const CSRF_REFUSED: &str =
    "This form has expired or did not come from this site. Go back, reload the page and try again.";
const OUR_FAILURE: &str = "Something went wrong on our side. Please try again.";
const DATABASE_DOWN: &str = "We cannot reach our database right now. Please try again in a few seconds.";

/// Whether `cause` comes from a database that cannot serve requests for now (see
/// [`database_unavailable`]): answered `503` with a `Retry-After`, not `500`.
fn unavailable(cause: &anyhow::Error) -> bool {
    caused_by_unavailable_database(cause.as_ref())
}

/// Whether `err`, or an error it was caused by, is a database that cannot serve requests for now.
pub fn caused_by_unavailable_database(err: &(dyn std::error::Error + 'static)) -> bool {
    std::iter::successors(Some(err), |err| err.source())
        .any(|err| err.downcast_ref::<sqlx::Error>().is_some_and(database_unavailable))
}

/// The page for a request that the database's trouble stopped, when no form can be shown again.
pub fn unavailable_page() -> HttpResponse {
    error_page(StatusCode::SERVICE_UNAVAILABLE, DATABASE_DOWN)
}

/// An error page: what went wrong, and the way back to the start.
fn error_page(status: StatusCode, message: &str) -> HttpResponse {
    let body = layout::bare_page(
        "Something went wrong",
        html! {
            h1 { "Something went wrong" }
            p.error { (message) }
            p { a href="/" { "Back to the start" } }
        },
    );
    html(status, body)
}

/// Logs a failure of our own, with its cause.
fn report(what: &str, cause: &dyn std::fmt::Debug) {
    tracing::error!(error = ?cause, "{what}");
}

#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error("{CSRF_REFUSED}")]
    Csrf,
    #[error("The form could not be read: {0}")]
    BadForm(String),
    #[error("This page does not exist.")]
    NotFound,
    /// Not signed in: on to the login page.
    #[error("Sign in to continue.")]
    SignInRequired,
    /// The sign-in is not recent enough: on to confirm it's you (the session knows where next).
    #[error("Please confirm it's you.")]
    ReauthRequired,
    #[error("{OUR_FAILURE}")]
    Unexpected(#[from] anyhow::Error),
}

impl From<sqlx::Error> for PageError {
    fn from(err: sqlx::Error) -> Self {
        Self::Unexpected(err.into())
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Csrf => StatusCode::FORBIDDEN,
            Self::BadForm(_) => StatusCode::BAD_REQUEST,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::SignInRequired | Self::ReauthRequired => StatusCode::SEE_OTHER,
            Self::Unexpected(cause) if unavailable(cause) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let message = match self {
            Self::Unexpected(cause) if unavailable(cause) => DATABASE_DOWN.to_owned(),
            _ => self.to_string(),
        };
        match self {
            Self::SignInRequired => return see_other("/login"),
            Self::ReauthRequired => return see_other("/reauth"),
            Self::Unexpected(cause) => report("request failed", cause),
            _ => {}
        }
        error_page(self.status_code(), &message)
    }
}

/// An error of a JSON endpoint, answered as `{"error": "what to do"}`, with
/// `"link": {"href", "text"}` when a page is the way on.
#[derive(Debug, thiserror::Error)]
pub enum JsonError {
    #[error("{CSRF_REFUSED}")]
    Csrf,
    #[error("The request could not be read: {0}")]
    BadBody(String),
    #[error("{0}")]
    Forbidden(Cow<'static, str>),
    #[error("Your recovery time ran out, so this page can no longer add a passkey.")]
    RecoveryExpired,
    #[error(transparent)]
    Passkey(#[from] PasskeyError),
    #[error("{OUR_FAILURE}")]
    Unexpected(#[from] anyhow::Error),
}

impl JsonError {
    pub fn forbidden(message: &'static str) -> Self {
        Self::Forbidden(Cow::Borrowed(message))
    }

    /// A link the script shows beside the error, when following it is what to do next.
    fn way_on(&self) -> Option<(&'static str, &'static str)> {
        match self {
            Self::RecoveryExpired => Some(("/recover", "Get a new code")),
            _ => None,
        }
    }
}

impl From<sqlx::Error> for JsonError {
    fn from(err: sqlx::Error) -> Self {
        Self::Unexpected(err.into())
    }
}

impl ResponseError for JsonError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Csrf | Self::Forbidden(_) | Self::RecoveryExpired => StatusCode::FORBIDDEN,
            Self::BadBody(_) => StatusCode::BAD_REQUEST,
            Self::Passkey(PasskeyError::Storage(cause)) if database_unavailable(cause) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Self::Unexpected(cause) if unavailable(cause) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Passkey(PasskeyError::Storage(_)) | Self::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Passkey(PasskeyError::AlreadyRegistered | PasskeyError::ChangedMeanwhile) => StatusCode::CONFLICT,
            Self::Passkey(PasskeyError::Rejected(_) | PasskeyError::CeremonyGone | PasskeyError::UnknownCredential) => {
                StatusCode::BAD_REQUEST
            }
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Passkey(PasskeyError::Storage(cause)) => report("passkey storage failed", cause),
            Self::Unexpected(cause) => report("request failed", cause),
            Self::Passkey(PasskeyError::Rejected(cause)) => tracing::info!(error = %cause, "passkey refused"),
            _ => {}
        }
        let message = match self.status_code() {
            StatusCode::SERVICE_UNAVAILABLE => DATABASE_DOWN.to_owned(),
            _ => self.to_string(),
        };
        let mut body = json!({ "error": message });
        if let Some((href, text)) = self.way_on() {
            body["link"] = json!({ "href": href, "text": text });
        }
        with_retry_after(HttpResponse::build(self.status_code()).json(body))
    }
}

/// The status a flow error is shown with on its form.
pub fn flow_status(err: &FlowError) -> StatusCode {
    match err {
        FlowError::Invalid(_)
        | FlowError::WrongCode(_)
        | FlowError::Expired
        | FlowError::AttemptsExceeded
        | FlowError::Gone
        | FlowError::Mismatch => StatusCode::BAD_REQUEST,
        FlowError::EmailTaken(_) => StatusCode::CONFLICT,
        FlowError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        FlowError::SendFailed | FlowError::ResendFailed => StatusCode::SERVICE_UNAVAILABLE,
        FlowError::Unavailable(cause) => {
            report("challenge service unavailable", cause);
            StatusCode::SERVICE_UNAVAILABLE
        }
        FlowError::Storage(cause) => {
            report("storage failed during a flow", cause);
            if database_unavailable(cause) {
                StatusCode::SERVICE_UNAVAILABLE
            } else {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }
}
