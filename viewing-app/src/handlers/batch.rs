//! A batch of events applied in one unit of work (SPEC §14): what the handlers read is read
//! once per batch, and what they add up is written once per batch.
//!
//! - **Reads.** The handlers never write records, progress or binge sessions, so within one
//!   unit of work a user's records and progress of a show, or a binge session, read for one
//!   event are the same for the next: they are kept for the batch.
//! - **Sums.** Statistics buckets, achievement counters and genre points are sums: the deltas of
//!   the batch are combined per user and key and written once at the end ([`BatchEffects::flush`]).
//!   A counter is read once (its value then moves in memory, so every milestone is still seen).
//! - **Once.** An achievement is tried once per user and batch.
//! - **Read ahead.** Before the batch runs, each handler names what it will read
//!   ([`super::EventHandler::prefetch`]): counters, achievements, reminders, episode records,
//!   binge sessions and their counts of every user in the batch are read in one statement
//!   each, not one per user.
//! - **Last writer wins.** Binge statistics and reminders are read once, changed in memory by
//!   every event in order, and the final state written once.
//!
//! Outside a batch ([`HandlerContext::batch`] is `None`) every call goes to the unit of work
//! directly, so a single event behaves exactly as before. A failed batch is rolled back with its
//! unit of work and these buffers are dropped with it.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use viewing_domain::engagement::{Achievement, Reminder};
use viewing_domain::ports::{
    BingeSessionRepository, HandlerUnitOfWork, ShowProgressRepository, UserRepository,
    ViewingRecordRepository,
};
use viewing_domain::stats::{BingeStat, BucketKey, StatsDelta};
use viewing_domain::{BingeSession, BingeSessionId, ShowId, ShowProgress, UserId, ViewingRecord};

use super::HandlerContext;
use crate::error::AppResult;
use crate::progress_cache::ProgressCache;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[derive(Debug, Clone, Copy)]
struct Counter {
    /// The stored value when the batch first touched it.
    stored: i64,
    /// What the batch added since.
    added: i64,
}

/// A user's show.
type UserShow = (UserId, ShowId);
/// A value read once in the batch, and whether the batch changed it since (then it is
/// written at the flush).
type Kept<T> = (Option<T>, bool);

/// What the handlers read and add up while a relay applies one batch of events.
#[derive(Debug, Default)]
pub struct BatchEffects {
    buckets: Mutex<BTreeMap<(UserId, BucketKey), StatsDelta>>,
    counters: Mutex<BTreeMap<(UserId, String), Counter>>,
    genre_points: Mutex<BTreeMap<(UserId, String), i64>>,
    binge_stats: Mutex<HashMap<BingeSessionId, Kept<BingeStat>>>,
    reminders: Mutex<HashMap<UserShow, Kept<Reminder>>>,
    records: Mutex<HashMap<UserShow, Arc<Vec<ViewingRecord>>>>,
    progress: Mutex<HashMap<UserShow, Option<ShowProgress>>>,
    sessions: Mutex<HashMap<BingeSessionId, Option<BingeSession>>>,
    unlocks: Mutex<std::collections::HashSet<(UserId, String)>>,
    /// Where episode records read by earlier batches are kept, per user revision.
    progress_cache: Option<Arc<ProgressCache>>,
}

impl BatchEffects {
    /// Empty buffers that read episode records through `cache` (kept per user revision, so
    /// a long backlog reads a user's records once, not once per batch).
    pub fn with_progress_cache(cache: Arc<ProgressCache>) -> Self {
        Self {
            progress_cache: Some(cache),
            ..Self::default()
        }
    }

