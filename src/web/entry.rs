//! Where the email-code flows start: the sign-up and login forms.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use maud::{Markup, html};
use serde::Deserialize;

use super::AppState;
use super::csrf::CsrfForm;
use super::error::AppError;
use super::layout::{
    Chrome, csrf_field, email_field, email_field_with_passkeys, error_message, page, passkey_script, passkey_status,
};
use super::respond::{html, see_other};
use super::session::AppSession;
use super::verify::start_flow;
use crate::accounts::flows::Flow;
use crate::accounts::users::DisplayName;
use crate::challenges::model::EmailAddress;

#[derive(Deserialize, Default)]
pub struct SignupForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
}

#[derive(Deserialize, Default)]
/// A form with just an email: login, recovery, email change.
pub struct EmailForm {
    #[serde(default)]
    pub email: String,
}

fn signup_page(chrome: &Chrome, form: &SignupForm, error: Option<&str>) -> Markup {
    page(
        "Sign up",
        chrome,
        html! {
            h1 { "Create an account" }
            p { "We'll email you a code to confirm the address. No password needed." }
            (error_message(error))
            form method="post" action="/signup" {
                (csrf_field(&chrome.csrf))
                (email_field("Email", &form.email))
                label { "Name" input type="text" name="name" value=(form.name) required maxlength="128" autocomplete="name"; }
                button type="submit" { "Send me a code" }
            }
            p { "Already have an account? " a href="/login" { "Log in" } }
        },
    )
}

fn login_page(chrome: &Chrome, form: &EmailForm, error: Option<&str>) -> Markup {
    page(
        "Log in",
        chrome,
        html! {
            h1 { "Log in" }
            form data-passkey-form {
                button type="button" data-passkey-login { "Sign in with a passkey" }
            }
            (passkey_status())
            p.divider { "or get a code by email" }
            (error_message(error))
            form method="post" action="/login" data-passkey-autofill {
                (csrf_field(&chrome.csrf))
                (email_field_with_passkeys("Email", &form.email))
                button.secondary type="submit" { "Send me a code" }
            }
            p { a href="/recover" { "Lost your passkey?" } " · New here? " a href="/signup" { "Create an account" } }
            (passkey_script())
        },
    )
}

pub async fn signup_form(chrome: Chrome) -> HttpResponse {
    if chrome.user.is_some() {
        return see_other("/account");
    }
    html(StatusCode::OK, signup_page(&chrome, &SignupForm::default(), None))
}

pub async fn login_form(chrome: Chrome) -> HttpResponse {
    if chrome.user.is_some() {
        return see_other("/account");
    }
    html(StatusCode::OK, login_page(&chrome, &EmailForm::default(), None))
}

pub async fn signup(
    state: web::Data<AppState>,
    session: AppSession,
    chrome: Chrome,
    CsrfForm(form): CsrfForm<SignupForm>,
) -> Result<HttpResponse, AppError> {
    let refuse = |status, message: &str| html(status, signup_page(&chrome, &form, Some(message)));
    let parsed = EmailAddress::parse(&form.email)
        .map_err(|e| e.0)
        .and_then(|email| DisplayName::parse(&form.name).map(|name| (email, name)).map_err(|e| e.0));
    let (email, name) = match parsed {
        Ok(valid) => valid,
        Err(message) => return Ok(refuse(StatusCode::BAD_REQUEST, &message)),
    };
    let flow = Flow::Signup { email: email.to_string(), name: name.as_str().to_owned() };
    start_flow(&state, &session, flow, refuse).await
}

pub async fn login(
    state: web::Data<AppState>,
    session: AppSession,
    chrome: Chrome,
    CsrfForm(form): CsrfForm<EmailForm>,
) -> Result<HttpResponse, AppError> {
    let refuse = |status, message: &str| html(status, login_page(&chrome, &form, Some(message)));
    let email = match EmailAddress::parse(&form.email) {
        Ok(email) => email,
        Err(e) => return Ok(refuse(StatusCode::BAD_REQUEST, &e.0)),
    };
    start_flow(&state, &session, Flow::Login { email: email.to_string() }, refuse).await
}
