//! `GET /metrics`: served only with `METRICS=true` and only on the API's listener; then the exact
//! counts of what the service did, request durations by route pattern, and no address, id or key
//! anywhere in it.

use mailbox::challenges::model::{Code, NewChallenge};
use mailbox::client::ClientError;
use mailbox::settings::{DEV_API_KEY, DEV_TENANCY_ID};
use reqwest::StatusCode;

use crate::support::app::{TestApp, plain_client};
use crate::support::smtp_server::SmtpServer;
use crate::support::{Adapter, TestService, request};

/// The metrics of the API at `api`, with the status they came with.
async fn scrape(api: &str) -> (StatusCode, String) {
    let res = plain_client().get(format!("{api}/metrics")).send().await.expect("an answer");
    (res.status(), res.text().await.unwrap())
}

/// The value of the sample named `series` (with its labels, as written), which must be there.
fn sample(metrics: &str, series: &str) -> f64 {
    let line = metrics.lines().find(|line| line.rsplit_once(' ').is_some_and(|(name, _)| name == series));
    let value = line.and_then(|line| line.rsplit_once(' ')).map(|(_, value)| value);
    value.and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("no {series} in\n{metrics}"))
}

/// The number of requests timed for `method route status` on the API's listener.
fn requests(metrics: &str, method: &str, route: &str, status: u16) -> f64 {
    let labels = format!(r#"listener="api",method="{method}",route="{route}",status="{status}""#);
    sample(metrics, &format!("http_request_duration_seconds_count{{{labels}}}"))
}

#[tokio::test]
async fn metrics_are_served_only_when_asked_for_and_only_on_the_api_listener() {
    let off = TestApp::spawn(&[]).await;
    assert_eq!(scrape(off.api_base.as_deref().unwrap()).await.0, StatusCode::NOT_FOUND);

    let on = TestApp::spawn(&[("METRICS", "true")]).await;
    let res = plain_client().get(format!("{}/metrics", on.api_base.as_deref().unwrap())).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "text/plain; version=0.0.4; charset=utf-8");
    assert_eq!(scrape(&on.base).await.0, StatusCode::NOT_FOUND, "the app's listener does not serve them");
}

