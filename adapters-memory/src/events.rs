//! The event side in memory: outbox delivery state, processed marks and the handlers' state.
//!
//! This state can grow large (a statistics bucket per quarter hour, a mark per handler and
//! event), so unlike the record state it is not copied per unit of work: a unit of work
//! changes it in place — it holds the store's only lock — and writes an undo entry for every
//! change into its [`Journal`]. Commit forgets the journal; dropping the unit of work without
//! commit plays it backwards. Atomicity is the same as for the copied record state.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use viewing_domain::engagement::{Achievement, Reminder, WatchlistItem};
use viewing_domain::event_ports::{ClaimToken, RelayChannel};
use viewing_domain::stats::{BingeStat, Granularity, StatsDelta};
use viewing_domain::{BingeSessionId, EventId, ShowId, UserId};

use crate::store::MemoryUow;

/// Delivery state of one event on one channel (absent: never attempted, due at once).
#[derive(Debug, Clone, Default)]
pub(crate) struct Delivery {
    pub(crate) attempts: u32,
    pub(crate) next_attempt_at: Option<DateTime<Utc>>,
    pub(crate) delivered_at: Option<DateTime<Utc>>,
    pub(crate) claim: Option<(ClaimToken, DateTime<Utc>)>,
    pub(crate) last_error: Option<String>,
    pub(crate) parked_at: Option<DateTime<Utc>>,
}

pub(crate) type BucketId = (UserId, Granularity, DateTime<Utc>);

#[derive(Debug, Default)]
pub(crate) struct EventState {
    pub(crate) delivery: BTreeMap<(RelayChannel, i64), Delivery>,
    /// Per channel, how many leading outbox events are delivered (where scans start).
    pub(crate) delivered_prefix: BTreeMap<RelayChannel, usize>,
    /// Outbox payloads replaced by text ([`MemoryStore::replace_outbox_payload`]): what a
    /// SQL store would find in its `payload` column, read back instead of the typed event.
    pub(crate) raw_payloads: BTreeMap<i64, String>,
    pub(crate) processed: BTreeMap<(String, EventId), DateTime<Utc>>,
    pub(crate) buckets: BTreeMap<BucketId, StatsDelta>,
    pub(crate) binge: BTreeMap<BingeSessionId, BingeStat>,
    pub(crate) counters: BTreeMap<(UserId, String), i64>,
    pub(crate) achievements: BTreeMap<(UserId, String), Achievement>,
    pub(crate) watchlist: BTreeMap<(UserId, uuid::Uuid), WatchlistItem>,
    pub(crate) reminders: BTreeMap<(UserId, ShowId), Reminder>,
    pub(crate) genres: BTreeMap<(UserId, String), i64>,
}

pub(crate) type Undo = Box<dyn FnOnce(&mut EventState) + Send>;

/// Undo entries of one unit of work, newest last.
#[derive(Default)]
pub(crate) struct Journal(Vec<Undo>);

impl fmt::Debug for Journal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Journal({} entries)", self.0.len())
    }
}

impl Journal {
    pub(crate) fn roll_back(&mut self, state: &mut EventState) {
        while let Some(undo) = self.0.pop() {
            undo(state);
        }
    }

    pub(crate) fn forget(&mut self) {
        self.0.clear();
    }
}

pub(crate) type Field<K, V> = fn(&mut EventState) -> &mut BTreeMap<K, V>;

/// Sets `key` to `value` (or removes it) and journals how to put back what was there.
pub(crate) fn write<K, V>(
    state: &mut EventState,
    journal: &mut Journal,
    field: Field<K, V>,
    key: K,
    value: Option<V>,
) where
    K: Ord + Clone + Send + 'static,
    V: Send + 'static,
{
    let map = field(state);
    let previous = match value {
        Some(v) => map.insert(key.clone(), v),
        None => map.remove(&key),
    };
    journal.0.push(Box::new(move |s| {
        let map = field(s);
        match previous {
            Some(p) => map.insert(key, p),
            None => map.remove(&key),
        };
    }));
}

pub(crate) fn processed(s: &mut EventState) -> &mut BTreeMap<(String, EventId), DateTime<Utc>> {
    &mut s.processed
}

pub(crate) fn buckets(s: &mut EventState) -> &mut BTreeMap<BucketId, StatsDelta> {
    &mut s.buckets
}

pub(crate) fn binge(s: &mut EventState) -> &mut BTreeMap<BingeSessionId, BingeStat> {
    &mut s.binge
}

pub(crate) fn counters(s: &mut EventState) -> &mut BTreeMap<(UserId, String), i64> {
    &mut s.counters
}

pub(crate) fn achievements(s: &mut EventState) -> &mut BTreeMap<(UserId, String), Achievement> {
    &mut s.achievements
}

pub(crate) fn watchlist(s: &mut EventState) -> &mut BTreeMap<(UserId, uuid::Uuid), WatchlistItem> {
    &mut s.watchlist
}

pub(crate) fn reminders(s: &mut EventState) -> &mut BTreeMap<(UserId, ShowId), Reminder> {
    &mut s.reminders
}

pub(crate) fn genres(s: &mut EventState) -> &mut BTreeMap<(UserId, String), i64> {
    &mut s.genres
}

impl MemoryUow {
    pub(crate) fn events(&mut self) -> (&mut EventState, &mut Journal) {
        (&mut self.guard.events, &mut self.journal)
    }
}

pub(crate) fn seq_of(index: usize) -> i64 {
    i64::try_from(index).unwrap_or(i64::MAX).saturating_add(1)
}

pub(crate) fn index_of(seq: i64) -> Option<usize> {
    usize::try_from(seq.checked_sub(1)?).ok()
}

impl EventState {
    /// Moves the channel's delivered prefix past every delivered event at its head.
    pub(crate) fn advance_prefix(&mut self, channel: RelayChannel, outbox_len: usize) {
        let mut prefix = self.delivered_prefix.get(&channel).copied().unwrap_or(0);
        while prefix < outbox_len
            && self
                .delivery
                .get(&(channel, seq_of(prefix)))
                .is_some_and(|d| d.delivered_at.is_some())
        {
            self.delivery.remove(&(channel, seq_of(prefix)));
            prefix += 1;
        }
        self.delivered_prefix.insert(channel, prefix);
    }
}
