//! The event handlers' state on PostgreSQL: achievements, the watchlist, continuation
//! reminders and genre scores. Tables: `migrations/0002_events.sql`.
//!
//! Every write is an `INSERT … ON CONFLICT` upsert, so two units of work adding to one row
//! queue on its row lock and both additions count (no read-modify-write race at READ
//! COMMITTED).

use adapters_sql::decode::{self, REMINDER_COLUMNS};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;
use viewing_domain::engagement::{Achievement, GenreScore, Reminder, WatchlistItem};
use viewing_domain::handler_ports::{
    AchievementRepository, PreferenceRepository, ReminderRepository, WatchlistRepository,
};
use viewing_domain::ports::StoreResult;
use viewing_domain::{ShowId, UserId};

use crate::codec::{RowExt, db_err, dynamic, int};
use crate::uow::PgUow;

#[async_trait]
impl AchievementRepository for PgUow {
    async fn bump_counter(&mut self, user: UserId, counter: &str, by: i64) -> StoreResult<i64> {
        let row = sqlx::query(
            "INSERT INTO achievement_counters (user_id, counter, value) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id, counter) DO UPDATE \
             SET value = achievement_counters.value + excluded.value RETURNING value",
        )
        .bind(user.as_uuid())
        .bind(counter)
        .bind(by)
        .fetch_one(self.conn())
        .await
        .map_err(db_err)?;
        row.int("value")
    }

    async fn unlock_achievement(&mut self, a: &Achievement) -> StoreResult<bool> {
        let done = sqlx::query(
            "INSERT INTO achievements (user_id, code, title, unlocked_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (user_id, code) DO NOTHING",
        )
        .bind(a.user_id.as_uuid())
        .bind(&a.code)
        .bind(&a.title)
        .bind(a.unlocked_at)
        .execute(self.conn())
        .await
        .map_err(db_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn achievements(&mut self, user: UserId) -> StoreResult<Vec<Achievement>> {
        let rows = sqlx::query(
            "SELECT code, title, unlocked_at FROM achievements WHERE user_id = $1 \
             ORDER BY unlocked_at, code",
        )
        .bind(user.as_uuid())
        .fetch_all(self.conn())
        .await
        .map_err(db_err)?;
        rows.iter().map(|r| decode::achievement(user, r)).collect()
    }

    async fn counters(
        &mut self,
        keys: &[(UserId, String)],
    ) -> StoreResult<Vec<(UserId, String, i64)>> {
        let (users, names) = split_keys(keys);
        let rows = sqlx::query(
            "SELECT c.user_id, c.counter, c.value FROM achievement_counters c \
             JOIN UNNEST($1::uuid[], $2::text[]) AS k(u, n) \
             ON c.user_id = k.u AND c.counter = k.n",
        )
        .bind(&users)
        .bind(&names)
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
             SELECT k.u, k.n, k.v FROM UNNEST($1::uuid[], $2::text[], $3::int8[]) \
             WITH ORDINALITY AS k(u, n, v, ord) ORDER BY k.ord \
             ON CONFLICT (user_id, counter) DO UPDATE \
             SET value = achievement_counters.value + excluded.value",
            rows,
        )
        .await
    }

    async fn achievements_of(&mut self, users: &[UserId]) -> StoreResult<Vec<Achievement>> {
        let ids: Vec<Uuid> = users.iter().map(|u| u.as_uuid()).collect();
        let rows = sqlx::query(
            "SELECT user_id, code, title, unlocked_at FROM achievements WHERE user_id = ANY($1)",
        )
        .bind(&ids)
        .fetch_all(self.conn())
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| decode::achievement(UserId::from(r.uuid("user_id")?), r))
            .collect()
    }
}

/// `(user, key)` pairs as the two parallel arrays an `UNNEST` takes.
fn split_keys(keys: &[(UserId, String)]) -> (Vec<Uuid>, Vec<&str>) {
    keys.iter().map(|(u, k)| (u.as_uuid(), k.as_str())).unzip()
}

/// Runs an upsert of `(user, key, amount)` rows bound as three parallel arrays.
async fn add_keyed(
    uow: &mut PgUow,
    sql: &'static str,
    rows: &[(UserId, String, i64)],
) -> StoreResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let users: Vec<Uuid> = rows.iter().map(|(u, _, _)| u.as_uuid()).collect();
    let keys: Vec<&str> = rows.iter().map(|(_, k, _)| k.as_str()).collect();
    let amounts: Vec<i64> = rows.iter().map(|(_, _, a)| *a).collect();
    sqlx::query(sql)
        .bind(&users)
        .bind(&keys)
        .bind(&amounts)
        .execute(uow.conn())
        .await
        .map_err(db_err)?;
    Ok(())
}

#[async_trait]
impl WatchlistRepository for PgUow {
    async fn add_to_watchlist(
        &mut self,
        item: &WatchlistItem,
    ) -> StoreResult<(WatchlistItem, bool)> {
        let done = sqlx::query(
            "INSERT INTO watchlist (user_id, content_id, item_type, added_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (user_id, content_id) DO NOTHING",
        )
        .bind(item.user_id.as_uuid())
        .bind(item.content_id)
        .bind(item.item_type.as_str())
        .bind(item.added_at)
        .execute(self.conn())
        .await
        .map_err(db_err)?;
        let row = sqlx::query(
            "SELECT content_id, item_type, added_at FROM watchlist \
             WHERE user_id = $1 AND content_id = $2",
        )
        .bind(item.user_id.as_uuid())
        .bind(item.content_id)
        .fetch_one(self.conn())
        .await
        .map_err(db_err)?;
        Ok((
            decode::watchlist_item(item.user_id, &row)?,
            done.rows_affected() == 1,
        ))
    }

