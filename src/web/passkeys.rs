//! Passkey endpoints: the JSON halves of each WebAuthn ceremony (called by
//! `static/passkeys.js`), the new-passkey form's answer when that script did not run, the forms
//! that rename or remove a passkey (a removal asks first), and what the account page tells the
//! device about the account's passkeys.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::json;
use webauthn_rs::prelude::{PublicKeyCredential, RegisterPublicKeyCredential};

use super::AppState;
use super::context::PageContext;
use super::csrf::{CsrfForm, CsrfJson, NoFields};
use super::dev_notes::{Credential, DevNotes};
use super::error::{JsonError, PageError};
use super::forms::{NameForm, csrf_field};
use super::guards::{Enroller, RecentlySignedIn, RemovingPasskey, SignedIn, recently_authenticated};
use super::layout::page;
use super::reauth::continue_after_sign_in;
use super::response::{html, see_other};
use super::session::AppSession;
use crate::accounts::recovery::RecoveryChoices;
use crate::accounts::users::User;
use crate::domain::without_format_characters;
use crate::passkeys::PasskeyError;
use crate::passkeys::ceremonies::Kind;
use crate::passkeys::store::StoredPasskey;

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
    notes: DevNotes,
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
    notes.options_sent(Kind::Registration, &options);
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

/// The passkey name typed: trimmed, at most 64 characters, without control or format
/// characters; none if nothing is left.
fn typed_name(typed: &str) -> Option<String> {
    let typed: String = without_format_characters(typed).trim().chars().filter(|c| !c.is_control()).take(64).collect();
    (!typed.is_empty()).then_some(typed)
}

pub async fn register_finish(
    CsrfJson(body): CsrfJson<RegisterFinish>,
    enroller: Enroller,
    state: web::Data<AppState>,
    session: AppSession,
    notes: DevNotes,
) -> Result<HttpResponse, JsonError> {
    let now = state.clock.now_ms();
    let ceremony = session.take_ceremony(Kind::Registration).ok_or(PasskeyError::CeremonyGone)?;
    let account = enroller.account();
    let passkey = state.passkeys.finish_registration(&ceremony, account, &body.credential).await;
    notes.credential_checked(Credential::NewPasskey(&body.credential), passkey.as_ref().map(drop));
    let passkey = passkey?;
    let name = typed_name(&body.name).unwrap_or_else(|| passkey.default_name(now));
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
    notes: DevNotes,
) -> Result<HttpResponse, JsonError> {
    let (options, ceremony) = state.passkeys.start_authentication().await?;
    session.set_ceremony(Kind::Authentication, &ceremony)?;
    notes.options_sent(Kind::Authentication, &options);
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
    notes: DevNotes,
) -> Result<HttpResponse, JsonError> {
    let ceremony = session.take_ceremony(Kind::Authentication).ok_or(PasskeyError::CeremonyGone)?;
    let signed_in = state.passkeys.finish_authentication(&ceremony, &body.credential).await;
    notes.credential_checked(Credential::SignIn(&body.credential), signed_in.as_ref().map(drop));
    let account = match signed_in {
        Err(PasskeyError::UnknownCredential) => return Ok(unknown_credential(&body.credential)),
        signed_in => signed_in?,
    };
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
    let Some(name) = typed_name(&form.name) else {
        session.set_notice("Type a name to rename the passkey.")?;
        return Ok(see_other("/account"));
    };
    if !state.passkeys.store().rename(user.id, *id, &name).await? {
        return Err(PageError::NotFound);
    }
    session.set_notice("Passkey renamed.")?;
    Ok(see_other("/account"))
}

/// Asks before a removal, saying what it changes. Only the form on this page removes: a link
/// can lead here, never remove anything, even through the recent-sign-in gate.
pub async fn removal_form(
    SignedIn(user): SignedIn,
    state: web::Data<AppState>,
    session: AppSession,
    context: PageContext,
    id: web::Path<i64>,
) -> Result<HttpResponse, PageError> {
    let passkeys = state.passkeys.store().list(user.id).await?;
    let passkey = passkeys.iter().find(|passkey| passkey.id == *id).ok_or(PageError::NotFound)?;
    let name = &passkey.name;
    let content = html! {
        h1 { "Remove “" (name) "”?" }
        p { "This passkey will no longer sign in to your account. "
            @if passkeys.len() == 1 { "It is your only passkey: afterwards you sign in with a code sent to "
                strong { (user.email.as_str()) } "." }
            @else { "Your other passkeys, and codes sent to " strong { (user.email.as_str()) } ", still will." } }
        p { "Browsers that support it are told to stop offering it; elsewhere you can delete it from "
            (passkey.provider().unwrap_or("the device or password manager that keeps it")) " yourself." }
        @if !recently_authenticated(&session, state.clock.now_ms()) {
            p { "For your security, you'll confirm it's you first: this change needs a recent sign-in." }
        }
        form method="post" action=(format!("/account/passkeys/{}/remove", passkey.id)) {
            (csrf_field(&context.csrf))
            button.danger type="submit" { "Remove “" (name) "”" }
        }
        p { a href="/account" { "Cancel" } }
    };
    Ok(html(StatusCode::OK, page(&format!("Remove “{name}”?"), &context, content)))
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

/// The answer to a sign-in with a passkey this site does not know, never registered or since
/// removed: the credential's id beside the error, so that the page can tell the browser to stop
/// offering it (`signalUnknownCredential`). It tells nothing of any account: the id is the one
/// the browser just sent, and the answer is the same whether its user handle names an account
/// or not.
fn unknown_credential(credential: &PublicKeyCredential) -> HttpResponse {
    HttpResponse::BadRequest().json(json!({
        "error": PasskeyError::UnknownCredential.to_string(),
        "code": "unknown-credential",
        "credentialId": URL_SAFE_NO_PAD.encode(&credential.raw_id),
    }))
}

/// What the account page tells the passkey script to pass on to the browser (WebAuthn Signal
/// API): the account's passkeys, so the device can hide removed ones, and its current email and
/// name, which its passkeys show. Every view of the page says it: it is cheap and local, and it
/// also brings a device in step with changes made elsewhere (a removal on another device, a
/// recovery), which a one-time flag in this session would miss.
pub fn device_signals(rp_id: &str, user: &User, passkeys: &[StoredPasskey]) -> Markup {
    let credential_ids: Vec<String> = passkeys.iter().map(|p| URL_SAFE_NO_PAD.encode(p.passkey.cred_id())).collect();
    html! {
        div hidden data-passkey-signals
            data-rp-id=(rp_id)
            data-user-id=(URL_SAFE_NO_PAD.encode(user.id.as_uuid().as_bytes()))
            data-user-name=(user.email.as_str())
            data-display-name=(user.name)
            data-accepted-credentials=(credential_ids.join(" ")) {}
    }
}
