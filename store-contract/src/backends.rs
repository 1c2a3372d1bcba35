//! The stores under test, each fresh and empty per test.

use adapters_memory::MemoryStore;
use adapters_sqlite::SqliteStore;
use async_trait::async_trait;
use viewing_domain::{EventEnvelope, EventId};

use crate::{Probe, TestBackend};

#[async_trait]
impl Probe for MemoryStore {
    async fn outbox_events(&self) -> Vec<EventEnvelope> {
        MemoryStore::outbox_events(self).await
    }

    async fn replace_outbox_payload(&self, event: EventId, text: &str) {
        assert!(
            MemoryStore::replace_outbox_payload(self, event, text).await,
            "event {event} is not in the outbox"
        );
    }

    async fn forget_title_keys_and_migrate(&self) {}
}

#[async_trait]
impl Probe for SqliteStore {
    async fn outbox_events(&self) -> Vec<EventEnvelope> {
        SqliteStore::outbox_events(self)
            .await
            .expect("read the SQLite outbox")
    }

    async fn replace_outbox_payload(&self, event: EventId, text: &str) {
        let done = sqlx::query("UPDATE outbox SET payload = ? WHERE event_id = ?")
            .bind(text)
            .bind(event.to_string())
            .execute(self.pool())
            .await
            .expect("overwrite a SQLite outbox payload");
        assert_eq!(
            done.rows_affected(),
            1,
            "event {event} is not in the outbox"
        );
    }

    async fn forget_title_keys_and_migrate(&self) {
        for sql in [
            "UPDATE movies SET title_key = NULL",
            "UPDATE shows SET title_key = NULL",
        ] {
            sqlx::query(sql)
                .execute(self.pool())
                .await
                .expect("forget title keys");
        }
        self.migrate().await.expect("migrate");
    }
}

/// The in-memory store.
pub struct Memory(MemoryStore);

#[async_trait]
impl TestBackend for Memory {
    type Store = MemoryStore;

    async fn open() -> Option<Self> {
        Some(Memory(MemoryStore::new()))
    }

    fn store(&self) -> MemoryStore {
        self.0.clone()
    }
}

/// A SQLite database in a new temporary directory, deleted with it.
pub struct Sqlite {
    store: SqliteStore,
    _dir: tempfile::TempDir,
}

#[async_trait]
impl TestBackend for Sqlite {
    type Store = SqliteStore;

    async fn open() -> Option<Self> {
        let dir = tempfile::tempdir().expect("create a temporary directory");
        let path = dir.path().join("viewing.db");
        let url = format!("sqlite://{}", path.display());
        let store = SqliteStore::connect(&url)
            .await
            .unwrap_or_else(|e| panic!("open {url}: {e}"));
        Some(Sqlite { store, _dir: dir })
    }

    fn store(&self) -> SqliteStore {
        self.store.clone()
    }
}

pub use postgres::{Postgres, postgres_admin_url};

mod postgres {
    //! A uuid-named database per test, created through the admin URL and dropped afterwards.

    use adapters_postgres::PgStore;
    use sqlx::Connection;

    use super::*;

    /// The variable that names the PostgreSQL server the suite runs against.
    pub const ENV: &str = "VIEWING_TEST_POSTGRES_URL";

    #[async_trait]
    impl Probe for PgStore {
        async fn outbox_events(&self) -> Vec<EventEnvelope> {
            PgStore::outbox_events(self)
                .await
                .expect("read the PostgreSQL outbox")
        }

        async fn replace_outbox_payload(&self, event: EventId, text: &str) {
            let done = sqlx::query("UPDATE outbox SET payload = $1 WHERE event_id = $2")
                .bind(text)
                .bind(event.as_uuid())
                .execute(self.pool())
                .await
                .expect("overwrite a PostgreSQL outbox payload");
            assert_eq!(
                done.rows_affected(),
                1,
                "event {event} is not in the outbox"
            );
        }

        async fn forget_title_keys_and_migrate(&self) {
            for sql in [
                "UPDATE movies SET title_key = NULL",
                "UPDATE shows SET title_key = NULL",
            ] {
                sqlx::query(sql)
                    .execute(self.pool())
                    .await
                    .expect("forget title keys");
            }
            self.migrate().await.expect("migrate");
        }
    }

