//! The signed-in area: the account page, changing the name and the email, deleting the
//! account, signing out.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use maud::{Markup, html};
use serde::Deserialize;

use super::AppState;
use super::context::PageContext;
use super::csrf::{CsrfForm, NoFields};
use super::error::PageError;
use super::forms::{EmailForm, NameForm, csrf_field, email_field, error_message, start_flow};
use super::guards::{ChangingEmail, DeletingAccount, RecentlySignedIn, SignedIn, recently_authenticated};
use super::layout::{moment, new_passkey_form, page, passkey_script, passkey_status};
use super::passkeys::device_signals;
use super::response::{html, see_other};
use super::session::AppSession;
use super::sessions;
use crate::accounts::flows::Flow;
use crate::accounts::users::User;
use crate::domain::{DisplayName, EmailAddress};
use crate::passkeys::store::StoredPasskey;

/// The name form as the page shows it: the account's name, or what was typed and why it was
/// refused.
struct NameField<'a> {
    value: &'a str,
    error: Option<&'a str>,
}

impl<'a> NameField<'a> {
    fn of(user: &'a User) -> Self {
        Self { value: user.name.as_str(), error: None }
    }
}

fn account_page(
    context: &PageContext,
    user: &User,
    passkeys: &[StoredPasskey],
    rp_id: &str,
    recent: bool,
    name: &NameField,
    signed_in_devices: Markup,
) -> Markup {
    page(
        "Your account",
        context,
        html! {
            h1 { "Your account" }
            dl.details {
                dt { "Name" } dd { (user.name) }
                dt { "Email" } dd { (user.email.as_str()) " " @if user.email_verified_at.is_some() { span.badge { "verified" } } }
                dt { "Created" } dd { (moment(user.created_at)) }
            }
            (name_form(context, name))
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
            (device_signals(rp_id, user, passkeys))
            @if recent {
                (new_passkey_form(&context.csrf, html! {}, "e.g. My phone", "Add a passkey"))
                (passkey_status())
            } @else {
                p { "To add a passkey, first " a href="/reauth?for=add-passkey" { "confirm it's you" } "." }
            }
            (passkey_script())
            (signed_in_devices)
            h2 { "Delete your account" }
            p { "This deletes your account and its passkeys, and signs you out everywhere. "
                a href="/account/delete" { "Delete your account" } }
        },
    )
}

fn name_form(context: &PageContext, name: &NameField) -> Markup {
    html! {
        form method="post" action="/account/name" {
            (csrf_field(&context.csrf))
            (error_message(name.error))
            label { "Your name" input type="text" name="name" value=(name.value) required maxlength="128" autocomplete="name"; }
            button type="submit" { "Save name" }
        }
    }
}

/// A passkey, its provider, when it was added and last used; then its rename field and removal
/// link, each naming it for screen readers.
fn passkey_row(context: &PageContext, passkey: &StoredPasskey) -> Markup {
    let name = &passkey.name;
    html! {
        div.passkey {
            strong.name { (name) }
            span.meta {
                " · " @if let Some(provider) = passkey.provider_if_not_in_name() { span.provider { (provider) } " · " }
                "added " (moment(passkey.created_at)) " · last used "
                @match passkey.last_used_at { Some(at) => (moment(at)), None => "never" }
            }
        }
        form.inline method="post" action=(format!("/account/passkeys/{}/rename", passkey.id)) {
            (csrf_field(&context.csrf))
            input type="text" name="name" value=(name) required maxlength="64" size=(name_field_size(name))
                aria-label=(format!("New name for {name}"));
            button.link type="submit" aria-label=(format!("Rename {name}")) { "Rename" }
        }
        a.remove.danger href=(format!("/account/passkeys/{}/remove", passkey.id)) aria-label=(format!("Remove {name}")) { "Remove" }
    }
}

