use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio::sync::{Mutex, OwnedMutexGuard};
use viewing_domain::idempotency::{
    self, Completed, Decision, IdempotencyKey, IdempotencyPolicy, KeyRow, RequestFingerprint,
};
use viewing_domain::ports::*;
use viewing_domain::{
    AbandonId, AbandonRecord, BingeSession, BingeSessionId, EpisodeId, EventEnvelope, Movie,
    MovieId, RecordId, SeasonId, Show, ShowId, ShowProgress, UserId, ViewingRecord,
};

#[derive(Debug, Clone, Default)]
struct State {
    users: HashSet<UserId>,
    movies: HashMap<MovieId, Movie>,
    shows: HashMap<ShowId, Show>,
    season_owner: HashMap<SeasonId, ShowId>,
    episode_owner: HashMap<EpisodeId, ShowId>,
    records: Vec<ViewingRecord>,
    progress: HashMap<(UserId, ShowId), ShowProgress>,
    sessions: HashMap<BingeSessionId, BingeSession>,
    abandons: Vec<AbandonRecord>,
    outbox: Vec<EventEnvelope>,
    idempotency: HashMap<(UserId, IdempotencyKey), KeyRow>,
}

/// Everything behind the store's lock: the record state (copied per unit of work) and the
/// event side (changed in place, undone through a journal; see `crate::events`).
#[derive(Debug, Default)]
pub(crate) struct Shared {
    state: State,
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
    lock_wait: Duration,
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
    work: State,
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

#[async_trait]
impl CatalogRepository for MemoryUow {
    async fn movie(&mut self, id: MovieId) -> StoreResult<Option<Movie>> {
        Ok(self.work.movies.get(&id).cloned())
    }

    async fn show(&mut self, id: ShowId) -> StoreResult<Option<Show>> {
        Ok(self.work.shows.get(&id).cloned())
    }

    async fn show_of_episode(&mut self, id: EpisodeId) -> StoreResult<Option<Show>> {
        Ok(self
            .work
            .episode_owner
            .get(&id)
            .and_then(|s| self.work.shows.get(s))
            .cloned())
    }

    async fn titles(&mut self, ids: &[uuid::Uuid]) -> StoreResult<HashMap<uuid::Uuid, String>> {
        let mut out = HashMap::new();
        for &id in ids {
            if let Some(m) = self.work.movies.get(&MovieId::from(id)) {
                out.insert(id, m.title.as_str().to_owned());
            } else if let Some(s) = self.work.shows.get(&ShowId::from(id)) {
                out.insert(id, s.title.as_str().to_owned());
            }
        }
        Ok(out)
    }

    async fn upsert_movie(&mut self, movie: &Movie) -> StoreResult<()> {
        self.work.movies.insert(movie.id, movie.clone());
        Ok(())
    }

    async fn upsert_show(&mut self, show: &Show) -> StoreResult<()> {
        for season in show.seasons() {
            if self
                .work
                .season_owner
                .get(&season.id)
                .is_some_and(|owner| *owner != show.id)
            {
                return Err(StoreError::Conflict(format!(
                    "season {} belongs to another show",
                    season.id
                )));
            }
            for e in &season.episodes {
                if self
                    .work
                    .episode_owner
                    .get(&e.id)
                    .is_some_and(|owner| *owner != show.id)
                {
                    return Err(StoreError::Conflict(format!(
                        "episode {} belongs to another show",
                        e.id
                    )));
                }
            }
        }
        self.work.season_owner.retain(|_, owner| *owner != show.id);
        self.work.episode_owner.retain(|_, owner| *owner != show.id);
        for season in show.seasons() {
            self.work.season_owner.insert(season.id, show.id);
            for e in &season.episodes {
                self.work.episode_owner.insert(e.id, show.id);
            }
        }
        self.work.shows.insert(show.id, show.clone());
        Ok(())
    }
}

#[async_trait]
impl UserRepository for MemoryUow {
    async fn ensure_user(&mut self, user: UserId, _now: DateTime<Utc>) -> StoreResult<()> {
        self.work.users.insert(user);
        Ok(())
    }
}

fn matches(r: &ViewingRecord, f: &HistoryFilter) -> bool {
    f.from.is_none_or(|from| r.watch_date >= from)
        && f.to.is_none_or(|to| r.watch_date <= to)
        && f.content_type.is_none_or(|t| r.watched.content_type() == t)
        && f.platform.as_ref().is_none_or(|p| {
            r.platform
                .as_ref()
                .is_some_and(|rp| rp.as_str().eq_ignore_ascii_case(p))
        })
}

#[async_trait]
impl ViewingRecordRepository for MemoryUow {
    async fn insert_record(&mut self, record: &ViewingRecord) -> StoreResult<()> {
        if self.work.records.iter().any(|r| r.id == record.id) {
            return Err(StoreError::Conflict(format!("record {} exists", record.id)));
        }
        self.work.records.push(record.clone());
        Ok(())
    }

