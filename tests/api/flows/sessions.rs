//! "Where you're signed in" on the account page: every session of the account with the device
//! it signed in on, this one marked; signing out another one, or all the others; never a
//! session of someone else's account. The storage-facing cases run on SQLite and PostgreSQL.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::USER_AGENT;

use crate::support::app::{Browser, Page, TestApp};
use crate::support::pages::{assert_page, assert_redirect, attribute};
use crate::support::passkey::recover;
use crate::support::postgres::{Backend, available};
use crate::support::security::{assert_refused_without_token, count};

const PHONE: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) \
                     Chrome/124.0.0.0 Mobile Safari/537.36";
const LAPTOP: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0";
const TABLET: &str = "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) \
                      Version/17.4 Mobile/15E148 Safari/604.1";

const SIGNED_IN_SESSIONS: &str = "SELECT COUNT(*) FROM sessions WHERE user_id IS NOT NULL";

/// SQLite, and PostgreSQL where it is installed.
fn backends() -> Vec<Backend> {
    if available() { vec![Backend::Sqlite, Backend::Postgres] } else { vec![Backend::Sqlite] }
}

/// Submits `code` from `browser` saying it is `user_agent`: a session is tagged with the device
/// it signs in on.
async fn submit_code_on(browser: &Browser, code: &str, user_agent: &str) -> Page {
    let token = browser.csrf().await;
    let form = [("csrf", token.as_str()), ("code", code)];
    let sent = browser.http.post(format!("{}/verify", browser.base)).header(USER_AGENT, user_agent).form(&form);
    Page::read(sent.send().await.expect("POST /verify")).await
}

/// A browser on `user_agent` that signed up as `email` and is signed in.
async fn signed_up_on(app: &TestApp, email: &str, user_agent: &str) -> Browser {
    let browser = app.browser();
    assert_redirect(&browser.signup(email, "Jane").await, "/verify", "signing up");
    let code = app.code_for(email).await;
    assert_redirect(&submit_code_on(&browser, &code, user_agent).await, "/account", "the sign-up code");
    browser
}

/// Another browser on `user_agent`, signed in to `email`'s account with an email code.
async fn signed_in_on(app: &TestApp, email: &str, user_agent: &str) -> Browser {
    let browser = app.browser();
    let seen = app.mail_count(email);
    assert_redirect(&browser.login(email).await, "/verify", "signing in");
    let code = app.code_after(email, seen).await;
    assert_redirect(&submit_code_on(&browser, &code, user_agent).await, "/account", "the sign-in code");
    browser
}

/// One entry of "Where you're signed in".
struct Listed {
    device: String,
    this: bool,
    /// Where its Sign out button posts.
    sign_out: Option<String>,
    html: String,
}

/// The entries of "Where you're signed in" on `browser`'s account page, in the page's order.
async fn listed_for(browser: &Browser) -> (Page, Vec<Listed>) {
    let page = browser.get("/account").await;
    assert_page(&page, StatusCode::OK, "Where you're signed in", "the account page");
    let start = page.body.find(r#"<ul class="sessions">"#).expect("the list of sessions");
    let list = &page.body[start..start + page.body[start..].find("</ul>").expect("the list's end")];
    let entries = list
        .split("<li>")
        .skip(1)
        .map(|item| Listed {
            device: element_text(item, r#"<strong class="name">"#, "</strong>"),
            this: item.contains("This device"),
            sign_out: attribute(item, "action").map(str::to_owned),
            html: item.to_owned(),
        })
        .collect();
    (page, entries)
}

fn element_text(html: &str, open: &str, close: &str) -> String {
    let start = html.find(open).expect("the element") + open.len();
    html[start..start + html[start..].find(close).expect("its end")].to_owned()
}

/// The entry on `device`, which must be listed once.
fn entry<'a>(entries: &'a [Listed], device: &str) -> &'a Listed {
    let matching: Vec<&Listed> = entries.iter().filter(|listed| listed.device == device).collect();
    assert_eq!(matching.len(), 1, "{device} is listed once");
    matching[0]
}

