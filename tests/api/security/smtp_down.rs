//! With the SMTP server down, each flow says it could not send the email and leaves nothing behind.

use crate::support::security::{app_mailing_to, assert_could_not_send, challenges, signed_up_through, users};
use crate::support::smtp_server::SmtpServer;

#[tokio::test]
async fn signup_with_smtp_down_fails_cleanly() {
    let app = app_mailing_to(&SmtpServer::unreachable_url()).await;
    let browser = app.browser();

    let page = browser.signup("jane@example.com", "Jane").await;

    assert_could_not_send(&page, "jane@example.com");
    assert_eq!(challenges(&app.db).await, 0, "no challenge is left behind");
    assert_eq!(users(&app.db).await, 0);
    assert!(browser.get("/verify").await.redirects_to("/"), "nothing is pending");
}

#[tokio::test]
async fn login_and_email_change_with_smtp_down_fail_cleanly() {
    let smtp = SmtpServer::start().await;
    let app = app_mailing_to(&smtp.url()).await;
    let browser = signed_up_through(&app, &smtp, "jane@example.com").await;
    let challenges_before = challenges(&app.db).await;
    smtp.stop().await;

    let change = browser.change_email("new@example.com").await;
    assert_could_not_send(&change, "new@example.com");
    assert!(browser.get("/verify").await.redirects_to("/"), "no email change is pending");
    assert!(browser.get("/account").await.body.contains("jane@example.com"));

    let other = app.browser();
    let login = other.login("jane@example.com").await;
    assert_could_not_send(&login, "jane@example.com");
    assert!(other.get("/verify").await.redirects_to("/"), "no login is pending");

    assert_eq!(challenges(&app.db).await, challenges_before, "no challenge is left behind");
}
