//! Passkey endpoints: the JSON halves of each WebAuthn ceremony (called by
//! `static/passkeys.js`), and the forms that rename or remove a passkey.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;
use webauthn_rs::prelude::{PublicKeyCredential, RegisterPublicKeyCredential};

use super::AppState;
use super::csrf::{CsrfForm, CsrfJson, NoFields};
use super::error::AppError;
use super::layout::format_time;
use super::reauth::{ask_to_reauthenticate, recently_authenticated};
use super::respond::see_other;
use super::session::AppSession;
use crate::accounts::emails;
use crate::accounts::users::AccountId;
use crate::passkeys::PasskeyError;
use crate::passkeys::ceremonies::Kind;

fn json_error(status: StatusCode, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!({ "error": message }))
}

fn passkey_error(err: &PasskeyError) -> HttpResponse {
    let status = match err {
        PasskeyError::Storage(cause) => {
            tracing::error!(error = %cause, "passkey storage failed");
            StatusCode::INTERNAL_SERVER_ERROR
        }
        PasskeyError::Rejected(cause) => {
            tracing::info!(error = %cause, "passkey refused");
            StatusCode::BAD_REQUEST
        }
        PasskeyError::AlreadyRegistered => StatusCode::CONFLICT,
        PasskeyError::CeremonyGone | PasskeyError::UnknownCredential => StatusCode::BAD_REQUEST,
    };
    json_error(status, &err.to_string())
}

/// Who may enrol a passkey now: the signed-in user, or the account of an unexpired recovery.
enum Enrolling {
    SignedIn(AccountId),
    Recovery(AccountId),
}

fn enrolling(session: &AppSession, now: i64) -> Option<Enrolling> {
    match (session.user_id(), session.recovery()) {
        (Some(user), _) => Some(Enrolling::SignedIn(user)),
        (None, Some(grant)) if grant.expires_at > now => Some(Enrolling::Recovery(grant.account)),
        _ => None,
    }
}

