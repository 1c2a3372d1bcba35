//! Show progress, with its season completions.

use adapters_sql::decode;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use uuid::Uuid;
use viewing_domain::ports::{ShowProgressRepository, StoreResult};
use viewing_domain::{SeasonCompletion, SeasonId, ShowId, ShowProgress, UserId};

use crate::codec::{corrupt, db_err, get, int};
use crate::uow::PgUow;

/// The columns a [`ShowProgress`] is rebuilt from, its season completions (in season order)
/// as parallel arrays, as a literal for `concat!`.
macro_rules! select_progress {
    () => {
        "SELECT p.user_id, p.show_id, p.last_watched_season, p.last_watched_episode, \
         p.last_watched_episode_id, p.last_watch_date, p.total_episodes_watched, \
         p.is_completed, p.completion_date, p.last_activity_at, p.inactivity_reported_at, \
         p.updated_at, p.reset_at, p.earlier_passes, \
         ARRAY(SELECT c.season_id FROM season_completions c WHERE c.user_id = p.user_id \
               AND c.show_id = p.show_id ORDER BY c.season_number) AS completed_ids, \
         ARRAY(SELECT c.season_number FROM season_completions c WHERE c.user_id = p.user_id \
               AND c.show_id = p.show_id ORDER BY c.season_number) AS completed_numbers, \
         ARRAY(SELECT c.completed_at FROM season_completions c WHERE c.user_id = p.user_id \
               AND c.show_id = p.show_id ORDER BY c.season_number) AS completed_at \
         FROM show_progress p"
    };
}

fn decode_progress(row: &PgRow) -> StoreResult<ShowProgress> {
    let ids: Vec<Uuid> = get(row, "completed_ids")?;
    let numbers: Vec<i32> = get(row, "completed_numbers")?;
    let dates: Vec<DateTime<Utc>> = get(row, "completed_at")?;
    let completed_seasons = ids
        .into_iter()
        .zip(numbers)
        .zip(dates)
        .map(|((id, number), completed_at)| {
            Ok(SeasonCompletion {
                season_id: SeasonId::from(id),
                season_number: u32::try_from(number)
                    .map_err(|e| corrupt("season_completions.season_number", e))?,
                completed_at,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    decode::show_progress(row, completed_seasons)
}

#[async_trait]
impl ShowProgressRepository for PgUow {
    async fn progress(&mut self, user: UserId, show: ShowId) -> StoreResult<Option<ShowProgress>> {
        sqlx::query(concat!(
            select_progress!(),
            " WHERE p.user_id = $1 AND p.show_id = $2"
        ))
        .bind(user.as_uuid())
        .bind(show.as_uuid())
        .fetch_optional(self.conn())
        .await
        .map_err(db_err)?
        .as_ref()
        .map(decode_progress)
        .transpose()
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn save_progress(&mut self, p: &ShowProgress) -> StoreResult<()> {
        let (user, show) = (p.user_id.as_uuid(), p.show_id.as_uuid());
        let completed = u32::try_from(p.completed_seasons.len()).unwrap_or(u32::MAX);
        sqlx::query(
            "INSERT INTO show_progress (id, user_id, show_id, last_watched_season, \
             last_watched_episode, last_watched_episode_id, last_watch_date, \
             total_episodes_watched, completed_seasons, is_completed, completion_date, \
             last_activity_at, inactivity_reported_at, updated_at, reset_at, earlier_passes) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
             ON CONFLICT (user_id, show_id) DO UPDATE SET \
             last_watched_season = excluded.last_watched_season, \
             last_watched_episode = excluded.last_watched_episode, \
             last_watched_episode_id = excluded.last_watched_episode_id, \
             last_watch_date = excluded.last_watch_date, \
             total_episodes_watched = excluded.total_episodes_watched, \
             completed_seasons = excluded.completed_seasons, \
             is_completed = excluded.is_completed, completion_date = excluded.completion_date, \
             last_activity_at = excluded.last_activity_at, \
             inactivity_reported_at = excluded.inactivity_reported_at, \
             updated_at = excluded.updated_at, reset_at = excluded.reset_at, \
             earlier_passes = excluded.earlier_passes",
        )
        .bind(Uuid::now_v7())
        .bind(user)
        .bind(show)
        .bind(p.last_watched_season.map(int).transpose()?)
        .bind(p.last_watched_episode.map(int).transpose()?)
        .bind(p.last_watched_episode_id.map(|e| e.as_uuid()))
        .bind(p.last_watch_date)
        .bind(int(p.total_episodes_watched)?)
        .bind(int(completed)?)
        .bind(p.is_completed)
        .bind(p.completion_date)
        .bind(p.last_activity_at)
        .bind(p.inactivity_reported_at)
        .bind(p.updated_at)
        .bind(p.reset_at)
        .bind(adapters_sql::encode::passes(&p.earlier_passes)?)
        .execute(self.conn())
        .await
        .map_err(db_err)?;
        sqlx::query("DELETE FROM season_completions WHERE user_id = $1 AND show_id = $2")
            .bind(user)
            .bind(show)
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        if !p.completed_seasons.is_empty() {
            let ids: Vec<Uuid> = p
                .completed_seasons
                .iter()
                .map(|c| c.season_id.as_uuid())
                .collect();
            let numbers = p
                .completed_seasons
                .iter()
                .map(|c| int(c.season_number))
                .collect::<StoreResult<Vec<i32>>>()?;
            let dates: Vec<DateTime<Utc>> =
                p.completed_seasons.iter().map(|c| c.completed_at).collect();
            sqlx::query(
                "INSERT INTO season_completions (user_id, show_id, season_number, season_id, \
                 completed_at) SELECT $1, $2, c.number, c.id, c.at \
                 FROM UNNEST($3::uuid[], $4::int4[], $5::timestamptz[]) AS c(id, number, at)",
            )
            .bind(user)
            .bind(show)
            .bind(ids)
            .bind(numbers)
            .bind(dates)
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        }
        Ok(())
    }

    async fn progress_of_user(&mut self, user: UserId) -> StoreResult<Vec<ShowProgress>> {
        let rows = sqlx::query(concat!(
            select_progress!(),
            " WHERE p.user_id = $1 ORDER BY p.last_activity_at DESC NULLS LAST, p.show_id"
        ))
        .bind(user.as_uuid())
        .fetch_all(self.conn())
        .await
        .map_err(db_err)?;
        rows.iter().map(decode_progress).collect()
    }

    async fn idle_progress(
        &mut self,
        idle_since: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<ShowProgress>> {
        // The literal conditions match the partial index `ix_show_progress_idle`.
        let rows = sqlx::query(concat!(
            select_progress!(),
            " WHERE NOT p.is_completed AND p.inactivity_reported_at IS NULL \
             AND p.total_episodes_watched > 0 AND p.last_activity_at < $1 \
             ORDER BY p.last_activity_at, p.user_id, p.show_id LIMIT $2"
        ))
        .bind(idle_since)
        .bind(i64::from(limit))
        .fetch_all(self.conn())
        .await
        .map_err(db_err)?;
        rows.iter().map(decode_progress).collect()
    }
}
