//! The event handlers' state on SQLite: achievements, the watchlist, continuation reminders
//! and genre scores. Tables: `migrations/0002_events.sql`.

use adapters_sql::decode::{self, REMINDER_COLUMNS};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use viewing_domain::engagement::{Achievement, GenreScore, Reminder, WatchlistItem};
use viewing_domain::handler_ports::{
    AchievementRepository, PreferenceRepository, ReminderRepository, WatchlistRepository,
};
use viewing_domain::ports::StoreResult;
use viewing_domain::{ShowId, UserId};

use crate::codec::{RowExt, db_err, dynamic, id, id_list, ts, ts_opt};
use crate::uow::SqliteUow;

#[async_trait]
impl AchievementRepository for SqliteUow {
    async fn bump_counter(&mut self, user: UserId, counter: &str, by: i64) -> StoreResult<i64> {
        let row = sqlx::query(
            "INSERT INTO achievement_counters (user_id, counter, value) VALUES (?, ?, ?) \
             ON CONFLICT (user_id, counter) DO UPDATE SET value = value + excluded.value \
             RETURNING value",
        )
        .bind(id(user))
        .bind(counter)
        .bind(by)
        .fetch_one(self.conn())
        .await
        .map_err(db_err)?;
        row.int("value")
    }

    async fn unlock_achievement(&mut self, a: &Achievement) -> StoreResult<bool> {
        let done = sqlx::query(
            "INSERT INTO achievements (user_id, code, title, unlocked_at) VALUES (?, ?, ?, ?) \
             ON CONFLICT (user_id, code) DO NOTHING",
        )
        .bind(id(a.user_id))
        .bind(&a.code)
        .bind(&a.title)
        .bind(ts(a.unlocked_at))
        .execute(self.conn())
        .await
        .map_err(db_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn achievements(&mut self, user: UserId) -> StoreResult<Vec<Achievement>> {
        let rows = sqlx::query(
            "SELECT code, title, unlocked_at FROM achievements WHERE user_id = ? \
             ORDER BY unlocked_at, code",
        )
        .bind(id(user))
        .fetch_all(self.conn())
        .await
        .map_err(db_err)?;
        rows.iter().map(|r| decode::achievement(user, r)).collect()
    }

    async fn counters(
        &mut self,
        keys: &[(UserId, String)],
    ) -> StoreResult<Vec<(UserId, String, i64)>> {
        let keys: Vec<_> = keys
            .iter()
            .map(|(u, n)| serde_json::json!([id(*u), n]))
            .collect();
        let rows = sqlx::query(
            "SELECT c.user_id, c.counter, c.value FROM json_each(?) k \
             JOIN achievement_counters c \
             ON c.user_id = k.value ->> 0 AND c.counter = k.value ->> 1",
        )
        .bind(serde_json::Value::Array(keys).to_string())
        .fetch_all(self.conn())
        .await
        .map_err(db_err)?;
        rows.iter().map(decode::counter).collect()
    }

    /// One upsert, in the given (sorted) order.
    async fn bump_counters(&mut self, rows: &[(UserId, String, i64)]) -> StoreResult<()> {
        add_keyed(
            self,
            "INSERT INTO achievement_counters (user_id, counter, value) \
             SELECT value ->> 0, value ->> 1, value ->> 2 FROM json_each(?) WHERE true \
             ON CONFLICT (user_id, counter) DO UPDATE SET value = value + excluded.value",
            rows,
        )
        .await
    }

    async fn achievements_of(&mut self, users: &[UserId]) -> StoreResult<Vec<Achievement>> {
        let rows = sqlx::query(
            "SELECT user_id, code, title, unlocked_at FROM achievements \
             WHERE user_id IN (SELECT value FROM json_each(?))",
        )
        .bind(id_list(users.iter().copied()))
        .fetch_all(self.conn())
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| decode::achievement(UserId::from(r.uuid("user_id")?), r))
            .collect()
    }
}

/// Runs an upsert of `(user, key, amount)` rows bound as one JSON array of triples.
async fn add_keyed(
    uow: &mut SqliteUow,
    sql: &'static str,
    rows: &[(UserId, String, i64)],
) -> StoreResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let rows: Vec<_> = rows
        .iter()
        .map(|(u, k, a)| serde_json::json!([id(*u), k, a]))
        .collect();
    sqlx::query(sql)
        .bind(serde_json::Value::Array(rows).to_string())
        .execute(uow.conn())
        .await
        .map_err(db_err)?;
    Ok(())
}

#[async_trait]
impl WatchlistRepository for SqliteUow {
    async fn add_to_watchlist(
        &mut self,
        item: &WatchlistItem,
    ) -> StoreResult<(WatchlistItem, bool)> {
        let done = sqlx::query(
            "INSERT INTO watchlist (user_id, content_id, item_type, added_at) VALUES (?, ?, ?, ?) \
             ON CONFLICT (user_id, content_id) DO NOTHING",
        )
        .bind(id(item.user_id))
        .bind(id(item.content_id))
        .bind(item.item_type.as_str())
        .bind(ts(item.added_at))
        .execute(self.conn())
        .await
        .map_err(db_err)?;
        let row = sqlx::query(
            "SELECT content_id, item_type, added_at FROM watchlist \
             WHERE user_id = ? AND content_id = ?",
        )
        .bind(id(item.user_id))
        .bind(id(item.content_id))
        .fetch_one(self.conn())
        .await
        .map_err(db_err)?;
        Ok((
            decode::watchlist_item(item.user_id, &row)?,
            done.rows_affected() == 1,
        ))
    }

