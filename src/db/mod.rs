//! The database: one SQLite file (the embedded default) or PostgreSQL (for several instances),
//! chosen by the scheme of `DATABASE_URL`.
//!
//! Stores write each statement once where the two dialects agree (both take `$1` placeholders)
//! and side by side where they do not, with [`on_backend!`] running it on either. Writes that
//! belong together go through [`Database::write`]: on SQLite the group commit of the one writer,
//! on PostgreSQL a short transaction of its own on the pool.

mod postgres;
pub mod purge;
mod sqlite;

use futures_util::future::BoxFuture;
use prometheus_client::metrics::histogram::Histogram;
use sqlx::{PgConnection, PgPool, Postgres, Sqlite, SqliteConnection, SqlitePool, Transaction};

pub use self::postgres::PostgresDatabase;
pub use self::sqlite::SqliteDatabase;

/// One value per backend: a connection, a pool, a transaction.
#[derive(Debug)]
pub enum Dialect<S, P> {
    Sqlite(S),
    Postgres(P),
}

/// A connection inside a write, for statements that must commit together.
pub type Conn<'c> = Dialect<&'c mut SqliteConnection, &'c mut PgConnection>;

/// A pool, for statements that stand alone.
pub type Pool<'p> = Dialect<&'p SqlitePool, &'p PgPool>;

impl Conn<'_> {
    /// The same connection for one more statement.
    pub fn reborrow(&mut self) -> Conn<'_> {
        match self {
            Dialect::Sqlite(conn) => Dialect::Sqlite(&mut **conn),
            Dialect::Postgres(conn) => Dialect::Postgres(&mut **conn),
        }
    }
}

/// Runs `$body` with `$exec` bound to the backend's own executor (a pool or a connection of
/// [`Dialect`]), so that one statement is written once and compiled for both. The second form
/// binds `$sql` to the text of the backend's dialect, for the statements where they differ.
#[doc(hidden)]
#[macro_export]
macro_rules! __on_backend {
    ($handle:expr, $exec:ident => $body:expr) => {
        match $handle {
            $crate::db::Dialect::Sqlite($exec) => $body,
            $crate::db::Dialect::Postgres($exec) => $body,
        }
    };
    ($handle:expr, $exec:ident, $sql:ident = { sqlite: $sqlite:expr, postgres: $postgres:expr $(,)? } =>
        $body:expr) => {
        match $handle {
            $crate::db::Dialect::Sqlite($exec) => {
                let $sql = $sqlite;
                $body
            }
            $crate::db::Dialect::Postgres($exec) => {
                let $sql = $postgres;
                $body
            }
        }
    };
}
pub use __on_backend as on_backend;

/// A write transaction begun by [`Database::begin_write`].
pub type WriteTx = Dialect<Transaction<'static, Sqlite>, Transaction<'static, Postgres>>;

impl WriteTx {
    pub fn conn(&mut self) -> Conn<'_> {
        match self {
            Dialect::Sqlite(tx) => Dialect::Sqlite(&mut **tx),
            Dialect::Postgres(tx) => Dialect::Postgres(&mut **tx),
        }
    }

    pub async fn commit(self) -> sqlx::Result<()> {
        match self {
            Dialect::Sqlite(tx) => tx.commit().await,
            Dialect::Postgres(tx) => tx.commit().await,
        }
    }
}

#[derive(Clone, Debug)]
pub enum Database {
    Sqlite(SqliteDatabase),
    Postgres(PostgresDatabase),
}

/// What `DATABASE_URL` may name.
pub const URL_FORMS: &str =
    "a SQLite URL such as sqlite://data/app.db, or a PostgreSQL URL such as postgres://user:password@host/app";

/// Whether `url` names a database this build can open.
pub fn is_supported_url(url: &str) -> bool {
    ["sqlite:", "postgres://", "postgresql://"].iter().any(|scheme| url.starts_with(scheme))
}

/// Which database `url` names, for a person to read: the SQLite file, or the PostgreSQL server
/// and database, never a password.
pub fn describe(url: &str) -> String {
    if url.starts_with("sqlite:") {
        return format!("SQLite {}", url.trim_start_matches("sqlite:").trim_start_matches("//"));
    }
    match url.parse::<sqlx::postgres::PgConnectOptions>() {
        Ok(options) => {
            let database = options.get_database().unwrap_or("(the user's database)");
            format!("PostgreSQL {}:{}/{database}", options.get_host(), options.get_port())
        }
        Err(_) => "an unreadable DATABASE_URL".to_owned(),
    }
}

