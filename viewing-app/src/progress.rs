//! Progress for one show, and the "up next" list.

use std::sync::Arc;

use viewing_domain::ports::{
    AbandonRepository, ShowProgressRepository, Store, UserRepository, ViewingRecordRepository,
};
use viewing_domain::rules::progress::{ProgressView, progress_view};
use viewing_domain::{ShowId, UserId};

use crate::error::{AppError, AppResult};
use crate::progress_cache::{ShowInputs, UpNextInputs};
use crate::service::ViewingService;

impl<S: Store> ViewingService<S> {
    /// `GET /api/viewing/progress/{showId}`.
    ///
    /// Reads the user's revision, then serves the records, progress row and latest abandon
    /// kept for that revision ([`crate::progress_cache`]) or loads and keeps them.
    #[tracing::instrument(level = "debug", skip_all, fields(user = %user, show = %show_id))]
    pub async fn progress(&self, user: UserId, show_id: ShowId) -> AppResult<ProgressView> {
        let now = self.clock.now();
        let mut uow = self.store.begin_read().await?;
        let show = self
            .catalog
            .show(&mut uow, show_id)
            .await?
            .ok_or(AppError::ContentNotFound)?;
        let revision = uow.user_revision(user).await?;
        let inputs = match self.progress_cache.show(user, show_id, revision) {
            Some(kept) => kept,
            None => {
                let loaded = Arc::new(ShowInputs {
                    records: uow.episode_records(user, show_id).await?,
                    progress: uow.progress(user, show_id).await?,
                    abandon: uow.latest_abandon(user, show_id.as_uuid()).await?,
                });
                self.progress_cache
                    .keep_show(user, show_id, revision, loaded.clone());
                loaded
            }
        };
        Ok(progress_view(
            &show,
            &inputs.records,
            inputs.progress.as_ref(),
            inputs.abandon.as_ref(),
            now,
            &self.rules,
        ))
    }

    /// `GET /api/viewing/progress`: shows in progress (watching, caught up with new episodes,
    /// stalled), most recent activity first, each with its next episode.
    ///
    /// Reads the user's revision, then serves what is kept for it ([`crate::progress_cache`]),
    /// or reads the user's progress rows, then the episode records and the latest abandons of
    /// every show not completed in one query each (not one per show), and keeps them. A show
    /// whose progress is completed is never up next (its status is completed or dropped), so
    /// its records are not read.
    #[tracing::instrument(level = "debug", skip_all, fields(user = %user))]
    pub async fn up_next(&self, user: UserId) -> AppResult<Vec<ProgressView>> {
        let now = self.clock.now();
        let mut uow = self.store.begin_read().await?;
        let revision = uow.user_revision(user).await?;
        let inputs = match self.progress_cache.up_next(user, revision) {
            Some(kept) => kept,
            None => {
                let progress: Vec<_> = uow
                    .progress_of_user(user)
                    .await?
                    .into_iter()
                    .filter(|p| !p.is_completed)
                    .collect();
                let loaded = if progress.is_empty() {
                    UpNextInputs::default()
                } else {
                    let shows: Vec<ShowId> = progress.iter().map(|p| p.show_id).collect();
                    let items: Vec<uuid::Uuid> = shows.iter().map(|s| s.as_uuid()).collect();
                    UpNextInputs::new(
                        progress,
                        uow.episode_records_of_shows(user, &shows).await?,
                        uow.latest_abandons(user, &items).await?,
                    )
                };
                let loaded = Arc::new(loaded);
                self.progress_cache
                    .keep_up_next(user, revision, loaded.clone());
                loaded
            }
        };
        let catalog = self.catalog.current(&mut uow).await?;
        if let Some(list) = inputs.computed(now, catalog) {
            return Ok(list.as_ref().clone());
        }
        let mut out = Vec::new();
        for p in &inputs.progress {
            let Some(show) = self.catalog.show(&mut uow, p.show_id).await? else {
                continue;
            };
            let records = inputs
                .records
                .get(&p.show_id)
                .map(Vec::as_slice)
                .unwrap_or_default();
            let view = progress_view(
                &show,
                records,
                Some(p),
                inputs.abandons.get(&p.show_id.as_uuid()),
                now,
                &self.rules,
            );
            if view.status.is_up_next() && view.next_episode.is_some() {
                out.push(view);
            }
        }
        out.sort_by_key(|v| std::cmp::Reverse(v.last_activity_at));
        inputs.keep_computed(now, catalog, Arc::new(out.clone()));
        Ok(out)
    }
}
