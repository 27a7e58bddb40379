//! Two requests at once must not both win: single use and the attempts cap hold under races.

use std::sync::Arc;

use futures_util::future::join_all;
use mailbox::challenges::model::Code;
use mailbox::client::{ChallengeClient, ClientError};

use crate::support::{Adapter, TestService, request};

const RACERS: usize = 50;

async fn race_verifies(client: Arc<dyn ChallengeClient>, right_code: bool) -> Vec<Result<(), ClientError>> {
    let created = client.create(&request("race@example.com", "login")).await.unwrap();
    let code = if right_code {
        created.code.clone()
    } else {
        Code::new(if created.code.expose() == "000000" { "111111" } else { "000000" }.into())
    };
    let attempts = (0..RACERS).map(|_| {
        let (client, created, code) = (client.clone(), created.clone(), code.clone());
        tokio::spawn(
            async move { client.verify(&created.challenge.challenge_id, &created.secret, &code).await.map(|_| ()) },
        )
    });
    join_all(attempts).await.into_iter().map(|r| r.unwrap()).collect()
}

fn count(results: &[Result<(), ClientError>], wanted: &Result<(), ClientError>) -> usize {
    results.iter().filter(|r| *r == wanted).count()
}

async fn right_code_wins_once(adapter: Adapter) {
    let t = TestService::start(&[]).await;

    let results = race_verifies(t.client(adapter), true).await;

    assert_eq!(count(&results, &Ok(())), 1, "{results:?}");
    assert_eq!(count(&results, &Err(ClientError::InvalidChallenge)), RACERS - 1, "{results:?}");
}

async fn wrong_codes_never_exceed_the_attempts(adapter: Adapter) {
    let t = TestService::start(&[]).await;

    let results = race_verifies(t.client(adapter), false).await;

    assert_eq!(count(&results, &Err(ClientError::InvalidChallengeCode)), 4, "{results:?}");
    assert_eq!(count(&results, &Err(ClientError::ChallengeAttemptsExceeded)), RACERS - 4, "{results:?}");
    let failures = t.db.scalar("SELECT COUNT(*) FROM verification_failures").await.unwrap();
    assert_eq!(failures, 5, "only attempts that were counted are failures");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn right_code_wins_once_over_http() {
    right_code_wins_once(Adapter::Http).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn right_code_wins_once_in_process() {
    right_code_wins_once(Adapter::InProcess).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn wrong_codes_never_exceed_the_attempts_over_http() {
    wrong_codes_never_exceed_the_attempts(Adapter::Http).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn wrong_codes_never_exceed_the_attempts_in_process() {
    wrong_codes_never_exceed_the_attempts(Adapter::InProcess).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rate_limit_holds_under_a_burst() {
    let t = TestService::start(&[]).await;
    let client = t.client(Adapter::Http);
    let creates = (0..20).map(|_| {
        let client = client.clone();
        tokio::spawn(async move { client.create(&request("burst@example.com", "login")).await.is_ok() })
    });

    let made = join_all(creates).await.into_iter().filter(|r| *r.as_ref().unwrap()).count();

    assert_eq!(made, 5);
}
