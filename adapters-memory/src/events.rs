//! The event side in memory: outbox delivery state, processed marks and the handlers' state.
//!
//! This state can grow large (a statistics bucket per quarter hour, a mark per handler and
//! event), so unlike the record state it is not copied per unit of work: a unit of work
//! changes it in place — it holds the store's only lock — and writes an undo entry for every
//! change into its [`Journal`]. Commit forgets the journal; dropping the unit of work without
//! commit plays it backwards. Atomicity is the same as for the copied record state.

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use viewing_domain::engagement::{
    Achievement, GenreScore, Reminder, ReminderStatus, WatchlistItem,
};
use viewing_domain::event_ports::{
    ClaimToken, DeadLetter, OutboxBacklog, OutboxRelay, PendingBody, PendingEvent, ProcessedEvents,
    RelayChannel,
};
use viewing_domain::handler_ports::{
    AchievementRepository, PreferenceRepository, ReminderRepository, StatisticsRepository,
    WatchlistRepository,
};
use viewing_domain::ports::StoreResult;
use viewing_domain::stats::{BingeStat, BucketKey, BucketSpan, Granularity, StatsDelta};
use viewing_domain::{BingeSessionId, EventEnvelope, EventId, ShowId, UserId};

use crate::store::{MemoryStore, MemoryUow};

/// Delivery state of one event on one channel (absent: never attempted, due at once).
#[derive(Debug, Clone, Default)]
struct Delivery {
    attempts: u32,
    next_attempt_at: Option<DateTime<Utc>>,
    delivered_at: Option<DateTime<Utc>>,
    claim: Option<(ClaimToken, DateTime<Utc>)>,
    last_error: Option<String>,
    parked_at: Option<DateTime<Utc>>,
}

type BucketId = (UserId, Granularity, DateTime<Utc>);

#[derive(Debug, Default)]
pub(crate) struct EventState {
    delivery: BTreeMap<(RelayChannel, i64), Delivery>,
    /// Per channel, how many leading outbox events are delivered (where scans start).
    delivered_prefix: BTreeMap<RelayChannel, usize>,
    /// Outbox payloads replaced by text ([`MemoryStore::replace_outbox_payload`]): what a
    /// SQL store would find in its `payload` column, read back instead of the typed event.
    raw_payloads: BTreeMap<i64, String>,
    processed: BTreeMap<(String, EventId), DateTime<Utc>>,
    buckets: BTreeMap<BucketId, StatsDelta>,
    binge: BTreeMap<BingeSessionId, BingeStat>,
    counters: BTreeMap<(UserId, String), i64>,
    achievements: BTreeMap<(UserId, String), Achievement>,
    watchlist: BTreeMap<(UserId, uuid::Uuid), WatchlistItem>,
    reminders: BTreeMap<(UserId, ShowId), Reminder>,
    genres: BTreeMap<(UserId, String), i64>,
}

type Undo = Box<dyn FnOnce(&mut EventState) + Send>;

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

type Field<K, V> = fn(&mut EventState) -> &mut BTreeMap<K, V>;

