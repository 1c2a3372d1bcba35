//! The commands that record viewing: a movie, an episode, an abandon; and the binge rebuild.

use viewing_domain::imports::PlayDetails;
use viewing_domain::ports::{
    AbandonRepository, Begin, BingeSessionRepository, CatalogRepository, CommandUnitOfWork, Outbox,
    ShowProgressRepository, Transaction, UserItemLock, UserRepository, ViewingRecordRepository,
};
use viewing_domain::rules::abandon::{
    Abandon, abandon_undone, decide_abandon, inactivity_event, is_inactive,
};
use viewing_domain::rules::binge::{SessionChanges, plan_sessions};
use viewing_domain::rules::episode::{EpisodeState, WatchEpisode, decide_record_episode};
use viewing_domain::rules::history::{
    DeletionState, EditRecord, ProgressReset, ShowState, current_pass, decide_delete_record,
    decide_edit_record, decide_reset, decide_undo_reset,
};
use viewing_domain::rules::movie::{WatchMovie, decide_record_movie};
use viewing_domain::rules::progress::{ProgressView, progress_view, tally};
use viewing_domain::values::Percent;
use viewing_domain::{
    AbandonId, AbandonRecord, BingeSession, BingeSessionId, DomainEvent, EpisodeId, ItemType,
    MovieId, Origin, RecordId, Show, ShowId, ShowProgress, UserId, ViewingRecord,
};

use crate::error::{AppError, AppResult};
use crate::service::ViewingService;

/// Where a play comes from: `decided` is what the rules see (an import skips the order check,
/// its events say `imported`), `stored` what its record keeps — the same, except for an import
/// of this service's own export, which keeps each play's first origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Plays {
    pub(crate) decided: Origin,
    pub(crate) stored: Origin,
}

impl Plays {
    /// Recorded through the API by the user.
    pub(crate) const MANUAL: Plays = Plays {
        decided: Origin::Manual,
        stored: Origin::Manual,
    };
}

/// What recording an episode produced.
#[derive(Debug, Clone, PartialEq)]
pub struct EpisodeWatched {
    /// The record written for the requested episode.
    pub record: ViewingRecord,
    /// A season was completed for the first time by this watch.
    pub season_completed: bool,
    /// The show was completed by this watch.
    pub show_completed: bool,
}

impl<S> ViewingService<S>
where
    S: Begin,
    S::Uow: Transaction + UserItemLock + CatalogRepository + ViewingRecordRepository,
    S::Uow: UserRepository + Outbox,
{
    /// `POST /api/viewing/movies/{movieId}/watched`.
    #[tracing::instrument(level = "debug", skip_all, fields(user = %user, movie = %movie_id))]
    pub async fn watch_movie(
        &self,
        user: UserId,
        movie_id: MovieId,
        cmd: WatchMovie,
    ) -> AppResult<ViewingRecord> {
        self.retrying(|| async {
            let now = self.clock.now();
            let mut uow = self.store.begin().await?;
            let record = self
                .record_movie_in(&mut uow, user, movie_id, cmd.clone(), Plays::MANUAL, now)
                .await?;
            uow.commit().await?;
            Ok(record)
        })
        .await
    }

    /// A movie play in `uow` (not committed): the record and its event. `origin` says where
    /// it comes from (an import's events say so).
    pub(crate) async fn record_movie_in(
        &self,
        uow: &mut S::Uow,
        user: UserId,
        movie_id: MovieId,
        cmd: WatchMovie,
        origin: Plays,
        now: chrono::DateTime<chrono::Utc>,
    ) -> AppResult<ViewingRecord> {
        let movie = self
            .catalog
            .movie(uow, movie_id)
            .await?
            .ok_or(AppError::ContentNotFound)?;
        uow.lock_user_item(user, movie_id.as_uuid()).await?;
        let earlier = uow.count_records_of(user, movie_id.as_uuid()).await?;
        let mut decision = decide_record_movie(
            user,
            &movie,
            cmd,
            earlier,
            RecordId::from(self.ids.new_id()),
            origin.decided,
            now,
        )?;
        decision.record.origin = origin.stored;
        uow.ensure_user(user, now).await?;
        uow.insert_record(&decision.record).await?;
        uow.append_events(&self.envelopes(user, vec![decision.event]))
            .await?;
        Ok(decision.record)
    }
}

