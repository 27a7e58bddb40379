//! The code page: wrong codes, expiry, resend and its cooldown, the service's rate limit, cancel,
//! reload, codes pasted in groups, and the address it shows.

use std::time::Duration;

use reqwest::StatusCode;

use crate::support::app::{TestApp, wrong};
use crate::support::pages::{assert_page, assert_redirect, attribute};

#[tokio::test]
async fn a_wrong_code_says_how_many_attempts_are_left() {
    let app = TestApp::spawn(&[]).await;
    let (browser, code) = app.started_signup("wes@example.com").await;

    let first = browser.refused_code(wrong(&code)).await;
    let second = browser.refused_code(wrong(&code)).await;

    assert_page(&first, StatusCode::OK, "That code is not right. 4 attempts left.", "first wrong code");
    assert_page(&second, StatusCode::OK, "That code is not right. 3 attempts left.", "second wrong code");
    assert_page(&second, StatusCode::OK, "action=\"/verify\"", "the form is shown again");
}

#[tokio::test]
async fn a_wrong_code_redirects_so_that_a_reload_enters_nothing() {
    // Arrange
    let app = TestApp::spawn(&[]).await;
    let (browser, code) = app.started_signup("prg@example.com").await;

    // Act
    let submitted = browser.submit_code(wrong(&code)).await;
    let shown = browser.get("/verify").await;
    let reloaded = browser.get("/verify").await;

    // Assert: the POST only redirects; the page says it once, and reloads spend no attempt.
    assert_redirect(&submitted, "/verify", "a wrong code");
    assert!(!submitted.body.contains("That code is not right"), "the POST shows no page: {}", submitted.body);
    assert_page(&shown, StatusCode::OK, "That code is not right. 4 attempts left.", "the page after the redirect");
    assert_page(&reloaded, StatusCode::OK, "action=\"/verify\"", "the page reloaded");
    assert!(!reloaded.body.contains("That code is not right"), "the error shows once: {}", reloaded.body);
    let next = browser.refused_code(wrong(&code)).await;
    assert_page(&next, StatusCode::OK, "3 attempts left.", "the next wrong code, after two loads");
}

#[tokio::test]
async fn an_expired_code_is_refused_and_a_new_one_works() {
    // Arrange: the default TTL is 600 s.
    let app = TestApp::spawn(&[]).await;
    let (browser, code) = app.started_signup("exp@example.com").await;
    app.clock.advance(Duration::from_secs(601));

    // Act + Assert: the page and the code both say it expired.
    let code_page = browser.get("/verify").await;
    assert_page(&code_page, StatusCode::OK, "This code has expired; send a new one.", "the code page after the TTL");
    let submitted = browser.refused_code(&code).await;
    assert_page(&submitted, StatusCode::OK, "This code has expired", "the right code after the TTL");
    assert!(!browser.is_signed_in().await, "an expired code does not sign in");

    // Act + Assert: the cooldown passed long ago, so a new code comes and works.
    assert_redirect(&browser.resend().await, "/verify", "resend after expiry");
    let fresh = app.code_after("exp@example.com", 1).await;
    let code_page = browser.get("/verify").await;
    assert!(!code_page.body.contains(">This code has expired"), "the new code is not expired: {}", code_page.body);
    assert_redirect(&browser.submit_code(&fresh).await, "/account", "the new code");
}

#[tokio::test]
async fn the_code_page_tells_its_script_when_the_code_expires() {
    // Arrange: the default TTL is 600 s.
    let app = TestApp::spawn(&[]).await;
    let (browser, _) = app.started_signup("soon@example.com").await;

    // Act + Assert: the seconds left, and what to say when they are up.
    let fresh = browser.get("/verify").await;
    assert_eq!(attribute(&fresh.body, "data-expires-in"), Some("600"), "a fresh code");
    assert_eq!(attribute(&fresh.body, "data-expired-message"), Some("This code has expired; send a new one."));
    app.clock.advance(Duration::from_millis(100_500));
    let later = browser.get("/verify").await;
    assert_eq!(attribute(&later.body, "data-expires-in"), Some("500"), "rounded up, never early");

    // Act + Assert: once expired, the page says so itself and there is nothing to count.
    app.clock.advance(Duration::from_secs(500));
    let expired = browser.get("/verify").await;
    assert_eq!(attribute(&expired.body, "data-expires-in"), None, "{}", expired.body);
    assert_page(&expired, StatusCode::OK, "This code has expired; send a new one.", "the page of an expired code");
}

