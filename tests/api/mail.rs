//! With `sendEmail` the service delivers the rendered message itself, here to a real SMTP
//! server on loopback; without it, nothing is sent. The app's own emails name its product and
//! site; the service's message names neither.

use std::time::Duration;

use mailbox::challenges::model::RecipientName;
use mailbox::client::ClientError;

use crate::support::app::TestApp;
use crate::support::smtp_server::SmtpServer;
use crate::support::{Adapter, TestService, request};

const WAIT: Duration = Duration::from_secs(5);

#[tokio::test]
async fn send_email_delivers_the_rendered_message_over_smtp() {
    let smtp = SmtpServer::start().await;
    let t = TestService::start(&[("SMTP_URL", &smtp.url()), ("MAIL_FROM", "Demo <no-reply@example.com>")]).await;
    for adapter in [Adapter::Http, Adapter::InProcess] {
        let to = format!("{adapter:?}@example.com").to_lowercase();
        let mut req = request(&to, "login");
        req.send_email = true;
        req.name = RecipientName::parse("<script>alert(1)</script>").unwrap();

        let created = t.client(adapter).create(&req).await.unwrap();

        let mail = smtp.wait_for(&to, WAIT).await.expect("the message arrives");
        assert_eq!(mail.envelope_to, vec![to.clone()]);
        assert_eq!(mail.envelope_from, "no-reply@example.com");
        assert_eq!(mail.subject, created.message.subject);
        let code = created.code.expose();
        assert!(mail.text.contains(code) && mail.html.contains(code));
        assert!(mail.html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(!mail.html.contains("<script>"));
    }
}

#[tokio::test]
async fn send_email_false_sends_nothing() {
    let smtp = SmtpServer::start().await;
    let t = TestService::start(&[("SMTP_URL", &smtp.url())]).await;

    t.client(Adapter::Http).create(&request("quiet@example.com", "login")).await.unwrap();

    assert!(smtp.wait_for("quiet@example.com", Duration::from_millis(500)).await.is_none());
    assert!(smtp.received().is_empty());
}

#[tokio::test]
async fn a_failed_delivery_leaves_no_challenge_behind() {
    let t = TestService::start(&[("SMTP_URL", &SmtpServer::unreachable_url())]).await;
    let client = t.client(Adapter::InProcess);
    let mut req = request("jane@example.com", "login");
    req.send_email = true;

    let err = client.create(&req).await.unwrap_err();

    assert!(matches!(err, ClientError::Service(_)), "{err:?}");
    let left = t.db.scalar("SELECT COUNT(*) FROM challenges").await.unwrap();
    assert_eq!(left, 0);
}

#[tokio::test]
async fn without_smtp_the_development_mailbox_keeps_the_message() {
    let t = TestService::start(&[]).await;
    let mut req = request("dev@example.com", "signup");
    req.send_email = true;

    let created = t.client(Adapter::Http).create(&req).await.unwrap();

    let mailbox = mailbox::mail::DevMailbox::new(t.db.clone(), t.clock.clone());
    let kept = mailbox.latest_to("DEV@example.com").await.unwrap().expect("kept");
    assert_eq!(kept.subject, created.message.subject);
    assert!(kept.text.contains(created.code.expose()));
}

#[tokio::test]
async fn the_apps_emails_name_the_product_and_the_site() {
    let app = TestApp::spawn(&[
        ("APP_NAME", "Acme Demo"),
        ("APP_BASE_URL", "https://demo.example:8443"),
        ("CHALLENGE_TTL_SECONDS", "90"),
    ])
    .await;
    let linked_site = r#"Acme Demo · <a class="mb-muted" href="https://demo.example:8443""#;

    let browser = app.signed_up("ann@example.com", "Ann").await;
    let code_email = app.mail_to("ann@example.com").await;
    assert_eq!(code_email.subject, "Confirm your email address for Acme Demo");
    assert!(signed(&code_email.text), "{}", code_email.text);
    assert!(code_email.html.contains(linked_site), "{}", code_email.html);
    // 90 seconds is not 2 minutes: the email never promises more time than the code has.
    assert!(code_email.text.contains("This code expires in 1 minute."), "{}", code_email.text);

    browser.change_email("ann.new@example.com").await;
    let code = app.code_for("ann.new@example.com").await;
    assert!(browser.submit_code(&code).await.redirects_to("/account"));
    let notice = app.mail_after("ann@example.com", 1).await;
    assert_eq!(notice.subject, "Your email address was changed");
    assert!(signed(&notice.text), "{}", notice.text);
    assert!(notice.html.contains(linked_site), "{}", notice.html);
    assert!(notice.text.contains("your Acme Demo account was changed to ann.new@example.com"), "{}", notice.text);
    assert!(notice.text.contains("If it wasn't, someone else may have access to your account"), "{}", notice.text);
    assert!(
        notice.text.contains("https://demo.example:8443/login")
            && notice.html.contains("https://demo.example:8443/login")
    );
}

/// Whether `text` ends with the signature of the app above, after the `-- ` separator.
fn signed(text: &str) -> bool {
    text.lines().collect::<Vec<_>>().ends_with(&["-- ", "Acme Demo · demo.example:8443"])
}

#[tokio::test]
async fn the_services_message_names_no_product_whatever_the_app_is_called() {
    let t = TestService::start(&[("APP_NAME", "Acme Demo")]).await;
    for adapter in [Adapter::Http, Adapter::InProcess] {
        let created = t.client(adapter).create(&request("plain@example.com", "login")).await.unwrap();
        let message = &created.message;
        assert_eq!(message.subject, "Your sign-in code", "{adapter:?}");
        assert!(!message.text.contains("Acme") && !message.html.contains("Acme"), "{adapter:?}: {}", message.text);
    }
}
