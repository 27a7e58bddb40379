//! Bad input gets a 400 (or 413) `@error/BadRequest` whose message names the problem; nothing
//! a client sends makes the service fail.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::TestService;

async fn post_raw(
    t: &TestService,
    path: &str,
    content_type: &str,
    body: impl Into<reqwest::Body>,
) -> (StatusCode, Value) {
    let res = t
        .http()
        .post(t.url(&format!("/{}/challenges{path}", t.tenancy_id)))
        .bearer_auth(&t.api_key)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

fn assert_bad_request(status: StatusCode, body: &Value, expected_status: StatusCode, names: &str) {
    assert_eq!(status, expected_status, "{body}");
    assert_eq!(body["_tag"], "@error/BadRequest", "{body}");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(message.contains(names), "message {message:?} should name {names:?}");
}

#[tokio::test]
async fn create_refuses_each_kind_of_bad_body() {
    let t = TestService::start(&[]).await;
    let long_metadata = json!({ "note": "x".repeat(4100) });
    let cases: Vec<(&str, String, &str)> = vec![
        ("malformed JSON", "{\"email\": ".into(), "JSON"),
        ("not an object", "[1,2]".into(), "JSON"),
        ("trailing garbage", r#"{"email":"a@b.co","purpose":"login"} x"#.into(), "JSON"),
        ("missing email", json!({ "purpose": "login" }).to_string(), "email"),
        ("missing purpose", json!({ "email": "a@example.com" }).to_string(), "purpose"),
        ("email of the wrong type", json!({ "email": 5, "purpose": "login" }).to_string(), "email"),
        (
            "flag of the wrong type",
            json!({ "email": "a@example.com", "purpose": "login", "invalidateOthers": "yes" }).to_string(),
            "invalidateOthers",
        ),
        ("purpose with a space", json!({ "email": "a@example.com", "purpose": "sign up" }).to_string(), "purpose"),
        ("email without @", json!({ "email": "example.com", "purpose": "login" }).to_string(), "email"),
        (
            "email with a header",
            json!({ "email": "a@example.com\r\nBcc: b@example.com", "purpose": "login" }).to_string(),
            "email",
        ),
        (
            "metadata array",
            json!({ "email": "a@example.com", "purpose": "login", "metadata": [1] }).to_string(),
            "metadata",
        ),
        (
            "metadata over 4 KiB",
            json!({ "email": "a@example.com", "purpose": "login", "metadata": long_metadata }).to_string(),
            "metadata",
        ),
        (
            "name too long",
            json!({ "email": "a@example.com", "purpose": "login", "name": "n".repeat(129) }).to_string(),
            "name",
        ),
        (
            "userId too long",
            json!({ "email": "a@example.com", "purpose": "login", "userId": "u".repeat(129) }).to_string(),
            "userId",
        ),
    ];
    for (case, body, names) in cases {
        let (status, answer) = post_raw(&t, "", "application/json", body).await;
        println!("{case}: {answer}");
        assert_bad_request(status, &answer, StatusCode::BAD_REQUEST, names);
    }
}

#[tokio::test]
async fn wrong_content_type_is_refused() {
    let t = TestService::start(&[]).await;
    let body = json!({ "email": "a@example.com", "purpose": "login" }).to_string();
    for content_type in ["text/plain", "application/x-www-form-urlencoded"] {
        let (status, answer) = post_raw(&t, "", content_type, body.clone()).await;
        assert_bad_request(status, &answer, StatusCode::BAD_REQUEST, "Content-Type");
    }
    let (status, _) = post_raw(&t, "", "application/json; charset=utf-8", body).await;
    assert_eq!(status, StatusCode::CREATED, "a charset parameter is fine");
}

#[tokio::test]
async fn bodies_over_16_kib_are_refused_with_413() {
    let t = TestService::start(&[]).await;
    let huge = json!({ "email": "a@example.com", "purpose": "login", "name": "n".repeat(17 * 1024) }).to_string();
    let (status, answer) = post_raw(&t, "", "application/json", huge.clone()).await;
    assert_bad_request(status, &answer, StatusCode::PAYLOAD_TOO_LARGE, "16 KiB");
    let (status, answer) = post_raw(&t, "/verify", "application/json", huge).await;
    assert_bad_request(status, &answer, StatusCode::PAYLOAD_TOO_LARGE, "16 KiB");
}

#[tokio::test]
async fn verify_refuses_missing_and_mistyped_fields() {
    let t = TestService::start(&[]).await;
    for (body, names) in [
        (json!({ "secret": "s", "code": "123456" }), "challengeId"),
        (json!({ "challengeId": "c", "code": "123456" }), "secret"),
        (json!({ "challengeId": "c", "secret": "s" }), "code"),
        (json!({ "challengeId": "c", "secret": "s", "code": 123456 }), "code"),
    ] {
        let (status, answer) = post_raw(&t, "/verify", "application/json", body.to_string()).await;
        assert_bad_request(status, &answer, StatusCode::BAD_REQUEST, names);
    }
}

#[tokio::test]
async fn the_service_still_works_after_bad_input() {
    let t = TestService::start(&[]).await;
    for garbage in ["", "null", "\u{0}", "{\"email\":\"\u{1F600}@\u{1F600}\",\"purpose\":\"x\"}"] {
        let (status, _) = post_raw(&t, "", "application/json", garbage.to_string()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{garbage:?}");
    }
    let ok = json!({ "email": "a@example.com", "purpose": "login", "sendEmail": false }).to_string();
    assert_eq!(post_raw(&t, "", "application/json", ok).await.0, StatusCode::CREATED);
}
