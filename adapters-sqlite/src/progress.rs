//! Show progress (with season completions), binge sessions, abandons and the outbox.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use viewing_domain::ports::{
    AbandonRepository, BingeSessionRepository, Outbox, ShowProgressRepository, StoreError,
    StoreResult,
};
use viewing_domain::values::{AbandonReason, Percent, Rating};
use viewing_domain::{
    AbandonId, AbandonRecord, BingeSession, BingeSessionId, EpisodeId, EventEnvelope, ItemType,
    SeasonCompletion, SeasonId, ShowId, ShowProgress, UserId,
};

use crate::codec::{RowExt, corrupt, db_err, id, id_opt, parsed, ts, ts_opt};
use crate::uow::SqliteUow;

/// The columns a [`ShowProgress`] is rebuilt from, as a literal for `concat!`.
macro_rules! select_progress {
    () => {
        "SELECT user_id, show_id, last_watched_season, last_watched_episode, \
         last_watched_episode_id, last_watch_date, total_episodes_watched, is_completed, \
         completion_date, last_activity_at, inactivity_reported_at, updated_at \
         FROM show_progress"
    };
}

fn decode_progress(row: &SqliteRow, completed: Vec<SeasonCompletion>) -> StoreResult<ShowProgress> {
    Ok(ShowProgress {
        user_id: UserId::from(row.uuid("user_id")?),
        show_id: ShowId::from(row.uuid("show_id")?),
        last_watched_season: row.u32_opt("last_watched_season")?,
        last_watched_episode: row.u32_opt("last_watched_episode")?,
        last_watched_episode_id: row
            .uuid_opt("last_watched_episode_id")?
            .map(EpisodeId::from),
        last_watch_date: row.instant_opt("last_watch_date")?,
        total_episodes_watched: row.u32("total_episodes_watched")?,
        completed_seasons: completed,
        is_completed: row.flag("is_completed")?,
        completion_date: row.instant_opt("completion_date")?,
        last_activity_at: row.instant_opt("last_activity_at")?,
        inactivity_reported_at: row.instant_opt("inactivity_reported_at")?,
        updated_at: row.instant("updated_at")?,
    })
}

