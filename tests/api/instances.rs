//! Two instances of the app on one PostgreSQL database, as behind a load balancer: what one
//! SQLite process guarantees holds across them. Requests alternate between the instances.

use std::time::Duration;

use futures_util::future::join_all;
use mailbox::challenges::purge::PURGE_LOCK;
use mailbox::db::{Database, Dialect};
use mailbox::settings::{DEV_API_KEY, DEV_TENANCY_ID};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::app::TestApp;
use crate::support::passkey::{
    Choices, Passkey, account_handle, authentication_options, finish_registration, finish_sign_in, recover,
    registration_options,
};
use crate::support::postgres::{Backend, available, fresh_database};
use crate::support::{Adapter, TestService, request};

/// Shared by both instances, as the README tells operators to do.
const SESSION_KEY: &str = "instances-session-key-0123456789abcdefghijklmnopqrstuvwxyz-0123456789";

/// Two instances on a fresh PostgreSQL database; `None` where PostgreSQL is not installed.
async fn two_instances(overrides: &[(&str, &str)]) -> Option<[TestApp; 2]> {
    if !available() {
        return None;
    }
    let mut all = vec![("SESSION_KEY", SESSION_KEY)];
    all.extend_from_slice(overrides);
    let a = TestApp::spawn_on(Backend::Postgres, &all).await;
    let b = a.another_instance().await;
    Some([a, b])
}

