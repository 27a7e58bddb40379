//! CSRF: every form refuses a missing, altered or made-up token, and another session's token.

use reqwest::StatusCode;

use crate::support::app::TestApp;
use crate::support::security::{
    assert_forbidden, assert_refused_without_token, challenges, count, post_with_token, users,
};

#[tokio::test]
async fn signup_without_a_valid_csrf_token_is_refused() {
    let app = TestApp::spawn(&[]).await;
    let browser = app.browser();
    assert_eq!(browser.get("/signup").await.status, StatusCode::OK);

    assert_refused_without_token(&browser, "/signup", &[("email", "victim@example.com"), ("name", "Victim")]).await;

    assert!(app.smtp.received().is_empty());
    assert_eq!(users(&app.db).await, 0);
    assert_eq!(challenges(&app.db).await, 0);
    assert!(browser.get("/verify").await.redirects_to("/"), "nothing is pending");
}

#[tokio::test]
async fn login_without_a_valid_csrf_token_is_refused() {
    let app = TestApp::spawn(&[]).await;
    app.signed_up("victim@example.com", "Victim").await;
    let sent_before = app.smtp.received().len();
    let challenges_before = challenges(&app.db).await;
    let browser = app.browser();

    assert_refused_without_token(&browser, "/login", &[("email", "victim@example.com")]).await;

    assert_eq!(app.smtp.received().len(), sent_before, "no code was sent");
    assert_eq!(challenges(&app.db).await, challenges_before);
    assert!(browser.get("/verify").await.redirects_to("/"), "nothing is pending");
}

#[tokio::test]
async fn code_submission_without_a_valid_csrf_token_is_refused() {
    let app = TestApp::spawn(&[]).await;
    let browser = app.browser();
    assert!(browser.signup("jane@example.com", "Jane").await.redirects_to("/verify"));
    let code = app.code_for("jane@example.com").await;

    assert_refused_without_token(&browser, "/verify", &[("code", &code)]).await;

    assert_eq!(users(&app.db).await, 0, "no account was created");
    assert!(!browser.is_signed_in().await);
    // The refusals cost nothing: the right code with the right token still works.
    assert!(browser.submit_code(&code).await.redirects_to("/account"));
}

#[tokio::test]
async fn resend_without_a_valid_csrf_token_is_refused() {
    let app = TestApp::spawn(&[]).await;
    let browser = app.browser();
    assert!(browser.signup("jane@example.com", "Jane").await.redirects_to("/verify"));
    let code = app.code_for("jane@example.com").await;
    // Past the cooldown, so only the token stands in the way.
    app.clock.advance(std::time::Duration::from_secs(31));

    assert_refused_without_token(&browser, "/verify/resend", &[]).await;

    assert_eq!(app.mail_count("jane@example.com"), 1, "no new code was sent");
    assert_eq!(challenges(&app.db).await, 1);
    assert!(browser.submit_code(&code).await.redirects_to("/account"), "the first code still works");
}

#[tokio::test]
async fn cancel_without_a_valid_csrf_token_is_refused() {
    let app = TestApp::spawn(&[]).await;
    let browser = app.browser();
    assert!(browser.signup("jane@example.com", "Jane").await.redirects_to("/verify"));
    let code = app.code_for("jane@example.com").await;

    assert_refused_without_token(&browser, "/verify/cancel", &[]).await;

    assert_eq!(browser.get("/verify").await.status, StatusCode::OK, "the code is still pending");
    assert_eq!(challenges(&app.db).await, 1, "the challenge was not deleted");
    assert!(browser.submit_code(&code).await.redirects_to("/account"));
}

#[tokio::test]
async fn email_change_without_a_valid_csrf_token_is_refused() {
    let app = TestApp::spawn(&[]).await;
    let browser = app.signed_up("jane@example.com", "Jane").await;
    let challenges_before = challenges(&app.db).await;

    assert_refused_without_token(&browser, "/account/email", &[("email", "attacker@example.com")]).await;

    assert_eq!(app.mail_count("attacker@example.com"), 0);
    assert_eq!(challenges(&app.db).await, challenges_before);
    assert!(browser.get("/verify").await.redirects_to("/"), "nothing is pending");
    assert!(browser.get("/account").await.body.contains("jane@example.com"));
}

#[tokio::test]
async fn logout_without_a_valid_csrf_token_is_refused() {
    let app = TestApp::spawn(&[]).await;
    let browser = app.signed_up("jane@example.com", "Jane").await;

    assert_refused_without_token(&browser, "/logout", &[]).await;

    assert!(browser.is_signed_in().await, "still signed in");
    assert_eq!(count(&app.db, "SELECT COUNT(*) FROM sessions WHERE user_id IS NOT NULL").await, 1);
}

#[tokio::test]
async fn a_token_from_another_session_is_refused() {
    let app = TestApp::spawn(&[]).await;
    let victim = app.signed_up("victim@example.com", "Victim").await;
    let attacker = app.browser();
    let attackers_token = attacker.csrf().await;
    let victims_token = victim.csrf().await;
    assert_ne!(attackers_token, victims_token, "each session has its own token");
    let sent_before = app.smtp.received().len();

    let forms: [(&str, &[(&str, &str)]); 4] = [
        ("/account/email", &[("email", "attacker@example.com")]),
        ("/logout", &[]),
        ("/login", &[("email", "victim@example.com")]),
        ("/signup", &[("email", "new@example.com"), ("name", "New")]),
    ];
    for (path, fields) in forms {
        let page = post_with_token(&victim, path, Some(&attackers_token), fields).await;
        assert_forbidden(&page, &format!("POST {path} with another session's token"));
    }

    assert!(victim.is_signed_in().await);
    assert_eq!(app.smtp.received().len(), sent_before, "nothing was sent");
    assert!(victim.get("/verify").await.redirects_to("/"), "nothing is pending");
}

#[tokio::test]
async fn csrf_token_fixation_ends_at_sign_in() {
    // Arrange: a token known before sign-in (learnt, or planted with its cookie).
    let app = TestApp::spawn(&[]).await;
    let browser = app.browser();
    let before = browser.csrf().await;
    assert!(browser.signup("fixed@example.com", "Fixed").await.redirects_to("/verify"));
    let code = app.code_for("fixed@example.com").await;

    // Act
    assert!(browser.submit_code(&code).await.redirects_to("/account"));

    // Assert: the signed-in session has a new token, and the old one no longer passes.
    let after = browser.csrf().await;
    assert_ne!(before, after, "the token survived sign-in");
    let page = post_with_token(&browser, "/account/email", Some(&before), &[("email", "other@example.com")]).await;
    assert_forbidden(&page, "the token from before sign-in");
    assert!(browser.change_email("other@example.com").await.redirects_to("/verify"), "the new token works");
}
