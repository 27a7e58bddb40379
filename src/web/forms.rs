//! What the forms share: the form with only an email, the fields every form is built from,
//! and the one way a form starts an email-code flow.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use maud::{Markup, html};
use serde::Deserialize;

use super::AppState;
use super::error::{PageError, flow_status};
use super::response::see_other;
use super::session::AppSession;
use crate::accounts::flows::Flow;
use crate::domain::EmailAddress;

/// A form with just an email: login, recovery, email change.
#[derive(Deserialize)]
pub struct EmailForm {
    #[serde(default)]
    pub email: String,
}

impl EmailForm {
    /// The empty form, or the address typed before if the person came back from its code
    /// page (Cancel, Start again), so they need not type it again.
    pub fn as_left(session: &AppSession) -> Self {
        Self { email: session.take_typed_email().unwrap_or_default() }
    }
}

/// Starts the flow that `flow` makes of the form's address; a bad address shows the form again.
pub async fn start_email_flow(
    state: &AppState,
    session: &AppSession,
    form: &EmailForm,
    flow: impl FnOnce(EmailAddress) -> Flow,
    form_page: impl FnOnce(StatusCode, &str) -> HttpResponse,
) -> Result<HttpResponse, PageError> {
    match EmailAddress::parse(&form.email) {
        Ok(email) => start_flow(state, session, flow(email), form_page).await,
        Err(e) => Ok(form_page(StatusCode::BAD_REQUEST, &e.0)),
    }
}

/// Starts `flow` and sends the person to the code page; if it cannot start, `form_page` shows
/// the form again with the reason.
pub async fn start_flow(
    state: &AppState,
    session: &AppSession,
    flow: Flow,
    form_page: impl FnOnce(StatusCode, &str) -> HttpResponse,
) -> Result<HttpResponse, PageError> {
    match state.flows.start(flow).await {
        Ok(pending) => {
            session.begin_pending(&pending)?;
            Ok(see_other("/verify"))
        }
        Err(err) => Ok(form_page(flow_status(&err), &err.to_string())),
    }
}

pub fn csrf_field(token: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(token); }
}

pub fn error_message(error: Option<&str>) -> Markup {
    html! {
        @if let Some(error) = error {
            p.error role="alert" { (error) }
        }
    }
}

/// A labelled email input.
pub fn email_field(label: &str, value: &str) -> Markup {
    email_input(label, value, "email")
}

/// The login page's email input: browsers offer saved passkeys in its autofill only when its
/// autocomplete names it the username and ends with `webauthn`.
pub fn email_field_with_passkeys(label: &str, value: &str) -> Markup {
    email_input(label, value, "username webauthn")
}

fn email_input(label: &str, value: &str, autocomplete: &str) -> Markup {
    html! {
        label {
            (label)
            input type="email" name="email" value=(value) required autocomplete=(autocomplete) maxlength="254";
        }
    }
}

/// A form with one `name` field: an account's or a passkey's.
#[derive(Deserialize)]
pub struct NameForm {
    #[serde(default)]
    pub name: String,
}
