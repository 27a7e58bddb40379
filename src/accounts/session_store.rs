//! Server-side session storage for actix-session, in the `sessions` table of the SQLite database.
//!
//! The cookie carries a random 64-character session key; the table holds only its SHA-256, so a
//! leaked copy of the database (or a backup) cannot be turned into a working session cookie. The
//! key has 384 bits of entropy, so an unsalted fast hash is enough: there is nothing to brute-force.
//!
//! The account a session acts for (signed in, or being recovered) is copied out of the session
//! state into its own column, so every session of an account can be ended at once ("sign out
//! everywhere else" after a recovery).
//!
//! Expiry is enforced on every read and write against the injected [`Clock`]; expired rows are
//! invisible straight away and [`SqliteSessionStore::purge_expired`] reclaims their space later.

use std::collections::HashMap;

use actix_session::storage::{LoadError, SaveError, SessionKey, SessionStore, UpdateError};
use actix_web::cookie::time::Duration;
use anyhow::Context;
use sha2::{Digest, Sha256};
use sqlx::SqliteConnection;

use super::recovery::RecoveryGrant;
use crate::clock::Clock;
use crate::db::Database;
use crate::domain::{AccountId, random_token};

/// The session-state entry that holds the signed-in user's id (JSON-encoded, as actix-session
/// stores every value); it is mirrored into `sessions.user_id`.
pub const USER_ID_KEY: &str = "user_id";

/// The session-state entry of a recovery grant, a JSON object whose `account` is the account
/// being recovered. A recovery session acts for that account, so it is mirrored into
/// `sessions.user_id` too: "sign out everywhere" must end it as well.
pub const RECOVERY_KEY: &str = "recovery";

/// 48 random bytes encode to exactly 64 URL-safe base64 characters, with no padding to escape.
const KEY_BYTES: usize = 48;

/// actix-session's state map; its own alias is crate-private.
type SessionState = HashMap<String, String>;

#[derive(Clone, Debug)]
pub struct SqliteSessionStore {
    db: Database,
    clock: Clock,
}

impl SqliteSessionStore {
    pub fn new(db: Database, clock: Clock) -> Self {
        Self { db, clock }
    }

    /// Ends every session of an account ("sign out everywhere"), inside the caller's write;
    /// returns how many rows went.
    pub async fn end_all_of(conn: &mut SqliteConnection, account: AccountId) -> sqlx::Result<u64> {
        let deleted =
            sqlx::query("DELETE FROM sessions WHERE user_id = ?").bind(account.to_string()).execute(conn).await?;
        Ok(deleted.rows_affected())
    }

    /// Deletes the rows of expired sessions; they are already ignored, this only reclaims space.
    pub async fn purge_expired(&self) -> sqlx::Result<u64> {
        let deleted = sqlx::query("DELETE FROM sessions WHERE expires_at <= ?")
            .bind(self.clock.now_ms())
            .execute(self.db.writer())
            .await?;
        Ok(deleted.rows_affected())
    }

    fn expires_at(&self, ttl: &Duration) -> i64 {
        // Clamp rather than wrap: an absurd TTL must not come out as a date in the past or vice versa.
        let ttl_ms = ttl.whole_milliseconds().clamp(i64::MIN.into(), i64::MAX.into()) as i64;
        self.clock.now_ms().saturating_add(ttl_ms)
    }

    /// Inserts the state under a fresh key.
    async fn insert(&self, row: &Row, ttl: &Duration) -> anyhow::Result<SessionKey> {
        let key = new_session_key();
        // A collision of 384-bit random keys will not happen; if it ever did, the primary key
        // makes the insert fail rather than hand out someone else's session.
        sqlx::query("INSERT INTO sessions (key_hash, user_id, state, expires_at) VALUES (?, ?, ?, ?)")
            .bind(key_hash(&key))
            .bind(row.user_id.as_deref())
            .bind(&row.state)
            .bind(self.expires_at(ttl))
            .execute(self.db.writer())
            .await
            // Context names the failure without the key, which must never reach a log.
            .context("could not insert the session")?;
        Ok(key)
    }
}

