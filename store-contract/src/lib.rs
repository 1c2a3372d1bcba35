//! One contract suite for every store: the same generic test functions run against memory,
//! SQLite and PostgreSQL (`tests/contract/memory.rs`, `sqlite.rs`, `postgres.rs`: one test binary).
//!
//! Each function takes a fresh, empty store and panics when the store breaks the contract the
//! ports document. The [`contract_tests!`] macro turns the whole list into one `#[tokio::test]`
//! per function for a [`TestBackend`], so a backend cannot silently skip a function.
//!
//! PostgreSQL runs against `VIEWING_TEST_POSTGRES_URL` (an admin connection, e.g.
//! `postgres://postgres@127.0.0.1:5432/postgres`); each test gets its own uuid-named database,
//! dropped afterwards. Without that variable the PostgreSQL tests say so and pass, except under
//! `CI=true`, where they fail.
#![forbid(unsafe_code)]

pub mod backends;
pub mod fixtures;

mod batch_writes;
mod batches;
mod caches;
mod catalog;
mod concurrency;
mod dead_letters;
mod events;
mod history;
mod idempotency;
mod imports;
mod integrations;
mod playbacks;
mod progress;
mod records;
mod unit_of_work;
mod use_cases;

use async_trait::async_trait;
use viewing_domain::ports::Store;
use viewing_domain::{EventEnvelope, EventId};

pub use batch_writes::*;
pub use batches::*;
pub use caches::*;
pub use catalog::*;
pub use concurrency::*;
pub use dead_letters::*;
pub use events::*;
pub use history::*;
pub use idempotency::*;
pub use imports::*;
pub use integrations::*;
pub use playbacks::*;
pub use progress::*;
pub use records::*;
pub use unit_of_work::*;
pub use use_cases::*;

/// What the suite needs to see beyond the ports: the outbox as a relay would read it.
#[async_trait]
pub trait Probe: Store {
    /// Every event appended and committed so far, in append order.
    async fn outbox_events(&self) -> Vec<EventEnvelope>;

    /// Overwrites the stored payload of `event` with `text`, as a bug, an older or newer build
    /// or a hand edit could leave it (the event's other columns are kept).
    async fn replace_outbox_payload(&self, event: EventId, text: &str);

    /// Clears every stored title key, as a database written before title search has them, then
    /// migrates again (what opening it does). Nothing for a store that keeps no keys.
    async fn forget_title_keys_and_migrate(&self);
}

/// A fresh, empty store for one test, cleaned up when dropped.
#[async_trait]
pub trait TestBackend: Sized + Send {
    type Store: Store + Probe;

    /// `None` when the backend is not available here and that is allowed (the test then passes
    /// after saying so on stderr).
    async fn open() -> Option<Self>;

    fn store(&self) -> Self::Store;
}

/// One `#[tokio::test]` per contract function for `$backend` (a [`TestBackend`]).
#[macro_export]
macro_rules! contract_tests {
    ($backend:ty) => {
        $crate::contract_tests!(@each $backend;
            catalog_movie_round_trip,
            catalog_show_tree_round_trip,
            catalog_show_replace_tree,
            catalog_show_ids_of_another_show_conflict,
            catalog_external_ids,
            catalog_bulk_rows,
            catalog_title_search,
            imports_round_trip,
            import_source_keys,
            playbacks_round_trip,
            integrations_and_inbox,
            catalog_titles,
            user_ensure_is_idempotent,
            record_movie_round_trip,
            record_episode_round_trip,
            record_of_another_user_is_none,
            record_duplicate_id_conflicts,
            record_counts,
            record_episode_records_of_show,
            record_episode_records_of_shows,
            record_set_binge_session,
            history_newest_first_with_ties,
            history_filters,
            history_page_paging,
            history_keyset_paging,
            history_keyset_is_stable_under_inserts,
            progress_round_trip,
            progress_of_user_most_recent_first,
            progress_idle,
            binge_sessions_crud,
            abandon_round_trip_and_queries,
            abandon_latest_of_items,
            outbox_append_in_order,
            idempotency_claim_complete_release,
            idempotency_expiry,
            idempotency_concurrent_claims,
            uow_drop_rolls_back_everything,
            uow_commit_makes_writes_visible,
            app_order_check_rejects_and_writes_nothing,
            app_rewatch_leaves_progress,
            app_season_completed_once,
            app_binge_session_on_second_episode,
            app_progress_numbers,
            app_movie_rewatch_and_history,
            app_abandon_show,
            concurrent_episode_watches,
            concurrent_movie_watches,
            cache_catalog_change_is_seen_by_every_replica,
            cache_user_revision_rises_with_every_viewing_write,
            cache_progress_never_older_than_the_last_write,
            cache_handlers_see_every_new_watch,
            cache_version_rises_with_every_catalog_write,
        );
    };
    (@each $backend:ty; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let Some(backend) = <$backend as $crate::TestBackend>::open().await else {
                    return;
                };
                $crate::$name($crate::TestBackend::store(&backend)).await;
            }
        )*
    };
}
