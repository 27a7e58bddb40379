//! The contract of the challenge service, written once and run against both adapters, HTTP
//! (the server on a loopback port) and in-process (the engine directly), on both databases,
//! SQLite and PostgreSQL.

use std::time::Duration;

use mailbox::challenges::model::{ChallengeId, Code, Metadata, Secret, UserId};
use mailbox::client::ClientError;
use serde_json::json;

use crate::support::postgres::Backend;
use crate::support::{Adapter, START_MS, TestService, request};

/// Runs each case once per adapter and database, as `case::http`, `case::in_process`,
/// `case::http_postgres` and `case::in_process_postgres`. The PostgreSQL runs pass without
/// running where PostgreSQL is not installed (and say so once); in CI they must run.
macro_rules! contract {
    ($($case:ident),* $(,)?) => {$(
        mod $case {
            use crate::support::Adapter;
            use crate::support::postgres::{Backend, available};
            #[tokio::test]
            async fn http() {
                super::$case(Adapter::Http, Backend::Sqlite).await;
            }
            #[tokio::test]
            async fn in_process() {
                super::$case(Adapter::InProcess, Backend::Sqlite).await;
            }
            #[tokio::test]
            async fn http_postgres() {
                if available() {
                    super::$case(Adapter::Http, Backend::Postgres).await;
                }
            }
            #[tokio::test]
            async fn in_process_postgres() {
                if available() {
                    super::$case(Adapter::InProcess, Backend::Postgres).await;
                }
            }
        }
    )*};
}

contract!(
    create_returns_every_field,
    get_reads_a_pending_challenge,
    right_code_verifies_once,
    wrong_secret_costs_no_attempt,
    unknown_challenge,
    delete_is_idempotent,
    expiry,
    attempts_run_out,
    invalidate_others_by_email,
    invalidate_others_by_user_id,
    invalidate_others_stays_in_its_tenancy,
    tenancies_are_isolated,
    wrong_api_key_is_forbidden,
    create_rate_limit,
    failed_verification_rate_limit,
    purge_removes_old_challenges,
);

async fn create_returns_every_field(adapter: Adapter, backend: Backend) {
    let t = TestService::start_on(backend, &[]).await;
    let client = t.client(adapter);
    let mut req = request("Jane.Doe@Example.com", "signup");
    req.user_id = Some(UserId::parse("user-1").unwrap());
    req.metadata = Metadata::from_json(&json!({ "signupId": "s_1" })).unwrap();

    let created = client.create(&req).await.unwrap();

    let c = &created.challenge;
    assert!(c.challenge_id.as_str().len() >= 16);
    assert_eq!(c.purpose.as_str(), "signup");
    assert_eq!(c.email.as_str(), "Jane.Doe@Example.com");
    assert_eq!(c.user_id.as_ref().unwrap().as_str(), "user-1");
    assert_eq!(c.created_at, START_MS);
    assert_eq!(c.expires_at, START_MS + 600_000);
    assert_eq!(c.metadata, Metadata::from_json(&json!({ "signupId": "s_1" })).unwrap());
    let groups: Vec<&str> = created.secret.expose().split('-').collect();
    assert_eq!(groups.len(), 3);
    assert!(groups.iter().all(|g| g.len() == 9 && g.chars().all(|ch| ch.is_ascii_alphanumeric())));
    let code = created.code.expose();
    assert!(code.len() == 6 && code.chars().all(|ch| ch.is_ascii_digit()));
    assert!(created.message.html.contains(code));
    assert!(created.message.text.contains(code));
    assert!(!created.message.subject.contains(code));
}

async fn get_reads_a_pending_challenge(adapter: Adapter, backend: Backend) {
    let t = TestService::start_on(backend, &[]).await;
    let client = t.client(adapter);
    let created = client.create(&request("jane@example.com", "login")).await.unwrap();

    let read = client.get(&created.challenge.challenge_id).await.unwrap();

    assert_eq!(read, created.challenge);
}

