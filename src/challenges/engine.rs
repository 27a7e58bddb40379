//! The mailbox challenge engine: the policies of create, get, verify and delete.

use std::sync::Arc;
use std::time::Duration;

use super::error::ChallengeError;
use super::hashing::{Hasher, same_hash};
use super::model::{Challenge, ChallengeId, Code, CreatedChallenge, NewChallenge, Secret};
use super::store::{self, ChallengeRow, PurgeBefore, Subject, Window};
use super::tenancy::{AuthorizedTenancy, Tenancies};
use super::{generate, message};
use crate::clock::Clock;
use crate::db::Database;
use crate::mail::{Mailer, OutgoingEmail};
use crate::settings::Policy;
use sqlx::SqliteConnection;

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Whole seconds until `at`, rounded up so a client that waits that long is let through.
fn seconds_until(at: i64, now: i64) -> u64 {
    u64::try_from((at - now + 999) / 1000).unwrap_or(0).max(1)
}

/// Seconds until this email may have another challenge, if it is limited now: by its recent
/// creates or by its recent wrong codes, whichever frees later.
async fn rate_limit_wait(
    tx: &mut SqliteConnection,
    policy: &Policy,
    tenancy: &AuthorizedTenancy,
    email_key: &str,
    now: i64,
) -> Result<Option<u64>, sqlx::Error> {
    let (create_window, failure_window) = (millis(policy.create_window), millis(policy.failure_window));
    let (by_creates, by_failures) = store::limiting_events(
        tx,
        tenancy,
        email_key,
        Window { since: now - create_window, limit: policy.create_limit },
        Window { since: now - failure_window, limit: policy.failure_limit },
    )
    .await?;
    let free_at = by_creates.map(|at| at + create_window).max(by_failures.map(|at| at + failure_window));
    Ok(free_at.map(|at| seconds_until(at, now)))
}

/// A stored challenge with the values only its creator sees.
pub struct Issued {
    pub challenge: Challenge,
    pub secret: Secret,
    pub code: Code,
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

    pub async fn create(
        &self,
        tenancy: &AuthorizedTenancy,
        new: NewChallenge,
    ) -> Result<CreatedChallenge, ChallengeError> {
        let (name, send_email) = (new.name.clone(), new.send_email);
        let Issued { challenge, secret, code } = self.issue(tenancy, new).await?;
        let id = &challenge.challenge_id;
        let message = message::render(&challenge.purpose, name.as_ref(), &code, self.policy.ttl);
        if send_email {
            let email = OutgoingEmail {
                to: challenge.email.clone(),
                subject: message.subject.clone(),
                html: message.html.clone(),
                text: message.text.clone(),
            };
            if let Err(err) = self.mailer.send(&email).await {
                // A code nobody received is useless: delete it. (The create still counts
                // towards the rate limit, and challenges it invalidated stay invalidated.)
                self.delete(tenancy, id).await?;
                return Err(ChallengeError::Mail(err));
            }
        }
        Ok(CreatedChallenge { challenge, secret, code, message })
    }

    /// Generates, hashes and stores a new challenge under the rate limits: everything create
    /// does but render and send its message.
    pub async fn issue(&self, tenancy: &AuthorizedTenancy, new: NewChallenge) -> Result<Issued, ChallengeError> {
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
        let row = ChallengeRow {
            challenge: challenge.clone(),
            secret_hash: self.hasher.secret(id, &secret),
            code_hash: self.hasher.code(id, &code),
        };
        let (owner, policy) = (tenancy.clone(), self.policy.clone());
        let (limited, invalidate_others) = (!new.skip_rate_limit, new.invalidate_others);
        let written = self
            .db
            .write(move |tx| {
                Box::pin(async move {
                    let c = &row.challenge;
                    if limited {
                        let email_key = c.email.normalized();
                        if let Some(wait) = rate_limit_wait(tx, &policy, &owner, &email_key, now).await? {
                            return Ok(Err(wait));
                        }
                        store::record_creation(tx, &owner, &email_key, now).await?;
                    }
                    if invalidate_others {
                        let subject = match &c.user_id {
                            Some(user) => Subject::User(user),
                            None => Subject::Email(&c.email),
                        };
                        store::invalidate_others(tx, &owner, &c.purpose, subject).await?;
                    }
                    store::insert(tx, &owner, &row).await?;
                    Ok(Ok(()))
                })
            })
            .await?;
        match written {
            Ok(()) => Ok(Issued { challenge, secret, code }),
            Err(retry_after_seconds) => Err(ChallengeError::RateLimited { retry_after_seconds }),
        }
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
        let owner = tenancy.clone();
        if same_hash(&stored.code_hash, &self.hasher.code(id, code)) {
            let challenge_id = id.clone();
            let consumed = self
                .db
                .write(move |tx| {
                    Box::pin(async move { store::consume(tx, &owner, &challenge_id, now, max_attempts).await })
                })
                .await?;
            if consumed {
                return Ok(stored.challenge);
            }
        } else {
            let challenge = stored.challenge.clone();
            let counted = self
                .db
                .write(move |tx| {
                    Box::pin(
                        async move { store::count_failed_attempt(tx, &owner, &challenge, now, max_attempts).await },
                    )
                })
                .await?;
            match counted {
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
            Some(s) if now >= s.challenge.expires_at => ChallengeError::ChallengeExpired,
            Some(s) if s.attempts >= self.policy.max_attempts => ChallengeError::ChallengeAttemptsExceeded,
            Some(_) => ChallengeError::InvalidChallenge,
        })
    }

    /// Deletes a challenge; deleting one that does not exist is not an error.
    pub async fn delete(&self, tenancy: &AuthorizedTenancy, id: &ChallengeId) -> Result<(), ChallengeError> {
        let (owner, id) = (tenancy.clone(), id.clone());
        Ok(self.db.write(move |tx| Box::pin(async move { store::delete(tx, &owner, &id).await })).await?)
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
