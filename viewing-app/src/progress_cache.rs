//! The progress cache (SPEC §14, the seed's "cache show progress for active shows"): what the
//! progress, up-next and history reads load from the store — a user's records, progress row
//! and latest abandon of a show; for up-next, the progress rows of every show not completed
//! with their records and latest abandons; the history pages read; the episode records the
//! relay's handlers read — kept in memory per user.
//!
//! How it stays current — the user's revision
//! ([`viewing_domain::ports::UserRepository::user_revision`]):
//! - every write of a user's viewing data raises the user's revision in its own transaction
//!   (`ensure_user`), whichever process or replica makes it;
//! - a read first reads the revision (one row by primary key) and serves a kept entry only if
//!   it was loaded at that same revision; otherwise it loads the state again and keeps it
//!   tagged with the revision read *before* loading, so an entry is never tagged newer than
//!   its data.
//!
//! So a read never serves progress older than the user's last acknowledged write, on this
//! replica or any other, and costs one small query instead of three or four (with every
//! record of the show) when nothing changed. The views themselves are computed on every read:
//! they depend on today's date and on the catalog, which come from the clock and the catalog
//! cache.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

use viewing_domain::ports::{HistoryFilter, HistoryPaging, HistorySlice};
use viewing_domain::rules::progress::ProgressView;
use viewing_domain::{AbandonRecord, ShowId, ShowProgress, UserId, ViewingRecord};

/// What the cache holds at most, in viewing records (an entry weighs its records plus one).
pub const DEFAULT_CAPACITY: u64 = 1_000_000;

/// What the progress of one show is computed from.
#[derive(Debug, Clone, Default)]
pub struct ShowInputs {
    /// The user's records of the show's episodes.
    pub records: Vec<ViewingRecord>,
    /// The user's progress row of the show.
    pub progress: Option<ShowProgress>,
    /// The user's latest abandon of the show.
    pub abandon: Option<AbandonRecord>,
}

/// What the up-next list is computed from.
#[derive(Debug, Clone, Default)]
pub struct UpNextInputs {
    /// The user's progress rows of the shows not completed.
    pub progress: Vec<ShowProgress>,
    /// Their records, by show.
    pub records: HashMap<ShowId, Vec<ViewingRecord>>,
    /// Their latest abandons, by show id.
    pub abandons: HashMap<uuid::Uuid, AbandonRecord>,
    /// The list last computed from these inputs, when, and at which catalog version (see
    /// [`UpNextInputs::computed`]).
    computed: Arc<Mutex<Option<Computed>>>,
}

/// An up-next list, the instant and the catalog version it was computed at.
type Computed = (DateTime<Utc>, i64, Arc<Vec<ProgressView>>);

impl UpNextInputs {
    /// How long a computed list is served again: within it, only the clock could change the
    /// answer (a show turning stalled, an episode airing at midnight) and a catalog change is
    /// seen within 1 s anyway (SPEC §14). A write of the user's is a new revision, so new
    /// inputs, whatever the time.
    pub const REUSE_FOR: chrono::Duration = chrono::Duration::seconds(1);

    /// The inputs read from the store, nothing computed yet.
    pub fn new(
        progress: Vec<ShowProgress>,
        records: HashMap<ShowId, Vec<ViewingRecord>>,
        abandons: HashMap<uuid::Uuid, AbandonRecord>,
    ) -> Self {
        Self {
            progress,
            records,
            abandons,
            computed: Arc::default(),
        }
    }

    /// The list computed from these inputs at catalog version `catalog` less than
    /// [`UpNextInputs::REUSE_FOR`] before `now` (the same day), if any.
    pub fn computed(&self, now: DateTime<Utc>, catalog: i64) -> Option<Arc<Vec<ProgressView>>> {
        let kept = self.computed.lock().ok()?;
        kept.as_ref()
            .filter(|(at, version, _)| {
                *version == catalog
                    && *at <= now
                    && now - *at < Self::REUSE_FOR
                    && at.date_naive() == now.date_naive()
            })
            .map(|(_, _, list)| list.clone())
    }

    /// Keeps the list computed at `now` from catalog version `catalog`.
    pub fn keep_computed(&self, now: DateTime<Utc>, catalog: i64, list: Arc<Vec<ProgressView>>) {
        if let Ok(mut kept) = self.computed.lock() {
            *kept = Some((now, catalog, list));
        }
    }
}

/// What is kept: the revision it was read at, and the data.
type Kept<T> = (i64, Arc<T>);

/// A history page's key: whose, which filter, which page.
pub type HistoryKey = (UserId, HistoryFilter, HistoryPaging);

/// Progress inputs and history pages by user, each valid for one revision of the user. Cheap
/// to share (`Arc`); every method takes `&self`.
pub struct ProgressCache {
    shows: moka::sync::Cache<(UserId, ShowId), Kept<ShowInputs>>,
    up_next: moka::sync::Cache<UserId, Kept<UpNextInputs>>,
    history: moka::sync::Cache<HistoryKey, Kept<HistorySlice>>,
    records: moka::sync::Cache<(UserId, ShowId), Kept<Vec<ViewingRecord>>>,
}

impl std::fmt::Debug for ProgressCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProgressCache")
            .field("shows", &self.shows.entry_count())
            .field("up_next", &self.up_next.entry_count())
            .field("history", &self.history.entry_count())
            .field("records", &self.records.entry_count())
            .finish()
    }
}

impl Default for ProgressCache {
    fn default() -> Self {
        Self::new(DEFAULT_CAPACITY)
    }
}