impl Database {
    /// Opens and migrates the database `url` names: SQLite (creating the file and its folder if
    /// missing) or PostgreSQL.
    pub async fn open(url: &str) -> anyhow::Result<Self> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite(SqliteDatabase::open(url).await?))
        } else if is_supported_url(url) {
            Ok(Self::Postgres(PostgresDatabase::open(url).await?))
        } else {
            anyhow::bail!("DATABASE_URL is not {URL_FORMS}")
        }
    }

    /// For statements that only read. On SQLite a pool of read-only connections.
    pub fn reader(&self) -> Pool<'_> {
        match self {
            Self::Sqlite(db) => Dialect::Sqlite(db.reader()),
            Self::Postgres(db) => Dialect::Postgres(db.pool()),
        }
    }

    /// For single statements that write. On SQLite the one writer connection.
    pub fn writer(&self) -> Pool<'_> {
        match self {
            Self::Sqlite(db) => Dialect::Sqlite(db.writer()),
            Self::Postgres(db) => Dialect::Postgres(db.pool()),
        }
    }

    /// A write transaction; on SQLite it holds the write lock from its first statement.
    pub async fn begin_write(&self) -> sqlx::Result<WriteTx> {
        Ok(match self {
            Self::Sqlite(db) => Dialect::Sqlite(db.begin_write().await?),
            Self::Postgres(db) => Dialect::Postgres(db.pool().begin().await?),
        })
    }

    /// Runs `work` in a transaction and returns its result once that committed; a job's own
    /// error undoes what it wrote and is returned as it is. On SQLite the transaction is the
    /// writer's next group commit, shared with the writes waiting beside it.
    pub async fn write<T, F>(&self, work: F) -> sqlx::Result<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(Conn<'c>) -> BoxFuture<'c, sqlx::Result<T>> + Send + 'static,
    {
        match self {
            Self::Sqlite(db) => db.write(move |conn| work(Dialect::Sqlite(conn))).await,
            Self::Postgres(db) => {
                let mut tx = db.pool().begin().await?;
                let value = work(Dialect::Postgres(&mut *tx)).await?;
                tx.commit().await?;
                Ok(value)
            }
        }
    }

    /// Runs `work`, a write of one statement, which is atomic on its own: on SQLite in the group
    /// commit like [`write`](Self::write) but with no savepoint around it; on PostgreSQL with no
    /// transaction around it. Either way one round trip instead of three.
    pub async fn write_statement<T, F>(&self, work: F) -> sqlx::Result<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(Conn<'c>) -> BoxFuture<'c, sqlx::Result<T>> + Send + 'static,
    {
        match self {
            Self::Sqlite(db) => db.write_statement(move |conn| work(Dialect::Sqlite(conn))).await,
            Self::Postgres(db) => work(Dialect::Postgres(&mut *db.pool().acquire().await?)).await,
        }
    }

    /// How many writes each group commit held; SQLite only, PostgreSQL has no group commit.
    pub fn group_commit_batch_sizes(&self) -> Option<&Histogram> {
        match self {
            Self::Sqlite(db) => Some(db.batch_sizes()),
            Self::Postgres(_) => None,
        }
    }

    /// How long writes waited, each time, for the WAL to start over; SQLite only.
    pub fn sqlite_wal_restart_seconds(&self) -> Option<&Histogram> {
        match self {
            Self::Sqlite(db) => Some(db.wal_restarts()),
            Self::Postgres(_) => None,
        }
    }

    /// How long each chunk of a purge held the writer (on PostgreSQL, took in its transaction),
    /// in seconds; see [`purge`].
    pub fn purge_chunk_seconds(&self) -> &Histogram {
        match self {
            Self::Sqlite(db) => db.purge_chunks(),
            Self::Postgres(db) => db.purge_chunks(),
        }
    }

    /// For a clean stop: commits what is queued (and on SQLite checkpoints the WAL into the
    /// database file), then closes every connection.
    pub async fn close(&self) -> sqlx::Result<()> {
        match self {
            Self::Sqlite(db) => db.close().await,
            Self::Postgres(db) => {
                db.pool().close().await;
                Ok(())
            }
        }
    }

    /// Runs one statement without parameters and returns the rows it changed; for tools and tests.
    pub async fn execute(&self, sql: &str) -> sqlx::Result<u64> {
        on_backend!(self.writer(), pool => Ok(sqlx::query(sql).execute(pool).await?.rows_affected()))
    }

    /// The single integer a query without parameters returns, such as a `COUNT(*)`; for tools
    /// and tests.
    pub async fn scalar(&self, sql: &str) -> sqlx::Result<i64> {
        on_backend!(self.reader(), pool => sqlx::query_scalar(sql).fetch_one(pool).await)
    }
}

#[cfg(test)]
mod tests {
    use super::describe;

    #[test]
    fn a_description_names_the_database_and_never_the_password() {
        assert_eq!(describe("sqlite://data/app.db"), "SQLite data/app.db");
        assert_eq!(describe("postgres://app:hunter2@db.example.com:5433/mail"), "PostgreSQL db.example.com:5433/mail");
        assert!(!describe("postgresql://app:hunter2@db.example.com/mail?sslmode=require").contains("hunter2"));
    }
}
