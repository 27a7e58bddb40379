//! SQLite: one writer connection and a pool of readers over one file.
//!
//! SQLite allows one writer at a time, and a deferred transaction that reads and then writes
//! can fail with `SQLITE_BUSY` whatever the busy timeout, so every write goes through the single
//! writer connection and write transactions start with `BEGIN IMMEDIATE`.
//!
//! The challenge service's writes are group-committed: a writer task runs every job waiting
//! for it in one transaction, in order, and answers each once that transaction committed. A
//! commit costs the same for one job as for sixty, so under load this multiplies throughput,
//! and each job still sees the writes of the jobs before it. A job of several statements runs
//! in a savepoint, so one that fails part-way is undone alone; a job of one statement needs
//! none, since SQLite undoes a failed statement by itself, and skipping it saves two of the
//! writer's round trips to its connection's thread.

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use futures_util::future::BoxFuture;
use prometheus_client::metrics::histogram::Histogram;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Connection, Sqlite, SqliteConnection, SqlitePool, Transaction};
use tokio::sync::{mpsc, oneshot};

/// Reader connections, each with its own thread. With fewer than the requests in flight, a read
/// waits for a free one and the cores idle: 16 (PostgreSQL's pool size too) made gets ×1.1–1.4
/// faster than 4 at the same CPU each, for a p99 ~0.4 ms higher and a few MB more under load
/// (BENCHMARKS.md, set H).
const READERS: u32 = 16;
/// Jobs in one group commit at most; bounds how long one transaction holds the write lock.
const MAX_BATCH: usize = 64;
/// Jobs that may wait for the writer before callers wait to enqueue.
const QUEUE: usize = 4096;
/// How often the WAL is copied back into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);
/// Frames in the WAL (of 4 KB pages: 1 GB) past which the writer finishes a checkpoint itself,
/// so that the WAL starts over; see [`run_checkpoints`]. A bound on the disk the WAL takes under
/// writes that never pause, high enough to stay out of the way: at 256 MB, the writer's
/// checkpoints came often enough under the purge to double create's p99 (BENCHMARKS.md).
const WAL_RESTART_FRAMES: i64 = 262_144;
/// The buckets of the batch-size histogram: powers of two up to `MAX_BATCH`.
const BATCH_SIZES: [f64; 7] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0];
/// The buckets of the histogram of how long writes waited for the WAL to start over, in seconds.
const WAL_RESTART_SECONDS: [f64; 7] = [0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5];

/// Told, after the job's transaction ended, whether it committed.
type Finish = Box<dyn FnOnce(Result<(), String>) + Send>;
/// A write to run inside the writer's current transaction; says whether it succeeded.
type Work = Box<dyn for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, (bool, Finish)> + Send>;

/// A write and how to undo it alone if it fails.
struct Job {
    work: Work,
    /// A single statement is undone by SQLite itself; several need a savepoint around them.
    single_statement: bool,
}

#[derive(Clone, Debug)]
pub struct SqliteDatabase {
    reader: SqlitePool,
    writer: SqlitePool,
    checkpointer: SqlitePool,
    batches: mpsc::Sender<Job>,
    batch_sizes: Histogram,
    purge_chunks: Histogram,
    wal_restarts: Histogram,
}

impl SqliteDatabase {
    /// Opens (creating the file and its folder if missing) and migrates the database.
    pub async fn open(url: &str) -> anyhow::Result<Self> {
        Self::open_with_wal_restart(url, WAL_RESTART_FRAMES).await
    }

