//! The exact JSON and headers on the wire, as the hosted service's clients expect them.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{START_MS, TestService};

fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    k.sort_unstable();
    k
}

async fn send(
    t: &TestService,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let mut req = t.http().request(method, t.url(path)).bearer_auth(&t.api_key);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let res = req.send().await.unwrap();
    let (status, headers) = (res.status(), res.headers().clone());
    (status, headers, res.json().await.unwrap())
}

#[tokio::test]
async fn every_call_has_the_hosted_shape_at_the_root_and_under_v2() {
    let t = TestService::start(&[]).await;
    for prefix in ["", "/v2"] {
        let base = format!("{prefix}/{}/challenges", t.tenancy_id);
        let (status, _, created) = send(
            &t,
            reqwest::Method::POST,
            &base,
            Some(json!({ "email": "jdoe@example.com", "purpose": "signup", "metadata": { "signupId": "signup_123" }, "sendEmail": false })),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(keys(&created), ["_tag", "challenge"]);
        assert_eq!(created["_tag"], "ChallengeCreated");
        let c = &created["challenge"];
        assert_eq!(
            keys(c),
            ["challengeId", "code", "createdAt", "email", "expiresAt", "message", "metadata", "purpose", "secret"]
        );
        assert_eq!(keys(&c["message"]), ["html", "subject", "text"]);
        assert_eq!((c["createdAt"].as_i64(), c["expiresAt"].as_i64()), (Some(START_MS), Some(START_MS + 600_000)));
        assert_eq!(c["metadata"], json!({ "signupId": "signup_123" }));
        let id = c["challengeId"].as_str().unwrap();

        let (status, _, read) = send(&t, reqwest::Method::GET, &format!("{base}/{id}"), None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(keys(&read), ["_tag", "challengeId", "createdAt", "email", "expiresAt", "metadata", "purpose"]);
        assert_eq!(read["_tag"], "Challenge");

        let verify = json!({ "challengeId": id, "secret": c["secret"], "code": c["code"] });
        let (status, _, verified) = send(&t, reqwest::Method::POST, &format!("{base}/verify"), Some(verify)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(keys(&verified), ["_tag", "challenge"]);
        assert_eq!(verified["_tag"], "ChallengeVerified");
        let mut expected = read.clone();
        expected["_tag"] = json!("Challenge");
        assert_eq!(verified["challenge"], expected);

        let (status, _, deleted) = send(&t, reqwest::Method::DELETE, &format!("{base}/{id}"), None).await;
        assert_eq!((status, deleted), (StatusCode::ACCEPTED, json!({ "_tag": "ChallengeDeleted" })));
    }
}

#[tokio::test]
async fn user_id_appears_only_when_given_and_metadata_defaults_to_null() {
    let t = TestService::start(&[]).await;
    let path = format!("/{}/challenges", t.tenancy_id);
    let body = json!({ "email": "a@example.com", "purpose": "login", "userId": "42", "sendEmail": false });
    let (_, _, created) = send(&t, reqwest::Method::POST, &path, Some(body)).await;
    assert_eq!(created["challenge"]["userId"], "42");
    assert_eq!(created["challenge"]["metadata"], Value::Null);
}

#[tokio::test]
async fn rate_limit_answer_carries_retry_after_in_header_and_body() {
    let t = TestService::start(&[("CHALLENGE_RATE_LIMIT_MAX", "1")]).await;
    let path = format!("/{}/challenges", t.tenancy_id);
    let body = json!({ "email": "a@example.com", "purpose": "login", "sendEmail": false });
    send(&t, reqwest::Method::POST, &path, Some(body.clone())).await;
    t.clock.advance(std::time::Duration::from_millis(1500));

    let (status, headers, error) = send(&t, reqwest::Method::POST, &path, Some(body)).await;

    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(error["_tag"], "@error/ChallengeRateLimited");
    assert_eq!(error["retryAfterSeconds"], 599);
    assert_eq!(headers["retry-after"], "599");
    assert!(error["message"].as_str().unwrap().contains("599 seconds"));
}

#[tokio::test]
async fn each_error_has_its_tag_and_status() {
    let t = TestService::start(&[]).await;
    let base = format!("/{}/challenges", t.tenancy_id);
    let (status, _, body) = send(&t, reqwest::Method::GET, &format!("{base}/nope"), None).await;
    assert_eq!((status, body["_tag"].as_str()), (StatusCode::NOT_FOUND, Some("@error/NotFound")));
    let verify = json!({ "challengeId": "nope", "secret": "s", "code": "123456" });
    let (status, _, body) = send(&t, reqwest::Method::POST, &format!("{base}/verify"), Some(verify)).await;
    assert_eq!((status, body["_tag"].as_str()), (StatusCode::BAD_REQUEST, Some("@error/InvalidChallenge")));
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
}

#[tokio::test]
async fn missing_or_malformed_authorization_is_forbidden() {
    let t = TestService::start(&[]).await;
    let url = t.url(&format!("/{}/challenges", t.tenancy_id));
    let body = json!({ "email": "a@example.com", "purpose": "login" });
    for auth in [None, Some("Basic abc"), Some("Bearer "), Some("Bearer wrong")] {
        let mut req = t.http().post(&url).json(&body);
        if let Some(auth) = auth {
            req = req.header("authorization", auth);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{auth:?}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["_tag"], "@error/Forbidden");
    }
}

#[tokio::test]
async fn unknown_routes_answer_json() {
    let t = TestService::start(&[]).await;
    let res = t.http().get(t.url("/nothing/here/at/all")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["_tag"], "@error/NotFound");
}
