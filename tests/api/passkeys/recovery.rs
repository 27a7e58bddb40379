//! Recovering an account that lost its passkey: an emailed code, a recovery session, a new passkey.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::StatusCode;
use serde_json::json;

use crate::support::START_TIME;
use crate::support::app::TestApp;
use crate::support::pages::assert_page;
use crate::support::passkey::{
    Choices, Passkey, account_handle, account_with_passkey, assert_refused, finish_registration, page_token,
    passkey_row, post_json, post_json_with, recover, registration_options,
};
use crate::support::security::assert_same_answer;

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
    let other_session = app.signed_in_by_email(email).await;
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
    let notice = app.mail_after(email, mails_before).await;
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
    let other_session = app.signed_in_by_email(email).await;
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

    // Assert: the refusal says the time ran out and links to a new code, not "sign in first".
    assert_eq!(register_start.status, StatusCode::FORBIDDEN, "{}", register_start.text);
    assert_refused(&register_start, "Your recovery time ran out", "an enrolment after the recovery expired");
    assert_eq!(register_start.body["link"], json!({ "href": "/recover", "text": "Get a new code" }));
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
    // Read now, as the script reads it from the page it runs on: loading a page later would
    // already end the expired recovery.
    let token = page_token(&rescuer).await;
    app.clock.advance(Duration::from_secs(61));

    // Act
    let finish = json!({ "credential": credential, "name": "Late" });
    let finished = post_json_with(&rescuer, &token, "/passkeys/register/finish", &finish).await;

    // Assert
    assert_eq!(finished.status, StatusCode::FORBIDDEN, "{}", finished.text);
    assert_refused(&finished, "Your recovery time ran out", "a finish after the recovery expired");
    assert_eq!(finished.body["link"]["href"], "/recover", "{}", finished.text);
    assert!(passkey_row(&app, passkey.credential_id()).await.is_none());
    assert!(!rescuer.is_signed_in().await);
}

#[tokio::test]
async fn recovering_on_a_device_that_has_a_passkey_can_sign_in_with_it_instead() {
    // Arrange: Vic's passkey is on this device, yet Vic recovers the account here.
    let app = TestApp::spawn(&[]).await;
    let email = "vic@example.com";
    let (mut passkey, handle) = account_with_passkey(&app, email).await;
    let rescuer = app.browser();
    assert!(recover(&app, &rescuer, email).await.redirects_to("/recover/passkey"));

    // Act 1: the recovery page, and the enrolment its button starts.
    let page = rescuer.get("/recover/passkey").await;
    let options = registration_options(&rescuer).await;

    // Assert 1: the device's passkey is excluded, so the browser refuses to create another
    // (InvalidStateError), and the page holds the way out its script then shows.
    let excluded = options.body["publicKey"]["excludeCredentials"][0]["id"].as_str();
    assert_eq!(excluded, Some(URL_SAFE_NO_PAD.encode(passkey.credential_id()).as_str()), "{}", options.text);
    assert!(
        page.body.contains(r#"<form method="post" action="/recover/sign-in" hidden data-passkey-sign-in-instead>"#),
        "{}",
        page.body
    );
    assert!(page.body.contains("Sign in with it"), "{}", page.body);

    // Act 2: "Sign in with it", then the login page's passkey sign-in.
    let token = page_token(&rescuer).await;
    let left = rescuer.post_raw("/recover/sign-in", &[("csrf", token.as_str())]).await;
    let login = rescuer.get("/login").await;
    let signed_in = passkey.sign_in(&rescuer, &handle).await;

    // Assert 2: the recovery ended for the login page, which says why, and the passkey signs in.
    assert!(left.redirects_to("/login"), "{} {:?}", left.status, left.location);
    assert_page(
        &login,
        StatusCode::OK,
        "This device already has a passkey for your account: sign in with it.",
        "login",
    );
    assert_eq!(signed_in.redirect(), Some("/account"), "{}", signed_in.text);
    assert!(rescuer.is_signed_in().await);
    assert!(passkey_row(&app, passkey.credential_id()).await.is_some(), "the passkey is kept");
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

    // Assert: the same answer and the same code page, but for the CSRF token and the address
    // each typed…
    assert_same_answer(
        (&known, &known_reply, "sam@example.com"),
        (&unknown, &unknown_reply, "sue@example.com"),
        "s***@example.com",
    )
    .await;
    // …while the mail tells each address the truth.
    assert!(app.mail_to("sam@example.com").await.subject.contains("Recover"));
    assert_eq!(app.mail_to("sue@example.com").await.subject, "There is no account for this email");
}
