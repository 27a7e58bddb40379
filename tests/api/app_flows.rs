//! The sample app's flows over real HTTP, with codes read from mail delivered over SMTP.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION};

use crate::support::app::{Browser, MAIL_WAIT, Page, TestApp, find_code, wrong};
use crate::support::smtp_server::{ReceivedEmail, SmtpServer};

#[tokio::test]
async fn sign_up_creates_a_verified_account_and_signs_in() {
    let app = TestApp::spawn(&[]).await;
    let browser = app.browser();

    let started = browser.signup("jane@example.com", "Jane Doe").await;
    assert!(started.redirects_to("/verify"), "{}", started.status);
    let code_page = browser.get("/verify").await;
    assert!(code_page.body.contains("j***@example.com"));
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

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// GET `path` from a client with no cookie store, sending exactly `cookie`.
async fn get_with_cookie(app: &TestApp, path: &str, cookie: &str) -> Page {
    mailbox::tls::install_ring_provider();
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let response =
        client.get(format!("{}{path}", app.base)).header(COOKIE, cookie).send().await.expect("GET with a cookie");
    let status = response.status();
    let location = response.headers().get(LOCATION).and_then(|v| v.to_str().ok()).map(str::to_owned);
    Page { status, location, body: response.text().await.unwrap_or_default() }
}

/// The newest email to `to` once it has received `count` emails in all.
async fn nth_mail_to(app: &TestApp, to: &str, count: usize) -> ReceivedEmail {
    let deadline = Instant::now() + MAIL_WAIT;
    while app.mail_count(to) < count {
        assert!(Instant::now() < deadline, "{to} received {} emails, expected {count}", app.mail_count(to));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    app.mail_to(to).await
}

/// The code in the `count`-th email to `to`.
async fn nth_code_for(app: &TestApp, to: &str, count: usize) -> String {
    let mail = nth_mail_to(app, to, count).await;
    find_code(&mail.text).unwrap_or_else(|| panic!("no code in email {count} to {to}: {}", mail.text))
}

/// A browser that started signing up as `email` (on the code page), and the code it was sent.
async fn started_signup(app: &TestApp, email: &str) -> (Browser, String) {
    let browser = app.browser();
    let started = browser.signup(email, "Sam Sample").await;
    assert!(started.redirects_to("/verify"), "sign-up did not lead to /verify: {}", started.status);
    let code = app.code_for(email).await;
    (browser, code)
}

/// Asserts a redirect (303) to `path`.
#[track_caller]
fn assert_redirect(page: &Page, path: &str, what: &str) {
    assert!(
        page.redirects_to(path),
        "{what}: expected 303 to {path}, got {} to {:?}: {}",
        page.status,
        page.location,
        page.body
    );
}

/// Asserts the status and that the body contains `text`.
#[track_caller]
fn assert_page(page: &Page, status: StatusCode, text: &str, what: &str) {
    assert_eq!(page.status, status, "{what}: status; body: {}", page.body);
    assert!(page.body.contains(text), "{what}: page lacks {text:?}: {}", page.body);
}

/// The value of the first `name="..."` attribute in `body`.
fn attribute<'a>(body: &'a str, name: &str) -> Option<&'a str> {
    let start = body.find(&format!("{name}=\""))? + name.len() + 2;
    let end = body[start..].find('"')?;
    Some(&body[start..start + end])
}

// ---------------------------------------------------------------------------------------------
// Passwordless login and sessions
// ---------------------------------------------------------------------------------------------

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
    assert_page(&code_page, StatusCode::OK, "l***@example.com", "the code page");
    assert_page(&code_page, StatusCode::OK, "Enter your sign-in code", "the code page");
    let mail = nth_mail_to(&app, "lee@example.com", 2).await;
    assert_eq!(mail.subject, "Your sign-in code", "the login email, not the sign-up one");
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
    assert_eq!(get_with_cookie(&app, "/account", &cookie).await.status, StatusCode::OK, "the copied cookie works");

    // Act
    assert_redirect(&browser.logout().await, "/", "sign out");

    // Assert: the copy, replayed, is worth nothing.
    let replayed = get_with_cookie(&app, "/account", &cookie).await;
    assert_redirect(&replayed, "/login", "the account page with the cookie from before sign-out");
}

