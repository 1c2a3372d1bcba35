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
//! - **Last writer wins.** Binge statistics and reminders are read once, changed in memory by
//!   every event in order, and the final state written once.
//!
//! Outside a batch ([`HandlerContext::batch`] is `None`) every call goes to the unit of work
//! directly, so a single event behaves exactly as before. A failed batch is rolled back with its
//! unit of work and these buffers are dropped with it.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use viewing_domain::engagement::{Achievement, Reminder};
use viewing_domain::ports::{
    BingeSessionRepository, HandlerUnitOfWork, ShowProgressRepository, ViewingRecordRepository,
};
use viewing_domain::stats::{BingeStat, BucketKey, StatsDelta};
use viewing_domain::{BingeSession, BingeSessionId, ShowId, ShowProgress, UserId, ViewingRecord};

use super::HandlerContext;
use crate::error::AppResult;

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
}

impl BatchEffects {
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
        let counters = std::mem::take(&mut *lock(&self.counters));
        for ((user, name), c) in counters {
            if c.added != 0 {
                uow.bump_counter(user, &name, c.added).await?;
                written += 1;
            }
        }
        let points = std::mem::take(&mut *lock(&self.genre_points));
        for ((user, genre), p) in points {
            if p != 0 {
                uow.add_genre_points(user, &genre, p).await?;
                written += 1;
            }
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
