//! Ports of the event handlers' state (SPEC §7). Every repository here is part of every unit
//! of work ([`crate::ports::HandlerUnitOfWork`] requires them all), written in the same transaction as
//! the handler's processed mark.
//!
//! Error contract as in [`crate::ports`]: `Unavailable` when the store cannot be reached,
//! `Conflict` for a race the store could not resolve, `Unexpected` otherwise; "not found" is
//! `None` or `false`, never an error.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::engagement::{Achievement, GenreScore, Reminder, WatchlistItem};
use crate::ids::{BingeSessionId, ShowId, UserId};
use crate::ports::StoreResult;
use crate::stats::{BingeStat, BucketKey, BucketSpan, StatsDelta};

/// The statistics buckets of [`crate::stats`].
#[async_trait]
pub trait StatisticsRepository: Send {
    /// Adds `delta` to each of the user's buckets `keys` (missing buckets start at zero):
    /// counters and dimension tallies are summed, `longest_binge` takes the maximum.
    async fn add_to_buckets(
        &mut self,
        user: UserId,
        keys: &[BucketKey],
        delta: &StatsDelta,
    ) -> StoreResult<()>;

    /// Adds many deltas at once, each `(user, key, delta)` as `add_to_buckets(user, &[key],
    /// delta)` would: what a relay applying a batch of events writes at its end. The
    /// `(user, key)` pairs are distinct and sorted (so concurrent writers lock rows in one
    /// order). Stores write it in two statements; the default writes one bucket at a time.
    async fn add_to_bucket_rows(
        &mut self,
        rows: &[(UserId, BucketKey, StatsDelta)],
    ) -> StoreResult<()> {
        for (user, key, delta) in rows {
            self.add_to_buckets(*user, std::slice::from_ref(key), delta)
                .await?;
        }
        Ok(())
    }

    /// The combination of every bucket of the user inside `spans` (the spans never overlap).
    async fn read_buckets(&mut self, user: UserId, spans: &[BucketSpan])
    -> StoreResult<StatsDelta>;

    /// What the statistics handler has counted for a binge session, if anything.
    async fn binge_stat(&mut self, session: BingeSessionId) -> StoreResult<Option<BingeStat>>;

    /// Inserts or replaces by session id.
    async fn save_binge_stat(&mut self, stat: &BingeStat) -> StoreResult<()>;

    /// The most episodes of one of the user's counted binge sessions starting in `[from, to)`
    /// (an open bound: no limit), 0 without any: what `longestBingeEpisodes` reads. Unlike the
    /// sums of the buckets, a maximum cannot be taken back when a correction shrinks or removes
    /// a session, so it is read from the kept counts (one indexed range of the user's
    /// sessions).
    async fn longest_binge(
        &mut self,
        user: UserId,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> StoreResult<u32>;

    /// What was counted for each of `sessions` that has a count, any order: what a relay
    /// reads once for a batch. Stores answer in one statement; the default asks one by one.
    async fn binge_stats(&mut self, sessions: &[BingeSessionId]) -> StoreResult<Vec<BingeStat>> {
        let mut out = Vec::new();
        for s in sessions {
            out.extend(self.binge_stat(*s).await?);
        }
        Ok(out)
    }
}

#[async_trait]
/// The `AchievementTracker`'s state: milestone counters and the achievements unlocked.
pub trait AchievementRepository: Send {
    /// Adds `by` to the user's milestone counter `counter` (starting at zero) and returns the
    /// new value.
    async fn bump_counter(&mut self, user: UserId, counter: &str, by: i64) -> StoreResult<i64>;

    /// Stores the achievement unless the user has one with the same code; `true` when stored.
    async fn unlock_achievement(&mut self, achievement: &Achievement) -> StoreResult<bool>;

    /// The user's achievements, in unlock order (`unlocked_at`, then code).
    async fn achievements(&mut self, user: UserId) -> StoreResult<Vec<Achievement>>;

