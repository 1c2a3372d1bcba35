//! Binge sessions.

use adapters_sql::decode;
use async_trait::async_trait;
use viewing_domain::ports::{BingeSessionRepository, StoreResult};
use viewing_domain::{BingeSession, BingeSessionId, ShowId, UserId};

use crate::codec::{db_err, int};
use crate::uow::PgUow;

/// The columns a [`BingeSession`] is rebuilt from ([`decode::binge_session`]), as a literal for
/// `concat!`.
macro_rules! select_sessions {
    () => {
        "SELECT id, user_id, show_id, start_time, end_time, episodes_watched, created_at \
         FROM binge_sessions"
    };
}

#[async_trait]
impl BingeSessionRepository for PgUow {
    async fn binge_session(&mut self, sid: BingeSessionId) -> StoreResult<Option<BingeSession>> {
        sqlx::query(concat!(select_sessions!(), " WHERE id = $1"))
            .bind(sid.as_uuid())
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
        let ids: Vec<uuid::Uuid> = ids.iter().map(|s| s.as_uuid()).collect();
        let rows = sqlx::query(concat!(select_sessions!(), " WHERE id = ANY($1)"))
            .bind(&ids)
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
        sqlx::query(concat!(
            select_sessions!(),
            " WHERE id = $1 AND user_id = $2",
        ))
        .bind(sid.as_uuid())
        .bind(user.as_uuid())
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
            " WHERE user_id = $1 AND show_id = $2 ORDER BY start_time, id",
        ))
        .bind(user.as_uuid())
        .bind(show.as_uuid())
        .fetch_all(self.conn())
        .await
        .map_err(db_err)?;
        rows.iter().map(decode::binge_session).collect()
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
