//! The development mailbox: mail kept and listed when there is no SMTP, and never served otherwise.

use reqwest::StatusCode;

use crate::support::app::TestApp;
use crate::support::pages::{assert_page, assert_redirect};
use crate::support::smtp_server::SmtpServer;

#[tokio::test]
async fn the_dev_mailbox_lists_sent_mail_newest_first_without_smtp() {
    // Arrange: no SMTP_URL, so mail is kept for /dev/mailbox.
    let app = TestApp::spawn_with(SmtpServer::start().await, &[("APP_THROTTLE_PER_MINUTE", "10000")]).await;
    for email in ["first@example.com", "second@example.com"] {
        assert_redirect(&app.browser().signup(email, "Dev").await, "/verify", "sign-up");
    }

    // Act
    let mailbox = app.browser().get("/dev/mailbox").await;

    // Assert
    assert_page(&mailbox, StatusCode::OK, "Confirm your email address", "the development mailbox");
    let first = mailbox.body.find("data-recipient=\"first@example.com\"").expect("the first sign-up's email");
    let second = mailbox.body.find("data-recipient=\"second@example.com\"").expect("the second sign-up's email");
    assert!(second < first, "newest first");
    assert!(app.smtp.received().is_empty(), "nothing goes over SMTP");
}

#[tokio::test]
async fn the_dev_mailbox_is_not_served_with_smtp() {
    let app = TestApp::spawn(&[]).await;

    let page = app.browser().get("/dev/mailbox").await;

    assert_eq!(page.status, StatusCode::NOT_FOUND, "{}", page.body);
}

#[tokio::test]
async fn the_dev_mailbox_is_not_served_in_production() {
    let smtp = SmtpServer::start().await;
    let smtp_url = smtp.url();
    let session_key = "s".repeat(64);
    let app = TestApp::spawn_with(
        smtp,
        &[
            ("APP_ENV", "production"),
            ("PASSLOCK_API_KEY", "the-production-api-key-of-this-test"),
            ("SESSION_KEY", &session_key),
            ("SMTP_URL", &smtp_url),
            ("APP_THROTTLE_PER_MINUTE", "10000"),
        ],
    )
    .await;

    let page = app.browser().get("/dev/mailbox").await;

    assert_eq!(page.status, StatusCode::NOT_FOUND, "{}", page.body);
}