/// A REST call to the challenge service of `instance`: the status, the `Retry-After` header
/// and the JSON body.
async fn api(instance: &TestApp, path: &str, body: Value) -> (StatusCode, Option<String>, Value) {
    let base = instance.api_base.as_deref().expect("the API is served");
    let response = reqwest::Client::new()
        .post(format!("{base}/{DEV_TENANCY_ID}/challenges{path}"))
        .bearer_auth(DEV_API_KEY)
        .json(&body)
        .send()
        .await
        .expect("an API call");
    let status = response.status();
    let retry_after = response.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
    (status, retry_after, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_code_verifies_once_when_50_requests_race_over_two_instances() {
    let Some(instances) = two_instances(&[]).await else { return };
    let (_, _, created) =
        api(&instances[0], "", json!({ "email": "race@example.com", "purpose": "login", "sendEmail": false })).await;
    let c = &created["challenge"];
    let verify = json!({ "challengeId": c["challengeId"], "secret": c["secret"], "code": c["code"] });

    let answers = join_all((0..50).map(|i| api(&instances[i % 2], "/verify", verify.clone()))).await;

    let verified = answers.iter().filter(|(status, _, _)| *status == StatusCode::OK).count();
    assert_eq!(verified, 1, "{answers:?}");
    assert!(answers.iter().all(|(status, _, _)| status.is_client_error() || *status == StatusCode::OK), "{answers:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn exactly_the_rate_limit_of_20_simultaneous_creates_per_email_over_two_instances_succeed() {
    let Some(instances) = two_instances(&[("CHALLENGE_RATE_LIMIT_MAX", "5")]).await else { return };
    // Three addresses at once, so that a count that is not exact has three chances to show.
    let emails = ["limit0@example.com", "Limit1@Example.com", "LIMIT2@example.com"];
    let creates = (0..60).map(|i| {
        let create = json!({ "email": emails[i % 3], "purpose": "login", "sendEmail": false });
        api(&instances[i % 2], "", create)
    });

    let answers = join_all(creates).await;

    for (n, email) in emails.iter().enumerate() {
        let of_email: Vec<_> = answers.iter().skip(n).step_by(3).collect();
        let statuses: Vec<u16> = of_email.iter().map(|(status, _, _)| status.as_u16()).collect();
        assert_eq!(statuses.iter().filter(|&&s| s == 201).count(), 5, "{email}: {statuses:?}");
        for (status, retry_after, body) in of_email.iter().filter(|(status, _, _)| *status != StatusCode::CREATED) {
            assert_eq!(*status, StatusCode::TOO_MANY_REQUESTS, "{body}");
            // Every counted create happened at the same moment of the shared clock, so the next
            // slot frees exactly one window (600 s) later.
            assert_eq!(retry_after.as_deref(), Some("600"), "{body}");
            assert_eq!(body["retryAfterSeconds"], 600, "{body}");
        }
    }
}

#[tokio::test]
async fn a_session_made_on_one_instance_works_on_the_other_and_signs_out_there() {
    let Some([a, b]) = two_instances(&[]).await else { return };
    let mut browser = a.signed_up("nomad@example.com", "Nomad").await;

    browser.base = b.base.clone();
    assert!(browser.is_signed_in().await, "B accepts A's session cookie");
    assert_eq!(browser.logout().await.status, StatusCode::SEE_OTHER);

    browser.base = a.base.clone();
    assert!(!browser.is_signed_in().await, "signed out on B is signed out on A");
}

#[tokio::test]
async fn signing_out_everywhere_on_one_instance_ends_the_sessions_on_the_other_at_once() {
    let Some([a, b]) = two_instances(&[]).await else { return };
    let email = "pia@example.com";
    let on_a = a.signed_up(email, "Pia").await;
    let mut rescuer = b.browser();
    assert!(recover(&b, &rescuer, email).await.redirects_to("/recover/passkey"));

    let mut passkey = Passkey::soft();
    let options = registration_options(&rescuer).await;
    let credential = passkey.create(&options.body);
    let choices = Choices { remove_others: true, sign_out_others: true };
    assert_eq!(finish_registration(&rescuer, &credential, "New phone", choices).await.redirect(), Some("/account"));

    assert!(on_a.get("/account").await.redirects_to("/login"), "A's session ended with B's recovery");
    rescuer.base = a.base.clone();
    assert!(rescuer.is_signed_in().await, "the recovering session itself goes on, on either instance");
}

#[tokio::test]
async fn a_passkey_ceremony_started_on_one_instance_finishes_on_the_other() {
    let Some([a, b]) = two_instances(&[]).await else { return };
    let email = "ceremony@example.com";
    let mut browser = a.signed_up(email, "Cere").await;
    let mut passkey = Passkey::soft();

    let options = registration_options(&browser).await;
    browser.base = b.base.clone();
    let credential = passkey.create(&options.body);
    let registered = finish_registration(&browser, &credential, "Laptop", Choices::default()).await;
    assert_eq!(registered.redirect(), Some("/account"), "{}", registered.text);
    browser.logout().await;

    let handle = account_handle(&a, email).await;
    let mut signing_in = b.browser();
    let options = authentication_options(&signing_in).await;
    signing_in.base = a.base.clone();
    let assertion = passkey.assert(&options.body, &handle);
    let signed_in = finish_sign_in(&signing_in, &assertion).await;
    assert_eq!(signed_in.redirect(), Some("/account"), "{}", signed_in.text);
}

#[tokio::test]
async fn notices_are_sent_once_with_the_outbox_workers_of_both_instances_running() {
    let Some([a, b]) = two_instances(&[]).await else { return };
    let movers: Vec<String> = (0..6).map(|i| format!("mover{i}@example.com")).collect();
    for (i, old) in movers.iter().enumerate() {
        let instance = &[&a, &b][i % 2];
        let browser = instance.signed_up(old, "Mover").await;
        let new = format!("moved{i}@example.com");
        assert!(browser.change_email(&new).await.redirects_to("/verify"));
        let code = instance.code_for(&new).await;
        assert!(browser.submit_code(&code).await.redirects_to("/account"));
    }

    // Both workers look for due notices every second; give them several rounds.
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    for old in &movers {
        let notices = a.smtp.received().into_iter().filter(|m| m.envelope_to.iter().any(|r| r == old)).count();
        // The sign-up code, then exactly one notice of the change.
        assert_eq!(notices, 2, "{old} received the notice once");
    }
}

#[tokio::test]
async fn instances_starting_at_the_same_moment_migrate_the_database_once() {
    let Some(url) = fresh_database().await else { return };

    let opened = join_all((0..4).map(|_| Database::open(&url))).await;

    let migrations = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres")).unwrap().count();
    for db in opened {
        let db = db.expect("every instance starts");
        let applied = db.scalar("SELECT COUNT(*) FROM _sqlx_migrations").await.unwrap();
        assert_eq!(applied, i64::try_from(migrations).unwrap(), "each migration ran once");
    }
}

#[tokio::test]
async fn while_one_instance_purges_the_others_leave_the_purge_to_it() {
    if !available() {
        return;
    }
    let t = TestService::start_on(Backend::Postgres, &[]).await;
    let client = t.client(Adapter::InProcess);
    for i in 0..10 {
        client.create(&request(&format!("old{i}@example.com"), "login")).await.unwrap();
    }
    // Past the ten minutes of each code and the day they are kept after.
    t.clock.advance(Duration::from_secs(24 * 3600 + 601));

    let mut purging_elsewhere = t.db.begin_write().await.unwrap();
    let Dialect::Postgres(conn) = purging_elsewhere.conn() else { unreachable!("a PostgreSQL database") };
    let held: bool =
        sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)").bind(PURGE_LOCK).fetch_one(conn).await.unwrap();
    assert!(held);
    assert_eq!(t.service.purge().await.unwrap(), 0, "another instance is purging");
    assert_eq!(t.db.scalar("SELECT COUNT(*) FROM challenges").await.unwrap(), 10);

    // Its transaction ends (commit, not a drop: sqlx rolls a dropped one back only later).
    purging_elsewhere.commit().await.unwrap();

    assert_eq!(t.service.purge().await.unwrap(), 10, "the purge is free again");
}
