//! The sample app on a loopback port, mail going through lettre to a real SMTP server, and
//! browsers: HTTP clients with their own cookie jars that read codes from the received mail.

use std::sync::Arc;
use std::time::{Duration, Instant};

use mailbox::clock::Clock;
use mailbox::startup::Application;
use reqwest::cookie::{CookieStore, Jar};
use reqwest::header::{COOKIE, LOCATION};
use reqwest::{StatusCode, Url};

use super::postgres::Backend;
use super::smtp_server::{ReceivedEmail, SmtpServer};
use super::{START_MS, test_settings};

pub const MAIL_WAIT: Duration = Duration::from_secs(5);

pub struct TestApp {
    pub base: String,
    /// The challenge service's REST API of this instance, if it serves one.
    pub api_base: Option<String>,
    pub clock: Clock,
    pub db: mailbox::db::Database,
    pub smtp: Arc<SmtpServer>,
    /// The settings it was started with, for [`another_instance`](Self::another_instance).
    env: Vec<(String, String)>,
    _dir: Arc<tempfile::TempDir>,
}

/// A page as the browser received it.
pub struct Page {
    pub status: StatusCode,
    pub location: Option<String>,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Page {
    /// Reads a response the way a browser shows it: status, `Location`, body.
    pub async fn read(response: reqwest::Response) -> Self {
        let status = response.status();
        let location = response.headers().get(LOCATION).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let headers = response.headers().clone();
        Self { status, location, headers, body: response.text().await.unwrap_or_default() }
    }

    pub fn redirects_to(&self, path: &str) -> bool {
        self.status == StatusCode::SEE_OTHER && self.location.as_deref() == Some(path)
    }
}

impl TestApp {
    /// The app with a manual clock, SMTP to a server of its own, and a generous throttle.
    pub async fn spawn(overrides: &[(&str, &str)]) -> Self {
        let smtp = SmtpServer::start().await;
        let smtp_url = smtp.url();
        let mut all = vec![("SMTP_URL", smtp_url.as_str()), ("APP_THROTTLE_PER_MINUTE", "10000")];
        all.extend_from_slice(overrides);
        Self::spawn_with(smtp, &all).await
    }

