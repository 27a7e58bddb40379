//! Attacks on the sample app: CSRF, sessions, enumeration, injection, throttling, failures.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use mailbox::accounts::flows::{Completed, Flow, FlowError, Flows, Pending};
use mailbox::accounts::users::{DisplayName, User, Users};
use mailbox::challenges::model::EmailAddress;
use mailbox::db::Database;
use mailbox::mail::DevMailbox;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, COOKIE, LOCATION, RETRY_AFTER, SET_COOKIE};

use crate::support::app::{Browser, Page, TestApp, csrf_in, find_code};
use crate::support::smtp_server::SmtpServer;
use crate::support::{Adapter, TestService, email};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

async fn count(db: &Database, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(db.reader()).await.unwrap()
}

async fn challenges(db: &Database) -> i64 {
    count(db, "SELECT COUNT(*) FROM challenges").await
}

async fn users(db: &Database) -> i64 {
    count(db, "SELECT COUNT(*) FROM users").await
}

/// The 403 page a form with a bad CSRF token gets.
fn assert_forbidden(page: &Page, what: &str) {
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
async fn post_with_token(browser: &Browser, path: &str, token: Option<&str>, fields: &[(&str, &str)]) -> Page {
    let mut form: Vec<(&str, &str)> = token.map(|t| ("csrf", t)).into_iter().collect();
    form.extend_from_slice(fields);
    browser.post_raw(path, &form).await
}

/// Posts `fields` to `path` once per bad token; each must get the 403 page.
async fn assert_refused_without_token(browser: &Browser, path: &str, fields: &[(&str, &str)]) {
    let real = browser.csrf().await;
    for token in bad_tokens(&real) {
        let page = post_with_token(browser, path, token.as_deref(), fields).await;
        assert_forbidden(&page, &format!("POST {path} with token {token:?}"));
    }
}

/// The page with its CSRF token (which differs per session) blanked out.
fn without_token(body: &str) -> String {
    match csrf_in(body) {
        Some(token) => body.replace(&token, "TOKEN"),
        None => body.to_owned(),
    }
}

/// A client with no cookie store and no redirects, for raw headers.
fn plain_client() -> reqwest::Client {
    mailbox::tls::install_ring_provider();
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client")
}

/// GET `path` with exactly this `Cookie` header.
async fn get_with_cookie(app: &TestApp, path: &str, cookie: &str) -> reqwest::Response {
    plain_client().get(format!("{}{path}", app.base)).header(COOKIE, cookie).send().await.expect("GET")
}

fn location(response: &reqwest::Response) -> Option<&str> {
    response.headers().get(LOCATION).and_then(|v| v.to_str().ok())
}

/// The attributes of the `session` cookie that GET /signup sets, lowercased.
async fn session_cookie_attributes(app: &TestApp) -> Vec<String> {
    let response = plain_client().get(format!("{}/signup", app.base)).send().await.expect("GET /signup");
    assert_eq!(response.status(), StatusCode::OK);
    let set_cookie = response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("session="))
        .expect("a Set-Cookie for the session")
        .to_owned();
    set_cookie.split(';').skip(1).map(|a| a.trim().to_ascii_lowercase()).collect()
}

/// A port nothing listens on.
fn unused_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

// ---------------------------------------------------------------------------------------------
// 1. CSRF
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn signup_without_a_valid_csrf_token_is_refused() {
    let app = TestApp::spawn(&[]).await;
    let browser = app.browser();
    assert_eq!(browser.get("/signup").await.status, StatusCode::OK);

    assert_refused_without_token(&browser, "/signup", &[("email", "victim@example.com"), ("name", "Victim")]).await;

    assert!(app.smtp.received().is_empty());
    assert_eq!(users(&app.db).await, 0);
    assert_eq!(challenges(&app.db).await, 0);
    assert!(browser.get("/verify").await.redirects_to("/"), "nothing is pending");
}

