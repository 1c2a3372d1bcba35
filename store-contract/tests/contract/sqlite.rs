//! The contract suite on SQLite: a new database file per test. Plus what only SQLite has: a
//! database file shared by two stores (two processes), and a file that cannot be opened.
store_contract::contract_tests!(store_contract::backends::Sqlite);
store_contract::event_contract_tests!(store_contract::backends::Sqlite);

use std::sync::Arc;

use adapters_sqlite::SqliteStore;
use viewing_app::{UuidV7, ViewingService};
use viewing_domain::ports::{Begin, CatalogRepository, Store, StoreError, Transaction};
use viewing_domain::rules::movie::WatchMovie;
use viewing_domain::{RulesConfig, UserId};

/// Two stores on one file share nothing in-process (two gates, two pools): `BEGIN IMMEDIATE`
/// and the busy timeout alone must keep concurrent writers from losing updates or failing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_stores_on_one_file_serialise_writers() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}", dir.path().join("shared.db").display());
    let a = SqliteStore::connect(&url).await.expect("first store");
    let b = SqliteStore::connect(&url).await.expect("second store");
    let movie = store_contract::fixtures::movie("Rashomon", 88);
    let mut uow = a.begin().await.expect("begin");
    uow.upsert_movie(&movie).await.expect("movie");
    uow.commit().await.expect("commit");

    let user = UserId::from(uuid::Uuid::now_v7());
    let service = |store: SqliteStore| {
        ViewingService::with_parts(
            store,
            Arc::new(viewing_app::SystemClock),
            Arc::new(UuidV7),
            RulesConfig::default(),
        )
    };
    let (sa, sb) = (service(a), service(b));
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let svc = if i % 2 == 0 { sa.clone() } else { sb.clone() };
            tokio::spawn(
                async move { svc.watch_movie(user, movie.id, WatchMovie::default()).await },
            )
        })
        .collect();
    let mut firsts = 0;
    for t in tasks {
        let r = t
            .await
            .expect("task ran")
            .unwrap_or_else(|e| panic!("a watch failed: {e:?}"));
        firsts += usize::from(!r.is_rewatch);
    }
    assert_eq!(firsts, 1);
}

#[tokio::test]
async fn a_file_that_cannot_be_opened_is_unavailable() {
    let err = SqliteStore::connect("sqlite:///nonexistent-directory/for/sure/viewing.db")
        .await
        .expect_err("no such directory");
    assert!(matches!(err, StoreError::Unavailable(_)), "got {err:?}");
}

/// The file is created when missing, in WAL mode, with foreign keys enforced, fsync on every
/// commit (an acknowledged write survives `kill -9` and power loss) and a busy timeout.
#[tokio::test]
async fn the_database_is_created_in_wal_mode_with_foreign_keys() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("fresh.db");
    let store = SqliteStore::connect(&format!("sqlite://{}", path.display()))
        .await
        .expect("create the file");
    assert!(path.exists());
    let pragma = |sql: &'static str| {
        let pool = store.pool().clone();
        async move {
            let v: i64 = sqlx::query_scalar(sql)
                .fetch_one(&pool)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
            v
        }
    };
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(store.pool())
        .await
        .expect("journal mode");
    assert_eq!(mode, "wal");
    assert_eq!(pragma("PRAGMA foreign_keys").await, 1);
    assert_eq!(pragma("PRAGMA synchronous").await, 2, "FULL");
    assert!(pragma("PRAGMA busy_timeout").await >= 1_000);
    let tables: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' \
         AND name = 'ix_viewing_records_user_id_watch_date'",
    )
    .fetch_one(store.pool())
    .await
    .expect("schema");
    assert_eq!(tables, 1);
    // Connecting again to a migrated file changes nothing.
    drop(store);
    SqliteStore::connect(&format!("sqlite://{}", path.display()))
        .await
        .expect("reopen");
}

/// `sqlite::memory:` keeps one connection for the store's life, so the data stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_in_memory_database_keeps_its_data() {
    let store = SqliteStore::connect("sqlite::memory:")
        .await
        .expect("in-memory database");
    let movie = store_contract::fixtures::movie("Ikiru", 143);
    let mut uow = store.begin().await.expect("begin");
    uow.upsert_movie(&movie).await.expect("movie");
    uow.commit().await.expect("commit");
    store.ping().await.expect("ping");
    let mut uow = store.begin().await.expect("begin");
    assert_eq!(uow.movie(movie.id).await.expect("read"), Some(movie));
}
