//! Players' playbacks (SPEC §13).

use adapters_sql::decode;
use async_trait::async_trait;
use viewing_domain::ports::{PlaybackRepository, StoreResult};
use viewing_domain::rules::playback::Playback;
use viewing_domain::{PlaybackId, UserId};

use crate::codec::db_err;
use crate::uow::PgUow;

macro_rules! select_playbacks {
    () => {
        "SELECT id, user_id, content_id, kind, show_id, state, progress_hundredths, \
         started_at, updated_at, expires_at FROM playbacks"
    };
}

#[async_trait]
impl PlaybackRepository for PgUow {
    async fn save_playback(&mut self, p: &Playback) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO playbacks (id, user_id, content_id, kind, show_id, state, \
             progress_hundredths, started_at, updated_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT (user_id, content_id) DO UPDATE SET kind = excluded.kind, \
             show_id = excluded.show_id, state = excluded.state, \
             progress_hundredths = excluded.progress_hundredths, \
             started_at = excluded.started_at, updated_at = excluded.updated_at, \
             expires_at = excluded.expires_at",
        )
        .bind(p.id.as_uuid())
        .bind(p.user_id.as_uuid())
        .bind(p.content_id)
        .bind(p.kind.as_str())
        .bind(p.show_id.map(|s| s.as_uuid()))
        .bind(p.state.as_str())
        .bind(i64::from(p.progress.hundredths()))
        .bind(p.started_at)
        .bind(p.updated_at)
        .bind(p.expires_at)
        .execute(self.conn())
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn playback_of(
        &mut self,
        user: UserId,
        content: uuid::Uuid,
    ) -> StoreResult<Option<Playback>> {
        let row = sqlx::query(concat!(
            select_playbacks!(),
            " WHERE user_id = $1 AND content_id = $2"
        ))
        .bind(user.as_uuid())
        .bind(content)
        .fetch_optional(self.conn())
        .await
        .map_err(db_err)?;
        row.as_ref().map(decode::playback).transpose()
    }

    async fn playbacks(&mut self, user: UserId) -> StoreResult<Vec<Playback>> {
        let rows = sqlx::query(concat!(
            select_playbacks!(),
            " WHERE user_id = $1 ORDER BY updated_at DESC, id DESC"
        ))
        .bind(user.as_uuid())
        .fetch_all(self.conn())
        .await
        .map_err(db_err)?;
        rows.iter().map(decode::playback).collect()
    }

    async fn delete_playback(&mut self, user: UserId, pid: PlaybackId) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM playbacks WHERE id = $1 AND user_id = $2")
            .bind(pid.as_uuid())
            .bind(user.as_uuid())
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected() > 0)
    }
}