    async fn remove_from_watchlist(
        &mut self,
        user: UserId,
        content: uuid::Uuid,
    ) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM watchlist WHERE user_id = ? AND content_id = ?")
            .bind(id(user))
            .bind(id(content))
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn watchlist(&mut self, user: UserId) -> StoreResult<Vec<WatchlistItem>> {
        let rows = sqlx::query(
            "SELECT content_id, item_type, added_at FROM watchlist WHERE user_id = ? \
             ORDER BY added_at DESC, content_id DESC",
        )
        .bind(id(user))
        .fetch_all(self.conn())
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| decode::watchlist_item(user, r))
            .collect()
    }
}

#[async_trait]
impl ReminderRepository for SqliteUow {
    async fn reminder(&mut self, user: UserId, show: ShowId) -> StoreResult<Option<Reminder>> {
        let row = dynamic(format!(
            "SELECT {REMINDER_COLUMNS} FROM reminders WHERE user_id = ? AND show_id = ?"
        ))
        .bind(id(user))
        .bind(id(show))
        .fetch_optional(self.conn())
        .await
        .map_err(db_err)?;
        row.as_ref().map(decode::reminder).transpose()
    }

    async fn reminders_of(&mut self, keys: &[(UserId, ShowId)]) -> StoreResult<Vec<Reminder>> {
        let keys: Vec<_> = keys
            .iter()
            .map(|(u, s)| serde_json::json!([id(*u), id(*s)]))
            .collect();
        let rows = dynamic(format!(
            "SELECT {REMINDER_COLUMNS} FROM reminders WHERE (user_id, show_id) IN \
             (SELECT value ->> 0, value ->> 1 FROM json_each(?))"
        ))
        .bind(serde_json::Value::Array(keys).to_string())
        .fetch_all(self.conn())
        .await
        .map_err(db_err)?;
        rows.iter().map(decode::reminder).collect()
    }

    async fn save_reminder(&mut self, r: &Reminder) -> StoreResult<()> {
        dynamic(format!(
            "INSERT OR REPLACE INTO reminders ({REMINDER_COLUMNS}) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ))
        .bind(id(r.user_id))
        .bind(id(r.show_id))
        .bind(id(r.id))
        .bind(id(r.episode_id))
        .bind(i64::from(r.season_number))
        .bind(i64::from(r.episode_number))
        .bind(ts(r.last_watch_at))
        .bind(ts(r.due_at))
        .bind(r.status.as_str())
        .bind(i64::from(r.attempts))
        .bind(ts_opt(r.sent_at))
        .bind(ts(r.updated_at))
        .execute(self.conn())
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn reminders(&mut self, user: UserId) -> StoreResult<Vec<Reminder>> {
        let rows = dynamic(format!(
            "SELECT {REMINDER_COLUMNS} FROM reminders WHERE user_id = ? ORDER BY due_at, show_id"
        ))
        .bind(id(user))
        .fetch_all(self.conn())
        .await
        .map_err(db_err)?;
        rows.iter().map(decode::reminder).collect()
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn due_reminders(
        &mut self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<Reminder>> {
        let rows = dynamic(format!(
            "SELECT {REMINDER_COLUMNS} FROM reminders WHERE status = 'scheduled' AND due_at <= ? \
             ORDER BY due_at, user_id, show_id LIMIT ?"
        ))
        .bind(ts(now))
        .bind(i64::from(limit))
        .fetch_all(self.conn())
        .await
        .map_err(db_err)?;
        rows.iter().map(decode::reminder).collect()
    }
}

#[async_trait]
impl PreferenceRepository for SqliteUow {
    async fn add_genre_points(
        &mut self,
        user: UserId,
        genre: &str,
        points: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO genre_scores (user_id, genre, points) VALUES (?, ?, ?) \
             ON CONFLICT (user_id, genre) DO UPDATE SET points = points + excluded.points",
        )
        .bind(id(user))
        .bind(genre)
        .bind(points)
        .execute(self.conn())
        .await
        .map_err(db_err)?;
        Ok(())
    }

    /// One upsert, in the given (sorted) order.
    async fn add_genre_points_many(&mut self, rows: &[(UserId, String, i64)]) -> StoreResult<()> {
        add_keyed(
            self,
            "INSERT INTO genre_scores (user_id, genre, points) \
             SELECT value ->> 0, value ->> 1, value ->> 2 FROM json_each(?) WHERE true \
             ON CONFLICT (user_id, genre) DO UPDATE SET points = points + excluded.points",
            rows,
        )
        .await
    }

    async fn genre_scores(&mut self, user: UserId) -> StoreResult<Vec<GenreScore>> {
        let rows = sqlx::query("SELECT genre, points FROM genre_scores WHERE user_id = ?")
            .bind(id(user))
            .fetch_all(self.conn())
            .await
            .map_err(db_err)?;
        rows.iter().map(decode::genre_score).collect()
    }
}