    /// [`spawn`](Self::spawn) on a fresh database of `backend`; PostgreSQL must be
    /// [available](super::postgres::available).
    pub async fn spawn_on(backend: Backend, overrides: &[(&str, &str)]) -> Self {
        // SQLite is `spawn`'s own default, a file in the folder the app keeps while it runs.
        if let Backend::Sqlite = backend {
            return Self::spawn(overrides).await;
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let database_url = backend.database_url(&dir).await.expect("PostgreSQL is installed");
        let mut all = vec![("DATABASE_URL", database_url.as_str())];
        all.extend_from_slice(overrides);
        Self::spawn(&all).await
    }

    pub async fn spawn_with(smtp: SmtpServer, overrides: &[(&str, &str)]) -> Self {
        let env = overrides.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
        Self::start(Arc::new(smtp), dir, Clock::manual(START_MS), env).await
    }

    /// A second instance of this app, as a load balancer would have beside it: the same
    /// settings (database, keys, mail server) and clock, on ports of its own.
    pub async fn another_instance(&self) -> Self {
        Self::start(self.smtp.clone(), self._dir.clone(), self.clock.clone(), self.env.clone()).await
    }

    async fn start(
        smtp: Arc<SmtpServer>,
        dir: Arc<tempfile::TempDir>,
        clock: Clock,
        env: Vec<(String, String)>,
    ) -> Self {
        let overrides: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let settings = test_settings(&dir, &overrides);
        let app = Application::build_with_clock(settings, clock.clone()).await.expect("app builds");
        let base = format!("http://{}", app.app_addr());
        let api_base = app.api_addr().map(|addr| format!("http://{addr}"));
        let db = app.db.clone();
        app.spawn();
        Self { base, api_base, clock, db, smtp, env, _dir: dir }
    }

    pub fn browser(&self) -> Browser {
        Browser::new(&self.base)
    }

    /// The newest email to `to`, waiting for it to arrive.
    pub async fn mail_to(&self, to: &str) -> ReceivedEmail {
        self.smtp.wait_for(to, MAIL_WAIT).await.unwrap_or_else(|| panic!("no email to {to}"))
    }

    /// The code in the newest email to `to`.
    pub async fn code_for(&self, to: &str) -> String {
        code_in(&self.mail_to(to).await, to)
    }

    /// The newest email to `to` once it has more than `seen`.
    pub async fn mail_after(&self, to: &str, seen: usize) -> ReceivedEmail {
        let deadline = Instant::now() + MAIL_WAIT;
        while self.mail_count(to) <= seen {
            assert!(Instant::now() < deadline, "{to} received no email after the first {seen}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.mail_to(to).await
    }

    /// The code in the newest email to `to` once it has more than `seen`.
    pub async fn code_after(&self, to: &str, seen: usize) -> String {
        code_in(&self.mail_after(to, seen).await, to)
    }

    /// How many emails `to` has received.
    pub fn mail_count(&self, to: &str) -> usize {
        self.smtp.received().iter().filter(|m| m.envelope_to.iter().any(|r| r.eq_ignore_ascii_case(to))).count()
    }

    /// A browser that signed up as `email` and is signed in.
    pub async fn signed_up(&self, email: &str, name: &str) -> Browser {
        let browser = self.browser();
        assert!(browser.signup(email, name).await.redirects_to("/verify"));
        let code = self.code_for(email).await;
        assert!(browser.submit_code(&code).await.redirects_to("/account"));
        browser
    }

    /// A browser that started signing up as `email` (on the code page), and the code it was sent.
    pub async fn started_signup(&self, email: &str) -> (Browser, String) {
        let browser = self.browser();
        let started = browser.signup(email, "Sam Sample").await;
        assert!(started.redirects_to("/verify"), "sign-up did not lead to /verify: {}", started.status);
        let code = self.code_for(email).await;
        (browser, code)
    }

    /// Another session of `email`'s existing account, signed in with an email code.
    pub async fn signed_in_by_email(&self, email: &str) -> Browser {
        let browser = self.browser();
        let seen = self.mail_count(email);
        assert!(browser.login(email).await.redirects_to("/verify"));
        let code = self.code_after(email, seen).await;
        assert!(browser.submit_code(&code).await.redirects_to("/account"));
        browser
    }

    /// GET `path` from a client with no cookie store, sending exactly `cookie`.
    pub async fn get_with_cookie(&self, path: &str, cookie: &str) -> reqwest::Response {
        plain_client()
            .get(format!("{}{path}", self.base))
            .header(COOKIE, cookie)
            .send()
            .await
            .expect("GET with a cookie")
    }

    /// [`get_with_cookie`](Self::get_with_cookie), read as a page.
    pub async fn page_with_cookie(&self, path: &str, cookie: &str) -> Page {
        Page::read(self.get_with_cookie(path, cookie).await).await
    }
}

/// A client with no cookie store and no redirects, for raw headers.
pub fn plain_client() -> reqwest::Client {
    mailbox::tls::install_ring_provider();
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client")
}

/// The code in `mail`, which was sent to `to`.
fn code_in(mail: &ReceivedEmail, to: &str) -> String {
    find_code(&mail.text).unwrap_or_else(|| panic!("no code in the email to {to}: {}", mail.text))
}

/// The first run of exactly six digits.
pub fn find_code(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    (0..bytes.len().saturating_sub(5)).find_map(|i| {
        let run = &bytes[i..i + 6];
        let before = i.checked_sub(1).map(|j| bytes[j].is_ascii_digit()).unwrap_or(false);
        let after = bytes.get(i + 6).is_some_and(u8::is_ascii_digit);
        (run.iter().all(u8::is_ascii_digit) && !before && !after).then(|| String::from_utf8_lossy(run).into_owned())
    })
}

pub struct Browser {
    pub http: reqwest::Client,
    pub base: String,
    jar: Arc<Jar>,
}

impl Browser {
    /// A browser with an empty cookie jar, for the app at `base`; it does not follow redirects.
    pub fn new(base: &str) -> Self {
        mailbox::tls::install_ring_provider();
        let jar = Arc::new(Jar::default());
        let http = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Browser { http, base: base.to_owned(), jar }
    }

    fn url(&self) -> Url {
        Url::parse(&self.base).expect("base URL")
    }

    /// The value of the `session` cookie this browser holds.
    pub fn session_cookie(&self) -> String {
        let header = self.jar.cookies(&self.url()).expect("a session cookie");
        let header = header.to_str().expect("an ASCII cookie header");
        header.split("; ").find_map(|pair| pair.strip_prefix("session=")).expect("a session cookie").to_owned()
    }

    /// Puts a `session` cookie of someone else's into this browser.
    pub fn plant_session_cookie(&self, value: &str) {
        self.jar.add_cookie_str(&format!("session={value}"), &self.url());
    }

    pub async fn get(&self, path: &str) -> Page {
        Page::read(self.http.get(format!("{}{path}", self.base)).send().await.expect("GET")).await
    }

    /// The session's CSRF token, as a form on any page carries it.
    pub async fn csrf(&self) -> String {
        let page = self.get("/login").await;
        let page = if page.body.contains("name=\"csrf\"") { page } else { self.get("/account").await };
        csrf_in(&page.body).expect("a form with a CSRF token")
    }

    /// Posts a form with this session's CSRF token.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let token = self.csrf().await;
        let mut form: Vec<(&str, &str)> = vec![("csrf", token.as_str())];
        form.extend_from_slice(fields);
        self.post_raw(path, &form).await
    }

    /// Posts exactly these fields (no token added).
    pub async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        Page::read(self.http.post(format!("{}{path}", self.base)).form(fields).send().await.expect("POST")).await
    }

    pub async fn signup(&self, email: &str, name: &str) -> Page {
        self.post("/signup", &[("email", email), ("name", name)]).await
    }

    pub async fn login(&self, email: &str) -> Page {
        self.post("/login", &[("email", email)]).await
    }

    pub async fn submit_code(&self, code: &str) -> Page {
        self.post("/verify", &[("code", code)]).await
    }

    /// Submits a code the app refuses, which redirects back to the code page; returns that page.
    pub async fn refused_code(&self, code: &str) -> Page {
        let submitted = self.submit_code(code).await;
        assert!(submitted.redirects_to("/verify"), "{code:?} was not refused with a redirect: {}", submitted.status);
        self.get("/verify").await
    }

    pub async fn resend(&self) -> Page {
        self.post("/verify/resend", &[]).await
    }

    pub async fn cancel(&self) -> Page {
        self.post("/verify/cancel", &[]).await
    }

    pub async fn change_email(&self, new_email: &str) -> Page {
        self.post("/account/email", &[("email", new_email)]).await
    }

    pub async fn logout(&self) -> Page {
        self.post("/logout", &[]).await
    }

    /// Whether the account page opens (a signed-in session).
    pub async fn is_signed_in(&self) -> bool {
        self.get("/account").await.status == StatusCode::OK
    }
}

pub fn csrf_in(body: &str) -> Option<String> {
    let start = body.find("name=\"csrf\" value=\"")? + "name=\"csrf\" value=\"".len();
    let end = body[start..].find('"')?;
    Some(body[start..start + end].to_owned())
}

/// A code that is not `code`.
pub fn wrong(code: &str) -> &'static str {
    if code == "000000" { "111111" } else { "000000" }
}