#[tokio::test]
async fn login_without_a_valid_csrf_token_is_refused() {
    let app = TestApp::spawn(&[]).await;
    app.signed_up("victim@example.com", "Victim").await;
    let sent_before = app.smtp.received().len();
    let challenges_before = challenges(&app.db).await;
    let browser = app.browser();

    assert_refused_without_token(&browser, "/login", &[("email", "victim@example.com")]).await;

    assert_eq!(app.smtp.received().len(), sent_before, "no code was sent");
    assert_eq!(challenges(&app.db).await, challenges_before);
    assert!(browser.get("/verify").await.redirects_to("/"), "nothing is pending");
}

#[tokio::test]
async fn code_submission_without_a_valid_csrf_token_is_refused() {
    let app = TestApp::spawn(&[]).await;
    let browser = app.browser();
    assert!(browser.signup("jane@example.com", "Jane").await.redirects_to("/verify"));
    let code = app.code_for("jane@example.com").await;

    assert_refused_without_token(&browser, "/verify", &[("code", &code)]).await;

    assert_eq!(users(&app.db).await, 0, "no account was created");
    assert!(!browser.is_signed_in().await);
    // The refusals cost nothing: the right code with the right token still works.
    assert!(browser.submit_code(&code).await.redirects_to("/account"));
}

#[tokio::test]
async fn resend_without_a_valid_csrf_token_is_refused() {
    let app = TestApp::spawn(&[]).await;
    let browser = app.browser();
    assert!(browser.signup("jane@example.com", "Jane").await.redirects_to("/verify"));
    let code = app.code_for("jane@example.com").await;
    // Past the cooldown, so only the token stands in the way.
    app.clock.advance(std::time::Duration::from_secs(31));

    assert_refused_without_token(&browser, "/verify/resend", &[]).await;

    assert_eq!(app.mail_count("jane@example.com"), 1, "no new code was sent");
    assert_eq!(challenges(&app.db).await, 1);
    assert!(browser.submit_code(&code).await.redirects_to("/account"), "the first code still works");
}

#[tokio::test]
async fn cancel_without_a_valid_csrf_token_is_refused() {
    let app = TestApp::spawn(&[]).await;
    let browser = app.browser();
    assert!(browser.signup("jane@example.com", "Jane").await.redirects_to("/verify"));
    let code = app.code_for("jane@example.com").await;

    assert_refused_without_token(&browser, "/verify/cancel", &[]).await;

    assert_eq!(browser.get("/verify").await.status, StatusCode::OK, "the code is still pending");
    assert_eq!(challenges(&app.db).await, 1, "the challenge was not deleted");
    assert!(browser.submit_code(&code).await.redirects_to("/account"));
}

#[tokio::test]
async fn email_change_without_a_valid_csrf_token_is_refused() {
    let app = TestApp::spawn(&[]).await;
    let browser = app.signed_up("jane@example.com", "Jane").await;
    let challenges_before = challenges(&app.db).await;

    assert_refused_without_token(&browser, "/account/email", &[("email", "attacker@example.com")]).await;

    assert_eq!(app.mail_count("attacker@example.com"), 0);
    assert_eq!(challenges(&app.db).await, challenges_before);
    assert!(browser.get("/verify").await.redirects_to("/"), "nothing is pending");
    assert!(browser.get("/account").await.body.contains("jane@example.com"));
}

#[tokio::test]
async fn logout_without_a_valid_csrf_token_is_refused() {
    let app = TestApp::spawn(&[]).await;
    let browser = app.signed_up("jane@example.com", "Jane").await;

    assert_refused_without_token(&browser, "/logout", &[]).await;

    assert!(browser.is_signed_in().await, "still signed in");
    assert_eq!(count(&app.db, "SELECT COUNT(*) FROM sessions WHERE user_id IS NOT NULL").await, 1);
}

