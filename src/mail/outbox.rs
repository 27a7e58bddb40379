//! The outbox: emails that must not be lost to a mail outage, such as the notices that tell an
//! account's owner of a change they may not have made. Each is written in the transaction of
//! the change it reports, so there is no change without its notice; a background worker sends
//! it, retries with backoff while the mail server fails, and marks it sent.
//!
//! Delivery is at least once: a crash after the server took a message and before it was marked
//! sent would send it again. Otherwise each notice is sent exactly once, also with several
//! processes or instances, since a worker claims the rows it sends.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::{Mailer, OutgoingEmail};
use crate::clock::Clock;
use crate::db::purge::{Chunking, Expired, delete_in_chunks};
use crate::db::{Conn, Database, WriteTx, on_backend};
use crate::domain::EmailAddress;

/// How many emails one round sends at most.
const BATCH: usize = 20;
/// How long a claim keeps other workers off a row: longer than one send may take (the SMTP
/// mailer gives up after [`SEND_TIMEOUT`](super::smtp::SEND_TIMEOUT), 5 s). Each row is claimed
/// just before it is sent.
const CLAIM: Duration = Duration::from_secs(60);
/// Tries before an email is left for an operator to look at: at an hour apart, days of trying.
const MAX_ATTEMPTS: i64 = 100;
/// Sent rows are kept this long, then purged.
const RETENTION: Duration = Duration::from_secs(24 * 3600);

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// The wait before retry number `attempts`: 5 s, doubling, at most an hour.
fn backoff(attempts: u32) -> Duration {
    Duration::from_secs(5u64.saturating_mul(1 << attempts.saturating_sub(1).min(10)).min(3600))
}

#[derive(Clone)]
pub struct Outbox {
    db: Database,
    mailer: Arc<dyn Mailer>,
    clock: Clock,
    wake: Arc<Notify>,
}

/// A write transaction whose queued emails are sent once it commits.
pub struct WithNotices<'o> {
    tx: WriteTx,
    outbox: &'o Outbox,
}

impl WithNotices<'_> {
    /// The transaction, for the change the notices report.
    pub fn conn(&mut self) -> Conn<'_> {
        self.tx.conn()
    }

    pub async fn queue(&mut self, email: &OutgoingEmail) -> Result<(), sqlx::Error> {
        let now = self.outbox.clock.now_ms();
        on_backend!(self.tx.conn(), conn => sqlx::query(
            "INSERT INTO outbox (recipient, subject, html, text, created_at, next_attempt_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(email.to.as_str())
        .bind(&email.subject)
        .bind(&email.html)
        .bind(&email.text)
        .bind(now)
        .bind(now)
        .execute(conn)
        .await
        .map(drop))
    }

    /// Commits the change with its notices, and wakes the worker to send them.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await?;
        self.outbox.wake.notify_one();
        Ok(())
    }
}

#[derive(sqlx::FromRow)]
struct Queued {
    id: i64,
    recipient: String,
    subject: String,
    html: String,
    text: String,
    attempts: i64,
}

impl Outbox {
    pub fn new(db: Database, mailer: Arc<dyn Mailer>, clock: Clock) -> Self {
        Self { db, mailer, clock, wake: Arc::default() }
    }

