//! The challenge tables, and the only code of the engine that reaches the database. Each state
//! change is one conditional statement, so that two requests at once cannot both win: the
//! database decides, not a read followed by a write.

use std::sync::Arc;

use futures_util::future::BoxFuture;

use super::model::{Challenge, ChallengeId, Metadata, Purpose, UserId};
use super::purge::{PurgeBefore, purge};
use super::tenancy::AuthorizedTenancy;
use crate::db::purge::{CHUNK_ROWS, PurgeReport};
use crate::db::{Conn, Database, Dialect, on_backend};
use crate::domain::EmailAddress;

/// A challenge row as stored, with what verification needs.
pub struct StoredChallenge {
    pub challenge: Challenge,
    pub secret_hash: Vec<u8>,
    pub code_hash: Vec<u8>,
    pub attempts: u32,
    pub consumed: bool,
}

/// What a new row holds.
pub struct ChallengeRow {
    pub challenge: Challenge,
    pub secret_hash: Vec<u8>,
    pub code_hash: Vec<u8>,
}

/// The hashes of the secret and code a verify was sent, to compare with a challenge's.
#[derive(Clone)]
pub struct ProvenHashes {
    pub secret: Vec<u8>,
    pub code: Vec<u8>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    purpose: String,
    email: String,
    user_id: Option<String>,
    metadata: Option<String>,
    secret_hash: Vec<u8>,
    code_hash: Vec<u8>,
    attempts: i64,
    created_at: i64,
    expires_at: i64,
    consumed_at: Option<i64>,
}

impl Row {
    /// Rows were written by this crate from parsed values, so they parse again; a row that
    /// does not is reported as corrupt storage rather than trusted.
    fn into_stored(self) -> Result<StoredChallenge, sqlx::Error> {
        let corrupt = |what: &str| sqlx::Error::Decode(format!("stored challenge has an invalid {what}").into());
        let challenge = Challenge {
            challenge_id: ChallengeId::new(self.id),
            purpose: Purpose::parse(&self.purpose).map_err(|_| corrupt("purpose"))?,
            email: EmailAddress::parse(&self.email).map_err(|_| corrupt("email"))?,
            user_id: self.user_id.map(|u| UserId::parse(&u)).transpose().map_err(|_| corrupt("userId"))?,
            created_at: self.created_at,
            expires_at: self.expires_at,
            metadata: self
                .metadata
                .as_deref()
                .map(Metadata::from_json_text)
                .transpose()
                .map_err(|_| corrupt("metadata"))?
                .unwrap_or_default(),
        };
        Ok(StoredChallenge {
            challenge,
            secret_hash: self.secret_hash,
            code_hash: self.code_hash,
            attempts: u32::try_from(self.attempts).unwrap_or(u32::MAX),
            consumed: self.consumed_at.is_some(),
        })
    }
}

/// The columns a [`Row`] is read from.
macro_rules! row_columns {
    () => {
        "id, purpose, email, user_id, metadata, secret_hash, code_hash, attempts, created_at, expires_at, consumed_at"
    };
}

const SELECT_ROW: &str = concat!("SELECT ", row_columns!(), " FROM challenges WHERE id = $1 AND tenancy_id = $2");

/// A sliding-window limit: at most `limit` events after `since` (epoch ms).
#[derive(Clone, Copy)]
pub struct Window {
    pub since: i64,
    pub limit: u32,
    /// How long an event counts, in ms.
    pub length: i64,
}

impl Window {
    /// A window nothing is counted in, for creates that skip the limits.
    const NONE: Self = Self { since: i64::MAX, limit: u32::MAX, length: 0 };
}

/// For the email's creates and its wrong codes: with `limit` or more events in the window, when
/// (epoch ms) the oldest event that keeps the count at the limit happened. The next slot frees
/// one window after it. Only a refused create asks, to say when to retry.
async fn limiting_events(
    conn: Conn<'_>,
    tenancy: &AuthorizedTenancy,
    email_key: &str,
    creates: Window,
    failures: Window,
) -> Result<(Option<i64>, Option<i64>), sqlx::Error> {
    on_backend!(conn, conn => sqlx::query_as(
        "SELECT
            (SELECT created_at FROM challenge_creations
             WHERE tenancy_id = $1 AND email_key = $2 AND created_at > $3
             ORDER BY created_at DESC LIMIT 1 OFFSET $4),
            (SELECT failed_at FROM verification_failures
             WHERE tenancy_id = $1 AND email_key = $2 AND failed_at > $5
             ORDER BY failed_at DESC LIMIT 1 OFFSET $6)",
    )
    .bind(tenancy.id())
    .bind(email_key)
    .bind(creates.since)
    .bind(i64::from(creates.limit) - 1)
    .bind(failures.since)
    .bind(i64::from(failures.limit) - 1)
    .fetch_one(conn)
    .await)
}

