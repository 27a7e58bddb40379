//! Passkeys over real HTTP with a software authenticator: enrolment, sign-in, management,
//! the recent-authentication gate, and account recovery.
//!
//! The authenticator is webauthn-authenticator-rs' `SoftPasskey` (or `SoftToken`, whose state
//! can be copied, for the cloned-authenticator test). It cannot keep resident keys, so the tests
//! play the browser's part: they lower the resident-key requirement before creating a
//! credential, tell the authenticator which credential to use for a discoverable sign-in, and
//! fill in the user handle a resident key would have returned (the account's UUID).

use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
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

use crate::support::app::{Browser, MAIL_WAIT, Page, TestApp, find_code};
use crate::support::smtp_server::ReceivedEmail;

/// The app's `APP_BASE_URL` in tests (the default): what the browser reports as the origin.
const ORIGIN: &str = "http://localhost:8080";

/// `START_MS` as the app writes times.
const START_TIME: &str = "1 Jan 2026, 00:00 UTC";

// ---------------------------------------------------------------------------------------------
// Enrolment
// ---------------------------------------------------------------------------------------------

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
    assert!(after.body.contains(&format!(r#"added <span class="when">{START_TIME}</span>"#)), "{}", after.body);
    assert!(after.body.contains(r#"last used <span class="when">never</span>"#), "{}", after.body);
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

// ---------------------------------------------------------------------------------------------
// Sign-in
// ---------------------------------------------------------------------------------------------

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
    assert!(page.body.contains(r#"last used <span class="when">1 Jan 2026, 00:05 UTC</span>"#), "{}", page.body);
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
    let browser = signed_in_by_email(&app, "lia@example.com").await;
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

// ---------------------------------------------------------------------------------------------
// Managing passkeys and the recent-authentication gate
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_passkey_named_with_nothing_gets_a_dated_name() {
    // Arrange
    let app = TestApp::spawn(&[]).await;
    let browser = app.signed_up("mae@example.com", "Mae").await;
    let mut passkey = Passkey::soft();

    // Act
    passkey.enrol(&app, &browser, "   ").await;

    // Assert
    let row = passkey_row(&app, passkey.credential_id()).await.expect("row");
    assert_eq!(row.name, format!("Passkey added {START_TIME}"));
}

#[tokio::test]
async fn renaming_a_passkey_shows_the_new_name() {
    // Arrange
    let app = TestApp::spawn(&[]).await;
    let browser = app.signed_up("kim@example.com", "Kim").await;
    let id = Passkey::soft().enrol(&app, &browser, "Old name").await;

    // Act
    let renamed = browser.post(&format!("/account/passkeys/{id}/rename"), &[("name", "  Work laptop ")]).await;

    // Assert
    assert!(renamed.redirects_to("/account"), "{} {:?}", renamed.status, renamed.location);
    let page = browser.get("/account").await;
    assert!(page.body.contains("Passkey renamed."), "{}", page.body);
    assert!(page.body.contains("Work laptop") && !page.body.contains("Old name"), "{}", page.body);
}

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
async fn another_accounts_passkey_can_be_neither_renamed_nor_removed() {
    // Arrange: Max's passkey; Nia signed in.
    let app = TestApp::spawn(&[]).await;
    let max = app.signed_up("max@example.com", "Max").await;
    let mut passkey = Passkey::soft();
    let id = passkey.enrol(&app, &max, "Max's key").await;
    let nia = app.signed_up("nia@example.com", "Nia").await;

    // Act
    let renamed = nia.post(&format!("/account/passkeys/{id}/rename"), &[("name", "Mine now")]).await;
    let removed = nia.post(&format!("/account/passkeys/{id}/remove"), &[]).await;

    // Assert
    assert_eq!(renamed.status, StatusCode::NOT_FOUND);
    assert_eq!(removed.status, StatusCode::NOT_FOUND);
    let row = passkey_row(&app, passkey.credential_id()).await.expect("still there");
    assert_eq!(row.name, "Max's key");
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

// ---------------------------------------------------------------------------------------------
// Recovery
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn recovery_enrols_a_new_passkey_removes_the_old_ones_and_signs_out_elsewhere() {
    // Arrange: Pia has passkey A and another signed-in session (by email code); she signs out
    // here and loses A.
    let app = TestApp::spawn(&[]).await;
    let email = "pia@example.com";
    let owner = app.signed_up(email, "Pia").await;
    let handle = account_handle(&app, email).await;
    let mut lost = Passkey::soft();
    lost.enrol(&app, &owner, "Lost phone").await;
    let other_session = signed_in_by_email(&app, email).await;
    owner.logout().await;

    // Act 1: recover with an email code.
    let rescuer = app.browser();
    assert_eq!(rescuer.get("/recover").await.status, StatusCode::OK);
    let verified = recover(&app, &rescuer, email).await;

    // Assert 1: the recovery page.
    assert!(verified.redirects_to("/recover/passkey"), "{} {:?}", verified.status, verified.location);
    let page = rescuer.get("/recover/passkey").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Lost phone"), "the existing passkeys are listed: {}", page.body);
    assert!(page.body.contains(r#"name="removeOthers" checked"#), "{}", page.body);
    assert!(page.body.contains(r#"name="signOutOthers" checked"#), "{}", page.body);

    // Act 2: enrol B, keeping the recommended choices.
    let mails_before = app.mail_count(email);
    let mut new = Passkey::soft();
    let options = registration_options(&rescuer).await;
    let credential = new.create(&options.body);
    let choices = Choices { remove_others: true, sign_out_others: true };
    let finished = finish_registration(&rescuer, &credential, "New phone", choices).await;

    // Assert 2: signed in with B only, the mailbox told, the other session ended.
    assert_eq!(finished.redirect(), Some("/account"), "{}", finished.text);
    assert!(rescuer.is_signed_in().await);
    assert!(passkey_row(&app, lost.credential_id()).await.is_none(), "A is removed");
    assert_refused(&lost.sign_in(&app.browser(), &handle).await, "not registered", "the lost passkey");
    let with_new = app.browser();
    assert_eq!(new.sign_in(&with_new, &handle).await.redirect(), Some("/account"));
    assert!(with_new.is_signed_in().await);
    let notice = mail_after(&app, email, mails_before).await;
    assert_eq!(notice.subject, "A passkey was added to your account");
    assert!(notice.text.contains(START_TIME), "the notice says when: {}", notice.text);
    assert!(other_session.get("/account").await.redirects_to("/login"), "the other session is signed out");
}

#[tokio::test]
async fn recovery_without_removal_keeps_the_old_passkey_and_the_other_sessions() {
    // Arrange: Quin has passkey A and another signed-in session.
    let app = TestApp::spawn(&[]).await;
    let email = "quin@example.com";
    let owner = app.signed_up(email, "Quin").await;
    let handle = account_handle(&app, email).await;
    let mut old = Passkey::soft();
    old.enrol(&app, &owner, "Old laptop").await;
    let other_session = signed_in_by_email(&app, email).await;
    let rescuer = app.browser();
    assert!(recover(&app, &rescuer, email).await.redirects_to("/recover/passkey"));

    // Act: enrol B, unticking both boxes.
    let mut new = Passkey::soft();
    let options = registration_options(&rescuer).await;
    let credential = new.create(&options.body);
    let finished = finish_registration(&rescuer, &credential, "New laptop", Choices::default()).await;

    // Assert
    assert_eq!(finished.redirect(), Some("/account"), "{}", finished.text);
    assert!(rescuer.is_signed_in().await);
    assert!(other_session.is_signed_in().await, "the other session is kept");
    assert!(owner.is_signed_in().await, "the first session is kept");
    assert_eq!(old.sign_in(&app.browser(), &handle).await.redirect(), Some("/account"), "A still signs in");
    let page = rescuer.get("/account").await;
    assert!(page.body.contains("Old laptop") && page.body.contains("New laptop"), "{}", page.body);
}

#[tokio::test]
async fn signing_out_everywhere_else_also_ends_other_recovery_sessions() {
    // Arrange: someone who could read Uma's mail opened a recovery session; Uma then recovers
    // her account, choosing to remove the other passkeys and sign out everywhere else.
    let app = TestApp::spawn(&[]).await;
    let email = "uma@example.com";
    app.signed_up(email, "Uma").await.logout().await;
    let intruder = app.browser();
    assert!(recover(&app, &intruder, email).await.redirects_to("/recover/passkey"));
    let owner = app.browser();
    assert!(recover(&app, &owner, email).await.redirects_to("/recover/passkey"));
    let options = registration_options(&owner).await;
    let credential = Passkey::soft().create(&options.body);
    let choices = Choices { remove_others: true, sign_out_others: true };
    assert_eq!(finish_registration(&owner, &credential, "Uma's phone", choices).await.redirect(), Some("/account"));

    // Act: the intruder's recovery session tries to enrol a passkey of its own.
    let started = post_json(&intruder, "/passkeys/register/start", &json!({})).await;
    let page = intruder.get("/recover/passkey").await;

    // Assert: that session ended with the others; it could otherwise remove Uma's new passkey
    // and sign her out.
    assert_eq!(started.status, StatusCode::FORBIDDEN, "the other recovery session still enrols: {}", started.text);
    assert!(page.redirects_to("/recover"), "the other recovery session is still open: {}", page.status);
}

#[tokio::test]
async fn a_recovery_session_can_only_enrol_a_passkey() {
    // Arrange: a recovery session.
    let app = TestApp::spawn(&[]).await;
    let email = "rex@example.com";
    app.signed_up(email, "Rex").await.logout().await;
    let rescuer = app.browser();
    assert!(recover(&app, &rescuer, email).await.redirects_to("/recover/passkey"));
    let token = page_token(&rescuer).await;

    // Act
    let mut sent_back = Vec::new();
    for path in ["/", "/account", "/account/email", "/login", "/signup", "/verify", "/reauth", "/dev/mailbox"] {
        sent_back.push((format!("GET {path}"), rescuer.get(path).await));
    }
    let login_start = post_json_with(&rescuer, &token, "/passkeys/login/start", &json!({})).await;
    let recovery_page = rescuer.get("/recover/passkey").await;
    let register_start = post_json_with(&rescuer, &token, "/passkeys/register/start", &json!({})).await;

    // Assert: everything else leads back to the recovery page…
    for (request, page) in &sent_back {
        assert!(page.redirects_to("/recover/passkey"), "{request}: {} {:?}", page.status, page.location);
    }
    assert_eq!(login_start.status, StatusCode::SEE_OTHER, "{}", login_start.text);
    assert_eq!(login_start.location.as_deref(), Some("/recover/passkey"));
    // …which is not a signed-in page, and enrolment works.
    assert_eq!(recovery_page.status, StatusCode::OK, "the recovery session survived: {}", recovery_page.body);
    assert!(recovery_page.body.contains("Recovering your account") && !recovery_page.body.contains(email));
    assert!(!recovery_page.body.contains(r#"href="/login""#), "no links the recovery session cannot follow");
    assert!(!recovery_page.body.contains(r#"href="/account""#), "no signed-in header");
    assert_eq!(register_start.status, StatusCode::OK, "{}", register_start.text);
    // The one way out: cancelling ends the recovery session.
    let cancelled = rescuer.post_raw("/logout", &[("csrf", token.as_str())]).await;
    assert!(cancelled.redirects_to("/"), "{} {:?}", cancelled.status, cancelled.location);
    assert!(rescuer.get("/recover/passkey").await.redirects_to("/recover"), "no recovery session left");
}

#[tokio::test]
async fn a_recovery_session_expires() {
    // Arrange: a one-minute recovery session, left for 61 seconds.
    let app = TestApp::spawn(&[("RECOVERY_SESSION_SECONDS", "60")]).await;
    let email = "sid@example.com";
    app.signed_up(email, "Sid").await.logout().await;
    let rescuer = app.browser();
    assert!(recover(&app, &rescuer, email).await.redirects_to("/recover/passkey"));
    let token = page_token(&rescuer).await;
    app.clock.advance(Duration::from_secs(61));

    // Act
    let register_start = post_json_with(&rescuer, &token, "/passkeys/register/start", &json!({})).await;
    let page = rescuer.get("/recover/passkey").await;

    // Assert
    assert_eq!(register_start.status, StatusCode::FORBIDDEN, "{}", register_start.text);
    assert!(page.redirects_to("/recover"), "{} {:?}", page.status, page.location);
    let restart = rescuer.get("/recover").await;
    assert!(restart.body.contains("Your recovery session has expired"), "{}", restart.body);
    assert!(!rescuer.is_signed_in().await);
}

#[tokio::test]
async fn a_registration_started_in_recovery_cannot_finish_after_it_expired() {
    // Arrange: a one-minute recovery session; the registration starts in time, ends too late.
    let app = TestApp::spawn(&[("RECOVERY_SESSION_SECONDS", "60")]).await;
    let email = "tia@example.com";
    app.signed_up(email, "Tia").await.logout().await;
    let rescuer = app.browser();
    assert!(recover(&app, &rescuer, email).await.redirects_to("/recover/passkey"));
    let mut passkey = Passkey::soft();
    let options = registration_options(&rescuer).await;
    let credential = passkey.create(&options.body);
    app.clock.advance(Duration::from_secs(61));

    // Act
    let finished = finish_registration(&rescuer, &credential, "Late", Choices::default()).await;

    // Assert
    assert_eq!(finished.status, StatusCode::FORBIDDEN, "{}", finished.text);
    assert!(passkey_row(&app, passkey.credential_id()).await.is_none());
    assert!(!rescuer.is_signed_in().await);
}

#[tokio::test]
async fn recovery_does_not_reveal_whether_an_account_exists() {
    // Arrange: Sam has an account, Sue does not; both addresses mask to `s***@example.com`.
    let app = TestApp::spawn(&[]).await;
    app.signed_up("sam@example.com", "Sam").await.logout().await;
    let (known, unknown) = (app.browser(), app.browser());

    // Act
    let known_reply = known.post("/recover", &[("email", "sam@example.com")]).await;
    let unknown_reply = unknown.post("/recover", &[("email", "sue@example.com")]).await;
    let known_page = known.get("/verify").await;
    let unknown_page = unknown.get("/verify").await;

    // Assert: the same answer and the same code page, but for the CSRF token…
    assert!(known_reply.redirects_to("/verify") && unknown_reply.redirects_to("/verify"));
    assert_eq!(known_page.status, unknown_page.status);
    assert_eq!(without_token(&known_reply), without_token(&unknown_reply));
    assert_eq!(without_token(&known_page), without_token(&unknown_page));
    // …while the mail tells each address the truth.
    assert!(app.mail_to("sam@example.com").await.subject.contains("Recover"));
    assert_eq!(app.mail_to("sue@example.com").await.subject, "There is no account for this email");
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// A software authenticator and the credential it created here.
struct Passkey<A = SoftPasskey> {
    authenticator: A,
    credential_id: Option<Vec<u8>>,
}

impl Passkey<SoftPasskey> {
    /// A `SoftPasskey` that claims user verification, as a platform authenticator would.
    fn soft() -> Self {
        Self { authenticator: SoftPasskey::new(true), credential_id: None }
    }
}

impl Passkey<SoftToken> {
    fn token() -> Self {
        let (token, _ca) = SoftToken::new(true).expect("a SoftToken");
        Self { authenticator: token, credential_id: None }
    }

    /// A copy of the authenticator as it is now: same keys, same counter.
    fn copy(&self) -> Self {
        let state = self.authenticator.to_cbor().expect("SoftToken state");
        Self {
            authenticator: SoftToken::from_cbor(&state).expect("SoftToken from its state"),
            credential_id: self.credential_id.clone(),
        }
    }
}

impl<A: AuthenticatorBackend> Passkey<A> {
    fn credential_id(&self) -> &[u8] {
        self.credential_id.as_deref().expect("the passkey was created")
    }

    /// `navigator.credentials.create` for the server's options. The soft authenticators keep no
    /// resident keys, so the requirement is lowered first.
    fn create(&mut self, options: &Value) -> Value {
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
    fn assert(&mut self, options: &Value, user_handle: &[u8]) -> Value {
        let mut options: RequestChallengeResponse =
            serde_json::from_value(options.clone()).expect("request options as webauthn-rs-proto reads them");
        options.public_key.allow_credentials =
            vec![AllowCredentials { type_: "public-key".into(), id: self.credential_id().to_vec(), transports: None }];
        let mut assertion = self.authenticator.do_authentication(origin(), options).expect("the authenticator signs");
        assertion.response.user_handle = Some(user_handle.to_vec());
        serde_json::to_value(assertion).expect("assertion JSON")
    }

    /// Enrols from a signed-in browser; returns the passkey's row id.
    async fn enrol(&mut self, app: &TestApp, browser: &Browser, name: &str) -> i64 {
        let options = registration_options(browser).await;
        let credential = self.create(&options.body);
        let finished = finish_registration(browser, &credential, name, Choices::default()).await;
        assert_eq!(finished.redirect(), Some("/account"), "enrolment failed: {}", finished.text);
        passkey_row(app, self.credential_id()).await.expect("the enrolled passkey's row").id
    }

    /// The whole sign-in: start, the authenticator, finish.
    async fn sign_in(&mut self, browser: &Browser, user_handle: &[u8]) -> Reply {
        let options = authentication_options(browser).await;
        let assertion = self.assert(&options.body, user_handle);
        finish_sign_in(browser, &assertion).await
    }
}

fn origin() -> Url {
    Url::parse(ORIGIN).expect("origin URL")
}

/// What a JSON endpoint answered.
struct Reply {
    status: StatusCode,
    location: Option<String>,
    text: String,
    body: Value,
}

impl Reply {
    fn redirect(&self) -> Option<&str> {
        self.body["redirect"].as_str()
    }

    fn error(&self) -> Option<&str> {
        self.body["error"].as_str()
    }
}

/// Asserts a 4xx with an `error` that contains `wording`.
#[track_caller]
fn assert_refused(reply: &Reply, wording: &str, what: &str) {
    assert!(reply.status.is_client_error(), "{what}: expected a refusal, got {}: {}", reply.status, reply.text);
    assert!(reply.redirect().is_none(), "{what}: {}", reply.text);
    let error = reply.error().unwrap_or_else(|| panic!("{what}: no error in {}", reply.text));
    assert!(error.contains(wording), "{what}: {error:?} lacks {wording:?}");
}

/// The remove/sign-out choices of a recovery enrolment.
#[derive(Default, Clone, Copy)]
struct Choices {
    remove_others: bool,
    sign_out_others: bool,
}

/// The session's CSRF token as the passkey script reads it: the `csrf-token` meta tag of the
/// page a browser lands on (following the app's redirects).
async fn page_token(browser: &Browser) -> String {
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
async fn post_json(browser: &Browser, path: &str, body: &Value) -> Reply {
    let token = page_token(browser).await;
    post_json_with(browser, &token, path, body).await
}

async fn post_json_with(browser: &Browser, token: &str, path: &str, body: &Value) -> Reply {
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

async fn registration_options(browser: &Browser) -> Reply {
    let reply = post_json(browser, "/passkeys/register/start", &json!({})).await;
    assert_eq!(reply.status, StatusCode::OK, "register/start: {}", reply.text);
    reply
}

async fn finish_registration(browser: &Browser, credential: &Value, name: &str, choices: Choices) -> Reply {
    let body = json!({
        "credential": credential,
        "name": name,
        "removeOthers": choices.remove_others,
        "signOutOthers": choices.sign_out_others,
    });
    post_json(browser, "/passkeys/register/finish", &body).await
}

async fn authentication_options(browser: &Browser) -> Reply {
    let reply = post_json(browser, "/passkeys/login/start", &json!({})).await;
    assert_eq!(reply.status, StatusCode::OK, "login/start: {}", reply.text);
    reply
}

async fn finish_sign_in(browser: &Browser, assertion: &Value) -> Reply {
    post_json(browser, "/passkeys/login/finish", &json!({ "credential": assertion })).await
}

/// The account's id: its WebAuthn user handle.
async fn account_uuid(app: &TestApp, email: &str) -> Uuid {
    let id: String = sqlx::query_scalar("SELECT id FROM users WHERE email_key = ?")
        .bind(email.to_lowercase())
        .fetch_one(app.db.reader())
        .await
        .expect("the account");
    Uuid::parse_str(&id).expect("a UUID")
}

/// The user handle a resident key for `email`'s account returns: the UUID's 16 bytes.
async fn account_handle(app: &TestApp, email: &str) -> Vec<u8> {
    account_uuid(app, email).await.as_bytes().to_vec()
}

/// A signed-up account with an enrolled passkey, signed out; and the account's user handle.
async fn account_with_passkey(app: &TestApp, email: &str) -> (Passkey, Vec<u8>) {
    let browser = app.signed_up(email, "Passkey Owner").await;
    let mut passkey = Passkey::soft();
    passkey.enrol(app, &browser, "My passkey").await;
    browser.logout().await;
    (passkey, account_handle(app, email).await)
}

/// A passkeys row as stored.
struct PasskeyRow {
    id: i64,
    user_id: String,
    name: String,
    last_used_at: Option<i64>,
    passkey: Value,
}

impl PasskeyRow {
    /// The signature counter inside webauthn-rs' serialised passkey.
    fn counter(&self) -> u64 {
        self.passkey["cred"]["counter"].as_u64().unwrap_or_else(|| panic!("no counter in {}", self.passkey))
    }
}

async fn passkey_row(app: &TestApp, credential_id: &[u8]) -> Option<PasskeyRow> {
    let row: Option<(i64, String, String, Option<i64>, String)> =
        sqlx::query_as("SELECT id, user_id, name, last_used_at, passkey FROM passkeys WHERE credential_id = ?")
            .bind(credential_id)
            .fetch_optional(app.db.reader())
            .await
            .expect("read passkeys");
    row.map(|(id, user_id, name, last_used_at, passkey)| PasskeyRow {
        id,
        user_id,
        name,
        last_used_at,
        passkey: serde_json::from_str(&passkey).expect("passkey JSON"),
    })
}

async fn ceremony_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM ceremonies").fetch_one(app.db.reader()).await.expect("count ceremonies")
}

/// The newest email to `to` once it has more than `seen`.
async fn mail_after(app: &TestApp, to: &str, seen: usize) -> ReceivedEmail {
    let deadline = Instant::now() + MAIL_WAIT;
    while app.mail_count(to) <= seen {
        assert!(Instant::now() < deadline, "{to} received no email after the first {seen}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    app.mail_to(to).await
}

async fn code_after(app: &TestApp, to: &str, seen: usize) -> String {
    let mail = mail_after(app, to, seen).await;
    find_code(&mail.text).unwrap_or_else(|| panic!("no code in the email to {to}: {}", mail.text))
}

/// A second session of `email`'s account, signed in with an email code.
async fn signed_in_by_email(app: &TestApp, email: &str) -> Browser {
    let browser = app.browser();
    let seen = app.mail_count(email);
    assert!(browser.login(email).await.redirects_to("/verify"));
    let code = code_after(app, email, seen).await;
    assert!(browser.submit_code(&code).await.redirects_to("/account"));
    browser
}

/// The reauth page's email option, through to the code; returns where the code leads.
async fn confirm_by_email(app: &TestApp, browser: &Browser, email: &str) -> Page {
    let seen = app.mail_count(email);
    let asked = browser.post("/reauth/email", &[]).await;
    assert!(asked.redirects_to("/verify"), "{} {:?}", asked.status, asked.location);
    let code = code_after(app, email, seen).await;
    browser.submit_code(&code).await
}

/// Asks for a recovery code for `email` and enters it; returns where the code leads.
async fn recover(app: &TestApp, browser: &Browser, email: &str) -> Page {
    let seen = app.mail_count(email);
    let asked = browser.post("/recover", &[("email", email)]).await;
    assert!(asked.redirects_to("/verify"), "{} {:?}", asked.status, asked.location);
    let mail = mail_after(app, email, seen).await;
    assert!(mail.subject.contains("Recover"), "a recovery email: {}", mail.subject);
    let code = find_code(&mail.text).unwrap_or_else(|| panic!("no code in {}", mail.text));
    browser.submit_code(&code).await
}

/// What a page says, with its session's CSRF token blanked out.
fn without_token(page: &Page) -> (StatusCode, Option<String>, String) {
    let body = match meta_token(&page.body) {
        Some(token) => page.body.replace(&token, "TOKEN"),
        None => page.body.clone(),
    };
    (page.status, page.location.clone(), body)
}
