//! The two ways a handler answers: a page, or post/redirect/get.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderValue, LOCATION, RETRY_AFTER};
use maud::Markup;

use crate::challenges::error::UNAVAILABLE_RETRY_SECONDS;

/// A page; a `503` (a form refused, or an error page, while the database or the mail server
/// is in trouble) says when to try again.
pub fn html(status: StatusCode, page: Markup) -> HttpResponse {
    with_retry_after(HttpResponse::build(status).content_type("text/html; charset=utf-8").body(page.into_string()))
}

/// A `503` with the `Retry-After` the API sends for the same trouble.
pub fn with_retry_after(mut response: HttpResponse) -> HttpResponse {
    if response.status() == StatusCode::SERVICE_UNAVAILABLE {
        response.headers_mut().insert(RETRY_AFTER, HeaderValue::from(UNAVAILABLE_RETRY_SECONDS));
    }
    response
}

/// Post/redirect/get: after a form, the browser loads the next page with a GET.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((LOCATION, location)).finish()
}
