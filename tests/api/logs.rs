//! What the server writes to its log. The real binary runs at `RUST_LOG=trace`, the most it can
//! say, through a sign-up, a sign-out, a login and a create and verify over the REST API; its
//! output must hold none of the codes, secrets, API key, session cookies or addresses it saw,
//! nor the password of its database; written to a pipe, it holds no colour codes either.

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::service::log_leak::{CODE, SECRET, misbehaving_api};
use crate::support::TEST_HASH_KEY;
use crate::support::app::{Browser, MAIL_WAIT, find_code, plain_client};
use crate::support::postgres::fresh_database;
use crate::support::smtp_server::SmtpServer;

const API_KEY: &str = "log-test-api-key-0123456789abcdefghijklmnop";
const TENANCY: &str = "log-test-tenancy";
/// The test server trusts its clients, so a password in the URL is sent nowhere; it must not be
/// printed either.
const DATABASE_PASSWORD: &str = "log-test-database-password";

/// The binary, its output as it arrives, and the addresses it printed.
struct Server {
    child: Child,
    output: Arc<Mutex<String>>,
    readers: Vec<JoinHandle<()>>,
    app: String,
    api: String,
    _dir: tempfile::TempDir,
}

/// Copies everything `from` writes into `into`.
fn collect(mut from: impl Read + Send + 'static, into: Arc<Mutex<String>>) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut chunk = [0u8; 8192];
        while let Ok(n @ 1..) = from.read(&mut chunk) {
            into.lock().unwrap().push_str(&String::from_utf8_lossy(&chunk[..n]));
        }
    })
}

/// The text after `prefix` on the first line that has it, up to `end`.
fn printed(output: &str, prefix: &str, end: char) -> Option<String> {
    let line = output.lines().find_map(|line| line.split_once(prefix).map(|(_, rest)| rest.to_owned()))?;
    Some(line.split(end).next().unwrap_or_default().to_owned())
}