#[tokio::test]
async fn counters_show_exactly_what_was_created_verified_refused_and_rate_limited() {
    // Arrange
    let t = TestService::start(&[("METRICS", "true"), ("CHALLENGE_RATE_LIMIT_MAX", "2")]).await;
    let client = t.client(Adapter::Http);
    let first = client.create(&request("jane@example.com", "login")).await.unwrap();
    let second = client.create(&request("jane@example.com", "login")).await.unwrap();
    let wrong = Code::new(if second.code.expose() == "000000" { "111111" } else { "000000" }.to_owned());

    // Act
    let limited = client.create(&request("jane@example.com", "login")).await;
    let verified = client.verify(&first.challenge.challenge_id, &first.secret, &first.code).await;
    let again = client.verify(&first.challenge.challenge_id, &first.secret, &first.code).await;
    let wrong_code = client.verify(&second.challenge.challenge_id, &second.secret, &wrong).await;
    let fetched = client.get(&second.challenge.challenge_id).await;
    let v2 = plain_client()
        .get(t.url(&format!("/v2/{DEV_TENANCY_ID}/challenges/no-such-challenge")))
        .bearer_auth(DEV_API_KEY)
        .send()
        .await
        .unwrap();
    // A challenge id that reads like the verify route: answered by get, and labelled so.
    let named_verify = plain_client()
        .get(t.url(&format!("/{DEV_TENANCY_ID}/challenges/verify")))
        .bearer_auth(DEV_API_KEY)
        .send()
        .await
        .unwrap();
    let unknown = plain_client().get(t.url("/no/such/route/here")).send().await.unwrap();
    let (status, metrics) = scrape(t.api_url.as_str().trim_end_matches('/')).await;

    // Assert: what the client heard, then that the metrics count exactly that.
    assert!(matches!(limited, Err(ClientError::ChallengeRateLimited { .. })), "{limited:?}");
    assert!(verified.is_ok() && fetched.is_ok());
    assert_eq!((again, wrong_code), (Err(ClientError::InvalidChallenge), Err(ClientError::InvalidChallengeCode)));
    assert_eq!([v2.status(), named_verify.status(), unknown.status()], [StatusCode::NOT_FOUND; 3]);
    assert_eq!(status, StatusCode::OK);
    assert_eq!(sample(&metrics, "challenges_created_total"), 2.0);
    assert_eq!(sample(&metrics, "challenge_creates_rate_limited_total"), 1.0);
    assert_eq!(sample(&metrics, "challenges_verified_total"), 1.0);
    for tag in ["@error/InvalidChallenge", "@error/InvalidChallengeCode"] {
        let series = format!(r#"challenge_verifications_failed_total{{tag="{tag}"}}"#);
        assert_eq!(sample(&metrics, &series), 1.0, "{tag}");
    }
    assert_eq!(requests(&metrics, "POST", "/{tenancyId}/challenges", 201), 2.0);
    assert_eq!(requests(&metrics, "POST", "/{tenancyId}/challenges", 429), 1.0);
    assert_eq!(requests(&metrics, "POST", "/{tenancyId}/challenges/verify", 200), 1.0);
    assert_eq!(requests(&metrics, "POST", "/{tenancyId}/challenges/verify", 400), 2.0);
    assert_eq!(requests(&metrics, "GET", "/{tenancyId}/challenges/{challengeId}", 200), 1.0);
    assert_eq!(requests(&metrics, "GET", "/{tenancyId}/challenges/{challengeId}", 404), 1.0);
    assert!(!metrics.contains(r#"method="GET",route="/{tenancyId}/challenges/verify""#), "{metrics}");
    assert_eq!(requests(&metrics, "GET", "/v2/{tenancyId}/challenges/{challengeId}", 404), 1.0);
    assert_eq!(requests(&metrics, "GET", "unmatched", 404), 1.0);
    assert!(sample(&metrics, "sqlite_group_commit_batch_size_count") >= 1.0, "no group commit counted");
    // The WAL starts over only when it is long (src/db/sqlite.rs times it): not in so few writes.
    assert_eq!(sample(&metrics, "sqlite_wal_restart_seconds_count"), 0.0);
    // Labels are patterns and tags: nothing a request named.
    for named in [
        "jane@example.com",
        first.challenge.challenge_id.as_str(),
        second.challenge.challenge_id.as_str(),
        "no-such-challenge",
        "/no/such",
        first.secret.expose(),
        DEV_TENANCY_ID,
        DEV_API_KEY,
    ] {
        assert!(!metrics.contains(named), "{named} is in the metrics:\n{metrics}");
    }
}

#[tokio::test]
async fn emails_sent_and_failed_are_counted() {
    let smtp = SmtpServer::start().await;
    let delivering = TestService::start(&[("METRICS", "true"), ("SMTP_URL", &smtp.url())]).await;
    let failing = TestService::start(&[("METRICS", "true"), ("SMTP_URL", &SmtpServer::unreachable_url())]).await;
    let sent = NewChallenge { send_email: true, ..request("jane@example.com", "login") };

    let delivered = delivering.client(Adapter::Http).create(&sent).await;
    let refused = failing.client(Adapter::Http).create(&sent).await;

    assert!(delivered.is_ok() && refused.is_err(), "{refused:?}");
    let (_, delivering) = scrape(delivering.api_url.as_str().trim_end_matches('/')).await;
    let (_, failing) = scrape(failing.api_url.as_str().trim_end_matches('/')).await;
    assert_eq!((sample(&delivering, "emails_sent_total"), sample(&delivering, "emails_failed_total")), (1.0, 0.0));
    assert_eq!((sample(&failing, "emails_sent_total"), sample(&failing, "emails_failed_total")), (0.0, 1.0));
    assert_eq!(sample(&failing, "challenges_created_total"), 0.0, "a create whose code was not sent is not counted");
}

#[tokio::test]
async fn the_outbox_depth_is_what_waits_to_be_sent_at_the_scrape_or_nothing() {
    let t = TestService::start(&[("METRICS", "true")]).await;
    let api = t.api_url.as_str().trim_end_matches('/').to_owned();
    assert_eq!(sample(&scrape(&api).await.1, "outbox_depth"), 0.0);

    // A notice due far in the future, as one waiting out a mail outage is.
    t.db.execute(
        "INSERT INTO outbox (recipient, subject, html, text, created_at, next_attempt_at)
         VALUES ('owner@example.com', 'Your address was changed', '<p>…</p>', '…', 0, 9000000000000000)",
    )
    .await
    .unwrap();

    let metrics = scrape(&api).await.1;
    assert_eq!(sample(&metrics, "outbox_depth"), 1.0);
    assert!(!metrics.contains("owner@example.com"));

    // A database that cannot count: the depth is left out rather than made up, the rest served.
    t.db.execute("DROP TABLE outbox").await.unwrap();
    let (status, metrics) = scrape(&api).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!metrics.lines().any(|line| line.starts_with("outbox_depth ")), "a depth it could not know:\n{metrics}");
    assert_eq!(sample(&metrics, "challenges_created_total"), 0.0);
}
