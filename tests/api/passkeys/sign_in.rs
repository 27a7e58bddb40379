//! Signing in with a passkey: a discoverable sign-in, and each way a ceremony is refused.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::StatusCode;
use serde_json::json;

use crate::support::app::TestApp;
use crate::support::passkey::{
    Passkey, account_handle, account_with_passkey, assert_refused, authentication_options, ceremony_count,
    finish_sign_in, page_token, passkey_row, post_json_with,
};

#[tokio::test]
async fn a_passkey_signs_in_from_a_fresh_browser_without_any_email() {
    // Arrange: an account with a passkey, signed out; five minutes later, another browser.
    let app = TestApp::spawn(&[]).await;
    let (mut passkey, handle) = account_with_passkey(&app, "cat@example.com").await;
    let counter_before = passkey_row(&app, passkey.credential_id()).await.expect("row").counter();
    let mails_before = app.mail_count("cat@example.com");
    app.clock.advance(Duration::from_secs(5 * 60));
    let browser = app.browser();

    // Act
    let signed_in = passkey.sign_in(&browser, &handle).await;

    // Assert
    assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.text);
    assert_eq!(signed_in.redirect(), Some("/account"));
    assert!(browser.is_signed_in().await);
    let row = passkey_row(&app, passkey.credential_id()).await.expect("row");
    assert!(row.counter() > counter_before, "the counter is saved: {} -> {}", counter_before, row.counter());
    assert_eq!(row.last_used_at, Some(crate::support::START_MS + 5 * 60 * 1000));
    let page = browser.get("/account").await;
    assert!(page.body.contains(r#"last used <time datetime="2026-01-01T00:05:00Z""#), "{}", page.body);
    assert_eq!(app.mail_count("cat@example.com"), mails_before, "no email is sent");
}

#[tokio::test]
async fn sign_in_options_ask_for_user_verification_and_name_no_credentials() {
    // Arrange
    let app = TestApp::spawn(&[]).await;
    let browser = app.browser();

    // Act
    let options = authentication_options(&browser).await;

    // Assert: a discoverable sign-in, for any of the site's passkeys.
    let public_key = &options.body["publicKey"];
    assert_eq!(public_key["userVerification"], "required", "{public_key}");
    assert_eq!(public_key["rpId"], "localhost", "{public_key}");
    assert!(public_key["allowCredentials"].as_array().is_none_or(Vec::is_empty), "{public_key}");
}

#[tokio::test]
async fn the_same_finish_posted_twice_is_refused_the_second_time() {
    // Arrange: a sign-in that went through.
    let app = TestApp::spawn(&[]).await;
    let (mut passkey, handle) = account_with_passkey(&app, "dan@example.com").await;
    let browser = app.browser();
    let options = authentication_options(&browser).await;
    let assertion = passkey.assert(&options.body, &handle);
    let first = finish_sign_in(&browser, &assertion).await;
    assert_eq!(first.redirect(), Some("/account"), "{}", first.text);

    // Act: a replay in the same browser, and in another one.
    let replayed = finish_sign_in(&browser, &assertion).await;
    let elsewhere = app.browser();
    let replayed_elsewhere = finish_sign_in(&elsewhere, &assertion).await;

    // Assert
    assert_refused(&replayed, "already used", "a replay");
    assert_refused(&replayed_elsewhere, "already used", "a replay from another browser");
    assert!(!elsewhere.is_signed_in().await);
}

#[tokio::test]
async fn a_finish_without_a_start_is_refused() {
    // Arrange: a browser that never started a sign-in, holding an assertion over a challenge of
    // its own making.
    let app = TestApp::spawn(&[]).await;
    let (mut passkey, handle) = account_with_passkey(&app, "eve@example.com").await;
    let browser = app.browser();
    let mut options = authentication_options(&app.browser()).await.body;
    options["publicKey"]["challenge"] = json!(URL_SAFE_NO_PAD.encode([7u8; 32]));
    let assertion = passkey.assert(&options, &handle);

    // Act
    let finished = finish_sign_in(&browser, &assertion).await;

    // Assert
    assert_refused(&finished, "expired or was already used", "a finish without a start");
    assert!(!browser.is_signed_in().await);
}

#[tokio::test]
async fn a_ceremony_belongs_to_the_session_that_started_it() {
    // Arrange: browser A starts a sign-in and gets the assertion; B has no ceremony of its own,
    // C has one of its own.
    let app = TestApp::spawn(&[]).await;
    let (mut passkey, handle) = account_with_passkey(&app, "fay@example.com").await;
    let (a, b, c) = (app.browser(), app.browser(), app.browser());
    let options = authentication_options(&a).await;
    let assertion = passkey.assert(&options.body, &handle);
    authentication_options(&c).await;

    // Act
    let from_b = finish_sign_in(&b, &assertion).await;
    let from_c = finish_sign_in(&c, &assertion).await;
    let from_a = finish_sign_in(&a, &assertion).await;

    // Assert: only A's session could use A's ceremony.
    assert_refused(&from_b, "expired or was already used", "B, with no ceremony");
    assert_refused(&from_c, "could not be verified", "C, whose challenge differs");
    assert!(!b.is_signed_in().await && !c.is_signed_in().await);
    assert_eq!(from_a.redirect(), Some("/account"), "A's ceremony was untouched: {}", from_a.text);
    assert!(a.is_signed_in().await);
}

#[tokio::test]
async fn a_ceremony_expires_after_five_minutes() {
    // Arrange: a sign-in started, then left for 301 seconds.
    let app = TestApp::spawn(&[]).await;
    let (mut passkey, handle) = account_with_passkey(&app, "gus@example.com").await;
    let browser = app.browser();
    let options = authentication_options(&browser).await;
    let assertion = passkey.assert(&options.body, &handle);
    app.clock.advance(Duration::from_secs(301));

    // Act
    let finished = finish_sign_in(&browser, &assertion).await;

    // Assert
    assert_refused(&finished, "expired", "a finish after 301 s");
    assert!(!browser.is_signed_in().await);
}

#[tokio::test]
async fn a_cloned_authenticator_whose_counter_went_backwards_is_refused() {
    // Arrange: an account with a passkey on a SoftToken, whose state can be copied; a copy is
    // taken before any sign-in, then the original signs in twice (stored counter 2).
    let app = TestApp::spawn(&[]).await;
    let browser = app.signed_up("hal@example.com", "Hal").await;
    let handle = account_handle(&app, "hal@example.com").await;
    let mut original = Passkey::token();
    original.enrol(&app, &browser, "Token").await;
    let mut clone = original.copy();
    for _ in 0..2 {
        let signed_in = original.sign_in(&app.browser(), &handle).await;
        assert_eq!(signed_in.redirect(), Some("/account"), "{}", signed_in.text);
    }
    let counter = passkey_row(&app, original.credential_id()).await.expect("row").counter();
    assert_eq!(counter, 2);

    // Act: the copy signs with counter 1.
    let fresh = app.browser();
    let refused = clone.sign_in(&fresh, &handle).await;

    // Assert
    assert_refused(&refused, "could not be verified", "a counter lower than the stored one");
    assert!(!fresh.is_signed_in().await);
    assert_eq!(passkey_row(&app, original.credential_id()).await.expect("row").counter(), 2, "counter kept");
    // The same key with a counter ahead (the original, now at 3) is still accepted.
    assert_eq!(original.sign_in(&app.browser(), &handle).await.redirect(), Some("/account"));
}

#[tokio::test]
async fn a_passkey_signs_in_only_the_account_it_was_registered_to() {
    // Arrange: two accounts; Ivy's passkey presents Jon's user handle.
    let app = TestApp::spawn(&[]).await;
    let (mut ivy_passkey, _) = account_with_passkey(&app, "ivy@example.com").await;
    app.signed_up("jon@example.com", "Jon").await;
    let jon = account_handle(&app, "jon@example.com").await;
    let browser = app.browser();

    // Act
    let refused = ivy_passkey.sign_in(&browser, &jon).await;

    // Assert
    assert_refused(&refused, "not registered", "a credential under another user handle");
    assert!(!browser.is_signed_in().await);
}

#[tokio::test]
async fn a_sign_in_with_a_removed_passkey_answers_its_id_so_the_browser_can_stop_offering_it() {
    // Arrange: a passkey removed from its account.
    let app = TestApp::spawn(&[]).await;
    let owner = app.signed_up("lou@example.com", "Lou").await;
    let handle = account_handle(&app, "lou@example.com").await;
    let mut passkey = Passkey::soft();
    let id = passkey.enrol(&app, &owner, "Phone").await;
    owner.post(&format!("/account/passkeys/{id}/remove"), &[]).await;
    let browser = app.browser();

    // Act
    let refused = passkey.sign_in(&browser, &handle).await;

    // Assert: the usual refusal, with the code and id the page hands to signalUnknownCredential.
    assert_refused(&refused, "not registered", "a removed passkey");
    assert_eq!(refused.body["code"], "unknown-credential", "{}", refused.text);
    assert_eq!(refused.body["credentialId"], URL_SAFE_NO_PAD.encode(passkey.credential_id()), "{}", refused.text);
    assert!(!browser.is_signed_in().await);
}

#[tokio::test]
async fn the_unknown_passkey_answer_is_the_same_whether_or_not_its_user_handle_names_an_account() {
    // Arrange: Ivy's passkey, presented with Jon's user handle and with one no account has.
    let app = TestApp::spawn(&[]).await;
    let (mut ivy_passkey, _) = account_with_passkey(&app, "ivy@example.com").await;
    app.signed_up("jon@example.com", "Jon").await;
    let jon = account_handle(&app, "jon@example.com").await;
    let nobody = rand::random::<[u8; 16]>().to_vec();

    // Act
    let under_an_account = ivy_passkey.sign_in(&app.browser(), &jon).await;
    let under_no_account = ivy_passkey.sign_in(&app.browser(), &nobody).await;

    // Assert: nothing tells one from the other but the id the browser sent itself.
    assert_eq!(under_an_account.status, under_no_account.status);
    assert_eq!(under_an_account.body, under_no_account.body);
    assert_eq!(under_an_account.body["credentialId"], URL_SAFE_NO_PAD.encode(ivy_passkey.credential_id()));
}

#[tokio::test]
async fn a_passkey_sign_in_renews_the_session_key() {
    // Arrange: a browser whose session cookie the test can read, with a sign-in started.
    let app = TestApp::spawn(&[]).await;
    let (mut passkey, handle) = account_with_passkey(&app, "kit@example.com").await;
    let browser = app.browser();
    let options = authentication_options(&browser).await;
    let before = browser.session_cookie();

    // Act
    let assertion = passkey.assert(&options.body, &handle);
    let finished = finish_sign_in(&browser, &assertion).await;

    // Assert: signed in under a new key; the old one opens nothing.
    assert_eq!(finished.redirect(), Some("/account"), "{}", finished.text);
    assert_ne!(browser.session_cookie(), before, "a key planted before sign-in is worth nothing");
    assert!(browser.is_signed_in().await);
    let planted = app.browser();
    planted.plant_session_cookie(&before);
    assert!(!planted.is_signed_in().await, "the pre-sign-in key is not signed in");
}

#[tokio::test]
async fn passkey_requests_without_the_sessions_csrf_token_are_refused() {
    // Arrange: the passkey owner's signed-in browser, and another session's token.
    let app = TestApp::spawn(&[]).await;
    let (mut passkey, handle) = account_with_passkey(&app, "lia@example.com").await;
    let browser = app.signed_in_by_email("lia@example.com").await;
    let foreign = page_token(&app.browser()).await;
    let options = authentication_options(&browser).await;
    let assertion = passkey.assert(&options.body, &handle);

    // Act
    let register_without = post_json_with(&browser, "", "/passkeys/register/start", &json!({})).await;
    let register_foreign = post_json_with(&browser, &foreign, "/passkeys/register/start", &json!({})).await;
    let login_without = post_json_with(&browser, "", "/passkeys/login/start", &json!({})).await;
    let finish_foreign =
        post_json_with(&browser, &foreign, "/passkeys/login/finish", &json!({ "credential": assertion })).await;

    // Assert: all refused before anything happened; the started ceremony is still there.
    for (what, reply) in [
        ("register/start without a token", &register_without),
        ("register/start with another session's token", &register_foreign),
        ("login/start without a token", &login_without),
        ("login/finish with another session's token", &finish_foreign),
    ] {
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{what}: {}", reply.text);
    }
    assert_eq!(ceremony_count(&app).await, 1, "only the sign-in started with the right token");
    let finished = finish_sign_in(&browser, &assertion).await;
    assert_eq!(finished.redirect(), Some("/account"), "the refused finish did not use it up: {}", finished.text);
}
