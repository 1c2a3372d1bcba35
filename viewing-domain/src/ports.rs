//! The ports: what the rules need from the outside world, split by concept.
//!
//! Every repository trait is implemented by a store's unit of work ([`UnitOfWork`]), so that a
//! command reads what it needs, asks the domain for a decision and writes the records, progress,
//! binge sessions and outbox events in **one transaction**. Dropping a unit of work without
//! calling [`Transaction::commit`] discards everything it wrote. The unit of work has two sides,
//! [`CommandUnitOfWork`] (what the viewing commands write) and [`HandlerUnitOfWork`] (the event
//! handlers' state); use cases and handlers are bounded by the repositories they use, so a
//! test fakes only those.
//!
//! Every store is also an event store: its unit of work holds the event handlers' state and
//! their processed marks ([`crate::handler_ports`], [`crate::event_ports::ProcessedEvents`]),
//! so a handler's effects commit with its mark, and queries such as statistics read the
//! handlers' state through the same [`Store`]. The relay's side of the outbox,
//! [`crate::event_ports::OutboxRelay`], is part of [`Store`] too: a store whose events could
//! not be relayed would lose them, so every store (and every wrapper around one) provides it.
//!
//! Error contract for every method: a store that cannot be reached (connection refused, pool
//! timeout, database shutting down) returns [`StoreError::Unavailable`]; a write that lost a race
//! it cannot resolve (serialization failure after retries, unique violation on a natural key)
//! returns [`StoreError::Conflict`]; anything else is [`StoreError::Unexpected`]. "Not found" is
//! never an error: lookups return `Option`.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::catalog::{CatalogRows, ExternalHit, Movie, RowsWritten, Show};
use crate::event_ports::{OutboxRelay, ProcessedEvents};
use crate::events::EventEnvelope;
use crate::external::Provider;
use crate::handler_ports::{
    AchievementRepository, PreferenceRepository, ReminderRepository, StatisticsRepository,
    WatchlistRepository,
};
pub use crate::idempotency::StoredResponse;
use crate::idempotency::{Decision, IdempotencyKey, IdempotencyPolicy, RequestFingerprint};
use crate::ids::{
    AbandonId, BingeSessionId, DeliveryId, EpisodeId, ImportId, IntegrationId, MovieId, PlaybackId,
    RecordId, ShowId, UserId,
};
use crate::imports::{Import, ImportItem, ImportLink, RowOutcome};
use crate::integrations::{Delivery, Integration};
use crate::records::{AbandonRecord, BingeSession, ContentType, ShowProgress, ViewingRecord};
use crate::rules::playback::Playback;
use crate::search::{TitleHit, TitleQuery};

/// A store's own error, boxed so the ports name no database library.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

#[derive(Debug, thiserror::Error)]
/// Why a store call failed. Use cases map these to their own errors; none is retried silently
/// except `Conflict`, which a command retries in a fresh unit of work.
pub enum StoreError {
    #[error("the store is unavailable: {0}")]
    /// The database cannot be reached (or timed out): try again later.
    Unavailable(#[source] BoxError),
    #[error("conflicting concurrent write: {0}")]
    /// A concurrent write won a race (unique key, serialization failure).
    Conflict(String),
    #[error("unexpected store error: {0}")]
    /// Anything else: a bug or a broken database.
    Unexpected(#[source] BoxError),
}

impl StoreError {
    /// [`StoreError::Unexpected`] from any error.
    pub fn unexpected(e: impl Into<BoxError>) -> Self {
        StoreError::Unexpected(e.into())
    }
    /// [`StoreError::Unavailable`] from any error.
    pub fn unavailable(e: impl Into<BoxError>) -> Self {
        StoreError::Unavailable(e.into())
    }
}

/// The result of a store call.
pub type StoreResult<T> = Result<T, StoreError>;

/// The time source. Rules never read the system clock themselves.
pub trait Clock: Send + Sync + 'static {
    /// Now, in whole microseconds ([`crate::values::micros`]): the stores keep instants as they
    /// get them, so a clock with a finer precision would answer a POST with an instant a later
    /// GET reads back differently.
    fn now(&self) -> DateTime<Utc>;
}

/// Makes new identifiers; the production one returns UUID v7 (time-ordered).
pub trait IdGenerator: Send + Sync + 'static {
    /// A new unique id.
    fn new_id(&self) -> uuid::Uuid;
}

