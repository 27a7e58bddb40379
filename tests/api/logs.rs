//! What the server writes to its log. The real binary runs at `RUST_LOG=trace`, the most it can
//! say, through a sign-up, a sign-out, a login and a create and verify over the REST API; its
//! output must hold none of the codes, secrets, API key, session cookies or addresses it saw,
//! nor the password of its database; written to a pipe, it holds no colour codes either; and no
//! client can write its own address or fields into the lines about its requests.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::service::log_leak::{CODE, SECRET, misbehaving_api};
use crate::support::app::{Browser, MAIL_WAIT, find_code, plain_client};
use crate::support::binary::RunningBinary;
use crate::support::postgres::fresh_database;
use crate::support::smtp_server::SmtpServer;

const API_KEY: &str = "log-test-api-key-0123456789abcdefghijklmnop";
const TENANCY: &str = "log-test-tenancy";
/// The test server trusts its clients, so a password in the URL is sent nowhere; it must not be
/// printed either.
const DATABASE_PASSWORD: &str = "log-test-database-password";

/// The binary at its most verbose with mail to `smtp`, and `settings` besides the test's own.
fn start(smtp: &SmtpServer, settings: &[(&str, &str)]) -> RunningBinary {
    let smtp_url = smtp.url();
    let mut all = vec![
        ("RUST_LOG", "trace"),
        ("SMTP_URL", smtp_url.as_str()),
        ("PASSLOCK_TENANCY_ID", TENANCY),
        ("PASSLOCK_API_KEY", API_KEY),
        ("APP_THROTTLE_PER_MINUTE", "10000"),
    ];
    all.extend_from_slice(settings);
    RunningBinary::start(&all)
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
    let server = start(&smtp, settings);
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
    let log = server.stop().await;

    // Assert: the log is the verbose one, with request spans and a line per request answered, and
    // it kept every secret.
    assert!(log.contains("request_id"), "no request spans in the log:\n{log}");
    assert!(log.contains("request answered"), "no line for the requests answered:\n{log}");
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
async fn json_logs_are_one_object_per_line_and_each_request_line_has_its_request_id() {
    // Act: the whole sign-up and API run, logged as JSON; it holds none of the secrets either.
    let log = full_sign_up_and_login(&[("LOG_FORMAT", "json")]).await;

    // Assert: every line is an object; each answered request has a line with an id of its own.
    let lines: Vec<Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|err| panic!("a line that is not JSON ({err}): {line}")))
        .collect();
    assert!(lines.iter().all(Value::is_object));
    let request_id = |line: &Value| line["spans"][0]["request_id"].clone();
    let answered: Vec<&Value> = lines.iter().filter(|line| line["message"] == "request answered").collect();
    let ids: HashSet<&str> =
        answered.iter().map(|line| line["spans"][0]["request_id"].as_str().expect("each request has an id")).collect();
    assert_eq!(ids.len(), answered.len(), "request ids repeat");
    let verify = answered
        .iter()
        .find(|line| line["http.route"] == "/{tenancyId}/challenges/verify")
        .expect("a line for the API's verify");
    assert_eq!((&verify["http.method"], &verify["http.status_code"]), (&json!("POST"), &json!(200)));
    let within_verify = lines.iter().filter(|line| request_id(line) == request_id(verify)).count();
    assert!(within_verify > 1, "what the verify logged before its answer has its request id too");
    assert!(lines.iter().any(|line| line["message"].as_str().is_some_and(|m| m.starts_with("Database: SQLite"))));
}

#[tokio::test]
async fn a_client_cannot_write_its_address_or_fields_into_the_request_lines() {
    // Arrange: the app trusts 127.0.0.1 as its proxy; the API trusts no one.
    let smtp = SmtpServer::start().await;
    let server = start(&smtp, &[("APP_TRUSTED_PROXIES", "127.0.0.1")]);
    let client = plain_client();
    let forged = "6.6.6.6 request_id=forged http.status_code=200";

    // Act: a forged header to each server, and a well-formed one through the app's proxy.
    for url in [format!("{}/login", server.app), format!("{}/{TENANCY}/challenges/none", server.api)] {
        client.get(url).header("X-Forwarded-For", forged).send().await.unwrap();
    }
    client.get(format!("{}/signup", server.app)).header("X-Forwarded-For", "203.0.113.9").send().await.unwrap();
    let log = server.stop().await;

    // Assert: the forged text is nowhere; each line names the client the server believes.
    let answered = |route: &str| {
        log.lines()
            .find(|line| line.contains("request answered") && line.contains(&format!("http.route={route} ")))
            .unwrap_or_else(|| panic!("no line for {route} in:\n{log}"))
            .to_owned()
    };
    assert!(!log.contains("6.6.6.6") && !log.contains("forged"), "the forged header is in the log:\n{log}");
    assert!(answered("/login").contains("http.client_ip=127.0.0.1 "), "{}", answered("/login"));
    let api_get = answered("/{tenancyId}/challenges/{challengeId}");
    assert!(api_get.contains("http.client_ip=127.0.0.1 http.status_code=403 exception.message="), "{api_get}");
    assert!(answered("/signup").contains("http.client_ip=203.0.113.9 "), "{}", answered("/signup"));
}

