//! Deleting rows past their time in bounded chunks, each a short write of its own, so that a
//! purge of a million rows never holds the writer (SQLite's one connection) for long: the writes
//! queued meanwhile go between its chunks.

use std::time::{Duration, Instant};

use sqlx::SqlitePool;

use super::{Conn, Database, Dialect, on_backend};

/// Rows one chunk deletes at most. Purging 1,000,000 challenges on SQLite on the 2-core
/// development machine under load, a chunk of 250 held the writer about 1 ms (99 % under 5 ms);
/// one of 1,000 about 4 ms with 2 % over 10 ms, the budget a create's tail can afford.
pub const CHUNK_ROWS: u32 = 250;

/// After each chunk the purge waits this many times as long as the chunk held the writer, so
/// that however long it runs it takes at most a third of the writer's time. Without the wait,
/// under writes that never pause, the purge's own writes brought the WAL's restart forward and
/// made it dearer, and create's p99 during a purge of 1,000,000 rows was ×1.23–2.22 of normal;
/// with it ×1.00–1.56, for a purge that takes 26–29 s instead of 14–15 (BENCHMARKS.md).
const PAUSE_PER_HELD: u32 = 2;

/// The buckets of the chunk-duration histogram, in seconds: around the 10 ms budget.
pub const CHUNK_SECONDS: [f64; 7] = [0.001, 0.002, 0.005, 0.01, 0.02, 0.03, 0.05];

/// The rows of `table` that `condition` picks, with `$1` the cut-off. The condition must be one
/// an index serves, or every chunk scans the table.
#[derive(Clone, Copy, Debug)]
pub struct Expired {
    pub table: &'static str,
    pub condition: &'static str,
    pub cutoff: i64,
}

/// What a purge did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PurgeReport {
    pub rows: u64,
    pub chunks: u32,
    /// How long the chunks held the writer, all together.
    pub held: Duration,
    /// How long the longest chunk held the writer.
    pub longest: Duration,
    /// It stopped because another instance holds the purge lock, and left the rest to it.
    pub left_to_another: bool,
}

impl PurgeReport {
    /// This report followed by `later`.
    pub fn then(self, later: PurgeReport) -> PurgeReport {
        PurgeReport {
            rows: self.rows + later.rows,
            chunks: self.chunks + later.chunks,
            held: self.held + later.held,
            longest: self.longest.max(later.longest),
            left_to_another: later.left_to_another,
        }
    }
}

/// How a purge deletes: rows per chunk, and on PostgreSQL the advisory lock each chunk must get
/// for one instance to purge at a time (`None`: instances may purge side by side).
#[derive(Clone, Copy, Debug)]
pub struct Chunking {
    pub rows: u32,
    pub lock: Option<i64>,
}

impl Default for Chunking {
    fn default() -> Self {
        Self { rows: CHUNK_ROWS, lock: None }
    }
}

/// Deletes what `expired` picks, a chunk at a time, until a chunk comes back short (or, with a
/// lock, another instance holds it), pausing between chunks ([`PAUSE_PER_HELD`]). Each chunk's
/// time is recorded in [`Database::purge_chunk_seconds`].
pub async fn delete_in_chunks(db: &Database, expired: Expired, chunking: Chunking) -> sqlx::Result<PurgeReport> {
    let mut report = PurgeReport::default();
    loop {
        if let Dialect::Sqlite(reader) = db.reader() {
            read_ahead(reader, expired, chunking).await?;
        }
        let chunk = db.write(move |conn| Box::pin(delete_chunk(conn, expired, chunking))).await?;
        let Some((rows, held)) = chunk else {
            report.left_to_another = true;
            break;
        };
        db.purge_chunk_seconds().observe(held.as_secs_f64());
        report = report.then(PurgeReport { rows, chunks: 1, held, longest: held, left_to_another: false });
        if rows < u64::from(chunking.rows) {
            break;
        }
        // Writes that queued during this chunk go first, and the writer is theirs meanwhile.
        tokio::time::sleep(PAUSE_PER_HELD * held).await;
    }
    tracing::debug!(
        table = expired.table,
        condition = expired.condition,
        rows = report.rows,
        chunks = report.chunks,
        held_ms = report.held.as_secs_f64() * 1000.0,
        longest_chunk_ms = report.longest.as_secs_f64() * 1000.0,
        left_to_another = report.left_to_another,
        "purged in chunks"
    );
    Ok(report)
}

/// Each of `expired` in turn with [`delete_in_chunks`], stopping where another instance holds
/// the lock.
pub async fn delete_each_in_chunks(
    db: &Database,
    expired: &[Expired],
    chunking: Chunking,
) -> sqlx::Result<PurgeReport> {
    let mut report = PurgeReport::default();
    for &one in expired {
        report = report.then(delete_in_chunks(db, one, chunking).await?);
        if report.left_to_another {
            break;
        }
    }
    Ok(report)
}

/// Reads the rows of the next two chunks on a reader, and so outside the write lock, for the
/// pages they sit on to be in memory when the writer deletes them: rows past their time have
/// not been read for a while, and the operating system may have dropped their pages from its
/// cache. Read by the writer, each such page makes every write wait for the disk, behind the
/// checkpoint's writes. Two chunks, since deleting one rebalances the pages next to it, which
/// hold the rows of the next (BENCHMARKS.md, "What limits it now").
async fn read_ahead(
    reader: &SqlitePool,
    Expired { table, condition, cutoff }: Expired,
    chunking: Chunking,
) -> sqlx::Result<()> {
    let sql = format!("SELECT count(*) FROM {table} WHERE {}", sqlite_pick(table, condition));
    sqlx::query_scalar::<_, i64>(&sql).bind(cutoff).bind(2 * i64::from(chunking.rows)).fetch_one(reader).await?;
    Ok(())
}

/// On SQLite, the rows of `table` a chunk takes: the first `$2` that `condition` picks.
fn sqlite_pick(table: &str, condition: &str) -> String {
    format!("rowid IN (SELECT rowid FROM {table} WHERE {condition} LIMIT $2)")
}

/// One chunk: the rows it deleted and how long that took, or `None` when another instance holds
/// the lock. The rows are picked by the condition's index and deleted by their physical key
/// (SQLite's rowid, PostgreSQL's ctid), which every table has.
async fn delete_chunk(
    mut conn: Conn<'_>,
    Expired { table, condition, cutoff }: Expired,
    chunking: Chunking,
) -> sqlx::Result<Option<(u64, Duration)>> {
    let started = Instant::now();
    if let Some(lock) = chunking.lock
        && let Dialect::Postgres(conn) = conn.reborrow()
    {
        let ours: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)").bind(lock).fetch_one(conn).await?;
        if !ours {
            return Ok(None);
        }
    }
    // On PostgreSQL a row updated since the pick has a new ctid and is left alone; the
    // condition is checked again all the same, so nothing that stopped matching goes.
    let sql = match conn {
        Dialect::Sqlite(_) => {
            format!("DELETE FROM {table} WHERE {}", sqlite_pick(table, condition))
        }
        Dialect::Postgres(_) => format!(
            "DELETE FROM {table} WHERE ctid = ANY(ARRAY(SELECT ctid FROM {table} WHERE {condition} LIMIT $2))
                AND ({condition})"
        ),
    };
    let rows = on_backend!(conn, conn => sqlx::query(&sql)
        .bind(cutoff)
        .bind(i64::from(chunking.rows))
        .execute(conn)
        .await?
        .rows_affected());
    Ok(Some((rows, started.elapsed())))
}