#[tokio::test]
async fn a_token_from_another_session_is_refused() {
    let app = TestApp::spawn(&[]).await;
    let victim = app.signed_up("victim@example.com", "Victim").await;
    let attacker = app.browser();
    let attackers_token = attacker.csrf().await;
    let victims_token = victim.csrf().await;
    assert_ne!(attackers_token, victims_token, "each session has its own token");
    let sent_before = app.smtp.received().len();

    let forms: [(&str, &[(&str, &str)]); 4] = [
        ("/account/email", &[("email", "attacker@example.com")]),
        ("/logout", &[]),
        ("/login", &[("email", "victim@example.com")]),
        ("/signup", &[("email", "new@example.com"), ("name", "New")]),
    ];
    for (path, fields) in forms {
        let page = post_with_token(&victim, path, Some(&attackers_token), fields).await;
        assert_forbidden(&page, &format!("POST {path} with another session's token"));
    }

    assert!(victim.is_signed_in().await);
    assert_eq!(app.smtp.received().len(), sent_before, "nothing was sent");
    assert!(victim.get("/verify").await.redirects_to("/"), "nothing is pending");
}

// ---------------------------------------------------------------------------------------------
// 2. Missing or tampered sessions
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_client_without_a_session_cannot_post_a_form() {
    let app = TestApp::spawn(&[]).await;
    let client = plain_client();

    for token in ["", "anything", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"] {
        let response = client
            .post(format!("{}/verify", app.base))
            .form(&[("csrf", token), ("code", "123456")])
            .send()
            .await
            .expect("POST");
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "token {token:?}");
    }
    let response =
        client.post(format!("{}/signup", app.base)).form(&[("email", "a@example.com"), ("name", "A")]).send().await;
    assert_eq!(response.expect("POST").status(), StatusCode::FORBIDDEN);
    assert!(app.smtp.received().is_empty());
}

#[tokio::test]
async fn a_garbage_session_cookie_counts_as_no_session() {
    let app = TestApp::spawn(&[]).await;
    let garbage = format!("session={}", "A".repeat(120));

    let account = get_with_cookie(&app, "/account", &garbage).await;
    assert_eq!(account.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&account), Some("/login"));
    assert_eq!(get_with_cookie(&app, "/", &garbage).await.status(), StatusCode::OK);

    let post = plain_client()
        .post(format!("{}/verify", app.base))
        .header(COOKIE, &garbage)
        .form(&[("csrf", "A".repeat(43).as_str()), ("code", "123456")])
        .send()
        .await
        .expect("POST");
    assert_eq!(post.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_tampered_session_cookie_counts_as_no_session() {
    let app = TestApp::spawn(&[]).await;
    let browser = app.browser();
    assert!(browser.signup("jane@example.com", "Jane").await.redirects_to("/verify"));
    let code = app.code_for("jane@example.com").await;
    assert!(browser.submit_code(&code).await.redirects_to("/account"));
    let cookie = browser.session_cookie();
    // The untouched cookie works outside the browser too.
    assert_eq!(get_with_cookie(&app, "/account", &format!("session={cookie}")).await.status(), StatusCode::OK);

    let middle = cookie.len() / 2;
    let flipped = if &cookie[middle..=middle] == "A" { "B" } else { "A" };
    let tampered = format!("{}{flipped}{}", &cookie[..middle], &cookie[middle + 1..]);
    let account = get_with_cookie(&app, "/account", &format!("session={tampered}")).await;

    assert_eq!(account.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&account), Some("/login"));
}

#[tokio::test]
async fn signing_in_replaces_the_session_cookie() {
    let app = TestApp::spawn(&[]).await;
    let browser = app.browser();
    assert!(browser.signup("jane@example.com", "Jane").await.redirects_to("/verify"));
    // What an attacker could have planted before the victim signed in.
    let before = browser.session_cookie();
    let code = app.code_for("jane@example.com").await;

    assert!(browser.submit_code(&code).await.redirects_to("/account"));

    let after = browser.session_cookie();
    assert_ne!(before, after);
    let planted = get_with_cookie(&app, "/account", &format!("session={before}")).await;
    assert_eq!(planted.status(), StatusCode::SEE_OTHER, "the planted cookie is not signed in");
    assert_eq!(location(&planted), Some("/login"));
}

