//! The `tenancy` subcommands, run as the real binary against the database a service uses.

use std::process::Command;
use std::time::Duration;

use mailbox::client::ClientError;

use crate::support::{Adapter, TEST_HASH_KEY, TestService, request};

/// Runs the binary with only the settings given, in an empty folder (so no `.env` is read),
/// while the app's address is taken, as it is when the app runs: the commands must not need it.
///
/// It waits off the test's runtime, which also runs the service: blocking that one thread would
/// freeze the service mid-transaction, and the command would wait out SQLite's busy timeout.
async fn run(args: &[&str], database_url: &str, folder: &std::path::Path) -> (bool, String, String) {
    let busy = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let mut command = Command::new(env!("CARGO_BIN_EXE_mailbox-challenges"));
    command
        .args(args)
        .env_clear()
        .env("APP_ADDR", busy.local_addr().unwrap().to_string())
        .env("CHALLENGE_API_ADDR", busy.local_addr().unwrap().to_string())
        .env("DATABASE_URL", database_url)
        .env("CHALLENGE_HASH_KEY", TEST_HASH_KEY)
        .current_dir(folder);
    let output = tokio::task::spawn_blocking(move || command.output()).await.unwrap().expect("the binary runs");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (output.status.success(), text(&output.stdout), text(&output.stderr))
}

fn printed(stdout: &str, name: &str) -> String {
    stdout
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("{name} not printed in {stdout:?}"))
        .to_owned()
}

#[tokio::test]
async fn tenancy_create_prints_a_key_that_works_and_rotate_replaces_it() {
    let folder = tempfile::tempdir().unwrap();
    let database_url = format!("sqlite://{}", folder.path().join("shared.db").display());
    let t = TestService::start(&[("DATABASE_URL", &database_url)]).await;

    let (ok, stdout, stderr) = run(&["tenancy", "create"], &database_url, folder.path()).await;
    assert!(ok, "{stderr}");
    let (tenancy, key) = (printed(&stdout, "PASSLOCK_TENANCY_ID"), printed(&stdout, "PASSLOCK_API_KEY"));
    let client = t.client_for(Adapter::Http, &tenancy, &key);
    assert!(client.create(&request("jane@example.com", "login")).await.is_ok());

    let (ok, stdout, stderr) = run(&["tenancy", "rotate-key", &tenancy], &database_url, folder.path()).await;
    assert!(ok, "{stderr}");
    let new_key = printed(&stdout, "PASSLOCK_API_KEY");
    assert_ne!(new_key, key);
    // Another process's rotation reaches the running service within its two-second key cache.
    tokio::time::sleep(Duration::from_millis(2100)).await;

    assert_eq!(
        client.get(&mailbox::challenges::model::ChallengeId::new("x".into())).await,
        Err(ClientError::Forbidden)
    );
    let rotated = t.client_for(Adapter::Http, &tenancy, &new_key);
    assert!(rotated.create(&request("john@example.com", "login")).await.is_ok());
}

#[tokio::test]
async fn rotating_an_unknown_tenancy_fails_with_a_message() {
    let folder = tempfile::tempdir().unwrap();
    let database_url = format!("sqlite://{}", folder.path().join("cli.db").display());

    let (ok, _, stderr) = run(&["tenancy", "rotate-key", "tn_nope"], &database_url, folder.path()).await;

    assert!(!ok);
    assert!(stderr.contains("no tenancy \"tn_nope\" in the database of DATABASE_URL"), "{stderr}");
}

#[tokio::test]
async fn bad_settings_are_named_and_the_binary_stops() {
    let folder = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_mailbox-challenges"))
        .env_clear()
        .env("CHALLENGE_TTL_SECONDS", "abc")
        .current_dir(folder.path())
        .output()
        .unwrap();

    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("CHALLENGE_TTL_SECONDS=\"abc\" is not valid: expected a whole number of seconds"),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_key_rotated_in_process_stops_working_at_once() {
    let t = TestService::start(&[]).await;
    let issued = t.service.tenancies().create().await.unwrap();
    let client = t.client_for(Adapter::InProcess, &issued.tenancy_id, issued.api_key.expose());
    assert!(client.create(&request("jane@example.com", "login")).await.is_ok());

    t.service.tenancies().rotate_key(&issued.tenancy_id).await.unwrap();

    let refused = client.create(&request("jane@example.com", "login")).await.err();
    assert_eq!(refused, Some(ClientError::Forbidden));
}
