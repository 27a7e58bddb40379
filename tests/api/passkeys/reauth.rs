//! The recent-authentication gate: removing or adding a passkey and changing the email need a recent sign-in.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::support::app::TestApp;
use crate::support::passkey::{Passkey, account_handle, assert_refused, confirm_by_email, passkey_row, post_json};

#[tokio::test]
async fn removing_a_passkey_needs_a_recent_sign_in_and_then_it_no_longer_signs_in() {
    // Arrange: an account with a passkey, signed in eleven minutes ago.
    let app = TestApp::spawn(&[]).await;
    let browser = app.signed_up("lou@example.com", "Lou").await;
    let handle = account_handle(&app, "lou@example.com").await;
    let mut passkey = Passkey::soft();
    let id = passkey.enrol(&app, &browser, "Phone").await;
    let remove = format!("/account/passkeys/{id}/remove");
    app.clock.advance(Duration::from_secs(11 * 60));

    // Act 1: remove, too long after sign-in.
    let gated = browser.post(&remove, &[]).await;

    // Assert 1: sent to confirm, nothing removed.
    assert!(gated.redirects_to("/reauth"), "{} {:?}", gated.status, gated.location);
    assert!(passkey_row(&app, passkey.credential_id()).await.is_some(), "not removed before confirming");
    let reauth = browser.get("/reauth").await;
    assert!(reauth.body.contains("Confirm it's you"), "{}", reauth.body);

    // Act 2: confirm by email, then remove again.
    let confirmed = confirm_by_email(&app, &browser, "lou@example.com").await;
    let removed = browser.post(&remove, &[]).await;

    // Assert 2
    assert!(confirmed.redirects_to("/account"), "back where it started: {:?}", confirmed.location);
    assert!(removed.redirects_to("/account"), "{} {:?}", removed.status, removed.location);
    assert!(passkey_row(&app, passkey.credential_id()).await.is_none());
    let page = browser.get("/account").await;
    assert!(page.body.contains("<strong>Add a passkey</strong> to sign in with"), "{}", page.body);
    let elsewhere = app.browser();
    assert_refused(&passkey.sign_in(&elsewhere, &handle).await, "not registered", "a removed passkey");
    assert!(!elsewhere.is_signed_in().await);
}

#[tokio::test]
async fn adding_a_passkey_needs_a_recent_sign_in_so_a_stolen_session_cannot_plant_one() {
    // Arrange: signed in eleven minutes ago.
    let app = TestApp::spawn(&[]).await;
    let browser = app.signed_up("kim@example.com", "Kim").await;
    app.clock.advance(Duration::from_secs(11 * 60));

    // Act 1: the account page, and an enrolment attempt anyway.
    let page = browser.get("/account").await;
    let refused = post_json(&browser, "/passkeys/register/start", &json!({})).await;

    // Assert 1: the page asks to confirm first, and the server refuses.
    assert!(page.body.contains(r#"href="/reauth?next=/account""#), "{}", page.body);
    assert!(!page.body.contains("data-passkey-register"), "no enrol button until confirmed");
    assert_refused(&refused, "confirm it's you", "an enrolment long after sign-in");

    // Act 2: confirm by email through the page's link, then enrol.
    assert_eq!(browser.get("/reauth?next=/account").await.status, StatusCode::OK);
    let confirmed = confirm_by_email(&app, &browser, "kim@example.com").await;
    let mut passkey = Passkey::soft();
    passkey.enrol(&app, &browser, "Laptop").await;

    // Assert 2
    assert!(confirmed.redirects_to("/account"), "{:?}", confirmed.location);
    assert!(passkey_row(&app, passkey.credential_id()).await.is_some());
}

#[tokio::test]
async fn confirming_it_is_you_never_redirects_off_the_site() {
    let app = TestApp::spawn(&[]).await;
    let browser = app.signed_up("ora@example.com", "Ora").await;
    for next in ["//evil.example/phish", "/%5Cevil.example", "https://evil.example/", "evil"] {
        assert_eq!(browser.get(&format!("/reauth?next={next}")).await.status, StatusCode::OK);

        let confirmed = confirm_by_email(&app, &browser, "ora@example.com").await;

        assert!(confirmed.redirects_to("/account"), "{next}: {:?}", confirmed.location);
        app.clock.advance(Duration::from_secs(31));
    }
}

#[tokio::test]
async fn confirming_with_the_passkey_returns_to_the_email_change_page() {
    // Arrange: signed in eleven minutes ago, sent to confirm when opening the email page.
    let app = TestApp::spawn(&[]).await;
    let browser = app.signed_up("oli@example.com", "Oli").await;
    let handle = account_handle(&app, "oli@example.com").await;
    let mut passkey = Passkey::soft();
    passkey.enrol(&app, &browser, "Laptop").await;
    app.clock.advance(Duration::from_secs(11 * 60));
    let gated = browser.get("/account/email").await;
    assert!(gated.redirects_to("/reauth"), "{} {:?}", gated.status, gated.location);

    // Act: the reauth page's passkey button, in the same session.
    let confirmed = passkey.sign_in(&browser, &handle).await;

    // Assert
    assert_eq!(confirmed.redirect(), Some("/account/email"), "{}", confirmed.text);
    let page = browser.get("/account/email").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Change your email"));
}
