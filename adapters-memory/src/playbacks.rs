//! Players' playbacks (SPEC §13) in memory.

use crate::store::MemoryUow;
use async_trait::async_trait;
use viewing_domain::ports::*;
use viewing_domain::rules::playback::Playback;
use viewing_domain::{PlaybackId, UserId};

#[async_trait]
impl PlaybackRepository for MemoryUow {
    async fn save_playback(&mut self, playback: &Playback) -> StoreResult<()> {
        let mine = |p: &&mut Playback| {
            p.user_id == playback.user_id && p.content_id == playback.content_id
        };
        match self.work.playbacks.iter_mut().find(mine) {
            // The item's playback keeps its id.
            Some(kept) => {
                *kept = Playback {
                    id: kept.id,
                    ..playback.clone()
                };
            }
            None => self.work.playbacks.push(playback.clone()),
        }
        Ok(())
    }

    async fn playback_of(
        &mut self,
        user: UserId,
        content: uuid::Uuid,
    ) -> StoreResult<Option<Playback>> {
        Ok(self
            .work
            .playbacks
            .iter()
            .find(|p| p.user_id == user && p.content_id == content)
            .cloned())
    }

    async fn playbacks(&mut self, user: UserId) -> StoreResult<Vec<Playback>> {
        let mut out: Vec<Playback> = self
            .work
            .playbacks
            .iter()
            .filter(|p| p.user_id == user)
            .cloned()
            .collect();
        out.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then(b.id.cmp(&a.id)));
        Ok(out)
    }

    async fn delete_playback(&mut self, user: UserId, id: PlaybackId) -> StoreResult<bool> {
        let before = self.work.playbacks.len();
        self.work
            .playbacks
            .retain(|p| !(p.id == id && p.user_id == user));
        Ok(self.work.playbacks.len() < before)
    }
}
