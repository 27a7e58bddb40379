//! The challenge service's purge: challenges past retention and rate-limit events past their
//! windows, deleted in bounded chunks (see [`crate::db::purge`]) so that creates and verifies
//! go on between them. On PostgreSQL one instance purges at a time.

use crate::db::Database;
use crate::db::purge::{Chunking, Expired, PurgeReport, delete_each_in_chunks};

/// Cut-offs (epoch ms) before which rows are no longer needed.
pub struct PurgeBefore {
    pub challenges: i64,
    pub creations: i64,
    pub failures: i64,
}

/// A key of PostgreSQL's advisory locks that only the purge takes.
pub const PURGE_LOCK: i64 = 0x6d61_696c_626f_7801;

/// Removes expired and consumed challenges past retention and rate-limit events past their
/// windows, `rows_per_chunk` at a time. Every chunk on PostgreSQL takes [`PURGE_LOCK`] for its
/// transaction: an instance that finds another purging leaves the rest to it. The report's rows
/// are the challenges that went.
pub async fn purge(db: &Database, before: PurgeBefore, rows_per_chunk: u32) -> sqlx::Result<PurgeReport> {
    let chunking = Chunking { rows: rows_per_chunk, lock: Some(PURGE_LOCK) };
    // Expired and consumed apart, each on its own index; the consumed ones are mostly expired
    // by then, and the second pass finds the rest.
    let challenges = [
        Expired { table: "challenges", condition: "expires_at < $1", cutoff: before.challenges },
        Expired { table: "challenges", condition: "consumed_at < $1", cutoff: before.challenges },
    ];
    let events = [
        Expired { table: "challenge_creations", condition: "created_at <= $1", cutoff: before.creations },
        Expired { table: "verification_failures", condition: "failed_at <= $1", cutoff: before.failures },
    ];
    let challenges = delete_each_in_chunks(db, &challenges, chunking).await?;
    if challenges.left_to_another {
        return Ok(challenges);
    }
    let events = delete_each_in_chunks(db, &events, chunking).await?;
    Ok(PurgeReport { rows: challenges.rows, ..challenges.then(events) })
}
