//! What the attack tests share: database counts, forms posted with bad CSRF tokens, raw
//! cookies and headers, and the assertions that each kind of refusal looks as it should.

use reqwest::StatusCode;
use reqwest::header::{LOCATION, SET_COOKIE};

use mailbox::db::Database;

use super::app::{Browser, Page, TestApp, csrf_in, find_code, plain_client};
use super::smtp_server::SmtpServer;

// ---------------------------------------------------------------------------------------------
// Database counts
// ---------------------------------------------------------------------------------------------

pub async fn count(db: &Database, sql: &str) -> i64 {
    db.scalar(sql).await.unwrap()
}

pub async fn challenges(db: &Database) -> i64 {
    count(db, "SELECT COUNT(*) FROM challenges").await
}

pub async fn users(db: &Database) -> i64 {
    count(db, "SELECT COUNT(*) FROM users").await
}

// ---------------------------------------------------------------------------------------------
// CSRF
// ---------------------------------------------------------------------------------------------

/// The 403 page a form with a bad CSRF token gets.
pub fn assert_forbidden(page: &Page, what: &str) {
    assert_eq!(page.status, StatusCode::FORBIDDEN, "{what}: {}", page.body);
    assert!(page.body.contains("did not come from this site"), "{what}: {}", page.body);
}

/// Every way to get the token wrong: left out, empty, altered in one character, made up.
fn bad_tokens(real: &str) -> Vec<Option<String>> {
    let mut altered = real.to_owned();
    let last = altered.pop().expect("a non-empty token");
    altered.push(if last == 'A' { 'B' } else { 'A' });
    vec![None, Some(String::new()), Some(altered), Some("x".repeat(real.len()))]
}

/// Posts `fields` with exactly this token (or none).
pub async fn post_with_token(browser: &Browser, path: &str, token: Option<&str>, fields: &[(&str, &str)]) -> Page {
    let mut form: Vec<(&str, &str)> = token.map(|t| ("csrf", t)).into_iter().collect();
    form.extend_from_slice(fields);
    browser.post_raw(path, &form).await
}

/// Posts `fields` to `path` once per bad token; each must get the 403 page.
pub async fn assert_refused_without_token(browser: &Browser, path: &str, fields: &[(&str, &str)]) {
    let real = browser.csrf().await;
    for token in bad_tokens(&real) {
        let page = post_with_token(browser, path, token.as_deref(), fields).await;
        assert_forbidden(&page, &format!("POST {path} with token {token:?}"));
    }
}

// ---------------------------------------------------------------------------------------------
// Sessions and cookies
// ---------------------------------------------------------------------------------------------

pub fn location(response: &reqwest::Response) -> Option<&str> {
    response.headers().get(LOCATION).and_then(|v| v.to_str().ok())
}

/// The `Set-Cookie` of `response` for the cookie `name`: its value and its attributes, lowercased.
fn set_cookie(response: &reqwest::Response, name: &str) -> (String, Vec<String>) {
    let header = response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("a Set-Cookie for {name}"))
        .to_owned();
    let mut parts = header.split(';');
    let value = parts.next().unwrap_or_default().trim_start_matches(&format!("{name}=")).to_owned();
    (value, parts.map(|a| a.trim().to_ascii_lowercase()).collect())
}

/// The attributes of the CSRF cookie (named `name`) that GET /signup sets, and of the
/// `session` cookie that posting its form sets (a page view alone stores no session).
pub async fn cookie_attributes(app: &TestApp, csrf_name: &str) -> (Vec<String>, Vec<String>) {
    let page = plain_client().get(format!("{}/signup", app.base)).send().await.expect("GET /signup");
    assert_eq!(page.status(), StatusCode::OK);
    let (csrf_cookie, csrf_attributes) = set_cookie(&page, csrf_name);
    let token = csrf_in(&page.text().await.expect("the page")).expect("a form token");
    let posted = plain_client()
        .post(format!("{}/signup", app.base))
        .header(reqwest::header::COOKIE, format!("{csrf_name}={csrf_cookie}"))
        .form(&[("csrf", token.as_str()), ("email", "cookie@example.com"), ("name", "Cookie")])
        .send()
        .await
        .expect("POST /signup");
    assert_eq!(posted.status(), StatusCode::SEE_OTHER);
    (set_cookie(&posted, "session").1, csrf_attributes)
}

// ---------------------------------------------------------------------------------------------
// No user enumeration
// ---------------------------------------------------------------------------------------------

/// The page with its CSRF token (which differs per session) blanked out.
fn without_token(body: &str) -> String {
    match csrf_in(body) {
        Some(token) => body.replace(&token, "TOKEN"),
        None => body.to_owned(),
    }
}

/// A page's headers but its date, with each cookie's value blanked: what may differ between
/// two visitors who must not be told apart.
fn headers_but_values_of_a_visit(page: &Page) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = page
        .headers
        .iter()
        .filter(|(name, _)| *name != reqwest::header::DATE)
        .map(|(name, value)| {
            let value = value.to_str().unwrap_or_default();
            let value = match (name == SET_COOKIE, value.split_once('=')) {
                (true, Some((cookie, rest))) => format!("{cookie}=VALUE;{}", rest.split_once(';').map_or("", |r| r.1)),
                _ => value.to_owned(),
            };
            (name.to_string(), value)
        })
        .collect();
    headers.sort();
    headers
}