#[tokio::test]
async fn a_cookie_replayed_after_logout_is_not_signed_in() {
    let app = TestApp::spawn(&[]).await;
    let browser = app.browser();
    assert!(browser.signup("jane@example.com", "Jane").await.redirects_to("/verify"));
    let code = app.code_for("jane@example.com").await;
    assert!(browser.submit_code(&code).await.redirects_to("/account"));
    let cookie = format!("session={}", browser.session_cookie());

    assert!(browser.logout().await.redirects_to("/"));

    let replayed = get_with_cookie(&app, "/account", &cookie).await;
    assert_eq!(replayed.status(), StatusCode::SEE_OTHER, "the session ended on the server too");
    assert_eq!(location(&replayed), Some("/login"));
    assert_eq!(count(&app.db, "SELECT COUNT(*) FROM sessions WHERE user_id IS NOT NULL").await, 0);
}

// ---------------------------------------------------------------------------------------------
// 3. Cookie flags
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_session_cookie_is_http_only_and_same_site_lax_in_development() {
    let app = TestApp::spawn(&[]).await;

    let attributes = session_cookie_attributes(&app).await;

    assert!(attributes.contains(&"httponly".to_owned()), "{attributes:?}");
    assert!(attributes.contains(&"samesite=lax".to_owned()), "{attributes:?}");
    assert!(!attributes.contains(&"secure".to_owned()), "plain-HTTP development needs no Secure: {attributes:?}");
}

#[tokio::test]
async fn the_session_cookie_is_secure_in_production() {
    let session_key = "s".repeat(64);
    let app = TestApp::spawn(&[
        ("APP_ENV", "production"),
        ("PASSLOCK_API_KEY", "the-production-api-key-of-this-test"),
        ("SESSION_KEY", &session_key),
        ("CHALLENGE_HASH_KEY", &"h".repeat(32)),
    ])
    .await;

    let attributes = session_cookie_attributes(&app).await;

    assert!(attributes.contains(&"secure".to_owned()), "{attributes:?}");
    assert!(attributes.contains(&"httponly".to_owned()), "{attributes:?}");
    assert!(attributes.contains(&"samesite=lax".to_owned()), "{attributes:?}");
}

// ---------------------------------------------------------------------------------------------
// 4. No user enumeration
// ---------------------------------------------------------------------------------------------

/// Two people started the same flow; the answers and the code pages must not tell them apart.
async fn assert_same_answer(first: (&Browser, &Page), second: (&Browser, &Page), masked: &str) {
    let ((first, first_started), (second, second_started)) = (first, second);
    assert!(first_started.redirects_to("/verify"), "{}", first_started.status);
    assert!(second_started.redirects_to("/verify"), "{}", second_started.status);
    assert_eq!(first_started.body, second_started.body);
    let (first_page, second_page) = (first.get("/verify").await, second.get("/verify").await);
    assert_eq!((first_page.status, second_page.status), (StatusCode::OK, StatusCode::OK));
    assert!(second_page.body.contains(masked));
    assert_eq!(without_token(&first_page.body), without_token(&second_page.body));
}

/// The address that does not qualify got a notice with a link, and no code.
async fn assert_notice_without_code(app: &TestApp, to: &str, subject: &str, link: &str) {
    let notice = app.mail_to(to).await;
    assert_eq!(notice.subject, subject);
    assert!(notice.text.contains(link) && notice.html.contains(link), "{}", notice.text);
    assert_eq!(find_code(&notice.text), None, "{}", notice.text);
    assert_eq!(find_code(&notice.html), None);
}

#[tokio::test]
async fn signup_with_a_taken_address_looks_like_signup_with_a_new_one() {
    let app = TestApp::spawn(&[]).await;
    app.signed_up("a1@example.com", "Owner").await;
    let (taken, new) = (app.browser(), app.browser());

    let taken_started = taken.signup("a1@example.com", "Someone").await;
    let new_started = new.signup("a2@example.com", "Someone").await;

    assert_same_answer((&taken, &taken_started), (&new, &new_started), "a***@example.com").await;
    assert_notice_without_code(&app, "a1@example.com", "Someone tried to sign up with your email", "/login").await;
    assert!(find_code(&app.mail_to("a2@example.com").await.text).is_some(), "the new address gets a code");
}

