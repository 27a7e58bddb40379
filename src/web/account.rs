//! The signed-in area: the account page, changing the email, signing out.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use maud::{Markup, html};

use super::AppState;
use super::context::PageContext;
use super::csrf::{CsrfForm, NoFields};
use super::error::PageError;
use super::forms::{EmailForm, csrf_field, email_field, error_message, start_flow};
use super::guards::{ChangingEmail, RecentlySignedIn, SignedIn, recently_authenticated};
use super::layout::{new_passkey_form, page, passkey_script, passkey_status};
use super::response::{html, see_other};
use super::session::AppSession;
use crate::accounts::flows::Flow;
use crate::accounts::users::User;
use crate::clock::format_time;
use crate::domain::EmailAddress;
use crate::passkeys::store::StoredPasskey;

fn account_page(context: &PageContext, user: &User, passkeys: &[StoredPasskey], recent: bool) -> Markup {
    page(
        "Your account",
        context,
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
                    @for p in passkeys { li { (passkey_row(context, p)) } }
                }
            }
            @if recent {
                (new_passkey_form(&context.csrf, html! {}, "e.g. My phone", "Add a passkey"))
                (passkey_status())
                (passkey_script())
            } @else {
                p { "To add a passkey, first " a href="/reauth?for=add-passkey" { "confirm it's you" } "." }
            }
        },
    )
}

fn passkey_row(context: &PageContext, passkey: &StoredPasskey) -> Markup {
    let last_used = passkey.last_used_at.map_or_else(|| "never".to_owned(), format_time);
    html! {
        div.passkey {
            strong.name { (passkey.name) }
            span.meta { " · added " span.when { (format_time(passkey.created_at)) } " · last used " span.when { (last_used) } }
        }
        form.inline method="post" action=(format!("/account/passkeys/{}/rename", passkey.id)) {
            (csrf_field(&context.csrf))
            input type="text" name="name" value=(passkey.name) maxlength="64" aria-label="New name";
            button.link type="submit" { "Rename" }
        }
        form.inline.remove method="post" action=(format!("/account/passkeys/{}/remove", passkey.id)) {
            (csrf_field(&context.csrf))
            button.link.danger type="submit" { "Remove" }
        }
    }
}

fn email_change_page(context: &PageContext, user: &User, form: &EmailForm, error: Option<&str>) -> Markup {
    page(
        "Change your email",
        context,
        html! {
            h1 { "Change your email" }
            p { "Your email is " strong { (user.email.as_str()) } ". We'll send a code to the new address to confirm it, "
                "and tell the current one about the change." }
            (error_message(error))
            form method="post" action="/account/email" {
                (csrf_field(&context.csrf))
                (email_field("New email", &form.email))
                button type="submit" { "Send a code to the new address" }
            }
            p { a href="/account" { "Back to your account" } }
        },
    )
}

pub async fn show(
    SignedIn(user): SignedIn,
    state: web::Data<AppState>,
    session: AppSession,
    context: PageContext,
) -> Result<HttpResponse, PageError> {
    let passkeys = state.passkeys.store().list(user.id).await?;
    let recent = recently_authenticated(&session, state.clock.now_ms());
    Ok(html(StatusCode::OK, account_page(&context, &user, &passkeys, recent)))
}

pub async fn email_form(
    RecentlySignedIn(user, _): RecentlySignedIn<ChangingEmail>,
    session: AppSession,
    context: PageContext,
) -> HttpResponse {
    html(StatusCode::OK, email_change_page(&context, &user, &EmailForm::as_left(&session), None))
}

pub async fn change_email(
    CsrfForm(form): CsrfForm<EmailForm>,
    RecentlySignedIn(user, _): RecentlySignedIn<ChangingEmail>,
    state: web::Data<AppState>,
    session: AppSession,
    context: PageContext,
) -> Result<HttpResponse, PageError> {
    let user = &user;
    let refuse = |status, message: &str| html(status, email_change_page(&context, user, &form, Some(message)));
    let email = match EmailAddress::parse(&form.email) {
        Ok(email) => email,
        Err(e) => return Ok(refuse(StatusCode::BAD_REQUEST, &e.0)),
    };
    if email.normalized() == user.email.normalized() {
        return Ok(refuse(StatusCode::BAD_REQUEST, "That is already your email address."));
    }
    start_flow(&state, &session, Flow::EmailChange { account: user.id, new_email: email }, refuse).await
}

pub async fn logout(_: CsrfForm<NoFields>, session: AppSession) -> HttpResponse {
    session.sign_out();
    see_other("/")
}