    async fn set_binge_session(
        &mut self,
        record: RecordId,
        session: Option<BingeSessionId>,
    ) -> StoreResult<()> {
        if let Some(r) = self.work.records.iter_mut().find(|r| r.id == record) {
            r.binge_session_id = session;
        }
        Ok(())
    }

    async fn record(&mut self, user: UserId, id: RecordId) -> StoreResult<Option<ViewingRecord>> {
        Ok(self
            .work
            .records
            .iter()
            .find(|r| r.id == id && r.user_id == user)
            .cloned())
    }

    async fn count_records_of(&mut self, user: UserId, content: uuid::Uuid) -> StoreResult<u64> {
        Ok(self
            .work
            .records
            .iter()
            .filter(|r| r.user_id == user && r.watched.content_id() == content)
            .count() as u64)
    }

    async fn episode_records(
        &mut self,
        user: UserId,
        show: ShowId,
    ) -> StoreResult<Vec<ViewingRecord>> {
        Ok(self
            .work
            .records
            .iter()
            .filter(|r| r.user_id == user && r.watched.show_id() == Some(show))
            .cloned()
            .collect())
    }

    async fn history(
        &mut self,
        user: UserId,
        filter: &HistoryFilter,
        paging: HistoryPaging,
    ) -> StoreResult<HistorySlice> {
        let mut all: Vec<&ViewingRecord> = self
            .work
            .records
            .iter()
            .filter(|r| r.user_id == user && matches(r, filter))
            .collect();
        all.sort_by_key(|r| std::cmp::Reverse((r.watch_date, r.id)));
        let total_items = all.len() as u64;
        let items = match paging {
            HistoryPaging::Page { page, limit } => all
                .into_iter()
                .skip((page.saturating_sub(1) as usize).saturating_mul(limit as usize))
                .take(limit as usize)
                .cloned()
                .collect(),
            HistoryPaging::First { limit } => {
                all.into_iter().take(limit as usize).cloned().collect()
            }
            HistoryPaging::After { cursor, limit } => all
                .into_iter()
                .filter(|r| (r.watch_date, r.id) < (cursor.watch_date, cursor.id))
                .take(limit as usize)
                .cloned()
                .collect(),
        };
        Ok(HistorySlice { items, total_items })
    }
}

#[async_trait]
impl ShowProgressRepository for MemoryUow {
    async fn progress(&mut self, user: UserId, show: ShowId) -> StoreResult<Option<ShowProgress>> {
        Ok(self.work.progress.get(&(user, show)).cloned())
    }

    async fn save_progress(&mut self, progress: &ShowProgress) -> StoreResult<()> {
        self.work
            .progress
            .insert((progress.user_id, progress.show_id), progress.clone());
        Ok(())
    }

    async fn progress_of_user(&mut self, user: UserId) -> StoreResult<Vec<ShowProgress>> {
        let mut out: Vec<ShowProgress> = self
            .work
            .progress
            .values()
            .filter(|p| p.user_id == user)
            .cloned()
            .collect();
        out.sort_by_key(|p| std::cmp::Reverse(p.last_activity_at));
        Ok(out)
    }

    async fn idle_progress(
        &mut self,
        idle_since: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<ShowProgress>> {
        let mut out: Vec<ShowProgress> = self
            .work
            .progress
            .values()
            .filter(|p| {
                !p.is_completed
                    && p.total_episodes_watched > 0
                    && p.inactivity_reported_at.is_none()
                    && p.last_activity_at.is_some_and(|l| l < idle_since)
            })
            .cloned()
            .collect();
        out.sort_by_key(|p| p.last_activity_at);
        out.truncate(limit as usize);
        Ok(out)
    }
}

#[async_trait]
impl BingeSessionRepository for MemoryUow {
    async fn binge_session(&mut self, id: BingeSessionId) -> StoreResult<Option<BingeSession>> {
        Ok(self.work.sessions.get(&id).cloned())
    }

