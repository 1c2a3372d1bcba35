//! Show progress (with season completions), binge sessions, abandons and the outbox.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use uuid::Uuid;
use viewing_domain::ports::{
    AbandonRepository, BingeSessionRepository, Outbox, ShowProgressRepository, StoreError,
    StoreResult,
};
use viewing_domain::values::{AbandonReason, Percent, Rating};
use viewing_domain::{
    AbandonId, AbandonRecord, BingeSession, BingeSessionId, EpisodeId, EventEnvelope, ItemType,
    SeasonCompletion, SeasonId, ShowId, ShowProgress, UserId,
};

use crate::codec::{corrupt, db_err, get, get_u32, get_u32_opt, int, parsed};
use crate::uow::PgUow;

/// The columns a [`ShowProgress`] is rebuilt from, its season completions (in season order)
/// as parallel arrays, as a literal for `concat!`.
macro_rules! select_progress {
    () => {
        "SELECT p.user_id, p.show_id, p.last_watched_season, p.last_watched_episode, \
         p.last_watched_episode_id, p.last_watch_date, p.total_episodes_watched, \
         p.is_completed, p.completion_date, p.last_activity_at, p.inactivity_reported_at, \
         p.updated_at, \
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
    Ok(ShowProgress {
        user_id: UserId::from(get::<Uuid>(row, "user_id")?),
        show_id: ShowId::from(get::<Uuid>(row, "show_id")?),
        last_watched_season: get_u32_opt(row, "last_watched_season")?,
        last_watched_episode: get_u32_opt(row, "last_watched_episode")?,
        last_watched_episode_id: get::<Option<Uuid>>(row, "last_watched_episode_id")?
            .map(EpisodeId::from),
        last_watch_date: get(row, "last_watch_date")?,
        total_episodes_watched: get_u32(row, "total_episodes_watched")?,
        completed_seasons,
        is_completed: get(row, "is_completed")?,
        completion_date: get(row, "completion_date")?,
        last_activity_at: get(row, "last_activity_at")?,
        inactivity_reported_at: get(row, "inactivity_reported_at")?,
        updated_at: get(row, "updated_at")?,
    })
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

    async fn save_progress(&mut self, p: &ShowProgress) -> StoreResult<()> {
        let (user, show) = (p.user_id.as_uuid(), p.show_id.as_uuid());
        let completed = u32::try_from(p.completed_seasons.len()).unwrap_or(u32::MAX);
        sqlx::query(
            "INSERT INTO show_progress (id, user_id, show_id, last_watched_season, \
             last_watched_episode, last_watched_episode_id, last_watch_date, \
             total_episodes_watched, completed_seasons, is_completed, completion_date, \
             last_activity_at, inactivity_reported_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
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

fn decode_session(row: &PgRow) -> StoreResult<BingeSession> {
    Ok(BingeSession {
        id: BingeSessionId::from(get::<Uuid>(row, "id")?),
        user_id: UserId::from(get::<Uuid>(row, "user_id")?),
        show_id: ShowId::from(get::<Uuid>(row, "show_id")?),
        start_time: get(row, "start_time")?,
        end_time: get(row, "end_time")?,
        episodes_watched: get_u32(row, "episodes_watched")?,
        created_at: get(row, "created_at")?,
    })
}

#[async_trait]
impl BingeSessionRepository for PgUow {
    async fn binge_session(&mut self, sid: BingeSessionId) -> StoreResult<Option<BingeSession>> {
        sqlx::query(
            "SELECT id, user_id, show_id, start_time, end_time, episodes_watched, created_at \
             FROM binge_sessions WHERE id = $1",
        )
        .bind(sid.as_uuid())
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
             FROM binge_sessions WHERE id = $1 AND user_id = $2",
        )
        .bind(sid.as_uuid())
        .bind(user.as_uuid())
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
             FROM binge_sessions WHERE user_id = $1 AND show_id = $2 ORDER BY start_time, id",
        )
        .bind(user.as_uuid())
        .bind(show.as_uuid())
        .fetch_all(self.conn())
        .await
        .map_err(db_err)?;
        rows.iter().map(decode_session).collect()
    }

    async fn save_binge_session(&mut self, s: &BingeSession) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO binge_sessions (id, user_id, show_id, start_time, end_time, \
             episodes_watched, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (id) DO UPDATE SET user_id = excluded.user_id, \
             show_id = excluded.show_id, start_time = excluded.start_time, \
             end_time = excluded.end_time, episodes_watched = excluded.episodes_watched, \
             created_at = excluded.created_at",
        )
        .bind(s.id.as_uuid())
        .bind(s.user_id.as_uuid())
        .bind(s.show_id.as_uuid())
        .bind(s.start_time)
        .bind(s.end_time)
        .bind(int(s.episodes_watched)?)
        .bind(s.created_at)
        .execute(self.conn())
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn delete_binge_session(&mut self, sid: BingeSessionId) -> StoreResult<()> {
        sqlx::query("DELETE FROM binge_sessions WHERE id = $1")
            .bind(sid.as_uuid())
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        Ok(())
    }
}

/// The columns an [`AbandonRecord`] is rebuilt from, as a literal for `concat!`. NUMERIC
/// values come back as exact integer tenths / hundredths.
macro_rules! select_abandons {
    () => {
        "SELECT id, user_id, content_id, content_type, abandon_date, \
         (progress_percent * 100)::int4 AS progress_hundredths, abandon_reason, \
         (quality_rating * 10)::int4 AS quality_tenths, would_retry, created_at \
         FROM abandoned_content"
    };
}

fn decode_abandon(row: &PgRow) -> StoreResult<AbandonRecord> {
    let item_type: String = get(row, "content_type")?;
    let hundredths: i32 = get(row, "progress_hundredths")?;
    Ok(AbandonRecord {
        id: AbandonId::from(get::<Uuid>(row, "id")?),
        user_id: UserId::from(get::<Uuid>(row, "user_id")?),
        item_id: get(row, "content_id")?,
        item_type: ItemType::parse(&item_type)
            .ok_or_else(|| corrupt("content_type", &item_type))?,
        abandon_date: get(row, "abandon_date")?,
        progress_percent: u16::try_from(hundredths)
            .ok()
            .and_then(Percent::from_hundredths)
            .ok_or_else(|| corrupt("progress_percent", hundredths))?,
        abandon_reason: parsed(
            "abandon_reason",
            get(row, "abandon_reason")?,
            AbandonReason::parse,
        )?,
        quality_rating: get::<Option<i32>>(row, "quality_tenths")?
            .map(|t| {
                u8::try_from(t)
                    .ok()
                    .and_then(Rating::from_tenths)
                    .ok_or_else(|| corrupt("quality_rating", t))
            })
            .transpose()?,
        would_retry: get(row, "would_retry")?,
        created_at: get(row, "created_at")?,
    })
}

#[async_trait]
impl AbandonRepository for PgUow {
    async fn insert_abandon(&mut self, a: &AbandonRecord) -> StoreResult<()> {
        // Exact decimals from integer tenths / hundredths, never through a float.
        sqlx::query(
            "INSERT INTO abandoned_content (id, user_id, content_id, content_type, abandon_date, \
             progress_percent, abandon_reason, quality_rating, would_retry, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6::int4 / 100.0, $7, $8::int4 / 10.0, $9, $10)",
        )
        .bind(a.id.as_uuid())
        .bind(a.user_id.as_uuid())
        .bind(a.item_id)
        .bind(a.item_type.as_str())
        .bind(a.abandon_date)
        .bind(i32::from(a.progress_percent.hundredths()))
        .bind(a.abandon_reason.as_ref().map(AbandonReason::as_str))
        .bind(a.quality_rating.map(|r| i32::from(r.tenths())))
        .bind(a.would_retry)
        .bind(a.created_at)
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
        sqlx::query(concat!(
            select_abandons!(),
            " WHERE id = $1 AND user_id = $2"
        ))
        .bind(aid.as_uuid())
        .bind(user.as_uuid())
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
        item: Uuid,
    ) -> StoreResult<Option<AbandonRecord>> {
        sqlx::query(concat!(
            select_abandons!(),
            " WHERE user_id = $1 AND content_id = $2 \
             ORDER BY abandon_date DESC, created_at DESC, id DESC LIMIT 1"
        ))
        .bind(user.as_uuid())
        .bind(item)
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
            " WHERE user_id = $1 AND ($2::timestamptz IS NULL OR abandon_date >= $2) \
             AND ($3::timestamptz IS NULL OR abandon_date <= $3) \
             ORDER BY abandon_date DESC, id DESC"
        ))
        .bind(user.as_uuid())
        .bind(from)
        .bind(to)
        .fetch_all(self.conn())
        .await
        .map_err(db_err)?;
        rows.iter().map(decode_abandon).collect()
    }
}

