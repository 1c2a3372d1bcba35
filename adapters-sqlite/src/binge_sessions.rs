//! Binge sessions.

use adapters_sql::decode;
use async_trait::async_trait;
use viewing_domain::ports::{BingeSessionRepository, StoreResult};
use viewing_domain::{BingeSession, BingeSessionId, ShowId, UserId};

use crate::codec::{db_err, id, ts};
use crate::uow::SqliteUow;

/// The columns a [`BingeSession`] is rebuilt from ([`decode::binge_session`]), as a literal for
/// `concat!`.
macro_rules! select_sessions {
    () => {
        "SELECT id, user_id, show_id, start_time, end_time, episodes_watched, created_at \
         FROM binge_sessions"
    };
}

#[async_trait]
impl BingeSessionRepository for SqliteUow {
    async fn binge_session(&mut self, sid: BingeSessionId) -> StoreResult<Option<BingeSession>> {
        sqlx::query(concat!(select_sessions!(), " WHERE id = ?"))
            .bind(id(sid))
            .fetch_optional(self.conn())
            .await
            .map_err(db_err)?
            .as_ref()
            .map(decode::binge_session)
            .transpose()
    }

    async fn binge_sessions_by_id(
        &mut self,
        ids: &[BingeSessionId],
    ) -> StoreResult<Vec<BingeSession>> {
        let rows = sqlx::query(concat!(
            select_sessions!(),
            " WHERE id IN (SELECT value FROM json_each(?))"
        ))
        .bind(crate::codec::id_list(ids.iter().copied()))
        .fetch_all(self.conn())
        .await
        .map_err(db_err)?;
        rows.iter().map(decode::binge_session).collect()
    }

    #[tracing::instrument(level = "debug", skip_all, fields(%user, session = %sid))]
    async fn user_binge_session(
        &mut self,
        user: UserId,
        sid: BingeSessionId,
    ) -> StoreResult<Option<BingeSession>> {
        sqlx::query(concat!(select_sessions!(), " WHERE id = ? AND user_id = ?"))
            .bind(id(sid))
            .bind(id(user))
            .fetch_optional(self.conn())
            .await
            .map_err(db_err)?
            .as_ref()
            .map(decode::binge_session)
            .transpose()
    }

    #[tracing::instrument(level = "debug", skip_all, fields(%user))]
    async fn binge_sessions_of_show(
        &mut self,
        user: UserId,
        show: ShowId,
    ) -> StoreResult<Vec<BingeSession>> {
        let rows = sqlx::query(concat!(
            select_sessions!(),
            " WHERE user_id = ? AND show_id = ? ORDER BY start_time, id",
        ))
        .bind(id(user))
        .bind(id(show))
        .fetch_all(self.conn())
        .await
        .map_err(db_err)?;
        rows.iter().map(decode::binge_session).collect()
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
