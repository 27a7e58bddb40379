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
//! So that its owner can tell it from the others, a session of an account also carries a
//! [`SessionTag`] in its state (a public id and the device it was opened on), mirrored into
//! columns too, beside when it began and when it was last seen.
//!
//! Expiry is enforced on every read and write against the injected [`Clock`]; expired rows are
//! invisible straight away and [`DbSessionStore::purge_expired`] reclaims their space later.

use std::collections::HashMap;

use actix_session::storage::{LoadError, SaveError, SessionKey, SessionStore, UpdateError};
use actix_web::cookie::time::Duration;
use anyhow::Context;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::recovery::RecoveryGrant;
use crate::clock::Clock;
use crate::db::purge::{Chunking, Expired, delete_in_chunks};
use crate::db::{Conn, Database, on_backend};
use crate::domain::{AccountId, Device, random_token};

/// The session-state entry that holds the signed-in user's id (JSON-encoded, as actix-session
/// stores every value); it is mirrored into `sessions.user_id`.
pub const USER_ID_KEY: &str = "user_id";

/// The session-state entry of a recovery grant, a JSON object whose `account` is the account
/// being recovered. A recovery session acts for that account, so it is mirrored into
/// `sessions.user_id` too: "sign out everywhere" must end it as well.
pub const RECOVERY_KEY: &str = "recovery";

/// The session-state entry of the session's [`SessionTag`], mirrored into `sessions.public_id`
/// and `sessions.device`.
pub const TAG_KEY: &str = "tag";

/// The session-state entry that asks for a new key as the state is stored: on signing in,
/// beginning a recovery or signing out, so that a key planted or learnt before is worth nothing.
/// The store acts on it and never keeps it. It takes the place of actix-session's `renew`, which
/// deletes the row and inserts another, two writes one after the other, with a moment between
/// them when the person has no session at all: here one statement moves the row to the new key.
pub const NEW_KEY_KEY: &str = "new_key";

/// How often, at most, a session's "last seen" is written when nothing else of it changes. The
/// middleware writes a session only when its state changes (`BrowserSession`'s default), and a
/// write on every request just to say so would queue every page view behind the one SQLite
/// writer; to within five minutes is as exact as "last seen" needs to be for its owner.
const LAST_SEEN_EVERY_MS: i64 = 5 * 60 * 1000;

/// 16 random bytes: 22 URL-safe base64 characters.
const PUBLIC_ID_BYTES: usize = 16;
const PUBLIC_ID_CHARS: usize = 22;

/// 48 random bytes encode to exactly 64 URL-safe base64 characters, with no padding to escape.
const KEY_BYTES: usize = 48;

/// actix-session's state map; its own alias is crate-private.
type SessionState = HashMap<String, String>;

/// A session's public id: random and unrelated to its key, so a page or a form may carry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SessionId(String);

impl SessionId {
    fn random() -> Self {
        Self(random_token(PUBLIC_ID_BYTES))
    }

    /// The id a form sent; anything that cannot be one is `None`.
    pub fn parse(raw: &str) -> Option<Self> {
        let well_formed =
            raw.len() == PUBLIC_ID_CHARS && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        well_formed.then(|| Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a session of an account shows of itself on the account's list, kept in its state
/// under [`TAG_KEY`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionTag {
    pub id: SessionId,
    /// How the device read when the session began, e.g. "Firefox on Windows".
    pub device: String,
}

impl SessionTag {
    /// The tag of a session beginning now on `device`, under a fresh id.
    pub fn new(device: Device) -> Self {
        Self { id: SessionId::random(), device: device.to_string() }
    }
}

/// An unexpired session of an account, as its owner sees it listed.
#[derive(Debug, Clone)]
pub struct ActiveSession {
    pub id: SessionId,
    pub device: String,
    /// A recovery session: it can only add a passkey, until its grant runs out.
    pub recovering: bool,
    /// When it signed in, or began recovering (epoch ms).
    pub created_at: i64,
    /// When a request last used it, to within [`LAST_SEEN_EVERY_MS`] (epoch ms).
    pub last_seen_at: i64,
}

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

    /// The account's unexpired sessions that carry a tag, the most recently seen first.
    pub async fn list_of(&self, account: AccountId) -> sqlx::Result<Vec<ActiveSession>> {
        let rows: Vec<(String, String, bool, i64, i64)> = on_backend!(self.db.reader(), pool => sqlx::query_as(
            "SELECT public_id, device, recovering, created_at, last_seen_at FROM sessions \
             WHERE user_id = $1 AND public_id IS NOT NULL AND expires_at > $2 \
             ORDER BY last_seen_at DESC, created_at DESC",
        )
        .bind(account.to_string())
        .bind(self.clock.now_ms())
        .fetch_all(pool)
        .await)?;
        Ok(rows
            .into_iter()
            .map(|(id, device, recovering, created_at, last_seen_at)| ActiveSession {
                id: SessionId(id),
                device,
                recovering,
                created_at,
                last_seen_at,
            })
            .collect())
    }

    /// Ends the account's session whose public id is `id` and returns the device it was on;
    /// `None` when the account has no such session, so an id of another account's ends nothing.
    pub async fn end_one_of(&self, account: AccountId, id: &SessionId) -> sqlx::Result<Option<String>> {
        on_backend!(self.db.writer(), pool => sqlx::query_scalar(
            "DELETE FROM sessions WHERE user_id = $1 AND public_id = $2 RETURNING device",
        )
        .bind(account.to_string())
        .bind(id.as_str())
        .fetch_optional(pool)
        .await)
    }

    /// Ends every unexpired session of the account but the one whose public id is `keep` ("sign
    /// out everywhere else"), recovery sessions and any without a tag included; returns how many.
    pub async fn end_all_of_but(&self, account: AccountId, keep: &SessionId) -> sqlx::Result<u64> {
        on_backend!(self.db.writer(), pool => sqlx::query(
            "DELETE FROM sessions WHERE user_id = $1 AND (public_id IS NULL OR public_id <> $2) AND expires_at > $3",
        )
        .bind(account.to_string())
        .bind(keep.as_str())
        .bind(self.clock.now_ms())
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))
    }

