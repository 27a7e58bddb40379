//! Changing the email: a code to the new address, a notice to the old one, and addresses taken meanwhile.

use reqwest::StatusCode;

use crate::support::app::{TestApp, find_code};
use crate::support::pages::{assert_page, assert_redirect};

#[tokio::test]
async fn change_email_moves_the_account_and_tells_the_old_address() {
    // Arrange
    let app = TestApp::spawn(&[]).await;
    let browser = app.signed_up("old@example.com", "Olga").await;

    // Act
    assert_redirect(&browser.change_email("new@example.com").await, "/verify", "change email");
    let code_page = browser.get("/verify").await;
    assert_page(&code_page, StatusCode::OK, "new@example.com", "the code page of the email change");
    let code = app.code_for("new@example.com").await;
    let submitted = browser.submit_code(&code).await;

    // Assert: the account moved and says so once.
    assert_redirect(&submitted, "/account", "the right code for the new address");
    let account = browser.get("/account").await;
    assert_page(&account, StatusCode::OK, "new@example.com", "the account page");
    assert_page(&account, StatusCode::OK, "Your email address was changed", "the account page's notice");
    assert!(!account.body.contains("old@example.com"), "the old address is still shown: {}", account.body);
    let notice = app.mail_after("old@example.com", 1).await;
    assert_eq!(notice.subject, "Your email address was changed");
    assert!(notice.text.contains("new@example.com"), "the notice names the new address: {}", notice.text);
}

#[tokio::test]
async fn after_an_email_change_only_the_new_address_logs_in() {
    // Arrange: an account moved from old@ to new@, signed out.
    let app = TestApp::spawn(&[]).await;
    let browser = app.signed_up("old@example.com", "Olga").await;
    assert_redirect(&browser.change_email("new@example.com").await, "/verify", "change email");
    let code = app.code_for("new@example.com").await;
    assert_redirect(&browser.submit_code(&code).await, "/account", "the right code for the new address");
    assert_redirect(&browser.logout().await, "/", "sign out");
    let old_mails = app.mail_count("old@example.com");

    // Act + Assert: the new address logs in.
    let with_new = app.browser();
    assert_redirect(&with_new.login("new@example.com").await, "/verify", "login with the new address");
    let code = app.code_after("new@example.com", 1).await;
    assert_redirect(&with_new.submit_code(&code).await, "/account", "the new address's login code");
    assert!(with_new.is_signed_in().await);

    // Act + Assert: the old one is told there is no account.
    let with_old = app.browser();
    assert_redirect(&with_old.login("old@example.com").await, "/verify", "login with the old address");
    let mail = app.mail_after("old@example.com", old_mails).await;
    assert_eq!(mail.subject, "There is no account for this email");
    assert!(find_code(&mail.text).is_none(), "the notice carries no code: {}", mail.text);
}

#[tokio::test]
async fn email_change_to_an_address_with_an_account_reveals_nothing_and_changes_nothing() {
    // Arrange
    let app = TestApp::spawn(&[]).await;
    app.signed_up("taken@example.com", "Tom").await;
    let browser = app.signed_up("mover@example.com", "Mo").await;
    let mails_to_taken = app.mail_count("taken@example.com");

    // Act: as for a free address, the code page follows.
    let started = browser.change_email("taken@example.com").await;

    // Assert: the owner is told, no code exists to complete it, and the account is unchanged.
    assert_redirect(&started, "/verify", "the same answer as for a free address");
    assert_page(&browser.get("/verify").await, StatusCode::OK, "taken@example.com", "the code page");
    let notice = app.mail_after("taken@example.com", mails_to_taken).await;
    assert_eq!(notice.subject, "Someone tried to use your email for another account");
    assert_eq!(find_code(&notice.text), None, "no code to complete the change with");
    assert_page(&browser.get("/account").await, StatusCode::OK, "mover@example.com", "still the old address");
}

#[tokio::test]
async fn signup_code_is_refused_when_the_address_was_taken_meanwhile() {
    // Arrange: A starts signing up as x@; meanwhile C moves their account to x@ (an email
    // change is scoped to C's user, so A's challenge stays valid).
    let app = TestApp::spawn(&[]).await;
    let (browser_a, code_a) = app.started_signup("x@example.com").await;
    let browser_c = app.signed_up("c@example.com", "Cy").await;
    assert_redirect(&browser_c.change_email("x@example.com").await, "/verify", "C changes email");
    let code_c = app.code_after("x@example.com", 1).await;
    assert_redirect(&browser_c.submit_code(&code_c).await, "/account", "C confirms x@");

    // Act
    let submitted = browser_a.submit_code(&code_a).await;

    // Assert
    assert_page(&submitted, StatusCode::CONFLICT, "already used by another account", "A's code");
    assert!(!browser_a.is_signed_in().await, "A is not signed in");
    assert_redirect(&browser_a.get("/verify").await, "/", "A's pending code is cleared");
}

#[tokio::test]
async fn email_change_code_is_refused_when_the_address_was_taken_meanwhile() {
    // Arrange: D starts moving to y@; meanwhile someone signs up as y@ (a sign-up challenge does
    // not touch D's email-change one).
    let app = TestApp::spawn(&[]).await;
    let browser_d = app.signed_up("d@example.com", "Dee").await;
    assert_redirect(&browser_d.change_email("y@example.com").await, "/verify", "D changes email");
    let code_d = app.code_for("y@example.com").await;
    let other = app.browser();
    assert_redirect(&other.signup("y@example.com", "Why").await, "/verify", "someone signs up as y@");
    let code_y = app.code_after("y@example.com", 1).await;
    assert_redirect(&other.submit_code(&code_y).await, "/account", "the sign-up as y@ completes");

    // Act
    let submitted = browser_d.submit_code(&code_d).await;

    // Assert
    assert_page(&submitted, StatusCode::CONFLICT, "already used by another account", "D's code");
    let account = browser_d.get("/account").await;
    assert_page(&account, StatusCode::OK, "d@example.com", "D keeps the old address");
}
