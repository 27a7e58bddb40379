//! The passkeys table: each credential with its owner, a name the owner chose, the provider its
//! authenticator named, and when it was made and last used.

use webauthn_rs::prelude::Passkey;

use super::NewPasskey;
use super::provider::Aaguid;
use crate::clock::Clock;
use crate::db::{Conn, Database, on_backend};
use crate::domain::AccountId;

#[derive(Debug, Clone)]
pub struct StoredPasskey {
    pub id: i64,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub aaguid: Option<Aaguid>,
    pub passkey: Passkey,
    /// The credential as stored, which a sign-in's update expects to find unchanged.
    pub encoded: String,
}

impl StoredPasskey {
    /// Who keeps it, when its authenticator said and the table knows.
    pub fn provider(&self) -> Option<&'static str> {
        self.aaguid.and_then(Aaguid::provider)
    }

    /// The provider, for a list to show beside the name, unless the name says it already (a
    /// default name does).
    pub fn provider_if_not_in_name(&self) -> Option<&'static str> {
        self.provider().filter(|provider| !self.name.contains(provider))
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    name: String,
    created_at: i64,
    last_used_at: Option<i64>,
    aaguid: Option<String>,
    passkey: String,
}

impl Row {
    fn into_stored(self) -> Result<StoredPasskey, sqlx::Error> {
        let passkey = serde_json::from_str(&self.passkey).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
        let aaguid = self.aaguid.map(|a| a.parse()).transpose().map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
        Ok(StoredPasskey {
            id: self.id,
            name: self.name,
            created_at: self.created_at,
            last_used_at: self.last_used_at,
            aaguid,
            passkey,
            encoded: self.passkey,
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("This passkey is already registered.")]
    AlreadyRegistered,
    #[error("storage failed")]
    Storage(#[from] sqlx::Error),
}

fn encode(passkey: &Passkey) -> Result<String, sqlx::Error> {
    serde_json::to_string(passkey).map_err(|e| sqlx::Error::Encode(Box::new(e)))
}

const COLUMNS: &str = "id, name, created_at, last_used_at, aaguid, passkey";

#[derive(Clone)]
pub struct PasskeyStore {
    db: Database,
    clock: Clock,
}

impl PasskeyStore {
    pub fn new(db: Database, clock: Clock) -> Self {
        Self { db, clock }
    }

    pub async fn list(&self, user: AccountId) -> Result<Vec<StoredPasskey>, sqlx::Error> {
        let sql = format!("SELECT {COLUMNS} FROM passkeys WHERE user_id = $1 ORDER BY id");
        let rows: Vec<Row> =
            on_backend!(self.db.reader(), pool => sqlx::query_as(&sql).bind(user.to_string()).fetch_all(pool).await)?;
        rows.into_iter().map(Row::into_stored).collect()
    }

    pub async fn find(&self, user: AccountId, credential_id: &[u8]) -> Result<Option<StoredPasskey>, sqlx::Error> {
        let sql = format!("SELECT {COLUMNS} FROM passkeys WHERE user_id = $1 AND credential_id = $2");
        let row: Option<Row> = on_backend!(self.db.reader(), pool => sqlx::query_as(&sql)
            .bind(user.to_string())
            .bind(credential_id)
            .fetch_optional(pool)
            .await)?;
        row.map(Row::into_stored).transpose()
    }

    pub async fn insert(&self, user: AccountId, name: &str, passkey: &NewPasskey) -> Result<i64, StoreError> {
        let now = self.clock.now_ms();
        let (name, passkey) = (name.to_owned(), passkey.clone());
        self.db
            .write(move |conn| Box::pin(async move { Ok(Self::insert_in(conn, user, &name, &passkey, now).await) }))
            .await?
    }

    /// Stores a verified passkey inside the caller's write; returns its row id.
    pub async fn insert_in(
        conn: Conn<'_>,
        user: AccountId,
        name: &str,
        new: &NewPasskey,
        now: i64,
    ) -> Result<i64, StoreError> {
        let encoded = encode(&new.passkey)?;
        let id = on_backend!(conn, conn => sqlx::query_scalar(
            "INSERT INTO passkeys (credential_id, user_id, name, aaguid, passkey, created_at)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(AsRef::<[u8]>::as_ref(new.passkey.cred_id()))
        .bind(user.to_string())
        .bind(name)
        .bind(new.aaguid.map(|a| a.to_string()))
        .bind(encoded)
        .bind(now)
        .fetch_one(conn)
        .await)
        .map_err(|err| match &err {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::AlreadyRegistered,
            _ => StoreError::Storage(err),
        })?;
        Ok(id)
    }

    /// Saves the counter and backup flags of a sign-in, and when it happened, if the stored
    /// credential is still `read` as the sign-in saw it. False when it is not: another sign-in
    /// moved its counter on, or it was removed, in between; that sign-in must be refused.
    pub async fn record_use(&self, read: &StoredPasskey, used: &Passkey) -> Result<bool, sqlx::Error> {
        let encoded = encode(used)?;
        let done = on_backend!(self.db.writer(), pool => sqlx::query(
            "UPDATE passkeys SET passkey = $1, last_used_at = $2 WHERE id = $3 AND passkey = $4",
        )
        .bind(encoded)
        .bind(self.clock.now_ms())
        .bind(read.id)
        .bind(&read.encoded)
        .execute(pool)
        .await?
        .rows_affected());
        Ok(done == 1)
    }

    /// Renames one of the user's passkeys; false if they have no such passkey.
    pub async fn rename(&self, user: AccountId, id: i64, name: &str) -> Result<bool, sqlx::Error> {
        let done = on_backend!(self.db.writer(), pool => sqlx::query(
            "UPDATE passkeys SET name = $1 WHERE id = $2 AND user_id = $3",
        )
        .bind(name)
        .bind(id)
        .bind(user.to_string())
        .execute(pool)
        .await?
        .rows_affected());
        Ok(done == 1)
    }

    /// Removes one of the user's passkeys; false if they have no such passkey.
    pub async fn remove(&self, user: AccountId, id: i64) -> Result<bool, sqlx::Error> {
        let done = on_backend!(self.db.writer(), pool => sqlx::query(
            "DELETE FROM passkeys WHERE id = $1 AND user_id = $2",
        )
        .bind(id)
        .bind(user.to_string())
        .execute(pool)
        .await?
        .rows_affected());
        Ok(done == 1)
    }

    /// Removes every passkey of the user but `keep`, inside the caller's write.
    pub async fn remove_all_but(conn: Conn<'_>, user: AccountId, keep: i64) -> Result<u64, sqlx::Error> {
        on_backend!(conn, conn => sqlx::query("DELETE FROM passkeys WHERE user_id = $1 AND id != $2")
            .bind(user.to_string())
            .bind(keep)
            .execute(conn)
            .await
            .map(|done| done.rows_affected()))
    }
}
