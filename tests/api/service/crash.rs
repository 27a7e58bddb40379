//! Crash under load: the binary, under a bounded load of creates and verifies, is killed with
//! SIGKILL at a random moment and restarted on the same SQLite file, again and again. After each
//! restart the API and the database file itself must show that nothing answered as committed was
//! lost, nothing verified verifies again, nothing is half-written, and the rate limit still counts
//! every create it let through.
//!
//! `CRASH_SEED=N` replays the kill moments of a run that printed `crash seed: N`;
//! `CRASH_ITERATIONS` changes the number of crashes (default 20). It runs the debug build unless
//! `MAILBOX_BIN` names another; CI runs it on the release build:
//! `MAILBOX_BIN=$PWD/target/release/mailbox-challenges cargo test --test api service::crash`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mailbox::settings::{DEV_API_KEY, DEV_TENANCY_ID};
use serde_json::{Value, json};
use sqlx::Connection;

use crate::support::binary::RunningBinary;

/// The per-email create limit the binary runs with (its default).
const LIMIT: u32 = 5;
/// Client tasks sending requests at once.
const CLIENTS: usize = 6;
/// Requests each client sends at most before each crash: the load is bounded.
const OPS_PER_CLIENT: usize = 200;
/// The kill comes this many ms after the load starts, at random within the range.
const KILL_AFTER_MS: std::ops::Range<u64> = 20..400;

/// xorshift64*: enough to spread the kill moments, and replayable from the printed seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn within(&mut self, range: std::ops::Range<u64>) -> u64 {
        range.start + self.next() % (range.end - range.start)
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum State {
    /// Answered 201 and not verified (as far as any answer said).
    Pending,
    /// Its verify is on its way.
    Verifying,
    /// Answered 200 to a verify.
    Verified,
    /// Its verify got no answer: the crash came first.
    VerifyUnknown,
}

struct Entry {
    secret: String,
    code: String,
    state: State,
    /// The crash round in which its state last changed.
    round: usize,
}

/// What the clients were told, per challenge and per rate-limited email.
#[derive(Default)]
struct Ledger {
    challenges: HashMap<String, Entry>,
    /// Created and not yet picked for a verify.
    to_verify: Vec<String>,
    /// The round's repeated email: creates answered 201, and creates that got no answer.
    hot_accepted: u32,
    hot_unknown: u32,
    hot_refused: u32,
    /// Anything a client saw that it must never see.
    wrong: Vec<String>,
}

type Shared = Arc<Mutex<Ledger>>;

fn url(api: &str, path: &str) -> String {
    format!("{api}/{DEV_TENANCY_ID}/challenges{path}")
}

/// One client for the whole test: building one takes long in a debug build, and the load must
/// start at once.
fn client() -> reqwest::Client {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    CLIENT
        .get_or_init(|| {
            mailbox::tls::install_ring_provider();
            reqwest::Client::builder().timeout(Duration::from_secs(20)).build().expect("client")
        })
        .clone()
}

/// One create; `Ok(None)` when the request got no answer (the crash).
async fn create(client: &reqwest::Client, api: &str, email: &str) -> Result<Option<(u16, Value)>, String> {
    let sent = client
        .post(url(api, ""))
        .bearer_auth(DEV_API_KEY)
        .json(&json!({ "email": email, "purpose": "login", "sendEmail": false }))
        .send()
        .await;
    let Ok(response) = sent else { return Ok(None) };
    let status = response.status().as_u16();
    match response.json::<Value>().await {
        Ok(body) => Ok(Some((status, body))),
        // The head came and the body did not: no answer either.
        Err(_) => Ok(None),
    }
}

async fn verify(client: &reqwest::Client, api: &str, id: &str, entry: (&str, &str)) -> Option<(u16, Value)> {
    let response = client
        .post(url(api, "/verify"))
        .bearer_auth(DEV_API_KEY)
        .json(&json!({ "challengeId": id, "secret": entry.0, "code": entry.1 }))
        .send()
        .await
        .ok()?;
    let status = response.status().as_u16();
    Some((status, response.json().await.ok()?))
}

fn record_created(ledger: &Shared, round: usize, body: &Value) {
    let field = |name: &str| body["challenge"][name].as_str().map(str::to_owned);
    let (Some(id), Some(secret), Some(code)) = (field("challengeId"), field("secret"), field("code")) else {
        ledger.lock().unwrap().wrong.push(format!("a 201 without a whole challenge: {body}"));
        return;
    };
    let mut ledger = ledger.lock().unwrap();
    ledger.challenges.insert(id.clone(), Entry { secret, code, state: State::Pending, round });
    ledger.to_verify.push(id);
}

