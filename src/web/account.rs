//! The signed-in area: the account page, changing the email, signing out.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use maud::{Markup, html};

use super::AppState;
use super::csrf::{CsrfForm, NoFields};
use super::entry::EmailForm;
use super::error::AppError;
use super::layout::{
    Chrome, csrf_field, email_field, error_message, format_time, page, passkey_script, passkey_status,
};
use super::reauth::{ask_to_reauthenticate, recently_authenticated};
use super::respond::{html, see_other};
use super::session::AppSession;
use super::verify::start_flow;
use crate::accounts::flows::Flow;
use crate::accounts::users::User;
use crate::challenges::model::EmailAddress;
use crate::passkeys::store::StoredPasskey;

fn account_page(chrome: &Chrome, user: &User, passkeys: &[StoredPasskey], recent: bool) -> Markup {
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
            h2 { "Passkeys" }
            @if passkeys.is_empty() {
                div.invite {
                    p { strong { "Add a passkey" } " to sign in with your fingerprint, face or screen lock: "
                        "no codes to wait for, and nothing to phish." }
                }
            } @else {
                ul.passkeys {
                    @for p in passkeys { li { (passkey_row(chrome, p)) } }
                }
            }
            @if recent {
                form data-passkey-form {
                    label { "Name for the new passkey" input type="text" name="name" maxlength="64" placeholder="e.g. My phone"; }
                    button type="button" data-passkey-register { "Add a passkey" }
                }
                (passkey_status())
                (passkey_script())
            } @else {
                p { "To add a passkey, first " a href="/reauth?next=/account" { "confirm it's you" } "." }
            }
        },
    )
}

fn passkey_row(chrome: &Chrome, passkey: &StoredPasskey) -> Markup {
    let last_used = passkey.last_used_at.map_or_else(|| "never".to_owned(), format_time);
    html! {
        div.passkey {
            strong.name { (passkey.name) }
            span.meta { " · added " span.when { (format_time(passkey.created_at)) } " · last used " span.when { (last_used) } }
        }
        form.inline method="post" action=(format!("/account/passkeys/{}/rename", passkey.id)) {
            (csrf_field(&chrome.csrf))
            input type="text" name="name" value=(passkey.name) maxlength="64" aria-label="New name";
            button.link type="submit" { "Rename" }
        }
        form.inline.remove method="post" action=(format!("/account/passkeys/{}/remove", passkey.id)) {
            (csrf_field(&chrome.csrf))
            button.link.danger type="submit" { "Remove" }
        }
    }
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

pub async fn show(state: web::Data<AppState>, session: AppSession, chrome: Chrome) -> Result<HttpResponse, AppError> {
    let Some(user) = &chrome.user else {
        return Ok(see_other("/login"));
    };
    let passkeys = state.passkeys.store().list(user.id).await?;
    let recent = recently_authenticated(&session, state.clock.now_ms());
    Ok(html(StatusCode::OK, account_page(&chrome, user, &passkeys, recent)))
}

pub async fn email_form(
    state: web::Data<AppState>,
    session: AppSession,
    chrome: Chrome,
) -> Result<HttpResponse, AppError> {
    let Some(user) = &chrome.user else {
        return Ok(see_other("/login"));
    };
    if !recently_authenticated(&session, state.clock.now_ms()) {
        return ask_to_reauthenticate(&session, "/account/email");
    }
    Ok(html(StatusCode::OK, email_change_page(&chrome, user, &EmailForm::default(), None)))
}

pub async fn change_email(
    state: web::Data<AppState>,
    session: AppSession,
    chrome: Chrome,
    CsrfForm(form): CsrfForm<EmailForm>,
) -> Result<HttpResponse, AppError> {
    let Some(user) = &chrome.user else {
        return Ok(see_other("/login"));
    };
    if !recently_authenticated(&session, state.clock.now_ms()) {
        return ask_to_reauthenticate(&session, "/account/email");
    }
    let refuse = |status, message: &str| html(status, email_change_page(&chrome, user, &form, Some(message)));
    let email = match EmailAddress::parse(&form.email) {
        Ok(email) => email,
        Err(e) => return Ok(refuse(StatusCode::BAD_REQUEST, &e.0)),
    };
    if email.normalized() == user.email.normalized() {
        return Ok(refuse(StatusCode::BAD_REQUEST, "That is already your email address."));
    }
    start_flow(&state, &session, Flow::EmailChange { account: user.id, new_email: email.to_string() }, refuse).await
}

pub async fn logout(session: AppSession, _: CsrfForm<NoFields>) -> HttpResponse {
    session.sign_out();
    see_other("/")
}