#[tokio::test]
async fn sign_in_renews_the_session_id() {
    // Arrange: an anonymous session (the sign-up form makes its CSRF token).
    let app = TestApp::spawn(&[]).await;
    let browser = app.browser();
    assert_eq!(browser.get("/signup").await.status, StatusCode::OK);
    let before = format!("session={}", browser.session_cookie());

    // Act
    assert_redirect(&browser.signup("ray@example.com", "Ray").await, "/verify", "sign-up");
    let code = app.code_for("ray@example.com").await;
    assert_redirect(&browser.submit_code(&code).await, "/account", "the right code");

    // Assert
    let after = format!("session={}", browser.session_cookie());
    assert_ne!(before, after, "the session cookie changes at sign-in");
    assert_eq!(get_with_cookie(&app, "/account", &after).await.status, StatusCode::OK, "the new session is signed in");
    let replayed = get_with_cookie(&app, "/account", &before).await;
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

// ---------------------------------------------------------------------------------------------
// Email change
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn change_email_moves_the_account_and_tells_the_old_address() {
    // Arrange
    let app = TestApp::spawn(&[]).await;
    let browser = app.signed_up("old@example.com", "Olga").await;

    // Act
    assert_redirect(&browser.change_email("new@example.com").await, "/verify", "change email");
    let code_page = browser.get("/verify").await;
    assert_page(&code_page, StatusCode::OK, "n***@example.com", "the code page of the email change");
    let code = app.code_for("new@example.com").await;
    let submitted = browser.submit_code(&code).await;

    // Assert: the account moved and says so once.
    assert_redirect(&submitted, "/account", "the right code for the new address");
    let account = browser.get("/account").await;
    assert_page(&account, StatusCode::OK, "new@example.com", "the account page");
    assert_page(&account, StatusCode::OK, "Your email address was changed", "the account page's notice");
    assert!(!account.body.contains("old@example.com"), "the old address is still shown: {}", account.body);
    let notice = nth_mail_to(&app, "old@example.com", 2).await;
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
    let code = nth_code_for(&app, "new@example.com", 2).await;
    assert_redirect(&with_new.submit_code(&code).await, "/account", "the new address's login code");
    assert!(with_new.is_signed_in().await);

    // Act + Assert: the old one is told there is no account.
    let with_old = app.browser();
    assert_redirect(&with_old.login("old@example.com").await, "/verify", "login with the old address");
    let mail = nth_mail_to(&app, "old@example.com", old_mails + 1).await;
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
    assert_page(&browser.get("/verify").await, StatusCode::OK, "t***@example.com", "the code page");
    let notice = nth_mail_to(&app, "taken@example.com", mails_to_taken + 1).await;
    assert_eq!(notice.subject, "Someone tried to use your email for another account");
    assert_eq!(find_code(&notice.text), None, "no code to complete the change with");
    assert_page(&browser.get("/account").await, StatusCode::OK, "mover@example.com", "still the old address");
}

#[tokio::test]
async fn signup_code_is_refused_when_the_address_was_taken_meanwhile() {
    // Arrange: A starts signing up as x@; meanwhile C moves their account to x@ (an email
    // change is scoped to C's user, so A's challenge stays valid).
    let app = TestApp::spawn(&[]).await;
    let (browser_a, code_a) = started_signup(&app, "x@example.com").await;
    let browser_c = app.signed_up("c@example.com", "Cy").await;
    assert_redirect(&browser_c.change_email("x@example.com").await, "/verify", "C changes email");
    let code_c = nth_code_for(&app, "x@example.com", 2).await;
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
    let code_y = nth_code_for(&app, "y@example.com", 2).await;
    assert_redirect(&other.submit_code(&code_y).await, "/account", "the sign-up as y@ completes");

    // Act
    let submitted = browser_d.submit_code(&code_d).await;

    // Assert
    assert_page(&submitted, StatusCode::CONFLICT, "already used by another account", "D's code");
    let account = browser_d.get("/account").await;
    assert_page(&account, StatusCode::OK, "d@example.com", "D keeps the old address");
}

// ---------------------------------------------------------------------------------------------
// The code page: wrong codes, expiry, resend, cancel, reload
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_wrong_code_says_how_many_attempts_are_left() {
    let app = TestApp::spawn(&[]).await;
    let (browser, code) = started_signup(&app, "wes@example.com").await;

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
    let (browser, code) = started_signup(&app, "exp@example.com").await;
    app.clock.advance(Duration::from_secs(601));

    // Act + Assert: the page and the code both say it expired.
    let code_page = browser.get("/verify").await;
    assert_page(&code_page, StatusCode::OK, "This code has expired", "the code page after the TTL");
    let submitted = browser.submit_code(&code).await;
    assert_page(&submitted, StatusCode::BAD_REQUEST, "This code has expired", "the right code after the TTL");
    assert!(!browser.is_signed_in().await, "an expired code does not sign in");

    // Act + Assert: the cooldown passed long ago, so a new code comes and works.
    assert_redirect(&browser.resend().await, "/verify", "resend after expiry");
    let fresh = nth_code_for(&app, "exp@example.com", 2).await;
    let code_page = browser.get("/verify").await;
    assert!(!code_page.body.contains("This code has expired"), "the new code is not expired: {}", code_page.body);
    assert_redirect(&browser.submit_code(&fresh).await, "/account", "the new code");
}

#[tokio::test]
async fn too_many_wrong_codes_end_the_flow() {
    // Arrange: four wrong codes of five.
    let app = TestApp::spawn(&[]).await;
    let (browser, code) = started_signup(&app, "max@example.com").await;
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
    let (browser, code) = started_signup(&app, "res@example.com").await;

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
    let fresh = nth_code_for(&app, "res@example.com", 2).await;
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
    let (browser, _) = started_signup(&app, "lim@example.com").await;
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
    let (browser, code) = started_signup(&app, "can@example.com").await;

    // Act
    let cancelled = browser.cancel().await;

    // Assert: back to the start, nothing pending, the code creates nothing.
    assert_redirect(&cancelled, "/signup", "cancel");
    assert_redirect(&browser.get("/verify").await, "/", "the code page after cancel");
    assert_redirect(&browser.submit_code(&code).await, "/", "the code after cancel");
    assert!(!browser.is_signed_in().await);
    let again = app.browser();
    assert_redirect(&again.signup("can@example.com", "Cal").await, "/verify", "signing up again");
    let mail = nth_mail_to(&app, "can@example.com", 2).await;
    assert_eq!(mail.subject, "Confirm your email address", "no account was made, so a code comes again");
}

#[tokio::test]
async fn the_code_page_is_restored_on_reload() {
    let app = TestApp::spawn(&[]).await;
    let (browser, code) = started_signup(&app, "rel@example.com").await;

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

// ---------------------------------------------------------------------------------------------
// The development mailbox
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_dev_mailbox_lists_sent_mail_newest_first_without_smtp() {
    // Arrange: no SMTP_URL, so mail is kept for /dev/mailbox.
    let app = TestApp::spawn_with(SmtpServer::start().await, &[("APP_THROTTLE_PER_MINUTE", "10000")]).await;
    for email in ["first@example.com", "second@example.com"] {
        assert_redirect(&app.browser().signup(email, "Dev").await, "/verify", "sign-up");
    }

    // Act
    let mailbox = app.browser().get("/dev/mailbox").await;

    // Assert
    assert_page(&mailbox, StatusCode::OK, "Confirm your email address", "the development mailbox");
    let first = mailbox.body.find("data-recipient=\"first@example.com\"").expect("the first sign-up's email");
    let second = mailbox.body.find("data-recipient=\"second@example.com\"").expect("the second sign-up's email");
    assert!(second < first, "newest first");
    assert!(app.smtp.received().is_empty(), "nothing goes over SMTP");
}

#[tokio::test]
async fn the_dev_mailbox_is_not_served_with_smtp() {
    let app = TestApp::spawn(&[]).await;

    let page = app.browser().get("/dev/mailbox").await;

    assert_eq!(page.status, StatusCode::NOT_FOUND, "{}", page.body);
}

#[tokio::test]
async fn the_dev_mailbox_is_not_served_in_production() {
    let smtp = SmtpServer::start().await;
    let smtp_url = smtp.url();
    let session_key = "s".repeat(64);
    let app = TestApp::spawn_with(
        smtp,
        &[
            ("APP_ENV", "production"),
            ("PASSLOCK_API_KEY", "the-production-api-key-of-this-test"),
            ("SESSION_KEY", &session_key),
            ("SMTP_URL", &smtp_url),
            ("APP_THROTTLE_PER_MINUTE", "10000"),
        ],
    )
    .await;

    let page = app.browser().get("/dev/mailbox").await;

    assert_eq!(page.status, StatusCode::NOT_FOUND, "{}", page.body);
}
