//! Show progress, with its season completions.

use std::collections::HashMap;

use adapters_sql::decode;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use viewing_domain::ports::{ShowProgressRepository, StoreResult};
use viewing_domain::{SeasonCompletion, SeasonId, ShowId, ShowProgress, UserId};

use crate::codec::{RowExt, db_err, id, id_opt, ts, ts_opt};
use crate::uow::SqliteUow;

/// The columns a [`ShowProgress`] is rebuilt from, as a literal for `concat!`.
/// `completed_seasons` counts the row's season completions (written with them by
/// `save_progress`): when it is 0 the completions are not read.
macro_rules! select_progress {
    () => {
        "SELECT user_id, show_id, last_watched_season, last_watched_episode, \
         last_watched_episode_id, last_watch_date, total_episodes_watched, is_completed, \
         completion_date, last_activity_at, inactivity_reported_at, updated_at, \
         reset_at, earlier_passes, completed_seasons FROM show_progress"
    };
}

fn decode_completion(row: &SqliteRow) -> StoreResult<SeasonCompletion> {
    Ok(SeasonCompletion {
        season_id: SeasonId::from(row.uuid("season_id")?),
        season_number: row.u32("season_number")?,
        completed_at: row.instant("completed_at")?,
    })
}

/// Whether the progress row has season completions to read.
fn has_completions(row: &SqliteRow) -> StoreResult<bool> {
    Ok(row.u32("completed_seasons")? > 0)
}

impl SqliteUow {
    /// Season completions of the user's shows (all of them when `show` is `None`), by show.
    async fn completions(
        &mut self,
        user: UserId,
        show: Option<ShowId>,
    ) -> StoreResult<HashMap<uuid::Uuid, Vec<SeasonCompletion>>> {
        let rows = sqlx::query(
            "SELECT show_id, season_id, season_number, completed_at FROM season_completions \
             WHERE user_id = ?1 AND (?2 IS NULL OR show_id = ?2) \
             ORDER BY show_id, season_number",
        )
        .bind(id(user))
        .bind(id_opt(show))
        .fetch_all(self.conn())
        .await
        .map_err(db_err)?;
        let mut out: HashMap<uuid::Uuid, Vec<SeasonCompletion>> = HashMap::new();
        for r in &rows {
            out.entry(r.uuid("show_id")?)
                .or_default()
                .push(decode_completion(r)?);
        }
        Ok(out)
    }
}

#[async_trait]
impl ShowProgressRepository for SqliteUow {
    async fn progress(&mut self, user: UserId, show: ShowId) -> StoreResult<Option<ShowProgress>> {
        let Some(row) = sqlx::query(concat!(
            select_progress!(),
            " WHERE user_id = ? AND show_id = ?"
        ))
        .bind(id(user))
        .bind(id(show))
        .fetch_optional(self.conn())
        .await
        .map_err(db_err)?
        else {
            return Ok(None);
        };
        let completed = if has_completions(&row)? {
            let mut completions = self.completions(user, Some(show)).await?;
            completions.remove(&show.as_uuid()).unwrap_or_default()
        } else {
            Vec::new()
        };
        decode::show_progress(&row, completed).map(Some)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn save_progress(&mut self, p: &ShowProgress) -> StoreResult<()> {
        let (user, show) = (id(p.user_id), id(p.show_id));
        sqlx::query(
            "INSERT INTO show_progress (id, user_id, show_id, last_watched_season, \
             last_watched_episode, last_watched_episode_id, last_watch_date, \
             total_episodes_watched, completed_seasons, is_completed, completion_date, \
             last_activity_at, inactivity_reported_at, updated_at, reset_at, earlier_passes) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
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
        .bind(id(uuid::Uuid::now_v7()))
        .bind(&user)
        .bind(&show)
        .bind(p.last_watched_season.map(i64::from))
        .bind(p.last_watched_episode.map(i64::from))
        .bind(id_opt(p.last_watched_episode_id))
        .bind(ts_opt(p.last_watch_date))
        .bind(i64::from(p.total_episodes_watched))
        .bind(p.completed_seasons.len() as i64)
        .bind(p.is_completed)
        .bind(ts_opt(p.completion_date))
        .bind(ts_opt(p.last_activity_at))
        .bind(ts_opt(p.inactivity_reported_at))
        .bind(ts(p.updated_at))
        .bind(ts_opt(p.reset_at))
        .bind(adapters_sql::encode::passes(&p.earlier_passes)?)
        .execute(self.conn())
        .await
        .map_err(db_err)?;
        sqlx::query("DELETE FROM season_completions WHERE user_id = ? AND show_id = ?")
            .bind(&user)
            .bind(&show)
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        for c in &p.completed_seasons {
            sqlx::query(
                "INSERT INTO season_completions (user_id, show_id, season_number, season_id, \
                 completed_at) VALUES (?, ?, ?, ?, ?)",
            )
            .bind(&user)
            .bind(&show)
            .bind(i64::from(c.season_number))
            .bind(id(c.season_id))
            .bind(ts(c.completed_at))
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        }
        Ok(())
    }

    async fn progress_of_user(&mut self, user: UserId) -> StoreResult<Vec<ShowProgress>> {
        let rows = sqlx::query(concat!(
            select_progress!(),
            " WHERE user_id = ? ORDER BY last_activity_at DESC NULLS LAST, show_id"
        ))
        .bind(id(user))
        .fetch_all(self.conn())
        .await
        .map_err(db_err)?;
        let mut completions = if rows.iter().map(has_completions).any(|c| c.unwrap_or(true)) {
            self.completions(user, None).await?
        } else {
            HashMap::new()
        };
        rows.iter()
            .map(|r| {
                let done = completions.remove(&r.uuid("show_id")?).unwrap_or_default();
                decode::show_progress(r, done)
            })
            .collect()
    }

    async fn idle_progress(
        &mut self,
        idle_since: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<ShowProgress>> {
        // The literal conditions match the partial index `ix_show_progress_idle`.
        let rows = sqlx::query(concat!(
            select_progress!(),
            " WHERE is_completed = 0 AND inactivity_reported_at IS NULL \
             AND total_episodes_watched > 0 AND last_activity_at < ? \
             ORDER BY last_activity_at, user_id, show_id LIMIT ?"
        ))
        .bind(ts(idle_since))
        .bind(i64::from(limit))
        .fetch_all(self.conn())
        .await
        .map_err(db_err)?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let (user, show) = (
                UserId::from(r.uuid("user_id")?),
                ShowId::from(r.uuid("show_id")?),
            );
            let mut completions = self.completions(user, Some(show)).await?;
            let done = completions.remove(&show.as_uuid()).unwrap_or_default();
            out.push(decode::show_progress(r, done)?);
        }
        Ok(out)
    }
}
