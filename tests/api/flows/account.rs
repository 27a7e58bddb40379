//! The account page's own changes: the name, and deleting the account (behind the
//! recent-sign-in gate, with the address typed to confirm).

use std::time::Duration;

use reqwest::StatusCode;

use crate::support::START_TIME;
use crate::support::app::{Browser, TestApp};
use crate::support::pages::{assert_page, assert_redirect};
use crate::support::passkey::{Passkey, confirm_by_email};
use crate::support::postgres::{Backend, available};
use crate::support::security::{assert_refused_without_token, count, users};

/// How many accounts are called exactly `name`.
async fn named(app: &TestApp, name: &str) -> i64 {
    count(&app.db, &format!("SELECT COUNT(*) FROM users WHERE name = '{name}'")).await
}

#[tokio::test]
async fn renaming_shows_the_new_name_with_a_notice() {
    // Arrange
    let app = TestApp::spawn(&[]).await;
    let browser = app.signed_up("jane@example.com", "Jane").await;

    // Act
    let renamed = browser.post("/account/name", &[("name", "  Jane Doe ")]).await;

    // Assert: stored trimmed, shown once with the notice.
    assert_redirect(&renamed, "/account", "a good name");
    assert_eq!(named(&app, "Jane Doe").await, 1);
    let page = browser.get("/account").await;
    assert_page(&page, StatusCode::OK, "Your name was changed.", "the account page after renaming");
    assert!(page.body.contains(r#"name="name" value="Jane Doe""#), "the form shows the new name: {}", page.body);
    assert!(!browser.get("/account").await.body.contains("Your name was changed."), "the notice shows once");
}

#[tokio::test]
async fn times_carry_their_utc_moment_for_the_page_script_to_say_in_local_time() {
    // Arrange
    let app = TestApp::spawn(&[]).await;
    let browser = app.signed_up("jane@example.com", "Jane").await;

    // Act
    let page = browser.get("/account").await;

    // Assert: readable in UTC without the script, machine-readable for it, UTC kept on hover.
    let created =
        format!(r#"<time datetime="2026-01-01T00:00:00Z" title="{START_TIME}" data-local>{START_TIME}</time>"#);
    assert!(page.body.contains(&created), "the account's creation time: {}", page.body);
    assert!(
        page.body.contains(r#"<script src="/static/app."#),
        "the page script that rewrites it is loaded: {}",
        page.body
    );
}

#[tokio::test]
async fn a_name_that_is_empty_too_long_or_only_format_characters_is_refused_and_changes_nothing() {
    // Arrange
    let app = TestApp::spawn(&[]).await;
    let browser = app.signed_up("jane@example.com", "Jane").await;
    let too_long = "x".repeat(129);
    let refusals = [
        ("", "Enter your name."),
        ("   ", "Enter your name."),
        ("\u{202E}\u{200B}", "Enter your name."),
        (too_long.as_str(), "at most 128 characters, on one line"),
        ("Jane\nDoe", "at most 128 characters, on one line"),
    ];

    for (typed, reason) in refusals {
        // Act
        let refused = browser.post("/account/name", &[("name", typed)]).await;

        // Assert
        assert_page(&refused, StatusCode::BAD_REQUEST, reason, &format!("the name {typed:?}"));
        assert!(refused.body.contains(r#"role="alert""#), "shown as an error: {}", refused.body);
        assert_eq!(named(&app, "Jane").await, 1, "{typed:?} changed the name");
    }
}

#[tokio::test]
async fn a_bidi_override_is_dropped_from_a_name_so_it_cannot_reorder_it() {
    let app = TestApp::spawn(&[]).await;
    let browser = app.signed_up("jane@example.com", "Jane").await;

    let renamed = browser.post("/account/name", &[("name", "Mallory\u{202E}gnp.exe")]).await;

    assert_redirect(&renamed, "/account", "a name with a bidi override");
    assert_eq!(named(&app, "Mallorygnp.exe").await, 1);
    assert!(!browser.get("/account").await.body.contains('\u{202E}'));
}

#[tokio::test]
async fn renaming_needs_the_form_token() {
    let app = TestApp::spawn(&[]).await;
    let browser = app.signed_up("jane@example.com", "Jane").await;

    assert_refused_without_token(&browser, "/account/name", &[("name", "Forged")]).await;

    assert_eq!(named(&app, "Jane").await, 1);
}

/// Deletes `browser`'s account of `email` from its confirmation page; asserts where that leads.
async fn delete_account(browser: &Browser, email: &str) {
    let page = browser.get("/account/delete").await;
    assert_page(&page, StatusCode::OK, &format!("Delete the account of {email}?"), "the confirmation page");
    let deleted = browser.post("/account/delete", &[("confirm", &email.to_uppercase())]).await;
    assert_redirect(&deleted, "/", "deleting the account");
}

async fn deleting_the_account_removes_it_everywhere_and_tells_the_address(backend: Backend) {
    // Arrange: an account with a passkey, signed in on two devices, with an email change
    // pending in the session that deletes it.
    let app = TestApp::spawn_on(backend, &[]).await;
    let browser = app.signed_up("jane@example.com", "Jane").await;
    Passkey::soft().enrol(&app, &browser, "Phone").await;
    let elsewhere = app.signed_in_by_email("jane@example.com").await;
    assert_redirect(&browser.change_email("new@example.com").await, "/verify", "an email change");
    let mails = app.mail_count("jane@example.com");

    // Act
    delete_account(&browser, "jane@example.com").await;

    // Assert: the account and all that hung off it are gone, on every device.
    let home = browser.get("/").await;
    assert_page(&home, StatusCode::OK, "Your account was deleted.", "the home page after deleting");
    assert!(!browser.is_signed_in().await, "this browser is signed out");
    assert!(!elsewhere.is_signed_in().await, "the other device is signed out");
    assert_eq!(users(&app.db).await, 0);
    assert_eq!(count(&app.db, "SELECT COUNT(*) FROM passkeys").await, 0);
    assert_eq!(count(&app.db, "SELECT COUNT(*) FROM sessions WHERE user_id IS NOT NULL").await, 0);
    let pending = "SELECT COUNT(*) FROM challenges WHERE email_key = 'new@example.com'";
    assert_eq!(count(&app.db, pending).await, 0, "the pending email change's challenge is deleted");
    let notice = app.mail_after("jane@example.com", mails).await;
    assert_eq!(notice.subject, "Your account was deleted");
    assert!(notice.text.contains("every device signed in to it was signed out"), "{}", notice.text);

    // Act + Assert: the address is free for a new account.
    let again = app.signed_up("jane@example.com", "Jane Again").await;
    assert_page(&again.get("/account").await, StatusCode::OK, "Jane Again", "the new account");
    assert_eq!(users(&app.db).await, 1);
}

#[tokio::test]
async fn deleting_the_account_removes_it_everywhere_and_tells_the_address_on_sqlite() {
    deleting_the_account_removes_it_everywhere_and_tells_the_address(Backend::Sqlite).await;
}

#[tokio::test]
async fn deleting_the_account_removes_it_everywhere_and_tells_the_address_on_postgres() {
    if available() {
        deleting_the_account_removes_it_everywhere_and_tells_the_address(Backend::Postgres).await;
    }
}

#[tokio::test]
async fn deleting_long_after_signing_in_asks_to_confirm_it_is_you_then_returns_to_the_confirmation() {
    // Arrange: signed in eleven minutes ago.
    let app = TestApp::spawn(&[]).await;
    let browser = app.signed_up("kit@example.com", "Kit").await;
    app.clock.advance(Duration::from_secs(11 * 60));

    // Act 1: the deletion form, sent anyway.
    let gated = browser.post("/account/delete", &[("confirm", "kit@example.com")]).await;

    // Assert 1: nothing deleted; the gate names the change.
    assert_redirect(&gated, "/reauth", "a deletion long after sign-in");
    assert_eq!(users(&app.db).await, 1);
    let reauth = browser.get("/reauth").await;
    assert!(reauth.body.contains("To delete your account, confirm it's you"), "{}", reauth.body);

    // Act 2: confirm by email.
    let confirmed = confirm_by_email(&app, &browser, "kit@example.com").await;

    // Assert 2: back on the confirmation page, the account still there until it is confirmed.
    assert_redirect(&confirmed, "/account/delete", "confirming it's you");
    let page = browser.get("/account/delete").await;
    assert_page(&page, StatusCode::OK, "Confirmed. Now confirm that you want to delete your account.", "the page");
    assert_eq!(users(&app.db).await, 1);
    delete_account(&browser, "kit@example.com").await;
    assert_eq!(users(&app.db).await, 0);
}

#[tokio::test]
async fn deleting_needs_the_form_token_and_the_address_typed() {
    // Arrange
    let app = TestApp::spawn(&[]).await;
    let browser = app.signed_up("kit@example.com", "Kit").await;

    // Act + Assert: without the token, nothing happens.
    assert_refused_without_token(&browser, "/account/delete", &[("confirm", "kit@example.com")]).await;
    assert_eq!(users(&app.db).await, 1);

    // Act + Assert: nor with another address, or none.
    for typed in ["someone@example.com", ""] {
        let refused = browser.post("/account/delete", &[("confirm", typed)]).await;
        assert_page(&refused, StatusCode::BAD_REQUEST, "Type your account's email address", &format!("{typed:?}"));
        assert_eq!(users(&app.db).await, 1);
        assert!(browser.is_signed_in().await);
    }
}
