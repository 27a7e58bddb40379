//! PostgreSQL: a pool of connections shared by every request, and short transactions. Unlike
//! SQLite it takes many writers at once, so nothing here queues them: each state change is a
//! conditional statement that PostgreSQL's row locks make safe under concurrency, also between
//! instances.

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use prometheus_client::metrics::histogram::Histogram;
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

/// Connections per instance. Two cores serve more than this no faster, and PostgreSQL's default
/// of 100 connections leaves room for several instances.
const CONNECTIONS: u32 = 16;
/// How long a request waits for a free connection before it fails.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);
/// A connection idle this long is pinged before it is used again.
const PING_AFTER_IDLE: Duration = Duration::from_secs(1);

#[derive(Clone, Debug)]
pub struct PostgresDatabase {
    pool: PgPool,
    purge_chunks: Histogram,
}

impl PostgresDatabase {
    /// Connects and migrates. Instances starting at once are safe: sqlx holds a PostgreSQL
    /// advisory lock while it migrates, so one applies the migrations and the others wait, then
    /// find nothing left to do. Errors never show the URL, which may hold a password.
    pub async fn open(url: &str) -> anyhow::Result<Self> {
        let options = PgConnectOptions::from_str(url)
            .context("DATABASE_URL is not a PostgreSQL URL such as postgres://user:password@host/app")?;
        let pool = PgPoolOptions::new()
            .max_connections(CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            // sqlx pings every connection it hands out: a round trip before each request's
            // first statement. One used a moment ago is alive (and one that fails is closed when
            // it does), so only a connection that sat idle for a while is checked.
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for >= PING_AFTER_IDLE {
                        sqlx::Connection::ping(conn).await?;
                    }
                    Ok(true)
                })
            })
            .connect_with(options)
            .await
            .context("could not connect to the PostgreSQL database of DATABASE_URL")?;
        sqlx::migrate!("migrations/postgres").run(&pool).await.context("could not migrate the database")?;
        Ok(Self { pool, purge_chunks: Histogram::new(super::purge::CHUNK_SECONDS) })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// How long each chunk of a purge took in its transaction, in seconds.
    pub fn purge_chunks(&self) -> &Histogram {
        &self.purge_chunks
    }
}