/// Sets `key` to `value` (or removes it) and journals how to put back what was there.
fn write<K, V>(
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

fn processed(s: &mut EventState) -> &mut BTreeMap<(String, EventId), DateTime<Utc>> {
    &mut s.processed
}
fn buckets(s: &mut EventState) -> &mut BTreeMap<BucketId, StatsDelta> {
    &mut s.buckets
}
fn binge(s: &mut EventState) -> &mut BTreeMap<BingeSessionId, BingeStat> {
    &mut s.binge
}
fn counters(s: &mut EventState) -> &mut BTreeMap<(UserId, String), i64> {
    &mut s.counters
}
fn achievements(s: &mut EventState) -> &mut BTreeMap<(UserId, String), Achievement> {
    &mut s.achievements
}
fn watchlist(s: &mut EventState) -> &mut BTreeMap<(UserId, uuid::Uuid), WatchlistItem> {
    &mut s.watchlist
}
fn reminders(s: &mut EventState) -> &mut BTreeMap<(UserId, ShowId), Reminder> {
    &mut s.reminders
}
fn genres(s: &mut EventState) -> &mut BTreeMap<(UserId, String), i64> {
    &mut s.genres
}

impl MemoryUow {
    fn events(&mut self) -> (&mut EventState, &mut Journal) {
        (&mut self.guard.events, &mut self.journal)
    }
}

#[async_trait]
impl ProcessedEvents for MemoryUow {
    async fn mark_processed(
        &mut self,
        handler: &str,
        event: EventId,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let key = (handler.to_owned(), event);
        let (state, journal) = self.events();
        if state.processed.contains_key(&key) {
            return Ok(false);
        }
        write(state, journal, processed, key, Some(now));
        Ok(true)
    }
}

#[async_trait]
impl StatisticsRepository for MemoryUow {
    async fn add_to_buckets(
        &mut self,
        user: UserId,
        keys: &[BucketKey],
        delta: &StatsDelta,
    ) -> StoreResult<()> {
        let (state, journal) = self.events();
        for k in keys {
            let id = (user, k.granularity, k.start);
            let mut bucket = state.buckets.get(&id).cloned().unwrap_or_default();
            bucket.combine(delta);
            write(state, journal, buckets, id, Some(bucket));
        }
        Ok(())
    }

    async fn read_buckets(
        &mut self,
        user: UserId,
        spans: &[BucketSpan],
    ) -> StoreResult<StatsDelta> {
        let mut total = StatsDelta::default();
        for span in spans {
            let range = (user, span.granularity, span.from)..(user, span.granularity, span.to);
            for bucket in self.guard.events.buckets.range(range).map(|(_, b)| b) {
                total.combine(bucket);
            }
        }
        Ok(total)
    }

    async fn binge_stat(&mut self, session: BingeSessionId) -> StoreResult<Option<BingeStat>> {
        Ok(self.guard.events.binge.get(&session).copied())
    }

    async fn save_binge_stat(&mut self, stat: &BingeStat) -> StoreResult<()> {
        let (state, journal) = self.events();
        write(state, journal, binge, stat.session_id, Some(*stat));
        Ok(())
    }
}

#[async_trait]
impl AchievementRepository for MemoryUow {
    async fn bump_counter(&mut self, user: UserId, counter: &str, by: i64) -> StoreResult<i64> {
        let key = (user, counter.to_owned());
        let (state, journal) = self.events();
        let value = state.counters.get(&key).copied().unwrap_or(0) + by;
        write(state, journal, counters, key, Some(value));
        Ok(value)
    }

    async fn unlock_achievement(&mut self, a: &Achievement) -> StoreResult<bool> {
        let key = (a.user_id, a.code.clone());
        let (state, journal) = self.events();
        if state.achievements.contains_key(&key) {
            return Ok(false);
        }
        write(state, journal, achievements, key, Some(a.clone()));
        Ok(true)
    }

    async fn achievements(&mut self, user: UserId) -> StoreResult<Vec<Achievement>> {
        let mut out: Vec<Achievement> = self
            .guard
            .events
            .achievements
            .values()
            .filter(|a| a.user_id == user)
            .cloned()
            .collect();
        out.sort_by(|a, b| (a.unlocked_at, &a.code).cmp(&(b.unlocked_at, &b.code)));
        Ok(out)
    }
}

#[async_trait]
impl WatchlistRepository for MemoryUow {
    async fn add_to_watchlist(
        &mut self,
        item: &WatchlistItem,
    ) -> StoreResult<(WatchlistItem, bool)> {
        let key = (item.user_id, item.content_id);
        let (state, journal) = self.events();
        if let Some(existing) = state.watchlist.get(&key) {
            return Ok((existing.clone(), false));
        }
        write(state, journal, watchlist, key, Some(item.clone()));
        Ok((item.clone(), true))
    }

    async fn remove_from_watchlist(
        &mut self,
        user: UserId,
        content: uuid::Uuid,
    ) -> StoreResult<bool> {
        let key = (user, content);
        let (state, journal) = self.events();
        if !state.watchlist.contains_key(&key) {
            return Ok(false);
        }
        write(state, journal, watchlist, key, None);
        Ok(true)
    }

    async fn watchlist(&mut self, user: UserId) -> StoreResult<Vec<WatchlistItem>> {
        let mut out: Vec<WatchlistItem> = self
            .guard
            .events
            .watchlist
            .values()
            .filter(|w| w.user_id == user)
            .cloned()
            .collect();
        out.sort_by_key(|w| std::cmp::Reverse((w.added_at, w.content_id)));
        Ok(out)
    }
}

#[async_trait]
impl ReminderRepository for MemoryUow {
    async fn reminder(&mut self, user: UserId, show: ShowId) -> StoreResult<Option<Reminder>> {
        Ok(self.guard.events.reminders.get(&(user, show)).cloned())
    }

    async fn save_reminder(&mut self, reminder: &Reminder) -> StoreResult<()> {
        let key = (reminder.user_id, reminder.show_id);
        let (state, journal) = self.events();
        write(state, journal, reminders, key, Some(reminder.clone()));
        Ok(())
    }

    async fn reminders(&mut self, user: UserId) -> StoreResult<Vec<Reminder>> {
        let mut out: Vec<Reminder> = self
            .guard
            .events
            .reminders
            .values()
            .filter(|r| r.user_id == user)
            .cloned()
            .collect();
        out.sort_by_key(|r| (r.due_at, r.show_id));
        Ok(out)
    }

    async fn due_reminders(
        &mut self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<Reminder>> {
        let mut out: Vec<Reminder> = self
            .guard
            .events
            .reminders
            .values()
            .filter(|r| r.status == ReminderStatus::Scheduled && r.due_at <= now)
            .cloned()
            .collect();
        out.sort_by_key(|r| (r.due_at, r.user_id, r.show_id));
        out.truncate(limit as usize);
        Ok(out)
    }
}

#[async_trait]
impl PreferenceRepository for MemoryUow {
    async fn add_genre_points(
        &mut self,
        user: UserId,
        genre: &str,
        points: i64,
    ) -> StoreResult<()> {
        let key = (user, genre.to_owned());
        let (state, journal) = self.events();
        let value = state.genres.get(&key).copied().unwrap_or(0) + points;
        write(state, journal, genres, key, Some(value));
        Ok(())
    }

    async fn genre_scores(&mut self, user: UserId) -> StoreResult<Vec<GenreScore>> {
        let range = (user, String::new())..;
        Ok(self
            .guard
            .events
            .genres
            .range(range)
            .take_while(|((u, _), _)| *u == user)
            .map(|((_, genre), points)| GenreScore {
                genre: genre.clone(),
                points: *points,
            })
            .collect())
    }
}

fn seq_of(index: usize) -> i64 {
    i64::try_from(index).unwrap_or(i64::MAX).saturating_add(1)
}

fn index_of(seq: i64) -> Option<usize> {
    usize::try_from(seq.checked_sub(1)?).ok()
}

impl EventState {
    /// Moves the channel's delivered prefix past every delivered event at its head.
    fn advance_prefix(&mut self, channel: RelayChannel, outbox_len: usize) {
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

#[async_trait]
impl OutboxRelay for MemoryStore {
    async fn claim_events(
        &self,
        channel: RelayChannel,
        token: ClaimToken,
        now: DateTime<Utc>,
        lease: chrono::Duration,
        limit: u32,
    ) -> StoreResult<Vec<PendingEvent>> {
        let mut guard = self.lock().await?;
        let (outbox, events) = guard.split();
        let start = events.delivered_prefix.get(&channel).copied().unwrap_or(0);
        let mut blocked: HashSet<UserId> = HashSet::new();
        let mut claimed = Vec::new();
        for (index, envelope) in outbox.iter().enumerate().skip(start) {
            if claimed.len() >= limit as usize {
                break;
            }
            let seq = seq_of(index);
            let delivery = events.delivery.entry((channel, seq)).or_default();
            if delivery.delivered_at.is_some() || delivery.parked_at.is_some() {
                continue;
            }
            let due = delivery.next_attempt_at.is_none_or(|t| t <= now);
            let free = delivery.claim.is_none_or(|(_, until)| until <= now);
            if blocked.contains(&envelope.user_id) || !due || !free {
                blocked.insert(envelope.user_id);
                continue;
            }
            delivery.claim = Some((token, now + lease));
            let attempts = delivery.attempts;
            let body = match events.raw_payloads.get(&seq) {
                None => PendingBody::Event(envelope.clone()),
                Some(raw) => match serde_json::from_str::<EventEnvelope>(raw) {
                    Ok(e) => PendingBody::Event(e),
                    Err(e) => PendingBody::Undecodable {
                        reason: e.to_string(),
                    },
                },
            };
            claimed.push(PendingEvent {
                seq,
                event_id: envelope.event_id,
                user_id: envelope.user_id,
                body,
                attempts,
            });
        }
        Ok(claimed)
    }

    async fn mark_delivered(
        &self,
        channel: RelayChannel,
        seqs: &[i64],
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut guard = self.lock().await?;
        let len = guard.outbox().len();
        for &seq in seqs {
            if index_of(seq).is_some_and(|i| i < len) {
                let d = guard.events.delivery.entry((channel, seq)).or_default();
                d.delivered_at = Some(now);
                d.claim = None;
            }
        }
        guard.events.advance_prefix(channel, len);
        Ok(())
    }

    async fn schedule_retry(
        &self,
        channel: RelayChannel,
        token: ClaimToken,
        seq: i64,
        next_attempt_at: DateTime<Utc>,
        error: &str,
    ) -> StoreResult<()> {
        let mut guard = self.lock().await?;
        if let Some(d) = guard.events.delivery.get_mut(&(channel, seq))
            && d.claim.is_some_and(|(t, _)| t == token)
            && d.delivered_at.is_none()
        {
            d.attempts += 1;
            d.next_attempt_at = Some(next_attempt_at);
            d.last_error = Some(error.to_owned());
            d.claim = None;
        }
        Ok(())
    }

    async fn renew_claim(
        &self,
        channel: RelayChannel,
        token: ClaimToken,
        until: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let mut guard = self.lock().await?;
        let mut renewed = 0;
        for ((c, _), d) in guard.events.delivery.iter_mut() {
            if *c == channel
                && let Some((t, held_until)) = d.claim.as_mut()
                && *t == token
            {
                *held_until = until;
                renewed += 1;
            }
        }
        Ok(renewed)
    }

    async fn park_event(
        &self,
        channel: RelayChannel,
        token: ClaimToken,
        seq: i64,
        now: DateTime<Utc>,
        error: &str,
    ) -> StoreResult<()> {
        let mut guard = self.lock().await?;
        if let Some(d) = guard.events.delivery.get_mut(&(channel, seq))
            && d.claim.is_some_and(|(t, _)| t == token)
            && d.delivered_at.is_none()
        {
            d.attempts += 1;
            d.last_error = Some(error.to_owned());
            d.parked_at = Some(now);
            d.claim = None;
        }
        Ok(())
    }

    async fn dead_letters(&self, limit: u32) -> StoreResult<Vec<DeadLetter>> {
        let guard = self.lock().await?;
        let mut out: Vec<(i64, DeadLetter)> = guard
            .events
            .delivery
            .iter()
            .filter_map(|(&(channel, seq), d)| {
                let parked_at = d.parked_at?;
                let e = guard.outbox().get(index_of(seq)?)?;
                Some((
                    seq,
                    dead_letter(&guard.events, channel, seq, e, d, parked_at),
                ))
            })
            .collect();
        out.sort_by_key(|(seq, l)| (l.parked_at, *seq, l.channel));
        out.truncate(limit as usize);
        Ok(out.into_iter().map(|(_, l)| l).collect())
    }

    async fn retry_dead_letter(
        &self,
        event: EventId,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<DeadLetter>> {
        let mut guard = self.lock().await?;
        let Some(index) = guard.outbox().iter().position(|e| e.event_id == event) else {
            return Ok(Vec::new());
        };
        let seq = seq_of(index);
        let envelope = guard.outbox()[index].clone();
        let mut retried = Vec::new();
        for channel in RelayChannel::EVERY {
            let Some(d) = guard.events.delivery.get(&(channel, seq)) else {
                continue;
            };
            let Some(parked_at) = d.parked_at else {
                continue;
            };
            retried.push(dead_letter(
                &guard.events,
                channel,
                seq,
                &envelope,
                d,
                parked_at,
            ));
            if let Some(d) = guard.events.delivery.get_mut(&(channel, seq)) {
                d.parked_at = None;
                d.attempts = 0;
                d.next_attempt_at = Some(now);
                d.claim = None;
            }
        }
        Ok(retried)
    }

    async fn release_events(
        &self,
        channel: RelayChannel,
        token: ClaimToken,
        seqs: &[i64],
    ) -> StoreResult<()> {
        let mut guard = self.lock().await?;
        for &seq in seqs {
            if let Some(d) = guard.events.delivery.get_mut(&(channel, seq))
                && d.claim.is_some_and(|(t, _)| t == token)
            {
                d.claim = None;
            }
        }
        Ok(())
    }

    async fn outbox_backlog(&self, channel: RelayChannel) -> StoreResult<OutboxBacklog> {
        let guard = self.lock().await?;
        let start = guard
            .events
            .delivered_prefix
            .get(&channel)
            .copied()
            .unwrap_or(0);
        let mut backlog = OutboxBacklog::default();
        for (index, e) in guard.outbox().iter().enumerate().skip(start) {
            let delivery = guard.events.delivery.get(&(channel, seq_of(index)));
            if delivery.is_some_and(|d| d.parked_at.is_some()) {
                backlog.dead_letters += 1;
                continue;
            }
            if delivery.is_none_or(|d| d.delivered_at.is_none()) {
                backlog.pending += 1;
                backlog.oldest_occurred_at = Some(
                    backlog
                        .oldest_occurred_at
                        .map_or(e.occurred_at, |o| o.min(e.occurred_at)),
                );
            }
        }
        Ok(backlog)
    }
}

impl MemoryStore {
    /// The last delivery error of an event on a channel (tests, diagnostics).
    pub async fn last_delivery_error(&self, channel: RelayChannel, seq: i64) -> Option<String> {
        let guard = self.state.lock().await;
        guard
            .events
            .delivery
            .get(&(channel, seq))
            .and_then(|d| d.last_error.clone())
    }
}

/// The dead letter of `envelope` (at `seq`) on `channel`.
fn dead_letter(
    state: &EventState,
    channel: RelayChannel,
    seq: i64,
    envelope: &EventEnvelope,
    d: &Delivery,
    parked_at: DateTime<Utc>,
) -> DeadLetter {
    let payload = state
        .raw_payloads
        .get(&seq)
        .cloned()
        .unwrap_or_else(|| serde_json::to_string(envelope).unwrap_or_default());
    DeadLetter {
        event_id: envelope.event_id,
        channel,
        user_id: envelope.user_id,
        event_type: envelope.event_type().to_owned(),
        attempts: d.attempts,
        last_error: d.last_error.clone(),
        parked_at,
        payload,
    }
}

impl MemoryStore {
    /// Replaces the stored payload of `event` by `text`, as an `UPDATE outbox SET payload`
    /// would on a SQL store: claims read that text from then on (a test hook for payloads a
    /// relay cannot read). `false` when the event is not in the outbox.
    pub async fn replace_outbox_payload(&self, event: EventId, text: &str) -> bool {
        let mut guard = self.state.lock().await;
        let Some(index) = guard.outbox().iter().position(|e| e.event_id == event) else {
            return false;
        };
        guard
            .events
            .raw_payloads
            .insert(seq_of(index), text.to_owned());
        true
    }
}
