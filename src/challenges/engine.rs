//! The mailbox challenge engine: the policies of create, get, verify and delete. It reaches
//! the database only through [`ChallengeStore`], and mail only through the [`Mailer`].

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::error::ChallengeError;
use super::hashing::Hasher;
use super::model::{Challenge, ChallengeId, Code, CreatedChallenge, NewChallenge, Secret};
use super::policy::Policy;
use super::purge::PurgeBefore;
use super::store::{ChallengeRow, ChallengeStore, Limits, ProvenHashes, Window};
use super::tenancy::{AuthorizedTenancy, Tenancies};
use super::{generate, message};
use crate::clock::Clock;
use crate::domain::constant_time_eq;
use crate::mail::Mailer;
use crate::metrics::ChallengeMetrics;

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Whole seconds until `at`, rounded up so a client that waits that long is let through.
fn seconds_until(at: i64, now: i64) -> u64 {
    u64::try_from((at - now + 999) / 1000).unwrap_or(0).max(1)
}

/// A stored challenge with the values only its creator sees.
pub struct Issued {
    pub challenge: Challenge,
    pub secret: Secret,
    pub code: Code,
}

#[derive(Clone)]
pub struct ChallengeService {
    store: ChallengeStore,
    tenancies: Tenancies,
    hasher: Hasher,
    clock: Clock,
    policy: Policy,
    mailer: Arc<dyn Mailer>,
    metrics: ChallengeMetrics,
}

/// What the engine is built from.
pub struct Parts {
    pub store: ChallengeStore,
    pub tenancies: Tenancies,
    pub hash_key: Vec<u8>,
    pub clock: Clock,
    pub policy: Policy,
    pub mailer: Arc<dyn Mailer>,
    pub metrics: ChallengeMetrics,
}

impl ChallengeService {
    pub fn new(parts: Parts) -> Self {
        let Parts { store, tenancies, hash_key, clock, policy, mailer, metrics } = parts;
        Self { store, tenancies, hasher: Hasher::new(&hash_key), clock, policy, mailer, metrics }
    }

    pub fn tenancies(&self) -> &Tenancies {
        &self.tenancies
    }

    #[tracing::instrument(level = "debug", skip_all, fields(tenancy = tenancy.id(), purpose = %new.purpose))]
    pub async fn create(
        &self,
        tenancy: &AuthorizedTenancy,
        new: NewChallenge,
    ) -> Result<CreatedChallenge, ChallengeError> {
        let (name, send_email, invalidate_others) = (new.name.clone(), new.send_email, new.invalidate_others);
        // The others are invalidated only once this code is sent: a failed send must leave the
        // person the code they already have.
        let Issued { challenge, secret, code } =
            self.issue(tenancy, NewChallenge { invalidate_others: false, ..new }).await?;
        let message = message::render(&challenge.purpose, name.as_ref(), &code, self.policy.ttl);
        if send_email && let Err(err) = self.mailer.send(&message.clone().addressed_to(challenge.email.clone())).await {
            // A code nobody received is useless: delete it. (The create still counts towards
            // the rate limit.)
            self.delete(tenancy, &challenge.challenge_id).await?;
            return Err(ChallengeError::Mail(err));
        }
        if invalidate_others {
            self.store.invalidate_older(tenancy, &challenge).await?;
        }
        self.metrics.created();
        Ok(CreatedChallenge { challenge, secret, code, message })
    }

