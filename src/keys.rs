//! Server keys: from settings, or in development generated once and kept in the database so
//! that codes and sessions survive a restart.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::challenges::generate;
use crate::db::Database;
use crate::settings::SecretText;

/// The configured key, or the one stored under `name`, made on first use.
pub async fn configured_or_stored(
    db: &Database,
    name: &str,
    configured: Option<&SecretText>,
    bytes: usize,
) -> anyhow::Result<Vec<u8>> {
    if let Some(key) = configured {
        return Ok(key.expose().as_bytes().to_vec());
    }
    let fresh = URL_SAFE_NO_PAD.encode(generate::key_bytes(bytes));
    // Insert-or-keep in one statement, so two processes starting at once agree on one key.
    let stored: String = sqlx::query_scalar(
        "INSERT INTO server_keys (name, value) VALUES (?, ?)
         ON CONFLICT (name) DO UPDATE SET value = value RETURNING value",
    )
    .bind(name)
    .bind(fresh)
    .fetch_one(db.writer())
    .await?;
    Ok(stored.into_bytes())
}