#[tokio::test]
async fn login_with_an_unknown_address_looks_like_login_with_a_known_one() {
    let app = TestApp::spawn(&[]).await;
    app.signed_up("k1@example.com", "Known").await;
    let (known, unknown) = (app.browser(), app.browser());

    let known_started = known.login("k1@example.com").await;
    let unknown_started = unknown.login("k2@example.com").await;

    assert_same_answer((&known, &known_started), (&unknown, &unknown_started), "k***@example.com").await;
    assert_notice_without_code(&app, "k2@example.com", "There is no account for this email", "/signup").await;
    assert!(find_code(&app.mail_to("k1@example.com").await.text).is_some(), "the account holder gets a code");
}

#[tokio::test]
async fn every_branch_creates_one_challenge_and_sends_one_email() {
    let app = TestApp::spawn(&[]).await;
    app.signed_up("owner@example.com", "Owner").await;

    let attempts: [(&str, &str); 4] = [
        ("/signup", "owner@example.com"),
        ("/signup", "newcomer@example.com"),
        ("/login", "owner@example.com"),
        ("/login", "stranger@example.com"),
    ];
    for (path, address) in attempts {
        let browser = app.browser();
        let (challenges_before, mail_before) = (challenges(&app.db).await, app.smtp.received().len());

        let page = browser.post(path, &[("email", address), ("name", "Someone")]).await;

        assert!(page.redirects_to("/verify"), "POST {path} for {address}: {}", page.status);
        assert_eq!(challenges(&app.db).await, challenges_before + 1, "POST {path} for {address}: one challenge");
        let sent = app.smtp.received();
        assert_eq!(sent.len(), mail_before + 1, "POST {path} for {address}: one email");
        assert_eq!(sent.last().unwrap().envelope_to, vec![address.to_owned()]);
    }
}

#[tokio::test]
async fn no_code_signs_in_to_an_address_without_an_account() {
    let app = TestApp::spawn(&[]).await;
    let browser = app.browser();
    assert!(browser.login("nobody@example.com").await.redirects_to("/verify"));

    for (i, code) in ["000001", "000002", "000003", "000004"].into_iter().enumerate() {
        let page = browser.submit_code(code).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "attempt {}", i + 1);
        assert!(page.body.contains("That code is not right"), "attempt {}: {}", i + 1, page.body);
        assert!(!browser.is_signed_in().await);
    }
    let last = browser.submit_code("000005").await;

    assert_eq!(last.status, StatusCode::BAD_REQUEST);
    assert!(last.body.contains("Let&#39;s start over") || last.body.contains("Let's start over"), "{}", last.body);
    assert!(!browser.is_signed_in().await);
    assert!(browser.get("/verify").await.redirects_to("/"), "the pending login is gone");
    assert_eq!(users(&app.db).await, 0);
}

// ---------------------------------------------------------------------------------------------
// 5. A challenge only completes the flow it was issued for (the flows library, real engine)
// ---------------------------------------------------------------------------------------------

struct Library {
    t: TestService,
    flows: Flows,
    users: Users,
    mailbox: DevMailbox,
}

impl Library {
    async fn start() -> Self {
        let t = TestService::start(&[]).await;
        let mailbox = DevMailbox::new(t.db.clone(), t.clock.clone());
        let users = Users::new(t.db.clone(), t.clock.clone());
        let flows = Flows::new(
            t.client(Adapter::InProcess),
            users.clone(),
            Arc::new(mailbox.clone()),
            t.clock.clone(),
            "http://localhost",
            5,
        );
        Self { t, flows, users, mailbox }
    }

    async fn code_to(&self, address: &str) -> String {
        let mail = self.mailbox.latest_to(address).await.unwrap().unwrap_or_else(|| panic!("no email to {address}"));
        find_code(&mail.text).unwrap_or_else(|| panic!("no code in the email to {address}: {}", mail.text))
    }

    async fn account(&self, address: &str) -> User {
        self.users.create_verified(&email(address), &DisplayName::parse("Someone").unwrap()).await.unwrap()
    }