/// A record being corrected, with what its correction recomputes (read under the lock).
struct Correction {
    record: ViewingRecord,
    show: Option<std::sync::Arc<Show>>,
    records: Vec<ViewingRecord>,
    progress: Option<ShowProgress>,
    sessions: Vec<BingeSession>,
    item_records: Vec<ViewingRecord>,
}

impl Correction {
    fn show_state(&self) -> Option<ShowState<'_>> {
        self.show.as_ref().map(|show| ShowState {
            show,
            records: &self.records,
            progress: self.progress.as_ref(),
            sessions: &self.sessions,
        })
    }
}

/// One episode play to record: which episode, how, and where it comes from.
pub(crate) struct EpisodePlay<'a> {
    pub(crate) episode_id: EpisodeId,
    pub(crate) cmd: &'a WatchEpisode,
    /// The session `cmd.binge_session_id` names, as read (`None`: none named, or none such).
    pub(crate) requested_session: Option<&'a BingeSession>,
    pub(crate) origin: Plays,
    /// For an import of this service's own export: the place, context and companions its
    /// record had (an episode's come only from an edit).
    pub(crate) details: Option<&'a PlayDetails>,
}

/// A user's show as recording an episode reads it, kept current by the plays recorded
/// through it (under the lock of the unit of work that read it).
pub(crate) struct HeldShow {
    show: std::sync::Arc<Show>,
    /// Every episode record, in the store's order (watch date, then id).
    records: Vec<ViewingRecord>,
    progress: Option<ShowProgress>,
    sessions: Vec<BingeSession>,
}

impl HeldShow {
    /// What the store holds after `new` records are inserted and `changes` are written.
    fn apply(&mut self, new: &[ViewingRecord], changes: &SessionChanges) {
        for saved in &changes.save {
            match self.sessions.iter_mut().find(|s| s.id == saved.id) {
                Some(s) => *s = saved.clone(),
                None => self.sessions.push(saved.clone()),
            }
        }
        self.records.extend(new.iter().cloned());
        for (id, session) in &changes.moves {
            if let Some(r) = self.records.iter_mut().find(|r| r.id == *id) {
                r.binge_session_id = *session;
            }
        }
        self.sessions.retain(|s| !changes.delete.contains(&s.id));
        self.records.sort_by_key(|r| (r.watch_date, r.id));
    }
}

/// The shows an import has recorded episodes of, read once each, and which of them have a
/// progress still to be written ([`ViewingService::flush_episodes`]).
pub(crate) struct EpisodeBatch {
    user: UserId,
    shows: std::collections::HashMap<ShowId, HeldShow>,
    changed: std::collections::BTreeSet<ShowId>,
}

impl EpisodeBatch {
    /// Nothing held yet of `user`'s shows.
    pub(crate) fn new(user: UserId) -> Self {
        Self {
            user,
            shows: std::collections::HashMap::new(),
            changed: std::collections::BTreeSet::new(),
        }
    }
}

