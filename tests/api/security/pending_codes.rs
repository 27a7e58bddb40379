//! Nobody can spoil someone else's code: starting a flow for an address leaves the codes other
//! sessions are about to type alone, and a mail server that fails keeps the code already sent.

use std::time::Duration;

use crate::support::app::TestApp;
use crate::support::security::{app_mailing_to, started_signup_through};
use crate::support::smtp_server::SmtpServer;

#[tokio::test]
async fn pending_code_of_a_victim_survives_others_starting_its_flows() {
    // Arrange: the victim is about to type a login code.
    let app = TestApp::spawn(&[]).await;
    app.signed_up("vic@example.com", "Vic").await;
    let victim = app.browser();
    let seen = app.mail_count("vic@example.com");
    assert!(victim.login("vic@example.com").await.redirects_to("/verify"));
    let code = app.code_after("vic@example.com", seen).await;

    // Act: others ask for a login and a recovery code for the same address.
    assert!(app.browser().login("vic@example.com").await.redirects_to("/verify"));
    assert!(app.browser().post("/recover", &[("email", "vic@example.com")]).await.redirects_to("/verify"));

    // Assert
    assert!(victim.submit_code(&code).await.redirects_to("/account"), "the victim's code still works");
}

#[tokio::test]
async fn pending_code_of_a_sign_up_survives_someone_signing_up_with_the_address() {
    let app = TestApp::spawn(&[]).await;
    let (victim, code) = app.started_signup("new@example.com").await;

    assert!(app.browser().signup("new@example.com", "Mallory").await.redirects_to("/verify"));

    assert!(victim.submit_code(&code).await.redirects_to("/account"), "the first sign-up's code still works");
}

#[tokio::test]
async fn pending_code_resend_replaces_only_the_sessions_own_code() {
    // Arrange: two sessions wait for login codes to the same account.
    let app = TestApp::spawn(&[]).await;
    app.signed_up("two@example.com", "Two").await;
    let (first, second) = (app.browser(), app.browser());
    let seen = app.mail_count("two@example.com");
    assert!(first.login("two@example.com").await.redirects_to("/verify"));
    let first_code = app.code_after("two@example.com", seen).await;
    assert!(second.login("two@example.com").await.redirects_to("/verify"));
    let second_code = app.code_after("two@example.com", seen + 1).await;
    app.clock.advance(Duration::from_secs(31));

    // Act: the first asks for a new code.
    assert!(first.resend().await.redirects_to("/verify"));
    let resent = app.code_after("two@example.com", seen + 2).await;

    // Assert: the second session's code still works; the first's old one does not.
    assert!(second.submit_code(&second_code).await.redirects_to("/account"), "the other session's code");
    if first_code != resent {
        assert!(!first.submit_code(&first_code).await.redirects_to("/account"), "the replaced code");
    }
    assert!(first.submit_code(&resent).await.redirects_to("/account"), "the new code");
}

#[tokio::test]
async fn smtp_failure_on_resend_keeps_the_code_already_sent() {
    // Arrange: a login code arrived, then the mail server went down.
    let smtp = SmtpServer::start().await;
    let app = app_mailing_to(&smtp.url()).await;
    let (browser, code) = started_signup_through(&app, &smtp, "kept@example.com").await;
    smtp.stop().await;
    app.clock.advance(Duration::from_secs(31));

    // Act
    let resend = browser.resend().await;

    // Assert: the page says the new code could not be sent, and the first one still works.
    assert_eq!(resend.status, reqwest::StatusCode::SERVICE_UNAVAILABLE, "{}", resend.body);
    assert!(resend.body.contains("could not send a new code"), "{}", resend.body);
    assert!(resend.body.contains("The code we sent before still works"), "{}", resend.body);
    assert!(browser.submit_code(&code).await.redirects_to("/account"), "the code already sent still works");
}
