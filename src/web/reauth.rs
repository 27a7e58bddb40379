//! The recent-authentication gate: sensitive changes need a sign-in from the last ten minutes.
//! Otherwise the person confirms it's them (passkey or email code) and continues where they were.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use maud::html;

use super::AppState;
use super::csrf::{CsrfForm, NoFields};
use super::error::AppError;
use super::layout::{Chrome, csrf_field, error_message, page, passkey_script, passkey_status};
use super::respond::{html, see_other};
use super::session::AppSession;
use super::verify::start_flow;
use crate::accounts::flows::Flow;

pub const RECENT_AUTHENTICATION: Duration = Duration::from_secs(600);

pub fn recently_authenticated(session: &AppSession, now_ms: i64) -> bool {
    session.signed_in_at().is_some_and(|at| now_ms - at <= RECENT_AUTHENTICATION.as_millis() as i64)
}

/// Sends the person to confirm it's them, then back to `return_to`.
pub fn ask_to_reauthenticate(session: &AppSession, return_to: &str) -> Result<HttpResponse, AppError> {
    session.set_return_to(return_to)?;
    session.set_notice("For your security, please confirm it's you.")?;
    Ok(see_other("/reauth"))
}

fn reauth_page(chrome: &Chrome, error: Option<&str>) -> maud::Markup {
    page(
        "Confirm it's you",
        chrome,
        html! {
            h1 { "Confirm it's you" }
            p { "This change needs a recent sign-in. Use your passkey, or get a code by email." }
            (error_message(error))
            form data-passkey-form {
                button type="button" data-passkey-login { "Use my passkey" }
            }
            (passkey_status())
            form method="post" action="/reauth/email" {
                (csrf_field(&chrome.csrf))
                button.link type="submit" { "Email me a code instead" }
            }
            (passkey_script())
        },
    )
}

#[derive(serde::Deserialize)]
pub struct Next {
    next: Option<String>,
}

/// `?next=/path` says where to continue; the session only ever returns to paths of this site.
pub async fn show(session: AppSession, chrome: Chrome, query: web::Query<Next>) -> Result<HttpResponse, AppError> {
    if chrome.user.is_none() {
        return Ok(see_other("/login"));
    }
    if let Some(next) = &query.next {
        session.set_return_to(next)?;
    }
    Ok(html(StatusCode::OK, reauth_page(&chrome, None)))
}

/// Confirms by email: a login code to the account's own address.
pub async fn by_email(
    state: web::Data<AppState>,
    session: AppSession,
    chrome: Chrome,
    _: CsrfForm<NoFields>,
) -> Result<HttpResponse, AppError> {
    let Some(user) = &chrome.user else {
        return Ok(see_other("/login"));
    };
    let refuse = |status, message: &str| html(status, reauth_page(&chrome, Some(message)));
    start_flow(&state, &session, Flow::Login { email: user.email.to_string() }, refuse).await
}