    async fn email_of(&self, user: &User) -> EmailAddress {
        self.users.find(user.id).await.unwrap().expect("the account").email
    }
}

/// `flow` with the challenge of `real`, as if the session's flow had been swapped.
fn forged(flow: Flow, real: &Pending) -> Pending {
    Pending {
        flow,
        challenge_id: real.challenge_id.clone(),
        secret: real.secret.clone(),
        wrong_codes: 0,
        resend_after: 0,
    }
}

#[tokio::test]
async fn an_unforged_flow_completes() {
    let lib = Library::start().await;
    let mut pending = lib.flows.start(Flow::Signup { email: "a@example.com".into(), name: "A".into() }).await.unwrap();
    let code = lib.code_to("a@example.com").await;

    let done = lib.flows.verify(&mut pending, &code).await.unwrap();

    assert!(matches!(done, Completed::SignedIn(_)), "{done:?}");
    assert_eq!(users(&lib.t.db).await, 1);
}

#[tokio::test]
async fn a_signup_challenge_does_not_complete_a_login() {
    let lib = Library::start().await;
    let signup = lib.flows.start(Flow::Signup { email: "a@example.com".into(), name: "A".into() }).await.unwrap();
    let code = lib.code_to("a@example.com").await;
    let mut login = forged(Flow::Login { email: "a@example.com".into() }, &signup);

    let result = lib.flows.verify(&mut login, &code).await;

    assert!(matches!(result, Err(FlowError::Mismatch)), "{result:?}");
    assert_eq!(users(&lib.t.db).await, 0);
}

#[tokio::test]
async fn a_login_challenge_does_not_complete_an_email_change() {
    let lib = Library::start().await;
    let user = lib.account("a@example.com").await;
    let login = lib.flows.start(Flow::Login { email: "a@example.com".into() }).await.unwrap();
    let code = lib.code_to("a@example.com").await;
    let mut change = forged(Flow::EmailChange { account: user.id, new_email: "a@example.com".into() }, &login);

    let result = lib.flows.verify(&mut change, &code).await;

    assert!(matches!(result, Err(FlowError::Mismatch)), "{result:?}");
    assert_eq!(lib.email_of(&user).await.as_str(), "a@example.com");
    assert!(lib.mailbox.latest_to("a@example.com").await.unwrap().unwrap().subject != "Your email address was changed");
}

#[tokio::test]
async fn an_email_change_challenge_of_one_user_does_not_complete_anothers() {
    let lib = Library::start().await;
    let (x, y) = (lib.account("x@example.com").await, lib.account("y@example.com").await);
    let xs = lib.flows.start(Flow::EmailChange { account: x.id, new_email: "new@example.com".into() }).await.unwrap();
    let code = lib.code_to("new@example.com").await;
    let mut ys = forged(Flow::EmailChange { account: y.id, new_email: "new@example.com".into() }, &xs);

    let result = lib.flows.verify(&mut ys, &code).await;

    assert!(matches!(result, Err(FlowError::Mismatch)), "{result:?}");
    assert_eq!(lib.email_of(&y).await.as_str(), "y@example.com");
    assert_eq!(lib.email_of(&x).await.as_str(), "x@example.com");
}

#[tokio::test]
async fn a_signup_challenge_for_one_address_does_not_sign_up_another() {
    let lib = Library::start().await;
    let for_a = lib.flows.start(Flow::Signup { email: "a@example.com".into(), name: "A".into() }).await.unwrap();
    let code = lib.code_to("a@example.com").await;
    let mut for_b = forged(Flow::Signup { email: "b@example.com".into(), name: "B".into() }, &for_a);

    let result = lib.flows.verify(&mut for_b, &code).await;

    assert!(matches!(result, Err(FlowError::Mismatch)), "{result:?}");
    assert_eq!(users(&lib.t.db).await, 0);
}

// ---------------------------------------------------------------------------------------------
// 6. SMTP down
// ---------------------------------------------------------------------------------------------

