//! Tenancies and their API keys. Keys are stored as SHA-256 digests (they are long random
//! strings, so a plain digest is enough) and compared in constant time.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::error::ChallengeError;
use super::generate;
use crate::clock::Clock;
use crate::db::{Database, on_backend};
use crate::domain::{SecretString, constant_time_eq, random_token};

/// A tenancy whose API key was checked. Only `Tenancies::authenticate` makes one, so every
/// engine call that takes it is known to be authorised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizedTenancy(String);

impl AuthorizedTenancy {
    pub fn id(&self) -> &str {
        &self.0
    }
}

/// A newly made key, shown to the operator once.
#[derive(Debug)]
pub struct IssuedKey {
    pub tenancy_id: String,
    pub api_key: SecretString,
}

fn digest(api_key: &str) -> Vec<u8> {
    Sha256::digest(api_key.as_bytes()).to_vec()
}

fn new_api_key() -> String {
    format!("ak_{}", random_token(32))
}

/// How long a tenancy's key digest is trusted without reading the database again. A key
/// rotated by this process takes effect at once; by another process (the CLI), within this.
const KEY_CACHE_TTL: Duration = Duration::from_secs(2);

/// Key digests of existing tenancies, with when they were read. Unknown tenancies are never
/// cached, so the map stays as small as the tenancy table.
type KeyCache = Arc<RwLock<HashMap<String, (Vec<u8>, Instant)>>>;

#[derive(Clone)]
pub struct Tenancies {
    db: Database,
    clock: Clock,
    keys: KeyCache,
}

impl Tenancies {
    pub fn new(db: Database, clock: Clock) -> Self {
        Self { db, clock, keys: KeyCache::default() }
    }

    fn cached_key(&self, tenancy_id: &str) -> Option<Vec<u8>> {
        let keys = self.keys.read().ok()?;
        let (digest, read_at) = keys.get(tenancy_id)?;
        (read_at.elapsed() < KEY_CACHE_TTL).then(|| digest.clone())
    }

    fn forget_key(&self, tenancy_id: &str) {
        if let Ok(mut keys) = self.keys.write() {
            keys.remove(tenancy_id);
        }
    }

    async fn stored_key(&self, tenancy_id: &str) -> Result<Option<Vec<u8>>, sqlx::Error> {
        if let Some(digest) = self.cached_key(tenancy_id) {
            return Ok(Some(digest));
        }
        let stored: Option<Vec<u8>> = on_backend!(self.db.reader(), pool => sqlx::query_scalar(
            "SELECT api_key_hash FROM tenancies WHERE id = $1",
        )
        .bind(tenancy_id)
        .fetch_optional(pool)
        .await)?;
        if let (Some(digest), Ok(mut keys)) = (&stored, self.keys.write()) {
            keys.insert(tenancy_id.to_owned(), (digest.clone(), Instant::now()));
        }
        Ok(stored)
    }

    pub async fn authenticate(&self, tenancy_id: &str, api_key: &str) -> Result<AuthorizedTenancy, ChallengeError> {
        let stored = self.stored_key(tenancy_id).await?;
        let given = digest(api_key);
        // Compare against something even for an unknown tenancy, so timing tells nothing.
        let expected = stored.as_deref().unwrap_or(&[0u8; 32]);
        if stored.is_some() && constant_time_eq(expected, &given) {
            Ok(AuthorizedTenancy(tenancy_id.to_owned()))
        } else {
            Err(ChallengeError::Forbidden)
        }
    }

    /// Makes a tenancy with a fresh id and key.
    pub async fn create(&self) -> Result<IssuedKey, ChallengeError> {
        let tenancy_id = format!("tn_{}", generate::challenge_id());
        let api_key = new_api_key();
        on_backend!(self.db.writer(), pool => sqlx::query(
            "INSERT INTO tenancies (id, api_key_hash, created_at) VALUES ($1, $2, $3)",
        )
        .bind(&tenancy_id)
        .bind(digest(&api_key))
        .bind(self.clock.now_ms())
        .execute(pool)
        .await
        .map(drop))?;
        Ok(IssuedKey { tenancy_id, api_key: SecretString::new(api_key) })
    }

    /// Replaces a tenancy's key; the old one stops working at once.
    pub async fn rotate_key(&self, tenancy_id: &str) -> Result<IssuedKey, ChallengeError> {
        let api_key = new_api_key();
        let updated = on_backend!(self.db.writer(), pool => sqlx::query(
            "UPDATE tenancies SET api_key_hash = $1 WHERE id = $2",
        )
        .bind(digest(&api_key))
        .bind(tenancy_id)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        self.forget_key(tenancy_id);
        if updated == 0 {
            return Err(ChallengeError::NotFound);
        }
        Ok(IssuedKey { tenancy_id: tenancy_id.to_owned(), api_key: SecretString::new(api_key) })
    }

    /// Makes sure the tenancy of the settings exists, creating it with the configured key if
    /// it is missing. An existing tenancy keeps its key: a key rotated since (perhaps because it
    /// leaked) must not come back at the next start.
    pub async fn ensure(&self, tenancy_id: &str, api_key: &str) -> Result<ConfiguredKey, ChallengeError> {
        let created = on_backend!(self.db.writer(), pool => sqlx::query(
            "INSERT INTO tenancies (id, api_key_hash, created_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING",
        )
        .bind(tenancy_id)
        .bind(digest(api_key))
        .bind(self.clock.now_ms())
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        self.forget_key(tenancy_id);
        if created == 1 {
            return Ok(ConfiguredKey::Created);
        }
        match self.authenticate(tenancy_id, api_key).await {
            Ok(_) => Ok(ConfiguredKey::Current),
            Err(ChallengeError::Forbidden) => Ok(ConfiguredKey::Rotated),
            Err(other) => Err(other),
        }
    }
}

/// How the configured key of a tenancy compares with the stored one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfiguredKey {
    /// The tenancy did not exist; it was made with this key.
    Created,
    Current,
    /// The tenancy has another key: it was rotated since.
    Rotated,
}
