//! A fresh PostgreSQL database per test, on the server named by `VIEWING_TEST_POSTGRES_URL`.

use sqlx::Connection as _;

const ENV: &str = "VIEWING_TEST_POSTGRES_URL";

/// The admin URL, or `None` when PostgreSQL tests may be skipped here (never under `CI=true`).
pub fn admin_url() -> Option<String> {
    match std::env::var(ENV) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("{ENV} is not set and CI=true: the PostgreSQL black-box test must run in CI")
        }
        _ => {
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "\n*** PostgreSQL black-box test did NOT run: set {ENV}=postgres://USER@HOST:PORT/DB ***\n"
            );
            None
        }
    }
}

fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let start = base.find("://").map_or(0, |i| i + 3);
    let base = match base.get(start..).and_then(|rest| rest.find('/')) {
        Some(slash) => base.get(..start + slash).unwrap_or(base),
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{database}?{q}"),
        None => format!("{base}/{database}"),
    }
}

/// A database made for one test and dropped with it.
pub struct Database {
    pub url: String,
    admin_url: String,
    name: String,
}

impl Database {
    pub async fn create(admin_url: &str) -> Self {
        let name = format!("viewing_blackbox_{}", uuid::Uuid::new_v4().simple());
        let mut admin = sqlx::PgConnection::connect(admin_url)
            .await
            .unwrap_or_else(|e| panic!("{ENV}={admin_url} is set but cannot be reached: {e}"));
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("create database {name}: {e}"));
        let _ = admin.close().await;
        Self {
            url: with_database(admin_url, &name),
            admin_url: admin_url.to_owned(),
            name,
        }
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop may run inside the test's runtime, which must not be blocked: use a thread.
        let _ = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async {
                if let Ok(mut admin) = sqlx::PgConnection::connect(&admin_url).await {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                    )))
                    .execute(&mut admin)
                    .await;
                    let _ = admin.close().await;
                }
            });
        })
        .join();
    }
}

/// A server (the program `bin`) on a database of its own, dropped after it; `None` when
/// PostgreSQL tests may be skipped here (see [`admin_url`]).
pub async fn start_server(bin: &str) -> Option<(crate::Server, Database)> {
    let admin = admin_url()?;
    let db = Database::create(&admin).await;
    let server = crate::Server::start_with(
        bin,
        crate::Options {
            database_url: Some(db.url.clone()),
            ..crate::Options::default()
        },
    );
    Some((server, db))
}