    /// Generates, hashes and stores a new challenge under the rate limits: everything create
    /// does but render and send its message.
    #[tracing::instrument(level = "debug", skip_all, fields(tenancy = tenancy.id()))]
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
        let limits = (!new.skip_rate_limit).then(|| self.limits(now));
        match self.store.insert_new(tenancy, row, limits, new.invalidate_others, now).await? {
            Ok(()) => Ok(Issued { challenge, secret, code }),
            Err(free_at) => {
                self.metrics.rate_limited();
                Err(ChallengeError::RateLimited { retry_after_seconds: seconds_until(free_at, now) })
            }
        }
    }

    /// The rate-limit windows that end now.
    fn limits(&self, now: i64) -> Limits {
        let window = |limit, length: Duration| Window { since: now - millis(length), limit, length: millis(length) };
        Limits {
            creates: window(self.policy.create_limit, self.policy.create_window),
            failures: window(self.policy.failure_limit, self.policy.failure_window),
        }
    }

    /// A pending challenge, expired or not; never one that was used or deleted.
    // The id is what the client sent: recorded as a string, which the text log quotes with its
    // control characters escaped (as `%id` it would be written raw, line breaks and all).
    #[tracing::instrument(level = "debug", skip_all, fields(tenancy = tenancy.id(), challenge = id.as_str()))]
    pub async fn get(&self, tenancy: &AuthorizedTenancy, id: &ChallengeId) -> Result<Challenge, ChallengeError> {
        match self.store.find(tenancy, id).await? {
            Some(stored) if !stored.consumed => Ok(stored.challenge),
            _ => Err(ChallengeError::NotFound),
        }
    }

    /// Secret and code are never recorded: only the tenancy and the challenge id.
    #[tracing::instrument(level = "debug", skip_all, fields(tenancy = tenancy.id(), challenge = id.as_str()))]
    pub async fn verify(
        &self,
        tenancy: &AuthorizedTenancy,
        id: &ChallengeId,
        secret: &Secret,
        code: &Code,
    ) -> Result<Challenge, ChallengeError> {
        let verified = self.check_and_consume(tenancy, id, secret, code).await;
        match &verified {
            Ok(_) => {
                self.metrics.verified();
                tracing::debug!("challenge verified");
            }
            Err(err) => {
                let tag = err.tag().map(|tag| tag.as_str());
                self.metrics.verify_failed(tag);
                tracing::debug!(error = tag.unwrap_or("storage failed"), "challenge not verified");
            }
        }
        verified
    }

    /// The checks and the conditional update of [`verify`](Self::verify), which counts their outcome.
    async fn check_and_consume(
        &self,
        tenancy: &AuthorizedTenancy,
        id: &ChallengeId,
        secret: &Secret,
        code: &Code,
    ) -> Result<Challenge, ChallengeError> {
        let now = self.clock.now_ms();
        let max_attempts = self.policy.max_attempts;
        let hashes = ProvenHashes { secret: self.hasher.secret(id, secret), code: self.hasher.code(id, code) };
        // The common case, the right secret and code for a pending challenge, in one write.
        // Anything else wrote nothing, and the checks below say why (and count a wrong code): a
        // wrong secret or code pays one update that matched nothing, a right one saves a read.
        if let Some(challenge) = self.store.consume_matching(tenancy, id, hashes.clone(), now, max_attempts).await? {
            return Ok(challenge);
        }
        let Some(stored) = self.store.find(tenancy, id).await? else {
            return Err(ChallengeError::InvalidChallenge);
        };
        // A wrong secret reveals nothing about the challenge and costs no attempt.
        if stored.consumed || !constant_time_eq(&stored.secret_hash, &hashes.secret) {
            return Err(ChallengeError::InvalidChallenge);
        }
        if now >= stored.challenge.expires_at {
            return Err(ChallengeError::ChallengeExpired);
        }
        if stored.attempts >= max_attempts {
            return Err(ChallengeError::ChallengeAttemptsExceeded);
        }
        // The read above may be stale by the time we write; the conditional update decides. A
        // right code got here only by losing a race to the write above (the challenge stopped
        // being pending in between), and so does a wrong code that was not counted: a fresh
        // read says why.
        if !constant_time_eq(&stored.code_hash, &hashes.code) {
            match self.store.count_failed_attempt(tenancy, &stored.challenge, now, max_attempts).await? {
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
        Ok(match self.store.find(tenancy, id).await? {
            None => ChallengeError::InvalidChallenge,
            Some(s) if s.consumed => ChallengeError::InvalidChallenge,
            Some(s) if now >= s.challenge.expires_at => ChallengeError::ChallengeExpired,
            Some(s) if s.attempts >= self.policy.max_attempts => ChallengeError::ChallengeAttemptsExceeded,
            Some(_) => ChallengeError::InvalidChallenge,
        })
    }

    /// Deletes a challenge; deleting one that does not exist is not an error.
    #[tracing::instrument(level = "debug", skip_all, fields(tenancy = tenancy.id(), challenge = id.as_str()))]
    pub async fn delete(&self, tenancy: &AuthorizedTenancy, id: &ChallengeId) -> Result<(), ChallengeError> {
        Ok(self.store.delete(tenancy, id).await?)
    }

    /// Removes what is past retention; run in the background, and by tests directly.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn purge(&self) -> Result<u64, ChallengeError> {
        let now = self.clock.now_ms();
        let before = PurgeBefore {
            challenges: now - millis(self.policy.retention),
            creations: now - millis(self.policy.create_window),
            failures: now - millis(self.policy.failure_window),
        };
        Ok(self.store.purge(before).await?.rows)
    }

    /// Purges every `every` until `stop` is cancelled; a purge that started is finished first.
    pub fn spawn_purge(&self, every: Duration, stop: CancellationToken) -> tokio::task::JoinHandle<()> {
        let service = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tokio::select! {
                    biased;
                    () = stop.cancelled() => return,
                    _ = tick.tick() => {}
                }
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
