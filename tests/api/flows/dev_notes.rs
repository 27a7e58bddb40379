//! The developer notes ("What just happened"): in development every page carries the panel and
//! `/dev/notes` lists what the app did for this browser session, without ever a secret or a code;
//! in production neither exists and no session keeps notes.

use std::collections::HashMap;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mailbox::accounts::flows::RESEND_COOLDOWN;
use mailbox::client::dev_notes::KEPT_PER_SESSION;
use mailbox::db::on_backend;
use mailbox::settings::DEV_TENANCY_ID;
use reqwest::StatusCode;
use serde_json::Value;

use crate::support::app::{Browser, TestApp};
use crate::support::passkey::{Passkey, account_handle, account_uuid, authentication_options, finish_sign_in};

/// The notes page as a reader sees its text: the JSON bodies without HTML escapes.
async fn notes_of(browser: &Browser) -> String {
    let page = browser.get("/dev/notes").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    page.body.replace("&quot;", "\"")
}

/// The row of a check as the notes draw it.
fn check_row(name: &str, expected: &str, actual: &str, passed: bool) -> String {
    let result = if passed { r#"<td class="passed">✓ passed</td>"# } else { r#"<td class="failed">✗ failed</td>"# };
    format!(r#"<th scope="row"><code>{name}</code></th><td>{expected}</td><td>{actual}</td>{result}"#)
}

/// Every stored session's state, entry by entry.
async fn session_states(app: &TestApp) -> Vec<HashMap<String, String>> {
    let states: Vec<String> = on_backend!(app.db.reader(), pool => sqlx::query_scalar("SELECT state FROM sessions")
        .fetch_all(pool)
        .await)
    .expect("the sessions");
    states.iter().map(|state| serde_json::from_str(state).expect("a JSON map")).collect()
}

/// The pending challenge's id and secret, from the one session that has a pending code.
async fn pending_challenge(app: &TestApp) -> (String, String) {
    let pending: Vec<Value> = session_states(app)
        .await
        .iter()
        .filter_map(|state| state.get("pending").map(|value| serde_json::from_str(value).expect("pending JSON")))
        .collect();
    let [pending] = pending.as_slice() else { panic!("one pending code, not {}", pending.len()) };
    let field = |name: &str| pending[name].as_str().unwrap_or_else(|| panic!("no {name} in {pending}")).to_owned();
    (field("challenge_id"), field("secret"))
}

/// Every run of exactly six digits, as a code would show.
fn six_digit_runs(text: &str) -> Vec<&str> {
    text.split(|c: char| !c.is_ascii_digit()).filter(|run| run.len() == 6).collect()
}

#[tokio::test]
async fn the_code_page_carries_the_panel_and_the_notes_show_the_create_call_without_secret_or_code() {
    // Arrange
    let app = TestApp::spawn(&[]).await;
    let (browser, code) = app.started_signup("sam@example.com").await;
    let (challenge_id, secret) = pending_challenge(&app).await;

    // Act
    let code_page = browser.get("/verify").await;
    let notes = notes_of(&browser).await;

    // Assert
    assert!(code_page.body.contains(r#"<aside class="dev-notes""#), "{}", code_page.body);
    assert!(code_page.body.contains("What just happened") && code_page.body.contains(r#"href="/dev/notes""#));
    assert!(notes.contains("Create a challenge"), "{notes}");
    assert!(
        notes.contains(&format!("<code>POST /{DEV_TENANCY_ID}/challenges</code> → <strong>201</strong>")),
        "{notes}"
    );
    for sent in [r#""email": "sam@example.com""#, r#""purpose": "signup""#, r#""sendEmail": false"#] {
        assert!(notes.contains(sent), "the request has {sent}: {notes}");
    }
    for answered in
        [format!(r#""challengeId": "{challenge_id}""#), r#""secret": "•••""#.into(), r#""code": "•••""#.into()]
    {
        assert!(notes.contains(&answered), "the response has {answered}: {notes}");
    }
    assert!(notes.contains("keeps <code>challengeId</code> and <code>secret</code> in its server-side session"));
    assert!(notes.contains("<code>GET /"), "the code page's read is noted too: {notes}");
    for body in [&code_page.body, &notes] {
        assert!(!body.contains(&secret), "the secret is never shown: {body}");
        assert!(!six_digit_runs(body).contains(&code.as_str()), "the code is never shown: {body}");
    }
}

#[tokio::test]
async fn after_a_sign_in_code_the_notes_show_the_verify_call_and_each_check_passed() {
    // Arrange
    let app = TestApp::spawn(&[]).await;
    app.signed_up("kim@example.com", "Kim").await;
    let account = account_uuid(&app, "kim@example.com").await.to_string();

    // Act
    let browser = app.signed_in_by_email("kim@example.com").await;
    let account_page = browser.get("/account").await;
    let notes = notes_of(&browser).await;

    // Assert
    assert!(account_page.body.contains(r#"<aside class="dev-notes""#), "signed in, the panel stays");
    assert!(notes.contains(&format!("<code>POST /{DEV_TENANCY_ID}/challenges/verify</code> → <strong>200</strong>")));
    assert!(notes.contains(r#""_tag": "ChallengeVerified""#) && notes.contains(r#""userId": ""#), "{notes}");
    assert!(notes.contains("Check the verified challenge"), "{notes}");
    for (name, value) in [("purpose", "login"), ("email", "kim@example.com"), ("userId", account.as_str())] {
        assert!(notes.contains(&check_row(name, value, value, true)), "{name} checked: {notes}");
    }
    let newest = notes.find("<h3>").map(|at| &notes[at..]).unwrap_or_default();
    assert!(newest.starts_with("<h3>Check the verified challenge</h3>"), "newest first: {newest:.80}");
}

#[tokio::test]
async fn a_production_app_shows_no_panel_serves_no_notes_and_keeps_none_in_the_session() {
    // Arrange
    let session_key = "s".repeat(64);
    let app = TestApp::spawn(&[
        ("APP_ENV", "production"),
        ("PASSLOCK_API_KEY", "the-production-api-key-of-this-test"),
        ("SESSION_KEY", &session_key),
    ])
    .await;
    let (browser, code) = app.started_signup("pat@example.com").await;

    // Act
    let code_page = browser.get("/verify").await;
    let states_while_pending = session_states(&app).await;
    assert!(browser.submit_code(&code).await.redirects_to("/account"));
    let account_page = browser.get("/account").await;
    let notes = browser.get("/dev/notes").await;

    // Assert
    for page in [&code_page, &account_page] {
        assert_eq!(page.status, StatusCode::OK);
        assert!(!page.body.contains("dev-notes") && !page.body.contains("What just happened"), "{}", page.body);
    }
    assert_eq!(notes.status, StatusCode::NOT_FOUND);
    let states = [states_while_pending, session_states(&app).await].concat();
    assert!(states.iter().any(|state| state.contains_key("pending")), "the sessions were read: {states:?}");
    assert!(states.iter().all(|state| !state.contains_key("dev_notes")), "{states:?}");
}

#[tokio::test]
async fn a_session_keeps_only_its_newest_notes() {
    // Arrange: enough resends (a new code and the old one deleted, each) to fill the notes twice.
    let app = TestApp::spawn(&[("CHALLENGE_RATE_LIMIT_MAX", "100")]).await;
    let (browser, _) = app.started_signup("lee@example.com").await;

    // Act
    for _ in 0..KEPT_PER_SESSION {
        app.clock.advance(RESEND_COOLDOWN + Duration::from_secs(1));
        assert!(browser.resend().await.redirects_to("/verify"));
    }
    let notes = notes_of(&browser).await;

    // Assert
    assert_eq!(notes.matches(r#"<li class="dev-note">"#).count(), KEPT_PER_SESSION, "{notes}");
    let stored: Vec<Value> = session_states(&app)
        .await
        .iter()
        .filter_map(|state| state.get("dev_notes").map(|notes| serde_json::from_str(notes).expect("notes JSON")))
        .collect();
    assert_eq!(stored.iter().map(|notes| notes.as_array().map_or(0, Vec::len)).collect::<Vec<_>>(), [KEPT_PER_SESSION]);
    let newest = notes.find("<h3>").map(|at| &notes[at..]).unwrap_or_default();
    assert!(
        newest.starts_with("<h3>Delete the challenge</h3>"),
        "the replaced code's deletion is newest: {newest:.80}"
    );
}

#[tokio::test]
async fn another_browser_sees_none_of_a_sessions_notes() {
    // Arrange
    let app = TestApp::spawn(&[]).await;
    let (first, _) = app.started_signup("ann@example.com").await;

    // Act
    let others = notes_of(&app.browser()).await;

    // Assert
    assert!(others.contains("Nothing yet in this browser session"), "{others}");
    assert!(!others.contains("ann@example.com"), "{others}");
    assert!(notes_of(&first).await.contains("ann@example.com"), "the first browser still has its own");
}

#[tokio::test]
async fn signing_out_drops_the_sessions_notes() {
    // Arrange
    let app = TestApp::spawn(&[]).await;
    let browser = app.signed_up("bo@example.com", "Bo").await;
    assert!(notes_of(&browser).await.contains("Check the verified challenge"));

    // Act
    browser.logout().await;
    let notes = notes_of(&browser).await;

    // Assert
    assert!(notes.contains("Nothing yet in this browser session"), "{notes}");
    for state in session_states(&app).await {
        assert!(state.values().all(|value| !value.contains("bo@example.com")), "no session keeps them: {state:?}");
    }
}

#[tokio::test]
async fn the_notes_show_each_passkey_step_and_what_was_checked() {
    // Arrange: an account that enrols a passkey, signs out, and signs in with it.
    let app = TestApp::spawn(&[]).await;
    let enrolling = app.signed_up("pia@example.com", "Pia").await;
    let mut passkey = Passkey::soft();
    passkey.enrol(&app, &enrolling, "Laptop").await;
    let enrolment_notes = notes_of(&enrolling).await;
    enrolling.logout().await;
    let handle = account_handle(&app, "pia@example.com").await;
    let browser = app.browser();

    // Act
    let signed_in = passkey.sign_in(&browser, &handle).await;
    let notes = notes_of(&browser).await;

    // Assert
    assert_eq!(signed_in.redirect(), Some("/account"), "{}", signed_in.text);
    assert!(enrolment_notes.contains("<code>POST /passkeys/register/start</code> → <strong>200</strong>"));
    assert!(enrolment_notes.contains(r#""residentKey": "required""#), "{enrolment_notes}");
    assert!(enrolment_notes.contains(&check_row("clientDataJSON.type", "webauthn.create", "webauthn.create", true)));
    let accepted = check_row("challenge, attestation, user verification (webauthn-rs)", "accepted", "accepted", true);
    assert!(enrolment_notes.contains(&accepted), "{enrolment_notes}");
    assert!(notes.contains("<code>POST /passkeys/login/start</code> → <strong>200</strong>"), "{notes}");
    // The software authenticator writes the origin with a slash at the end, as a URL.
    let origin_row = check_row("clientDataJSON.origin", "http://localhost:8080", "http://localhost:8080/", true);
    assert!(notes.contains(&origin_row), "{notes}");
    assert!(notes.contains(&check_row("user verified (UV flag)", "yes", "yes", true)), "{notes}");
    assert!(notes.contains(&check_row("challenge, signature, counter (webauthn-rs)", "accepted", "accepted", true)));
}

#[tokio::test]
async fn a_passkey_answer_from_another_origin_is_noted_as_failing_its_origin_check() {
    // Arrange: a signed assertion whose client data is rewritten to name another origin.
    let app = TestApp::spawn(&[]).await;
    let enrolling = app.signed_up("ola@example.com", "Ola").await;
    let mut passkey = Passkey::soft();
    passkey.enrol(&app, &enrolling, "Laptop").await;
    enrolling.logout().await;
    let handle = account_handle(&app, "ola@example.com").await;
    let browser = app.browser();
    let options = authentication_options(&browser).await;
    let mut assertion = passkey.assert(&options.body, &handle);
    let encoded = assertion["response"]["clientDataJSON"].as_str().expect("client data").to_owned();
    let mut client_data: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(encoded).unwrap()).unwrap();
    client_data["origin"] = "https://elsewhere.example".into();
    assertion["response"]["clientDataJSON"] = URL_SAFE_NO_PAD.encode(client_data.to_string()).into();

    // Act
    let refused = finish_sign_in(&browser, &assertion).await;
    let notes = notes_of(&browser).await;

    // Assert
    assert!(refused.status.is_client_error(), "{}", refused.text);
    let origin_row = check_row("clientDataJSON.origin", "http://localhost:8080", "https://elsewhere.example", false);
    assert!(notes.contains(&origin_row), "{notes}");
    assert!(notes.contains(r#"<td>refused: "#) && notes.contains(r#"<td class="failed">✗ failed</td>"#), "{notes}");
}
