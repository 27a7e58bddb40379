//! Slow and hostile clients: connections that send their headers a byte a second, bodies that
//! never finish, and 10,000 idle keep-alive connections, all open at once against the API
//! listener of the binary. Other clients are still answered quickly, and the server closes the
//! slow ones after its header and body timeouts while it keeps the idle ones.
//!
//! The binary runs as a child process, so the clients' descriptors and the server's count against
//! two limits on open files, each at least the 10,000 idle connections and the slow ones.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use mailbox::settings::{DEV_API_KEY, DEV_TENANCY_ID};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinSet;

use crate::support::app::plain_client;
use crate::support::binary::RunningBinary;

/// As in `src/startup/app_server.rs`.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(5);
const BODY_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// What the server may take beyond a timeout to close a connection, on a busy 2-core machine.
const SLACK: Duration = Duration::from_secs(3);

const SLOW_HEADERS: usize = 500;
const SLOW_BODIES: usize = 500;
const IDLE_CONNECTIONS: usize = 10_000;
/// Normal requests measured before the attack and during it.
const NORMAL: usize = 200;
/// The bound on every normal request during the attack: generous, so that a noisy machine does
/// not fail the test, yet far below the seconds a starved server would take.
const NORMAL_BOUND: Duration = Duration::from_secs(1);

/// Raises this process's limit on open files as far as allowed, and returns it. The binary
/// started after it inherits the same limit: each connection takes a descriptor in each process.
fn raise_open_files_limit() -> usize {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit and setrlimit read and write a plain struct owned here.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit), 0);
        let wanted = 65_536.max(limit.rlim_cur);
        // Root may raise the hard limit too; anyone else only the soft one, up to the hard.
        let raised = libc::rlimit { rlim_cur: wanted, rlim_max: wanted.max(limit.rlim_max) };
        if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) != 0 {
            let soft_to_hard = libc::rlimit { rlim_cur: limit.rlim_max, rlim_max: limit.rlim_max };
            libc::setrlimit(libc::RLIMIT_NOFILE, &soft_to_hard);
        }
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit), 0);
    }
    usize::try_from(limit.rlim_cur).unwrap_or(usize::MAX)
}

/// A pending challenge's URL, created through the API.
async fn pending_challenge(client: &reqwest::Client, api: &str) -> String {
    let created: Value = client
        .post(format!("{api}/{DEV_TENANCY_ID}/challenges"))
        .bearer_auth(DEV_API_KEY)
        .json(&json!({ "email": "jane@example.com", "purpose": "login", "sendEmail": false }))
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .expect("a challenge is created")
        .json()
        .await
        .expect("create's answer");
    format!("{api}/{DEV_TENANCY_ID}/challenges/{}", created["challenge"]["challengeId"].as_str().unwrap())
}

/// The latency of `NORMAL` gets of an existing challenge, one after the other, sorted.
async fn normal_gets(client: &reqwest::Client, challenge: &str) -> Vec<Duration> {
    let mut took = Vec::with_capacity(NORMAL);
    for _ in 0..NORMAL {
        let started = Instant::now();
        let got = client.get(challenge).bearer_auth(DEV_API_KEY).send().await;
        let got = got.map(|response| response.status());
        took.push(started.elapsed());
        assert!(got.as_ref().is_ok_and(|status| status.is_success()), "a normal request failed: {got:?}");
    }
    took.sort();
    took
}

fn p99(sorted: &[Duration]) -> Duration {
    sorted[(sorted.len() * 99).div_ceil(100) - 1]
}

/// A keep-alive connection that made one request and now sits idle.
async fn idle_connection(addr: &str) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.expect("connect an idle connection");
    assert!(answers_ok(&mut stream).await, "the idle connection's first request was answered");
    stream
}

/// Sends `GET /healthz` on `stream` and reads the answer; whether it was `200`.
async fn answers_ok(stream: &mut TcpStream) -> bool {
    if stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n").await.is_err() {
        return false;
    }
    let mut answer = Vec::new();
    let mut buf = [0u8; 1024];
    // The body, `{"status":"ok"}`, ends the answer.
    while !answer.ends_with(b"}") {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
        }
    }
    answer.starts_with(b"HTTP/1.1 200")
}