impl SessionStore for SqliteSessionStore {
    async fn load(&self, session_key: &SessionKey) -> Result<Option<SessionState>, LoadError> {
        let state: Option<String> =
            sqlx::query_scalar("SELECT state FROM sessions WHERE key_hash = ? AND expires_at > ?")
                .bind(key_hash(session_key))
                .bind(self.clock.now_ms())
                .fetch_optional(self.db.reader())
                .await
                .context("could not load the session")
                .map_err(LoadError::Other)?;
        state
            .map(|state| serde_json::from_str(&state).context("the stored session state is not a JSON string map"))
            .transpose()
            .map_err(LoadError::Deserialization)
    }

    async fn save(&self, session_state: SessionState, ttl: &Duration) -> Result<SessionKey, SaveError> {
        let row = Row::new(&session_state).map_err(SaveError::Serialization)?;
        self.insert(&row, ttl).await.map_err(SaveError::Other)
    }

    async fn update(
        &self,
        session_key: SessionKey,
        session_state: SessionState,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        let row = Row::new(&session_state).map_err(UpdateError::Serialization)?;
        let updated = sqlx::query(
            "UPDATE sessions SET user_id = ?, state = ?, expires_at = ? WHERE key_hash = ? AND expires_at > ?",
        )
        .bind(row.user_id.as_deref())
        .bind(&row.state)
        .bind(self.expires_at(ttl))
        .bind(key_hash(&session_key))
        .bind(self.clock.now_ms())
        .execute(self.db.writer())
        .await
        .context("could not update the session")
        .map_err(UpdateError::Other)?;
        if updated.rows_affected() == 1 {
            return Ok(session_key);
        }
        // The session expired or was ended (signed out, everywhere included) since this request
        // loaded it. Whatever the request did, it must not bring the session back: a stolen
        // cookie kept busy with requests would otherwise outlive "sign out everywhere". The
        // client gets a fresh, empty session under a new key (never the old key, which an
        // attacker could have planted).
        self.insert(&Row::new(&SessionState::new()).map_err(UpdateError::Serialization)?, ttl)
            .await
            .map_err(UpdateError::Other)
    }

    async fn update_ttl(&self, session_key: &SessionKey, ttl: &Duration) -> anyhow::Result<()> {
        // Only unexpired sessions: extending an expired one would bring it back to life.
        sqlx::query("UPDATE sessions SET expires_at = ? WHERE key_hash = ? AND expires_at > ?")
            .bind(self.expires_at(ttl))
            .bind(key_hash(session_key))
            .bind(self.clock.now_ms())
            .execute(self.db.writer())
            .await
            .context("could not extend the session")?;
        Ok(())
    }

    async fn delete(&self, session_key: &SessionKey) -> anyhow::Result<()> {
        sqlx::query("DELETE FROM sessions WHERE key_hash = ?")
            .bind(key_hash(session_key))
            .execute(self.db.writer())
            .await
            .context("could not delete the session")?;
        Ok(())
    }
}

/// The column values for a session state.
struct Row {
    user_id: Option<String>,
    state: String,
}

impl Row {
    fn new(session_state: &SessionState) -> anyhow::Result<Self> {
        // A user id that is present but not a JSON string is refused rather than stored as NULL:
        // a signed-in session without its user_id would survive "sign out everywhere".
        let user_id = session_state
            .get(USER_ID_KEY)
            .map(|value| serde_json::from_str::<String>(value))
            .transpose()
            .with_context(|| format!("the session entry {USER_ID_KEY:?} is not a JSON string"))?;
        let user_id = match user_id {
            Some(user) => Some(user),
            None => recovered_account(session_state)?,
        };
        let state = serde_json::to_string(session_state).context("could not encode the session state")?;
        Ok(Self { user_id, state })
    }
}

/// The account of the session's recovery grant, if it has one.
fn recovered_account(session_state: &SessionState) -> anyhow::Result<Option<String>> {
    session_state
        .get(RECOVERY_KEY)
        .map(|value| serde_json::from_str::<RecoveryGrant>(value).map(|grant| grant.account.to_string()))
        .transpose()
        .with_context(|| format!("the session entry {RECOVERY_KEY:?} has no account"))
}

fn new_session_key() -> SessionKey {
    random_token(KEY_BYTES).try_into().expect("a 64-character key is far below the session key limit")
}