    async fn remove_from_watchlist(&mut self, user: UserId, content: Uuid) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM watchlist WHERE user_id = $1 AND content_id = $2")
            .bind(user.as_uuid())
            .bind(content)
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn watchlist(&mut self, user: UserId) -> StoreResult<Vec<WatchlistItem>> {
        let rows = sqlx::query(
            "SELECT content_id, item_type, added_at FROM watchlist WHERE user_id = $1 \
             ORDER BY added_at DESC, content_id DESC",
        )
        .bind(user.as_uuid())
        .fetch_all(self.conn())
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| decode::watchlist_item(user, r))
            .collect()
    }
}

#[async_trait]
impl ReminderRepository for PgUow {
    async fn reminder(&mut self, user: UserId, show: ShowId) -> StoreResult<Option<Reminder>> {
        let row = dynamic(format!(
            "SELECT {REMINDER_COLUMNS} FROM reminders WHERE user_id = $1 AND show_id = $2"
        ))
        .bind(user.as_uuid())
        .bind(show.as_uuid())
        .fetch_optional(self.conn())
        .await
        .map_err(db_err)?;
        row.as_ref().map(decode::reminder).transpose()
    }

    async fn reminders_of(&mut self, keys: &[(UserId, ShowId)]) -> StoreResult<Vec<Reminder>> {
        let (users, shows): (Vec<Uuid>, Vec<Uuid>) =
            keys.iter().map(|(u, s)| (u.as_uuid(), s.as_uuid())).unzip();
        let rows = dynamic(format!(
            "SELECT {REMINDER_COLUMNS} FROM reminders \
             WHERE (user_id, show_id) IN (SELECT * FROM UNNEST($1::uuid[], $2::uuid[]))"
        ))
        .bind(&users)
        .bind(&shows)
        .fetch_all(self.conn())
        .await
        .map_err(db_err)?;
        rows.iter().map(decode::reminder).collect()
    }

    async fn save_reminder(&mut self, r: &Reminder) -> StoreResult<()> {
        dynamic(format!(
            "INSERT INTO reminders ({REMINDER_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
             ON CONFLICT (user_id, show_id) DO UPDATE SET id = excluded.id, \
             episode_id = excluded.episode_id, season_number = excluded.season_number, \
             episode_number = excluded.episode_number, last_watch_at = excluded.last_watch_at, \
             due_at = excluded.due_at, status = excluded.status, attempts = excluded.attempts, \
             sent_at = excluded.sent_at, updated_at = excluded.updated_at"
        ))
        .bind(r.user_id.as_uuid())
        .bind(r.show_id.as_uuid())
        .bind(r.id)
        .bind(r.episode_id.as_uuid())
        .bind(int(r.season_number)?)
        .bind(int(r.episode_number)?)
        .bind(r.last_watch_at)
        .bind(r.due_at)
        .bind(r.status.as_str())
        .bind(int(r.attempts)?)
        .bind(r.sent_at)
        .bind(r.updated_at)
        .execute(self.conn())
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn reminders(&mut self, user: UserId) -> StoreResult<Vec<Reminder>> {
        let rows = dynamic(format!(
            "SELECT {REMINDER_COLUMNS} FROM reminders WHERE user_id = $1 ORDER BY due_at, show_id"
        ))
        .bind(user.as_uuid())
        .fetch_all(self.conn())
        .await
        .map_err(db_err)?;
        rows.iter().map(decode::reminder).collect()
    }

    /// `FOR UPDATE SKIP LOCKED`: replicas running the scheduler at once take disjoint
    /// reminders, and the ones returned stay locked until this unit of work ends.
    #[tracing::instrument(level = "debug", skip_all)]
    async fn due_reminders(
        &mut self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<Reminder>> {
        let rows = dynamic(format!(
            "SELECT {REMINDER_COLUMNS} FROM reminders WHERE status = 'scheduled' AND due_at <= $1 \
             ORDER BY due_at, user_id, show_id LIMIT $2 FOR UPDATE SKIP LOCKED"
        ))
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(self.conn())
        .await
        .map_err(db_err)?;
        rows.iter().map(decode::reminder).collect()
    }
}

#[async_trait]
impl PreferenceRepository for PgUow {
    async fn add_genre_points(
        &mut self,
        user: UserId,
        genre: &str,
        points: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO genre_scores (user_id, genre, points) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id, genre) DO UPDATE \
             SET points = genre_scores.points + excluded.points",
        )
        .bind(user.as_uuid())
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
             SELECT k.u, k.g, k.p FROM UNNEST($1::uuid[], $2::text[], $3::int8[]) \
             WITH ORDINALITY AS k(u, g, p, ord) ORDER BY k.ord \
             ON CONFLICT (user_id, genre) DO UPDATE \
             SET points = genre_scores.points + excluded.points",
            rows,
        )
        .await
    }

    async fn genre_scores(&mut self, user: UserId) -> StoreResult<Vec<GenreScore>> {
        let rows = sqlx::query("SELECT genre, points FROM genre_scores WHERE user_id = $1")
            .bind(user.as_uuid())
            .fetch_all(self.conn())
            .await
            .map_err(db_err)?;
        rows.iter().map(decode::genre_score).collect()
    }
}