/// Two answers that must be the same but for the CSRF token and cookie values.
fn assert_alike(first: &Page, second: &Page, what: &str) {
    assert_eq!((first.status, &first.location), (second.status, &second.location), "{what}");
    assert_eq!(headers_but_values_of_a_visit(first), headers_but_values_of_a_visit(second), "{what}: headers");
    assert_eq!(without_token(&first.body), without_token(&second.body), "{what}: body");
}

/// `page` with the address its person typed blanked out: the code page shows it in full to them
/// right after the form. Case-sensitive, so an address as an account has it would still show.
fn without_typed_address(page: &Page, typed: &str) -> Page {
    assert!(page.body.contains(typed), "the code page shows {typed} as typed: {}", page.body);
    let body = page.body.replace(typed, "TYPED");
    Page { status: page.status, location: page.location.clone(), headers: page.headers.clone(), body }
}

/// Two people started the same flow, each typing an address; the answers and the code pages
/// must not tell them apart but for those addresses, and a reload of either page masks the
/// address alike.
pub async fn assert_same_answer(first: (&Browser, &Page, &str), second: (&Browser, &Page, &str), masked: &str) {
    let ((first, first_started, first_typed), (second, second_started, second_typed)) = (first, second);
    assert!(first_started.redirects_to("/verify"), "{}", first_started.status);
    assert!(second_started.redirects_to("/verify"), "{}", second_started.status);
    assert_alike(first_started, second_started, "the answer to the form");
    let (first_page, second_page) = (first.get("/verify").await, second.get("/verify").await);
    assert_eq!((first_page.status, second_page.status), (StatusCode::OK, StatusCode::OK));
    let (first_page, second_page) =
        (without_typed_address(&first_page, first_typed), without_typed_address(&second_page, second_typed));
    assert_alike(&first_page, &second_page, "the code page");
    let (first_again, second_again) = (first.get("/verify").await, second.get("/verify").await);
    assert!(second_again.body.contains(masked), "the reloaded code page masks the address: {}", second_again.body);
    assert_alike(&first_again, &second_again, "the code page reloaded");
}

/// Both ask for another code; the answers and the code pages must not tell them apart either.
pub async fn assert_same_resend(first: &Browser, second: &Browser) {
    let (first_resent, second_resent) = (first.resend().await, second.resend().await);
    assert!(first_resent.redirects_to("/verify"), "{} {}", first_resent.status, first_resent.body);
    assert_alike(&first_resent, &second_resent, "the answer to resend");
    assert_alike(&first.get("/verify").await, &second.get("/verify").await, "the code page after resend");
}

/// The address that does not qualify got a notice with a link, and no code.
pub async fn assert_notice_without_code(app: &TestApp, to: &str, subject: &str, link: &str) {
    let notice = app.mail_to(to).await;
    assert_eq!(notice.subject, subject);
    assert!(notice.text.contains(link) && notice.html.contains(link), "{}", notice.text);
    assert_eq!(find_code(&notice.text), None, "{}", notice.text);
    assert_eq!(find_code(&notice.html), None);
}

// ---------------------------------------------------------------------------------------------
// Mail that cannot be sent, or must not be
// ---------------------------------------------------------------------------------------------

/// The app with its mail going to `smtp_url`.
pub async fn app_mailing_to(smtp_url: &str) -> TestApp {
    TestApp::spawn_with(SmtpServer::start().await, &[("SMTP_URL", smtp_url), ("APP_THROTTLE_PER_MINUTE", "10000")])
        .await
}

/// The code `smtp` received for `to` most recently.
pub async fn code_received(smtp: &SmtpServer, to: &str) -> String {
    let mail = smtp.wait_for(to, super::app::MAIL_WAIT).await.unwrap_or_else(|| panic!("no email to {to}"));
    find_code(&mail.text).unwrap_or_else(|| panic!("no code in the email to {to}"))
}

/// A browser that started signing up as `email` on `app`, whose mail goes to `smtp`; and its code.
pub async fn started_signup_through(app: &TestApp, smtp: &SmtpServer, email: &str) -> (Browser, String) {
    let browser = app.browser();
    assert!(browser.signup(email, "Sam Sample").await.redirects_to("/verify"));
    let code = code_received(smtp, email).await;
    (browser, code)
}

/// A browser signed up and signed in as `email` on `app`, whose mail goes to `smtp`.
pub async fn signed_up_through(app: &TestApp, smtp: &SmtpServer, email: &str) -> Browser {
    let (browser, code) = started_signup_through(app, smtp, email).await;
    assert!(browser.submit_code(&code).await.redirects_to("/account"));
    browser
}

pub fn assert_could_not_send(page: &Page, typed_email: &str) {
    assert_eq!(page.status, StatusCode::SERVICE_UNAVAILABLE, "{}", page.body);
    assert!(page.body.contains("We could not send the email"), "{}", page.body);
    assert!(page.body.contains(&format!("value=\"{typed_email}\"")), "the form keeps the address: {}", page.body);
}

/// The form said what was wrong, and nothing was sent or stored.
pub async fn assert_refused_without_trace(app: &TestApp, page: &Page) {
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.body);
    assert!(page.body.contains("must not contain spaces or control characters"), "{}", page.body);
    assert!(app.smtp.received().is_empty());
    assert_eq!(challenges(&app.db).await, 0);
}

// ---------------------------------------------------------------------------------------------
// The challenge API down
// ---------------------------------------------------------------------------------------------

/// A port nothing listens on.
pub fn unused_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}