async fn right_code_verifies_once(adapter: Adapter, backend: Backend) {
    let t = TestService::start_on(backend, &[]).await;
    let client = t.client(adapter);
    let created = client.create(&request("jane@example.com", "login")).await.unwrap();
    let id = &created.challenge.challenge_id;

    let verified = client.verify(id, &created.secret, &created.code).await.unwrap();

    assert_eq!(verified, created.challenge);
    assert_eq!(client.verify(id, &created.secret, &created.code).await, Err(ClientError::InvalidChallenge));
    assert_eq!(client.get(id).await, Err(ClientError::NotFound));
}

async fn wrong_secret_costs_no_attempt(adapter: Adapter, backend: Backend) {
    let t = TestService::start_on(backend, &[]).await;
    let client = t.client(adapter);
    let created = client.create(&request("jane@example.com", "login")).await.unwrap();
    let id = &created.challenge.challenge_id;
    let wrong = Secret::new("AAAAAAAAA-BBBBBBBBB-CCCCCCCCC".into());

    for _ in 0..10 {
        // Even with the right code, a wrong secret proves nothing.
        assert_eq!(client.verify(id, &wrong, &created.code).await, Err(ClientError::InvalidChallenge));
    }

    assert!(client.verify(id, &created.secret, &created.code).await.is_ok());
}

async fn unknown_challenge(adapter: Adapter, backend: Backend) {
    let t = TestService::start_on(backend, &[]).await;
    let client = t.client(adapter);
    let id = ChallengeId::new("doesnotexist0000".into());

    assert_eq!(client.get(&id).await, Err(ClientError::NotFound));
    let verify = client.verify(&id, &Secret::new("s".into()), &Code::new("000000".into())).await;
    assert_eq!(verify, Err(ClientError::InvalidChallenge));
}

async fn delete_is_idempotent(adapter: Adapter, backend: Backend) {
    let t = TestService::start_on(backend, &[]).await;
    let client = t.client(adapter);
    let created = client.create(&request("jane@example.com", "login")).await.unwrap();
    let id = &created.challenge.challenge_id;

    client.delete(id).await.unwrap();
    client.delete(id).await.unwrap();
    client.delete(&ChallengeId::new("neverexisted".into())).await.unwrap();

    assert_eq!(client.get(id).await, Err(ClientError::NotFound));
    assert_eq!(client.verify(id, &created.secret, &created.code).await, Err(ClientError::InvalidChallenge));
}

async fn expiry(adapter: Adapter, backend: Backend) {
    let t = TestService::start_on(backend, &[("CHALLENGE_TTL_SECONDS", "60")]).await;
    let client = t.client(adapter);
    let early = client.create(&request("early@example.com", "login")).await.unwrap();
    let late = client.create(&request("late@example.com", "login")).await.unwrap();
    assert_eq!(late.challenge.expires_at, START_MS + 60_000);

    t.clock.advance(Duration::from_millis(59_999));
    assert!(client.verify(&early.challenge.challenge_id, &early.secret, &early.code).await.is_ok());
    t.clock.advance(Duration::from_millis(1));

    let id = &late.challenge.challenge_id;
    assert_eq!(client.verify(id, &late.secret, &late.code).await, Err(ClientError::ChallengeExpired));
    // Still readable until purged, so a page can offer a new code.
    assert_eq!(client.get(id).await.unwrap(), late.challenge);
}

async fn attempts_run_out(adapter: Adapter, backend: Backend) {
    let t = TestService::start_on(backend, &[]).await;
    let client = t.client(adapter);
    let created = client.create(&request("jane@example.com", "login")).await.unwrap();
    let id = &created.challenge.challenge_id;
    let wrong = Code::new(if created.code.expose() == "000000" { "111111" } else { "000000" }.into());

    for _ in 0..4 {
        assert_eq!(client.verify(id, &created.secret, &wrong).await, Err(ClientError::InvalidChallengeCode));
    }
    assert_eq!(client.verify(id, &created.secret, &wrong).await, Err(ClientError::ChallengeAttemptsExceeded));

    let right = client.verify(id, &created.secret, &created.code).await;
    assert_eq!(right, Err(ClientError::ChallengeAttemptsExceeded));
}