/// Opens units of work. Implementations are cheap to clone (a pool handle).
///
/// A use case is bounded by `Begin` and the repositories its unit of work touches (e.g.
/// `S: Begin, S::Uow: CommandUnitOfWork`), so a test fakes only those; a whole store is a
/// [`Store`].
#[async_trait]
pub trait Begin: Clone + Send + Sync + 'static {
    /// Owns its connection or transaction (no borrow of the store), so units of work can be
    /// handed to boxed handlers and spawned tasks.
    type Uow: Send + 'static;

    /// Starts one transaction. Writes become visible to others only on commit.
    ///
    /// Errors: [`StoreError::Unavailable`] when no connection can be had (pool timeout,
    /// database down, a memory unit of work left open for too long); `Unexpected` otherwise.
    async fn begin(&self) -> StoreResult<Self::Uow>;

    /// Starts a transaction for a query: it reads one consistent snapshot and never writes, so
    /// a store may run it alongside writers instead of queueing it behind them (SQLite: a
    /// deferred read transaction next to the single writer). Writing through it is a caller
    /// error and may fail. By default, the same as [`Begin::begin`].
    async fn begin_read(&self) -> StoreResult<Self::Uow> {
        self.begin().await
    }
}

/// A whole store: units of work over every repository, idempotency keys and the relay's side
/// of the outbox.
#[async_trait]
pub trait Store: Begin<Uow: UnitOfWork> + IdempotencyStore + OutboxRelay {
    /// Cheap round trip proving the store answers (readiness). `Unavailable` when it does not.
    async fn ping(&self) -> StoreResult<()>;
}

/// The end of a unit of work. Dropping one without calling [`Transaction::commit`] discards
/// everything it wrote.
#[async_trait]
pub trait Transaction: Send + Sized {
    /// Makes every write of this unit of work durable at once.
    ///
    /// Errors: `Conflict` when the transaction lost a race the store could not resolve
    /// (serialization failure; the caller may retry in a fresh unit of work), `Unavailable`
    /// when the connection was lost (the outcome is then unknown), `Unexpected` otherwise.
    async fn commit(self) -> StoreResult<()>;
}

/// Serialises the writers of one user's records of one item.
#[async_trait]
pub trait UserItemLock: Send {
    /// Serialises every unit of work that writes one user's records of one item (a show or a
    /// movie) until this one ends, so concurrent requests (two tabs, retries) see each other's
    /// writes: no lost progress update, no season completed twice, no split binge session.
    /// Must be called before the first read of that user's records for the item.
    ///
    /// Errors: `Conflict` when the lock cannot be had (lock timeout, deadlock detected);
    /// `Unavailable` when the store cannot be reached.
    async fn lock_user_item(&mut self, user: UserId, item: uuid::Uuid) -> StoreResult<()>;
}

/// The command side of a unit of work: what the viewing commands read and write (catalog,
/// users, records, progress, binge sessions, abandons) and the outbox their events go to, in
/// one transaction. Implemented for every type that has all of these.
pub trait CommandUnitOfWork:
    Transaction
    + UserItemLock
    + CatalogRepository
    + CatalogBulkRepository
    + UserRepository
    + ViewingRecordRepository
    + ShowProgressRepository
    + BingeSessionRepository
    + AbandonRepository
    + ImportRepository
    + PlaybackRepository
    + IntegrationRepository
    + Outbox
{
}

impl<T> CommandUnitOfWork for T where
    T: Transaction
        + UserItemLock
        + CatalogRepository
        + CatalogBulkRepository
        + UserRepository
        + ViewingRecordRepository
        + ShowProgressRepository
        + BingeSessionRepository
        + AbandonRepository
        + ImportRepository
        + PlaybackRepository
        + IntegrationRepository
        + Outbox
{
}

