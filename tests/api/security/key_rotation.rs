//! A rotated API key stays rotated: restarting with the old key configured does not bring it back.

use mailbox::clock::Clock;
use mailbox::settings::{DEV_API_KEY, DEV_TENANCY_ID};
use mailbox::startup::Application;

use crate::support::smtp_server::SmtpServer;
use crate::support::{START_MS, test_settings};

const PRODUCTION_KEY: &str = "a-production-api-key-of-at-least-32-chars";

#[tokio::test]
async fn key_rotation_survives_a_restart_in_development() {
    // Arrange: the app's tenancy key is rotated (perhaps because it leaked).
    let dir = tempfile::tempdir().unwrap();
    let first = Application::build_with_clock(test_settings(&dir, &[]), Clock::manual(START_MS)).await.unwrap();
    let rotated = first.service.tenancies().rotate_key(DEV_TENANCY_ID).await.unwrap();
    drop(first);

    // Act: a restart with the old key still configured.
    let again = Application::build_with_clock(test_settings(&dir, &[]), Clock::manual(START_MS)).await;

    // Assert: development starts (with a warning), and only the rotated key works.
    let again = again.expect("development starts with a warning");
    let tenancies = again.service.tenancies();
    assert!(tenancies.authenticate(DEV_TENANCY_ID, DEV_API_KEY).await.is_err(), "the old key came back");
    assert!(tenancies.authenticate(DEV_TENANCY_ID, rotated.api_key.expose()).await.is_ok());
}

#[tokio::test]
async fn key_rotation_then_a_production_restart_with_the_old_key_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let smtp = SmtpServer::start().await;
    let smtp_url = smtp.url();
    let production = [
        ("APP_ENV", "production"),
        ("SESSION_KEY", &"s".repeat(64)),
        ("SMTP_URL", smtp_url.as_str()),
        ("PASSLOCK_API_KEY", PRODUCTION_KEY),
    ];
    let first = Application::build_with_clock(test_settings(&dir, &production), Clock::manual(START_MS)).await.unwrap();
    first.service.tenancies().rotate_key(DEV_TENANCY_ID).await.unwrap();
    drop(first);

    let again = Application::build_with_clock(test_settings(&dir, &production), Clock::manual(START_MS)).await;

    let error = format!("{:#}", again.err().expect("production refuses to start"));
    assert!(error.contains("PASSLOCK_API_KEY"), "{error}");
    assert!(error.contains("rotated"), "{error}");
}
