//! The development mailbox: with no SMTP server configured, each email is kept in the
//! `dev_mailbox` table so a developer (or a test) can read it at `/dev/mailbox`.

use std::time::Duration;

use anyhow::Context;

use super::{Mailer, OutgoingEmail};
use crate::clock::Clock;
use crate::db::purge::{Chunking, Expired, delete_in_chunks};
use crate::db::{Database, on_backend};
use crate::domain::EmailAddress;

/// One email as the development mailbox keeps it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredEmail {
    pub id: i64,
    pub recipient: String,
    pub subject: String,
    pub html: String,
    pub text: String,
    /// Epoch milliseconds.
    pub sent_at: i64,
}

const COLUMNS: &str = "id, recipient, subject, html, text, sent_at";

/// How long the mailbox keeps an email.
const RETENTION: Duration = Duration::from_secs(24 * 3600);

/// Stores mail instead of sending it; cheap to clone, so the web app can hold one to show it.
#[derive(Debug, Clone)]
pub struct DevMailbox {
    pub db: Database,
    pub clock: Clock,
}

impl DevMailbox {
    pub fn new(db: Database, clock: Clock) -> Self {
        Self { db, clock }
    }

    /// The newest `limit` emails, newest first.
    pub async fn list(&self, limit: u32) -> anyhow::Result<Vec<StoredEmail>> {
        let sql = format!("SELECT {COLUMNS} FROM dev_mailbox ORDER BY id DESC LIMIT $1");
        on_backend!(self.db.reader(), pool => sqlx::query_as(&sql).bind(i64::from(limit)).fetch_all(pool).await)
            .context("could not read the development mailbox")
    }

    /// The newest email to `recipient`, whatever the case of either address's ASCII letters
    /// (the app's own rule for comparing addresses, [`EmailAddress::normalized`]).
    pub async fn latest_to(&self, recipient: &str) -> anyhow::Result<Option<StoredEmail>> {
        // Every stored recipient is a valid address, so anything else matches none.
        let Ok(wanted) = EmailAddress::parse(recipient) else { return Ok(None) };
        let sql = format!("SELECT {COLUMNS} FROM dev_mailbox WHERE recipient_normalized = $1 ORDER BY id DESC LIMIT 1");
        on_backend!(self.db.reader(), pool => sqlx::query_as(&sql).bind(wanted.normalized()).fetch_optional(pool).await)
            .context("could not read the development mailbox")
    }

    /// Deletes mail older than a day, as the challenges it carries codes for are, in chunks;
    /// returns how many went.
    pub async fn purge_expired(&self) -> anyhow::Result<u64> {
        let cutoff = self.clock.now_ms() - RETENTION.as_millis() as i64;
        let expired = Expired { table: "dev_mailbox", condition: "sent_at <= $1", cutoff };
        let report = delete_in_chunks(&self.db, expired, Chunking::default())
            .await
            .context("could not purge the development mailbox")?;
        Ok(report.rows)
    }

    async fn store(&self, email: &OutgoingEmail) -> anyhow::Result<()> {
        let (email, now) = (email.clone(), self.clock.now_ms());
        self.db
            .write_statement(move |conn| {
                Box::pin(async move {
                    on_backend!(conn, conn => sqlx::query(
                        "INSERT INTO dev_mailbox (recipient, recipient_normalized, subject, html, text, sent_at) \
                         VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(email.to.as_str())
                    .bind(email.to.normalized())
                    .bind(&email.subject)
                    .bind(&email.html)
                    .bind(&email.text)
                    .bind(now)
                    .execute(conn)
                    .await
                    .map(drop))
                })
            })
            .await
            .context("could not store the email in the development mailbox")
    }
}

#[async_trait::async_trait]
impl Mailer for DevMailbox {
    async fn send(&self, email: &OutgoingEmail) -> anyhow::Result<()> {
        self.store(email).await?;
        // The address is masked by its `Debug`; the body holds a code and is never logged.
        tracing::info!(to = ?email.to, "email kept in the development mailbox: see /dev/mailbox");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn mailbox() -> (tempfile::TempDir, DevMailbox) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let db = Database::open(&url).await.unwrap();
        (dir, DevMailbox::new(db, Clock::manual(1_000)))
    }

    fn email(to: &str, subject: &str) -> OutgoingEmail {
        OutgoingEmail {
            to: EmailAddress::parse(to).unwrap(),
            subject: subject.into(),
            html: format!("<p>{subject}</p>"),
            text: subject.into(),
        }
    }

    #[tokio::test]
    async fn lists_newest_first_up_to_the_limit() {
        let (_dir, mailbox) = mailbox().await;
        for subject in ["first", "second", "third"] {
            mailbox.send(&email("jane@example.com", subject)).await.unwrap();
            mailbox.clock.advance(std::time::Duration::from_secs(1));
        }
        let listed = mailbox.list(2).await.unwrap();
        let subjects: Vec<_> = listed.iter().map(|e| e.subject.as_str()).collect();
        assert_eq!(subjects, ["third", "second"]);
        assert_eq!(listed[0].sent_at, 3_000);
        assert_eq!(listed[0].html, "<p>third</p>");
        assert_eq!(listed[0].text, "third");
        assert_eq!(listed[0].recipient, "jane@example.com");
    }

    #[tokio::test]
    async fn latest_to_ignores_case_and_other_recipients() {
        let (_dir, mailbox) = mailbox().await;
        mailbox.send(&email("Jane@Example.com", "old")).await.unwrap();
        mailbox.send(&email("JANE@example.COM", "new")).await.unwrap();
        mailbox.send(&email("bob@example.com", "not jane")).await.unwrap();

        let latest = mailbox.latest_to("jane@EXAMPLE.com").await.unwrap().unwrap();
        assert_eq!(latest.subject, "new");
        assert_eq!(latest.recipient, "JANE@example.COM");
        assert!(mailbox.latest_to("nobody@example.com").await.unwrap().is_none());
    }
}