/// The handler side of a unit of work: the event handlers' state (statistics, achievements,
/// watchlist, reminders, preferences) and their processed marks, so a handler's effects commit
/// with its mark. Implemented for every type that has all of these.
pub trait HandlerUnitOfWork:
    Transaction
    + ProcessedEvents
    + StatisticsRepository
    + AchievementRepository
    + WatchlistRepository
    + ReminderRepository
    + PreferenceRepository
{
}

impl<T> HandlerUnitOfWork for T where
    T: Transaction
        + ProcessedEvents
        + StatisticsRepository
        + AchievementRepository
        + WatchlistRepository
        + ReminderRepository
        + PreferenceRepository
{
}

/// One transaction over every repository: what a store's unit of work is. Both sides, so a
/// handler may read the catalog or append events, and a query may read the handlers' state.
pub trait UnitOfWork: CommandUnitOfWork + HandlerUnitOfWork {}

impl<T: CommandUnitOfWork + HandlerUnitOfWork> UnitOfWork for T {}

/// The catalog. Errors: `Conflict` when `upsert_show` meets a season or episode id owned by
/// another show; otherwise as every port (`Unavailable`, `Unexpected`). Unknown ids are `None`.
#[async_trait]
/// The catalog: movies and shows with their trees.
pub trait CatalogRepository: Send {
    /// A movie by id.
    async fn movie(&mut self, id: MovieId) -> StoreResult<Option<Movie>>;
    /// A show by id, with its whole tree.
    async fn show(&mut self, id: ShowId) -> StoreResult<Option<Show>>;
    /// The whole show an episode belongs to.
    async fn show_of_episode(&mut self, id: EpisodeId) -> StoreResult<Option<Show>>;
    /// Titles of movies and shows by id; unknown ids are left out.
    async fn titles(&mut self, ids: &[uuid::Uuid]) -> StoreResult<HashMap<uuid::Uuid, String>>;
    /// Inserts or replaces a movie.
    async fn upsert_movie(&mut self, movie: &Movie) -> StoreResult<()>;
    /// Replaces the show's whole tree. A season or episode id already used by another show is
    /// [`StoreError::Conflict`].
    async fn upsert_show(&mut self, show: &Show) -> StoreResult<()>;
    /// The items that hold `provider`'s id `value` (SPEC §10): at most one of each kind, in
    /// the order movie, show, season, episode.
    async fn find_by_external_id(
        &mut self,
        provider: Provider,
        value: &str,
    ) -> StoreResult<Vec<ExternalHit>>;
    /// Movies and shows by title (SPEC §10): those whose
    /// [`title_key`](crate::search::title_key) is `query.key` — or, unless `query.exact`,
    /// starts with it — narrowed to `query.kind` and a movie's `query.year`, in
    /// [`rank`](crate::search::rank) order, at most `query.limit`.
    async fn search_titles(&mut self, query: &TitleQuery) -> StoreResult<Vec<TitleHit>>;
    /// The catalog's version: a number that every `upsert_movie` and `upsert_show` raises, in
    /// their unit of work. Caches of the catalog compare it to know they are current, also
    /// across processes sharing the database.
    async fn catalog_version(&mut self) -> StoreResult<i64>;
}