fn key_hash(key: &SessionKey) -> Vec<u8> {
    Sha256::digest(key.as_ref().as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TTL: Duration = Duration::hours(1);
    const USER_A: &str = "0b0a0c3e-0000-4000-8000-00000000000a";
    const USER_B: &str = "0b0a0c3e-0000-4000-8000-00000000000b";

    struct Fixture {
        _dir: tempfile::TempDir,
        db: Database,
        clock: Clock,
        store: SqliteSessionStore,
    }

    async fn fixture() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::open(&format!("sqlite://{}", dir.path().join("t.db").display())).await.unwrap();
        let clock = Clock::manual(1_700_000_000_000);
        for (id, email) in [(USER_A, "a@example.com"), (USER_B, "b@example.com")] {
            sqlx::query(
                "INSERT INTO users (id, email, email_key, name, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
            )
            .bind(id)
            .bind(email)
            .bind(email)
            .bind("Test")
            .bind(clock.now_ms())
            .bind(clock.now_ms())
            .execute(db.writer())
            .await
            .unwrap();
        }
        let store = SqliteSessionStore::new(db.clone(), clock.clone());
        Fixture { _dir: dir, db, clock, store }
    }

    /// A state as actix-session builds it: every value JSON-encoded.
    fn state(entries: &[(&str, &str)]) -> SessionState {
        entries.iter().map(|(k, v)| (k.to_string(), serde_json::to_string(v).unwrap())).collect()
    }

    fn user_state(user_id: &str) -> SessionState {
        state(&[(USER_ID_KEY, user_id)])
    }

    fn same_key(key: &SessionKey) -> SessionKey {
        key.as_ref().to_owned().try_into().unwrap()
    }

    /// Signs `user_id` out everywhere, as recovery does.
    async fn end_all(db: &Database, user_id: &str) -> u64 {
        let mut conn = db.writer().acquire().await.unwrap();
        SqliteSessionStore::end_all_of(&mut conn, AccountId::parse(user_id).unwrap()).await.unwrap()
    }

    async fn count(db: &Database) -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM sessions").fetch_one(db.reader()).await.unwrap()
    }

    async fn stored_user_id(db: &Database, key: &SessionKey) -> Option<String> {
        sqlx::query_scalar("SELECT user_id FROM sessions WHERE key_hash = ?")
            .bind(key_hash(key))
            .fetch_one(db.reader())
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn save_then_load_round_trips() {
        let f = fixture().await;
        let saved = state(&[("flash", "hello"), ("n", "42")]);
        let key = f.store.save(saved.clone(), &TTL).await.unwrap();
        assert_eq!(f.store.load(&key).await.unwrap(), Some(saved));
        assert_eq!(stored_user_id(&f.db, &key).await, None);
    }

    #[tokio::test]
    async fn key_is_64_url_safe_chars_and_never_stored() {
        let f = fixture().await;
        let key = f.store.save(state(&[]), &TTL).await.unwrap();
        let raw = key.as_ref();
        assert_eq!(raw.len(), 64);
        assert!(raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));

        let (stored_hash, stored_state): (Vec<u8>, String) =
            sqlx::query_as("SELECT key_hash, state FROM sessions").fetch_one(f.db.reader()).await.unwrap();
        assert_ne!(stored_hash, raw.as_bytes());
        assert_eq!(stored_hash, Sha256::digest(raw.as_bytes()).to_vec());
        assert!(!stored_state.contains(raw));
        let by_raw: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE key_hash = ?")
            .bind(raw.as_bytes())
            .fetch_one(f.db.reader())
            .await
            .unwrap();
        assert_eq!(by_raw, 0);

        let other = f.store.save(state(&[]), &TTL).await.unwrap();
        assert_ne!(other, key);
    }

    #[tokio::test]
    async fn unknown_key_loads_as_none() {
        let f = fixture().await;
        let unknown: SessionKey = "x".repeat(64).try_into().unwrap();
        assert_eq!(f.store.load(&unknown).await.unwrap(), None);
    }

    #[tokio::test]
    async fn expired_session_loads_as_none() {
        let f = fixture().await;
        let key = f.store.save(state(&[("a", "b")]), &Duration::minutes(10)).await.unwrap();
        f.clock.advance(std::time::Duration::from_secs(599));
        assert!(f.store.load(&key).await.unwrap().is_some());
        // expires_at itself counts as expired.
        f.clock.advance(std::time::Duration::from_secs(1));
        assert_eq!(f.store.load(&key).await.unwrap(), None);
    }

    #[tokio::test]
    async fn update_keeps_the_key_and_replaces_state_and_user() {
        let f = fixture().await;
        let key = f.store.save(state(&[("step", "1")]), &TTL).await.unwrap();
        let mut signed_in = user_state(USER_A);
        signed_in.insert("step".into(), serde_json::to_string("2").unwrap());

        let updated = f.store.update(same_key(&key), signed_in.clone(), &TTL).await.unwrap();
        assert_eq!(updated, key);
        assert_eq!(f.store.load(&key).await.unwrap(), Some(signed_in));
        assert_eq!(stored_user_id(&f.db, &key).await.as_deref(), Some(USER_A));
        assert_eq!(count(&f.db).await, 1);

        // Signing out (removing the entry) clears the column too.
        f.store.update(same_key(&key), state(&[]), &TTL).await.unwrap();
        assert_eq!(stored_user_id(&f.db, &key).await, None);
    }

    #[tokio::test]
    async fn update_extends_expiry() {
        let f = fixture().await;
        let key = f.store.save(state(&[]), &Duration::minutes(10)).await.unwrap();
        f.clock.advance(std::time::Duration::from_secs(540));
        f.store.update(same_key(&key), state(&[("a", "b")]), &Duration::minutes(10)).await.unwrap();
        f.clock.advance(std::time::Duration::from_secs(540));
        assert!(f.store.load(&key).await.unwrap().is_some());
    }

    #[tokio::test]
    async fn update_of_unknown_key_starts_an_empty_session_under_a_new_key() {
        let f = fixture().await;
        let planted: SessionKey = "a".repeat(64).try_into().unwrap();
        let key = f.store.update(same_key(&planted), state(&[("a", "b")]), &TTL).await.unwrap();
        assert_ne!(key, planted);
        assert_eq!(key.as_ref().len(), 64);
        assert_eq!(f.store.load(&key).await.unwrap(), Some(SessionState::new()));
        assert_eq!(f.store.load(&planted).await.unwrap(), None);
    }

    #[tokio::test]
    async fn a_request_in_flight_cannot_bring_back_a_session_signed_out_everywhere() {
        let f = fixture().await;
        let stolen = f.store.save(user_state(USER_A), &TTL).await.unwrap();
        // A request loaded the session, then the owner signed out everywhere, then the
        // request's response saves what it loaded.
        end_all(&f.db, USER_A).await;
        let key = f.store.update(same_key(&stolen), user_state(USER_A), &TTL).await.unwrap();

        assert_eq!(f.store.load(&key).await.unwrap(), Some(SessionState::new()));
        assert_eq!(stored_user_id(&f.db, &key).await, None);
    }

    #[tokio::test]
    async fn update_of_expired_key_saves_under_a_new_key() {
        let f = fixture().await;
        let old = f.store.save(state(&[]), &Duration::minutes(1)).await.unwrap();
        f.clock.advance(std::time::Duration::from_secs(60));
        let key = f.store.update(same_key(&old), state(&[("a", "b")]), &TTL).await.unwrap();
        assert_ne!(key, old);
        assert_eq!(f.store.load(&old).await.unwrap(), None);
        assert_eq!(f.store.load(&key).await.unwrap(), Some(SessionState::new()));
    }

    #[tokio::test]
    async fn update_ttl_extends_but_does_not_revive() {
        let f = fixture().await;
        let key = f.store.save(state(&[]), &Duration::minutes(10)).await.unwrap();
        f.clock.advance(std::time::Duration::from_secs(540));
        f.store.update_ttl(&key, &Duration::minutes(10)).await.unwrap();
        f.clock.advance(std::time::Duration::from_secs(540));
        assert!(f.store.load(&key).await.unwrap().is_some());

        f.clock.advance(std::time::Duration::from_secs(60));
        assert_eq!(f.store.load(&key).await.unwrap(), None);
        f.store.update_ttl(&key, &Duration::minutes(10)).await.unwrap();
        assert_eq!(f.store.load(&key).await.unwrap(), None);
    }

    #[tokio::test]
    async fn a_recovery_session_belongs_to_its_account_and_is_signed_out_with_it() {
        let f = fixture().await;
        let grant = serde_json::json!({ "account": USER_A, "expires_at": 1 }).to_string();
        let recovering = f.store.save(HashMap::from([(RECOVERY_KEY.to_owned(), grant)]), &TTL).await.unwrap();
        assert_eq!(stored_user_id(&f.db, &recovering).await.as_deref(), Some(USER_A));

        end_all(&f.db, USER_A).await;

        assert_eq!(f.store.load(&recovering).await.unwrap(), None);
    }

    #[tokio::test]
    async fn delete_ends_the_session() {
        let f = fixture().await;
        let key = f.store.save(state(&[]), &TTL).await.unwrap();
        let other = f.store.save(state(&[]), &TTL).await.unwrap();
        f.store.delete(&key).await.unwrap();
        assert_eq!(f.store.load(&key).await.unwrap(), None);
        assert!(f.store.load(&other).await.unwrap().is_some());
        // Deleting what is already gone is not an error.
        f.store.delete(&key).await.unwrap();
    }

    #[tokio::test]
    async fn delete_all_for_user_removes_only_that_users_sessions() {
        let f = fixture().await;
        let a1 = f.store.save(user_state(USER_A), &TTL).await.unwrap();
        let a2 = f.store.save(user_state(USER_A), &TTL).await.unwrap();
        let b = f.store.save(user_state(USER_B), &TTL).await.unwrap();
        let anonymous = f.store.save(state(&[]), &TTL).await.unwrap();

        assert_eq!(end_all(&f.db, USER_A).await, 2);
        assert_eq!(f.store.load(&a1).await.unwrap(), None);
        assert_eq!(f.store.load(&a2).await.unwrap(), None);
        assert!(f.store.load(&b).await.unwrap().is_some());
        assert!(f.store.load(&anonymous).await.unwrap().is_some());
    }

    #[tokio::test]
    async fn deleting_the_user_cascades_to_sessions() {
        let f = fixture().await;
        let key = f.store.save(user_state(USER_A), &TTL).await.unwrap();
        sqlx::query("DELETE FROM users WHERE id = ?").bind(USER_A).execute(f.db.writer()).await.unwrap();
        assert_eq!(f.store.load(&key).await.unwrap(), None);
    }

    #[tokio::test]
    async fn purge_expired_removes_only_expired_rows() {
        let f = fixture().await;
        let short = f.store.save(state(&[]), &Duration::minutes(1)).await.unwrap();
        let long = f.store.save(state(&[]), &TTL).await.unwrap();
        assert_eq!(f.store.purge_expired().await.unwrap(), 0);
        f.clock.advance(std::time::Duration::from_secs(60));
        assert_eq!(f.store.purge_expired().await.unwrap(), 1);
        assert_eq!(count(&f.db).await, 1);
        assert!(f.store.load(&long).await.unwrap().is_some());
        assert_eq!(f.store.load(&short).await.unwrap(), None);
    }

    #[tokio::test]
    async fn unknown_user_is_an_error_not_a_panic() {
        let f = fixture().await;
        let result = f.store.save(user_state("no-such-user"), &TTL).await;
        assert!(matches!(result, Err(SaveError::Other(_))));
        assert_eq!(count(&f.db).await, 0);
    }

    #[tokio::test]
    async fn user_id_that_is_not_a_json_string_is_refused() {
        let f = fixture().await;
        let mut bad = SessionState::new();
        bad.insert(USER_ID_KEY.into(), "42".into());
        assert!(matches!(f.store.save(bad.clone(), &TTL).await, Err(SaveError::Serialization(_))));
        let key = f.store.save(state(&[]), &TTL).await.unwrap();
        assert!(matches!(f.store.update(key, bad, &TTL).await, Err(UpdateError::Serialization(_))));
    }

    #[tokio::test]
    async fn corrupt_state_is_a_deserialization_error() {
        let f = fixture().await;
        let key = f.store.save(state(&[]), &TTL).await.unwrap();
        sqlx::query("UPDATE sessions SET state = 'not json'").execute(f.db.writer()).await.unwrap();
        assert!(matches!(f.store.load(&key).await, Err(LoadError::Deserialization(_))));
    }
}
