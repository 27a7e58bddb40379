//! Signing up and logging in with an emailed code, and the sessions they open and end.

use reqwest::StatusCode;

use crate::support::app::{TestApp, find_code};
use crate::support::pages::{assert_page, assert_redirect};

#[tokio::test]
async fn sign_up_creates_a_verified_account_and_signs_in() {
    let app = TestApp::spawn(&[]).await;
    let browser = app.browser();

    let started = browser.signup("jane@example.com", "Jane Doe").await;
    assert!(started.redirects_to("/verify"), "{}", started.status);
    let code_page = browser.get("/verify").await;
    assert!(code_page.body.contains("jane@example.com"), "right after sign-up, the address as typed");
    assert!(
        code_page.body.contains("autocomplete=\"one-time-code\"") && code_page.body.contains("inputmode=\"numeric\"")
    );
    let code = app.code_for("jane@example.com").await;

    assert!(browser.submit_code(&code).await.redirects_to("/account"));
    let account = browser.get("/account").await;
    assert_eq!(account.status, StatusCode::OK);
    assert!(account.body.contains("Jane Doe") && account.body.contains("jane@example.com"));
    assert!(account.body.contains("verified"));
}

#[tokio::test]
async fn passwordless_login_signs_in_with_the_code_from_the_login_email() {
    // Arrange: an account, signed out.
    let app = TestApp::spawn(&[]).await;
    let browser = app.signed_up("lee@example.com", "Lee").await;
    assert_redirect(&browser.logout().await, "/", "sign out");
    assert_redirect(&browser.get("/account").await, "/login", "the account page after sign-out");
    assert_eq!(app.mail_count("lee@example.com"), 1, "only the sign-up email so far");

    // Act: log in from a fresh browser.
    let fresh = app.browser();
    assert_redirect(&fresh.login("lee@example.com").await, "/verify", "login");
    let code_page = fresh.get("/verify").await;
    assert_page(&code_page, StatusCode::OK, "lee@example.com", "the code page");
    assert_page(&code_page, StatusCode::OK, "Enter your sign-in code", "the code page");
    let mail = app.mail_after("lee@example.com", 1).await;
    assert_eq!(mail.subject, "Your sign-in code for Mailbox challenges demo", "the login email, not the sign-up one");
    let code = find_code(&mail.text).expect("a code in the login email");
    let submitted = fresh.submit_code(&code).await;

    // Assert
    assert_redirect(&submitted, "/account", "the right login code");
    let account = fresh.get("/account").await;
    assert_page(&account, StatusCode::OK, "lee@example.com", "the account page after login");
    assert!(!browser.is_signed_in().await, "the signed-out browser stays signed out");
}

#[tokio::test]
async fn sign_out_destroys_the_session_on_the_server() {
    // Arrange: a signed-in browser and a copy of its session cookie.
    let app = TestApp::spawn(&[]).await;
    let browser = app.browser();
    assert_redirect(&browser.signup("kim@example.com", "Kim").await, "/verify", "sign-up");
    let code = app.code_for("kim@example.com").await;
    assert_redirect(&browser.submit_code(&code).await, "/account", "the right code");
    let cookie = format!("session={}", browser.session_cookie());
    assert_eq!(app.page_with_cookie("/account", &cookie).await.status, StatusCode::OK, "the copied cookie works");

    // Act
    assert_redirect(&browser.logout().await, "/", "sign out");

    // Assert: the copy, replayed, is worth nothing.
    let replayed = app.page_with_cookie("/account", &cookie).await;
    assert_redirect(&replayed, "/login", "the account page with the cookie from before sign-out");
}

#[tokio::test]
async fn sign_in_renews_the_session_id() {
    // Arrange: an anonymous session (posting the sign-up form stores its pending code; a page
    // view alone stores no session).
    let app = TestApp::spawn(&[]).await;
    let browser = app.browser();
    assert_eq!(browser.get("/signup").await.status, StatusCode::OK);
    assert_redirect(&browser.signup("ray@example.com", "Ray").await, "/verify", "sign-up");
    let before = format!("session={}", browser.session_cookie());

    // Act
    let code = app.code_for("ray@example.com").await;
    assert_redirect(&browser.submit_code(&code).await, "/account", "the right code");

    // Assert
    let after = format!("session={}", browser.session_cookie());
    assert_ne!(before, after, "the session cookie changes at sign-in");
    assert_eq!(app.page_with_cookie("/account", &after).await.status, StatusCode::OK, "the new session is signed in");
    let replayed = app.page_with_cookie("/account", &before).await;
    assert_redirect(&replayed, "/login", "the account page with the session from before sign-in");
}

#[tokio::test]
async fn signed_in_users_are_sent_from_signup_and_login_to_their_account() {
    let app = TestApp::spawn(&[]).await;
    let browser = app.signed_up("amy@example.com", "Amy").await;

    assert_redirect(&browser.get("/signup").await, "/account", "GET /signup when signed in");
    assert_redirect(&browser.get("/login").await, "/account", "GET /login when signed in");
}

#[tokio::test]
async fn a_name_with_html_is_shown_escaped() {
    let app = TestApp::spawn(&[]).await;
    let browser = app.signed_up("eve@example.com", "<script>alert(1)</script>").await;

    let account = browser.get("/account").await;

    assert_page(&account, StatusCode::OK, "&lt;script&gt;alert(1)&lt;/script&gt;", "the account page");
    assert!(!account.body.contains("<script>alert(1)"), "the name appears raw: {}", account.body);
}