    async fn open_with_wal_restart(url: &str, wal_restart_frames: i64) -> anyhow::Result<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .with_context(|| format!("DATABASE_URL {url:?} is not a SQLite URL such as sqlite://data/app.db"))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true)
            // A savepoint's journal past 64 KB (a purge chunk's, say) would otherwise go to a
            // temporary file on disk, created, written and deleted while the writer holds the
            // lock (BENCHMARKS.md).
            .pragma("temp_store", "memory");
        if let Some(folder) = options.get_filename().parent()
            && !folder.as_os_str().is_empty()
        {
            std::fs::create_dir_all(folder)
                .with_context(|| format!("could not create the database folder {}", folder.display()))?;
        }
        // Checkpoints (the only writes that wait for the disk) run in the background below,
        // not inside whichever commit crosses SQLite's page threshold.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone().pragma("wal_autocheckpoint", "0"))
            .await
            .with_context(|| format!("could not open the database {url}"))?;
        sqlx::migrate!("migrations/sqlite").run(&writer).await.context("could not migrate the database")?;
        // A connection to a local file does not go stale, so readers are not pinged before each
        // use: that would add a round trip to the connection's thread to every read.
        let reader = SqlitePoolOptions::new()
            .max_connections(READERS)
            .test_before_acquire(false)
            .connect_with(options.clone().read_only(true))
            .await
            .with_context(|| format!("could not open the database {url} for reading"))?;
        let checkpointer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await
            .with_context(|| format!("could not open the database {url} for checkpoints"))?;
        let wal_too_long = Arc::new(AtomicBool::new(false));
        tokio::spawn(run_checkpoints(checkpointer.clone(), wal_restart_frames, wal_too_long.clone()));
        let (batches, jobs) = mpsc::channel(QUEUE);
        let batch_sizes = Histogram::new(BATCH_SIZES);
        let wal_restarts = Histogram::new(WAL_RESTART_SECONDS);
        tokio::spawn(run_batches(
            writer.clone(),
            jobs,
            batch_sizes.clone(),
            WalRestart { too_long: wal_too_long, held: wal_restarts.clone() },
        ));
        let purge_chunks = Histogram::new(super::purge::CHUNK_SECONDS);
        Ok(Self { reader, writer, checkpointer, batches, batch_sizes, purge_chunks, wal_restarts })
    }

    /// How many writes each group commit held.
    pub fn batch_sizes(&self) -> &Histogram {
        &self.batch_sizes
    }

    /// How long each chunk of a purge held the writer, in seconds.
    pub fn purge_chunks(&self) -> &Histogram {
        &self.purge_chunks
    }

    /// How long writes waited, each time, for the writer to finish the checkpoint that lets the
    /// WAL start over, in seconds; see [`run_checkpoints`].
    pub fn wal_restarts(&self) -> &Histogram {
        &self.wal_restarts
    }

    /// For a clean stop: commits the writes already queued, copies the WAL into the database
    /// file and empties it, and closes every connection.
    pub async fn close(&self) -> sqlx::Result<()> {
        // The writer runs jobs in order: once this empty one committed, so has every one before it.
        self.write(|_| Box::pin(async { Ok(()) })).await?;
        self.reader.close().await;
        self.checkpointer.close().await;
        let (busy, _, _): (i64, i64, i64) =
            sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)").fetch_one(&self.writer).await?;
        if busy != 0 {
            tracing::warn!("the last WAL checkpoint could not finish; SQLite completes it at the next start");
        }
        self.writer.close().await;
        Ok(())
    }

    /// Runs `work` in the writer's next group commit; its result is returned once that
    /// transaction committed (a job's own error is returned as it is).
    pub async fn write<T, F>(&self, work: F) -> Result<T, sqlx::Error>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Result<T, sqlx::Error>> + Send + 'static,
    {
        self.enqueue(work, false).await
    }

    /// [`write`](Self::write) for `work` of one statement, which needs no savepoint.
    pub async fn write_statement<T, F>(&self, work: F) -> Result<T, sqlx::Error>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Result<T, sqlx::Error>> + Send + 'static,
    {
        self.enqueue(work, true).await
    }

    async fn enqueue<T, F>(&self, work: F, single_statement: bool) -> Result<T, sqlx::Error>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Result<T, sqlx::Error>> + Send + 'static,
    {
        let (done, outcome) = oneshot::channel();
        let work: Work = Box::new(move |conn| {
            Box::pin(async move {
                let result = work(conn).await;
                let succeeded = result.is_ok();
                let finish = Box::new(move |committed: Result<(), String>| {
                    let _ = done.send(match (result, committed) {
                        (Err(err), _) => Err(err),
                        (Ok(value), Ok(())) => Ok(value),
                        (Ok(_), Err(why)) => Err(sqlx::Error::Protocol(format!("the write was not committed: {why}"))),
                    });
                }) as Finish;
                (succeeded, finish)
            })
        });
        self.batches
            .send(Job { work, single_statement })
            .await
            .map_err(|_| sqlx::Error::Protocol("the database writer has stopped".into()))?;
        // Dropped unanswered: its batch could not start (the writer logged why).
        outcome.await.map_err(|_| sqlx::Error::Protocol("the write could not be started".into()))?
    }

    pub fn reader(&self) -> &SqlitePool {
        &self.reader
    }

    /// For single statements that write.
    pub fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    /// A write transaction that holds the write lock from its first statement.
    pub async fn begin_write(&self) -> sqlx::Result<Transaction<'static, Sqlite>> {
        self.writer.begin_with("BEGIN IMMEDIATE").await
    }
}

