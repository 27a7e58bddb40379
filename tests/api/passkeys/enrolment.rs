//! Enrolling a passkey from a signed-in account: what is asked of the authenticator and what is kept.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::StatusCode;
use serde_json::json;

use crate::support::START_TIME;
use crate::support::app::TestApp;
use crate::support::pages::assert_page;
use crate::support::passkey::{
    Choices, Passkey, account_uuid, finish_registration, passkey_row, post_json, registration_options,
};

#[tokio::test]
async fn enrolling_after_sign_up_lists_the_passkey_under_the_account_uuid() {
    // Arrange: a new account, invited to add a passkey.
    let app = TestApp::spawn(&[]).await;
    let browser = app.signed_up("ann@example.com", "Ann").await;
    let account = account_uuid(&app, "ann@example.com").await;
    let before = browser.get("/account").await;
    assert!(before.body.contains("<strong>Add a passkey</strong> to sign in with"), "{}", before.body);
    let mut passkey = Passkey::soft();

    // Act
    let options = registration_options(&browser).await;
    let credential = passkey.create(&options.body);
    let finished = finish_registration(&browser, &credential, "My laptop", Choices::default()).await;

    // Assert: what was asked of the authenticator…
    let public_key = &options.body["publicKey"];
    assert_eq!(public_key["authenticatorSelection"]["residentKey"], "required", "{public_key}");
    assert_eq!(public_key["authenticatorSelection"]["requireResidentKey"], true, "{public_key}");
    assert_eq!(public_key["authenticatorSelection"]["userVerification"], "required", "{public_key}");
    assert_eq!(public_key["user"]["id"], URL_SAFE_NO_PAD.encode(account.as_bytes()), "the user handle is the UUID");
    assert!(!public_key["user"]["id"].to_string().contains("ann"), "the user handle is never the email");
    // …what was stored…
    assert_eq!(finished.redirect(), Some("/account"), "{}", finished.text);
    let row = passkey_row(&app, passkey.credential_id()).await.expect("a passkeys row");
    assert_eq!(row.user_id, account.to_string());
    assert_eq!(row.name, "My laptop");
    assert_eq!(row.last_used_at, None);
    // …and what the account page shows.
    let after = browser.get("/account").await;
    assert!(!after.body.contains("<strong>Add a passkey</strong> to sign in with"), "no invitation once there is one");
    assert!(after.body.contains("My laptop"), "{}", after.body);
    assert!(
        after.body.contains(&format!(
            r#"added <time datetime="2026-01-01T00:00:00Z" title="{START_TIME}" data-local>{START_TIME}</time>"#
        )),
        "{}",
        after.body
    );
    assert!(after.body.contains("last used never"), "{}", after.body);
}

#[tokio::test]
async fn a_second_enrolment_excludes_the_credentials_the_account_already_has() {
    // Arrange: an account with one passkey.
    let app = TestApp::spawn(&[]).await;
    let browser = app.signed_up("ben@example.com", "Ben").await;
    let mut first = Passkey::soft();
    first.enrol(&app, &browser, "First").await;

    // Act
    let options = registration_options(&browser).await;

    // Assert
    let excluded: Vec<&str> = options.body["publicKey"]["excludeCredentials"]
        .as_array()
        .expect("excludeCredentials")
        .iter()
        .filter_map(|descriptor| descriptor["id"].as_str())
        .collect();
    assert_eq!(excluded, [URL_SAFE_NO_PAD.encode(first.credential_id())]);
    // A second authenticator enrols fine, and both are listed.
    let mut second = Passkey::soft();
    let credential = second.create(&options.body);
    let finished = finish_registration(&browser, &credential, "Second", Choices::default()).await;
    assert_eq!(finished.redirect(), Some("/account"), "{}", finished.text);
    let page = browser.get("/account").await;
    assert!(page.body.contains("First") && page.body.contains("Second"), "{}", page.body);
}

#[tokio::test]
async fn the_new_passkey_form_posts_so_enter_never_puts_the_name_in_a_url() {
    // Arrange
    let app = TestApp::spawn(&[]).await;
    let browser = app.signed_up("eva@example.com", "Eva").await;

    // Act
    let page = browser.get("/account").await;
    let sent = browser.post("/passkeys/register", &[("name", "My phone")]).await;

    // Assert: a form the script takes over on submit (the button's click and Enter in the name
    // field alike), and not a GET form, which Enter turned into `/account?name=…`…
    assert!(
        page.body.contains(r#"<form method="post" action="/passkeys/register" data-passkey-form>"#),
        "{}",
        page.body
    );
    assert!(page.body.contains(r#"<button type="submit" data-passkey-register>"#), "{}", page.body);
    // …which, sent without the script, adds nothing and says what is missing.
    assert_page(&sent, StatusCode::OK, "Passkeys need JavaScript", "the form without its script");
    assert!(sent.body.contains(r#"href="/account""#), "a way back: {}", sent.body);
    let after = browser.get("/account").await;
    assert!(after.body.contains("<strong>Add a passkey</strong> to sign in with"), "nothing added: {}", after.body);
}

#[tokio::test]
async fn enrolment_needs_a_signed_in_session() {
    // Arrange: a visitor.
    let app = TestApp::spawn(&[]).await;
    let visitor = app.browser();

    // Act
    let started = post_json(&visitor, "/passkeys/register/start", &json!({})).await;

    // Assert
    assert_eq!(started.status, StatusCode::FORBIDDEN, "{}", started.text);
    assert!(started.error().is_some_and(|e| e.contains("Sign in")), "{}", started.text);
}