async fn invalidate_others_by_email(adapter: Adapter, backend: Backend) {
    let t = TestService::start_on(backend, &[]).await;
    let client = t.client(adapter);
    let first = client.create(&request("jane@example.com", "login")).await.unwrap();
    let other_purpose = client.create(&request("jane@example.com", "signup")).await.unwrap();
    let other_email = client.create(&request("john@example.com", "login")).await.unwrap();
    let mut again = request("JANE@example.com", "login");
    again.invalidate_others = true;

    let newest = client.create(&again).await.unwrap();

    assert_eq!(client.get(&first.challenge.challenge_id).await, Err(ClientError::NotFound));
    for kept in [&other_purpose, &other_email, &newest] {
        assert!(client.get(&kept.challenge.challenge_id).await.is_ok());
    }
}

async fn invalidate_others_by_user_id(adapter: Adapter, backend: Backend) {
    let t = TestService::start_on(backend, &[]).await;
    let client = t.client(adapter);
    let with_user = |email: &str, user: &str| {
        let mut r = request(email, "email-change");
        r.user_id = Some(UserId::parse(user).unwrap());
        r
    };
    let old_address = client.create(&with_user("old@example.com", "u1")).await.unwrap();
    let other_user = client.create(&with_user("new@example.com", "u2")).await.unwrap();
    let mut again = with_user("new@example.com", "u1");
    again.invalidate_others = true;

    let newest = client.create(&again).await.unwrap();

    // Scoped by user: the same user's challenge to another address goes, another user's to
    // the same address stays.
    assert_eq!(client.get(&old_address.challenge.challenge_id).await, Err(ClientError::NotFound));
    assert!(client.get(&other_user.challenge.challenge_id).await.is_ok());
    assert!(client.get(&newest.challenge.challenge_id).await.is_ok());
}

async fn invalidate_others_stays_in_its_tenancy(adapter: Adapter, backend: Backend) {
    let t = TestService::start_on(backend, &[]).await;
    let other = t.service.tenancies().create().await.unwrap();
    let other_client = t.client_for(adapter, &other.tenancy_id, other.api_key.expose());
    let theirs = other_client.create(&request("jane@example.com", "login")).await.unwrap();
    let mut ours = request("jane@example.com", "login");
    ours.invalidate_others = true;

    t.client(adapter).create(&ours).await.unwrap();

    assert!(other_client.get(&theirs.challenge.challenge_id).await.is_ok());
}

async fn tenancies_are_isolated(adapter: Adapter, backend: Backend) {
    let t = TestService::start_on(backend, &[]).await;
    let other = t.service.tenancies().create().await.unwrap();
    let other_client = t.client_for(adapter, &other.tenancy_id, other.api_key.expose());
    let client = t.client(adapter);
    let created = client.create(&request("jane@example.com", "login")).await.unwrap();
    let id = &created.challenge.challenge_id;

    assert_eq!(other_client.get(id).await, Err(ClientError::NotFound));
    let stolen = other_client.verify(id, &created.secret, &created.code).await;
    assert_eq!(stolen, Err(ClientError::InvalidChallenge));
    other_client.delete(id).await.unwrap();

    assert!(client.verify(id, &created.secret, &created.code).await.is_ok());
}