    /// Writes everything the batch added up or changed, in `uow`, and empties the buffers.
    /// Returns how many rows were written.
    pub async fn flush<U: HandlerUnitOfWork>(&self, uow: &mut U) -> AppResult<usize> {
        let mut written = 0;
        let buckets: Vec<_> = std::mem::take(&mut *lock(&self.buckets))
            .into_iter()
            .map(|((user, key), delta)| (user, key, delta))
            .collect();
        if !buckets.is_empty() {
            uow.add_to_bucket_rows(&buckets).await?;
            written += buckets.len();
        }
        let counters: Vec<_> = std::mem::take(&mut *lock(&self.counters))
            .into_iter()
            .filter(|(_, c)| c.added != 0)
            .map(|((user, name), c)| (user, name, c.added))
            .collect();
        if !counters.is_empty() {
            uow.bump_counters(&counters).await?;
            written += counters.len();
        }
        let points: Vec<_> = std::mem::take(&mut *lock(&self.genre_points))
            .into_iter()
            .filter(|(_, p)| *p != 0)
            .map(|((user, genre), p)| (user, genre, p))
            .collect();
        if !points.is_empty() {
            uow.add_genre_points_many(&points).await?;
            written += points.len();
        }
        let stats = std::mem::take(&mut *lock(&self.binge_stats));
        for (stat, dirty) in stats.into_values() {
            if let (Some(stat), true) = (stat, dirty) {
                uow.save_binge_stat(&stat).await?;
                written += 1;
            }
        }
        let reminders = std::mem::take(&mut *lock(&self.reminders));
        for (reminder, dirty) in reminders.into_values() {
            if let (Some(r), true) = (reminder, dirty) {
                uow.save_reminder(&r).await?;
                written += 1;
            }
        }
        Ok(written)
    }
}