/// On PostgreSQL, makes the creates of one (tenancy, email) wait for each other until the end
/// of their transactions, so that the rate-limit count read next is exact across instances and
/// `invalidateOthers` sees every earlier create of the address committed. SQLite has one
/// writer, so there the group commit already runs them one after another.
async fn lock_email(conn: Conn<'_>, tenancy: &AuthorizedTenancy, email_key: &str) -> Result<(), sqlx::Error> {
    if let Dialect::Postgres(conn) = conn {
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1 || ' ' || $2, 0))")
            .bind(tenancy.id())
            .bind(email_key)
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// What `invalidateOthers` does for `newer`: deletes the pending challenges of its purpose and
/// subject (the same user when there is one, otherwise the same email) that were stored before
/// it. SQLite's rowid and PostgreSQL's `seq` grow with each insert, so those are the ones with
/// a smaller one; `newer` itself and anything stored after it are kept, and nothing goes once
/// `newer` is gone.
async fn invalidate_older(conn: Conn<'_>, tenancy: &AuthorizedTenancy, newer: &Challenge) -> Result<u64, sqlx::Error> {
    let (subject, key) = match &newer.user_id {
        Some(user) => ("user_id", user.as_str().to_owned()),
        None => ("email_key", newer.email.normalized()),
    };
    on_backend!(conn, conn, order = { sqlite: "rowid", postgres: "seq" } => {
        let sql = format!(
            "DELETE FROM challenges WHERE tenancy_id = $1 AND purpose = $2 AND {subject} = $3 AND consumed_at IS NULL
                AND {order} < (SELECT {order} FROM challenges WHERE id = $4 AND tenancy_id = $1)"
        );
        sqlx::query(&sql)
            .bind(tenancy.id())
            .bind(newer.purpose.as_str())
            .bind(key)
            .bind(newer.challenge_id.as_str())
            .execute(conn)
            .await
            .map(|done| done.rows_affected())
    })
}

/// Stores `row` unless `limits` refuse it, in one statement: true when stored. A create under
/// limits is counted in them by the row's `counted` flag, whose trigger (migration 0009) records
/// the creation in the same statement, so the count and the row are written together or not at all.
async fn insert_within(
    conn: Conn<'_>,
    tenancy: &AuthorizedTenancy,
    row: &ChallengeRow,
    limits: Option<Limits>,
) -> Result<bool, sqlx::Error> {
    let c = &row.challenge;
    // With no limits the windows below are never read; any values do.
    let Limits { creates, failures } = limits.unwrap_or(Limits { creates: Window::NONE, failures: Window::NONE });
    on_backend!(conn, conn => sqlx::query(
        "INSERT INTO challenges (id, tenancy_id, purpose, email, email_key, user_id, metadata,
            secret_hash, code_hash, created_at, expires_at, counted)
         SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12
         WHERE NOT $12 OR (
            (SELECT created_at FROM challenge_creations
             WHERE tenancy_id = $2 AND email_key = $5 AND created_at > $13
             ORDER BY created_at DESC LIMIT 1 OFFSET $14) IS NULL
            AND (SELECT failed_at FROM verification_failures
             WHERE tenancy_id = $2 AND email_key = $5 AND failed_at > $15
             ORDER BY failed_at DESC LIMIT 1 OFFSET $16) IS NULL)",
    )
    .bind(c.challenge_id.as_str())
    .bind(tenancy.id())
    .bind(c.purpose.as_str())
    .bind(c.email.as_str())
    .bind(c.email.normalized())
    .bind(c.user_id.as_ref().map(UserId::as_str))
    .bind(c.metadata.as_json_text())
    .bind(&row.secret_hash)
    .bind(&row.code_hash)
    .bind(c.created_at)
    .bind(c.expires_at)
    .bind(limits.is_some())
    .bind(creates.since)
    .bind(i64::from(creates.limit) - 1)
    .bind(failures.since)
    .bind(i64::from(failures.limit) - 1)
    .execute(conn)
    .await
    .map(|done| done.rows_affected() == 1))
}