/// A rename field as wide as the name in it, within what a row holds.
fn name_field_size(name: &str) -> usize {
    name.chars().count().clamp(8, 40) + 1
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
    let devices = sessions::section(&state, &session, &context, user.id).await?;
    Ok(html(
        StatusCode::OK,
        account_page(&context, &user, &passkeys, state.passkeys.rp_id(), recent, &NameField::of(&user), devices),
    ))
}

/// Sets the account's name; a name `DisplayName` refuses shows the account page again with the
/// reason, and changes nothing.
pub async fn rename(
    CsrfForm(form): CsrfForm<NameForm>,
    SignedIn(user): SignedIn,
    state: web::Data<AppState>,
    session: AppSession,
    context: PageContext,
) -> Result<HttpResponse, PageError> {
    let name = match DisplayName::parse(&form.name) {
        Ok(name) => name,
        Err(e) => {
            let passkeys = state.passkeys.store().list(user.id).await?;
            let recent = recently_authenticated(&session, state.clock.now_ms());
            let typed = NameField { value: &form.name, error: Some(&e.0) };
            let devices = sessions::section(&state, &session, &context, user.id).await?;
            return Ok(html(
                StatusCode::BAD_REQUEST,
                account_page(&context, &user, &passkeys, state.passkeys.rp_id(), recent, &typed, devices),
            ));
        }
    };
    if !state.users.rename(user.id, &name).await? {
        return Err(PageError::SignInRequired);
    }
    session.set_notice("Your name was changed.")?;
    Ok(see_other("/account"))
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

fn deletion_page(context: &PageContext, user: &User, error: Option<&str>) -> Markup {
    let email = user.email.as_str();
    page(
        "Delete your account",
        context,
        html! {
            h1 { "Delete the account of " (email) "?" }
            p.warning { "This deletes your account and its passkeys, and signs you out on every device. "
                "It cannot be undone." }
            p { "We'll send a notice to " strong { (email) } ". You can create a new account with it later." }
            (error_message(error))
            form method="post" action="/account/delete" {
                (csrf_field(&context.csrf))
                label { "Type your email address to confirm"
                    input type="email" name="confirm" required autocomplete="off" maxlength="254"; }
                button.danger type="submit" { "Delete my account" }
            }
            p { a href="/account" { "Cancel" } }
        },
    )
}

pub async fn deletion_form(
    RecentlySignedIn(user, _): RecentlySignedIn<DeletingAccount>,
    context: PageContext,
) -> HttpResponse {
    html(StatusCode::OK, deletion_page(&context, &user, None))
}

#[derive(Deserialize)]
pub struct DeletionForm {
    #[serde(default)]
    confirm: String,
}

impl DeletionForm {
    /// Whether the address typed is the account's, in any letter case.
    fn names(&self, user: &User) -> bool {
        EmailAddress::parse(&self.confirm).is_ok_and(|typed| typed.normalized() == user.email.normalized())
    }
}

/// Deletes the account once its address was typed, then signs this browser out to the home
/// page. The account's other sessions went with it.
pub async fn delete(
    CsrfForm(form): CsrfForm<DeletionForm>,
    RecentlySignedIn(user, _): RecentlySignedIn<DeletingAccount>,
    state: web::Data<AppState>,
    session: AppSession,
    context: PageContext,
) -> Result<HttpResponse, PageError> {
    if !form.names(&user) {
        let error = "Type your account's email address to confirm the deletion.";
        return Ok(html(StatusCode::BAD_REQUEST, deletion_page(&context, &user, Some(error))));
    }
    state.deletion.delete(&user).await?;
    cancel_pending_code(&state, &session).await;
    session.sign_out_with_notice("Your account was deleted.")?;
    Ok(see_other("/"))
}

/// Drops this session's pending code at the service: the account its flow was for is gone. A
/// failure is only logged, since the code expires anyway.
async fn cancel_pending_code(state: &AppState, session: &AppSession) {
    let Some(pending) = session.pending() else { return };
    if let Err(err) = state.flows.cancel(&pending).await {
        tracing::warn!(error = %err, "could not delete the pending challenge of a deleted account; it will expire");
    }
}
