//! Progress for one show, and the "up next" list.

use viewing_domain::ports::{
    AbandonRepository, ShowProgressRepository, Store, ViewingRecordRepository,
};
use viewing_domain::rules::progress::{ProgressView, progress_view};
use viewing_domain::{ShowId, UserId};

use crate::error::{AppError, AppResult};
use crate::service::ViewingService;

impl<S: Store> ViewingService<S> {
    /// `GET /api/viewing/progress/{showId}`.
    #[tracing::instrument(level = "debug", skip_all, fields(user = %user, show = %show_id))]
    pub async fn progress(&self, user: UserId, show_id: ShowId) -> AppResult<ProgressView> {
        let now = self.clock.now();
        let mut uow = self.store.begin_read().await?;
        let show = self
            .catalog
            .show(&mut uow, show_id)
            .await?
            .ok_or(AppError::ContentNotFound)?;
        let records = uow.episode_records(user, show_id).await?;
        let progress = uow.progress(user, show_id).await?;
        let abandon = uow.latest_abandon(user, show_id.as_uuid()).await?;
        Ok(progress_view(
            &show,
            &records,
            progress.as_ref(),
            abandon.as_ref(),
            now,
            &self.rules,
        ))
    }

    /// `GET /api/viewing/progress`: shows in progress (watching, caught up with new episodes,
    /// stalled), most recent activity first, each with its next episode.
    ///
    /// Reads the user's progress rows, then the episode records and the latest abandons of
    /// every show that may be up next in one query each (not one per show). A show whose
    /// progress is completed is never up next (its status is completed or dropped), so its
    /// records are not read.
    #[tracing::instrument(level = "debug", skip_all, fields(user = %user))]
    pub async fn up_next(&self, user: UserId) -> AppResult<Vec<ProgressView>> {
        let now = self.clock.now();
        let mut uow = self.store.begin_read().await?;
        let mut candidates = Vec::new();
        for p in uow.progress_of_user(user).await? {
            if p.is_completed {
                continue;
            }
            if let Some(show) = self.catalog.show(&mut uow, p.show_id).await? {
                candidates.push((p, show));
            }
        }
        if candidates.is_empty() {
            return Ok(Vec::new());
        }
        let show_ids: Vec<ShowId> = candidates.iter().map(|(p, _)| p.show_id).collect();
        let items: Vec<uuid::Uuid> = show_ids.iter().map(|s| s.as_uuid()).collect();
        let mut records = uow.episode_records_of_shows(user, &show_ids).await?;
        let abandons = uow.latest_abandons(user, &items).await?;
        let mut out = Vec::new();
        for (p, show) in candidates {
            let records = records.remove(&p.show_id).unwrap_or_default();
            let view = progress_view(
                &show,
                &records,
                Some(&p),
                abandons.get(&p.show_id.as_uuid()),
                now,
                &self.rules,
            );
            if view.status.is_up_next() && view.next_episode.is_some() {
                out.push(view);
            }
        }
        out.sort_by_key(|v| std::cmp::Reverse(v.last_activity_at));
        Ok(out)
    }
}