/// Sends `head` and then `dribble` a byte a second on new connections until `stop`, and returns
/// how long the server let each connection live before it closed it.
async fn dribbler(addr: String, head: Vec<u8>, dribble: Vec<u8>, stop: Arc<AtomicBool>) -> Vec<Duration> {
    let mut lives = Vec::new();
    while !stop.load(Ordering::SeqCst) {
        let Ok(mut stream) = TcpStream::connect(&addr).await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let opened = Instant::now();
        if stream.write_all(&head).await.is_err() {
            continue;
        }
        let mut next = dribble.iter().cycle();
        let mut buf = [0u8; 1024];
        loop {
            tokio::select! {
                read = stream.read(&mut buf) => match read {
                    // An answer (`408`, or `400` for the body) comes before the close; read on.
                    Ok(n) if n > 0 => continue,
                    _ => break,
                },
                _ = tokio::time::sleep(Duration::from_secs(1)) => {
                    if stop.load(Ordering::SeqCst) {
                        return lives;
                    }
                    if stream.write_all(&[*next.next().unwrap()]).await.is_err() {
                        break;
                    }
                }
            }
        }
        lives.push(opened.elapsed());
    }
    lives
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_idle_clients_do_not_hold_up_other_requests() {
    let open_files = raise_open_files_limit();
    // Room beside the connections for the tests running alongside (here) and the database (there).
    let room = open_files.saturating_sub(SLOW_HEADERS + SLOW_BODIES + 4_000);
    assert!(
        room >= IDLE_CONNECTIONS,
        "{open_files} open files leave room for {room} idle connections, not {IDLE_CONNECTIONS}: raise `ulimit -Hn`"
    );
    let binary = RunningBinary::start(&[]);
    let addr = binary.api.trim_start_matches("http://").to_owned();
    let client = plain_client();
    let pending = pending_challenge(&client, &binary.api).await;
    let baseline = normal_gets(&client, &pending).await;

    // Arrange: the idle keep-alive connections, then the slow ones.
    let started = Instant::now();
    let mut idle: Vec<TcpStream> = futures_util::stream::iter(0..IDLE_CONNECTIONS)
        .map(|_| idle_connection(&addr))
        .buffer_unordered(64)
        .collect()
        .await;
    let idle_setup = started.elapsed();
    let stop = Arc::new(AtomicBool::new(false));
    let attack_started = tokio::time::Instant::now();
    let mut slow_headers = JoinSet::new();
    for _ in 0..SLOW_HEADERS {
        let (head, dribble) = (b"GET /healthz HTTP/1.1\r\n".to_vec(), b"X-Slow: abcdefghij\r\n".to_vec());
        slow_headers.spawn(dribbler(addr.clone(), head, dribble, stop.clone()));
    }
    let mut slow_bodies = JoinSet::new();
    for _ in 0..SLOW_BODIES {
        let head = format!(
            "POST /{}/challenges HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {}\r\n\
             Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{",
            DEV_TENANCY_ID, DEV_API_KEY
        );
        slow_bodies.spawn(dribbler(addr.clone(), head.into_bytes(), b" ".to_vec(), stop.clone()));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;

    // Act: normal requests while all of it is open.
    let attacked = normal_gets(&client, &pending).await;

    // Assert: every normal request was answered quickly.
    eprintln!(
        "{IDLE_CONNECTIONS} idle connections (set up in {idle_setup:?}), {SLOW_HEADERS} slow heads, {SLOW_BODIES} \
         slow bodies; p99 before {:?}, during {:?}, slowest during {:?}",
        p99(&baseline),
        p99(&attacked),
        attacked.last().unwrap()
    );
    assert!(*attacked.last().unwrap() <= NORMAL_BOUND, "a normal request took {:?}", attacked.last().unwrap());
    // The slow connections are closed by the server after its timeouts, and no later.
    tokio::time::sleep_until(attack_started + BODY_READ_TIMEOUT + SLACK).await;
    stop.store(true, Ordering::SeqCst);
    for (attack, bound, set) in
        [("slow head", HEADER_READ_TIMEOUT, slow_headers), ("slow body", BODY_READ_TIMEOUT, slow_bodies)]
    {
        let lives: Vec<Duration> = set.join_all().await.into_iter().flatten().collect();
        let longest = lives.iter().max().copied().unwrap_or_default();
        assert!(lives.len() >= SLOW_HEADERS, "{attack}: only {} connections were closed by the server", lives.len());
        assert!(longest <= bound + SLACK, "{attack}: a connection lived {longest:?}");
        assert!(
            lives.iter().all(|life| *life + Duration::from_secs(1) >= bound),
            "{attack}: closed before its timeout: {lives:?}"
        );
    }
    // The idle connections were kept, not dropped to make room: each still answers.
    for stream in idle.iter_mut().step_by(IDLE_CONNECTIONS / 100) {
        assert!(answers_ok(stream).await, "an idle connection was closed");
    }
}
