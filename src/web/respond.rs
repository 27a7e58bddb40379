//! Small response builders shared by the handlers.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::LOCATION;
use maud::Markup;

use crate::accounts::flows::FlowError;

pub fn html(status: StatusCode, page: Markup) -> HttpResponse {
    HttpResponse::build(status).content_type("text/html; charset=utf-8").body(page.into_string())
}

/// Post/redirect/get: after a form, the browser loads the next page with a GET.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((LOCATION, location)).finish()
}

/// The status a flow error is shown with; failures of our own are logged here.
pub fn status_of(err: &FlowError) -> StatusCode {
    match err {
        FlowError::Invalid(_)
        | FlowError::WrongCode(_)
        | FlowError::Expired
        | FlowError::AttemptsExceeded
        | FlowError::Gone
        | FlowError::Mismatch => StatusCode::BAD_REQUEST,
        FlowError::EmailTaken(_) => StatusCode::CONFLICT,
        FlowError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
        FlowError::SendFailed => StatusCode::SERVICE_UNAVAILABLE,
        FlowError::Unavailable(cause) => {
            tracing::error!(error = %cause, "challenge service unavailable");
            StatusCode::SERVICE_UNAVAILABLE
        }
        FlowError::Storage(cause) => {
            tracing::error!(error = %cause, "storage failed during a flow");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}
