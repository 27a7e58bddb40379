//! The throwaway PostgreSQL server: every test gets its own empty database.

use sqlx::{Connection, PgConnection};

use crate::support::postgres::{self, Backend};

#[tokio::test]
async fn fresh_databases_are_separate_and_usable() {
    if !postgres::available() {
        return;
    }
    let urls = [postgres::fresh_database().await.unwrap(), postgres::fresh_database().await.unwrap()];
    assert_ne!(urls[0], urls[1]);
    // The table made in the first database must be absent from the second.
    for url in &urls {
        let mut conn = PgConnection::connect(url).await.expect("connect to a fresh database");
        let missing = sqlx::query("SELECT v FROM t").fetch_all(&mut conn).await.unwrap_err();
        let code = missing.as_database_error().and_then(|e| e.code());
        assert_eq!(code.as_deref(), Some("42P01"), "{url} starts without tables: {missing}");
        sqlx::query("CREATE TABLE t (v TEXT)").execute(&mut conn).await.unwrap();
        sqlx::query("INSERT INTO t VALUES ($1)").bind(url).execute(&mut conn).await.unwrap();
        let stored: String = sqlx::query_scalar("SELECT v FROM t").fetch_one(&mut conn).await.unwrap();
        assert_eq!(&stored, url);
    }
}

#[tokio::test]
async fn each_backend_gives_a_url() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Backend::Sqlite.database_url(&dir).await.unwrap();
    assert_eq!(sqlite, format!("sqlite://{}", dir.path().join("test.db").display()));
    let pg_url = Backend::Postgres.database_url(&dir).await;
    assert_eq!(pg_url.is_some(), postgres::available());
    assert!(pg_url.is_none_or(|url| url.starts_with("postgres://postgres@127.0.0.1:")));
}