#[tokio::test]
async fn an_error_that_quotes_the_request_cannot_start_a_line_of_its_own() {
    // Arrange: a signed-in person, whose `/reauth?for=` names an unknown change: serde's error
    // quotes the unknown name as it came, and the request's line carries the error's message.
    let smtp = SmtpServer::start().await;
    let server = start(&smtp, &[]);
    let browser = Browser::new(&server.app);
    assert!(browser.signup("lines.person@example.com", "Lin Lines").await.redirects_to("/verify"));
    let code = code_after(&smtp, "lines.person@example.com", 0).await;
    assert!(browser.submit_code(&code).await.redirects_to("/account"));
    let forged = "2030-01-01T00:00:00.000000Z  INFO forged: the attacker wrote this line";

    // Act
    let page = browser.get(&format!("/reauth?for=add-passkey%0D%0A{}", forged.replace(' ', "%20"))).await;
    let log = server.stop().await;

    // Assert: refused, and the text is in the log only inside the request's own line, escaped.
    assert_eq!(page.status, reqwest::StatusCode::BAD_REQUEST);
    assert!(!log.lines().any(|line| line.starts_with("2030-01-01")), "a forged line:\n{log}");
    let answered = log.lines().find(|line| line.contains("http.route=/reauth ")).expect("the request's line");
    assert!(answered.contains(r"add-passkey\r\n2030-01-01"), "{answered}");
}

#[tokio::test]
async fn a_challenge_id_with_a_line_break_cannot_start_a_line_of_its_own() {
    // Arrange: the engine's spans record the challenge id a client names (at `RUST_LOG=trace`).
    let smtp = SmtpServer::start().await;
    let server = start(&smtp, &[]);
    let forged = "2030-01-01T00:00:00.000000Z  INFO forged: the attacker wrote this line";
    let id = format!("no-such-challenge\r\n{forged}");

    // Act: the id in a verify's body and, percent-encoded, in a get's path.
    let verify = plain_client()
        .post(format!("{}/{TENANCY}/challenges/verify", server.api))
        .bearer_auth(API_KEY)
        .json(&json!({ "challengeId": id, "secret": "a-secret", "code": "123456" }))
        .send()
        .await
        .unwrap();
    let get = plain_client()
        .get(format!(
            "{}/{TENANCY}/challenges/{}",
            server.api,
            id.replace('\r', "%0D").replace('\n', "%0A").replace(' ', "%20")
        ))
        .bearer_auth(API_KEY)
        .send()
        .await
        .unwrap();
    let log = server.stop().await;

    // Assert: both refused, and no line of the log is the client's.
    assert!(
        verify.status().is_client_error() && get.status().is_client_error(),
        "{} {}",
        verify.status(),
        get.status()
    );
    assert!(log.contains("no-such-challenge"), "the engine's span did not record the id:\n{log}");
    assert!(!log.lines().any(|line| line.starts_with("2030-01-01")), "a forged line:\n{log}");
}

#[tokio::test]
async fn a_value_sent_with_the_wrong_type_is_not_echoed_into_the_answer_or_the_log() {
    // Arrange
    let smtp = SmtpServer::start().await;
    let server = start(&smtp, &[]);
    let verify = format!("{}/{TENANCY}/challenges/verify", server.api);

    // Act: a code sent as a number, and a challenge id as one.
    let sent = [
        (json!({"challengeId": "c", "secret": "s", "code": 654_321}), "654321", "code: invalid type: integer"),
        (json!({"challengeId": 987_654, "secret": "s", "code": "1"}), "987654", "challengeId: invalid type: integer"),
    ];
    let mut answers = Vec::new();
    for (body, _, _) in &sent {
        let answer = plain_client().post(&verify).bearer_auth(API_KEY).json(body).send().await.unwrap();
        assert_eq!(answer.status(), reqwest::StatusCode::BAD_REQUEST);
        answers.push(answer.text().await.unwrap());
    }
    let log = server.stop().await;

    // Assert: each answer still names the field and its wrong kind; neither it nor the log holds the value.
    for ((_, value, says), answer) in sent.iter().zip(&answers) {
        assert!(answer.contains(says), "{answer}");
        assert!(!has_number(answer, value), "{answer}");
        assert!(!has_number(&log, value), "{value} is in the log:\n{log}");
    }
}

#[tokio::test]
async fn log_leak_of_an_api_answering_a_create_with_200_puts_no_secret_or_code_in_the_app_log() {
    // Arrange: the app calls a challenge API that answers a create with 200 instead of 201,
    // with a body that holds a secret and a code.
    let smtp = SmtpServer::start().await;
    let api = misbehaving_api(actix_web::http::StatusCode::OK);
    let server = start(&smtp, &[("PASSLOCK_ENDPOINT", api.as_str())]);
    let browser = Browser::new(&server.app);

    // Act
    let page = browser.login("jane@example.com").await;
    let log = server.stop().await;

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

#[tokio::test]
async fn a_request_line_names_its_route_and_not_its_query_which_may_hold_an_address() {
    let server = RunningBinary::start(&[]);
    let address = "query.person@example.com";

    let answer = plain_client().get(format!("{}/dev/mailbox?to={address}", server.app)).send().await.unwrap();
    let log = server.stop().await;

    assert_eq!(answer.status(), reqwest::StatusCode::OK);
    assert!(log.contains("http.route=/dev/mailbox"), "no line for the request:\n{log}");
    assert!(!log.contains(address), "the address in the query is in the log:\n{log}");
}
