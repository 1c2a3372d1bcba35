//! The in-memory store and its unit of work.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::{Mutex, OwnedMutexGuard};
use viewing_domain::idempotency::{IdempotencyKey, KeyRow};
use viewing_domain::imports::{Import, ImportItem, ImportLink};
use viewing_domain::ports::*;
use viewing_domain::{
    AbandonRecord, BingeSession, BingeSessionId, EpisodeId, EventEnvelope, ImportId, Movie,
    MovieId, SeasonId, Show, ShowId, ShowProgress, UserId, ViewingRecord,
};

#[derive(Debug, Clone, Default)]
pub(crate) struct State {
    /// Each user and their revision ([`viewing_domain::ports::UserRepository::user_revision`]).
    pub(crate) users: HashMap<UserId, i64>,
    pub(crate) movies: HashMap<MovieId, Movie>,
    pub(crate) shows: HashMap<ShowId, Show>,
    pub(crate) season_owner: HashMap<SeasonId, ShowId>,
    pub(crate) episode_owner: HashMap<EpisodeId, ShowId>,
    pub(crate) records: Vec<ViewingRecord>,
    pub(crate) progress: HashMap<(UserId, ShowId), ShowProgress>,
    pub(crate) sessions: HashMap<BingeSessionId, BingeSession>,
    pub(crate) abandons: Vec<AbandonRecord>,
    pub(crate) outbox: Vec<EventEnvelope>,
    pub(crate) idempotency: HashMap<(UserId, IdempotencyKey), KeyRow>,
    /// Raised by every catalog upsert.
    pub(crate) catalog_version: i64,
    /// Imports (SPEC §12), in the order they were made.
    pub(crate) imports: Vec<Import>,
    pub(crate) import_items: HashMap<ImportId, Vec<ImportItem>>,
    /// `(user, source key)` → the import and what it made, in the order made.
    pub(crate) import_links: Vec<(UserId, String, ImportId, ImportLink)>,
    /// Players' playbacks, one per user and item.
    pub(crate) playbacks: Vec<viewing_domain::rules::playback::Playback>,
    /// Media servers' integrations, in the order made.
    pub(crate) integrations: Vec<viewing_domain::integrations::Integration>,
    /// Their deliveries, in the order received.
    pub(crate) deliveries: Vec<viewing_domain::integrations::Delivery>,
}

/// Everything behind the store's lock: the record state (copied per unit of work) and the
/// event side (changed in place, undone through a journal; see `crate::events`).
#[derive(Debug, Default)]
pub(crate) struct Shared {
    pub(crate) state: State,
    pub(crate) events: crate::events::EventState,
}

impl Shared {
    pub(crate) fn outbox(&self) -> &[EventEnvelope] {
        &self.state.outbox
    }

    pub(crate) fn split(&mut self) -> (&[EventEnvelope], &mut crate::events::EventState) {
        (&self.state.outbox, &mut self.events)
    }
}

/// How long a call waits for the store's lock by default ([`MemoryStore::with_lock_wait`]).
pub const DEFAULT_LOCK_WAIT: Duration = Duration::from_secs(5);

/// The in-memory store. Clones share the same data.
///
/// A unit of work holds the store's only lock until it is committed or dropped, so every other
/// call waits for it. A call that waits longer than the lock wait (5 s by default) fails with
/// [`StoreError::Unavailable`] instead of hanging: a unit of work left open (by the same task,
/// say) shows up as an error naming the cause. Waiting needs a Tokio runtime with its timer
/// enabled (`#[tokio::main]` and `#[tokio::test]` have one); an uncontended call needs none.
#[derive(Debug, Clone)]
pub struct MemoryStore {
    pub(crate) state: Arc<Mutex<Shared>>,
    pub(crate) lock_wait: Duration,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self {
            state: Arc::default(),
            lock_wait: DEFAULT_LOCK_WAIT,
        }
    }
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// The same store (clones share data) with another lock wait.
    pub fn with_lock_wait(mut self, wait: Duration) -> Self {
        self.lock_wait = wait;
        self
    }

    /// The store's lock, or `Unavailable` after the lock wait. An uncontended lock is taken
    /// at once, without a timer.
    pub(crate) async fn lock(&self) -> StoreResult<OwnedMutexGuard<Shared>> {
        if let Ok(guard) = self.state.clone().try_lock_owned() {
            return Ok(guard);
        }
        tokio::time::timeout(self.lock_wait, self.state.clone().lock_owned())
            .await
            .map_err(|_| {
                StoreError::Unavailable(
                    format!(
                        "the memory store stayed locked for {} ms: a unit of work is still \
                         open (commit or drop it before the next call)",
                        self.lock_wait.as_millis()
                    )
                    .into(),
                )
            })
    }

    /// Every event appended so far, in order (what a relay would deliver).
    pub async fn outbox_events(&self) -> Vec<EventEnvelope> {
        self.state.lock().await.state.outbox.clone()
    }
}

/// One unit of work: the store's lock and a working copy of its state.
#[derive(Debug)]
pub struct MemoryUow {
    pub(crate) guard: OwnedMutexGuard<Shared>,
    pub(crate) work: State,
    pub(crate) journal: crate::events::Journal,
}

impl Drop for MemoryUow {
    /// A unit of work dropped without commit undoes its event-side writes.
    fn drop(&mut self) {
        self.journal.roll_back(&mut self.guard.events);
    }
}

#[async_trait]
impl Begin for MemoryStore {
    type Uow = MemoryUow;

    #[tracing::instrument(level = "debug", skip_all)]
    async fn begin(&self) -> StoreResult<MemoryUow> {
        let guard = self.lock().await?;
        let work = guard.state.clone();
        Ok(MemoryUow {
            guard,
            work,
            journal: crate::events::Journal::default(),
        })
    }
}

#[async_trait]
impl Store for MemoryStore {
    async fn ping(&self) -> StoreResult<()> {
        Ok(())
    }
}

#[async_trait]
impl UserItemLock for MemoryUow {
    async fn lock_user_item(&mut self, _user: UserId, _item: uuid::Uuid) -> StoreResult<()> {
        // Every unit of work already holds the store's only lock.
        Ok(())
    }
}

#[async_trait]
impl Transaction for MemoryUow {
    async fn commit(mut self) -> StoreResult<()> {
        self.guard.state = std::mem::take(&mut self.work);
        self.journal.forget();
        Ok(())
    }
}