#[async_trait]
impl Outbox for PgUow {
    async fn append_events(&mut self, events: &[EventEnvelope]) -> StoreResult<()> {
        if events.is_empty() {
            return Ok(());
        }
        let mut ids = Vec::with_capacity(events.len());
        let mut users = Vec::with_capacity(events.len());
        let mut types = Vec::with_capacity(events.len());
        let mut times = Vec::with_capacity(events.len());
        let mut payloads = Vec::with_capacity(events.len());
        for e in events {
            ids.push(e.event_id.as_uuid());
            users.push(e.user_id.as_uuid());
            types.push(e.event_type());
            times.push(e.occurred_at);
            payloads.push(
                serde_json::to_string(e)
                    .map_err(|err| StoreError::unexpected(format!("event to JSON: {err}")))?,
            );
        }
        // WITH ORDINALITY + ORDER BY: `seq` follows the order of `events`.
        sqlx::query(
            "INSERT INTO outbox (event_id, user_id, event_type, occurred_at, payload, \
             next_attempt_at) \
             SELECT e.id, e.user_id, e.type, e.at, e.payload, e.at \
             FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::timestamptz[], $5::text[]) \
             WITH ORDINALITY AS e(id, user_id, type, at, payload, ord) ORDER BY e.ord",
        )
        .bind(ids)
        .bind(users)
        .bind(types)
        .bind(times)
        .bind(payloads)
        .execute(self.conn())
        .await
        .map_err(db_err)?;
        Ok(())
    }
}
