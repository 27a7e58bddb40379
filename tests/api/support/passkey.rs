//! Passkey ceremonies as the app's page script runs them, played with a software authenticator.
//!
//! The authenticator is webauthn-authenticator-rs' `SoftPasskey` (or `SoftToken`, whose state
//! can be copied, for the cloned-authenticator test). It cannot keep resident keys, so the
//! helpers play the browser's part: they lower the resident-key requirement before creating a
//! credential, tell the authenticator which credential to use for a discoverable sign-in, and
//! fill in the user handle a resident key would have returned (the account's UUID).

use mailbox::db::on_backend;
use reqwest::StatusCode;
use reqwest::header::LOCATION;
use serde_json::{Value, json};
use uuid::Uuid;
use webauthn_authenticator_rs::AuthenticatorBackend;
use webauthn_authenticator_rs::prelude::{Url, WebauthnAuthenticator};
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_authenticator_rs::softtoken::SoftToken;
use webauthn_rs_proto::{
    AllowCredentials, CreationChallengeResponse, RequestChallengeResponse, ResidentKeyRequirement,
};

use super::app::{Browser, Page, TestApp, find_code};

/// The app's `APP_BASE_URL` in tests (the default): what the browser reports as the origin.
const ORIGIN: &str = "http://localhost:8080";

/// A software authenticator and the credential it created here.
pub struct Passkey<A = SoftPasskey> {
    authenticator: A,
    credential_id: Option<Vec<u8>>,
}

impl Passkey<SoftPasskey> {
    /// A `SoftPasskey` that claims user verification, as a platform authenticator would.
    pub fn soft() -> Self {
        Self { authenticator: SoftPasskey::new(true), credential_id: None }
    }
}

impl Passkey<SoftToken> {
    pub fn token() -> Self {
        let (token, _ca) = SoftToken::new(true).expect("a SoftToken");
        Self { authenticator: token, credential_id: None }
    }

    /// A copy of the authenticator as it is now: same keys, same counter.
    pub fn copy(&self) -> Self {
        let state = self.authenticator.to_cbor().expect("SoftToken state");
        Self {
            authenticator: SoftToken::from_cbor(&state).expect("SoftToken from its state"),
            credential_id: self.credential_id.clone(),
        }
    }
}

impl<A: AuthenticatorBackend> Passkey<A> {
    pub fn credential_id(&self) -> &[u8] {
        self.credential_id.as_deref().expect("the passkey was created")
    }

    /// `navigator.credentials.create` for the server's options. The soft authenticators keep no
    /// resident keys, so the requirement is lowered first.
    pub fn create(&mut self, options: &Value) -> Value {
        let mut options: CreationChallengeResponse =
            serde_json::from_value(options.clone()).expect("creation options as webauthn-rs-proto reads them");
        if let Some(selection) = options.public_key.authenticator_selection.as_mut() {
            selection.resident_key = Some(ResidentKeyRequirement::Discouraged);
            selection.require_resident_key = false;
        }
        let credential =
            self.authenticator.do_registration(origin(), options).expect("the authenticator creates a credential");
        self.credential_id = Some(credential.raw_id.clone());
        serde_json::to_value(credential).expect("credential JSON")
    }

    /// `navigator.credentials.get` for the server's options: the browser's discoverable lookup is
    /// played by naming our credential, and the user handle a resident key returns is filled in.
    pub fn assert(&mut self, options: &Value, user_handle: &[u8]) -> Value {
        let mut options: RequestChallengeResponse =
            serde_json::from_value(options.clone()).expect("request options as webauthn-rs-proto reads them");
        options.public_key.allow_credentials =
            vec![AllowCredentials { type_: "public-key".into(), id: self.credential_id().to_vec(), transports: None }];
        let mut assertion = self.authenticator.do_authentication(origin(), options).expect("the authenticator signs");
        assertion.response.user_handle = Some(user_handle.to_vec());
        serde_json::to_value(assertion).expect("assertion JSON")
    }

