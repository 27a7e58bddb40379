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
async fn the_dev_mailbox_filtered_by_address_shows_only_the_newest_email_to_it() {
    // Arrange: two emails to one address (in another case) and one to someone else.
    let app = TestApp::spawn_with(SmtpServer::start().await, &[("APP_THROTTLE_PER_MINUTE", "10000")]).await;
    for (email, name) in [("jane@example.com", "Old"), ("other@example.com", "Other"), ("JANE@example.com", "New")] {
        assert_redirect(&app.browser().signup(email, name).await, "/verify", "sign-up");
    }

    // Act
    let filtered = app.browser().get("/dev/mailbox?to=Jane@Example.com").await;
    let nobody = app.browser().get("/dev/mailbox?to=nobody@example.com").await;

    // Assert
    assert_page(&filtered, StatusCode::OK, "Confirm your email address", "the filtered mailbox");
    assert_eq!(filtered.body.matches("<article").count(), 1, "{}", filtered.body);
    assert!(filtered.body.contains("data-recipient=\"JANE@example.com\""), "{}", filtered.body);
    assert!(!filtered.body.contains("other@example.com"), "{}", filtered.body);
    assert_page(&nobody, StatusCode::OK, "Nothing has been sent to that address.", "an address without mail");
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

#[tokio::test]
async fn dev_mailbox_is_not_served_on_a_public_address() {
    let app = TestApp::spawn_with(SmtpServer::start().await, &[("APP_ADDR", "0.0.0.0:0")]).await;

    let page = app.browser().get("/dev/mailbox").await;
    let home = app.browser().get("/").await;

    assert_eq!(page.status, StatusCode::NOT_FOUND, "everyone's codes on the network: {}", page.body);
    assert!(!home.body.contains("/dev/mailbox"), "{}", home.body);
}

#[tokio::test]
async fn dev_mailbox_on_a_public_address_only_when_asked_for_by_name() {
    let app = TestApp::spawn_with(
        SmtpServer::start().await,
        &[("APP_ADDR", "0.0.0.0:0"), ("DEV_MAILBOX_ON_PUBLIC_ADDR", "true")],
    )
    .await;

    let page = app.browser().get("/dev/mailbox").await;

    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
}

#[tokio::test]
async fn dev_mailbox_forgets_mail_after_a_day() {
    let app = TestApp::spawn_with(SmtpServer::start().await, &[("APP_THROTTLE_PER_MINUTE", "10000")]).await;
    assert_redirect(&app.browser().signup("old@example.com", "Old").await, "/verify", "sign-up");
    app.clock.advance(std::time::Duration::from_secs(24 * 3600 + 1));
    assert_redirect(&app.browser().signup("new@example.com", "New").await, "/verify", "sign-up");
    let mailbox = mailbox::mail::DevMailbox::new(app.db.clone(), app.clock.clone());

    let purged = mailbox.purge_expired().await.unwrap();

    assert_eq!(purged, 1);
    let page = app.browser().get("/dev/mailbox").await;
    assert!(!page.body.contains("old@example.com") && page.body.contains("new@example.com"), "{}", page.body);
}
