//! The recent-authentication gate: removing or adding a passkey and changing the email need a
//! recent sign-in. The confirm page names the change, and confirming finishes it (a removal) or
//! leads to its form.

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

    // Assert 1: sent to confirm, nothing removed; the page names the change, warns in the
    // warning style, and offers a way back.
    assert!(gated.redirects_to("/reauth"), "{} {:?}", gated.status, gated.location);
    assert!(passkey_row(&app, passkey.credential_id()).await.is_some(), "not removed before confirming");
    let reauth = browser.get("/reauth").await;
    assert!(reauth.body.contains("Confirm it's you"), "{}", reauth.body);
    assert!(
        reauth.body.contains(r#"<p class="warning">To remove the passkey “Phone”, confirm it's you"#),
        "{}",
        reauth.body
    );
    assert!(!reauth.body.contains(r#"class="notice""#), "no success style: {}", reauth.body);
    assert!(reauth.body.contains(r#"action="/reauth/cancel""#), "a Cancel: {}", reauth.body);

    // Act 2: confirm by email.
    let confirmed = confirm_by_email(&app, &browser, "lou@example.com").await;

    // Assert 2: the removal asked for is done, and the account page says so.
    assert!(confirmed.redirects_to("/account"), "back where it started: {:?}", confirmed.location);
    assert!(passkey_row(&app, passkey.credential_id()).await.is_none(), "removed on confirming");
    let page = browser.get("/account").await;
    assert!(page.body.contains("Confirmed. Passkey removed"), "{}", page.body);
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
    assert!(page.body.contains(r#"href="/reauth?for=add-passkey""#), "{}", page.body);
    assert!(!page.body.contains("data-passkey-register"), "no enrol button until confirmed");
    assert_refused(&refused, "confirm it's you", "an enrolment long after sign-in");

    // Act 2: confirm by email through the page's link, then enrol.
    let reauth = browser.get("/reauth?for=add-passkey").await;
    let confirmed = confirm_by_email(&app, &browser, "kim@example.com").await;
    let account = browser.get("/account").await;
    let mut passkey = Passkey::soft();
    passkey.enrol(&app, &browser, "Laptop").await;

    // Assert 2
    assert!(reauth.body.contains("To add a passkey, confirm it's you"), "{}", reauth.body);
    assert!(confirmed.redirects_to("/account"), "{:?}", confirmed.location);
    assert!(account.body.contains("Confirmed. Now name your new passkey and add it."), "{}", account.body);
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
    let reauth = browser.get("/reauth").await;
    assert!(reauth.body.contains("To change your email address, confirm it's you"), "{}", reauth.body);

    // Act: the reauth page's passkey button, in the same session.
    let confirmed = passkey.sign_in(&browser, &handle).await;

    // Assert
    assert_eq!(confirmed.redirect(), Some("/account/email"), "{}", confirmed.text);
    let page = browser.get("/account/email").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Change your email"));
    assert!(page.body.contains("Confirmed. Now enter your new email address."), "{}", page.body);
}

#[tokio::test]
async fn confirming_with_one_passkey_finishes_the_removal_of_another() {
    // Arrange: two passkeys, signed in eleven minutes ago, sent to confirm by removing B.
    let app = TestApp::spawn(&[]).await;
    let browser = app.signed_up("ned@example.com", "Ned").await;
    let handle = account_handle(&app, "ned@example.com").await;
    let mut kept = Passkey::soft();
    kept.enrol(&app, &browser, "Kept").await;
    let mut removed = Passkey::soft();
    let id = removed.enrol(&app, &browser, "Removed").await;
    app.clock.advance(Duration::from_secs(11 * 60));
    assert!(browser.post(&format!("/account/passkeys/{id}/remove"), &[]).await.redirects_to("/reauth"));

    // Act: the reauth page's passkey button, with the passkey that stays.
    let confirmed = kept.sign_in(&browser, &handle).await;

    // Assert
    assert_eq!(confirmed.redirect(), Some("/account"), "{}", confirmed.text);
    assert!(passkey_row(&app, removed.credential_id()).await.is_none(), "removed on confirming");
    assert!(passkey_row(&app, kept.credential_id()).await.is_some());
}

#[tokio::test]
async fn cancelling_the_confirmation_forgets_the_removal() {
    // Arrange: sent to confirm by a removal, long after signing in.
    let app = TestApp::spawn(&[]).await;
    let browser = app.signed_up("oda@example.com", "Oda").await;
    let mut passkey = Passkey::soft();
    let id = passkey.enrol(&app, &browser, "Phone").await;
    app.clock.advance(Duration::from_secs(11 * 60));
    assert!(browser.post(&format!("/account/passkeys/{id}/remove"), &[]).await.redirects_to("/reauth"));

    // Act: Cancel, then a later confirmation for something else.
    let cancelled = browser.post("/reauth/cancel", &[]).await;
    let reauth = browser.get("/reauth").await;
    let confirmed = confirm_by_email(&app, &browser, "oda@example.com").await;

    // Assert: back on the account page, and the later sign-in removes nothing.
    assert!(cancelled.redirects_to("/account"), "{} {:?}", cancelled.status, cancelled.location);
    assert!(!reauth.body.contains("To remove"), "the removal is no longer named: {}", reauth.body);
    assert!(confirmed.redirects_to("/account"), "{:?}", confirmed.location);
    assert!(passkey_row(&app, passkey.credential_id()).await.is_some(), "the passkey is kept");
}

#[tokio::test]
async fn no_link_can_ask_to_confirm_a_removal() {
    // A removal is queued only by its own form: a link that could queue one would have a
    // passkey removed by whoever follows it and confirms.
    let app = TestApp::spawn(&[]).await;
    let browser = app.signed_up("pam@example.com", "Pam").await;

    let linked = browser.get("/reauth?for=remove-passkey").await;

    assert_eq!(linked.status, StatusCode::BAD_REQUEST, "{}", linked.body);
}
