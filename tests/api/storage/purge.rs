//! The background purge deletes in bounded chunks: it leaves exactly what is still needed, and
//! creates go through between its chunks instead of waiting for the whole of it.

use std::time::{Duration, Instant};

use mailbox::challenges::purge::{PurgeBefore, purge};
use mailbox::db::purge::{Chunking, Expired, delete_in_chunks};
use mailbox::db::{Database, on_backend};
use mailbox::settings::DEV_TENANCY_ID;
use prometheus_client::encoding::text::encode;
use prometheus_client::registry::Registry;

use super::Fixture;
use crate::support::postgres::Backend;
use crate::support::{Adapter, START_MS, TestService, request};

storage_contract!(
    a_purge_in_small_chunks_leaves_exactly_what_is_still_needed,
    creates_go_through_between_the_chunks_of_a_long_purge,
    a_purge_leaves_the_writer_to_other_writes_two_thirds_of_the_time,
);

const HOUR_MS: i64 = 3600 * 1000;
const DAY_MS: i64 = 24 * HOUR_MS;

/// `count` challenges of `tenancy`, named `{prefix}{n}`, expiring at `expires_at`, consumed at
/// `consumed_at` if given.
async fn seed_challenges(
    db: &Database,
    tenancy: &str,
    prefix: &str,
    count: i64,
    expires_at: i64,
    consumed_at: Option<i64>,
) {
    on_backend!(db.writer(), pool => sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < CAST($1 AS BIGINT))
         INSERT INTO challenges (id, tenancy_id, purpose, email, email_key, secret_hash, code_hash,
             created_at, expires_at, consumed_at)
         SELECT $2 || i, $3, 'login', $2 || i || '@example.com', $2 || i || '@example.com', $4, $4,
             CAST($5 AS BIGINT) - 600000, CAST($5 AS BIGINT), CAST($6 AS BIGINT)
         FROM n",
    )
    .bind(count)
    .bind(prefix)
    .bind(tenancy)
    .bind(vec![0u8; 32])
    .bind(expires_at)
    .bind(consumed_at)
    .execute(pool)
    .await
    .map(drop))
    .unwrap();
}

/// `count` rate-limit events at `at` in `table` (`challenge_creations` or `verification_failures`,
/// whose time column is `column`).
async fn seed_events(db: &Database, tenancy: &str, table: &str, column: &str, count: i64, at: i64) {
    let sql = format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < CAST($1 AS BIGINT))
         INSERT INTO {table} (tenancy_id, email_key, {column}) SELECT $2, 'someone@example.com', CAST($3 AS BIGINT) FROM n"
    );
    on_backend!(db.writer(), pool => sqlx::query(&sql).bind(count).bind(tenancy).bind(at).execute(pool).await.map(drop))
        .unwrap();
}

/// How many chunks the database's purge histogram has timed, read as Prometheus reads it.
fn chunks_timed(db: &Database) -> u64 {
    let mut registry = Registry::default();
    registry.register("purge_chunk_seconds", "", db.purge_chunk_seconds().clone());
    let mut text = String::new();
    encode(&mut text, &registry).unwrap();
    text.lines().find_map(|line| line.strip_prefix("purge_chunk_seconds_count ")).unwrap().parse().unwrap()
}

async fn count(db: &Database, sql: &str) -> i64 {
    db.scalar(sql).await.unwrap()
}

/// The tenancy `t`, for challenges of its own.
async fn tenancy_t(db: &Database) {
    on_backend!(db.writer(), pool => sqlx::query("INSERT INTO tenancies (id, api_key_hash, created_at) VALUES ('t', $1, 0)")
        .bind(vec![0u8; 32])
        .execute(pool)
        .await
        .map(drop))
    .unwrap();
}