    /// Enrols from a signed-in browser; returns the passkey's row id.
    pub async fn enrol(&mut self, app: &TestApp, browser: &Browser, name: &str) -> i64 {
        let options = registration_options(browser).await;
        let credential = self.create(&options.body);
        let finished = finish_registration(browser, &credential, name, Choices::default()).await;
        assert_eq!(finished.redirect(), Some("/account"), "enrolment failed: {}", finished.text);
        passkey_row(app, self.credential_id()).await.expect("the enrolled passkey's row").id
    }

    /// The whole sign-in: start, the authenticator, finish.
    pub async fn sign_in(&mut self, browser: &Browser, user_handle: &[u8]) -> Reply {
        let options = authentication_options(browser).await;
        let assertion = self.assert(&options.body, user_handle);
        finish_sign_in(browser, &assertion).await
    }
}

fn origin() -> Url {
    Url::parse(ORIGIN).expect("origin URL")
}

/// What a JSON endpoint answered.
pub struct Reply {
    pub status: StatusCode,
    pub location: Option<String>,
    pub text: String,
    pub body: Value,
}

impl Reply {
    pub fn redirect(&self) -> Option<&str> {
        self.body["redirect"].as_str()
    }

    pub fn error(&self) -> Option<&str> {
        self.body["error"].as_str()
    }
}

/// Asserts a 4xx with an `error` that contains `wording`.
#[track_caller]
pub fn assert_refused(reply: &Reply, wording: &str, what: &str) {
    assert!(reply.status.is_client_error(), "{what}: expected a refusal, got {}: {}", reply.status, reply.text);
    assert!(reply.redirect().is_none(), "{what}: {}", reply.text);
    let error = reply.error().unwrap_or_else(|| panic!("{what}: no error in {}", reply.text));
    assert!(error.contains(wording), "{what}: {error:?} lacks {wording:?}");
}

/// The remove/sign-out choices of a recovery enrolment.
#[derive(Default, Clone, Copy)]
pub struct Choices {
    pub remove_others: bool,
    pub sign_out_others: bool,
}

/// The session's CSRF token as the passkey script reads it: the `csrf-token` meta tag of the
/// page a browser lands on (following the app's redirects).
pub async fn page_token(browser: &Browser) -> String {
    let mut page = browser.get("/login").await;
    for _ in 0..3 {
        match (page.status, page.location.clone()) {
            (StatusCode::SEE_OTHER, Some(next)) => page = browser.get(&next).await,
            _ => break,
        }
    }
    meta_token(&page.body).unwrap_or_else(|| panic!("no csrf-token meta tag: {}", page.body))
}

fn meta_token(body: &str) -> Option<String> {
    let marker = r#"<meta name="csrf-token" content=""#;
    let start = body.find(marker)? + marker.len();
    let end = body[start..].find('"')?;
    Some(body[start..start + end].to_owned())
}

/// POSTs JSON with this session's token in `X-CSRF-Token`, as `static/passkeys.js` does.
pub async fn post_json(browser: &Browser, path: &str, body: &Value) -> Reply {
    let token = page_token(browser).await;
    post_json_with(browser, &token, path, body).await
}

pub async fn post_json_with(browser: &Browser, token: &str, path: &str, body: &Value) -> Reply {
    let response = browser
        .http
        .post(format!("{}{path}", browser.base))
        .header("X-CSRF-Token", token)
        .json(body)
        .send()
        .await
        .expect("POST JSON");
    let status = response.status();
    let location = response.headers().get(LOCATION).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let text = response.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply { status, location, text, body }
}

pub async fn registration_options(browser: &Browser) -> Reply {
    let reply = post_json(browser, "/passkeys/register/start", &json!({})).await;
    assert_eq!(reply.status, StatusCode::OK, "register/start: {}", reply.text);
    reply
}

pub async fn finish_registration(browser: &Browser, credential: &Value, name: &str, choices: Choices) -> Reply {
    let body = json!({
        "credential": credential,
        "name": name,
        "removeOthers": choices.remove_others,
        "signOutOthers": choices.sign_out_others,
    });
    post_json(browser, "/passkeys/register/finish", &body).await
}