    /// The stored value of each `(user, counter)` key that has one, any order (a missing
    /// counter is zero): what a relay reads once for a batch. Stores answer in one statement;
    /// the default bumps each key by zero.
    async fn counters(
        &mut self,
        keys: &[(UserId, String)],
    ) -> StoreResult<Vec<(UserId, String, i64)>> {
        let mut out = Vec::with_capacity(keys.len());
        for (user, counter) in keys {
            let value = self.bump_counter(*user, counter, 0).await?;
            out.push((*user, counter.clone(), value));
        }
        Ok(out)
    }

    /// Adds each `(user, counter, by)` as [`Self::bump_counter`] would; the keys are distinct.
    /// Stores write it in one statement; the default one counter at a time.
    async fn bump_counters(&mut self, rows: &[(UserId, String, i64)]) -> StoreResult<()> {
        for (user, counter, by) in rows {
            self.bump_counter(*user, counter, *by).await?;
        }
        Ok(())
    }

    /// The achievements of every user of `users`, any order. Stores answer in one statement;
    /// the default asks user by user.
    async fn achievements_of(&mut self, users: &[UserId]) -> StoreResult<Vec<Achievement>> {
        let mut out = Vec::new();
        for u in users {
            out.extend(self.achievements(*u).await?);
        }
        Ok(out)
    }
}

#[async_trait]
/// The watchlist: movies and shows a user wants to watch.
pub trait WatchlistRepository: Send {
    /// Adds the item unless the user already has that content, and returns what is stored
    /// (the existing item keeps its `added_at`) and whether it was added now.
    async fn add_to_watchlist(
        &mut self,
        item: &WatchlistItem,
    ) -> StoreResult<(WatchlistItem, bool)>;

    /// `true` when the item was there.
    async fn remove_from_watchlist(
        &mut self,
        user: UserId,
        content: uuid::Uuid,
    ) -> StoreResult<bool>;

    /// Newest first (`added_at`, then content id, descending).
    async fn watchlist(&mut self, user: UserId) -> StoreResult<Vec<WatchlistItem>>;
}

#[async_trait]
/// Continuation reminders, one per user and show.
pub trait ReminderRepository: Send {
    /// The reminder of `(user, show)`, whatever its status.
    async fn reminder(&mut self, user: UserId, show: ShowId) -> StoreResult<Option<Reminder>>;

    /// Inserts or replaces the reminder of `(user_id, show_id)`.
    async fn save_reminder(&mut self, reminder: &Reminder) -> StoreResult<()>;

    /// The reminders of those `(user, show)` keys that have one, any order. Stores answer in
    /// one statement; the default asks key by key.
    async fn reminders_of(&mut self, keys: &[(UserId, ShowId)]) -> StoreResult<Vec<Reminder>> {
        let mut out = Vec::new();
        for (user, show) in keys {
            out.extend(self.reminder(*user, *show).await?);
        }
        Ok(out)
    }

    /// Every reminder of the user, whatever its status, by `due_at` then show id.
    async fn reminders(&mut self, user: UserId) -> StoreResult<Vec<Reminder>>;

    /// Scheduled reminders of any user with `due_at <= now`, earliest first, at most `limit`.
    /// On PostgreSQL rows another unit of work has locked are skipped (`SKIP LOCKED`) and the
    /// returned ones stay locked until this unit of work ends.
    async fn due_reminders(&mut self, now: DateTime<Utc>, limit: u32)
    -> StoreResult<Vec<Reminder>>;
}

#[async_trait]
/// Genre affinity points per user.
pub trait PreferenceRepository: Send {
    /// Adds `points` (negative lowers) to the user's score of `genre`, starting at zero.
    async fn add_genre_points(&mut self, user: UserId, genre: &str, points: i64)
    -> StoreResult<()>;

    /// Adds each `(user, genre, points)` as [`Self::add_genre_points`] would; the keys are
    /// distinct. Stores write it in one statement; the default one score at a time.
    async fn add_genre_points_many(&mut self, rows: &[(UserId, String, i64)]) -> StoreResult<()> {
        for (user, genre, points) in rows {
            self.add_genre_points(*user, genre, *points).await?;
        }
        Ok(())
    }

    /// Every genre the user has a score in, any order.
    async fn genre_scores(&mut self, user: UserId) -> StoreResult<Vec<GenreScore>>;
}