fn decode_completion(row: &SqliteRow) -> StoreResult<SeasonCompletion> {
    Ok(SeasonCompletion {
        season_id: SeasonId::from(row.uuid("season_id")?),
        season_number: row.u32("season_number")?,
        completed_at: row.instant("completed_at")?,
    })
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
        let mut completions = self.completions(user, Some(show)).await?;
        let completed = completions.remove(&show.as_uuid()).unwrap_or_default();
        decode_progress(&row, completed).map(Some)
    }

    async fn save_progress(&mut self, p: &ShowProgress) -> StoreResult<()> {
        let (user, show) = (id(p.user_id), id(p.show_id));
        sqlx::query(
            "INSERT INTO show_progress (id, user_id, show_id, last_watched_season, \
             last_watched_episode, last_watched_episode_id, last_watch_date, \
             total_episodes_watched, completed_seasons, is_completed, completion_date, \
             last_activity_at, inactivity_reported_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
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
             updated_at = excluded.updated_at",
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
        let mut completions = self.completions(user, None).await?;
        rows.iter()
            .map(|r| {
                let done = completions.remove(&r.uuid("show_id")?).unwrap_or_default();
                decode_progress(r, done)
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
            out.push(decode_progress(r, done)?);
        }
        Ok(out)
    }
}

fn decode_session(row: &SqliteRow) -> StoreResult<BingeSession> {
    Ok(BingeSession {
        id: BingeSessionId::from(row.uuid("id")?),
        user_id: UserId::from(row.uuid("user_id")?),
        show_id: ShowId::from(row.uuid("show_id")?),
        start_time: row.instant("start_time")?,
        end_time: row.instant("end_time")?,
        episodes_watched: row.u32("episodes_watched")?,
        created_at: row.instant("created_at")?,
    })
}

#[async_trait]
impl BingeSessionRepository for SqliteUow {
    async fn binge_session(&mut self, sid: BingeSessionId) -> StoreResult<Option<BingeSession>> {
        sqlx::query(
            "SELECT id, user_id, show_id, start_time, end_time, episodes_watched, created_at \
             FROM binge_sessions WHERE id = ?",
        )
        .bind(id(sid))
        .fetch_optional(self.conn())
        .await
        .map_err(db_err)?
        .as_ref()
        .map(decode_session)
        .transpose()
    }

    #[tracing::instrument(level = "debug", skip_all, fields(%user, session = %sid))]
    async fn user_binge_session(
        &mut self,
        user: UserId,
        sid: BingeSessionId,
    ) -> StoreResult<Option<BingeSession>> {
        sqlx::query(
            "SELECT id, user_id, show_id, start_time, end_time, episodes_watched, created_at \
             FROM binge_sessions WHERE id = ? AND user_id = ?",
        )
        .bind(id(sid))
        .bind(id(user))
        .fetch_optional(self.conn())
        .await
        .map_err(db_err)?
        .as_ref()
        .map(decode_session)
        .transpose()
    }

    async fn binge_sessions_of_show(
        &mut self,
        user: UserId,
        show: ShowId,
    ) -> StoreResult<Vec<BingeSession>> {
        let rows = sqlx::query(
            "SELECT id, user_id, show_id, start_time, end_time, episodes_watched, created_at \
             FROM binge_sessions WHERE user_id = ? AND show_id = ? ORDER BY start_time, id",
        )
        .bind(id(user))
        .bind(id(show))
        .fetch_all(self.conn())
        .await
        .map_err(db_err)?;
        rows.iter().map(decode_session).collect()
    }

    async fn save_binge_session(&mut self, s: &BingeSession) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO binge_sessions (id, user_id, show_id, start_time, end_time, \
             episodes_watched, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (id) DO UPDATE SET user_id = excluded.user_id, \
             show_id = excluded.show_id, start_time = excluded.start_time, \
             end_time = excluded.end_time, episodes_watched = excluded.episodes_watched, \
             created_at = excluded.created_at",
        )
        .bind(id(s.id))
        .bind(id(s.user_id))
        .bind(id(s.show_id))
        .bind(ts(s.start_time))
        .bind(ts(s.end_time))
        .bind(i64::from(s.episodes_watched))
        .bind(ts(s.created_at))
        .execute(self.conn())
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn delete_binge_session(&mut self, sid: BingeSessionId) -> StoreResult<()> {
        sqlx::query("DELETE FROM binge_sessions WHERE id = ?")
            .bind(id(sid))
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        Ok(())
    }
}

/// The columns an [`AbandonRecord`] is rebuilt from, as a literal for `concat!`. Decimals come
/// back as exact tenths / hundredths (`ROUND` absorbs binary floating point).
macro_rules! select_abandons {
    () => {
        "SELECT id, user_id, content_id, content_type, abandon_date, \
         CAST(ROUND(progress_percent * 100) AS INTEGER) AS progress_hundredths, \
         abandon_reason, CAST(ROUND(quality_rating * 10) AS INTEGER) AS quality_tenths, \
         would_retry, created_at FROM abandoned_content"
    };
}

fn decode_abandon(row: &SqliteRow) -> StoreResult<AbandonRecord> {
    let item_type = row.text("content_type")?;
    let hundredths = row.int("progress_hundredths")?;
    Ok(AbandonRecord {
        id: AbandonId::from(row.uuid("id")?),
        user_id: UserId::from(row.uuid("user_id")?),
        item_id: row.uuid("content_id")?,
        item_type: ItemType::parse(&item_type)
            .ok_or_else(|| corrupt("content_type", &item_type))?,
        abandon_date: row.instant("abandon_date")?,
        progress_percent: u16::try_from(hundredths)
            .ok()
            .and_then(Percent::from_hundredths)
            .ok_or_else(|| corrupt("progress_percent", hundredths))?,
        abandon_reason: parsed(
            "abandon_reason",
            row.text_opt("abandon_reason")?,
            AbandonReason::parse,
        )?,
        quality_rating: row
            .int_opt("quality_tenths")?
            .map(|t| {
                u8::try_from(t)
                    .ok()
                    .and_then(Rating::from_tenths)
                    .ok_or_else(|| corrupt("quality_rating", t))
            })
            .transpose()?,
        would_retry: row.flag("would_retry")?,
        created_at: row.instant("created_at")?,
    })
}

#[async_trait]
impl AbandonRepository for SqliteUow {
    async fn insert_abandon(&mut self, a: &AbandonRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO abandoned_content (id, user_id, content_id, content_type, abandon_date, \
             progress_percent, abandon_reason, quality_rating, would_retry, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(id(a.id))
        .bind(id(a.user_id))
        .bind(id(a.item_id))
        .bind(a.item_type.as_str())
        .bind(ts(a.abandon_date))
        .bind(a.progress_percent.value())
        .bind(a.abandon_reason.as_ref().map(AbandonReason::as_str))
        .bind(a.quality_rating.map(Rating::value))
        .bind(a.would_retry)
        .bind(ts(a.created_at))
        .execute(self.conn())
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn abandon_record(
        &mut self,
        user: UserId,
        aid: AbandonId,
    ) -> StoreResult<Option<AbandonRecord>> {
        sqlx::query(concat!(select_abandons!(), " WHERE id = ? AND user_id = ?"))
            .bind(id(aid))
            .bind(id(user))
            .fetch_optional(self.conn())
            .await
            .map_err(db_err)?
            .as_ref()
            .map(decode_abandon)
            .transpose()
    }

    async fn latest_abandon(
        &mut self,
        user: UserId,
        item: uuid::Uuid,
    ) -> StoreResult<Option<AbandonRecord>> {
        sqlx::query(concat!(
            select_abandons!(),
            " WHERE user_id = ? AND content_id = ? \
             ORDER BY abandon_date DESC, created_at DESC, id DESC LIMIT 1",
        ))
        .bind(id(user))
        .bind(id(item))
        .fetch_optional(self.conn())
        .await
        .map_err(db_err)?
        .as_ref()
        .map(decode_abandon)
        .transpose()
    }

    async fn abandons_between(
        &mut self,
        user: UserId,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> StoreResult<Vec<AbandonRecord>> {
        let rows = sqlx::query(concat!(
            select_abandons!(),
            " WHERE user_id = ?1 AND (?2 IS NULL OR abandon_date >= ?2) \
             AND (?3 IS NULL OR abandon_date <= ?3) ORDER BY abandon_date DESC, id DESC",
        ))
        .bind(id(user))
        .bind(ts_opt(from))
        .bind(ts_opt(to))
        .fetch_all(self.conn())
        .await
        .map_err(db_err)?;
        rows.iter().map(decode_abandon).collect()
    }
}

#[async_trait]
impl Outbox for SqliteUow {
    async fn append_events(&mut self, events: &[EventEnvelope]) -> StoreResult<()> {
        for e in events {
            let payload = serde_json::to_string(e)
                .map_err(|err| StoreError::unexpected(format!("event to JSON: {err}")))?;
            sqlx::query(
                "INSERT INTO outbox (event_id, user_id, event_type, occurred_at, payload, \
                 next_attempt_at) VALUES (?, ?, ?, ?, ?, ?)",
            )
            .bind(id(e.event_id))
            .bind(id(e.user_id))
            .bind(e.event_type())
            .bind(ts(e.occurred_at))
            .bind(payload)
            .bind(ts(e.occurred_at))
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        }
        Ok(())
    }
}
