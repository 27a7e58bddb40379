//! Passkeys named by their provider: the AAGUID an authenticator reports when a passkey is made
//! names who keeps it, in the default name and beside a name its owner chose; an unknown AAGUID,
//! or none, falls back to "Passkey".

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mailbox::db::on_backend;
use serde_cbor_2::Value as Cbor;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::app::{Browser, TestApp};
use crate::support::passkey::{Choices, Passkey, finish_registration, passkey_row, registration_options};
use crate::support::postgres::{Backend, available};

const GOOGLE_PASSWORD_MANAGER: Uuid = uuid::uuid!("ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4");
/// webauthn-authenticator-rs' `SoftToken`, in no list of providers.
const SOFT_TOKEN: &str = "0fb9bcbc-a0d4-4042-bbb0-559bc1631e28";

/// The credential as a browser sends it when the site asks for no attestation: the
/// authenticator's statement replaced by "none", its AAGUID kept (Chromium does this), and that
/// AAGUID here `aaguid`.
fn reported_with(credential: &mut Value, aaguid: Uuid) {
    let encoded = credential["response"]["attestationObject"].as_str().expect("an attestation object");
    let bytes = URL_SAFE_NO_PAD.decode(encoded).expect("base64url");
    let Cbor::Map(mut object) = serde_cbor_2::from_slice(&bytes).expect("CBOR") else { panic!("not a CBOR map") };
    let key = |name: &str| Cbor::Text(name.to_owned());
    let Some(Cbor::Bytes(auth_data)) = object.get_mut(&key("authData")) else { panic!("no authData") };
    // After the RP id hash (32 bytes), the flags (1) and the counter (4).
    auth_data[37..53].copy_from_slice(aaguid.as_bytes());
    object.insert(key("fmt"), Cbor::Text("none".to_owned()));
    object.insert(key("attStmt"), Cbor::Map(Default::default()));
    let rewritten = serde_cbor_2::to_vec(&Cbor::Map(object)).expect("CBOR");
    credential["response"]["attestationObject"] = json!(URL_SAFE_NO_PAD.encode(rewritten));
}

/// Enrols a passkey whose authenticator reports `aaguid`, named `name`.
async fn enrol_reporting(app: &TestApp, browser: &Browser, aaguid: Uuid, name: &str) -> Passkey {
    let mut passkey = Passkey::soft();
    let options = registration_options(browser).await;
    let mut credential = passkey.create(&options.body);
    reported_with(&mut credential, aaguid);
    let finished = finish_registration(browser, &credential, name, Choices::default()).await;
    assert_eq!(finished.redirect(), Some("/account"), "enrolment failed: {}", finished.text);
    assert!(passkey_row(app, passkey.credential_id()).await.is_some());
    passkey
}

async fn stored_aaguid(app: &TestApp, credential_id: &[u8]) -> Option<String> {
    on_backend!(app.db.reader(), pool => sqlx::query_scalar("SELECT aaguid FROM passkeys WHERE credential_id = $1")
        .bind(credential_id)
        .fetch_one(pool)
        .await)
    .expect("the passkey's row")
}

#[tokio::test]
async fn a_passkey_named_with_nothing_is_named_by_its_provider_and_the_day_on_sqlite() {
    a_passkey_named_with_nothing_is_named_by_its_provider_and_the_day(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_passkey_named_with_nothing_is_named_by_its_provider_and_the_day_on_postgres() {
    if available() {
        a_passkey_named_with_nothing_is_named_by_its_provider_and_the_day(Backend::Postgres).await;
    }
}

async fn a_passkey_named_with_nothing_is_named_by_its_provider_and_the_day(backend: Backend) {
    // Arrange
    let app = TestApp::spawn_on(backend, &[]).await;
    let browser = app.signed_up("gus@example.com", "Gus").await;

    // Act
    let passkey = enrol_reporting(&app, &browser, GOOGLE_PASSWORD_MANAGER, "").await;

    // Assert: named once; the row does not repeat the provider the name already says.
    let row = passkey_row(&app, passkey.credential_id()).await.expect("row");
    assert_eq!(row.name, "Google Password Manager, 1 January 2026");
    assert_eq!(
        stored_aaguid(&app, passkey.credential_id()).await.as_deref(),
        Some(GOOGLE_PASSWORD_MANAGER.to_string().as_str())
    );
    let page = browser.get("/account").await;
    assert!(
        page.body.contains(r#"<strong class="name">Google Password Manager, 1 January 2026</strong>"#),
        "{}",
        page.body
    );
    assert!(!page.body.contains(r#"class="provider""#), "{}", page.body);
}

#[tokio::test]
async fn a_renamed_passkey_keeps_its_provider_beside_the_name() {
    // Arrange
    let app = TestApp::spawn(&[]).await;
    let browser = app.signed_up("hal@example.com", "Hal").await;
    let passkey = enrol_reporting(&app, &browser, GOOGLE_PASSWORD_MANAGER, "Work laptop").await;
    let id = passkey_row(&app, passkey.credential_id()).await.expect("row").id;

    // Act
    let page = browser.get("/account").await;
    let asked = browser.get(&format!("/account/passkeys/{id}/remove")).await;

    // Assert
    assert!(
        page.body.contains(r#"<strong class="name">Work laptop</strong><span class="meta"> · <span class="provider">Google Password Manager</span> · added "#),
        "{}",
        page.body
    );
    assert!(asked.body.contains("you can delete it from Google Password Manager yourself"), "{}", asked.body);
}

#[tokio::test]
async fn an_unknown_or_absent_aaguid_falls_back_to_passkey_and_the_day_on_sqlite() {
    an_unknown_or_absent_aaguid_falls_back_to_passkey_and_the_day(Backend::Sqlite).await;
}

#[tokio::test]
async fn an_unknown_or_absent_aaguid_falls_back_to_passkey_and_the_day_on_postgres() {
    if available() {
        an_unknown_or_absent_aaguid_falls_back_to_passkey_and_the_day(Backend::Postgres).await;
    }
}

async fn an_unknown_or_absent_aaguid_falls_back_to_passkey_and_the_day(backend: Backend) {
    // Arrange: SoftToken reports an AAGUID no list knows; SoftPasskey reports all zeros.
    let app = TestApp::spawn_on(backend, &[]).await;
    let browser = app.signed_up("ida@example.com", "Ida").await;
    let mut unknown = Passkey::token();
    let mut silent = Passkey::soft();

    // Act
    unknown.enrol(&app, &browser, "").await;
    silent.enrol(&app, &browser, "").await;

    // Assert: the unknown AAGUID is kept (a later table may know it); no provider is shown.
    for credential_id in [unknown.credential_id(), silent.credential_id()] {
        assert_eq!(passkey_row(&app, credential_id).await.expect("row").name, "Passkey, 1 January 2026");
    }
    assert_eq!(stored_aaguid(&app, unknown.credential_id()).await.as_deref(), Some(SOFT_TOKEN));
    assert_eq!(stored_aaguid(&app, silent.credential_id()).await, None, "all zeros is no AAGUID");
    let page = browser.get("/account").await;
    assert!(!page.body.contains(r#"class="provider""#), "{}", page.body);
}