/// The writer's side of starting the WAL over: the checkpoints' call for it, and how long each
/// time held the writes.
struct WalRestart {
    too_long: Arc<AtomicBool>,
    held: Histogram,
}

/// The writer task: takes whatever jobs are waiting (up to `MAX_BATCH`) and runs them in one
/// `BEGIN IMMEDIATE` transaction, until every `SqliteDatabase` is dropped. When the checkpoints
/// say the WAL is too long, it first finishes one itself (see [`run_checkpoints`]).
async fn run_batches(writer: SqlitePool, mut jobs: mpsc::Receiver<Job>, batch_sizes: Histogram, wal: WalRestart) {
    while let Some(first) = jobs.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        batch_sizes.observe(batch.len() as f64);
        // A batch that cannot start is dropped: each caller then hears its write did not start.
        let mut conn = match writer.acquire().await {
            Ok(conn) => conn,
            Err(err) => {
                tracing::error!(error = %err, jobs = batch.len(), "could not start a group commit");
                continue;
            }
        };
        if wal.too_long.swap(false, Ordering::Relaxed) {
            let started = Instant::now();
            match sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&mut *conn).await {
                Ok(_) => wal.held.observe(started.elapsed().as_secs_f64()),
                Err(err) => tracing::warn!(error = %err, "WAL checkpoint failed; will retry"),
            }
        }
        let replace_connection = match conn.begin_with("BEGIN IMMEDIATE").await {
            Ok(mut tx) => {
                let mut finishes = Vec::with_capacity(batch.len());
                for Job { work, single_statement } in batch {
                    if single_statement {
                        let (_, finish) = work(&mut tx).await;
                        finishes.push(finish);
                        continue;
                    }
                    // Each job of several statements in a savepoint of its own: one that fails
                    // part-way leaves nothing behind, and the jobs around it are unaffected. A job
                    // whose savepoint cannot be opened is dropped, and its caller hears the write
                    // did not start.
                    if let Err(err) = sqlx::query("SAVEPOINT job").execute(&mut *tx).await {
                        tracing::error!(error = %err, "could not open a savepoint for a write");
                        continue;
                    }
                    let (succeeded, finish) = work(&mut tx).await;
                    if !succeeded && let Err(err) = sqlx::query("ROLLBACK TO job").execute(&mut *tx).await {
                        tracing::error!(error = %err, "could not undo a failed write");
                    }
                    if let Err(err) = sqlx::query("RELEASE job").execute(&mut *tx).await {
                        tracing::error!(error = %err, "could not close a write's savepoint");
                    }
                    finishes.push(finish);
                }
                let committed = tx.commit().await.map_err(|err| {
                    tracing::error!(error = %err, "group commit failed");
                    err.to_string()
                });
                // A failed COMMIT (a full disk, a read-only file) may have ended the transaction
                // inside SQLite but not in the driver, which would refuse every later BEGIN on
                // this connection: a fresh one replaces it, so writes resume once the trouble ends.
                for finish in finishes {
                    finish(committed.clone());
                }
                committed.is_err()
            }
            Err(err) => {
                tracing::error!(error = %err, jobs = batch.len(), "could not start a group commit");
                true
            }
        };
        if replace_connection {
            conn.close_on_drop();
        }
    }
}