/// Imports of other services' history (SPEC §12): each import with its per-row outcomes, and
/// the source keys of the plays it recorded, so that a second import of a play is a duplicate
/// and an undo removes exactly what it recorded. Errors as every port.
#[async_trait]
pub trait ImportRepository: Send {
    /// Creates the import, or replaces its status and summary.
    async fn save_import(&mut self, import: &Import) -> StoreResult<()>;
    /// The user's import `id` (another user's is `None`).
    async fn import(&mut self, user: UserId, id: ImportId) -> StoreResult<Option<Import>>;
    /// The user's imports, newest first.
    async fn imports_of(&mut self, user: UserId) -> StoreResult<Vec<Import>>;
    /// Stores the outcome of every row of an import (once, when it is made).
    async fn save_import_items(&mut self, id: ImportId, items: &[ImportItem]) -> StoreResult<()>;
    /// A page of an import's rows in row order, only those of `outcome` when given.
    async fn import_items(
        &mut self,
        id: ImportId,
        outcome: Option<RowOutcome>,
        offset: u32,
        limit: u32,
    ) -> StoreResult<Vec<ImportItem>>;
    /// Which of `keys` name plays the user imported before (and did not undo).
    async fn held_source_keys(
        &mut self,
        user: UserId,
        keys: &[String],
    ) -> StoreResult<HashSet<String>>;
    /// Remembers that import `import` made `link` for the row `key` names. A key the user
    /// holds already is `Conflict`.
    async fn link_import_item(
        &mut self,
        user: UserId,
        import: ImportId,
        key: &str,
        link: ImportLink,
    ) -> StoreResult<()>;
    /// What import `import` made, in the order it was made.
    async fn import_links(
        &mut self,
        user: UserId,
        import: ImportId,
    ) -> StoreResult<Vec<ImportLink>>;
    /// Forgets what import `import` made: its source keys may be imported again.
    async fn unlink_import_items(&mut self, user: UserId, import: ImportId) -> StoreResult<()>;
}

/// Players' playbacks (SPEC §13): one per user and item, playing or paused. Errors as every
/// port.
#[async_trait]
pub trait PlaybackRepository: Send {
    /// Creates the user's playback of its item, or replaces the one they have (its id stays).
    async fn save_playback(&mut self, playback: &Playback) -> StoreResult<()>;
    /// The user's playback of `content`.
    async fn playback_of(
        &mut self,
        user: UserId,
        content: uuid::Uuid,
    ) -> StoreResult<Option<Playback>>;
    /// The user's playbacks, the most recently reported first.
    async fn playbacks(&mut self, user: UserId) -> StoreResult<Vec<Playback>>;
    /// Removes the user's playback `id`; `false` when they have none by that id.
    async fn delete_playback(&mut self, user: UserId, id: PlaybackId) -> StoreResult<bool>;
}

/// Media servers' integrations and their inboxes (SPEC §13). Errors as every port.
#[async_trait]
pub trait IntegrationRepository: Send {
    /// Creates the integration, or replaces its accounts and revocation.
    async fn save_integration(&mut self, integration: &Integration) -> StoreResult<()>;
    /// The integration whose secret hashes to `secret_hash`, revoked or not.
    async fn integration_by_secret(
        &mut self,
        secret_hash: &str,
    ) -> StoreResult<Option<Integration>>;
    /// The user's integration `id` (another user's is `None`).
    async fn integration(
        &mut self,
        user: UserId,
        id: IntegrationId,
    ) -> StoreResult<Option<Integration>>;
    /// The user's integrations, newest first.
    async fn integrations_of(&mut self, user: UserId) -> StoreResult<Vec<Integration>>;
    /// Keeps a delivery, or replaces its outcome (a replay).
    async fn save_delivery(&mut self, delivery: &Delivery) -> StoreResult<()>;
    /// A delivery of integration `integration`.
    async fn delivery(
        &mut self,
        integration: IntegrationId,
        id: DeliveryId,
    ) -> StoreResult<Option<Delivery>>;
    /// A page of an integration's deliveries, the newest first.
    async fn deliveries(
        &mut self,
        integration: IntegrationId,
        offset: u32,
        limit: u32,
    ) -> StoreResult<Vec<Delivery>>;
}

/// Bulk catalog writes (SPEC §16). Errors as every port (`Unavailable`, `Unexpected`).
#[async_trait]
pub trait CatalogBulkRepository: Send {
    /// Writes one batch in this unit of work: each movie, show, season and episode created or
    /// updated by id (a movie's or show's genres replaced), seasons before episodes, and the
    /// catalog's version raised once. A row whose external id another item of its kind holds,
    /// and an episode whose number another episode of its season holds, are left out, not
    /// refused: a dataset has such rows, and the rest of the batch still loads.
    async fn write_catalog_rows(&mut self, rows: &CatalogRows) -> StoreResult<RowsWritten>;
}