/// The app with its mail going to `smtp_url`.
async fn app_mailing_to(smtp_url: &str) -> TestApp {
    TestApp::spawn_with(SmtpServer::start().await, &[("SMTP_URL", smtp_url), ("APP_THROTTLE_PER_MINUTE", "10000")])
        .await
}

fn assert_could_not_send(page: &Page, typed_email: &str) {
    assert_eq!(page.status, StatusCode::SERVICE_UNAVAILABLE, "{}", page.body);
    assert!(page.body.contains("We could not send the email"), "{}", page.body);
    assert!(page.body.contains(&format!("value=\"{typed_email}\"")), "the form keeps the address: {}", page.body);
}

#[tokio::test]
async fn signup_with_smtp_down_fails_cleanly() {
    let app = app_mailing_to(&SmtpServer::unreachable_url()).await;
    let browser = app.browser();

    let page = browser.signup("jane@example.com", "Jane").await;

    assert_could_not_send(&page, "jane@example.com");
    assert_eq!(challenges(&app.db).await, 0, "no challenge is left behind");
    assert_eq!(users(&app.db).await, 0);
    assert!(browser.get("/verify").await.redirects_to("/"), "nothing is pending");
}

#[tokio::test]
async fn login_and_email_change_with_smtp_down_fail_cleanly() {
    let smtp = SmtpServer::start().await;
    let app = app_mailing_to(&smtp.url()).await;
    let browser = app.browser();
    assert!(browser.signup("jane@example.com", "Jane").await.redirects_to("/verify"));
    let mail = smtp.wait_for("jane@example.com", crate::support::app::MAIL_WAIT).await.expect("the code");
    assert!(browser.submit_code(&find_code(&mail.text).unwrap()).await.redirects_to("/account"));
    let challenges_before = challenges(&app.db).await;
    smtp.stop().await;

    let change = browser.change_email("new@example.com").await;
    assert_could_not_send(&change, "new@example.com");
    assert!(browser.get("/verify").await.redirects_to("/"), "no email change is pending");
    assert!(browser.get("/account").await.body.contains("jane@example.com"));

    let other = app.browser();
    let login = other.login("jane@example.com").await;
    assert_could_not_send(&login, "jane@example.com");
    assert!(other.get("/verify").await.redirects_to("/"), "no login is pending");

    assert_eq!(challenges(&app.db).await, challenges_before, "no challenge is left behind");
}

// ---------------------------------------------------------------------------------------------
// 7. The app over the HTTP adapter
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn over_http_the_flows_work_and_challenges_live_in_the_api() {
    let t = TestService::start(&[]).await;
    let endpoint = t.api_url.to_string();
    let app = TestApp::spawn(&[
        ("PASSLOCK_ENDPOINT", &endpoint),
        ("PASSLOCK_TENANCY_ID", &t.tenancy_id),
        ("PASSLOCK_API_KEY", &t.api_key),
        ("CHALLENGE_API_ADDR", ""),
    ])
    .await;

    let browser = app.signed_up("jane@example.com", "Jane").await;
    assert!(browser.logout().await.redirects_to("/"));
    assert!(!browser.is_signed_in().await);
    assert!(browser.login("jane@example.com").await.redirects_to("/verify"));
    let code = app.code_for("jane@example.com").await;
    assert!(browser.submit_code(&code).await.redirects_to("/account"));
    assert!(browser.is_signed_in().await);

    assert_eq!(challenges(&app.db).await, 0, "the app's own engine was not used");
    assert_eq!(challenges(&t.db).await, 2, "sign-up and login challenges are in the API's database");
}

#[tokio::test]
async fn with_the_api_down_signup_says_unavailable() {
    let endpoint = format!("http://127.0.0.1:{}", unused_port());
    let app = TestApp::spawn(&[("PASSLOCK_ENDPOINT", &endpoint), ("CHALLENGE_API_ADDR", "")]).await;
    let browser = app.browser();

    let page = browser.signup("jane@example.com", "Jane").await;

    assert_eq!(page.status, StatusCode::SERVICE_UNAVAILABLE, "{}", page.body);
    assert!(page.body.contains("unavailable"), "{}", page.body);
    assert!(page.body.contains("value=\"jane@example.com\""));
    assert!(app.smtp.received().is_empty());
    assert!(browser.get("/verify").await.redirects_to("/"));
}