    async fn user_binge_session(
        &mut self,
        user: UserId,
        id: BingeSessionId,
    ) -> StoreResult<Option<BingeSession>> {
        Ok(self
            .work
            .sessions
            .get(&id)
            .filter(|s| s.user_id == user)
            .cloned())
    }

    async fn binge_sessions_of_show(
        &mut self,
        user: UserId,
        show: ShowId,
    ) -> StoreResult<Vec<BingeSession>> {
        let mut out: Vec<BingeSession> = self
            .work
            .sessions
            .values()
            .filter(|s| s.user_id == user && s.show_id == show)
            .cloned()
            .collect();
        out.sort_by_key(|s| (s.start_time, s.id));
        Ok(out)
    }

    async fn save_binge_session(&mut self, session: &BingeSession) -> StoreResult<()> {
        self.work.sessions.insert(session.id, session.clone());
        Ok(())
    }

    async fn delete_binge_session(&mut self, id: BingeSessionId) -> StoreResult<()> {
        self.work.sessions.remove(&id);
        Ok(())
    }
}

#[async_trait]
impl AbandonRepository for MemoryUow {
    async fn insert_abandon(&mut self, record: &AbandonRecord) -> StoreResult<()> {
        self.work.abandons.push(record.clone());
        Ok(())
    }

    async fn abandon_record(
        &mut self,
        user: UserId,
        id: AbandonId,
    ) -> StoreResult<Option<AbandonRecord>> {
        Ok(self
            .work
            .abandons
            .iter()
            .find(|a| a.id == id && a.user_id == user)
            .cloned())
    }

    async fn latest_abandon(
        &mut self,
        user: UserId,
        item: uuid::Uuid,
    ) -> StoreResult<Option<AbandonRecord>> {
        Ok(self
            .work
            .abandons
            .iter()
            .filter(|a| a.user_id == user && a.item_id == item)
            .max_by_key(|a| (a.abandon_date, a.created_at, a.id))
            .cloned())
    }

    async fn abandons_between(
        &mut self,
        user: UserId,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> StoreResult<Vec<AbandonRecord>> {
        let mut out: Vec<AbandonRecord> = self
            .work
            .abandons
            .iter()
            .filter(|a| {
                a.user_id == user
                    && from.is_none_or(|f| a.abandon_date >= f)
                    && to.is_none_or(|t| a.abandon_date <= t)
            })
            .cloned()
            .collect();
        out.sort_by_key(|a| std::cmp::Reverse((a.abandon_date, a.id)));
        Ok(out)
    }
}

#[async_trait]
impl Outbox for MemoryUow {
    async fn append_events(&mut self, events: &[EventEnvelope]) -> StoreResult<()> {
        self.work.outbox.extend_from_slice(events);
        Ok(())
    }
}

#[async_trait]
impl IdempotencyStore for MemoryStore {
    /// Decides under the store's lock, so two requests with one key decide one after the other.
    async fn claim_idempotency_key(
        &self,
        user: UserId,
        key: &IdempotencyKey,
        request: &RequestFingerprint,
        now: DateTime<Utc>,
        policy: IdempotencyPolicy,
    ) -> StoreResult<Decision> {
        let mut shared = self.lock().await?;
        let keys = &mut shared.state.idempotency;
        let slot = (user, key.clone());
        let decision = idempotency::decide(keys.get(&slot), request, now, policy);
        if decision.claims() {
            keys.insert(slot, KeyRow::claim(request.clone(), now));
        }
        Ok(decision)
    }

    async fn complete_idempotency_key(
        &self,
        user: UserId,
        key: &IdempotencyKey,
        response: &StoredResponse,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut shared = self.lock().await?;
        if let Some(row) = shared.state.idempotency.get_mut(&(user, key.clone())) {
            row.completed = Some(Completed {
                at: now,
                response: response.clone(),
            });
        }
        Ok(())
    }

    async fn release_idempotency_key(&self, user: UserId, key: &IdempotencyKey) -> StoreResult<()> {
        let mut shared = self.lock().await?;
        let slot = (user, key.clone());
        if shared
            .state
            .idempotency
            .get(&slot)
            .is_some_and(|row| row.completed.is_none())
        {
            shared.state.idempotency.remove(&slot);
        }
        Ok(())
    }
}