/// Users. Errors: `Unavailable` when the store cannot be reached, `Unexpected` otherwise.
#[async_trait]
/// The users known to the store (created by their first write).
pub trait UserRepository: Send {
    /// Called by every write of the user's viewing data (records, progress, abandons), in its
    /// unit of work: creates the user row on the first one and raises the user's revision by
    /// one on every one.
    async fn ensure_user(&mut self, user: UserId, now: DateTime<Utc>) -> StoreResult<()>;

    /// The user's revision: 0 before the first write, then one more for each
    /// [`Self::ensure_user`] committed. A progress cache keeps what it read with the revision
    /// read before it, and serves it only while the revision is unchanged.
    async fn user_revision(&mut self, user: UserId) -> StoreResult<i64>;

    /// The revisions of `users` that have one (a missing user is at 0): what a relay batch
    /// reads once. Stores answer in one statement; the default asks user by user.
    async fn user_revisions(&mut self, users: &[UserId]) -> StoreResult<HashMap<UserId, i64>> {
        let mut out = HashMap::with_capacity(users.len());
        for user in users {
            out.insert(*user, self.user_revision(*user).await?);
        }
        Ok(out)
    }
}

/// Filters of the history query: `watch_date` in `[from, to)` (`from` inclusive, `to`
/// exclusive; an open end when `None`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct HistoryFilter {
    /// Earliest watch date (inclusive).
    pub from: Option<DateTime<Utc>>,
    /// Latest watch date (inclusive).
    pub to: Option<DateTime<Utc>>,
    /// Only movies or only episodes.
    pub content_type: Option<ContentType>,
    /// Compared ASCII-case-insensitively.
    pub platform: Option<String>,
}

/// Position after the last item of a page: newest-first order is `(watch_date, id)` descending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HistoryCursor {
    /// The last item's watch date.
    pub watch_date: DateTime<Utc>,
    /// The last item's id (breaks ties).
    pub id: RecordId,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