/// One client: creates (distinct emails, and every third time the round's repeated email) and
/// verifies what was created, until its requests run out or the server is gone.
async fn client_load(api: String, ledger: Shared, round: usize, me: usize, hot: String) {
    let client = client();
    for op in 0..OPS_PER_CLIENT {
        if op % 2 == 1 {
            let picked = {
                let mut ledger = ledger.lock().unwrap();
                let id = ledger.to_verify.pop();
                id.map(|id| {
                    let entry = ledger.challenges.get_mut(&id).expect("a known challenge");
                    entry.state = State::Verifying;
                    (id, entry.secret.clone(), entry.code.clone())
                })
            };
            if let Some((id, secret, code)) = picked {
                let answer = verify(&client, &api, &id, (&secret, &code)).await;
                let mut ledger = ledger.lock().unwrap();
                let state = match &answer {
                    None => State::VerifyUnknown,
                    Some((200, body)) if body["_tag"] == "ChallengeVerified" => State::Verified,
                    Some((status, body)) => {
                        ledger.wrong.push(format!("verify of a pending challenge answered {status}: {body}"));
                        State::Pending
                    }
                };
                let entry = ledger.challenges.get_mut(&id).expect("a known challenge");
                (entry.state, entry.round) = (state, round);
                if answer.is_none() {
                    return;
                }
                continue;
            }
        }
        let repeated = op % 3 == 0;
        let email = if repeated { hot.clone() } else { format!("r{round}-c{me}-{op}@example.com") };
        match create(&client, &api, &email).await {
            Ok(None) => {
                if repeated {
                    ledger.lock().unwrap().hot_unknown += 1;
                }
                return;
            }
            Ok(Some((201, body))) => {
                record_created(&ledger, round, &body);
                if repeated {
                    ledger.lock().unwrap().hot_accepted += 1;
                }
            }
            Ok(Some((429, _))) if repeated => ledger.lock().unwrap().hot_refused += 1,
            Ok(Some((status, body))) => ledger.lock().unwrap().wrong.push(format!("create answered {status}: {body}")),
            Err(err) => ledger.lock().unwrap().wrong.push(err),
        }
    }
}

/// Checks the database file, read beside the restarted binary: its integrity, every row whole,
/// every create counted, and each challenge in the state its answers promised.
async fn check_database(path: &std::path::Path, ledger: &Shared, round: usize, hot: &str) -> u32 {
    let mut db = sqlx::SqliteConnection::connect(&format!("sqlite://{}?mode=ro", path.display())).await.unwrap();
    let integrity: String = sqlx::query_scalar("PRAGMA integrity_check").fetch_one(&mut db).await.unwrap();
    assert_eq!(integrity, "ok", "round {round}: the database file is damaged");
    let broken_keys: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM pragma_foreign_key_check").fetch_one(&mut db).await.unwrap();
    assert_eq!(broken_keys, 0, "round {round}: rows refer to rows that are not there");
    // Whole rows: both hashes, an expiry one TTL after creation, and a rate-limit record for
    // each challenge (nothing here deletes challenges, so the counts are equal).
    let partial: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM challenges WHERE length(secret_hash) != 32 OR length(code_hash) != 32
            OR expires_at - created_at != 600000 OR email_key != lower(email) OR attempts != 0",
    )
    .fetch_one(&mut db)
    .await
    .unwrap();
    assert_eq!(partial, 0, "round {round}: half-written challenges");
    let uncounted: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT k, (SELECT COUNT(*) FROM challenges WHERE email_key = k),
                   (SELECT COUNT(*) FROM challenge_creations WHERE email_key = k)
         FROM (SELECT email_key AS k FROM challenges UNION SELECT email_key FROM challenge_creations)
         WHERE (SELECT COUNT(*) FROM challenges WHERE email_key = k)
            != (SELECT COUNT(*) FROM challenge_creations WHERE email_key = k)",
    )
    .fetch_all(&mut db)
    .await
    .unwrap();
    assert!(uncounted.is_empty(), "round {round}: challenges and rate-limit records differ: {uncounted:?}");

    let stored: HashMap<String, bool> =
        sqlx::query_as::<_, (String, bool)>("SELECT id, consumed_at IS NOT NULL FROM challenges")
            .fetch_all(&mut db)
            .await
            .unwrap()
            .into_iter()
            .collect();
    let hot_count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM challenge_creations WHERE email_key = $1")
        .bind(hot)
        .fetch_one(&mut db)
        .await
        .unwrap();
    db.close().await.unwrap();
    let mut ledger = ledger.lock().unwrap();
    let mut pending_again = Vec::new();
    for (id, entry) in &mut ledger.challenges {
        let consumed = stored.get(id).copied();
        match entry.state {
            State::Pending => assert_eq!(consumed, Some(false), "round {round}: {id}, answered 201, is lost or used"),
            State::Verified => {
                assert_eq!(consumed, Some(true), "round {round}: {id}, answered verified, is lost or pending again")
            }
            State::VerifyUnknown => {
                let consumed = consumed.unwrap_or_else(|| panic!("round {round}: {id}, answered 201, is lost"));
                entry.state = if consumed { State::Verified } else { State::Pending };
                if !consumed {
                    pending_again.push(id.clone());
                }
            }
            State::Verifying => panic!("round {round}: {id} still marked as verifying"),
        }
    }
    ledger.to_verify.extend(pending_again);
    u32::try_from(hot_count).unwrap()
}

