//! The OpenAPI document: served without a key, equal to the committed `openapi.json` (so that a
//! change to the API shows in review), and its limits are the ones the server enforces.

use std::path::Path;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::TestService;

const COMMITTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json");
const REGENERATE: &str = "UPDATE_OPENAPI=1 cargo test --test api openapi";
/// Metadata's limit, which JSON Schema cannot state: the document says it in words.
const METADATA_BYTES: usize = 4096;

async fn served_document(t: &TestService) -> String {
    let res = t.http().get(t.url("/openapi.json")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "GET /openapi.json needs no API key");
    assert_eq!(res.headers()["content-type"], "application/json");
    res.text().await.unwrap()
}

#[tokio::test]
async fn the_served_document_is_the_committed_copy() {
    let t = TestService::start(&[]).await;
    let served = format!("{}\n", served_document(&t).await);
    if std::env::var("UPDATE_OPENAPI").as_deref() == Ok("1") {
        std::fs::write(COMMITTED, &served).expect("write openapi.json");
        return;
    }
    let committed = std::fs::read_to_string(Path::new(COMMITTED)).unwrap_or_default();
    if served != committed {
        let line = served.lines().zip(committed.lines()).position(|(a, b)| a != b).map_or(0, |i| i + 1);
        panic!(
            "GET /openapi.json differs from the committed openapi.json (first at line {line}). If the API changed \
             on purpose, run `{REGENERATE}` and review the diff."
        );
    }
}

/// A JSON pointer into the served document.
fn limit(document: &Value, pointer: &str) -> usize {
    let value = document.pointer(pointer).unwrap_or_else(|| panic!("the document has no {pointer}"));
    value.as_u64().unwrap_or_else(|| panic!("{pointer} is not a number: {value}")) as usize
}

/// An address of exactly `len` characters: the longest local part, and labels of at most 63.
fn email_of_len(len: usize) -> String {
    let local = "a".repeat(64);
    let mut labels = Vec::new();
    let mut rest = len - local.len() - 1;
    while rest > 0 {
        let label = rest.min(63);
        labels.push("d".repeat(label));
        rest = (rest - label).saturating_sub(1);
    }
    let email = format!("{local}@{}", labels.join("."));
    assert_eq!(email.len(), len);
    email
}

/// The body fields that give one field a value of the length asked for.
type BodyOfLength = fn(usize) -> Value;

/// `{"k":"…"}` of exactly `len` bytes.
fn metadata_of_len(len: usize) -> Value {
    json!({ "k": "m".repeat(len - r#"{"k":""}"#.len()) })
}

#[tokio::test]
async fn the_documented_limits_are_the_ones_the_server_enforces() {
    let t = TestService::start(&[]).await;
    let document: Value = serde_json::from_str(&served_document(&t).await).unwrap();
    let purpose = limit(&document, "/components/schemas/Purpose/maxLength");
    let email = limit(&document, "/components/schemas/EmailAddress/maxLength");
    let name = limit(&document, "/components/schemas/RecipientName/maxLength");
    let user_id = limit(&document, "/components/schemas/UserId/maxLength");
    let metadata_description = document.pointer("/components/schemas/Metadata/description").unwrap().to_string();
    assert!(metadata_description.contains(&format!("{METADATA_BYTES} bytes")), "{metadata_description}");

    let cases: [(&str, BodyOfLength, usize); 5] = [
        ("purpose", |n| json!({ "purpose": "p".repeat(n) }), purpose),
        ("email", |n| json!({ "email": email_of_len(n) }), email),
        ("name", |n| json!({ "name": "n".repeat(n) }), name),
        ("userId", |n| json!({ "userId": "u".repeat(n) }), user_id),
        ("metadata", |n| json!({ "metadata": metadata_of_len(n) }), METADATA_BYTES),
    ];
    for (field, body_of, max) in cases {
        for (len, accepted) in [(max, true), (max + 1, false)] {
            let mut body = json!({ "email": "limits@example.com", "purpose": "signup", "sendEmail": false, "skipRateLimit": true });
            body.as_object_mut().unwrap().extend(body_of(len).as_object().unwrap().clone());
            let res = t.create_request(&body).send().await.unwrap();
            let status = res.status();
            let answer: Value = res.json().await.unwrap();
            if accepted {
                assert_eq!(status, StatusCode::CREATED, "{field} of {len}: {answer}");
            } else {
                assert_eq!(status, StatusCode::BAD_REQUEST, "{field} of {len}");
                assert!(answer["message"].as_str().unwrap().contains(field), "{field} of {len}: {answer}");
            }
        }
    }
}
