//! What every test needs: the service on real loopback ports with its own SQLite file, a manual
//! clock, and clients of both adapters.

pub mod app;
pub mod binary;
pub mod flows_harness;
pub mod hostile_smtp;
pub mod pages;
pub mod passkey;
pub mod postgres;
pub mod security;
pub mod smtp_server;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use mailbox::challenges::ChallengeService;
use mailbox::challenges::model::{NewChallenge, Purpose};
use mailbox::client::{ChallengeClient, HttpClient, HttpClientConfig, InProcessClient};
use mailbox::clock::Clock;
use mailbox::domain::{DisplayName, EmailAddress, SecretString};
use mailbox::settings::{DEV_API_KEY, DEV_TENANCY_ID, Settings};
use mailbox::startup::Application;
use reqwest::Url;

use self::postgres::Backend;

/// 2026-01-01T00:00:00Z; tests move time with `clock.advance`.
pub const START_MS: i64 = 1_767_225_600_000;
/// `START_MS` as the sample app writes times.
pub const START_TIME: &str = "1 Jan 2026, 00:00 UTC";
pub const TEST_HASH_KEY: &str = "test-hash-key-0123456789abcdefghijklmnop";

#[derive(Clone, Copy, Debug)]
pub enum Adapter {
    Http,
    InProcess,
}

pub struct TestService {
    pub service: ChallengeService,
    pub clock: Clock,
    pub api_url: Url,
    pub db_path: PathBuf,
    pub db: mailbox::db::Database,
    pub tenancy_id: String,
    pub api_key: String,
    _dir: tempfile::TempDir,
}

/// Settings for a test: a fresh database, port 0 everywhere, plus `overrides`.
pub fn test_settings(dir: &tempfile::TempDir, overrides: &[(&str, &str)]) -> Settings {
    let mut env: HashMap<String, String> = HashMap::from([
        ("DATABASE_URL".into(), format!("sqlite://{}", dir.path().join("test.db").display())),
        ("APP_ADDR".into(), "127.0.0.1:0".into()),
        ("CHALLENGE_API_ADDR".into(), "127.0.0.1:0".into()),
        ("CHALLENGE_HASH_KEY".into(), TEST_HASH_KEY.into()),
    ]);
    for (k, v) in overrides {
        env.insert(k.to_string(), v.to_string());
    }
    Settings::from_lookup(|name| env.get(name).cloned()).expect("test settings are valid")
}

impl TestService {
    /// The service on SQLite with a manual clock at `START_MS`.
    pub async fn start(overrides: &[(&str, &str)]) -> Self {
        Self::start_on(Backend::Sqlite, overrides).await
    }

    /// The service on a fresh database of `backend`; PostgreSQL must be [available](postgres::available).
    pub async fn start_on(backend: Backend, overrides: &[(&str, &str)]) -> Self {
        Self::build(backend, overrides, Clock::manual(START_MS)).await
    }

    async fn build(backend: Backend, overrides: &[(&str, &str)], clock: Clock) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let database_url = backend.database_url(&dir).await.expect("PostgreSQL is installed");
        let mut all = vec![("DATABASE_URL", database_url.as_str())];
        all.extend_from_slice(overrides);
        let settings = test_settings(&dir, &all);
        let app = Application::build_with_clock(settings, clock.clone()).await.expect("app builds");
        let api_addr = app.api_addr().expect("API is served");
        let (service, db) = (app.service.clone(), app.db.clone());
        app.spawn();
        Self {
            service,
            clock,
            api_url: Url::parse(&format!("http://{api_addr}")).unwrap(),
            db_path: dir.path().join("test.db"),
            db,
            tenancy_id: DEV_TENANCY_ID.into(),
            api_key: DEV_API_KEY.into(),
            _dir: dir,
        }
    }

    pub fn client(&self, adapter: Adapter) -> Arc<dyn ChallengeClient> {
        self.client_for(adapter, &self.tenancy_id, &self.api_key)
    }

    pub fn client_for(&self, adapter: Adapter, tenancy_id: &str, api_key: &str) -> Arc<dyn ChallengeClient> {
        let key = SecretString::new(api_key);
        match adapter {
            Adapter::Http => {
                Arc::new(HttpClient::new(HttpClientConfig::new(self.api_url.clone(), tenancy_id, key)).unwrap())
            }
            Adapter::InProcess => Arc::new(InProcessClient::new(self.service.clone(), tenancy_id, key)),
        }
    }

    /// Raw HTTP for wire-level checks.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.api_url.as_str().trim_end_matches('/'), path)
    }

    pub fn http(&self) -> reqwest::Client {
        mailbox::tls::install_ring_provider();
        reqwest::Client::new()
    }

    /// A create of `body` as it goes on the wire, with the tenancy's key, ready to send.
    pub fn create_request(&self, body: &serde_json::Value) -> reqwest::RequestBuilder {
        self.http().post(self.url(&format!("/{}/challenges", self.tenancy_id))).bearer_auth(&self.api_key).json(body)
    }
}

pub fn email(raw: &str) -> EmailAddress {
    EmailAddress::parse(raw).unwrap()
}

pub fn name(raw: &str) -> DisplayName {
    DisplayName::parse(raw).unwrap()
}

pub fn purpose(raw: &str) -> Purpose {
    Purpose::parse(raw).unwrap()
}

/// A create request that does not send mail, as the sample app makes them.
pub fn request(email_addr: &str, purpose_name: &str) -> NewChallenge {
    NewChallenge { send_email: false, ..NewChallenge::new(email(email_addr), purpose(purpose_name)) }
}
