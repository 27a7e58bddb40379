//! Stopping as a service manager does (SIGTERM) or a person does (Ctrl-C): the listeners refuse
//! new connections at once, a request in flight still gets its answer, its write is committed,
//! and the process exits 0 with its WAL checkpointed into the database file.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mailbox::settings::{DEV_API_KEY, DEV_TENANCY_ID};
use serde_json::{Value, json};
use sqlx::Connection;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::app::plain_client;
use crate::support::binary::RunningBinary;

/// Longer than anything here takes; a test waits for a condition, never for this long.
const PATIENCE: Duration = Duration::from_secs(10);
/// What a stop may take beyond its grace period: the background tasks and closing the database.
const AFTER_GRACE: Duration = Duration::from_secs(3);

fn address(base: &str) -> SocketAddr {
    base.trim_start_matches("http://").parse().expect("a printed address")
}

/// A verify whose headers are sent and read by the server (it answered `100 Continue`) and whose
/// body is still on its way: a request in flight for as long as the test likes.
struct VerifyInFlight {
    stream: TcpStream,
    body: Vec<u8>,
}

impl VerifyInFlight {
    async fn start(api: SocketAddr, body: &Value) -> Self {
        let body = body.to_string().into_bytes();
        let mut stream = TcpStream::connect(api).await.expect("the API accepts");
        let head = format!(
            "POST /{DEV_TENANCY_ID}/challenges/verify HTTP/1.1\r\nHost: {api}\r\n\
             Authorization: Bearer {DEV_API_KEY}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        let mut interim = [0u8; 25];
        stream.read_exact(&mut interim).await.expect("an interim answer");
        assert_eq!(&interim, b"HTTP/1.1 100 Continue\r\n\r\n");
        Self { stream, body }
    }

    /// Sends the body and reads the whole answer: its status and JSON body.
    async fn finish(mut self) -> (u16, Value) {
        self.stream.write_all(&self.body).await.unwrap();
        let mut answer = String::new();
        self.stream.read_to_string(&mut answer).await.expect("an answer");
        let (head, body) = answer.split_once("\r\n\r\n").expect("a head and a body");
        let status = head.split(' ').nth(1).and_then(|code| code.parse().ok()).expect("a status");
        (status, serde_json::from_str(body).unwrap_or_else(|err| panic!("{err}: {answer}")))
    }
}

/// Waits until connecting to `addr` is refused: the listener is closed.
async fn until_refused(addr: SocketAddr) {
    let deadline = Instant::now() + PATIENCE;
    while TcpStream::connect(addr).await.is_ok() {
        assert!(Instant::now() < deadline, "{addr} still accepts connections");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A challenge created over the API: its id, secret and code.
async fn create(api: &str) -> (String, String, String) {
    let created: Value = plain_client()
        .post(format!("{api}/{DEV_TENANCY_ID}/challenges"))
        .bearer_auth(DEV_API_KEY)
        .json(&json!({ "email": "jane@example.com", "purpose": "login", "sendEmail": false }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let field = |name: &str| created["challenge"][name].as_str().expect(name).to_owned();
    (field("challengeId"), field("secret"), field("code"))
}

#[tokio::test]
async fn a_verify_in_flight_at_sigterm_is_answered_committed_and_the_process_exits_0() {
    // Arrange: a challenge, and its verify in flight.
    let mut binary = RunningBinary::start(&[]);
    let (api, app) = (address(&binary.api), address(&binary.app));
    let (id, secret, code) = create(&binary.api).await;
    let in_flight = VerifyInFlight::start(api, &json!({ "challengeId": id, "secret": secret, "code": code })).await;

    // Act
    binary.signal(libc::SIGTERM);
    until_refused(api).await;
    until_refused(app).await;
    let (status, body) = in_flight.finish().await;

    // Assert: answered, committed, exited cleanly within the default grace of 10 s.
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["_tag"].as_str(), body["challenge"]["challengeId"].as_str()),
        (Some("ChallengeVerified"), Some(id.as_str()))
    );
    let exit = binary.exit_within(PATIENCE).await;
    assert!(exit.is_some_and(|status| status.success()), "{exit:?}\n{}", binary.output());
    let wal = binary.database_path().with_extension("db-wal");
    assert!(std::fs::metadata(&wal).map_or(true, |file| file.len() == 0), "the WAL was not checkpointed");
    let mut db =
        sqlx::SqliteConnection::connect(&format!("sqlite://{}", binary.database_path().display())).await.unwrap();
    let consumed: Option<i64> = sqlx::query_scalar("SELECT consumed_at FROM challenges WHERE id = $1")
        .bind(&id)
        .fetch_one(&mut db)
        .await
        .unwrap();
    assert!(consumed.is_some(), "the verify's write was not committed");
}

#[tokio::test]
async fn a_request_that_never_ends_holds_ctrl_c_back_for_the_grace_period_only() {
    // Arrange: a verify whose body never comes.
    let mut binary = RunningBinary::start(&[("SHUTDOWN_GRACE_SECONDS", "1")]);
    let (id, secret, code) = create(&binary.api).await;
    let stuck =
        VerifyInFlight::start(address(&binary.api), &json!({ "challengeId": id, "secret": secret, "code": code }))
            .await;

    // Act
    let interrupted = Instant::now();
    binary.signal(libc::SIGINT);
    let exit = binary.exit_within(Duration::from_secs(1) + AFTER_GRACE).await;

    // Assert: it waited for the request, but no longer than the grace, and still exited cleanly.
    let took = interrupted.elapsed();
    assert!(exit.is_some_and(|status| status.success()), "{exit:?} after {took:?}\n{}", binary.output());
    assert!(took >= Duration::from_secs(1), "it did not wait for the request in flight: {took:?}");
    drop(stuck);
}
