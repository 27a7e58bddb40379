//! A client error is logged by the app, so it must never carry an answer's body: for a create,
//! the body holds the secret and the code.

use actix_web::{App, HttpResponse, HttpServer, http::StatusCode, web};
use mailbox::challenges::model::{ChallengeId, Code, Secret};
use mailbox::client::{ChallengeClient, ClientError, HttpClient, HttpClientConfig};
use mailbox::domain::SecretString;
use reqwest::Url;
use serde_json::json;

use crate::support::request;

pub const SECRET: &str = "LEAKsecre-t0000leak-LEAK11111";
pub const CODE: &str = "493817";

/// A created challenge, as the real API answers it with 201.
fn created_body() -> serde_json::Value {
    json!({
        "_tag": "ChallengeCreated",
        "challenge": {
            "challengeId": "c1", "purpose": "login", "email": "jane@example.com",
            "createdAt": 1, "expiresAt": 2, "metadata": null, "secret": SECRET, "code": CODE,
            "message": { "subject": "Your code", "html": format!("<p>{CODE}</p>"), "text": CODE },
        },
    })
}

/// A server on a loopback port that answers every request with `status` and a created challenge.
pub fn misbehaving_api(status: StatusCode) -> Url {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let answer = move || async move { HttpResponse::build(status).json(created_body()) };
    let server = HttpServer::new(move || App::new().default_service(web::to(answer)))
        .listen(listener)
        .unwrap()
        .workers(1)
        .disable_signals()
        .run();
    tokio::spawn(server);
    Url::parse(&format!("http://{addr}")).unwrap()
}

fn client_of(endpoint: Url) -> HttpClient {
    HttpClient::new(HttpClientConfig::new(endpoint, "tn_1", SecretString::new("key"))).unwrap()
}

fn assert_leaks_nothing(err: &ClientError) {
    for shown in [err.to_string(), format!("{err:?}")] {
        assert!(!shown.contains(SECRET) && !shown.contains(CODE), "the error shows the secret or code: {shown}");
    }
}

#[tokio::test]
async fn log_leak_an_unexpected_create_answer_keeps_no_secret_or_code() {
    // 200 where the API answers 201, and 400 with a body that is no error.
    for status in [StatusCode::OK, StatusCode::BAD_REQUEST] {
        let client = client_of(misbehaving_api(status));

        let err = client.create(&request("jane@example.com", "login")).await.unwrap_err();

        assert!(matches!(err, ClientError::UnexpectedResponse { status: s, .. } if s == status.as_u16()), "{err:?}");
        assert!(err.to_string().contains("ChallengeCreated"), "the error names the _tag it saw: {err}");
        assert_leaks_nothing(&err);
    }
}

#[tokio::test]
async fn log_leak_an_unexpected_get_or_verify_answer_keeps_no_secret_or_code() {
    let client = client_of(misbehaving_api(StatusCode::OK));
    let id = ChallengeId::new("c1".into());

    let errors = [
        client.get(&id).await.unwrap_err(),
        client.verify(&id, &Secret::new(SECRET.into()), &Code::new(CODE.into())).await.unwrap_err(),
    ];

    for err in &errors {
        assert!(matches!(err, ClientError::UnexpectedResponse { status: 200, .. }), "{err:?}");
        assert_leaks_nothing(err);
    }
}
