//! Binge sessions in memory.

use crate::store::MemoryUow;
use async_trait::async_trait;
use viewing_domain::ports::*;
use viewing_domain::{BingeSession, BingeSessionId, ShowId, UserId};

#[async_trait]
impl BingeSessionRepository for MemoryUow {
    async fn binge_session(&mut self, id: BingeSessionId) -> StoreResult<Option<BingeSession>> {
        Ok(self.work.sessions.get(&id).cloned())
    }

    async fn user_binge_session(
        &mut self,
        user: UserId,
        id: BingeSessionId,
    ) -> StoreResult<Option<BingeSession>> {
        Ok(self
            .work
            .sessions
            .get(&id)
            .filter(|s| s.user_id == user)
            .cloned())
    }

    async fn binge_sessions_of_show(
        &mut self,
        user: UserId,
        show: ShowId,
    ) -> StoreResult<Vec<BingeSession>> {
        let mut out: Vec<BingeSession> = self
            .work
            .sessions
            .values()
            .filter(|s| s.user_id == user && s.show_id == show)
            .cloned()
            .collect();
        out.sort_by_key(|s| (s.start_time, s.id));
        Ok(out)
    }

    async fn save_binge_session(&mut self, session: &BingeSession) -> StoreResult<()> {
        self.work.sessions.insert(session.id, session.clone());
        Ok(())
    }

    async fn delete_binge_session(&mut self, id: BingeSessionId) -> StoreResult<()> {
        self.work.sessions.remove(&id);
        Ok(())
    }
}
