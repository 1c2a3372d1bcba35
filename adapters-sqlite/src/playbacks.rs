//! Players' playbacks (SPEC §13).

use adapters_sql::decode;
use async_trait::async_trait;
use viewing_domain::ports::{PlaybackRepository, StoreResult};
use viewing_domain::rules::playback::Playback;
use viewing_domain::{PlaybackId, UserId};

use crate::codec::{db_err, id, id_opt, ts};
use crate::uow::SqliteUow;

macro_rules! select_playbacks {
    () => {
        "SELECT id, user_id, content_id, kind, show_id, state, progress_hundredths, \
         started_at, updated_at, expires_at FROM playbacks"
    };
}

#[async_trait]
impl PlaybackRepository for SqliteUow {
    async fn save_playback(&mut self, p: &Playback) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO playbacks (id, user_id, content_id, kind, show_id, state, \
             progress_hundredths, started_at, updated_at, expires_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (user_id, content_id) DO UPDATE SET kind = excluded.kind, \
             show_id = excluded.show_id, state = excluded.state, \
             progress_hundredths = excluded.progress_hundredths, \
             started_at = excluded.started_at, updated_at = excluded.updated_at, \
             expires_at = excluded.expires_at",
        )
        .bind(id(p.id))
        .bind(id(p.user_id))
        .bind(id(p.content_id))
        .bind(p.kind.as_str())
        .bind(id_opt(p.show_id))
        .bind(p.state.as_str())
        .bind(i64::from(p.progress.hundredths()))
        .bind(ts(p.started_at))
        .bind(ts(p.updated_at))
        .bind(ts(p.expires_at))
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
            " WHERE user_id = ? AND content_id = ?"
        ))
        .bind(id(user))
        .bind(id(content))
        .fetch_optional(self.conn())
        .await
        .map_err(db_err)?;
        row.as_ref().map(decode::playback).transpose()
    }

    async fn playbacks(&mut self, user: UserId) -> StoreResult<Vec<Playback>> {
        let rows = sqlx::query(concat!(
            select_playbacks!(),
            " WHERE user_id = ? ORDER BY updated_at DESC, id DESC"
        ))
        .bind(id(user))
        .fetch_all(self.conn())
        .await
        .map_err(db_err)?;
        rows.iter().map(decode::playback).collect()
    }

    async fn delete_playback(&mut self, user: UserId, pid: PlaybackId) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM playbacks WHERE id = ? AND user_id = ?")
            .bind(id(pid))
            .bind(id(user))
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected() > 0)
    }
}