    /// The admin URL from `VIEWING_TEST_POSTGRES_URL`, or `None` when the suite may be skipped
    /// here. Under `CI=true` a missing variable is a failure: CI must never skip PostgreSQL.
    pub fn postgres_admin_url() -> Option<String> {
        match std::env::var(ENV) {
            Ok(url) if !url.trim().is_empty() => Some(url),
            _ if std::env::var("CI").is_ok_and(|v| v == "true") => panic!(
                "{ENV} is not set and CI=true: the PostgreSQL contract suite must run in CI \
                 (e.g. {ENV}=postgres://postgres@127.0.0.1:5432/postgres)"
            ),
            _ => {
                // Once per test binary, straight to stderr: libtest captures `eprintln!` of
                // passing tests, and this must be seen.
                static SAID: std::sync::Once = std::sync::Once::new();
                SAID.call_once(|| {
                    use std::io::Write;
                    let _ = writeln!(
                        std::io::stderr(),
                        "\n*** PostgreSQL suite did NOT run: set \
                         {ENV}=postgres://USER@HOST:PORT/DB (an account that may CREATE \
                         DATABASE) to run it ***\n"
                    );
                });
                None
            }
        }
    }

    /// `url` with its database name replaced by `database`.
    fn with_database(url: &str, database: &str) -> String {
        let (base, query) = match url.split_once('?') {
            Some((b, q)) => (b, Some(q)),
            None => (url, None),
        };
        let authority_start = base.find("://").map_or(0, |i| i + 3);
        let base = match base[authority_start..].find('/') {
            Some(slash) => &base[..authority_start + slash],
            None => base,
        };
        match query {
            Some(q) => format!("{base}/{database}?{q}"),
            None => format!("{base}/{database}"),
        }
    }

    /// A fresh database on the server of `VIEWING_TEST_POSTGRES_URL`, dropped on drop (even
    /// when the test panicked).
    pub struct Postgres {
        store: PgStore,
        admin_url: String,
        database: String,
    }

    #[async_trait]
    impl TestBackend for Postgres {
        type Store = PgStore;

        async fn open() -> Option<Self> {
            let admin_url = postgres_admin_url()?;
            let database = format!("viewing_test_{}", uuid::Uuid::new_v4().simple());
            let mut admin = sqlx::PgConnection::connect(&admin_url)
                .await
                .unwrap_or_else(|e| {
                    panic!("{ENV}={admin_url} is set but PostgreSQL cannot be reached: {e}")
                });
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "CREATE DATABASE \"{database}\""
            )))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("create test database {database}: {e}"));
            let _ = admin.close().await;
            let url = with_database(&admin_url, &database);
            let store = PgStore::connect(&url)
                .await
                .unwrap_or_else(|e| panic!("connect to {url}: {e}"));
            Some(Postgres {
                store,
                admin_url,
                database,
            })
        }

        fn store(&self) -> PgStore {
            self.store.clone()
        }
    }

    impl Postgres {
        /// The test database's URL, to open more stores (separate pools, like replicas) on it.
        pub fn url(&self) -> String {
            with_database(&self.admin_url, &self.database)
        }
    }

    impl Drop for Postgres {
        fn drop(&mut self) {
            let (admin_url, database) = (self.admin_url.clone(), self.database.clone());
            // Drop runs inside the test's runtime, which cannot be blocked on: a thread with
            // a runtime of its own drops the database (FORCE ends the pool's connections).
            let dropped = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| e.to_string())?;
                runtime.block_on(async {
                    let mut admin = sqlx::PgConnection::connect(&admin_url)
                        .await
                        .map_err(|e| e.to_string())?;
                    sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)"
                    )))
                    .execute(&mut admin)
                    .await
                    .map_err(|e| e.to_string())?;
                    let _ = admin.close().await;
                    Ok::<(), String>(())
                })
            })
            .join();
            if let Ok(Err(e)) | Err(e) = dropped.map_err(|_| "panicked".to_owned()) {
                eprintln!("could not drop test database {}: {e}", self.database);
            }
        }
    }

    #[cfg(test)]
    mod tests {
        use super::with_database;

        #[test]
        fn database_name_is_replaced() {
            assert_eq!(
                with_database("postgres://postgres@127.0.0.1:5432/postgres", "t1"),
                "postgres://postgres@127.0.0.1:5432/t1"
            );
            assert_eq!(
                with_database("postgres://u:p@h/db?sslmode=disable", "t2"),
                "postgres://u:p@h/t2?sslmode=disable"
            );
            assert_eq!(
                with_database("postgres://h:5432", "t3"),
                "postgres://h:5432/t3"
            );
        }
    }
}
