//! The stores under test, each fresh and empty per test.

use adapters_memory::MemoryStore;
use adapters_sqlite::SqliteStore;
use async_trait::async_trait;
use viewing_domain::EventEnvelope;

use crate::{Probe, TestBackend};

#[async_trait]
impl Probe for MemoryStore {
    async fn outbox_events(&self) -> Vec<EventEnvelope> {
        MemoryStore::outbox_events(self).await
    }
}

#[async_trait]
impl Probe for SqliteStore {
    async fn outbox_events(&self) -> Vec<EventEnvelope> {
        SqliteStore::outbox_events(self)
            .await
            .expect("read the SQLite outbox")
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

pub use postgres::Postgres;

mod postgres {
    //! Filled in with the PostgreSQL adapter.
    use super::*;

    /// Placeholder until the PostgreSQL store exists.
    pub struct Postgres(MemoryStore);

    #[async_trait]
    impl TestBackend for Postgres {
        type Store = MemoryStore;

        async fn open() -> Option<Self> {
            None
        }

        fn store(&self) -> MemoryStore {
            self.0.clone()
        }
    }
}
