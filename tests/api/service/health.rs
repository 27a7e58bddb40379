//! The health probes on both listeners: `/healthz` while the process answers, `/readyz` while the
//! database does, and a clear 503 with `Retry-After` when it does not.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use reqwest::{StatusCode, Url};
use serde_json::{Value, json};
use sqlx::{Connection, PgConnection};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};

use crate::support::app::{TestApp, plain_client};
use crate::support::postgres::fresh_database;

/// A probe's status, `Retry-After` and body, asked without any credentials.
async fn probe(base: &str, path: &str) -> (StatusCode, Option<String>, Value) {
    let res = plain_client().get(format!("{base}{path}")).send().await.expect("probe");
    let status = res.status();
    let retry_after = res.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(res.headers()["content-type"], "application/json", "{path}");
    (status, retry_after, res.json().await.expect("a JSON body"))
}

/// The app's listener and the API's.
fn listeners(app: &TestApp) -> [&str; 2] {
    [app.base.as_str(), app.api_base.as_deref().expect("the API is served")]
}

#[tokio::test]
async fn both_listeners_answer_the_probes_without_credentials() {
    let app = TestApp::spawn(&[]).await;
    for base in listeners(&app) {
        assert_eq!(probe(base, "/healthz").await, (StatusCode::OK, None, json!({ "status": "ok" })), "{base}");
        assert_eq!(probe(base, "/readyz").await, (StatusCode::OK, None, json!({ "status": "ready" })), "{base}");
    }
}

#[tokio::test]
async fn readyz_answers_503_once_the_database_is_gone() {
    let Some(url) = fresh_database().await else { return };
    let app = TestApp::spawn(&[("DATABASE_URL", &url)]).await;
    let (server, name) = url.rsplit_once('/').unwrap();
    let mut admin = PgConnection::connect(&format!("{server}/postgres")).await.unwrap();
    sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)")).execute(&mut admin).await.unwrap();

    for base in listeners(&app) {
        let (status, retry_after, body) = probe(base, "/readyz").await;
        assert_eq!((status, retry_after.as_deref()), (StatusCode::SERVICE_UNAVAILABLE, Some("5")), "{base}: {body}");
        assert_eq!(body["status"], "unavailable", "{base}: {body}");
        assert!(body["reason"].as_str().is_some_and(|r| r.starts_with("the database")), "{base}: {body}");
        // The process itself is fine, and says so without touching the database.
        assert_eq!(probe(base, "/healthz").await.0, StatusCode::OK, "{base}");
    }
}

#[tokio::test]
async fn readyz_gives_up_on_a_hanging_database_within_its_bound_and_recovers_after() {
    let Some(url) = fresh_database().await else { return };
    let parsed = Url::parse(&url).unwrap();
    let upstream = SocketAddr::from(([127, 0, 0, 1], parsed.port().unwrap()));
    let relay = Relay::start(upstream).await;
    let relayed = format!("postgres://postgres@127.0.0.1:{}{}", relay.port, parsed.path());
    let app = TestApp::spawn(&[("DATABASE_URL", &relayed)]).await;
    let api = app.api_base.as_deref().unwrap();
    assert_eq!(probe(api, "/readyz").await.0, StatusCode::OK);

    relay.hold(true);
    let asked = Instant::now();
    let (status, retry_after, body) = probe(api, "/readyz").await;
    let took = asked.elapsed();
    assert_eq!((status, retry_after.as_deref()), (StatusCode::SERVICE_UNAVAILABLE, Some("5")), "{body}");
    assert_eq!(body["reason"], "the database did not answer within 1 s");
    assert!(took < Duration::from_millis(1500), "readyz took {took:?} on a hanging database");

    relay.hold(false);
    let deadline = Instant::now() + Duration::from_secs(10);
    while probe(api, "/readyz").await.0 != StatusCode::OK {
        assert!(Instant::now() < deadline, "readyz did not recover once the database answered again");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A TCP relay in front of PostgreSQL that can hold every byte, as a database that stopped
/// answering (but kept its connections open) would.
struct Relay {
    port: u16,
    held: Arc<AtomicBool>,
}

impl Relay {
    async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let held = Arc::new(AtomicBool::new(false));
        let flag = held.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(upstream).await else { continue };
                let ((client_in, client_out), (server_in, server_out)) = (client.into_split(), server.into_split());
                tokio::spawn(pipe(client_in, server_out, flag.clone()));
                tokio::spawn(pipe(server_in, client_out, flag.clone()));
            }
        });
        Self { port, held }
    }

    fn hold(&self, held: bool) {
        self.held.store(held, Ordering::SeqCst);
    }
}

async fn pipe(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, held: Arc<AtomicBool>) {
    let mut buffer = vec![0; 16 * 1024];
    while let Ok(read @ 1..) = from.read(&mut buffer).await {
        while held.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        if to.write_all(&buffer[..read]).await.is_err() {
            return;
        }
    }
}