    /// A write transaction for a change and the notices that report it.
    pub async fn begin(&self) -> Result<WithNotices<'_>, sqlx::Error> {
        Ok(WithNotices { tx: self.db.begin_write().await?, outbox: self })
    }

    /// Sends what is due, up to a batch; returns how many were sent.
    pub async fn send_due(&self) -> Result<usize, sqlx::Error> {
        let mut sent = 0;
        for _ in 0..BATCH {
            let Some(queued) = self.claim_next().await? else { break };
            if self.send(&queued).await? {
                sent += 1;
            }
        }
        Ok(sent)
    }

    /// The oldest email that is due and that no worker holds, now held by this one. SQLite runs
    /// one write at a time; on PostgreSQL, workers of other instances claiming at the same moment
    /// skip the row this one locked instead of claiming it too.
    async fn claim_next(&self) -> Result<Option<Queued>, sqlx::Error> {
        let now = self.clock.now_ms();
        on_backend!(self.db.writer(), pool, lock = { sqlite: "", postgres: "FOR UPDATE SKIP LOCKED" } => {
            let sql = format!(
                "UPDATE outbox SET claimed_until = $1
                 WHERE id = (SELECT id FROM outbox
                             WHERE sent_at IS NULL AND next_attempt_at <= $2 AND claimed_until <= $2 AND attempts < $3
                             ORDER BY id LIMIT 1 {lock})
                 RETURNING id, recipient, subject, html, text, attempts"
            );
            sqlx::query_as(&sql).bind(now + millis(CLAIM)).bind(now).bind(MAX_ATTEMPTS).fetch_optional(pool).await
        })
    }

    /// One delivery, and what came of it recorded: sent, or the next try scheduled.
    async fn send(&self, queued: &Queued) -> Result<bool, sqlx::Error> {
        let delivered = match EmailAddress::parse(&queued.recipient) {
            Ok(to) => {
                let email = OutgoingEmail {
                    to,
                    subject: queued.subject.clone(),
                    html: queued.html.clone(),
                    text: queued.text.clone(),
                };
                self.mailer.send(&email).await
            }
            Err(err) => Err(anyhow::anyhow!("the stored recipient is not an address: {err}")),
        };
        let now = self.clock.now_ms();
        match delivered {
            Ok(()) => {
                on_backend!(self.db.writer(), pool => sqlx::query("UPDATE outbox SET sent_at = $1 WHERE id = $2")
                    .bind(now)
                    .bind(queued.id)
                    .execute(pool)
                    .await
                    .map(drop))?;
                Ok(true)
            }
            Err(err) => {
                let attempts = u32::try_from(queued.attempts + 1).unwrap_or(u32::MAX);
                let retry_in = backoff(attempts);
                tracing::warn!(error = %err, attempts, ?retry_in, "could not send a queued email; will retry");
                on_backend!(self.db.writer(), pool => sqlx::query(
                    "UPDATE outbox SET attempts = $1, next_attempt_at = $2, claimed_until = 0 WHERE id = $3",
                )
                .bind(i64::from(attempts))
                .bind(now + millis(retry_in))
                .bind(queued.id)
                .execute(pool)
                .await
                .map(drop))?;
                Ok(false)
            }
        }
    }

    /// How many emails are not sent yet, including those left for an operator after their last try.
    pub async fn depth(&self) -> Result<i64, sqlx::Error> {
        on_backend!(self.db.reader(), pool => sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL")
            .fetch_one(pool)
            .await)
    }

    /// Deletes what was sent more than a day ago, in chunks; returns how many rows went.
    pub async fn purge_sent(&self) -> Result<u64, sqlx::Error> {
        let cutoff = self.clock.now_ms() - millis(RETENTION);
        let expired = Expired { table: "outbox", condition: "sent_at <= $1", cutoff };
        Ok(delete_in_chunks(&self.db, expired, Chunking::default()).await?.rows)
    }

    /// Sends what is due whenever a change was committed, and every `every` for retries, until
    /// `stop` is cancelled; a round that started is finished first.
    pub fn spawn_worker(&self, every: Duration, stop: CancellationToken) -> tokio::task::JoinHandle<()> {
        let outbox = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tokio::select! {
                    biased;
                    () = stop.cancelled() => return,
                    _ = tick.tick() => {}
                    _ = outbox.wake.notified() => {}
                }
                if let Err(err) = outbox.send_due().await {
                    tracing::warn!(error = %err, "the outbox could not be read; will retry");
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::backoff;
    use std::time::Duration;

    #[test]
    fn backoff_doubles_from_five_seconds_up_to_an_hour() {
        let waits: Vec<u64> = (1..=12).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(waits, [5, 10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600]);
        assert_eq!(backoff(u32::MAX), Duration::from_secs(3600));
    }
}
