//! Errors that end a request with an error page. Unexpected ones are logged with their cause and
//! shown without it.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use maud::html;

use super::layout;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("This form has expired or did not come from this site. Go back, reload the page and try again.")]
    Csrf,
    #[error("The form could not be read: {0}")]
    BadForm(String),
    #[error("This page does not exist.")]
    NotFound,
    #[error("Something went wrong on our side. Please try again.")]
    Unexpected(#[from] anyhow::Error),
}

impl From<sqlx::Error> for AppError {
    fn from(err: sqlx::Error) -> Self {
        Self::Unexpected(err.into())
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Csrf => StatusCode::FORBIDDEN,
            Self::BadForm(_) => StatusCode::BAD_REQUEST,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::Unexpected(cause) = self {
            tracing::error!(error = ?cause, "request failed");
        }
        let body = layout::bare_page(
            "Something went wrong",
            html! {
                h1 { "Something went wrong" }
                p.error { (self.to_string()) }
                p { a href="/" { "Back to the start" } }
            },
        );
        HttpResponse::build(self.status_code()).content_type("text/html; charset=utf-8").body(body.into_string())
    }
}
