//! WebAuthn ceremony state between start and finish: kept in the database (a cookie would let
//! it be replayed), reachable only through the id in the session that started it, taken by
//! exactly one finish, and gone after five minutes.

use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::clock::Clock;
use crate::db::purge::{Chunking, Expired, delete_in_chunks};
use crate::db::{Database, on_backend};
use crate::domain::{AccountId, random_token};

pub const CEREMONY_TTL: Duration = Duration::from_secs(300);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Registration,
    Authentication,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Registration => "registration",
            Self::Authentication => "authentication",
        }
    }
}

#[derive(Clone)]
pub struct Ceremonies {
    db: Database,
    clock: Clock,
}

impl Ceremonies {
    pub fn new(db: Database, clock: Clock) -> Self {
        Self { db, clock }
    }

    /// Stores `state` and returns the id to keep in the session.
    pub async fn put(
        &self,
        kind: Kind,
        user: Option<AccountId>,
        state: &impl Serialize,
    ) -> Result<String, sqlx::Error> {
        let id = random_token(24);
        let state = serde_json::to_string(state).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
        let expires_at = self.clock.now_ms() + CEREMONY_TTL.as_millis() as i64;
        on_backend!(self.db.writer(), pool => sqlx::query(
            "INSERT INTO ceremonies (id, kind, user_id, state, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&id)
        .bind(kind.as_str())
        .bind(user.map(|u| u.to_string()))
        .bind(state)
        .bind(expires_at)
        .execute(pool)
        .await
        .map(drop))?;
        Ok(id)
    }

    /// Takes the state if it is unexpired and of this kind and user: one statement, so two
    /// finishes at once cannot both have it.
    pub async fn take<T: DeserializeOwned>(
        &self,
        id: &str,
        kind: Kind,
        user: Option<AccountId>,
    ) -> Result<Option<T>, sqlx::Error> {
        let state: Option<String> = on_backend!(self.db.writer(), pool => sqlx::query_scalar(
            "DELETE FROM ceremonies
             WHERE id = $1 AND kind = $2 AND user_id IS NOT DISTINCT FROM $3 AND expires_at > $4
             RETURNING state",
        )
        .bind(id)
        .bind(kind.as_str())
        .bind(user.map(|u| u.to_string()))
        .bind(self.clock.now_ms())
        .fetch_optional(pool)
        .await)?;
        state.map(|s| serde_json::from_str(&s).map_err(|e| sqlx::Error::Decode(Box::new(e)))).transpose()
    }

    /// Deletes expired ceremonies, in chunks; returns how many went.
    pub async fn purge_expired(&self) -> Result<u64, sqlx::Error> {
        let expired = Expired { table: "ceremonies", condition: "expires_at <= $1", cutoff: self.clock.now_ms() };
        Ok(delete_in_chunks(&self.db, expired, Chunking::default()).await?.rows)
    }
}
