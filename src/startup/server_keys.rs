//! Server keys: from settings, or in development generated once and kept in the database so
//! that codes and sessions survive a restart.

use crate::db::{Database, on_backend};
use crate::domain::{SecretString, random_token};

/// The configured key, or the one stored under `name`, made on first use.
pub async fn configured_or_stored(
    db: &Database,
    name: &str,
    configured: Option<&SecretString>,
    bytes: usize,
) -> anyhow::Result<String> {
    if let Some(key) = configured {
        return Ok(key.expose().to_owned());
    }
    let fresh = random_token(bytes);
    // Insert-or-keep in one statement, so two processes starting at once agree on one key.
    let stored: String = on_backend!(db.writer(), pool => sqlx::query_scalar(
        "INSERT INTO server_keys (name, value) VALUES ($1, $2)
         ON CONFLICT (name) DO UPDATE SET value = server_keys.value RETURNING value",
    )
    .bind(name)
    .bind(fresh)
    .fetch_one(pool)
    .await)?;
    Ok(stored)
}