async fn a_purge_in_small_chunks_leaves_exactly_what_is_still_needed(backend: Backend) {
    let f = Fixture::new(backend).await;
    let db = &f.db;
    tenancy_t(db).await;
    let before =
        PurgeBefore { challenges: START_MS - DAY_MS, creations: START_MS - HOUR_MS, failures: START_MS - HOUR_MS };
    seed_challenges(db, "t", "expired", 5_000, before.challenges - 1, None).await;
    // Not expired yet, but used long ago: only the consumed_at side finds these.
    seed_challenges(db, "t", "used", 150, START_MS + 600_000, Some(before.challenges - 1)).await;
    seed_challenges(db, "t", "fresh", 3, START_MS + 600_000, None).await;
    seed_challenges(db, "t", "used-recently", 2, START_MS + 600_000, Some(START_MS)).await;
    seed_events(db, "t", "challenge_creations", "created_at", 250, before.creations).await;
    seed_events(db, "t", "challenge_creations", "created_at", 4, before.creations + 1).await;
    seed_events(db, "t", "verification_failures", "failed_at", 250, before.failures).await;
    seed_events(db, "t", "verification_failures", "failed_at", 5, before.failures + 1).await;
    let chunks_before = chunks_timed(db);

    let report = purge(db, before, 100).await.unwrap();

    assert_eq!(report.rows, 5_150, "the expired and the long-used challenges");
    assert!(report.chunks >= 5_150 / 100 + 250 / 100 * 2, "chunks of at most 100 rows: {report:?}");
    assert!(!report.left_to_another);
    assert_eq!(chunks_timed(db) - chunks_before, u64::from(report.chunks), "each chunk was timed");
    let mut left: Vec<String> = on_backend!(db.reader(), pool => sqlx::query_scalar("SELECT id FROM challenges")
        .fetch_all(pool)
        .await
        .unwrap());
    left.sort();
    assert_eq!(left, ["fresh1", "fresh2", "fresh3", "used-recently1", "used-recently2"]);
    assert_eq!(count(db, "SELECT COUNT(*) FROM challenge_creations").await, 4, "those inside the window");
    assert_eq!(count(db, "SELECT COUNT(*) FROM verification_failures").await, 5, "those inside the window");
}

async fn creates_go_through_between_the_chunks_of_a_long_purge(backend: Backend) {
    const EXPIRED: i64 = 20_000;
    const ROWS_PER_CHUNK: u32 = 10;
    let t = TestService::start_on(backend, &[]).await;
    // Expired a minute ago: the app's own purge (a day's retention) leaves them to this one.
    seed_challenges(&t.db, DEV_TENANCY_ID, "expired", EXPIRED, START_MS - 60_000, None).await;
    let chunks_before = chunks_timed(&t.db);
    let before = PurgeBefore { challenges: START_MS, creations: START_MS - DAY_MS, failures: START_MS - DAY_MS };
    let db = t.db.clone();
    let purging = tokio::spawn(async move { purge(&db, before, ROWS_PER_CHUNK).await });
    while chunks_timed(&t.db) == chunks_before && !purging.is_finished() {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }

    let created = t.client(Adapter::InProcess).create(&request("during@example.com", "login")).await;

    let chunks_done = chunks_timed(&t.db) - chunks_before;
    assert!(created.is_ok(), "{created:?}");
    assert!(!purging.is_finished(), "the create waited for the whole purge ({chunks_done} chunks)");
    let all_chunks = u64::try_from(EXPIRED).unwrap() / u64::from(ROWS_PER_CHUNK);
    assert!(chunks_done < all_chunks, "the create went between chunks: {chunks_done} of {all_chunks} were done");
    let report = purging.await.unwrap().unwrap();
    assert_eq!(report.rows, u64::try_from(EXPIRED).unwrap());
    assert_eq!(count(&t.db, "SELECT COUNT(*) FROM challenges").await, 1, "only the one created meanwhile");
}

async fn a_purge_leaves_the_writer_to_other_writes_two_thirds_of_the_time(backend: Backend) {
    let f = Fixture::new(backend).await;
    let db = &f.db;
    tenancy_t(db).await;
    seed_challenges(db, "t", "expired", 4_000, START_MS - 1, None).await;
    let expired = Expired { table: "challenges", condition: "expires_at < $1", cutoff: START_MS };

    let started = Instant::now();
    let report = delete_in_chunks(db, expired, Chunking { rows: 200, lock: None }).await.unwrap();
    let took = started.elapsed();

    assert_eq!((report.rows, report.chunks), (4_000, 21), "20 full chunks, then an empty one");
    // After each chunk but the last, it waited twice as long as the chunk held the writer.
    assert!(took >= 3 * report.held - 2 * report.longest, "{took:?} for {report:?}");
}
