//! Metadata comes back exactly as it was sent, key order and number spelling included, as the
//! hosted service's own client compares it.

use mailbox::challenges::model::{Metadata, NewChallenge};
use serde_json::Value;

use crate::support::{Adapter, TestService, request};

/// Keys out of order, and numbers a parser would respell.
const METADATA: &str = r#"{"z":1,"a":2.50,"n":{"y":true,"b":1e2}}"#;

fn with_metadata(email: &str) -> NewChallenge {
    let metadata: Metadata = serde_json::from_str(METADATA).unwrap();
    NewChallenge { metadata, ..request(email, "signup") }
}

#[tokio::test]
async fn metadata_round_trip_over_both_adapters() {
    let t = TestService::start(&[]).await;
    for adapter in [Adapter::Http, Adapter::InProcess] {
        let client = t.client(adapter);

        let created = client.create(&with_metadata("jane@example.com")).await.unwrap();
        let id = &created.challenge.challenge_id;
        let read = client.get(id).await.unwrap();
        let verified = client.verify(id, &created.secret, &created.code).await.unwrap();

        for (call, challenge) in [("create", &created.challenge), ("get", &read), ("verify", &verified)] {
            assert_eq!(challenge.metadata.as_json_text(), Some(METADATA), "{adapter:?} {call}");
        }
    }
}

#[tokio::test]
async fn metadata_round_trip_byte_for_byte_on_the_wire() {
    let t = TestService::start(&[]).await;
    let base = t.url(&format!("/{}/challenges", t.tenancy_id));
    let post = |url: String, body: String| {
        t.http().post(url).bearer_auth(&t.api_key).header("content-type", "application/json").body(body).send()
    };

    let body = format!(r#"{{"email":"jane@example.com","purpose":"signup","sendEmail":false,"metadata":{METADATA}}}"#);
    let created = post(base.clone(), body).await.unwrap().text().await.unwrap();
    assert!(created.contains(&format!(r#""metadata":{METADATA}"#)), "create: {created}");

    let c: Value = serde_json::from_str(&created).unwrap();
    let c = &c["challenge"];
    let id = c["challengeId"].as_str().unwrap();
    let read = t.http().get(format!("{base}/{id}")).bearer_auth(&t.api_key).send().await.unwrap();
    let read = read.text().await.unwrap();
    assert!(read.contains(&format!(r#""metadata":{METADATA}"#)), "get: {read}");

    let verify = serde_json::json!({ "challengeId": id, "secret": c["secret"], "code": c["code"] }).to_string();
    let verified = post(format!("{base}/verify"), verify).await.unwrap().text().await.unwrap();
    assert!(verified.contains(&format!(r#""metadata":{METADATA}"#)), "verify: {verified}");
}
