//! The event handlers' state in memory: achievements, the watchlist, reminders, genre scores.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use viewing_domain::engagement::{
    Achievement, GenreScore, Reminder, ReminderStatus, WatchlistItem,
};
use viewing_domain::handler_ports::{
    AchievementRepository, PreferenceRepository, ReminderRepository, WatchlistRepository,
};
use viewing_domain::ports::StoreResult;
use viewing_domain::{ShowId, UserId};

use crate::events::{achievements, counters, genres, reminders, watchlist, write};
use crate::store::MemoryUow;

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