/// See [`ChallengeStore::consume_matching`]. The hashes are compared by the database, not in
/// constant time, which is safe because they are keyed HMACs: how much of a guess's hash
/// matches says nothing about any other guess's, so timing cannot steer a search.
async fn consume_matching(
    conn: Conn<'_>,
    tenancy: &AuthorizedTenancy,
    id: &ChallengeId,
    hashes: &ProvenHashes,
    now: i64,
    max_attempts: u32,
) -> Result<Option<Challenge>, sqlx::Error> {
    let row: Option<Row> = on_backend!(conn, conn => sqlx::query_as(concat!(
        "UPDATE challenges SET consumed_at = $1
         WHERE id = $2 AND tenancy_id = $3 AND consumed_at IS NULL AND expires_at > $1 AND attempts < $4
           AND secret_hash = $5 AND code_hash = $6
         RETURNING ",
        row_columns!()
    ))
    .bind(now)
    .bind(id.as_str())
    .bind(tenancy.id())
    .bind(i64::from(max_attempts))
    .bind(&hashes.secret)
    .bind(&hashes.code)
    .fetch_optional(conn)
    .await)?;
    row.map(|row| row.into_stored().map(|stored| stored.challenge)).transpose()
}

/// Counts a wrong code if the challenge still has attempts left, and records the failure for
/// the email's rate limit. Returns the attempts used after this one, or `None` when nothing
/// was counted (the challenge was used up or consumed meanwhile).
async fn count_failed_attempt(
    mut conn: Conn<'_>,
    tenancy: &AuthorizedTenancy,
    challenge: &Challenge,
    now: i64,
    max_attempts: u32,
) -> Result<Option<u32>, sqlx::Error> {
    let attempts: Option<i64> = on_backend!(conn.reborrow(), conn => sqlx::query_scalar(
        "UPDATE challenges SET attempts = attempts + 1
         WHERE id = $1 AND tenancy_id = $2 AND consumed_at IS NULL AND attempts < $3
         RETURNING attempts",
    )
    .bind(challenge.challenge_id.as_str())
    .bind(tenancy.id())
    .bind(i64::from(max_attempts))
    .fetch_optional(conn)
    .await)?;
    if attempts.is_some() {
        on_backend!(conn, conn => sqlx::query(
            "INSERT INTO verification_failures (tenancy_id, email_key, failed_at) VALUES ($1, $2, $3)",
        )
        .bind(tenancy.id())
        .bind(challenge.email.normalized())
        .bind(now)
        .execute(conn)
        .await
        .map(drop))?;
    }
    Ok(attempts.map(|a| u32::try_from(a).unwrap_or(u32::MAX)))
}

async fn delete(conn: Conn<'_>, tenancy: &AuthorizedTenancy, id: &ChallengeId) -> Result<(), sqlx::Error> {
    on_backend!(conn, conn => sqlx::query("DELETE FROM challenges WHERE id = $1 AND tenancy_id = $2")
        .bind(id.as_str())
        .bind(tenancy.id())
        .execute(conn)
        .await
        .map(drop))
}

/// The write of [`ChallengeStore::insert_new`].
fn create_job(
    owner: AuthorizedTenancy,
    row: ChallengeRow,
    limits: Option<Limits>,
    invalidate_others: bool,
    now: i64,
) -> impl for<'c> FnOnce(Conn<'c>) -> BoxFuture<'c, Result<Result<(), i64>, sqlx::Error>> + Send + 'static {
    move |mut conn| {
        Box::pin(async move {
            let c = &row.challenge;
            let email_key = c.email.normalized();
            lock_email(conn.reborrow(), &owner, &email_key).await?;
            if !insert_within(conn.reborrow(), &owner, &row, limits).await? {
                // Only a limit keeps a row out: say when it lets the next one in.
                let limits =
                    limits.ok_or_else(|| sqlx::Error::Protocol("a create without limits was refused".into()))?;
                let (by_creates, by_failures) =
                    limiting_events(conn, &owner, &email_key, limits.creates, limits.failures).await?;
                let free_at = by_creates
                    .map(|at| at + limits.creates.length)
                    .max(by_failures.map(|at| at + limits.failures.length))
                    .unwrap_or(now);
                return Ok(Err(free_at));
            }
            if invalidate_others {
                invalidate_older(conn, &owner, c).await?;
            }
            Ok(Ok(()))
        })
    }
}

/// The rate limits a create is checked against, and counted in.
#[derive(Clone, Copy)]
pub struct Limits {
    pub creates: Window,
    pub failures: Window,
}