async fn both_browsers_are_listed_with_their_device_and_this_one_marked(backend: Backend) {
    // Arrange
    let app = TestApp::spawn_on(backend, &[]).await;
    let phone = signed_up_on(&app, "jane@example.com", PHONE).await;
    let laptop = signed_in_on(&app, "jane@example.com", LAPTOP).await;

    // Act
    let (page, on_laptop) = listed_for(&laptop).await;
    let (_, on_phone) = listed_for(&phone).await;

    // Assert: this one first and marked, with no Sign out of its own; the other one can be signed out.
    assert_eq!(on_laptop.len(), 2, "{backend:?}: {}", page.body);
    assert_eq!(on_laptop[0].device, "Firefox on Windows");
    assert!(on_laptop[0].this && on_laptop[0].sign_out.is_none(), "{}", on_laptop[0].html);
    assert!(on_laptop[0].html.contains("active now"), "{}", on_laptop[0].html);
    let other = entry(&on_laptop, "Chrome on Android");
    assert!(!other.this, "{}", other.html);
    assert!(other.sign_out.as_deref().is_some_and(|path| path.starts_with("/account/sessions/")), "{}", other.html);
    assert!(other.html.contains(r#"aria-label="Sign out Chrome on Android""#), "{}", other.html);
    let signed_in = r#"Signed in <time datetime="2026-01-01T00:00:00Z""#;
    assert!(other.html.contains(signed_in), "when it signed in, as a moment: {}", other.html);
    assert!(page.body.contains("Sign out everywhere else"), "{}", page.body);
    assert!(!page.body.contains(&laptop.session_cookie()), "the page carries no session cookie");
    assert_eq!(on_phone[0].device, "Chrome on Android");
    assert!(on_phone[0].this && !entry(&on_phone, "Firefox on Windows").this, "the phone marks itself");
}

#[tokio::test]
async fn both_browsers_of_an_account_are_listed_with_their_device_and_this_one_marked() {
    for backend in backends() {
        both_browsers_are_listed_with_their_device_and_this_one_marked(backend).await;
    }
}

async fn signing_out_the_other_browser_ends_it(backend: Backend) {
    // Arrange
    let app = TestApp::spawn_on(backend, &[]).await;
    let phone = signed_up_on(&app, "jane@example.com", PHONE).await;
    let laptop = signed_in_on(&app, "jane@example.com", LAPTOP).await;
    let (_, listed) = listed_for(&laptop).await;
    let path = entry(&listed, "Chrome on Android").sign_out.clone().expect("a Sign out form");

    // Act
    let signed_out = laptop.post(&path, &[]).await;

    // Assert: the phone's next request is signed out; the laptop stays, alone on its list.
    assert_redirect(&signed_out, "/account", "signing out the phone");
    assert!(phone.get("/account").await.redirects_to("/login"), "{backend:?}: the phone is signed out");
    let (page, listed) = listed_for(&laptop).await;
    assert!(page.body.contains("Chrome on Android was signed out."), "{}", page.body);
    assert_eq!(listed.len(), 1, "{}", page.body);
    assert!(listed[0].this);
    assert!(!page.body.contains("Sign out everywhere else"), "no one else to sign out: {}", page.body);
    assert_eq!(count(&app.db, SIGNED_IN_SESSIONS).await, 1);
}

#[tokio::test]
async fn signing_out_another_session_ends_it_and_only_it() {
    for backend in backends() {
        signing_out_the_other_browser_ends_it(backend).await;
    }
}

async fn everywhere_else_ends_all_but_this_one(backend: Backend) {
    // Arrange: Jane on three devices and in a recovery on a fourth; Max on his own.
    let app = TestApp::spawn_on(backend, &[]).await;
    let laptop = signed_up_on(&app, "jane@example.com", LAPTOP).await;
    let phone = signed_in_on(&app, "jane@example.com", PHONE).await;
    let tablet = signed_in_on(&app, "jane@example.com", TABLET).await;
    let recovering = app.browser();
    assert_redirect(&recover(&app, &recovering, "jane@example.com").await, "/recover/passkey", "a recovery");
    let max = signed_up_on(&app, "max@example.com", PHONE).await;

    // Act
    let signed_out = laptop.post("/account/sessions/sign-out-others", &[]).await;

    // Assert
    assert_redirect(&signed_out, "/account", "signing out everywhere else");
    assert!(phone.get("/account").await.redirects_to("/login"), "{backend:?}: the phone is signed out");
    assert!(tablet.get("/account").await.redirects_to("/login"), "the tablet is signed out");
    assert!(recovering.get("/recover/passkey").await.redirects_to("/recover"), "the recovery has ended");
    assert!(max.is_signed_in().await, "another account's session is untouched");
    let (page, listed) = listed_for(&laptop).await;
    assert!(page.body.contains("Signed out everywhere else (3 other sessions)."), "{}", page.body);
    assert_eq!(listed.len(), 1, "{}", page.body);
    assert_eq!(listed[0].device, "Firefox on Windows");
    assert_eq!(count(&app.db, SIGNED_IN_SESSIONS).await, 2, "the laptop's and Max's");
}

#[tokio::test]
async fn signing_out_everywhere_else_ends_every_session_of_the_account_but_this_one() {
    for backend in backends() {
        everywhere_else_ends_all_but_this_one(backend).await;
    }
}

async fn another_accounts_session_id_ends_nothing(backend: Backend) {
    // Arrange: Mallory has learnt the id of Jane's phone session.
    let app = TestApp::spawn_on(backend, &[]).await;
    let jane = signed_up_on(&app, "jane@example.com", LAPTOP).await;
    let janes_phone = signed_in_on(&app, "jane@example.com", PHONE).await;
    let (_, listed) = listed_for(&jane).await;
    let janes_path = entry(&listed, "Chrome on Android").sign_out.clone().expect("a Sign out form");
    let mallory = signed_up_on(&app, "mallory@example.com", PHONE).await;

    // Act
    let attempt = mallory.post(&janes_path, &[]).await;

    // Assert: told it had ended, as for any id that is not one of hers; Jane's sessions stay.
    assert_redirect(&attempt, "/account", "another account's session id");
    let page = mallory.get("/account").await;
    assert_page(&page, StatusCode::OK, "That session had already ended.", "Mallory's account page");
    assert!(janes_phone.is_signed_in().await, "{backend:?}: Jane's phone is still signed in");
    assert!(jane.is_signed_in().await);
    assert!(mallory.is_signed_in().await);
    assert_eq!(count(&app.db, SIGNED_IN_SESSIONS).await, 3);
}

#[tokio::test]
async fn an_id_of_another_accounts_session_ends_nothing() {
    for backend in backends() {
        another_accounts_session_id_ends_nothing(backend).await;
    }
}

#[tokio::test]
async fn an_id_that_cannot_be_a_session_reads_as_already_ended_and_never_fails() {
    // Arrange
    let app = TestApp::spawn(&[]).await;
    let browser = signed_up_on(&app, "jane@example.com", LAPTOP).await;
    let too_long = "A".repeat(500);

    for id in ["x", "AAAAAAAAAAAAAAAAAAAAAA", "%2E%2E%2Faccount", "'%20OR%201=1--", too_long.as_str()] {
        // Act
        let attempt = browser.post(&format!("/account/sessions/{id}/sign-out"), &[]).await;

        // Assert
        assert_redirect(&attempt, "/account", &format!("the id {id:?}"));
        assert_page(&browser.get("/account").await, StatusCode::OK, "That session had already ended.", id);
    }
    assert_eq!(count(&app.db, SIGNED_IN_SESSIONS).await, 1);
}

#[tokio::test]
async fn signing_out_this_session_by_its_own_id_signs_it_out() {
    // Arrange: its own id, which the page offers no button for.
    let app = TestApp::spawn(&[]).await;
    let laptop = signed_up_on(&app, "jane@example.com", LAPTOP).await;
    let phone = signed_in_on(&app, "jane@example.com", PHONE).await;
    let (_, listed) = listed_for(&phone).await;
    let phone_path = entry(&listed, "Chrome on Android").sign_out.clone();
    assert!(phone_path.is_none(), "no Sign out beside this device");
    let (_, listed) = listed_for(&laptop).await;
    let own_path = entry(&listed, "Chrome on Android").sign_out.clone().expect("the laptop's form");

    // Act
    let signed_out = phone.post(&own_path, &[]).await;

    // Assert
    assert_redirect(&signed_out, "/", "signing this session out by its id");
    assert_page(&phone.get("/").await, StatusCode::OK, "You are signed out.", "the home page");
    assert!(!phone.is_signed_in().await);
    assert!(laptop.is_signed_in().await);
}

async fn last_seen_moves_after_time_passes(backend: Backend) {
    // Arrange: both signed in at 00:00.
    let app = TestApp::spawn_on(backend, &[]).await;
    let laptop = signed_up_on(&app, "jane@example.com", LAPTOP).await;
    let phone = signed_in_on(&app, "jane@example.com", PHONE).await;
    let phone_seen = |at: &str| format!(r#"last seen <time datetime="2026-01-01T{at}Z""#);
    let (_, listed) = listed_for(&laptop).await;
    assert!(entry(&listed, "Chrome on Android").html.contains(&phone_seen("00:00:00")));

    // Act 1: the phone is used ten minutes later.
    app.clock.advance(Duration::from_secs(10 * 60));
    assert_eq!(phone.get("/").await.status, StatusCode::OK);

    // Assert 1
    let (_, listed) = listed_for(&laptop).await;
    let html = &entry(&listed, "Chrome on Android").html;
    assert!(html.contains(&phone_seen("00:10:00")), "{backend:?}: {html}");
    assert!(html.contains(r#"Signed in <time datetime="2026-01-01T00:00:00Z""#), "{html}");

    // Act 2 + Assert 2: used again within five minutes, it is not written again...
    app.clock.advance(Duration::from_secs(4 * 60));
    assert_eq!(phone.get("/").await.status, StatusCode::OK);
    let (_, listed) = listed_for(&laptop).await;
    assert!(entry(&listed, "Chrome on Android").html.contains(&phone_seen("00:10:00")));

    // ...and five minutes after the last write, it is.
    app.clock.advance(Duration::from_secs(60));
    assert_eq!(phone.get("/").await.status, StatusCode::OK);
    let (_, listed) = listed_for(&laptop).await;
    assert!(entry(&listed, "Chrome on Android").html.contains(&phone_seen("00:15:00")));
}

#[tokio::test]
async fn last_seen_moves_when_a_session_is_used_after_time_passes_at_most_every_five_minutes() {
    for backend in backends() {
        last_seen_moves_after_time_passes(backend).await;
    }
}

#[tokio::test]
async fn a_recovery_session_is_listed_as_recovering_and_can_be_signed_out() {
    // Arrange: someone is recovering Jane's account on an unknown device.
    let app = TestApp::spawn(&[]).await;
    let laptop = signed_up_on(&app, "jane@example.com", LAPTOP).await;
    let recovering = app.browser();
    assert_redirect(&recover(&app, &recovering, "jane@example.com").await, "/recover/passkey", "a recovery");

    // Act 1
    let (_, listed) = listed_for(&laptop).await;

    // Assert 1: labelled as the recovery it is.
    let recovery = entry(&listed, "Unknown browser");
    assert!(recovery.html.contains("Recovering the account"), "{}", recovery.html);
    assert!(recovery.html.contains("Recovery started <time"), "{}", recovery.html);
    assert!(!entry(&listed, "Firefox on Windows").html.contains("Recovering"), "the laptop is signed in");

    // Act 2
    let path = recovery.sign_out.clone().expect("a Sign out form");
    assert_redirect(&laptop.post(&path, &[]).await, "/account", "ending the recovery");

    // Assert 2
    assert!(recovering.get("/recover/passkey").await.redirects_to("/recover"), "the recovery has ended");
    assert_eq!(listed_for(&laptop).await.1.len(), 1);
}

#[tokio::test]
async fn a_hostile_user_agent_is_listed_as_an_unknown_browser() {
    let app = TestApp::spawn(&[]).await;
    let laptop = signed_up_on(&app, "jane@example.com", LAPTOP).await;
    let hostile = format!("<script>alert(1)</script>{}", "A".repeat(10_000));
    signed_in_on(&app, "jane@example.com", &hostile).await;

    let (page, listed) = listed_for(&laptop).await;

    assert!(listed.iter().any(|listed| listed.device == "Unknown browser"), "{}", page.body);
    assert!(!page.body.contains("alert(1)"), "nothing of the header is shown: {}", page.body);
}

#[tokio::test]
async fn the_sign_out_forms_need_the_form_token() {
    // Arrange
    let app = TestApp::spawn(&[]).await;
    let laptop = signed_up_on(&app, "jane@example.com", LAPTOP).await;
    let phone = signed_in_on(&app, "jane@example.com", PHONE).await;
    let (_, listed) = listed_for(&laptop).await;
    let path = entry(&listed, "Chrome on Android").sign_out.clone().expect("a Sign out form");

    // Act + Assert
    assert_refused_without_token(&laptop, &path, &[]).await;
    assert_refused_without_token(&laptop, "/account/sessions/sign-out-others", &[]).await;
    assert!(phone.is_signed_in().await);
    assert_eq!(count(&app.db, SIGNED_IN_SESSIONS).await, 2);
}
