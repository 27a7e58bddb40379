//! Hostile addresses: injected mail headers, Unicode lookalikes, and a differently-cased address.

use crate::support::app::TestApp;
use crate::support::security::assert_refused_without_trace;

/// An address that carries a second header line.
const INJECTED: &str = "a@example.com\r\nBcc: evil@example.com";

#[tokio::test]
async fn signup_refuses_an_address_with_injected_headers() {
    let app = TestApp::spawn(&[]).await;
    let browser = app.browser();

    let page = browser.signup(INJECTED, "Eve").await;

    assert_refused_without_trace(&app, &page).await;
}

#[tokio::test]
async fn login_refuses_an_address_with_injected_headers() {
    let app = TestApp::spawn(&[]).await;
    let browser = app.browser();

    let page = browser.login(INJECTED).await;

    assert_refused_without_trace(&app, &page).await;
}

#[tokio::test]
async fn a_unicode_lookalike_address_does_not_reach_the_account() {
    let app = TestApp::spawn(&[]).await;
    app.signed_up("kate@corp.example", "Kate").await;
    let mails_before = app.mail_count("kate@corp.example");
    let attacker = app.browser();

    // The Kelvin sign (U+212A) lowercases to an ASCII `k` under Unicode rules.
    attacker.login("\u{212A}ate@corp.example").await;

    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(app.mail_count("kate@corp.example"), mails_before, "no code to the real account");
    let login_codes =
        app.db.scalar("SELECT COUNT(*) FROM challenges WHERE purpose = 'login' AND user_id IS NOT NULL").await.unwrap();
    assert_eq!(login_codes, 0, "no login challenge for the account was made");
}

#[tokio::test]
async fn a_login_code_goes_to_the_address_the_account_proved() {
    let app = TestApp::spawn(&[]).await;
    app.signed_up("Kate@corp.example", "Kate").await;

    app.browser().login("KATE@CORP.EXAMPLE").await;

    let mail = app.smtp.wait_for("kate@corp.example", crate::support::app::MAIL_WAIT).await.expect("a login email");
    assert_eq!(mail.subject, "Your sign-in code for Mailbox challenges demo");
    assert_eq!(mail.envelope_to, vec!["Kate@corp.example".to_owned()], "the stored address, not the typed one");
}