pub async fn register_start(
    state: web::Data<AppState>,
    session: AppSession,
    _: CsrfJson<serde_json::Value>,
) -> Result<HttpResponse, AppError> {
    let now = state.clock.now_ms();
    let account = match enrolling(&session, now) {
        // A stolen session must not be able to plant a passkey that outlives it.
        Some(Enrolling::SignedIn(_)) if !recently_authenticated(&session, now) => {
            return Ok(json_error(
                StatusCode::FORBIDDEN,
                "For your security, confirm it's you before adding a passkey.",
            ));
        }
        Some(Enrolling::SignedIn(a) | Enrolling::Recovery(a)) => a,
        None => return Ok(json_error(StatusCode::FORBIDDEN, "Sign in first, then add a passkey.")),
    };
    let Some(user) = state.users.find(account).await? else {
        return Ok(json_error(StatusCode::FORBIDDEN, "Sign in first, then add a passkey."));
    };
    match state.passkeys.start_registration(&user).await {
        Ok((options, ceremony)) => {
            session.set_ceremony(Kind::Registration, &ceremony)?;
            Ok(HttpResponse::Ok().json(options))
        }
        Err(err) => Ok(passkey_error(&err)),
    }
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

/// A passkey name: what the person typed (trimmed, at most 64 characters) or a dated default.
fn passkey_name(typed: &str, now: i64) -> String {
    let typed: String = typed.trim().chars().filter(|c| !c.is_control()).take(64).collect();
    if typed.is_empty() { format!("Passkey added {}", format_time(now)) } else { typed }
}

pub async fn register_finish(
    state: web::Data<AppState>,
    session: AppSession,
    CsrfJson(body): CsrfJson<RegisterFinish>,
) -> Result<HttpResponse, AppError> {
    let now = state.clock.now_ms();
    let Some(who) = enrolling(&session, now) else {
        return Ok(json_error(StatusCode::FORBIDDEN, "Your session has ended. Sign in and try again."));
    };
    let Some(ceremony) = session.take_ceremony(Kind::Registration) else {
        return Ok(passkey_error(&PasskeyError::CeremonyGone));
    };
    let account = match who {
        Enrolling::SignedIn(a) | Enrolling::Recovery(a) => a,
    };
    let name = passkey_name(&body.name, now);
    let added = match state.passkeys.finish_registration(&ceremony, account, &body.credential, &name).await {
        Ok(id) => id,
        Err(err) => return Ok(passkey_error(&err)),
    };
    if let Enrolling::Recovery(_) = who {
        finish_recovery(&state, &session, account, added, &body).await?;
    } else {
        session.set_notice("Your passkey was added. You can use it to sign in next time.")?;
    }
    Ok(HttpResponse::Ok().json(json!({ "redirect": "/account" })))
}

/// After a passkey was enrolled through recovery: apply the person's choices, sign them in
/// under a new session key, and tell the account's mailbox.
async fn finish_recovery(
    state: &AppState,
    session: &AppSession,
    account: AccountId,
    added: i64,
    choices: &RegisterFinish,
) -> Result<(), AppError> {
    let now = state.clock.now_ms();
    if choices.remove_others {
        state.passkeys.store().remove_all_but(account, added).await?;
    }
    if choices.sign_out_others {
        // This recovery session is among them too; `sign_in` below gives it a new key.
        state.sessions.delete_all_for_user(&account.to_string()).await?;
    }
    session.clear_recovery();
    session.sign_in(account, now)?;
    session.set_notice("Your new passkey is ready and you are signed in.")?;
    if let Some(user) = state.users.find(account).await? {
        let notice = emails::passkey_added_through_recovery(&user.email, &format_time(now), state.flows.base_url());
        if let Err(err) = state.flows.mailer().send(&notice).await {
            tracing::error!(error = %err, "could not send the recovery notice");
        }
    }
    Ok(())
}

pub async fn login_start(
    state: web::Data<AppState>,
    session: AppSession,
    _: CsrfJson<serde_json::Value>,
) -> Result<HttpResponse, AppError> {
    match state.passkeys.start_authentication().await {
        Ok((options, ceremony)) => {
            session.set_ceremony(Kind::Authentication, &ceremony)?;
            Ok(HttpResponse::Ok().json(options))
        }
        Err(err) => Ok(passkey_error(&err)),
    }
}

#[derive(Deserialize)]
pub struct LoginFinish {
    credential: PublicKeyCredential,
}

pub async fn login_finish(
    state: web::Data<AppState>,
    session: AppSession,
    CsrfJson(body): CsrfJson<LoginFinish>,
) -> Result<HttpResponse, AppError> {
    let Some(ceremony) = session.take_ceremony(Kind::Authentication) else {
        return Ok(passkey_error(&PasskeyError::CeremonyGone));
    };
    let account = match state.passkeys.finish_authentication(&ceremony, &body.credential).await {
        Ok(account) => account,
        Err(err) => return Ok(passkey_error(&err)),
    };
    // When confirming it's you, the passkey must be your own.
    if session.user_id().is_some_and(|current| current != account) {
        return Ok(json_error(StatusCode::FORBIDDEN, "This passkey belongs to another account."));
    }
    session.sign_in(account, state.clock.now_ms())?;
    let next = session.take_return_to().unwrap_or_else(|| "/account".into());
    Ok(HttpResponse::Ok().json(json!({ "redirect": next })))
}

#[derive(Deserialize)]
pub struct RenameForm {
    #[serde(default)]
    name: String,
}

pub async fn rename(
    state: web::Data<AppState>,
    session: AppSession,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<RenameForm>,
) -> Result<HttpResponse, AppError> {
    let Some(user) = session.user_id() else {
        return Ok(see_other("/login"));
    };
    if form.name.trim().is_empty() {
        session.set_notice("Type a name to rename the passkey.")?;
        return Ok(see_other("/account"));
    }
    let name = passkey_name(&form.name, state.clock.now_ms());
    if !state.passkeys.store().rename(user, *id, &name).await? {
        return Err(AppError::NotFound);
    }
    session.set_notice("Passkey renamed.")?;
    Ok(see_other("/account"))
}

pub async fn remove(
    state: web::Data<AppState>,
    session: AppSession,
    id: web::Path<i64>,
    _: CsrfForm<NoFields>,
) -> Result<HttpResponse, AppError> {
    let Some(user) = session.user_id() else {
        return Ok(see_other("/login"));
    };
    if !recently_authenticated(&session, state.clock.now_ms()) {
        return ask_to_reauthenticate(&session, "/account");
    }
    if !state.passkeys.store().remove(user, *id).await? {
        return Err(AppError::NotFound);
    }
    session.set_notice("Passkey removed. It can no longer sign in to your account.")?;
    Ok(see_other("/account"))
}
