//! "Where you're signed in", on the account page: the account's sessions with their device and
//! times, this one marked, and the forms that sign out another one or all the others. Any
//! signed-in session may use them, at any time: they only ever end sessions of its own account.

use actix_web::{HttpResponse, web};
use maud::{Markup, html};

use super::AppState;
use super::context::PageContext;
use super::csrf::{CsrfForm, NoFields};
use super::error::PageError;
use super::forms::csrf_field;
use super::guards::SignedIn;
use super::layout::moment;
use super::response::see_other;
use super::session::AppSession;
use crate::accounts::session_store::{ActiveSession, SessionId};
use crate::domain::{AccountId, plural};

/// The account page's section, read for `account`, the account of this `session`.
pub async fn section(
    state: &AppState,
    session: &AppSession,
    context: &PageContext,
    account: AccountId,
) -> Result<Markup, PageError> {
    let mut sessions = state.sessions.list_of(account).await?;
    let this = session.public_id();
    // This one first; the others stay most recently seen first.
    sessions.sort_by_key(|listed| Some(&listed.id) != this.as_ref());
    Ok(signed_in_devices(context, &sessions, this.as_ref()))
}

fn signed_in_devices(context: &PageContext, sessions: &[ActiveSession], this: Option<&SessionId>) -> Markup {
    let others = sessions.iter().filter(|listed| Some(&listed.id) != this).count();
    html! {
        h2 { "Where you're signed in" }
        ul.sessions {
            @for listed in sessions {
                li { (session_row(context, listed, Some(&listed.id) == this)) }
            }
        }
        @if others > 0 {
            form method="post" action="/account/sessions/sign-out-others" {
                (csrf_field(&context.csrf))
                button.secondary type="submit" { "Sign out everywhere else" }
            }
        }
    }
}

fn session_row(context: &PageContext, listed: &ActiveSession, is_this: bool) -> Markup {
    let began = if listed.recovering { "Recovery started " } else { "Signed in " };
    html! {
        div {
            strong.name { (listed.device) }
            @if is_this { " " span.badge { "This device" } }
            @if listed.recovering { " " span.badge.recovering { "Recovering the account" } }
            br;
            span.meta {
                (began) (moment(listed.created_at))
                @if is_this { " · active now" } @else { " · last seen " (moment(listed.last_seen_at)) }
            }
        }
        @if !is_this {
            form.inline method="post" action=(format!("/account/sessions/{}/sign-out", listed.id.as_str())) {
                (csrf_field(&context.csrf))
                button.link.danger type="submit" aria-label=(format!("Sign out {}", listed.device)) { "Sign out" }
            }
        }
    }
}

/// Signs out one session of the account. An id that is not one of the account's ends nothing
/// and reads as a session already ended, whoever's it is; this session's own id signs it out.
pub async fn sign_out_one(
    _: CsrfForm<NoFields>,
    SignedIn(user): SignedIn,
    state: web::Data<AppState>,
    session: AppSession,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let Some(id) = SessionId::parse(&id) else { return already_ended(&session) };
    if session.public_id().as_ref() == Some(&id) {
        session.sign_out();
        return Ok(see_other("/"));
    }
    match state.sessions.end_one_of(user.id, &id).await? {
        Some(device) => session.set_notice(&format!("{device} was signed out."))?,
        None => return already_ended(&session),
    }
    Ok(see_other("/account"))
}

fn already_ended(session: &AppSession) -> Result<HttpResponse, PageError> {
    session.set_notice("That session had already ended.")?;
    Ok(see_other("/account"))
}

/// Signs out every other session of the account, recovery sessions included.
pub async fn sign_out_others(
    _: CsrfForm<NoFields>,
    SignedIn(user): SignedIn,
    state: web::Data<AppState>,
    session: AppSession,
) -> Result<HttpResponse, PageError> {
    // Signing in tags a session, and migration 0006 ended the untagged ones from before; an
    // untagged session could not be told from the others, so it is sent to sign in again.
    let Some(this) = session.public_id() else { return Err(PageError::SignInRequired) };
    let ended = state.sessions.end_all_of_but(user.id, &this).await?;
    session.set_notice(&format!("Signed out everywhere else ({}).", plural(ended, "other session")))?;
    Ok(see_other("/account"))
}
