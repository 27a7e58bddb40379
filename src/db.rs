//! The SQLite database: one writer connection and a pool of readers over one file.
//!
//! SQLite allows one writer at a time, and a deferred transaction that reads and then writes
//! can fail with `SQLITE_BUSY` whatever the busy timeout, so every write goes through the single
//! writer connection and write transactions start with `BEGIN IMMEDIATE`.

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};

const READERS: u32 = 4;

#[derive(Clone, Debug)]
pub struct Database {
    reader: SqlitePool,
    writer: SqlitePool,
}

impl Database {
    /// Opens (creating the file and its folder if missing) and migrates the database.
    pub async fn open(url: &str) -> anyhow::Result<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .with_context(|| format!("DATABASE_URL {url:?} is not a SQLite URL such as sqlite://data/app.db"))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        if let Some(folder) = options.get_filename().parent()
            && !folder.as_os_str().is_empty()
        {
            std::fs::create_dir_all(folder)
                .with_context(|| format!("could not create the database folder {}", folder.display()))?;
        }
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await
            .with_context(|| format!("could not open the database {url}"))?;
        sqlx::migrate!().run(&writer).await.context("could not migrate the database")?;
        let reader = SqlitePoolOptions::new()
            .max_connections(READERS)
            .connect_with(options.read_only(true))
            .await
            .with_context(|| format!("could not open the database {url} for reading"))?;
        Ok(Self { reader, writer })
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
