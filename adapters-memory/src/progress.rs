//! Show progress in memory.

use crate::store::MemoryUow;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use viewing_domain::ports::*;
use viewing_domain::{ShowId, ShowProgress, UserId};

#[async_trait]
impl ShowProgressRepository for MemoryUow {
    async fn progress(&mut self, user: UserId, show: ShowId) -> StoreResult<Option<ShowProgress>> {
        Ok(self.work.progress.get(&(user, show)).cloned())
    }

    async fn save_progress(&mut self, progress: &ShowProgress) -> StoreResult<()> {
        self.work
            .progress
            .insert((progress.user_id, progress.show_id), progress.clone());
        Ok(())
    }

    async fn progress_of_user(&mut self, user: UserId) -> StoreResult<Vec<ShowProgress>> {
        let mut out: Vec<ShowProgress> = self
            .work
            .progress
            .values()
            .filter(|p| p.user_id == user)
            .cloned()
            .collect();
        out.sort_by_key(|p| std::cmp::Reverse(p.last_activity_at));
        Ok(out)
    }

    async fn idle_progress(
        &mut self,
        idle_since: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<ShowProgress>> {
        let mut out: Vec<ShowProgress> = self
            .work
            .progress
            .values()
            .filter(|p| {
                !p.is_completed
                    && p.total_episodes_watched > 0
                    && p.inactivity_reported_at.is_none()
                    && p.last_activity_at.is_some_and(|l| l < idle_since)
            })
            .cloned()
            .collect();
        out.sort_by_key(|p| p.last_activity_at);
        out.truncate(limit as usize);
        Ok(out)
    }
}