async fn wrong_api_key_is_forbidden(adapter: Adapter, backend: Backend) {
    let t = TestService::start_on(backend, &[]).await;
    let created = t.client(adapter).create(&request("jane@example.com", "login")).await.unwrap();
    let id = &created.challenge.challenge_id;
    let other = t.service.tenancies().create().await.unwrap();

    for client in [
        t.client_for(adapter, &t.tenancy_id, "wrong-key"),
        t.client_for(adapter, "no-such-tenancy", &t.api_key),
        // A valid key, but of another tenancy.
        t.client_for(adapter, &t.tenancy_id, other.api_key.expose()),
    ] {
        assert_eq!(client.create(&request("jane@example.com", "login")).await.err(), Some(ClientError::Forbidden));
        assert_eq!(client.get(id).await, Err(ClientError::Forbidden));
        assert_eq!(client.verify(id, &created.secret, &created.code).await, Err(ClientError::Forbidden));
        assert_eq!(client.delete(id).await, Err(ClientError::Forbidden));
    }
    assert!(t.client(adapter).get(id).await.is_ok(), "a refused delete deleted nothing");
}

async fn create_rate_limit(adapter: Adapter, backend: Backend) {
    let t = TestService::start_on(backend, &[]).await;
    let client = t.client(adapter);
    for _ in 0..5 {
        client.create(&request("jane@example.com", "login")).await.unwrap();
        t.clock.advance(Duration::from_secs(10));
    }

    // The first create was 50 s ago: its slot frees 600 s after it was made.
    let limited = client.create(&request("Jane@Example.com", "signup")).await.err();
    assert_eq!(limited, Some(ClientError::ChallengeRateLimited { retry_after_seconds: 550 }));

    let mut skipping = request("jane@example.com", "login");
    skipping.skip_rate_limit = true;
    assert!(client.create(&skipping).await.is_ok());
    assert!(client.create(&request("john@example.com", "login")).await.is_ok());

    t.clock.advance(Duration::from_secs(549));
    let limited = client.create(&request("jane@example.com", "login")).await.err();
    assert_eq!(limited, Some(ClientError::ChallengeRateLimited { retry_after_seconds: 1 }));
    t.clock.advance(Duration::from_secs(1));
    assert!(client.create(&request("jane@example.com", "login")).await.is_ok());
}

async fn failed_verification_rate_limit(adapter: Adapter, backend: Backend) {
    let t = TestService::start_on(backend, &[]).await;
    let client = t.client(adapter);
    let mut skipping = request("jane@example.com", "login");
    skipping.skip_rate_limit = true;
    // 20 challenges of 5 wrong codes each: 100 failures, the daily allowance.
    for _ in 0..20 {
        let created = client.create(&skipping).await.unwrap();
        let wrong = Code::new(if created.code.expose() == "000000" { "111111" } else { "000000" }.into());
        for _ in 0..5 {
            let _ = client.verify(&created.challenge.challenge_id, &created.secret, &wrong).await;
        }
        t.clock.advance(Duration::from_secs(60));
    }

    // The first failures were 20 minutes ago; they free a slot 24 hours after they were made.
    let limited = client.create(&request("jane@example.com", "login")).await.err();
    assert_eq!(limited, Some(ClientError::ChallengeRateLimited { retry_after_seconds: 24 * 3600 - 20 * 60 }));
    assert!(client.create(&request("john@example.com", "login")).await.is_ok());
}

async fn purge_removes_old_challenges(adapter: Adapter, backend: Backend) {
    let t = TestService::start_on(backend, &[]).await;
    let client = t.client(adapter);
    let used = client.create(&request("used@example.com", "login")).await.unwrap();
    client.verify(&used.challenge.challenge_id, &used.secret, &used.code).await.unwrap();
    let expired = client.create(&request("expired@example.com", "login")).await.unwrap();

    t.clock.advance(Duration::from_secs(24 * 3600 + 1));
    assert_eq!(t.service.purge().await.unwrap(), 1, "only the used one is over 24 h old");
    assert!(client.get(&expired.challenge.challenge_id).await.is_ok(), "expired, but not for 24 h yet");
    let fresh = client.create(&request("fresh@example.com", "login")).await.unwrap();

    t.clock.advance(Duration::from_secs(600));
    assert_eq!(t.service.purge().await.unwrap(), 1);

    assert_eq!(client.get(&expired.challenge.challenge_id).await, Err(ClientError::NotFound));
    assert!(client.get(&fresh.challenge.challenge_id).await.is_ok());
}
