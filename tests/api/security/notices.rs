//! Security notices are not lost to a mail outage: each is written with the change it reports
//! and sent, retried until it is, exactly once.

use std::time::{Duration, Instant};

use crate::support::app::MAIL_WAIT;
use crate::support::security::{app_mailing_to, code_received, count, signed_up_through};
use crate::support::smtp_server::SmtpServer;

const CHANGED: &str = "Your email address was changed";

fn notices_to(smtp: &SmtpServer, to: &str) -> usize {
    smtp.received().iter().filter(|m| m.envelope_to.iter().any(|r| r == to) && m.subject == CHANGED).count()
}

#[tokio::test]
async fn lost_notice_of_an_email_change_during_an_smtp_outage_arrives_once_it_is_back() {
    // Arrange: an account moving to a new address; the code to the new one arrived.
    let smtp = SmtpServer::start().await;
    let app = app_mailing_to(&smtp.url()).await;
    let browser = signed_up_through(&app, &smtp, "old@example.com").await;
    assert!(browser.change_email("new@example.com").await.redirects_to("/verify"));
    let code = code_received(&smtp, "new@example.com").await;

    // Act 1: the mail server refuses everything while the change completes.
    smtp.refuse_mail(true);
    assert!(browser.submit_code(&code).await.redirects_to("/account"), "the change does not wait for mail");
    let queued = Instant::now() + Duration::from_secs(2);
    while count(&app.db, "SELECT COUNT(*) FROM outbox WHERE attempts > 0").await == 0 {
        assert!(Instant::now() < queued, "the notice was never tried");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(notices_to(&smtp, "old@example.com"), 0);

    // Act 2: the server is back, and the retry comes due.
    smtp.refuse_mail(false);
    app.clock.advance(Duration::from_secs(3600));

    // Assert: the notice arrives, once, and stays delivered.
    let deadline = Instant::now() + MAIL_WAIT;
    while notices_to(&smtp, "old@example.com") == 0 {
        assert!(Instant::now() < deadline, "the notice never arrived");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    app.clock.advance(Duration::from_secs(3600));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(notices_to(&smtp, "old@example.com"), 1, "exactly once");
    assert_eq!(count(&app.db, "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL").await, 0);
}
