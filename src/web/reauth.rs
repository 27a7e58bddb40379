//! Confirming it's you: where the recent-authentication gate (`guards::RecentlySignedIn`) sends
//! a person, to sign in again with a passkey or an email code. The change they asked for waits
//! in the session, so the page can name it and the sign-in can finish it.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use maud::{Markup, html};
use serde::{Deserialize, Serialize};

use super::AppState;
use super::context::PageContext;
use super::csrf::{CsrfForm, NoFields};
use super::error::PageError;
use super::forms::{csrf_field, error_message, start_flow};
use super::guards::SignedIn;
use super::layout::{page, passkey_script, passkey_status};
use super::response::{html, see_other};
use super::session::AppSession;
use crate::accounts::flows::Flow;
use crate::accounts::users::User;
use crate::domain::AccountId;

/// A change that needs a recent sign-in, waiting while the person confirms it's them.
#[derive(Clone, Copy, Serialize, Deserialize)]
pub enum ChangeToConfirm {
    AddPasskey,
    ChangeEmail,
    /// The passkey of this id: a form the person already sent, so confirming finishes it.
    RemovePasskey(i64),
    /// Confirming leads back to the deletion page: a deletion is never done without the
    /// person confirming it there, after the sign-in.
    DeleteAccount,
}

/// The changes a link may ask to confirm: those that only lead to a form. A removal is only
/// ever queued by its own form, so no link from elsewhere can have one done on confirming.
#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LinkedChange {
    AddPasskey,
}

impl From<LinkedChange> for ChangeToConfirm {
    fn from(linked: LinkedChange) -> Self {
        match linked {
            LinkedChange::AddPasskey => Self::AddPasskey,
        }
    }
}

/// The change in words, completing "To …, confirm it's you".
async fn describe(state: &AppState, user: &User, change: ChangeToConfirm) -> Result<String, PageError> {
    Ok(match change {
        ChangeToConfirm::AddPasskey => "add a passkey".to_owned(),
        ChangeToConfirm::ChangeEmail => "change your email address".to_owned(),
        ChangeToConfirm::DeleteAccount => "delete your account".to_owned(),
        ChangeToConfirm::RemovePasskey(id) => {
            let passkeys = state.passkeys.store().list(user.id).await?;
            match passkeys.into_iter().find(|passkey| passkey.id == id) {
                Some(passkey) => format!("remove the passkey “{}”", passkey.name),
                None => "remove a passkey".to_owned(),
            }
        }
    })
}

fn reauth_page(context: &PageContext, purpose: Option<&str>, error: Option<&str>) -> Markup {
    page(
        "Confirm it's you",
        context,
        html! {
            h1 { "Confirm it's you" }
            p.warning {
                @if let Some(purpose) = purpose { "To " (purpose) ", confirm it's you: " }
                "for your security, this change needs a recent sign-in."
            }
            p { "Use your passkey, or get a code by email." }
            (error_message(error))
            form data-passkey-form {
                button type="button" data-passkey-login { "Use my passkey" }
            }
            (passkey_status())
            div.secondary {
                form.inline method="post" action="/reauth/email" {
                    (csrf_field(&context.csrf))
                    button.link type="submit" { "Email me a code instead" }
                }
                form.inline method="post" action="/reauth/cancel" {
                    (csrf_field(&context.csrf))
                    button.link type="submit" { "Cancel" }
                }
            }
            (passkey_script())
        },
    )
}

/// The change waiting in the session, in words for the page.
async fn waiting_purpose(state: &AppState, session: &AppSession, user: &User) -> Result<Option<String>, PageError> {
    match session.change_to_confirm() {
        Some(change) => Ok(Some(describe(state, user, change).await?)),
        None => Ok(None),
    }
}

#[derive(Deserialize)]
pub struct Asked {
    #[serde(rename = "for")]
    change: Option<LinkedChange>,
}

/// `?for=add-passkey` names the change when a link, not the gate, leads here.
pub async fn show(
    SignedIn(user): SignedIn,
    state: web::Data<AppState>,
    session: AppSession,
    context: PageContext,
    query: web::Query<Asked>,
) -> Result<HttpResponse, PageError> {
    if let Some(change) = query.into_inner().change {
        session.set_change_to_confirm(change.into())?;
    }
    let purpose = waiting_purpose(&state, &session, &user).await?;
    Ok(html(StatusCode::OK, reauth_page(&context, purpose.as_deref(), None)))
}

/// Confirms by email: a login code to the account's own address.
pub async fn by_email(
    _: CsrfForm<NoFields>,
    SignedIn(user): SignedIn,
    state: web::Data<AppState>,
    session: AppSession,
    context: PageContext,
) -> Result<HttpResponse, PageError> {
    let purpose = waiting_purpose(&state, &session, &user).await?;
    let refuse = |status, message: &str| html(status, reauth_page(&context, purpose.as_deref(), Some(message)));
    start_flow(&state, &session, Flow::Login { email: user.email }, refuse).await
}

/// Drops the waiting change, so that no later sign-in makes it.
pub async fn cancel(_: CsrfForm<NoFields>, session: AppSession) -> HttpResponse {
    session.take_change_to_confirm();
    see_other("/account")
}

/// After a sign-in: finishes the change that sent the person to confirm, or says what to do
/// next; returns where to go. A sign-in that was not a confirmation goes to the account page.
pub async fn continue_after_sign_in(
    state: &AppState,
    session: &AppSession,
    account: AccountId,
) -> anyhow::Result<&'static str> {
    let Some(change) = session.take_change_to_confirm() else {
        return Ok("/account");
    };
    let (notice, next) = match change {
        ChangeToConfirm::AddPasskey => ("Confirmed. Now name your new passkey and add it.", "/account"),
        ChangeToConfirm::ChangeEmail => ("Confirmed. Now enter your new email address.", "/account/email"),
        ChangeToConfirm::RemovePasskey(id) if state.passkeys.store().remove(account, id).await? => {
            ("Confirmed. Passkey removed: it can no longer sign in to your account.", "/account")
        }
        ChangeToConfirm::RemovePasskey(_) => ("Confirmed. That passkey was already removed.", "/account"),
        ChangeToConfirm::DeleteAccount => {
            ("Confirmed. Now confirm that you want to delete your account.", "/account/delete")
        }
    };
    session.set_notice(notice)?;
    Ok(next)
}
