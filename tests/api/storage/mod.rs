//! The stores' contract, written once and run against both backends: each case as `case::sqlite`
//! and `case::postgres`, on a fresh, empty database.

use mailbox::accounts::users::Users;
use mailbox::clock::Clock;
use mailbox::db::Database;
use mailbox::domain::{AccountId, DisplayName, EmailAddress};
use tempfile::TempDir;

use crate::support::START_MS;
use crate::support::postgres::Backend;

/// Runs each case once per backend, as `case::sqlite` and `case::postgres`; the PostgreSQL one
/// passes without running where PostgreSQL is not installed.
macro_rules! storage_contract {
    ($($case:ident),* $(,)?) => {$(
        mod $case {
            use crate::support::postgres::Backend;
            #[tokio::test(flavor = "multi_thread")]
            async fn sqlite() {
                super::$case(Backend::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread")]
            async fn postgres() {
                if crate::support::postgres::available() {
                    super::$case(Backend::Postgres).await;
                }
            }
        }
    )*};
}

mod ceremonies;
mod outbox;
mod purge;
mod sessions;

/// A fresh database of one backend and a manual clock at [`START_MS`].
pub struct Fixture {
    /// Holds the SQLite file until the test ends.
    _dir: TempDir,
    url: String,
    pub db: Database,
    pub clock: Clock,
}

impl Fixture {
    pub async fn new(backend: Backend) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = backend.database_url(&dir).await.expect("PostgreSQL cases run only where it is installed");
        let db = Database::open(&url).await.unwrap();
        Self { _dir: dir, url, db, clock: Clock::manual(START_MS) }
    }

    /// The same database opened again, as a second instance of the app would.
    pub async fn another_instance(&self) -> Database {
        Database::open(&self.url).await.unwrap()
    }

    /// A verified account, for the rows that must belong to one.
    pub async fn account(&self, email: &str) -> AccountId {
        let users = Users::new(self.db.clone(), self.clock.clone());
        let name = DisplayName::parse("Test").unwrap();
        users.create_verified(&EmailAddress::parse(email).unwrap(), &name).await.unwrap().id
    }
}