/// Copies the WAL back into the database file now and then, without blocking writers
/// (`PASSIVE`), until the database is closed.
///
/// SQLite starts the WAL over only when a write transaction begins with every frame copied,
/// and while commits keep coming, some always land during a checkpoint: the WAL would grow
/// without bound (1.4 GB in 20 s of creates at full speed). So once the WAL is longer than
/// `restart_frames` after a checkpoint, the writer is asked to copy the rest itself before its
/// next transaction, with no commit in between, which then starts the WAL over. That blocks
/// writes for the frames committed since this checkpoint and two syncs, so it is kept rare: at
/// real-world rates writes pause and the WAL starts over long before it is this long.
async fn run_checkpoints(checkpointer: SqlitePool, restart_frames: i64, wal_too_long: Arc<AtomicBool>) {
    let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = checkpointer.close_event() => return,
        }
        match sqlx::query_as::<_, (i64, i64, i64)>("PRAGMA wal_checkpoint(PASSIVE)").fetch_one(&checkpointer).await {
            Ok((_, frames, _)) if frames > restart_frames => wal_too_long.store(true, Ordering::Relaxed),
            Ok(_) => {}
            Err(_) if checkpointer.is_closed() => {}
            Err(err) => tracing::warn!(error = %err, "WAL checkpoint failed; will retry"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn scratch() -> (tempfile::TempDir, SqliteDatabase) {
        let dir = tempfile::tempdir().unwrap();
        let db = SqliteDatabase::open(&format!("sqlite://{}", dir.path().join("t.db").display())).await.unwrap();
        sqlx::query("CREATE TABLE t (v INTEGER NOT NULL)").execute(db.writer()).await.unwrap();
        (dir, db)
    }

    async fn values(db: &SqliteDatabase) -> Vec<i64> {
        sqlx::query_scalar("SELECT v FROM t ORDER BY v").fetch_all(db.reader()).await.unwrap()
    }

    #[tokio::test]
    async fn a_job_that_fails_part_way_is_undone_alone() {
        let (_dir, db) = scratch().await;

        let failing = db.write(|tx| {
            Box::pin(async move {
                sqlx::query("INSERT INTO t (v) VALUES (1)").execute(&mut *tx).await?;
                sqlx::query("INSERT INTO no_such_table (v) VALUES (1)").execute(&mut *tx).await?;
                Ok(())
            })
        });
        let passing = db.write(|tx| {
            Box::pin(async move {
                sqlx::query("INSERT INTO t (v) VALUES (2)").execute(&mut *tx).await?;
                Ok(())
            })
        });
        let (failed, passed) = tokio::join!(failing, passing);

        assert!(failed.is_err());
        assert!(passed.is_ok());
        assert_eq!(values(&db).await, vec![2]);
    }

    #[tokio::test]
    async fn a_single_statement_that_fails_is_undone_alone_without_a_savepoint() {
        let (_dir, db) = scratch().await;
        sqlx::query("CREATE TABLE strict_t (v INTEGER NOT NULL)").execute(db.writer()).await.unwrap();

        // The second row breaks NOT NULL after the first was written: SQLite must undo the first.
        let failing = db.write_statement(|tx| {
            Box::pin(async move { sqlx::query("INSERT INTO strict_t (v) VALUES (1), (NULL)").execute(&mut *tx).await })
        });
        let passing = db.write_statement(|tx| {
            Box::pin(async move { sqlx::query("INSERT INTO strict_t (v) VALUES (2)").execute(&mut *tx).await })
        });
        let (failed, passed) = tokio::join!(failing, passing);

        assert!(failed.is_err());
        assert!(passed.is_ok());
        let kept: Vec<i64> = sqlx::query_scalar("SELECT v FROM strict_t").fetch_all(db.reader()).await.unwrap();
        assert_eq!(kept, vec![2]);
    }

    #[tokio::test]
    async fn each_job_sees_the_writes_before_it_and_its_result_comes_after_commit() {
        let (_dir, db) = scratch().await;
        let writes = (1..=20).map(|v| {
            db.write(move |tx| {
                Box::pin(async move {
                    sqlx::query("INSERT INTO t (v) VALUES (?)").bind(v).execute(&mut *tx).await?;
                    sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM t").fetch_one(&mut *tx).await
                })
            })
        });

        let mut seen: Vec<i64> = futures_util::future::join_all(writes).await.into_iter().map(Result::unwrap).collect();

        seen.sort_unstable();
        assert_eq!(seen, (1..=20).collect::<Vec<i64>>(), "each saw exactly the writes before it");
        assert_eq!(values(&db).await.len(), 20, "all committed by the time the callers heard");
    }

    #[tokio::test]
    async fn a_savepoints_journal_is_kept_in_memory_not_in_a_file() {
        let (_dir, db) = scratch().await;

        let writer: i64 = db
            .write(|tx| Box::pin(async move { sqlx::query_scalar("PRAGMA temp_store").fetch_one(&mut *tx).await }))
            .await
            .unwrap();
        let reader: i64 = sqlx::query_scalar("PRAGMA temp_store").fetch_one(db.reader()).await.unwrap();

        // 2 is MEMORY; 0, the default, puts a savepoint's journal past 64 KB in a file on disk.
        assert_eq!((writer, reader), (2, 2));
    }

    /// Writers that never pause for `run`, each inserting a page-sized row at a time; the WAL's
    /// largest size meanwhile, the bytes the rows hold, and the WAL's restarts timed.
    async fn writes_that_never_pause(restart_frames: i64, run: Duration) -> (u64, u64, u64) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let db = SqliteDatabase::open_with_wal_restart(&format!("sqlite://{}", path.display()), restart_frames)
            .await
            .unwrap();
        sqlx::query("CREATE TABLE pages (b BLOB NOT NULL)").execute(db.writer()).await.unwrap();
        let until = tokio::time::Instant::now() + run;
        let writers: Vec<_> = (0..8)
            .map(|_| {
                let db = db.clone();
                tokio::spawn(async move {
                    while tokio::time::Instant::now() < until {
                        db.write_statement(|tx| {
                            Box::pin(async move {
                                sqlx::query("INSERT INTO pages VALUES (randomblob(4000))").execute(&mut *tx).await
                            })
                        })
                        .await
                        .unwrap();
                    }
                })
            })
            .collect();
        let wal = dir.path().join("t.db-wal");
        let mut longest = 0;
        while !writers.iter().all(tokio::task::JoinHandle::is_finished) {
            longest = longest.max(std::fs::metadata(&wal).map_or(0, |wal| wal.len()));
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM pages").fetch_one(db.reader()).await.unwrap();
        (longest, u64::try_from(rows).unwrap() * 4000, observations(db.wal_restarts()))
    }

    /// How many values `histogram` has observed, read as Prometheus reads it.
    fn observations(histogram: &Histogram) -> u64 {
        let mut registry = prometheus_client::registry::Registry::default();
        registry.register("timed", "", histogram.clone());
        let mut text = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut text, &registry).unwrap();
        text.lines().find_map(|line| line.strip_prefix("timed_count ")).unwrap().parse().unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_wal_starts_over_even_while_writes_never_pause() {
        // 64 frames of 4 KB: the writer finishes a checkpoint after each background one.
        let (longest, written, restarts) = writes_that_never_pause(64, Duration::from_secs(3)).await;

        assert!(written > 8_000_000, "the writes were too slow to tell: {written} bytes");
        // Without starting over, the WAL holds every page written, and more.
        assert!(longest < written / 2, "the WAL reached {longest} bytes for {written} bytes written");
        // Each time, the writes waited: /metrics shows for how long.
        assert!(restarts >= 1, "no restart of the WAL was timed");
    }
}