pub async fn authentication_options(browser: &Browser) -> Reply {
    let reply = post_json(browser, "/passkeys/login/start", &json!({})).await;
    assert_eq!(reply.status, StatusCode::OK, "login/start: {}", reply.text);
    reply
}

pub async fn finish_sign_in(browser: &Browser, assertion: &Value) -> Reply {
    post_json(browser, "/passkeys/login/finish", &json!({ "credential": assertion })).await
}

/// The account's id: its WebAuthn user handle.
pub async fn account_uuid(app: &TestApp, email: &str) -> Uuid {
    let id: String =
        on_backend!(app.db.reader(), pool => sqlx::query_scalar("SELECT id FROM users WHERE email_key = $1")
        .bind(email.to_lowercase())
        .fetch_one(pool)
        .await)
        .expect("the account");
    Uuid::parse_str(&id).expect("a UUID")
}

/// The user handle a resident key for `email`'s account returns: the UUID's 16 bytes.
pub async fn account_handle(app: &TestApp, email: &str) -> Vec<u8> {
    account_uuid(app, email).await.as_bytes().to_vec()
}

/// A signed-up account with an enrolled passkey, signed out; and the account's user handle.
pub async fn account_with_passkey(app: &TestApp, email: &str) -> (Passkey, Vec<u8>) {
    let browser = app.signed_up(email, "Passkey Owner").await;
    let mut passkey = Passkey::soft();
    passkey.enrol(app, &browser, "My passkey").await;
    browser.logout().await;
    (passkey, account_handle(app, email).await)
}

/// A passkeys row as stored.
pub struct PasskeyRow {
    pub id: i64,
    pub user_id: String,
    pub name: String,
    pub last_used_at: Option<i64>,
    pub passkey: Value,
}

impl PasskeyRow {
    /// The signature counter inside webauthn-rs' serialised passkey.
    pub fn counter(&self) -> u64 {
        self.passkey["cred"]["counter"].as_u64().unwrap_or_else(|| panic!("no counter in {}", self.passkey))
    }
}

pub async fn passkey_row(app: &TestApp, credential_id: &[u8]) -> Option<PasskeyRow> {
    let row: Option<(i64, String, String, Option<i64>, String)> = on_backend!(app.db.reader(), pool => sqlx::query_as(
            "SELECT id, user_id, name, last_used_at, passkey FROM passkeys WHERE credential_id = $1",
        )
        .bind(credential_id)
        .fetch_optional(pool)
        .await)
    .expect("read passkeys");
    row.map(|(id, user_id, name, last_used_at, passkey)| PasskeyRow {
        id,
        user_id,
        name,
        last_used_at,
        passkey: serde_json::from_str(&passkey).expect("passkey JSON"),
    })
}

pub async fn ceremony_count(app: &TestApp) -> i64 {
    app.db.scalar("SELECT COUNT(*) FROM ceremonies").await.expect("count ceremonies")
}

/// The reauth page's email option, through to the code; returns where the code leads.
pub async fn confirm_by_email(app: &TestApp, browser: &Browser, email: &str) -> Page {
    let seen = app.mail_count(email);
    let asked = browser.post("/reauth/email", &[]).await;
    assert!(asked.redirects_to("/verify"), "{} {:?}", asked.status, asked.location);
    let code = app.code_after(email, seen).await;
    browser.submit_code(&code).await
}

/// Asks for a recovery code for `email` and enters it; returns where the code leads.
pub async fn recover(app: &TestApp, browser: &Browser, email: &str) -> Page {
    let seen = app.mail_count(email);
    let asked = browser.post("/recover", &[("email", email)]).await;
    assert!(asked.redirects_to("/verify"), "{} {:?}", asked.status, asked.location);
    let mail = app.mail_after(email, seen).await;
    assert!(mail.subject.contains("Recover"), "a recovery email: {}", mail.subject);
    let code = find_code(&mail.text).unwrap_or_else(|| panic!("no code in {}", mail.text));
    browser.submit_code(&code).await
}
