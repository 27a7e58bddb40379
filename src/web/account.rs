//! The signed-in area: the account page, changing the email, signing out.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use maud::{Markup, html};

use super::AppState;
use super::csrf_form::{CsrfForm, NoFields};
use super::entry::LoginForm as EmailForm;
use super::error::AppError;
use super::layout::{Chrome, csrf_field, email_field, error_message, page};
use super::respond::{html, see_other, status_of};
use super::session::AppSession;
use crate::accounts::flows::Flow;
use crate::accounts::users::User;
use crate::challenges::model::EmailAddress;

/// `22 Nov 2026, 16:04 UTC`.
pub fn format_time(epoch_ms: i64) -> String {
    let Ok(at) = time::OffsetDateTime::from_unix_timestamp(epoch_ms.div_euclid(1000)) else {
        return "unknown".into();
    };
    let month = &format!("{:?}", at.month())[..3];
    format!("{} {month} {}, {:02}:{:02} UTC", at.day(), at.year(), at.hour(), at.minute())
}

fn account_page(chrome: &Chrome, user: &User) -> Markup {
    page(
        "Your account",
        chrome,
        html! {
            h1 { "Your account" }
            dl.details {
                dt { "Name" } dd { (user.name) }
                dt { "Email" } dd { (user.email.as_str()) " " @if user.email_verified_at.is_some() { span.badge { "verified" } } }
                dt { "Created" } dd { (format_time(user.created_at)) }
            }
            p { a href="/account/email" { "Change your email" } }
        },
    )
}

fn email_change_page(chrome: &Chrome, user: &User, form: &EmailForm, error: Option<&str>) -> Markup {
    page(
        "Change your email",
        chrome,
        html! {
            h1 { "Change your email" }
            p { "Your email is " strong { (user.email.as_str()) } ". We'll send a code to the new address to confirm it, "
                "and tell the current one about the change." }
            (error_message(error))
            form method="post" action="/account/email" {
                (csrf_field(&chrome.csrf))
                (email_field("New email", &form.email))
                button type="submit" { "Send a code to the new address" }
            }
            p { a href="/account" { "Back to your account" } }
        },
    )
}

/// The signed-in user, or a redirect to the login page.
fn signed_in(chrome: &Chrome) -> Result<&User, HttpResponse> {
    chrome.user.as_ref().ok_or_else(|| see_other("/login"))
}

pub async fn show(chrome: Chrome) -> HttpResponse {
    match signed_in(&chrome) {
        Ok(user) => html(StatusCode::OK, account_page(&chrome, user)),
        Err(redirect) => redirect,
    }
}

pub async fn email_form(chrome: Chrome) -> HttpResponse {
    match signed_in(&chrome) {
        Ok(user) => html(StatusCode::OK, email_change_page(&chrome, user, &EmailForm::default(), None)),
        Err(redirect) => redirect,
    }
}

pub async fn change_email(
    state: web::Data<AppState>,
    session: AppSession,
    chrome: Chrome,
    CsrfForm(form): CsrfForm<EmailForm>,
) -> Result<HttpResponse, AppError> {
    let user = match signed_in(&chrome) {
        Ok(user) => user,
        Err(redirect) => return Ok(redirect),
    };
    let refuse = |status, message: &str| html(status, email_change_page(&chrome, user, &form, Some(message)));
    let email = match EmailAddress::parse(&form.email) {
        Ok(email) => email,
        Err(e) => return Ok(refuse(StatusCode::BAD_REQUEST, &e.0)),
    };
    if email.normalized() == user.email.normalized() {
        return Ok(refuse(StatusCode::BAD_REQUEST, "That is already your email address."));
    }
    match state.flows.start(Flow::EmailChange { account: user.id, new_email: email.to_string() }).await {
        Ok(pending) => {
            session.set_pending(&pending)?;
            Ok(see_other("/verify"))
        }
        Err(err) => Ok(refuse(status_of(&err), &err.to_string())),
    }
}

pub async fn logout(session: AppSession, _: CsrfForm<NoFields>) -> HttpResponse {
    session.sign_out();
    see_other("/")
}
