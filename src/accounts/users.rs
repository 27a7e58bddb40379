//! Accounts: one per email address (compared case-insensitively), identified by a UUID that is
//! also the WebAuthn user handle.

use crate::clock::Clock;
use crate::db::{Conn, Database, on_backend};
use crate::domain::{AccountId, DisplayName, EmailAddress};

#[derive(Debug, Clone)]
pub struct User {
    pub id: AccountId,
    pub email: EmailAddress,
    pub name: DisplayName,
    pub email_verified_at: Option<i64>,
    pub created_at: i64,
}

/// The address belongs to another account.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("This email address is already used by another account.")]
    EmailTaken,
    #[error("storage failed")]
    Storage(#[from] sqlx::Error),
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    email: String,
    name: String,
    email_verified_at: Option<i64>,
    created_at: i64,
}

impl Row {
    fn into_user(self) -> Result<User, sqlx::Error> {
        let corrupt = |what: &str| sqlx::Error::Decode(format!("stored user has an invalid {what}").into());
        Ok(User {
            id: AccountId::parse(&self.id).ok_or_else(|| corrupt("id"))?,
            email: EmailAddress::parse(&self.email).map_err(|_| corrupt("email"))?,
            name: DisplayName::parse(&self.name).map_err(|_| corrupt("name"))?,
            email_verified_at: self.email_verified_at,
            created_at: self.created_at,
        })
    }
}

fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}

const COLUMNS: &str = "id, email, name, email_verified_at, created_at";

#[derive(Clone)]
pub struct Users {
    db: Database,
    clock: Clock,
}

impl Users {
    pub fn new(db: Database, clock: Clock) -> Self {
        Self { db, clock }
    }

    pub async fn find(&self, id: AccountId) -> Result<Option<User>, sqlx::Error> {
        let sql = format!("SELECT {COLUMNS} FROM users WHERE id = $1");
        let id = id.to_string();
        let row: Option<Row> =
            on_backend!(self.db.reader(), pool => sqlx::query_as(&sql).bind(&id).fetch_optional(pool).await)?;
        row.map(Row::into_user).transpose()
    }

    pub async fn find_by_email(&self, email: &EmailAddress) -> Result<Option<User>, sqlx::Error> {
        let sql = format!("SELECT {COLUMNS} FROM users WHERE email_key = $1");
        let row: Option<Row> = on_backend!(self.db.reader(), pool => sqlx::query_as(&sql)
            .bind(email.normalized())
            .fetch_optional(pool)
            .await)?;
        row.map(Row::into_user).transpose()
    }

    /// Creates an account whose email was just proven.
    pub async fn create_verified(&self, email: &EmailAddress, name: &DisplayName) -> Result<User, AccountError> {
        let (id, now) = (AccountId::random(), self.clock.now_ms());
        on_backend!(self.db.writer(), pool => sqlx::query(
            "INSERT INTO users (id, email, email_key, name, email_verified_at, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id.to_string())
        .bind(email.as_str())
        .bind(email.normalized())
        .bind(name.as_str())
        .bind(now)
        .bind(now)
        .bind(now)
        .execute(pool)
        .await
        .map(drop))
        .map_err(|err| if is_unique_violation(&err) { AccountError::EmailTaken } else { err.into() })?;
        Ok(User { id, email: email.clone(), name: name.clone(), email_verified_at: Some(now), created_at: now })
    }

    /// Sets the account's display name; false if there is no such account.
    pub async fn rename(&self, id: AccountId, name: &DisplayName) -> Result<bool, sqlx::Error> {
        let now = self.clock.now_ms();
        on_backend!(self.db.writer(), pool => sqlx::query("UPDATE users SET name = $1, updated_at = $2 WHERE id = $3")
            .bind(name.as_str())
            .bind(now)
            .bind(id.to_string())
            .execute(pool)
            .await
            .map(|done| done.rows_affected() == 1))
    }

    /// Deletes the account inside the caller's write; its passkeys, sessions (on every device)
    /// and ceremonies go with it (`ON DELETE CASCADE`). False if there was no such account.
    pub async fn delete(conn: Conn<'_>, id: AccountId) -> Result<bool, sqlx::Error> {
        on_backend!(conn, conn => sqlx::query("DELETE FROM users WHERE id = $1")
            .bind(id.to_string())
            .execute(conn)
            .await
            .map(|done| done.rows_affected() == 1))
    }

    /// Moves the account to a newly proven address, inside the caller's write.
    pub async fn change_email(&self, conn: Conn<'_>, id: AccountId, email: &EmailAddress) -> Result<(), AccountError> {
        let now = self.clock.now_ms();
        on_backend!(conn, conn => sqlx::query(
            "UPDATE users SET email = $1, email_key = $2, email_verified_at = $3, updated_at = $4 WHERE id = $5",
        )
        .bind(email.as_str())
        .bind(email.normalized())
        .bind(now)
        .bind(now)
        .bind(id.to_string())
        .execute(conn)
        .await
        .map(drop))
        .map_err(|err| if is_unique_violation(&err) { AccountError::EmailTaken } else { err.into() })?;
        Ok(())
    }
}