/// Which part of a user's history to read.
pub enum HistoryPaging {
    /// 1-based page of `limit` items (offset paging; cost grows with depth).
    /// Offset paging.
    Page {
        /// 1-based page number.
        page: u32,
        /// Items per page.
        limit: u32,
    },
    /// Items strictly after the cursor (keyset paging through `(user, watch_date)`).
    /// Keyset paging after a cursor.
    After {
        /// The last item of the previous page.
        cursor: HistoryCursor,
        /// Items per page.
        limit: u32,
    },
    /// The first page of keyset paging.
    /// The first keyset page.
    First {
        /// Items per page.
        limit: u32,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
/// One page of history.
pub struct HistorySlice {
    /// The records, newest first.
    pub items: Vec<ViewingRecord>,
    /// Records matching the filter, all pages together.
    pub total_items: u64,
}

/// Viewing records. Errors: `Conflict` when an insert hits a unique key another write took
/// (SQL stores); `Unavailable`/`Unexpected` as every port. Another user's or an unknown record is `None`.
#[async_trait]
/// Viewing records: every movie and episode viewing a user recorded.
pub trait ViewingRecordRepository: Send {
    /// Stores a record (and its companions).
    async fn insert_record(&mut self, record: &ViewingRecord) -> StoreResult<()>;
    /// Moves a record into (or out of) a binge session.
    async fn set_binge_session(
        &mut self,
        record: RecordId,
        session: Option<BingeSessionId>,
    ) -> StoreResult<()>;
    /// The user's record; another user's record is `None`.
    async fn record(&mut self, user: UserId, id: RecordId) -> StoreResult<Option<ViewingRecord>>;
    /// Deletes the user's record with its companions and episode details; `false` when the
    /// user has no such record (another user's record is left alone).
    async fn delete_record(&mut self, user: UserId, id: RecordId) -> StoreResult<bool>;
    /// Rewrites a stored record (same id and user) with every field of `record`: a correction
    /// (SPEC §11). The default deletes and inserts it again in the unit of work.
    async fn replace_record(&mut self, record: &ViewingRecord) -> StoreResult<()> {
        if !self.delete_record(record.user_id, record.id).await? {
            return Err(StoreError::Conflict(format!(
                "record {} is not stored",
                record.id
            )));
        }
        self.insert_record(record).await
    }
    /// Every record (rewatches included) the user has of one movie or episode.
    async fn records_of_content(
        &mut self,
        user: UserId,
        content: uuid::Uuid,
    ) -> StoreResult<Vec<ViewingRecord>>;
    /// How many records the user has of one movie or episode.
    async fn count_records_of(&mut self, user: UserId, content: uuid::Uuid) -> StoreResult<u64>;
    /// Every episode record (rewatches and specials included) of the user for the show.
    async fn episode_records(
        &mut self,
        user: UserId,
        show: ShowId,
    ) -> StoreResult<Vec<ViewingRecord>>;
    /// The episode records of each `(user, show)` key: for each key, the records
    /// [`ViewingRecordRepository::episode_records`] returns, in the same order; a key without
    /// any record is absent. What a relay reads once for a batch: stores answer in one query
    /// (and one for the companions); the default reads key by key.
    async fn episode_records_of_user_shows(
        &mut self,
        keys: &[(UserId, ShowId)],
    ) -> StoreResult<HashMap<(UserId, ShowId), Vec<ViewingRecord>>> {
        let mut out = HashMap::new();
        for (user, show) in keys {
            let records = self.episode_records(*user, *show).await?;
            if !records.is_empty() {
                out.insert((*user, *show), records);
            }
        }
        Ok(out)
    }
    /// The user's episode records of each of `shows` in one query: for each show, the records
    /// [`ViewingRecordRepository::episode_records`] returns, in the same order. A show without
    /// any record of the user is absent.
    async fn episode_records_of_shows(
        &mut self,
        user: UserId,
        shows: &[ShowId],
    ) -> StoreResult<HashMap<ShowId, Vec<ViewingRecord>>>;
    /// Newest first, by `(watch_date, id)` descending.
    async fn history(
        &mut self,
        user: UserId,
        filter: &HistoryFilter,
        paging: HistoryPaging,
    ) -> StoreResult<HistorySlice>;
}

/// Show progress. Errors: `Unavailable`/`Unexpected` as every port; no progress is `None`.
#[async_trait]
/// The stored progress summary per user and show.
pub trait ShowProgressRepository: Send {
    /// The user's progress in a show, if they watched any of it.
    async fn progress(&mut self, user: UserId, show: ShowId) -> StoreResult<Option<ShowProgress>>;
    /// Inserts or replaces the row and its season completions.
    async fn save_progress(&mut self, progress: &ShowProgress) -> StoreResult<()>;
    /// Every show the user has progress in, most recent activity first.
    async fn progress_of_user(&mut self, user: UserId) -> StoreResult<Vec<ShowProgress>>;
    /// Shows not completed, with watched episodes, whose last activity is before `idle_since`
    /// and whose inactivity was not reported since; at most `limit`, any user.
    async fn idle_progress(
        &mut self,
        idle_since: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<ShowProgress>>;
}

/// Binge sessions. Errors: `Unavailable`/`Unexpected` as every port; an unknown session is
/// `None`, and deleting one is a no-op.
#[async_trait]
/// Binge sessions.
pub trait BingeSessionRepository: Send {
    /// A session of any user (the caller checks ownership).
    async fn binge_session(&mut self, id: BingeSessionId) -> StoreResult<Option<BingeSession>>;
    /// The sessions of `ids` that exist, of any user, any order. Stores answer in one
    /// statement; the default asks one by one.
    async fn binge_sessions_by_id(
        &mut self,
        ids: &[BingeSessionId],
    ) -> StoreResult<Vec<BingeSession>> {
        let mut out = Vec::new();
        for id in ids {
            out.extend(self.binge_session(*id).await?);
        }
        Ok(out)
    }
    /// The user's session; another user's session is `None`, as an unknown id is (a query
    /// must not tell another user's ids from unknown ones).
    async fn user_binge_session(
        &mut self,
        user: UserId,
        id: BingeSessionId,
    ) -> StoreResult<Option<BingeSession>>;
    /// The user's sessions of a show.
    async fn binge_sessions_of_show(
        &mut self,
        user: UserId,
        show: ShowId,
    ) -> StoreResult<Vec<BingeSession>>;
    /// Inserts or replaces a session.
    async fn save_binge_session(&mut self, session: &BingeSession) -> StoreResult<()>;
    /// Removes a session (its records are reassigned first).
    async fn delete_binge_session(&mut self, id: BingeSessionId) -> StoreResult<()>;
}

/// Abandon records. Errors: `Conflict` when an insert hits a unique key another write took
/// (SQL stores); `Unavailable`/`Unexpected` as every port. Another user's or an unknown record is `None`.
#[async_trait]
/// Abandon records.
pub trait AbandonRepository: Send {
    /// Stores an abandon record.
    async fn insert_abandon(&mut self, record: &AbandonRecord) -> StoreResult<()>;
    /// Deletes one of the user's abandon records; `false` when the user has no such record.
    async fn delete_abandon(&mut self, user: UserId, id: AbandonId) -> StoreResult<bool>;
    /// One of the user's abandon records, by id.
    async fn abandon_record(
        &mut self,
        user: UserId,
        id: AbandonId,
    ) -> StoreResult<Option<AbandonRecord>>;
    /// The user's newest abandon record of a movie or show.
    async fn latest_abandon(
        &mut self,
        user: UserId,
        item: uuid::Uuid,
    ) -> StoreResult<Option<AbandonRecord>>;
    /// The user's newest abandon record of each of `items` in one query, as
    /// [`AbandonRepository::latest_abandon`] picks it; an item without one is absent.
    async fn latest_abandons(
        &mut self,
        user: UserId,
        items: &[uuid::Uuid],
    ) -> StoreResult<HashMap<uuid::Uuid, AbandonRecord>>;
    /// The user's abandon records with `abandon_date` in `[from, to)` (open ends when `None`),
    /// newest first.
    async fn abandons_between(
        &mut self,
        user: UserId,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> StoreResult<Vec<AbandonRecord>>;
}

/// Events are appended in the same transaction as the records they describe. Errors:
/// `Unexpected` when an event cannot be encoded, `Conflict` when an event id is already in the
/// outbox (SQL stores), `Unavailable` when the store cannot be reached.
#[async_trait]
pub trait Outbox: Send {
    /// Appends events, in order, to be relayed after commit.
    async fn append_events(&mut self, events: &[EventEnvelope]) -> StoreResult<()>;
}

/// Idempotency keys, per user. Each call is its own short transaction.
///
/// Every store does the same thing: load the key's [`crate::idempotency::KeyRow`] under a lock (row lock,
/// transaction, mutex), ask [`crate::idempotency::decide`], and when the decision
/// [`Decision::claims`] the key, write [`crate::idempotency::KeyRow::claim`] before the lock ends, so two requests
/// with one key decide one after the other. The stores decide nothing themselves.
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Decides what a request carrying `key` does (see [`crate::idempotency::decide`]) and
    /// records the claim when it claims the key.
    async fn claim_idempotency_key(
        &self,
        user: UserId,
        key: &IdempotencyKey,
        request: &RequestFingerprint,
        now: DateTime<Utc>,
        policy: IdempotencyPolicy,
    ) -> StoreResult<Decision>;
    /// Keeps the answer of the request holding the claim. A key no longer claimed (released)
    /// stays unknown.
    async fn complete_idempotency_key(
        &self,
        user: UserId,
        key: &IdempotencyKey,
        response: &StoredResponse,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Forgets a claim whose request ended without an answer worth keeping, so a retry runs.
    /// A kept answer is never forgotten this way.
    async fn release_idempotency_key(&self, user: UserId, key: &IdempotencyKey) -> StoreResult<()>;
}