    /// Deletes the rows of expired sessions, in chunks; they are already ignored, this only
    /// reclaims space. Returns how many went.
    pub async fn purge_expired(&self) -> sqlx::Result<u64> {
        let expired = Expired { table: "sessions", condition: "expires_at <= $1", cutoff: self.clock.now_ms() };
        Ok(delete_in_chunks(&self.db, expired, Chunking::default()).await?.rows)
    }

    fn expires_at(&self, ttl: &Duration) -> i64 {
        // Clamp rather than wrap: an absurd TTL must not come out as a date in the past or vice versa.
        let ttl_ms = ttl.whole_milliseconds().clamp(i64::MIN.into(), i64::MAX.into()) as i64;
        self.clock.now_ms().saturating_add(ttl_ms)
    }

    /// Inserts the state under a fresh key: a session begins, and is seen, now.
    async fn insert(&self, row: Row, ttl: &Duration) -> anyhow::Result<SessionKey> {
        let key = new_session_key();
        let (hash, expires_at, now) = (key_hash(&key), self.expires_at(ttl), self.clock.now_ms());
        // A collision of 384-bit random keys will not happen; if it ever did, the primary key
        // makes the insert fail rather than hand out someone else's session.
        self.db
            .write_statement(move |conn| {
                Box::pin(async move {
                    on_backend!(conn, conn => sqlx::query(
                        "INSERT INTO sessions (key_hash, user_id, public_id, device, recovering, state, expires_at, \
                         created_at, last_seen_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
                    )
                    .bind(hash)
                    .bind(row.user_id.as_deref())
                    .bind(row.public_id())
                    .bind(row.device())
                    .bind(row.recovering)
                    .bind(&row.state)
                    .bind(expires_at)
                    .bind(now)
                    .execute(conn)
                    .await
                    .map(drop))
                })
            })
            .await
            // Context names the failure without the key, which must never reach a log.
            .context("could not insert the session")?;
        Ok(key)
    }

    /// Records that a request used the session at `now`. "Last seen" is only for people to
    /// read, so a failure is logged and the request goes on.
    async fn mark_seen(&self, session_key: &SessionKey, now: i64) {
        let hash = key_hash(session_key);
        let marked = self
            .db
            .write_statement(move |conn| {
                Box::pin(async move {
                    on_backend!(conn, conn => sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE key_hash = $2")
                        .bind(now)
                        .bind(hash)
                        .execute(conn)
                        .await
                        .map(drop))
                })
            })
            .await;
        if let Err(err) = marked {
            tracing::warn!(error = %err, "could not record when a session was last seen");
        }
    }
}

impl SessionStore for DbSessionStore {
    async fn load(&self, session_key: &SessionKey) -> Result<Option<SessionState>, LoadError> {
        let now = self.clock.now_ms();
        let row: Option<(String, Option<i64>)> = on_backend!(self.db.reader(), pool => sqlx::query_as(
            "SELECT state, last_seen_at FROM sessions WHERE key_hash = $1 AND expires_at > $2",
        )
        .bind(key_hash(session_key))
        .bind(now)
        .fetch_optional(pool)
        .await)
        .context("could not load the session")
        .map_err(LoadError::Other)?;
        let Some((state, last_seen_at)) = row else { return Ok(None) };
        if last_seen_at.is_none_or(|seen| now.saturating_sub(seen) >= LAST_SEEN_EVERY_MS) {
            self.mark_seen(session_key, now).await;
        }
        serde_json::from_str(&state)
            .context("the stored session state is not a JSON string map")
            .map(Some)
            .map_err(LoadError::Deserialization)
    }