#[tokio::test]
async fn too_many_wrong_codes_end_the_flow() {
    // Arrange: four wrong codes of five.
    let app = TestApp::spawn(&[]).await;
    let (browser, code) = app.started_signup("max@example.com").await;
    for left in ["4 attempts left", "3 attempts left", "2 attempts left", "1 attempt left"] {
        let page = browser.refused_code(wrong(&code)).await;
        assert_page(&page, StatusCode::OK, &format!("That code is not right. {left}."), "a wrong code");
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
async fn a_code_pasted_in_groups_of_three_works() {
    let app = TestApp::spawn(&[]).await;
    for (email, separator) in [("spaced@example.com", " "), ("hyphen@example.com", "-")] {
        let (browser, code) = app.started_signup(email).await;
        let code_page = browser.get("/verify").await;
        let pattern = attribute(&code_page.body, "pattern").expect("the code input's pattern");
        assert!(pattern.contains(r"[\s\-]"), "the browser lets {separator:?} through: {pattern}");

        let grouped = format!("{}{separator}{}", &code[..3], &code[3..]);
        let submitted = browser.submit_code(&grouped).await;

        assert_redirect(&submitted, "/account", &format!("the code typed as {grouped:?}"));
    }
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
    assert_page(&too_soon, StatusCode::TOO_MANY_REQUESTS, "The code we sent before still works.", "resend right away");
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
    let old = browser.refused_code(&code).await;
    assert_page(&old, StatusCode::OK, "That code is not right", "the old code");
    assert_redirect(&browser.submit_code(&fresh).await, "/account", "the new code");
}

#[tokio::test]
async fn the_service_rate_limit_shows_the_wait_in_minutes_and_that_the_last_code_works() {
    // Arrange: two creates allowed per 600 s; the sign-up and one resend use them.
    let app = TestApp::spawn(&[("CHALLENGE_RATE_LIMIT_MAX", "2")]).await;
    let (browser, _) = app.started_signup("lim@example.com").await;
    app.clock.advance(Duration::from_secs(31));
    assert_redirect(&browser.resend().await, "/verify", "the first resend");
    app.clock.advance(Duration::from_secs(31));

    // Act
    let limited = browser.resend().await;

    // Assert: the first create frees up at 600 s, 62 s have passed: 538 s, which is 9 minutes rounded up.
    assert_page(
        &limited,
        StatusCode::TOO_MANY_REQUESTS,
        "Please wait about 9 minutes before asking for another code. The code we sent before still works.",
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
    assert_eq!(
        mail.subject, "Confirm your email address for Mailbox challenges demo",
        "no account was made, so a code comes again"
    );
}

#[tokio::test]
async fn cancel_and_start_again_keep_the_typed_address() {
    // Arrange
    let app = TestApp::spawn(&[]).await;
    let (browser, code) = app.started_signup("typo@exmaple.com").await;

    // Act + Assert: Cancel leads to the form with the address, once.
    assert_redirect(&browser.cancel().await, "/signup", "cancel");
    let form = browser.get("/signup").await;
    assert_page(&form, StatusCode::OK, "value=\"typo@exmaple.com\"", "the sign-up form after cancel");
    let again = browser.get("/signup").await;
    assert!(!again.body.contains("typo@exmaple.com"), "the address fills one form: {}", again.body);

    // Act + Assert: so does "Start again" after the attempts are used up.
    let browser = app.browser();
    assert_redirect(&browser.login("typo@exmaple.com").await, "/verify", "login");
    for _ in 0..5 {
        browser.submit_code(wrong(&code)).await;
    }
    let form = browser.get("/login").await;
    assert_page(&form, StatusCode::OK, "value=\"typo@exmaple.com\"", "the login form after Start again");
}

#[tokio::test]
async fn the_code_page_shows_the_typed_address_right_after_the_form_and_masks_it_later() {
    let app = TestApp::spawn(&[]).await;
    let (browser, code) = app.started_signup("rel@example.com").await;

    let first = browser.get("/verify").await;
    let second = browser.get("/verify").await;
    assert_page(&first, StatusCode::OK, "<strong class=\"mailbox\">rel@example.com</strong>", "the code page");
    assert_page(
        &second,
        StatusCode::OK,
        "<strong class=\"mailbox\">r***@example.com</strong>",
        "the code page reloaded",
    );
    assert!(!second.body.contains("rel@example.com"), "masked on a reload: {}", second.body);

    assert_page(&browser.refused_code(wrong(&code)).await, StatusCode::OK, "4 attempts left", "a wrong code");
    let reloaded = browser.get("/verify").await;
    assert_page(&reloaded, StatusCode::OK, "r***@example.com", "the code page after a wrong code");
    assert_page(&reloaded, StatusCode::OK, "action=\"/verify\"", "the form after a wrong code");
    assert_redirect(&browser.submit_code(&code).await, "/account", "the right code after a reload");
}
