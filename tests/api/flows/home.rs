//! The home page's story, and the notices that say what just happened: a welcome after
//! sign-up, a word after sign-out, and no success notice from before beside a new error.

use std::time::Duration;

use reqwest::StatusCode;

use crate::support::app::TestApp;
use crate::support::pages::{assert_page, assert_redirect};

/// The part of a page inside `<main>`, without the header's links.
fn main_of(body: &str) -> &str {
    &body[body.find("<main>").expect("a main element")..]
}

#[tokio::test]
async fn the_home_page_links_each_flow_in_the_order_to_try_them() {
    let app = TestApp::spawn(&[]).await;

    let home = app.browser().get("/").await;

    assert_eq!(home.status, StatusCode::OK);
    let main = main_of(&home.body);
    let flows = [
        r#"<a href="/login">Sign in with a passkey</a>"#,
        r#"<a href="/account">Add a passkey</a>"#,
        r#"<a href="/signup">Sign up</a>"#,
        r#"<a href="/login">Sign in with a code</a>"#,
        r#"<a href="/account/email">Change your email</a>"#,
        r#"<a href="/recover">Lost your passkey?</a>"#,
        "CHALLENGE_API_ADDR",
    ];
    let positions: Vec<usize> =
        flows.iter().map(|flow| main.find(flow).unwrap_or_else(|| panic!("no {flow:?} in {main}"))).collect();
    assert!(positions.is_sorted(), "passkeys, then codes, then recovery, then the API: {positions:?}");
    assert!(!home.body.contains("Log in"), "one verb for signing in: {}", home.body);
}

#[tokio::test]
async fn sign_up_welcomes_the_new_account_by_name_once() {
    let app = TestApp::spawn(&[]).await;
    let browser = app.browser();
    assert_redirect(&browser.signup("wes@example.com", "Wes Tan").await, "/verify", "sign-up");
    let code = app.code_for("wes@example.com").await;

    assert_redirect(&browser.submit_code(&code).await, "/account", "the sign-up code");

    let welcome = "Welcome, Wes Tan. Your account is ready.";
    assert_page(&browser.get("/account").await, StatusCode::OK, welcome, "the account page after sign-up");
    assert!(!browser.get("/account").await.body.contains(welcome), "the welcome shows once");
}

#[tokio::test]
async fn sign_out_says_so_on_the_home_page_once() {
    let app = TestApp::spawn(&[]).await;
    let browser = app.signed_up("sol@example.com", "Sol").await;

    assert_redirect(&browser.logout().await, "/", "sign out");

    assert_page(&browser.get("/").await, StatusCode::OK, "You are signed out.", "the home page after sign-out");
    assert!(!browser.get("/").await.body.contains("You are signed out."), "the notice shows once");
    assert!(!browser.is_signed_in().await, "the notice's session is not signed in");
}

#[tokio::test]
async fn an_error_page_does_not_show_a_success_notice_from_before() {
    // Arrange: a new code was sent, and its notice waits for the next page.
    let app = TestApp::spawn(&[]).await;
    let browser = app.browser();
    assert_redirect(&browser.signup("ned@example.com", "Ned").await, "/verify", "sign-up");
    let token = browser.csrf().await;
    app.clock.advance(Duration::from_secs(30));
    assert_redirect(&browser.post_raw("/verify/resend", &[("csrf", &token)]).await, "/verify", "resend");

    // Act: the next page is a form refused with an error.
    let refused = browser.post_raw("/login", &[("csrf", &token), ("email", "not an address")]).await;

    // Assert: the notice was shown without the error the moment before (see the code page's
    // tests), and here the error stands alone.
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(refused.body.contains(r#"role="alert""#), "the error is shown: {}", refused.body);
    assert!(!refused.body.contains("We sent you a new code"), "no success beside the error: {}", refused.body);
}
