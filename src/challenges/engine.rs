//! The mailbox challenge engine: the policies of create, get, verify and delete.

use std::sync::Arc;
use std::time::Duration;

use super::error::ChallengeError;
use super::hashing::{Hasher, same_hash};
use super::model::{Challenge, ChallengeId, Code, CreatedChallenge, NewChallenge, Secret};
use super::store::{self, ChallengeRow, PurgeBefore, Subject};
use super::tenancy::{AuthorizedTenancy, Tenancies};
use super::{generate, message};
use crate::clock::Clock;
use crate::db::Database;
use crate::mail::{Mailer, OutgoingEmail};
use crate::settings::Policy;

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Whole seconds until `at`, rounded up so a client that waits that long is let through.
fn seconds_until(at: i64, now: i64) -> u64 {
    u64::try_from((at - now + 999) / 1000).unwrap_or(0).max(1)
}

#[derive(Clone)]
pub struct ChallengeService {
    db: Database,
    hasher: Hasher,
    clock: Clock,
    policy: Policy,
    mailer: Arc<dyn Mailer>,
    tenancies: Tenancies,
}

impl ChallengeService {
    pub fn new(db: Database, hash_key: &[u8], clock: Clock, policy: Policy, mailer: Arc<dyn Mailer>) -> Self {
        let tenancies = Tenancies::new(db.clone(), clock.clone());
        Self { db, hasher: Hasher::new(hash_key), clock, policy, mailer, tenancies }
    }

