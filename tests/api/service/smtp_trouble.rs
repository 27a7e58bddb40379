//! An SMTP server that accepts a message and then stalls, or drops the connection in the middle
//! of one: the API's create with `sendEmail: true` and the app's sign-up answer within the send
//! timeout with the error they give for any mail failure, leave no challenge behind, and the
//! next email goes out once the server behaves.

use std::time::{Duration, Instant};

use mailbox::mail::smtp::SEND_TIMEOUT;
use reqwest::StatusCode;

use crate::support::TestService;
use crate::support::hostile_smtp::{HostileSmtp, Misbehaviour};
use crate::support::security::{app_mailing_to, assert_could_not_send, challenges, users};

/// The send timeout and time to spare for the rest of the request on a busy machine.
const BOUND: Duration = SEND_TIMEOUT.saturating_add(Duration::from_secs(3));

/// A create sent raw, as it is on the wire, and the time its answer took. Gives up at `BOUND`
/// (and a little more), so that a create that hangs fails the test instead of stalling it.
async fn create_sending(t: &TestService, email: &str) -> (StatusCode, serde_json::Value, Duration) {
    let body = serde_json::json!({ "email": email, "purpose": "login", "sendEmail": true });
    let started = Instant::now();
    let answer = t
        .create_request(&body)
        .timeout(BOUND + Duration::from_secs(2))
        .send()
        .await
        .unwrap_or_else(|err| panic!("no answer within {BOUND:?}: {err}"));
    let status = answer.status();
    let body = answer.json().await.expect("a JSON body");
    (status, body, started.elapsed())
}

async fn api_create_fails_cleanly_then_recovers(misbehaviour: Misbehaviour) {
    let smtp = HostileSmtp::start(misbehaviour, 1).await;
    let t = TestService::start(&[("SMTP_URL", &smtp.url())]).await;

    let (status, body, took) = create_sending(&t, "jane@example.com").await;

    assert!(took <= BOUND, "{misbehaviour:?}: answered after {took:?}");
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{misbehaviour:?}: {body}");
    assert_eq!(body, serde_json::json!({ "message": "The challenge service failed. Try again later." }));
    assert_eq!(challenges(&t.db).await, 0, "{misbehaviour:?}: the unsent challenge is deleted");
    assert!(smtp.delivered().is_empty());

    // The server behaves again: the next email goes out, on a connection of its own.
    let (status, body, took) = create_sending(&t, "sam@example.com").await;
    assert!(status.is_success(), "{misbehaviour:?}: {status} {body}");
    assert!(took <= BOUND, "{misbehaviour:?}: answered after {took:?}");
    assert_eq!(smtp.delivered().len(), 1, "{misbehaviour:?}: {:?}", smtp.delivered());
    assert!(smtp.delivered()[0].contains("sam@example.com"));
    assert_eq!(challenges(&t.db).await, 1);
}

#[tokio::test]
async fn smtp_hanging_after_data_fails_the_create_within_the_send_timeout() {
    api_create_fails_cleanly_then_recovers(Misbehaviour::HangAfterData).await;
}

#[tokio::test]
async fn smtp_dropping_mid_message_fails_the_create_at_once() {
    api_create_fails_cleanly_then_recovers(Misbehaviour::DropMidMessage).await;
}

#[tokio::test]
async fn signup_with_smtp_hanging_after_data_says_so_within_the_send_timeout() {
    let smtp = HostileSmtp::start(Misbehaviour::HangAfterData, usize::MAX).await;
    let app = app_mailing_to(&smtp.url()).await;
    let browser = app.browser();

    let started = Instant::now();
    let page = tokio::time::timeout(BOUND, browser.signup("jane@example.com", "Jane")).await;
    let took = started.elapsed();

    let page = page.unwrap_or_else(|_| panic!("the sign-up page did not answer within {BOUND:?}"));
    assert!(took >= SEND_TIMEOUT.saturating_sub(Duration::from_millis(500)), "it did not wait for the mail: {took:?}");
    assert_could_not_send(&page, "jane@example.com");
    assert_eq!(challenges(&app.db).await, 0, "no challenge is left behind");
    assert_eq!(users(&app.db).await, 0);
    assert!(browser.get("/verify").await.redirects_to("/"), "nothing is pending");
}