impl Server {
    /// The binary with mail to `smtp`, and `settings` besides the test's own.
    fn start(smtp: &SmtpServer, settings: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_mailbox-challenges"))
            .env_clear()
            .env("RUST_LOG", "trace")
            .env("APP_ADDR", "127.0.0.1:0")
            .env("CHALLENGE_API_ADDR", "127.0.0.1:0")
            .env("DATABASE_URL", format!("sqlite://{}", dir.path().join("logs.db").display()))
            .env("CHALLENGE_HASH_KEY", TEST_HASH_KEY)
            .env("SMTP_URL", smtp.url())
            .env("PASSLOCK_TENANCY_ID", TENANCY)
            .env("PASSLOCK_API_KEY", API_KEY)
            .env("APP_THROTTLE_PER_MINUTE", "10000")
            .envs(settings.iter().copied())
            .current_dir(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
        let mut server = Self {
            child,
            output: Arc::default(),
            readers: Vec::new(),
            app: String::new(),
            api: String::new(),
            _dir: dir,
        };
        server.readers = vec![
            collect(stdout.expect("piped stdout"), server.output.clone()),
            collect(stderr.expect("piped stderr"), server.output.clone()),
        ];
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let text = server.output.lock().unwrap().clone();
            if let (Some(app), Some(api)) =
                (printed(&text, "(listening on ", ')'), printed(&text, "Challenge API: ", ' '))
            {
                (server.app, server.api) = (app, api);
                return server;
            }
            assert!(Instant::now() < deadline, "the server printed no addresses:\n{text}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the server and returns all it wrote.
    fn stop(mut self) -> String {
        self.end();
        for reader in self.readers.drain(..) {
            reader.join().expect("the output reader ends");
        }
        self.output.lock().unwrap().clone()
    }

    fn end(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A test that fails half-way leaves no server running.
impl Drop for Server {
    fn drop(&mut self) {
        self.end();
    }
}

/// Whether `value` appears in `log` as a number of its own: not inside a longer run of digits,
/// nor as the fraction of a timestamp or a duration (digits after a `.`), where six digits
/// turn up by chance.
fn has_number(log: &str, value: &str) -> bool {
    log.match_indices(value).any(|(at, _)| {
        let before = log[..at].chars().next_back();
        let after = log[at + value.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_digit() || c == '.') && !after.is_some_and(|c| c.is_ascii_digit())
    })
}

async fn code_after(smtp: &SmtpServer, to: &str, seen: usize) -> String {
    let deadline = Instant::now() + MAIL_WAIT;
    loop {
        let mail: Vec<_> = smtp.received().into_iter().filter(|m| m.envelope_to.iter().any(|r| r == to)).collect();
        if mail.len() > seen {
            let text = &mail.last().unwrap().text;
            return find_code(text).unwrap_or_else(|| panic!("no code in {text}"));
        }
        assert!(Instant::now() < deadline, "no email to {to}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn logs_of_a_full_sign_up_and_login_hold_no_code_secret_key_session_or_address() {
    let log = full_sign_up_and_login(&[]).await;
    assert!(log.contains("Database:      SQLite"), "{log}");
}

#[tokio::test]
async fn logs_on_postgres_hold_none_of_these_nor_the_database_password() {
    let Some(url) = fresh_database().await else { return };
    let url = url.replacen("postgres@", &format!("postgres:{DATABASE_PASSWORD}@"), 1);

    let log = full_sign_up_and_login(&[("DATABASE_URL", &url)]).await;

    assert!(log.contains("Database:      PostgreSQL 127.0.0.1:"), "{log}");
    assert!(!log.contains(DATABASE_PASSWORD), "the database password is in the log");
}

/// Signs up, out and in, and makes and verifies a challenge over the REST API; checks that the
/// server's log kept every secret it saw, and returns the log.
async fn full_sign_up_and_login(settings: &[(&str, &str)]) -> String {
    // Arrange
    let smtp = SmtpServer::start().await;
    let server = Server::start(&smtp, settings);
    let email = "log.person@example.com";
    let browser = Browser::new(&server.app);

    // Act 1: sign up, sign out, log in with an email code.
    assert!(browser.signup(email, "Lou Logs").await.redirects_to("/verify"));
    let signup_code = code_after(&smtp, email, 0).await;
    assert!(browser.submit_code(&signup_code).await.redirects_to("/account"));
    let first_cookie = browser.session_cookie();
    assert!(browser.logout().await.redirects_to("/"));
    assert!(browser.login(email).await.redirects_to("/verify"));
    let login_code = code_after(&smtp, email, 1).await;
    assert!(browser.submit_code(&login_code).await.redirects_to("/account"));
    let second_cookie = browser.session_cookie();
    let csrf_token = browser.csrf().await;

    // Act 2: a create and a verify over the REST API, with the tenancy's key.
    let http = plain_client();
    let created: Value = http
        .post(format!("{}/{TENANCY}/challenges", server.api))
        .bearer_auth(API_KEY)
        .json(&json!({ "email": "api.person@example.com", "purpose": "login", "sendEmail": false }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let challenge = &created["challenge"];
    let (id, secret, api_code) = (
        challenge["challengeId"].as_str().unwrap(),
        challenge["secret"].as_str().unwrap(),
        challenge["code"].as_str().unwrap(),
    );
    let verified = http
        .post(format!("{}/{TENANCY}/challenges/verify", server.api))
        .bearer_auth(API_KEY)
        .json(&json!({ "challengeId": id, "secret": secret, "code": api_code }))
        .send()
        .await
        .unwrap();
    assert!(verified.status().is_success(), "{}", verified.text().await.unwrap_or_default());
    let log = server.stop();

    // Assert: the log is the verbose one, with request spans, and it kept every secret.
    assert!(log.contains("request_id="), "no request spans in the log:\n{log}");
    assert!(!log.contains('\x1b'), "colour codes in a log written to a pipe:\n{log}");
    assert!(log.contains("TRACE") || log.contains("DEBUG"), "not a verbose log:\n{log}");
    for (what, value) in [
        ("the API key", API_KEY),
        ("the challenge secret", secret),
        ("the first session cookie", first_cookie.as_str()),
        ("the second session cookie", second_cookie.as_str()),
        ("the CSRF token", csrf_token.as_str()),
        ("the address signed up", email),
        ("the address of the API challenge", "api.person@example.com"),
    ] {
        assert!(!log.contains(value), "{what} is in the log");
    }
    for (what, code) in
        [("the sign-up code", &signup_code), ("the login code", &login_code), ("the API code", &api_code.to_owned())]
    {
        assert!(!has_number(&log, code), "{what} {code} is in the log");
    }
    log
}

#[tokio::test]
async fn log_leak_of_an_api_answering_a_create_with_200_puts_no_secret_or_code_in_the_app_log() {
    // Arrange: the app calls a challenge API that answers a create with 200 instead of 201,
    // with a body that holds a secret and a code.
    let smtp = SmtpServer::start().await;
    let api = misbehaving_api(actix_web::http::StatusCode::OK);
    let server = Server::start(&smtp, &[("PASSLOCK_ENDPOINT", api.as_str())]);
    let browser = Browser::new(&server.app);

    // Act
    let page = browser.login("jane@example.com").await;
    let log = server.stop();

    // Assert: the failure was logged, with neither of the values.
    assert_eq!(page.status, reqwest::StatusCode::SERVICE_UNAVAILABLE, "{}", page.body);
    assert!(log.contains("challenge service unavailable"), "the failure is not in the log:\n{log}");
    assert!(!log.contains(SECRET), "the secret is in the log");
    assert!(!has_number(&log, CODE), "the code is in the log");
}

#[test]
fn a_code_is_found_as_a_number_but_not_inside_a_fraction() {
    assert!(has_number("code=123456 next", "123456"));
    assert!(has_number("\"123456\"", "123456"));
    assert!(!has_number("at 12:00:01.123456Z", "123456"));
    assert!(!has_number("id 91234567", "123456"));
}