    pub fn tenancies(&self) -> &Tenancies {
        &self.tenancies
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    pub async fn create(
        &self,
        tenancy: &AuthorizedTenancy,
        new: NewChallenge,
    ) -> Result<CreatedChallenge, ChallengeError> {
        let now = self.clock.now_ms();
        let challenge = Challenge {
            challenge_id: generate::challenge_id(),
            purpose: new.purpose,
            email: new.email,
            user_id: new.user_id,
            created_at: now,
            expires_at: now + millis(self.policy.ttl),
            metadata: new.metadata,
        };
        let (secret, code) = (generate::secret(), generate::code());
        let id = &challenge.challenge_id;

        let mut tx = self.db.begin_write().await?;
        if !new.skip_rate_limit {
            let email_key = challenge.email.normalized();
            if let Some(retry_after_seconds) = self.rate_limit_wait(&mut tx, tenancy, &email_key, now).await? {
                return Err(ChallengeError::RateLimited { retry_after_seconds });
            }
            store::record_creation(&mut tx, tenancy, &email_key, now).await?;
        }
        if new.invalidate_others {
            let subject = match &challenge.user_id {
                Some(user) => Subject::User(user),
                None => Subject::Email(&challenge.email),
            };
            store::invalidate_others(&mut tx, tenancy, &challenge.purpose, subject).await?;
        }
        let row = ChallengeRow {
            challenge: &challenge,
            secret_hash: &self.hasher.secret(id, &secret),
            code_hash: &self.hasher.code(id, &code),
        };
        store::insert(&mut tx, tenancy, row).await?;
        tx.commit().await?;

        let message = message::render(&challenge.purpose, new.name.as_ref(), &code, self.policy.ttl);
        if new.send_email {
            let email = OutgoingEmail {
                to: challenge.email.clone(),
                subject: message.subject.clone(),
                html: message.html.clone(),
                text: message.text.clone(),
            };
            if let Err(err) = self.mailer.send(&email).await {
                // A code nobody received is useless; leave nothing behind.
                store::delete(&self.db, tenancy, id).await?;
                return Err(ChallengeError::Mail(err));
            }
        }
        Ok(CreatedChallenge { challenge, secret, code, message })
    }

    /// Seconds until this email may have another challenge, if it is limited now: by its
    /// recent creates or by its recent wrong codes, whichever frees later.
    async fn rate_limit_wait(
        &self,
        tx: &mut sqlx::SqliteConnection,
        tenancy: &AuthorizedTenancy,
        email_key: &str,
        now: i64,
    ) -> Result<Option<u64>, sqlx::Error> {
        let p = &self.policy;
        let (create_window, failure_window) = (millis(p.create_window), millis(p.failure_window));
        let by_creates = store::limiting_creation(tx, tenancy, email_key, now - create_window, p.create_limit)
            .await?
            .map(|at| at + create_window);
        let by_failures = store::limiting_failure(tx, tenancy, email_key, now - failure_window, p.failure_limit)
            .await?
            .map(|at| at + failure_window);
        Ok(by_creates.max(by_failures).map(|free_at| seconds_until(free_at, now)))
    }

    /// A pending challenge, expired or not; never one that was used or deleted.
    pub async fn get(&self, tenancy: &AuthorizedTenancy, id: &ChallengeId) -> Result<Challenge, ChallengeError> {
        match store::find(&self.db, tenancy, id).await? {
            Some(stored) if !stored.consumed => Ok(stored.challenge),
            _ => Err(ChallengeError::NotFound),
        }
    }

    pub async fn verify(
        &self,
        tenancy: &AuthorizedTenancy,
        id: &ChallengeId,
        secret: &Secret,
        code: &Code,
    ) -> Result<Challenge, ChallengeError> {
        let now = self.clock.now_ms();
        let max_attempts = self.policy.max_attempts;
        let Some(stored) = store::find(&self.db, tenancy, id).await? else {
            return Err(ChallengeError::InvalidChallenge);
        };
        // A wrong secret reveals nothing about the challenge and costs no attempt.
        if stored.consumed || !same_hash(&stored.secret_hash, &self.hasher.secret(id, secret)) {
            return Err(ChallengeError::InvalidChallenge);
        }
        if now >= stored.challenge.expires_at {
            return Err(ChallengeError::ChallengeExpired);
        }
        if stored.attempts >= max_attempts {
            return Err(ChallengeError::ChallengeAttemptsExceeded);
        }
        // The read above may be stale by the time we write; the conditional updates below
        // decide, and a loser is told why by a fresh read.
        if same_hash(&stored.code_hash, &self.hasher.code(id, code)) {
            if store::consume(&self.db, tenancy, id, now, max_attempts).await? {
                return Ok(stored.challenge);
            }
        } else {
            match store::count_failed_attempt(&self.db, tenancy, &stored.challenge, now, max_attempts).await? {
                Some(used) if used >= max_attempts => return Err(ChallengeError::ChallengeAttemptsExceeded),
                Some(_) => return Err(ChallengeError::InvalidChallengeCode),
                None => {}
            }
        }
        Err(self.why_not_pending(tenancy, id, now).await?)
    }

    /// Explains a lost race: the challenge was used, deleted, used up or expired meanwhile.
    async fn why_not_pending(
        &self,
        tenancy: &AuthorizedTenancy,
        id: &ChallengeId,
        now: i64,
    ) -> Result<ChallengeError, sqlx::Error> {
        Ok(match store::find(&self.db, tenancy, id).await? {
            None => ChallengeError::InvalidChallenge,
            Some(s) if s.consumed => ChallengeError::InvalidChallenge,
            Some(s) if s.attempts >= self.policy.max_attempts => ChallengeError::ChallengeAttemptsExceeded,
            Some(s) if now >= s.challenge.expires_at => ChallengeError::ChallengeExpired,
            Some(_) => ChallengeError::InvalidChallenge,
        })
    }

    /// Deletes a challenge; deleting one that does not exist is not an error.
    pub async fn delete(&self, tenancy: &AuthorizedTenancy, id: &ChallengeId) -> Result<(), ChallengeError> {
        Ok(store::delete(&self.db, tenancy, id).await?)
    }

    /// Removes what is past retention; run in the background, and by tests directly.
    pub async fn purge(&self) -> Result<u64, ChallengeError> {
        let now = self.clock.now_ms();
        let before = PurgeBefore {
            challenges: now - millis(self.policy.retention),
            creations: now - millis(self.policy.create_window),
            failures: now - millis(self.policy.failure_window),
        };
        Ok(store::purge(&self.db, before).await?)
    }

    /// Purges every `every` until the process stops.
    pub fn spawn_purge(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        let service = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                match service.purge().await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(purged = n, "purged old challenges"),
                    Err(err) => tracing::warn!(error = %err, "purge failed; will retry"),
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::seconds_until;

    #[test]
    fn waits_round_up_to_whole_seconds() {
        assert_eq!(seconds_until(10_000, 9_999), 1);
        assert_eq!(seconds_until(10_000, 9_000), 1);
        assert_eq!(seconds_until(10_000, 8_999), 2);
        assert_eq!(seconds_until(610_000, 10_000), 600);
    }
}