/// The challenge tables of one database. Writes go through [`Database::write`]: SQLite's
/// group-committing writer, or a transaction of their own on PostgreSQL.
#[derive(Clone)]
pub struct ChallengeStore {
    db: Database,
    /// Held by this instance's purge, so that a second one waits for it instead of finding
    /// the lock of another instance and leaving the work undone.
    purging: Arc<tokio::sync::Mutex<()>>,
}

impl ChallengeStore {
    pub fn new(db: Database) -> Self {
        Self { db, purging: Arc::default() }
    }

    pub async fn find(
        &self,
        tenancy: &AuthorizedTenancy,
        id: &ChallengeId,
    ) -> Result<Option<StoredChallenge>, sqlx::Error> {
        let row: Option<Row> = on_backend!(self.db.reader(), pool => sqlx::query_as(SELECT_ROW)
            .bind(id.as_str())
            .bind(tenancy.id())
            .fetch_optional(pool)
            .await)?;
        row.map(Row::into_stored).transpose()
    }

    /// Stores a new challenge in one transaction with its checks: under `limits` (then counted
    /// in them), and deleting the older ones of its subject when `invalidate_others`. A limited
    /// email stores nothing and gets `Err(when the next slot frees, epoch ms)`.
    pub async fn insert_new(
        &self,
        tenancy: &AuthorizedTenancy,
        row: ChallengeRow,
        limits: Option<Limits>,
        invalidate_others: bool,
        now: i64,
    ) -> Result<Result<(), i64>, sqlx::Error> {
        // On SQLite a create that invalidates nothing is the one INSERT, atomic by itself, so it
        // needs no savepoint; on PostgreSQL the address lock before it makes two statements,
        // which must share a transaction.
        let one_statement = matches!(self.db, Database::Sqlite(_)) && !invalidate_others;
        let job = create_job(tenancy.clone(), row, limits, invalidate_others, now);
        if one_statement { self.db.write_statement(job).await } else { self.db.write(job).await }
    }

    /// Invalidates the challenges `newer` replaces (see [`invalidate_older`]), for a create that
    /// stored it without: only once its code was sent.
    pub async fn invalidate_older(&self, tenancy: &AuthorizedTenancy, newer: &Challenge) -> Result<u64, sqlx::Error> {
        let (owner, newer) = (tenancy.clone(), newer.clone());
        self.db.write_statement(move |conn| Box::pin(async move { invalidate_older(conn, &owner, &newer).await })).await
    }

    /// Marks the challenge used if `hashes` are its own and it still can be used (pending,
    /// unexpired, attempts left), in one statement: a right verify's whole write, with no read
    /// before it. The challenge, or `None` when anything of that fails, and then nothing was
    /// written. True for exactly one caller, however many race.
    pub async fn consume_matching(
        &self,
        tenancy: &AuthorizedTenancy,
        id: &ChallengeId,
        hashes: ProvenHashes,
        now: i64,
        max_attempts: u32,
    ) -> Result<Option<Challenge>, sqlx::Error> {
        let (owner, id) = (tenancy.clone(), id.clone());
        self.db
            .write_statement(move |conn| {
                Box::pin(async move { consume_matching(conn, &owner, &id, &hashes, now, max_attempts).await })
            })
            .await
    }

    /// Counts a wrong code (see [`count_failed_attempt`]): the attempts used after this one, or
    /// `None` when nothing was counted.
    pub async fn count_failed_attempt(
        &self,
        tenancy: &AuthorizedTenancy,
        challenge: &Challenge,
        now: i64,
        max_attempts: u32,
    ) -> Result<Option<u32>, sqlx::Error> {
        let (owner, challenge) = (tenancy.clone(), challenge.clone());
        self.db
            .write(move |conn| {
                Box::pin(async move { count_failed_attempt(conn, &owner, &challenge, now, max_attempts).await })
            })
            .await
    }

    pub async fn delete(&self, tenancy: &AuthorizedTenancy, id: &ChallengeId) -> Result<(), sqlx::Error> {
        let (owner, id) = (tenancy.clone(), id.clone());
        self.db.write_statement(move |conn| Box::pin(async move { delete(conn, &owner, &id).await })).await
    }

    /// Removes what is past `before`, in chunks of [`CHUNK_ROWS`], one purge of this instance
    /// at a time; see [`purge`].
    pub async fn purge(&self, before: PurgeBefore) -> Result<PurgeReport, sqlx::Error> {
        let _one_at_a_time = self.purging.lock().await;
        purge(&self.db, before, CHUNK_ROWS).await
    }
}
