//! Passkey endpoints: the JSON halves of each WebAuthn ceremony (called by
//! `static/passkeys.js`), the new-passkey form's answer when that script did not run, and the
//! forms that rename or remove a passkey.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use maud::html;
use serde::Deserialize;
use serde_json::json;
use webauthn_rs::prelude::{PublicKeyCredential, RegisterPublicKeyCredential};

use super::AppState;
use super::context::PageContext;
use super::csrf::{CsrfForm, CsrfJson, NoFields};
use super::error::{JsonError, PageError};
use super::forms::NameForm;
use super::guards::{Enroller, RecentlySignedIn, RemovingPasskey, SignedIn};
use super::layout::page;
use super::reauth::continue_after_sign_in;
use super::response::{html, see_other};
use super::session::AppSession;
use crate::accounts::recovery::RecoveryChoices;
use crate::clock::format_time;
use crate::domain::without_format_characters;
use crate::passkeys::PasskeyError;
use crate::passkeys::ceremonies::Kind;

/// The new-passkey form sent without the passkey script, which is what asks the browser for a
/// passkey: nothing is added, and the page says what is missing.
pub async fn register_without_script(_: CsrfForm<NoFields>, context: PageContext) -> HttpResponse {
    let back = if context.recovering { "/recover/passkey" } else { "/account" };
    let content = html! {
        h1 { "Passkeys need JavaScript" }
        p.error role="alert" { "No passkey was added: your browser creates one only when this page's script asks it to." }
        p { "Turn JavaScript on, or use a browser that supports passkeys, and try again." }
        p { a href=(back) { "Back" } }
    };
    html(StatusCode::OK, page("Passkeys need JavaScript", &context, content))
}

pub async fn register_start(
    _: CsrfJson<serde_json::Value>,
    enroller: Enroller,
    state: web::Data<AppState>,
    session: AppSession,
) -> Result<HttpResponse, JsonError> {
    // A stolen session must not be able to plant a passkey that outlives it.
    if let Enroller::SignedIn { recently: false, .. } = enroller {
        return Err(JsonError::forbidden("For your security, confirm it's you before adding a passkey."));
    }
    let Some(user) = state.users.find(enroller.account()).await? else {
        return Err(JsonError::forbidden("Sign in first, then add a passkey."));
    };
    let (options, ceremony) = state.passkeys.start_registration(user.id, &user.email, &user.name).await?;
    session.set_ceremony(Kind::Registration, &ceremony)?;
    Ok(HttpResponse::Ok().json(options))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegisterFinish {
    credential: RegisterPublicKeyCredential,
    #[serde(default)]
    name: String,
    #[serde(default)]
    remove_others: bool,
    #[serde(default)]
    sign_out_others: bool,
}

/// A passkey name: what the person typed (trimmed, at most 64 characters, without control or
/// format characters) or a dated default.
fn passkey_name(typed: &str, now: i64) -> String {
    let typed: String = without_format_characters(typed).trim().chars().filter(|c| !c.is_control()).take(64).collect();
    if typed.is_empty() { format!("Passkey added {}", format_time(now)) } else { typed }
}

pub async fn register_finish(
    CsrfJson(body): CsrfJson<RegisterFinish>,
    enroller: Enroller,
    state: web::Data<AppState>,
    session: AppSession,
) -> Result<HttpResponse, JsonError> {
    let now = state.clock.now_ms();
    let ceremony = session.take_ceremony(Kind::Registration).ok_or(PasskeyError::CeremonyGone)?;
    let account = enroller.account();
    let name = passkey_name(&body.name, now);
    let passkey = state.passkeys.finish_registration(&ceremony, account, &body.credential).await?;
    match enroller {
        Enroller::Recovering(_) => {
            let choices =
                RecoveryChoices { remove_other_passkeys: body.remove_others, sign_out_elsewhere: body.sign_out_others };
            state.recovery.complete(account, &name, &passkey, choices).await?;
            // Signed in under a new session key: the old one was among those just ended.
            session.clear_recovery();
            session.sign_in(account, now)?;
            session.set_notice("Your new passkey is ready and you are signed in.")?;
        }
        Enroller::SignedIn { .. } => {
            state.passkeys.store().insert(account, &name, &passkey).await.map_err(PasskeyError::from)?;
            session.set_notice("Your passkey was added. You can use it to sign in next time.")?;
        }
    }
    Ok(HttpResponse::Ok().json(json!({ "redirect": "/account" })))
}

pub async fn login_start(
    _: CsrfJson<serde_json::Value>,
    state: web::Data<AppState>,
    session: AppSession,
) -> Result<HttpResponse, JsonError> {
    let (options, ceremony) = state.passkeys.start_authentication().await?;
    session.set_ceremony(Kind::Authentication, &ceremony)?;
    Ok(HttpResponse::Ok().json(options))
}

#[derive(Deserialize)]
pub struct LoginFinish {
    credential: PublicKeyCredential,
}

pub async fn login_finish(
    CsrfJson(body): CsrfJson<LoginFinish>,
    state: web::Data<AppState>,
    session: AppSession,
) -> Result<HttpResponse, JsonError> {
    let ceremony = session.take_ceremony(Kind::Authentication).ok_or(PasskeyError::CeremonyGone)?;
    let account = state.passkeys.finish_authentication(&ceremony, &body.credential).await?;
    // When confirming it's you, the passkey must be your own.
    if session.user_id().is_some_and(|current| current != account) {
        return Err(JsonError::forbidden("This passkey belongs to another account."));
    }
    session.sign_in(account, state.clock.now_ms())?;
    let next = continue_after_sign_in(&state, &session, account).await?;
    Ok(HttpResponse::Ok().json(json!({ "redirect": next })))
}

pub async fn rename(
    CsrfForm(form): CsrfForm<NameForm>,
    SignedIn(user): SignedIn,
    state: web::Data<AppState>,
    session: AppSession,
    id: web::Path<i64>,
) -> Result<HttpResponse, PageError> {
    if form.name.trim().is_empty() {
        session.set_notice("Type a name to rename the passkey.")?;
        return Ok(see_other("/account"));
    }
    let name = passkey_name(&form.name, state.clock.now_ms());
    if !state.passkeys.store().rename(user.id, *id, &name).await? {
        return Err(PageError::NotFound);
    }
    session.set_notice("Passkey renamed.")?;
    Ok(see_other("/account"))
}

pub async fn remove(
    _: CsrfForm<NoFields>,
    RecentlySignedIn(user, _): RecentlySignedIn<RemovingPasskey>,
    state: web::Data<AppState>,
    session: AppSession,
    id: web::Path<i64>,
) -> Result<HttpResponse, PageError> {
    if !state.passkeys.store().remove(user.id, *id).await? {
        return Err(PageError::NotFound);
    }
    session.set_notice("Passkey removed. It can no longer sign in to your account.")?;
    Ok(see_other("/account"))
}
