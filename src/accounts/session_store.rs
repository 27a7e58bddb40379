//! Server-side session storage for actix-session, in the `sessions` table of the database, so
//! that every instance on one PostgreSQL database knows every session.
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
//! invisible straight away and [`DbSessionStore::purge_expired`] reclaims their space later.

use std::collections::HashMap;

use actix_session::storage::{LoadError, SaveError, SessionKey, SessionStore, UpdateError};
use actix_web::cookie::time::Duration;
use anyhow::Context;
use sha2::{Digest, Sha256};

use super::recovery::RecoveryGrant;
use crate::clock::Clock;
use crate::db::{Conn, Database, on_backend};
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
pub struct DbSessionStore {
    db: Database,
    clock: Clock,
}

impl DbSessionStore {
    pub fn new(db: Database, clock: Clock) -> Self {
        Self { db, clock }
    }

    /// Ends every session of an account ("sign out everywhere"), inside the caller's write;
    /// returns how many rows went.
    pub async fn end_all_of(conn: Conn<'_>, account: AccountId) -> sqlx::Result<u64> {
        on_backend!(conn, conn => sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(account.to_string())
            .execute(conn)
            .await
            .map(|done| done.rows_affected()))
    }

    /// Deletes the rows of expired sessions; they are already ignored, this only reclaims space.
    pub async fn purge_expired(&self) -> sqlx::Result<u64> {
        on_backend!(self.db.writer(), pool => sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(self.clock.now_ms())
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))
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
        on_backend!(self.db.writer(), pool => sqlx::query(
            "INSERT INTO sessions (key_hash, user_id, state, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(key_hash(&key))
        .bind(row.user_id.as_deref())
        .bind(&row.state)
        .bind(self.expires_at(ttl))
        .execute(pool)
        .await
        .map(drop))
        // Context names the failure without the key, which must never reach a log.
        .context("could not insert the session")?;
        Ok(key)
    }
}

impl SessionStore for DbSessionStore {
    async fn load(&self, session_key: &SessionKey) -> Result<Option<SessionState>, LoadError> {
        let state: Option<String> = on_backend!(self.db.reader(), pool => sqlx::query_scalar(
            "SELECT state FROM sessions WHERE key_hash = $1 AND expires_at > $2",
        )
        .bind(key_hash(session_key))
        .bind(self.clock.now_ms())
        .fetch_optional(pool)
        .await)
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
        let updated = on_backend!(self.db.writer(), pool => sqlx::query(
            "UPDATE sessions SET user_id = $1, state = $2, expires_at = $3 WHERE key_hash = $4 AND expires_at > $5",
        )
        .bind(row.user_id.as_deref())
        .bind(&row.state)
        .bind(self.expires_at(ttl))
        .bind(key_hash(&session_key))
        .bind(self.clock.now_ms())
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))
        .context("could not update the session")
        .map_err(UpdateError::Other)?;
        if updated == 1 {
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
        on_backend!(self.db.writer(), pool => sqlx::query(
            "UPDATE sessions SET expires_at = $1 WHERE key_hash = $2 AND expires_at > $3",
        )
        .bind(self.expires_at(ttl))
        .bind(key_hash(session_key))
        .bind(self.clock.now_ms())
        .execute(pool)
        .await
        .map(drop))
        .context("could not extend the session")?;
        Ok(())
    }

    async fn delete(&self, session_key: &SessionKey) -> anyhow::Result<()> {
        on_backend!(self.db.writer(), pool => sqlx::query("DELETE FROM sessions WHERE key_hash = $1")
            .bind(key_hash(session_key))
            .execute(pool)
            .await
            .map(drop))
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