// ---------------------------------------------------------------------------------------------
// 8. Throttle
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_burst_of_posts_is_throttled_but_pages_still_load() {
    let app = TestApp::spawn(&[("APP_THROTTLE_PER_MINUTE", "3")]).await;
    let browser = app.browser();
    let token = browser.csrf().await;
    let form = [("csrf", token.as_str()), ("email", "jane@example.com")];

    for i in 1..=3 {
        assert!(browser.post_raw("/login", &form).await.redirects_to("/verify"), "POST {i} passes");
    }
    let refused = browser.http.post(format!("{}/login", app.base)).form(&form).send().await.expect("POST");

    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = refused.headers()[RETRY_AFTER].to_str().unwrap().parse().unwrap();
    assert!(retry_after >= 1, "Retry-After {retry_after}");
    assert!(refused.headers()[CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
    assert!(refused.text().await.unwrap().contains("Too many requests"));
    assert_eq!(app.mail_count("jane@example.com"), 3, "the refused POST sent nothing");
    for path in ["/login", "/", "/verify"] {
        assert_eq!(browser.get(path).await.status, StatusCode::OK, "GET {path}");
    }
}

// ---------------------------------------------------------------------------------------------
// 9. Mail header injection
// ---------------------------------------------------------------------------------------------

const INJECTED: &str = "a@example.com\r\nBcc: evil@example.com";

/// The form said what was wrong, and nothing was sent or stored.
async fn assert_refused_without_trace(app: &TestApp, page: &Page) {
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.body);
    assert!(page.body.contains("must not contain spaces or control characters"), "{}", page.body);
    assert!(app.smtp.received().is_empty());
    assert_eq!(challenges(&app.db).await, 0);
}

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

// ---------------------------------------------------------------------------------------------
// 10. The session store
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_session_table_holds_no_usable_key() {
    let app = TestApp::spawn(&[]).await;
    let browser = app.browser();
    assert!(browser.signup("jane@example.com", "Jane").await.redirects_to("/verify"));
    let code = app.code_for("jane@example.com").await;
    assert!(browser.submit_code(&code).await.redirects_to("/account"));
    let cookie = browser.session_cookie();

    let rows: Vec<(Vec<u8>, String)> =
        sqlx::query_as("SELECT key_hash, state FROM sessions").fetch_all(app.db.reader()).await.unwrap();

    assert!(!rows.is_empty());
    for (key_hash, state) in &rows {
        assert_eq!(key_hash.len(), 32, "a SHA-256");
        let hex: String = key_hash.iter().map(|b| format!("{b:02x}")).collect();
        for encoded in [hex, STANDARD.encode(key_hash), URL_SAFE_NO_PAD.encode(key_hash)] {
            assert!(!cookie.contains(&encoded), "the cookie carries a stored hash");
        }
        assert!(!state.contains(&cookie), "the state holds the cookie");
    }
    assert_eq!(count(&app.db, "SELECT COUNT(*) FROM sessions WHERE user_id IS NOT NULL").await, 1);
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
    let login_codes: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM challenges WHERE purpose = 'login' AND user_id IS NOT NULL")
            .fetch_one(app.db.reader())
            .await
            .unwrap();
    assert_eq!(login_codes, 0, "no login challenge for the account was made");
}

#[tokio::test]
async fn a_login_code_goes_to_the_address_the_account_proved() {
    let app = TestApp::spawn(&[]).await;
    app.signed_up("Kate@corp.example", "Kate").await;

    app.browser().login("KATE@CORP.EXAMPLE").await;

    let mail = app.smtp.wait_for("kate@corp.example", crate::support::app::MAIL_WAIT).await.expect("a login email");
    assert_eq!(mail.subject, "Your sign-in code");
    assert_eq!(mail.envelope_to, vec!["Kate@corp.example".to_owned()], "the stored address, not the typed one");
}