/// Checks over the API, on the restarted binary, what this round's answers promised.
async fn check_api(api: &str, ledger: &Shared, round: usize) {
    let client = client();
    let touched: Vec<(String, State, String, String)> = {
        let ledger = ledger.lock().unwrap();
        ledger
            .challenges
            .iter()
            .filter(|(_, entry)| entry.round == round)
            .map(|(id, entry)| (id.clone(), entry.state, entry.secret.clone(), entry.code.clone()))
            .collect()
    };
    for (id, state, secret, code) in touched {
        let got = client.get(url(api, &format!("/{id}"))).bearer_auth(DEV_API_KEY).send().await.unwrap();
        match state {
            State::Pending => assert_eq!(got.status(), 200, "round {round}: {id}, answered 201, cannot be fetched"),
            State::Verified => {
                assert_eq!(got.status(), 404, "round {round}: {id}, verified, can be fetched");
                let (status, body) = verify(&client, api, &id, (&secret, &code)).await.expect("an answer");
                assert_eq!(
                    (status, body["_tag"].as_str()),
                    (400, Some("@error/InvalidChallenge")),
                    "round {round}: {id}, verified before the crash, verified again: {body}"
                );
            }
            State::Verifying | State::VerifyUnknown => unreachable!("resolved from the database"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killed_under_load_and_restarted_it_loses_and_repeats_nothing() {
    let seed = std::env::var("CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64 | 1);
    let rounds: usize = std::env::var("CRASH_ITERATIONS").ok().and_then(|s| s.parse().ok()).unwrap_or(20);
    println!("crash seed: {seed} (replay with CRASH_SEED={seed})");
    let mut rng = Rng(seed);
    drop(client());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.db");
    let database_url = format!("sqlite://{}", path.display());
    let settings = [("DATABASE_URL", database_url.as_str())];
    let ledger = Shared::default();
    let started = Instant::now();
    let mut binary = RunningBinary::start(&settings);
    let (mut kills_under_load, mut unknowns) = (0, 0);

    for round in 0..rounds {
        // Load, and a kill at a random moment of it.
        let hot = format!("Hot-{round}@Example.com");
        {
            let mut ledger = ledger.lock().unwrap();
            (ledger.hot_accepted, ledger.hot_unknown, ledger.hot_refused) = (0, 0, 0);
        }
        let clients: Vec<_> = (0..CLIENTS)
            .map(|me| tokio::spawn(client_load(binary.api.clone(), ledger.clone(), round, me, hot.clone())))
            .collect();
        let kill_after = Duration::from_millis(rng.within(KILL_AFTER_MS));
        tokio::time::sleep(kill_after).await;
        kills_under_load += usize::from(!clients.iter().all(|c| c.is_finished()));
        binary.signal(libc::SIGKILL);
        assert!(binary.exit_within(Duration::from_secs(10)).await.is_some(), "SIGKILL did not end it");
        for c in clients {
            c.await.unwrap();
        }
        drop(binary);

        // Restart on the same file, then check.
        binary = RunningBinary::start(&settings);
        {
            let ledger = ledger.lock().unwrap();
            assert!(ledger.wrong.is_empty(), "round {round}: {:?}", ledger.wrong);
            unknowns += ledger.challenges.values().filter(|e| e.state == State::VerifyUnknown).count();
        }
        let hot_key = hot.to_lowercase();
        let counted = check_database(&path, &ledger, round, &hot_key).await;
        check_api(&binary.api, &ledger, round).await;

        // The rate limit: every create let through for the email still counts after the crash,
        // so exactly as many more are let through as the limit has left, and then one is refused.
        let (accepted, unknown) = {
            let ledger = ledger.lock().unwrap();
            (ledger.hot_accepted, ledger.hot_unknown)
        };
        assert!(accepted <= LIMIT, "round {round}: {accepted} creates of one email answered 201");
        assert!(
            (accepted..=accepted + unknown).contains(&counted),
            "round {round}: {accepted} creates answered 201 and {unknown} unanswered, but {counted} counted"
        );
        let client = client();
        let mut more = 0;
        loop {
            let (status, body) = create(&client, &binary.api, &hot).await.unwrap().expect("an answer");
            match status {
                201 => {
                    record_created(&ledger, round, &body);
                    more += 1;
                }
                429 => {
                    assert!(body["retryAfterSeconds"].as_u64().is_some_and(|s| s > 0), "{body}");
                    break;
                }
                _ => panic!("round {round}: create answered {status}: {body}"),
            }
            assert!(more <= LIMIT, "round {round}: the rate limit lets creates through without end");
        }
        assert_eq!(counted + more, LIMIT, "round {round}: {counted} counted, then {more} more let through");
    }

    let total = ledger.lock().unwrap().challenges.len();
    println!(
        "{rounds} crashes ({kills_under_load} with requests in flight, {unknowns} verifies unanswered), \
         {total} challenges, in {:?}",
        started.elapsed()
    );
    assert!(kills_under_load * 2 >= rounds, "most kills must come while requests are in flight");
    let output = binary.stop().await;
    assert!(!output.contains("panicked"), "{output}");
}