    async fn save(&self, mut session_state: SessionState, ttl: &Duration) -> Result<SessionKey, SaveError> {
        // A session stored for the first time gets a new key anyway.
        session_state.remove(NEW_KEY_KEY);
        let row = Row::new(&session_state).map_err(SaveError::Serialization)?;
        self.insert(row, ttl).await.map_err(SaveError::Other)
    }

    async fn update(
        &self,
        session_key: SessionKey,
        mut session_state: SessionState,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        let new_key = session_state.remove(NEW_KEY_KEY).map(|_| new_session_key());
        let row = Row::new(&session_state).map_err(UpdateError::Serialization)?;
        let (hash, expires_at, now) = (key_hash(&session_key), self.expires_at(ttl), self.clock.now_ms());
        // Under a new key the row is a new session: it begins now, as an inserted one would.
        let new_hash = new_key.as_ref().map_or_else(|| hash.clone(), key_hash);
        let updated = self
            .db
            .write_statement(move |conn| {
                Box::pin(async move {
                    on_backend!(conn, conn => sqlx::query(
                        "UPDATE sessions SET key_hash = $9, user_id = $1, public_id = $2, device = $3, recovering = $4, \
                         state = $5, expires_at = $6, last_seen_at = $7, \
                         created_at = CASE WHEN $9 = $8 THEN created_at ELSE $7 END \
                         WHERE key_hash = $8 AND expires_at > $7",
                    )
                    .bind(row.user_id.as_deref())
                    .bind(row.public_id())
                    .bind(row.device())
                    .bind(row.recovering)
                    .bind(&row.state)
                    .bind(expires_at)
                    .bind(now)
                    .bind(hash)
                    .bind(new_hash)
                    .execute(conn)
                    .await
                    .map(|done| done.rows_affected()))
                })
            })
            .await
            .context("could not update the session")
            .map_err(UpdateError::Other)?;
        if updated == 1 {
            return Ok(new_key.unwrap_or(session_key));
        }
        // Under a new key a session begins, whether or not the old one still exists (deleting
        // an account or recovering it ends it first): the state goes in as a new row.
        // Otherwise the session expired or was ended (signed out, everywhere included) since
        // this request loaded it. Whatever the request did, it must not bring the session back:
        // a stolen cookie kept busy with requests would otherwise outlive "sign out everywhere".
        // The client gets a fresh, empty session under a new key (never the old key, which an
        // attacker could have planted).
        let state = if new_key.is_some() { session_state } else { SessionState::new() };
        self.insert(Row::new(&state).map_err(UpdateError::Serialization)?, ttl).await.map_err(UpdateError::Other)
    }

    async fn update_ttl(&self, session_key: &SessionKey, ttl: &Duration) -> anyhow::Result<()> {
        let (hash, expires_at, now) = (key_hash(session_key), self.expires_at(ttl), self.clock.now_ms());
        // Only unexpired sessions: extending an expired one would bring it back to life.
        self.db
            .write_statement(move |conn| {
                Box::pin(async move {
                    on_backend!(conn, conn => sqlx::query(
                        "UPDATE sessions SET expires_at = $1 WHERE key_hash = $2 AND expires_at > $3",
                    )
                    .bind(expires_at)
                    .bind(hash)
                    .bind(now)
                    .execute(conn)
                    .await
                    .map(drop))
                })
            })
            .await
            .context("could not extend the session")
    }

    async fn delete(&self, session_key: &SessionKey) -> anyhow::Result<()> {
        let hash = key_hash(session_key);
        self.db
            .write_statement(move |conn| {
                Box::pin(async move {
                    on_backend!(conn, conn => sqlx::query("DELETE FROM sessions WHERE key_hash = $1")
                        .bind(hash)
                        .execute(conn)
                        .await
                        .map(drop))
                })
            })
            .await
            .context("could not delete the session")
    }
}

/// The column values for a session state.
struct Row {
    user_id: Option<String>,
    /// The user id is the account of a recovery grant.
    recovering: bool,
    tag: Option<SessionTag>,
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
        let (user_id, recovering) = match user_id {
            Some(user) => (Some(user), false),
            None => recovered_account(session_state)?.map_or((None, false), |account| (Some(account), true)),
        };
        let tag = session_state
            .get(TAG_KEY)
            .map(|value| serde_json::from_str::<SessionTag>(value))
            .transpose()
            .with_context(|| format!("the session entry {TAG_KEY:?} is not a session tag"))?;
        let state = serde_json::to_string(session_state).context("could not encode the session state")?;
        Ok(Self { user_id, recovering, tag, state })
    }

    fn public_id(&self) -> Option<&str> {
        self.tag.as_ref().map(|tag| tag.id.as_str())
    }

    fn device(&self) -> Option<&str> {
        self.tag.as_ref().map(|tag| tag.device.as_str())
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
