//! The code page: wrong codes, expiry, resend and its cooldown, the service's rate limit, cancel, reload.

use std::time::Duration;

use reqwest::StatusCode;

use crate::support::app::{TestApp, wrong};
use crate::support::pages::{assert_page, assert_redirect, attribute};

#[tokio::test]
async fn a_wrong_code_says_how_many_attempts_are_left() {
    let app = TestApp::spawn(&[]).await;
    let (browser, code) = app.started_signup("wes@example.com").await;

    let first = browser.submit_code(wrong(&code)).await;
    let second = browser.submit_code(wrong(&code)).await;

    assert_page(&first, StatusCode::BAD_REQUEST, "That code is not right. 4 attempts left.", "first wrong code");
    assert_page(&second, StatusCode::BAD_REQUEST, "That code is not right. 3 attempts left.", "second wrong code");
    assert_page(&second, StatusCode::BAD_REQUEST, "action=\"/verify\"", "the form is shown again");
}

#[tokio::test]
async fn an_expired_code_is_refused_and_a_new_one_works() {
    // Arrange: the default TTL is 600 s.
    let app = TestApp::spawn(&[]).await;
    let (browser, code) = app.started_signup("exp@example.com").await;
    app.clock.advance(Duration::from_secs(601));

    // Act + Assert: the page and the code both say it expired.
    let code_page = browser.get("/verify").await;
    assert_page(&code_page, StatusCode::OK, "This code has expired", "the code page after the TTL");
    let submitted = browser.submit_code(&code).await;
    assert_page(&submitted, StatusCode::BAD_REQUEST, "This code has expired", "the right code after the TTL");
    assert!(!browser.is_signed_in().await, "an expired code does not sign in");

    // Act + Assert: the cooldown passed long ago, so a new code comes and works.
    assert_redirect(&browser.resend().await, "/verify", "resend after expiry");
    let fresh = app.code_after("exp@example.com", 1).await;
    let code_page = browser.get("/verify").await;
    assert!(!code_page.body.contains("This code has expired"), "the new code is not expired: {}", code_page.body);
    assert_redirect(&browser.submit_code(&fresh).await, "/account", "the new code");
}

#[tokio::test]
async fn too_many_wrong_codes_end_the_flow() {
    // Arrange: four wrong codes of five.
    let app = TestApp::spawn(&[]).await;
    let (browser, code) = app.started_signup("max@example.com").await;
    for left in (1..=4).rev() {
        let page = browser.submit_code(wrong(&code)).await;
        assert_page(&page, StatusCode::BAD_REQUEST, &format!("{left} attempts left"), "a wrong code");
    }

    // Act
    let fifth = browser.submit_code(wrong(&code)).await;

    // Assert: start over; nothing pending, and the right code no longer helps.
    assert_page(&fifth, StatusCode::BAD_REQUEST, "Too many wrong codes", "the fifth wrong code");
    assert_page(&fifth, StatusCode::BAD_REQUEST, "href=\"/signup\"", "the start-over link");
    assert_redirect(&browser.get("/verify").await, "/", "the code page after the attempts are used up");
    assert_redirect(&browser.submit_code(&code).await, "/", "the right code after the attempts are used up");
    assert!(!browser.is_signed_in().await, "the right code afterwards does not sign in");
}

#[tokio::test]
async fn resend_waits_for_the_cooldown() {
    // Arrange
    let app = TestApp::spawn(&[]).await;
    let (browser, code) = app.started_signup("res@example.com").await;

    // Act + Assert: too soon.
    let code_page = browser.get("/verify").await;
    assert_eq!(attribute(&code_page.body, "data-cooldown"), Some("30"), "the resend button's cooldown");
    assert_page(&code_page, StatusCode::OK, "available in", "the cooldown text");
    let too_soon = browser.resend().await;
    assert_page(&too_soon, StatusCode::TOO_MANY_REQUESTS, "Please wait", "resend right away");
    let seconds: u64 = too_soon
        .body
        .split("Please wait ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .map_or_else(|| panic!("no seconds in: {}", too_soon.body), |n| n.parse().expect("a number of seconds"));
    assert!((1..=30).contains(&seconds), "wait {seconds} s, expected at most 30");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(app.mail_count("res@example.com"), 1, "no second email while cooling down");

    // Act + Assert: after the cooldown.
    app.clock.advance(Duration::from_secs(30));
    assert_redirect(&browser.resend().await, "/verify", "resend after the cooldown");
    let fresh = app.code_after("res@example.com", 1).await;
    assert_ne!(fresh, code, "a different code (equal by chance once in a million)");
    let notice = browser.get("/verify").await;
    assert_page(&notice, StatusCode::OK, "Earlier codes no longer work", "the resend notice");
    let old = browser.submit_code(&code).await;
    assert_page(&old, StatusCode::BAD_REQUEST, "That code is not right", "the old code");
    assert_redirect(&browser.submit_code(&fresh).await, "/account", "the new code");
}

#[tokio::test]
async fn the_service_rate_limit_shows_as_seconds_to_wait() {
    // Arrange: two creates allowed per 600 s; the sign-up and one resend use them.
    let app = TestApp::spawn(&[("CHALLENGE_RATE_LIMIT_MAX", "2")]).await;
    let (browser, _) = app.started_signup("lim@example.com").await;
    app.clock.advance(Duration::from_secs(31));
    assert_redirect(&browser.resend().await, "/verify", "the first resend");
    app.clock.advance(Duration::from_secs(31));

    // Act
    let limited = browser.resend().await;

    // Assert: the first create frees up at 600 s, 62 s have passed.
    assert_page(
        &limited,
        StatusCode::TOO_MANY_REQUESTS,
        "Please wait 538 seconds before asking for another code.",
        "the third create",
    );
    assert_eq!(app.mail_count("lim@example.com"), 2, "no third email");
}

#[tokio::test]
async fn cancel_abandons_the_signup() {
    // Arrange
    let app = TestApp::spawn(&[]).await;
    let (browser, code) = app.started_signup("can@example.com").await;

    // Act
    let cancelled = browser.cancel().await;

    // Assert: back to the start, nothing pending, the code creates nothing.
    assert_redirect(&cancelled, "/signup", "cancel");
    assert_redirect(&browser.get("/verify").await, "/", "the code page after cancel");
    assert_redirect(&browser.submit_code(&code).await, "/", "the code after cancel");
    assert!(!browser.is_signed_in().await);
    let again = app.browser();
    assert_redirect(&again.signup("can@example.com", "Cal").await, "/verify", "signing up again");
    let mail = app.mail_after("can@example.com", 1).await;
    assert_eq!(mail.subject, "Confirm your email address", "no account was made, so a code comes again");
}

#[tokio::test]
async fn the_code_page_is_restored_on_reload() {
    let app = TestApp::spawn(&[]).await;
    let (browser, code) = app.started_signup("rel@example.com").await;

    let first = browser.get("/verify").await;
    let second = browser.get("/verify").await;
    assert_page(&first, StatusCode::OK, "r***@example.com", "the code page");
    assert_page(&second, StatusCode::OK, "r***@example.com", "the code page reloaded");

    assert_page(&browser.submit_code(wrong(&code)).await, StatusCode::BAD_REQUEST, "4 attempts left", "a wrong code");
    let reloaded = browser.get("/verify").await;
    assert_page(&reloaded, StatusCode::OK, "r***@example.com", "the code page after a wrong code");
    assert_page(&reloaded, StatusCode::OK, "action=\"/verify\"", "the form after a wrong code");
    assert_redirect(&browser.submit_code(&code).await, "/account", "the right code after a reload");
}