/// An entry's weight: its records, plus one for the entry itself.
fn weight(records: usize) -> u32 {
    u32::try_from(records.saturating_add(1)).unwrap_or(u32::MAX)
}

impl ProgressCache {
    /// A cache holding at most about `capacity` viewing records (0 keeps nothing).
    pub fn new(capacity: u64) -> Self {
        Self {
            shows: moka::sync::Cache::builder()
                .max_capacity(capacity)
                .weigher(|_, (_, i): &(i64, Arc<ShowInputs>)| weight(i.records.len()))
                .build(),
            up_next: moka::sync::Cache::builder()
                .max_capacity(capacity)
                .weigher(|_, (_, i): &(i64, Arc<UpNextInputs>)| {
                    weight(i.records.values().map(Vec::len).sum())
                })
                .build(),
            history: moka::sync::Cache::builder()
                .max_capacity(capacity)
                .weigher(|_, (_, s): &(i64, Arc<HistorySlice>)| weight(s.items.len()))
                .build(),
            records: moka::sync::Cache::builder()
                .max_capacity(capacity)
                .weigher(|_, (_, r): &(i64, Arc<Vec<ViewingRecord>>)| weight(r.len()))
                .build(),
        }
    }

    /// The inputs of `(user, show)` if they were loaded at `revision`.
    pub fn show(&self, user: UserId, show: ShowId, revision: i64) -> Option<Arc<ShowInputs>> {
        self.shows
            .get(&(user, show))
            .filter(|(r, _)| *r == revision)
            .map(|(_, i)| i)
    }

    /// Keeps the inputs of `(user, show)`, loaded after reading `revision`.
    pub fn keep_show(&self, user: UserId, show: ShowId, revision: i64, inputs: Arc<ShowInputs>) {
        self.shows.insert((user, show), (revision, inputs));
    }

    /// The user's up-next inputs if they were loaded at `revision`.
    pub fn up_next(&self, user: UserId, revision: i64) -> Option<Arc<UpNextInputs>> {
        self.up_next
            .get(&user)
            .filter(|(r, _)| *r == revision)
            .map(|(_, i)| i)
    }

    /// Keeps the user's up-next inputs, loaded after reading `revision`.
    pub fn keep_up_next(&self, user: UserId, revision: i64, inputs: Arc<UpNextInputs>) {
        self.up_next.insert(user, (revision, inputs));
    }

    /// The history page of `key` if it was read at `revision`.
    pub fn history(&self, key: &HistoryKey, revision: i64) -> Option<Arc<HistorySlice>> {
        self.history
            .get(key)
            .filter(|(r, _)| *r == revision)
            .map(|(_, s)| s)
    }

    /// The user's episode records of a show (what the handlers read, SPEC §14) if they were
    /// read at `revision`.
    pub fn episode_records(
        &self,
        user: UserId,
        show: ShowId,
        revision: i64,
    ) -> Option<Arc<Vec<ViewingRecord>>> {
        self.records
            .get(&(user, show))
            .filter(|(r, _)| *r == revision)
            .map(|(_, records)| records)
    }

    /// Keeps the user's episode records of a show, read after reading `revision`.
    pub fn keep_episode_records(
        &self,
        user: UserId,
        show: ShowId,
        revision: i64,
        records: Arc<Vec<ViewingRecord>>,
    ) {
        self.records.insert((user, show), (revision, records));
    }

    /// Keeps the history page of `key`, read after reading `revision`.
    pub fn keep_history(&self, key: HistoryKey, revision: i64, slice: Arc<HistorySlice>) {
        self.history.insert(key, (revision, slice));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_serves_only_its_own_revision() {
        let cache = ProgressCache::default();
        let (user, show) = (
            UserId::from(uuid::Uuid::nil()),
            ShowId::from(uuid::Uuid::max()),
        );
        cache.keep_show(user, show, 3, Arc::new(ShowInputs::default()));
        assert!(cache.show(user, show, 3).is_some());
        assert!(
            cache.show(user, show, 4).is_none(),
            "a newer revision misses"
        );
        assert!(cache.show(user, show, 2).is_none());
        cache.keep_up_next(user, 3, Arc::new(UpNextInputs::default()));
        assert!(cache.up_next(user, 3).is_some());
        assert!(cache.up_next(user, 4).is_none());
    }

    #[test]
    fn a_computed_up_next_list_is_served_for_a_second_of_one_catalog_version() {
        let inputs = UpNextInputs::default();
        let at = DateTime::<Utc>::UNIX_EPOCH + chrono::Duration::days(20_000);
        let list = Arc::new(Vec::new());
        inputs.keep_computed(at, 7, list);
        assert!(inputs.computed(at, 7).is_some());
        let later = at + chrono::Duration::milliseconds(999);
        assert!(inputs.computed(later, 7).is_some());
        assert!(inputs.computed(at + UpNextInputs::REUSE_FOR, 7).is_none());
        assert!(inputs.computed(at, 8).is_none(), "a catalog change misses");
        assert!(
            inputs
                .computed(at - chrono::Duration::seconds(1), 7)
                .is_none()
        );
    }

    #[test]
    fn capacity_zero_keeps_nothing() {
        let cache = ProgressCache::new(0);
        let (user, show) = (
            UserId::from(uuid::Uuid::nil()),
            ShowId::from(uuid::Uuid::max()),
        );
        cache.keep_show(user, show, 1, Arc::new(ShowInputs::default()));
        cache.shows.run_pending_tasks();
        assert!(cache.show(user, show, 1).is_none());
    }
}