/// The items of `keys` that are not `known`, once each, sorted.
fn missing<K: Ord>(keys: impl IntoIterator<Item = K>, known: impl Fn(&K) -> bool) -> Vec<K> {
    keys.into_iter()
        .filter(|k| !known(k))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

impl BatchEffects {
    /// Reads the counters `keys` in one statement (a missing counter is zero), so that
    /// [`HandlerContext::bump_counter`] finds them.
    pub async fn prefetch_counters<U: HandlerUnitOfWork>(
        &self,
        uow: &mut U,
        keys: impl IntoIterator<Item = (UserId, String)>,
    ) -> AppResult<()> {
        let keys = {
            let known = lock(&self.counters);
            missing(keys, |k| known.contains_key(k))
        };
        if keys.is_empty() {
            return Ok(());
        }
        let stored = uow.counters(&keys).await?;
        let mut map = lock(&self.counters);
        for (user, name, value) in stored {
            map.insert(
                (user, name),
                Counter {
                    stored: value,
                    added: 0,
                },
            );
        }
        for k in keys {
            map.entry(k).or_insert(Counter {
                stored: 0,
                added: 0,
            });
        }
        Ok(())
    }

    /// Reads the achievements of `users` in one statement, so that
    /// [`HandlerContext::unlock_achievement`] does not try those again.
    pub async fn prefetch_achievements<U: HandlerUnitOfWork>(
        &self,
        uow: &mut U,
        users: impl IntoIterator<Item = UserId>,
    ) -> AppResult<()> {
        let users = missing(users, |_| false);
        if users.is_empty() {
            return Ok(());
        }
        let known = uow.achievements_of(&users).await?;
        let mut unlocks = lock(&self.unlocks);
        unlocks.extend(known.into_iter().map(|a| (a.user_id, a.code)));
        Ok(())
    }

    /// Reads the reminders of `keys` in one statement.
    pub async fn prefetch_reminders<U: HandlerUnitOfWork>(
        &self,
        uow: &mut U,
        keys: impl IntoIterator<Item = UserShow>,
    ) -> AppResult<()> {
        let keys = {
            let known = lock(&self.reminders);
            missing(keys, |k| known.contains_key(k))
        };
        if keys.is_empty() {
            return Ok(());
        }
        let found = uow.reminders_of(&keys).await?;
        let mut map = lock(&self.reminders);
        for r in found {
            map.insert((r.user_id, r.show_id), (Some(r), false));
        }
        for k in keys {
            map.entry(k).or_insert((None, false));
        }
        Ok(())
    }

    /// Reads the episode records of the `(user, show)` keys in one statement, except those
    /// the progress cache holds for the user's current revision (read first, in one statement).
    pub async fn prefetch_records<U: ViewingRecordRepository + UserRepository>(
        &self,
        uow: &mut U,
        keys: impl IntoIterator<Item = UserShow>,
    ) -> AppResult<()> {
        let mut keys = {
            let known = lock(&self.records);
            missing(keys, |k| known.contains_key(k))
        };
        if keys.is_empty() {
            return Ok(());
        }
        let mut revisions = HashMap::new();
        if let Some(cache) = &self.progress_cache {
            let users = missing(keys.iter().map(|(u, _)| *u), |_| false);
            revisions = uow.user_revisions(&users).await?;
            let mut map = lock(&self.records);
            keys.retain(|(user, show)| {
                let revision = revisions.get(user).copied().unwrap_or(0);
                match cache.episode_records(*user, *show, revision) {
                    Some(kept) => {
                        map.insert((*user, *show), kept);
                        false
                    }
                    None => true,
                }
            });
        }
        if keys.is_empty() {
            return Ok(());
        }
        let mut found = uow.episode_records_of_user_shows(&keys).await?;
        let mut map = lock(&self.records);
        for (user, show) in keys {
            let records = Arc::new(found.remove(&(user, show)).unwrap_or_default());
            if let Some(cache) = &self.progress_cache {
                let revision = revisions.get(&user).copied().unwrap_or(0);
                cache.keep_episode_records(user, show, revision, records.clone());
            }
            map.insert((user, show), records);
        }
        Ok(())
    }

    /// Reads the binge sessions `ids` in one statement.
    pub async fn prefetch_binge_sessions<U: BingeSessionRepository>(
        &self,
        uow: &mut U,
        ids: impl IntoIterator<Item = BingeSessionId>,
    ) -> AppResult<()> {
        let ids = {
            let known = lock(&self.sessions);
            missing(ids, |k| known.contains_key(k))
        };
        if ids.is_empty() {
            return Ok(());
        }
        let found = uow.binge_sessions_by_id(&ids).await?;
        let mut map = lock(&self.sessions);
        for s in found {
            map.insert(s.id, Some(s));
        }
        for id in ids {
            map.entry(id).or_insert(None);
        }
        Ok(())
    }

    /// Reads what was counted for the binge sessions `ids` in one statement.
    pub async fn prefetch_binge_stats<U: HandlerUnitOfWork>(
        &self,
        uow: &mut U,
        ids: impl IntoIterator<Item = BingeSessionId>,
    ) -> AppResult<()> {
        let ids = {
            let known = lock(&self.binge_stats);
            missing(ids, |k| known.contains_key(k))
        };
        if ids.is_empty() {
            return Ok(());
        }
        let found = uow.binge_stats(&ids).await?;
        let mut map = lock(&self.binge_stats);
        for stat in found {
            map.insert(stat.session_id, (Some(stat), false));
        }
        for id in ids {
            map.entry(id).or_insert((None, false));
        }
        Ok(())
    }
}

impl HandlerContext<'_> {
    /// Adds `delta` to each of the user's statistics buckets `keys`.
    pub async fn add_to_buckets<U: HandlerUnitOfWork>(
        &self,
        uow: &mut U,
        user: UserId,
        keys: &[BucketKey],
        delta: &StatsDelta,
    ) -> AppResult<()> {
        match self.batch {
            Some(b) => {
                let mut buckets = lock(&b.buckets);
                for key in keys {
                    buckets.entry((user, *key)).or_default().combine(delta);
                }
            }
            None => uow.add_to_buckets(user, keys, delta).await?,
        }
        Ok(())
    }

    /// Adds `by` to the user's achievement counter and answers its new value.
    pub async fn bump_counter<U: HandlerUnitOfWork>(
        &self,
        uow: &mut U,
        user: UserId,
        counter: &str,
        by: i64,
    ) -> AppResult<i64> {
        let Some(b) = self.batch else {
            return Ok(uow.bump_counter(user, counter, by).await?);
        };
        let key = (user, counter.to_owned());
        let known = lock(&b.counters).get(&key).copied();
        let mut c = match known {
            Some(c) => c,
            None => Counter {
                stored: uow.bump_counter(user, counter, 0).await?,
                added: 0,
            },
        };
        c.added += by;
        lock(&b.counters).insert(key, c);
        Ok(c.stored + c.added)
    }

    /// Adds `points` to the user's score of `genre`.
    pub async fn add_genre_points<U: HandlerUnitOfWork>(
        &self,
        uow: &mut U,
        user: UserId,
        genre: &str,
        points: i64,
    ) -> AppResult<()> {
        match self.batch {
            Some(b) => {
                *lock(&b.genre_points)
                    .entry((user, genre.to_owned()))
                    .or_default() += points
            }
            None => uow.add_genre_points(user, genre, points).await?,
        }
        Ok(())
    }

    /// How a binge session was counted so far.
    pub async fn binge_stat<U: HandlerUnitOfWork>(
        &self,
        uow: &mut U,
        session: BingeSessionId,
    ) -> AppResult<Option<BingeStat>> {
        let Some(b) = self.batch else {
            return Ok(uow.binge_stat(session).await?);
        };
        if let Some((stat, _)) = lock(&b.binge_stats).get(&session) {
            return Ok(*stat);
        }
        let stat = uow.binge_stat(session).await?;
        lock(&b.binge_stats).insert(session, (stat, false));
        Ok(stat)
    }

    /// Keeps how a binge session is counted now.
    pub async fn save_binge_stat<U: HandlerUnitOfWork>(
        &self,
        uow: &mut U,
        stat: &BingeStat,
    ) -> AppResult<()> {
        match self.batch {
            Some(b) => {
                lock(&b.binge_stats).insert(stat.session_id, (Some(*stat), true));
            }
            None => uow.save_binge_stat(stat).await?,
        }
        Ok(())
    }

    /// Stores the achievement unless the user has it; `true` when stored now. In a batch,
    /// each user's achievement is tried once (a marathon is re-earned by every episode of a
    /// long binge).
    pub async fn unlock_achievement<U: HandlerUnitOfWork>(
        &self,
        uow: &mut U,
        achievement: &Achievement,
    ) -> AppResult<bool> {
        if let Some(b) = self.batch
            && !lock(&b.unlocks).insert((achievement.user_id, achievement.code.clone()))
        {
            return Ok(false);
        }
        Ok(uow.unlock_achievement(achievement).await?)
    }

    /// The user's continuation reminder of a show.
    pub async fn reminder<U: HandlerUnitOfWork>(
        &self,
        uow: &mut U,
        user: UserId,
        show: ShowId,
    ) -> AppResult<Option<Reminder>> {
        let Some(b) = self.batch else {
            return Ok(uow.reminder(user, show).await?);
        };
        if let Some((r, _)) = lock(&b.reminders).get(&(user, show)) {
            return Ok(r.clone());
        }
        let r = uow.reminder(user, show).await?;
        lock(&b.reminders).insert((user, show), (r.clone(), false));
        Ok(r)
    }

    /// Keeps the user's continuation reminder of a show.
    pub async fn save_reminder<U: HandlerUnitOfWork>(
        &self,
        uow: &mut U,
        reminder: &Reminder,
    ) -> AppResult<()> {
        match self.batch {
            Some(b) => {
                lock(&b.reminders).insert(
                    (reminder.user_id, reminder.show_id),
                    (Some(reminder.clone()), true),
                );
            }
            None => uow.save_reminder(reminder).await?,
        }
        Ok(())
    }

    /// The user's viewing records of a show's episodes.
    pub async fn episode_records<U: ViewingRecordRepository>(
        &self,
        uow: &mut U,
        user: UserId,
        show: ShowId,
    ) -> AppResult<Arc<Vec<ViewingRecord>>> {
        let Some(b) = self.batch else {
            return Ok(Arc::new(uow.episode_records(user, show).await?));
        };
        if let Some(r) = lock(&b.records).get(&(user, show)) {
            return Ok(r.clone());
        }
        let r = Arc::new(uow.episode_records(user, show).await?);
        lock(&b.records).insert((user, show), r.clone());
        Ok(r)
    }

    /// The user's progress in a show.
    pub async fn progress<U: ShowProgressRepository>(
        &self,
        uow: &mut U,
        user: UserId,
        show: ShowId,
    ) -> AppResult<Option<ShowProgress>> {
        let Some(b) = self.batch else {
            return Ok(uow.progress(user, show).await?);
        };
        if let Some(p) = lock(&b.progress).get(&(user, show)) {
            return Ok(p.clone());
        }
        let p = uow.progress(user, show).await?;
        lock(&b.progress).insert((user, show), p.clone());
        Ok(p)
    }

    /// A binge session by id.
    pub async fn binge_session<U: BingeSessionRepository>(
        &self,
        uow: &mut U,
        id: BingeSessionId,
    ) -> AppResult<Option<BingeSession>> {
        let Some(b) = self.batch else {
            return Ok(uow.binge_session(id).await?);
        };
        if let Some(s) = lock(&b.sessions).get(&id) {
            return Ok(s.clone());
        }
        let s = uow.binge_session(id).await?;
        lock(&b.sessions).insert(id, s.clone());
        Ok(s)
    }
}