impl<S> ViewingService<S>
where
    S: Begin,
    S::Uow: CommandUnitOfWork,
{
    /// `POST /api/viewing/episodes/{episodeId}/watched`: the record(s), binge session, progress
    /// and events of one watch, written together or not at all.
    #[tracing::instrument(level = "debug", skip_all, fields(user = %user, episode = %episode_id))]
    pub async fn watch_episode(
        &self,
        user: UserId,
        episode_id: EpisodeId,
        cmd: WatchEpisode,
    ) -> AppResult<EpisodeWatched> {
        self.retrying(|| async {
            let now = self.clock.now();
            let mut uow = self.store.begin().await?;
            let watched = self
                .record_episode_in(&mut uow, user, episode_id, &cmd, Plays::MANUAL, now)
                .await?;
            uow.commit().await?;
            Ok(watched)
        })
        .await
    }

    /// An episode play in `uow` (not committed): its record(s), binge session, progress and
    /// events. A play whose `origin` is not manual skips the order check (SPEC §12, §13).
    pub(crate) async fn record_episode_in(
        &self,
        uow: &mut S::Uow,
        user: UserId,
        episode_id: EpisodeId,
        cmd: &WatchEpisode,
        origin: Plays,
        now: chrono::DateTime<chrono::Utc>,
    ) -> AppResult<EpisodeWatched> {
        let show = self
            .catalog
            .show_of_episode(uow, episode_id)
            .await?
            .ok_or(AppError::ContentNotFound)?;
        let mut held = self.hold_show(uow, user, show).await?;
        let requested_session = match cmd.binge_session_id {
            Some(id) => uow.binge_session(id).await?,
            None => None,
        };
        let play = EpisodePlay {
            episode_id,
            cmd,
            requested_session: requested_session.as_ref(),
            origin,
            details: None,
        };
        let (watched, events) = self
            .record_episode_held(uow, user, &mut held, play, now)
            .await?;
        uow.save_progress(
            held.progress.as_ref().ok_or_else(|| {
                AppError::Unexpected("an episode recorded without progress".into())
            })?,
        )
        .await?;
        uow.append_events(&self.envelopes(user, events)).await?;
        Ok(watched)
    }

    /// Locks the user's show and reads what recording an episode of it needs.
    async fn hold_show(
        &self,
        uow: &mut S::Uow,
        user: UserId,
        show: std::sync::Arc<Show>,
    ) -> AppResult<HeldShow> {
        uow.lock_user_item(user, show.id.as_uuid()).await?;
        let records = uow.episode_records(user, show.id).await?;
        let progress = uow.progress(user, show.id).await?;
        let sessions = uow.binge_sessions_of_show(user, show.id).await?;
        Ok(HeldShow {
            show,
            records,
            progress,
            sessions,
        })
    }

    /// Decides an episode play against `held`, writes its records and session changes, and
    /// brings `held` up to date. The progress (in `held`) and the returned events are for the
    /// caller to write: at once for one watch, once per show for an import's batch.
    async fn record_episode_held(
        &self,
        uow: &mut S::Uow,
        user: UserId,
        held: &mut HeldShow,
        play: EpisodePlay<'_>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> AppResult<(EpisodeWatched, Vec<DomainEvent>)> {
        let EpisodePlay {
            episode_id,
            cmd,
            requested_session,
            origin,
            details,
        } = play;
        let mut decision = decide_record_episode(
            EpisodeState {
                user,
                show: &held.show,
                records: &held.records,
                progress: held.progress.as_ref(),
                sessions: &held.sessions,
                requested_session,
            },
            episode_id,
            cmd,
            origin.decided,
            now,
            &self.rules,
            self.ids.as_ref(),
        )?;
        for r in &mut decision.new_records {
            r.origin = origin.stored;
        }
        if let (Some(d), Some(r)) = (details, decision.new_records.last_mut()) {
            r.viewing_location.clone_from(&d.location);
            r.viewing_context.clone_from(&d.context);
            r.watched_with = d.companions.clone();
        }
        let record = decision
            .record()
            .cloned()
            .ok_or_else(|| AppError::Unexpected("decision without a record".into()))?;
        uow.ensure_user(user, now).await?;
        for s in &decision.sessions.save {
            uow.save_binge_session(s).await?;
        }
        for r in &decision.new_records {
            uow.insert_record(r).await?;
        }
        for (id, session) in &decision.sessions.moves {
            uow.set_binge_session(*id, *session).await?;
        }
        for id in &decision.sessions.delete {
            uow.delete_binge_session(*id).await?;
        }
        held.apply(&decision.new_records, &decision.sessions);
        held.progress = Some(decision.progress);
        Ok((
            EpisodeWatched {
                record,
                season_completed: decision.season_completed,
                show_completed: decision.show_completed,
            },
            decision.events,
        ))
    }

    /// An import's episode play in `uow`, against the show as `batch` holds it: the show is
    /// read once per import, not once per play, and its progress is written once, by
    /// [`ViewingService::flush_episodes`]; the records, sessions and events as they come.
    /// Each play is decided exactly as [`ViewingService::record_episode_in`] decides it.
    pub(crate) async fn record_episode_batched(
        &self,
        uow: &mut S::Uow,
        batch: &mut EpisodeBatch,
        play: EpisodePlay<'_>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> AppResult<EpisodeWatched> {
        let show = self
            .catalog
            .show_of_episode(uow, play.episode_id)
            .await?
            .ok_or(AppError::ContentNotFound)?;
        let show_id = show.id;
        let user = batch.user;
        let held = match batch.shows.entry(show_id) {
            std::collections::hash_map::Entry::Occupied(held) => held.into_mut(),
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(self.hold_show(uow, user, show).await?)
            }
        };
        let (watched, events) = self.record_episode_held(uow, user, held, play, now).await?;
        uow.append_events(&self.envelopes(user, events)).await?;
        batch.changed.insert(show_id);
        Ok(watched)
    }

    /// Writes each changed show's progress, once, and empties `batch`: what is recorded
    /// next reads the shows again. Before anything else reads a show's progress in `uow`.
    pub(crate) async fn flush_episodes(
        &self,
        uow: &mut S::Uow,
        batch: &mut EpisodeBatch,
    ) -> AppResult<()> {
        for show in std::mem::take(&mut batch.changed) {
            if let Some(progress) = batch.shows.get(&show).and_then(|h| h.progress.as_ref()) {
                uow.save_progress(progress).await?;
            }
        }
        batch.shows.clear();
        Ok(())
    }

    /// `POST /api/viewing/{itemId}/abandon` for a movie or a show.
    #[tracing::instrument(level = "debug", skip_all, fields(user = %user, item = %item_id))]
    pub async fn abandon(
        &self,
        user: UserId,
        item_id: uuid::Uuid,
        cmd: Abandon,
    ) -> AppResult<AbandonRecord> {
        self.retrying(|| async {
            let now = self.clock.now();
            let mut uow = self.store.begin().await?;
            let record = self
                .abandon_in(&mut uow, user, item_id, cmd.clone(), now)
                .await?;
            uow.commit().await?;
            Ok(record)
        })
        .await
    }

    /// An abandon in `uow` (not committed): the record and its event.
    pub(crate) async fn abandon_in(
        &self,
        uow: &mut S::Uow,
        user: UserId,
        item_id: uuid::Uuid,
        cmd: Abandon,
        now: chrono::DateTime<chrono::Utc>,
    ) -> AppResult<AbandonRecord> {
        let (item_type, percent) = if self
            .catalog
            .movie(uow, MovieId::from(item_id))
            .await?
            .is_some()
        {
            (ItemType::Movie, Percent::ZERO)
        } else if let Some(show) = self.catalog.show(uow, ShowId::from(item_id)).await? {
            uow.lock_user_item(user, item_id).await?;
            let records = uow.episode_records(user, show.id).await?;
            let progress = uow.progress(user, show.id).await?;
            let plays = current_pass(&records, progress.as_ref());
            let t = tally(&show, &plays, now.date_naive());
            (ItemType::Show, Percent::of(t.watched, t.total))
        } else {
            return Err(AppError::ContentNotFound);
        };
        let decision = decide_abandon(
            user,
            item_id,
            item_type,
            cmd,
            percent,
            AbandonId::from(self.ids.new_id()),
            now,
        )?;
        uow.ensure_user(user, now).await?;
        uow.insert_abandon(&decision.record).await?;
        uow.append_events(&self.envelopes(user, vec![decision.event]))
            .await?;
        Ok(decision.record)
    }

    /// Reads one of the user's records and what a correction of it recomputes, under the lock
    /// of its show (or its movie): the show, its records, progress row and sessions — or, for a
    /// movie (or a show gone from the catalog), the user's plays of that item.
    async fn load_correction(
        &self,
        uow: &mut S::Uow,
        user: UserId,
        id: RecordId,
    ) -> AppResult<Correction> {
        let found = uow.record(user, id).await?.ok_or(AppError::NotFound)?;
        let show = match found.watched.show_id() {
            Some(show_id) => self.catalog.show(uow, show_id).await?,
            None => None,
        };
        let item = show
            .as_ref()
            .map_or(found.watched.content_id(), |s| s.id.as_uuid());
        uow.lock_user_item(user, item).await?;
        // Read again under the lock: a concurrent correction may have changed it.
        let record = uow.record(user, id).await?.ok_or(AppError::NotFound)?;
        let mut c = Correction {
            record,
            show,
            records: Vec::new(),
            progress: None,
            sessions: Vec::new(),
            item_records: Vec::new(),
        };
        match &c.show {
            Some(s) => {
                c.records = uow.episode_records(user, s.id).await?;
                c.progress = uow.progress(user, s.id).await?;
                c.sessions = uow.binge_sessions_of_show(user, s.id).await?;
            }
            None => {
                c.item_records = uow
                    .records_of_content(user, c.record.watched.content_id())
                    .await?;
            }
        }
        Ok(c)
    }

    /// The writes every correction ends with, after its own record writes: sessions moved and
    /// removed, the progress row, the event, the commit.
    async fn finish_correction(
        &self,
        mut uow: S::Uow,
        user: UserId,
        sessions: &SessionChanges,
        progress: Option<&ShowProgress>,
        event: DomainEvent,
    ) -> AppResult<()> {
        for (record, session) in &sessions.moves {
            uow.set_binge_session(*record, *session).await?;
        }
        for s in &sessions.delete {
            uow.delete_binge_session(*s).await?;
        }
        if let Some(p) = progress {
            uow.save_progress(p).await?;
        }
        uow.append_events(&self.envelopes(user, vec![event]))
            .await?;
        uow.commit().await?;
        Ok(())
    }

    /// `DELETE /api/viewing/records/{id}` (SPEC §11): the play goes; the item's earliest
    /// remaining play becomes its first watch; the show's progress, completions and binge
    /// sessions are recomputed from the records that remain; `ViewingRecordDeleted` tells the
    /// handlers what to undo. Another user's record answers `NotFound`.
    #[tracing::instrument(level = "debug", skip_all, fields(user = %user, record = %id))]
    pub async fn delete_record(&self, user: UserId, id: RecordId) -> AppResult<()> {
        self.retrying(|| async {
            let now = self.clock.now();
            let mut uow = self.store.begin().await?;
            let c = self.load_correction(&mut uow, user, id).await?;
            let decision = decide_delete_record(
                DeletionState {
                    deleted: &c.record,
                    show: c.show_state(),
                    item_records: &c.item_records,
                },
                &self.rules,
                now,
                self.ids.as_ref(),
            );
            uow.ensure_user(user, now).await?;
            for s in &decision.sessions.save {
                uow.save_binge_session(s).await?;
            }
            if !uow.delete_record(user, id).await? {
                return Err(AppError::NotFound);
            }
            for r in &decision.promoted {
                uow.replace_record(r).await?;
            }
            self.finish_correction(
                uow,
                user,
                &decision.sessions,
                decision.progress.as_ref(),
                decision.event,
            )
            .await
        })
        .await
    }

    /// `PATCH /api/viewing/records/{id}` (SPEC §11): corrects a play. Its binge sessions follow
    /// the new date; the show's progress and completions are recomputed from the records;
    /// `ViewingRecordEdited` moves the play between statistics buckets. Another user's record
    /// answers `NotFound`; a bad value `Invalid`.
    #[tracing::instrument(level = "debug", skip_all, fields(user = %user, record = %id))]
    pub async fn edit_record(
        &self,
        user: UserId,
        id: RecordId,
        edit: EditRecord,
    ) -> AppResult<ViewingRecord> {
        self.retrying(|| async {
            let now = self.clock.now();
            let mut uow = self.store.begin().await?;
            let c = self.load_correction(&mut uow, user, id).await?;
            let decision = decide_edit_record(
                &c.record,
                c.show_state(),
                &edit,
                &self.rules,
                now,
                self.ids.as_ref(),
            )?;
            uow.ensure_user(user, now).await?;
            for s in &decision.sessions.save {
                uow.save_binge_session(s).await?;
            }
            uow.replace_record(&decision.record).await?;
            self.finish_correction(
                uow,
                user,
                &decision.sessions,
                decision.progress.as_ref(),
                decision.event,
            )
            .await?;
            Ok(decision.record)
        })
        .await
    }

    /// `DELETE /api/viewing/abandoned/{id}` (SPEC §11): the item is no longer abandoned by this
    /// record; `ViewingAbandonUndone` takes back what it counted. Another user's record
    /// answers `NotFound`.
    #[tracing::instrument(level = "debug", skip_all, fields(user = %user, abandon = %id))]
    pub async fn undo_abandon(&self, user: UserId, id: AbandonId) -> AppResult<()> {
        self.retrying(|| async {
            let now = self.clock.now();
            let mut uow = self.store.begin().await?;
            let found = uow
                .abandon_record(user, id)
                .await?
                .ok_or(AppError::NotFound)?;
            uow.lock_user_item(user, found.item_id).await?;
            let record = uow
                .abandon_record(user, id)
                .await?
                .ok_or(AppError::NotFound)?;
            uow.ensure_user(user, now).await?;
            if !uow.delete_abandon(user, id).await? {
                return Err(AppError::NotFound);
            }
            uow.append_events(&self.envelopes(user, vec![abandon_undone(&record)]))
                .await?;
            uow.commit().await?;
            Ok(())
        })
        .await
    }

    /// `POST /api/viewing/progress/{showId}/reset` (SPEC §11): starts a new rewatch pass. From
    /// now on the show's progress, next episode and completions count only plays dated after
    /// the reset; history keeps every play. Answers the show's progress in the new pass.
    /// `ContentNotFound` for a show not in the catalog, `Conflict` when nothing is watched in
    /// the current pass.
    #[tracing::instrument(level = "debug", skip_all, fields(user = %user, show = %show_id))]
    pub async fn reset_progress(&self, user: UserId, show_id: ShowId) -> AppResult<ProgressView> {
        self.retrying(|| async {
            let now = self.clock.now();
            let mut uow = self.store.begin().await?;
            let (show, records, previous) = self.load_passes(&mut uow, user, show_id).await?;
            let decision = decide_reset(user, &show, &records, previous.as_ref(), now)?;
            let abandon = uow.latest_abandon(user, show_id.as_uuid()).await?;
            let view = progress_view(
                &show,
                &records,
                Some(&decision.progress),
                abandon.as_ref(),
                now,
                &self.rules,
            );
            self.save_passes(uow, user, decision).await?;
            Ok(view)
        })
        .await
    }

    /// `DELETE /api/viewing/progress/{showId}/reset` (SPEC §11): undoes the latest reset; its
    /// pass merges into the one before. `ContentNotFound` for a show not in the catalog,
    /// `NotFound` when the show's progress has no reset to undo.
    #[tracing::instrument(level = "debug", skip_all, fields(user = %user, show = %show_id))]
    pub async fn undo_reset(&self, user: UserId, show_id: ShowId) -> AppResult<()> {
        self.retrying(|| async {
            let now = self.clock.now();
            let mut uow = self.store.begin().await?;
            let (show, records, previous) = self.load_passes(&mut uow, user, show_id).await?;
            let decision = decide_undo_reset(user, &show, &records, previous.as_ref(), now)?;
            self.save_passes(uow, user, decision).await
        })
        .await
    }

    /// A rewatch reset of `show_id` made at `at` in `uow` (not committed): an import of this
    /// service's own export replays its resets at their instants.
    pub(crate) async fn reset_in(
        &self,
        uow: &mut S::Uow,
        user: UserId,
        show_id: ShowId,
        at: chrono::DateTime<chrono::Utc>,
    ) -> AppResult<()> {
        let (show, records, previous) = self.load_passes(uow, user, show_id).await?;
        let decision = decide_reset(user, &show, &records, previous.as_ref(), at)?;
        uow.ensure_user(user, decision.progress.updated_at).await?;
        uow.save_progress(&decision.progress).await?;
        uow.append_events(&self.envelopes(user, vec![decision.event]))
            .await?;
        Ok(())
    }

    /// The show, the user's records of it and its progress row, under the show's lock.
    async fn load_passes(
        &self,
        uow: &mut S::Uow,
        user: UserId,
        show_id: ShowId,
    ) -> AppResult<(
        std::sync::Arc<Show>,
        Vec<ViewingRecord>,
        Option<ShowProgress>,
    )> {
        let show = self
            .catalog
            .show(uow, show_id)
            .await?
            .ok_or(AppError::ContentNotFound)?;
        uow.lock_user_item(user, show_id.as_uuid()).await?;
        let records = uow.episode_records(user, show_id).await?;
        let progress = uow.progress(user, show_id).await?;
        Ok((show, records, progress))
    }

    /// Writes a reset or its undo: the progress row and the event.
    async fn save_passes(
        &self,
        mut uow: S::Uow,
        user: UserId,
        decision: ProgressReset,
    ) -> AppResult<()> {
        uow.ensure_user(user, decision.progress.updated_at).await?;
        uow.save_progress(&decision.progress).await?;
        uow.append_events(&self.envelopes(user, vec![decision.event]))
            .await?;
        uow.commit().await?;
        Ok(())
    }

    /// Recomputes the binge sessions of every show of a user (after imports). Returns how many
    /// sessions the user has afterwards.
    #[tracing::instrument(level = "debug", skip_all, fields(user = %user))]
    pub async fn rebuild_binge_sessions(&self, user: UserId) -> AppResult<usize> {
        let shows: Vec<ShowId> = {
            let mut uow = self.store.begin_read().await?;
            uow.progress_of_user(user)
                .await?
                .into_iter()
                .map(|p| p.show_id)
                .collect()
        };
        let mut total = 0;
        for show_id in shows {
            total += self
                .retrying(|| async {
                    let now = self.clock.now();
                    let mut uow = self.store.begin().await?;
                    let Some(show) = self.catalog.show(&mut uow, show_id).await? else {
                        return Ok(0);
                    };
                    uow.lock_user_item(user, show_id.as_uuid()).await?;
                    let records = uow.episode_records(user, show_id).await?;
                    let existing = uow.binge_sessions_of_show(user, show_id).await?;
                    let plan = plan_sessions(
                        user,
                        &show,
                        &records,
                        &existing,
                        self.rules.binge_max_gap,
                        now,
                        self.ids.as_ref(),
                    );
                    let changes = plan.changes(&existing, &records);
                    for s in &changes.save {
                        uow.save_binge_session(s).await?;
                    }
                    for (id, session) in &changes.moves {
                        uow.set_binge_session(*id, *session).await?;
                    }
                    for id in &changes.delete {
                        uow.delete_binge_session(*id).await?;
                    }
                    uow.commit().await?;
                    Ok(plan.sessions.len())
                })
                .await?;
        }
        Ok(total)
    }

    /// The daily inactivity job: every show idle for longer than the limit gets one
    /// `ViewingAbandoned` ("no activity for 90 days"). Returns how many were reported.
    #[tracing::instrument(level = "debug", skip_all, fields(batch))]
    pub async fn report_inactive_shows(&self, batch: u32) -> AppResult<usize> {
        let now = self.clock.now();
        let idle_since = now - self.rules.inactivity;
        let candidates = {
            let mut uow = self.store.begin_read().await?;
            uow.idle_progress(idle_since, batch).await?
        };
        let mut reported = 0;
        for candidate in candidates {
            let (user, show_id) = (candidate.user_id, candidate.show_id);
            reported += self
                .retrying(|| async {
                    let mut uow = self.store.begin().await?;
                    uow.lock_user_item(user, show_id.as_uuid()).await?;
                    let Some(mut progress) = uow.progress(user, show_id).await? else {
                        return Ok(0);
                    };
                    if !is_inactive(&progress, now, &self.rules) {
                        return Ok(0);
                    }
                    let percent = match self.catalog.show(&mut uow, show_id).await? {
                        Some(show) => {
                            let records = uow.episode_records(user, show_id).await?;
                            let plays = current_pass(&records, Some(&progress));
                            let t = tally(&show, &plays, now.date_naive());
                            Percent::of(t.watched, t.total)
                        }
                        None => Percent::ZERO,
                    };
                    let event = inactivity_event(&progress, percent, now, &self.rules);
                    progress.inactivity_reported_at = Some(now);
                    progress.updated_at = now;
                    uow.ensure_user(user, now).await?;
                    uow.save_progress(&progress).await?;
                    uow.append_events(&self.envelopes(user, vec![event]))
                        .await?;
                    uow.commit().await?;
                    Ok(1)
                })
                .await?;
        }
        Ok(reported)
    }

    /// One of the user's viewing records (another user's answers `NotFound`).
    #[tracing::instrument(level = "debug", skip_all, fields(user = %user, record = %id))]
    pub async fn viewing_record(&self, user: UserId, id: RecordId) -> AppResult<ViewingRecord> {
        let mut uow = self.store.begin_read().await?;
        uow.record(user, id).await?.ok_or(AppError::NotFound)
    }

    /// One of the user's binge sessions (SPEC §15). Another user's session answers `NotFound`,
    /// as an unknown id does.
    #[tracing::instrument(level = "debug", skip_all, fields(user = %user, session = %id))]
    pub async fn binge_session(&self, user: UserId, id: BingeSessionId) -> AppResult<BingeSession> {
        let mut uow = self.store.begin_read().await?;
        uow.user_binge_session(user, id)
            .await?
            .ok_or(AppError::NotFound)
    }

    /// One of the user's abandon records.
    #[tracing::instrument(level = "debug", skip_all, fields(user = %user, abandon = %id))]
    pub async fn abandon_record(&self, user: UserId, id: AbandonId) -> AppResult<AbandonRecord> {
        let mut uow = self.store.begin_read().await?;
        uow.abandon_record(user, id)
            .await?
            .ok_or(AppError::NotFound)
    }
}
