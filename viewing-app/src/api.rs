//! The inbound port: every use case a driving adapter (the HTTP API) calls, as one trait.
//! [`ViewingService`] implements it over any store; an adapter's tests fake it in a few lines
//! instead of faking a store.
//!
//! Each method says which [`AppError`](crate::AppError) variants it ends in; every one may also end in
//! `Unavailable` (the store does not answer) or `Unexpected`.

use std::future::Future;

use viewing_domain::engagement::{Achievement, Reminder, WatchlistItem};
use viewing_domain::event_ports::DeadLetter;
use viewing_domain::idempotency::{
    Decision, IdempotencyKey, IdempotencyPolicy, RequestFingerprint, StoredResponse,
};
use viewing_domain::imports::{Import, ImportItem, RowOutcome};
use viewing_domain::integrations::{Delivery, Integration, IntegrationKind};
use viewing_domain::metadata::Fetched;
use viewing_domain::ports::{HistoryFilter, Store};
use viewing_domain::rules::abandon::Abandon;
use viewing_domain::rules::episode::WatchEpisode;
use viewing_domain::rules::history::EditRecord;
use viewing_domain::rules::movie::WatchMovie;
use viewing_domain::rules::playback::Playback;
use viewing_domain::rules::progress::ProgressView;
use viewing_domain::search::TitleHit;
use viewing_domain::{
    AbandonId, AbandonRecord, BingeSession, BingeSessionId, DeliveryId, EpisodeId, EventId,
    ImportId, IntegrationId, ItemKind, Movie, MovieId, PlaybackId, RecordId, Show, ShowId, UserId,
    ViewingRecord,
};

use crate::catalog::{LookupQuery, LookupResult};
use crate::engagement::GenrePreference;
use crate::error::AppResult;
use crate::export::ExportDocument;
use crate::history::{HistoryPage, HistoryPageRequest};
use crate::imports::ImportRequest;
use crate::integrations::{NewIntegration, Received};
use crate::playback::{PlaybackReport, Stopped};
use crate::service::ViewingService;
use crate::statistics::{Statistics, StatisticsRequest};
use crate::viewing::EpisodeWatched;

/// The viewing service as its driving adapters see it. Cheap to clone; futures are `Send` so
/// they run on a multi-threaded runtime.
pub trait ViewingApi: Clone + Send + Sync + 'static {
    /// Readiness: `Unavailable` when the store does not answer.
    fn ping(&self) -> impl Future<Output = AppResult<()>> + Send;

    /// Creates or replaces a catalog movie; `Invalid` when it breaks a catalog rule.
    fn upsert_movie(&self, movie: Movie) -> impl Future<Output = AppResult<Movie>> + Send;
    /// Creates or replaces a catalog show; `Invalid` when it breaks a catalog rule.
    fn upsert_show(&self, show: Show) -> impl Future<Output = AppResult<Show>> + Send;
    /// `NotFound` when the catalog has no such movie.
    fn movie(&self, id: MovieId) -> impl Future<Output = AppResult<Movie>> + Send;
    /// `NotFound` when the catalog has no such show.
    fn show(&self, id: ShowId) -> impl Future<Output = AppResult<Show>> + Send;
    /// What an external id names (SPEC §10); `ContentNotFound` when nothing holds it.
    fn lookup(&self, query: &LookupQuery) -> impl Future<Output = AppResult<LookupResult>> + Send;
    /// Imports a file of another service's history (SPEC §12); see
    /// [`ViewingService::import_history`].
    fn import_history(
        &self,
        user: UserId,
        request: ImportRequest,
    ) -> impl Future<Output = AppResult<Import>> + Send;
    /// The user's imports, newest first.
    fn imports(&self, user: UserId) -> impl Future<Output = AppResult<Vec<Import>>> + Send;
    /// One of the user's imports; `NotFound` for another user's.
    fn import(&self, user: UserId, id: ImportId) -> impl Future<Output = AppResult<Import>> + Send;
    /// A page of an import's rows; see [`ViewingService::import_items`].
    fn import_items(
        &self,
        user: UserId,
        id: ImportId,
        outcome: Option<RowOutcome>,
        offset: u32,
        limit: u32,
    ) -> impl Future<Output = AppResult<Vec<ImportItem>>> + Send;
    /// A player's start (SPEC §13); see [`ViewingService::playback_start`].
    fn playback_start(
        &self,
        user: UserId,
        report: PlaybackReport,
    ) -> impl Future<Output = AppResult<Playback>> + Send;
    /// A player's pause.
    fn playback_pause(
        &self,
        user: UserId,
        report: PlaybackReport,
    ) -> impl Future<Output = AppResult<Playback>> + Send;
    /// A player's stop; see [`ViewingService::playback_stop`].
    fn playback_stop(
        &self,
        user: UserId,
        report: PlaybackReport,
    ) -> impl Future<Output = AppResult<Stopped>> + Send;
    /// What the user is watching now.
    fn now_watching(
        &self,
        user: UserId,
    ) -> impl Future<Output = AppResult<Option<Playback>>> + Send;
    /// The user's paused items.
    fn paused_playbacks(
        &self,
        user: UserId,
    ) -> impl Future<Output = AppResult<Vec<Playback>>> + Send;
    /// Drops one of the user's playbacks.
    fn drop_playback(
        &self,
        user: UserId,
        id: PlaybackId,
    ) -> impl Future<Output = AppResult<()>> + Send;
    /// A new media-server integration (SPEC §13); see [`ViewingService::create_integration`].
    fn create_integration(
        &self,
        user: UserId,
        kind: IntegrationKind,
        accounts: Vec<String>,
    ) -> impl Future<Output = AppResult<NewIntegration>> + Send;
    /// The user's integrations.
    fn integrations(
        &self,
        user: UserId,
    ) -> impl Future<Output = AppResult<Vec<Integration>>> + Send;
    /// Revokes one of the user's integrations.
    fn revoke_integration(
        &self,
        user: UserId,
        id: IntegrationId,
    ) -> impl Future<Output = AppResult<()>> + Send;
    /// A page of an integration's inbox.
    fn deliveries(
        &self,
        user: UserId,
        id: IntegrationId,
        offset: u32,
        limit: u32,
    ) -> impl Future<Output = AppResult<Vec<Delivery>>> + Send;
    /// A media server's delivery; see [`ViewingService::receive_webhook`].
    fn receive_webhook(
        &self,
        secret: &str,
        payload: Vec<u8>,
    ) -> impl Future<Output = AppResult<Received>> + Send;
    /// Runs a kept delivery again.
    fn replay_delivery(
        &self,
        user: UserId,
        id: IntegrationId,
        delivery: DeliveryId,
    ) -> impl Future<Output = AppResult<Delivery>> + Send;
    /// The user's whole history as one document (SPEC §12).
    fn export(&self, user: UserId) -> impl Future<Output = AppResult<ExportDocument>> + Send;
    /// The user's movie plays as Letterboxd's import CSV.
    fn export_letterboxd(&self, user: UserId) -> impl Future<Output = AppResult<String>> + Send;
    /// Undoes an import; see [`ViewingService::undo_import`].
    fn undo_import(
        &self,
        user: UserId,
        id: ImportId,
    ) -> impl Future<Output = AppResult<Import>> + Send;
    /// Movies and shows by title (SPEC §10); see [`ViewingService::search_titles`].
    fn search_titles(
        &self,
        text: &str,
        kind: Option<ItemKind>,
        year: Option<i32>,
    ) -> impl Future<Output = AppResult<Vec<TitleHit>>> + Send;
    /// Fetches a movie or show again from the metadata provider (SPEC §16); see
    /// [`ViewingService::refresh`].
    fn refresh(
        &self,
        kind: ItemKind,
        id: uuid::Uuid,
    ) -> impl Future<Output = AppResult<Fetched>> + Send;

    /// Records a watched movie; `ContentNotFound`, `Invalid`.
    fn watch_movie(
        &self,
        user: UserId,
        movie_id: MovieId,
        cmd: WatchMovie,
    ) -> impl Future<Output = AppResult<ViewingRecord>> + Send;
    /// Records a watched episode; `ContentNotFound`, `EpisodeOutOfOrder`, `NotFound` (binge
    /// session), `Invalid`.
    fn watch_episode(
        &self,
        user: UserId,
        episode_id: EpisodeId,
        cmd: WatchEpisode,
    ) -> impl Future<Output = AppResult<EpisodeWatched>> + Send;
    /// Abandons a movie or a show; `ContentNotFound`, `Invalid`.
    fn abandon(
        &self,
        user: UserId,
        item_id: uuid::Uuid,
        cmd: Abandon,
    ) -> impl Future<Output = AppResult<AbandonRecord>> + Send;
    /// One of the user's records; `NotFound` otherwise.
    fn viewing_record(
        &self,
        user: UserId,
        id: RecordId,
    ) -> impl Future<Output = AppResult<ViewingRecord>> + Send;
    /// Deletes one of the user's records and recomputes what it counted for (SPEC §11);
    /// `NotFound` otherwise.
    fn delete_record(
        &self,
        user: UserId,
        id: RecordId,
    ) -> impl Future<Output = AppResult<()>> + Send;
    /// Corrects one of the user's records (SPEC §11); `NotFound`, `Invalid`.
    fn edit_record(
        &self,
        user: UserId,
        id: RecordId,
        edit: EditRecord,
    ) -> impl Future<Output = AppResult<ViewingRecord>> + Send;
    /// Deletes one of the user's abandon records (SPEC §11); `NotFound` otherwise.
    fn undo_abandon(
        &self,
        user: UserId,
        id: AbandonId,
    ) -> impl Future<Output = AppResult<()>> + Send;
    /// Starts a rewatch pass of a show (SPEC §11); `ContentNotFound`, `Conflict` when nothing
    /// is watched in the current pass.
    fn reset_progress(
        &self,
        user: UserId,
        show_id: ShowId,
    ) -> impl Future<Output = AppResult<ProgressView>> + Send;
    /// Undoes the latest reset of a show (SPEC §11); `ContentNotFound`, `NotFound` when none.
    fn undo_reset(
        &self,
        user: UserId,
        show_id: ShowId,
    ) -> impl Future<Output = AppResult<()>> + Send;
    /// One of the user's abandon records; `NotFound` otherwise.
    fn abandon_record(
        &self,
        user: UserId,
        id: AbandonId,
    ) -> impl Future<Output = AppResult<AbandonRecord>> + Send;
    /// One of the user's binge sessions; `NotFound` otherwise (another user's too).
    fn binge_session(
        &self,
        user: UserId,
        id: BingeSessionId,
    ) -> impl Future<Output = AppResult<BingeSession>> + Send;

    /// The user's history in `[filter.from, filter.to)`, newest first.
    fn history(
        &self,
        user: UserId,
        filter: &HistoryFilter,
        request: HistoryPageRequest,
    ) -> impl Future<Output = AppResult<HistoryPage>> + Send;
    /// Progress in one show; `ContentNotFound` when the catalog has no such show.
    fn progress(
        &self,
        user: UserId,
        show_id: ShowId,
    ) -> impl Future<Output = AppResult<ProgressView>> + Send;
    /// The user's shows in progress, most recent activity first.
    fn up_next(&self, user: UserId) -> impl Future<Output = AppResult<Vec<ProgressView>>> + Send;
    /// Statistics of a calendar period; `Malformed` when the period falls outside the calendar.
    fn statistics(
        &self,
        user: UserId,
        request: &StatisticsRequest,
    ) -> impl Future<Output = AppResult<Statistics>> + Send;

    /// The user's unlocked achievements.
    fn achievements(
        &self,
        user: UserId,
    ) -> impl Future<Output = AppResult<Vec<Achievement>>> + Send;
    /// The user's watchlist.
    fn watchlist(&self, user: UserId)
    -> impl Future<Output = AppResult<Vec<WatchlistItem>>> + Send;
    /// Adds an item (`true` when added now); `ContentNotFound`.
    fn add_to_watchlist(
        &self,
        user: UserId,
        content_id: uuid::Uuid,
    ) -> impl Future<Output = AppResult<(WatchlistItem, bool)>> + Send;
    /// Removes an item; `NotFound` when it was not on the watchlist.
    fn remove_from_watchlist(
        &self,
        user: UserId,
        content_id: uuid::Uuid,
    ) -> impl Future<Output = AppResult<()>> + Send;
    /// Every reminder of the user.
    fn reminders(&self, user: UserId) -> impl Future<Output = AppResult<Vec<Reminder>>> + Send;
    /// The user's genres, ranked.
    fn preferences(
        &self,
        user: UserId,
    ) -> impl Future<Output = AppResult<Vec<GenrePreference>>> + Send;

    /// The events the relay parked, oldest first.
    fn dead_letters(&self) -> impl Future<Output = AppResult<Vec<DeadLetter>>> + Send;
    /// Makes a parked event due again; `NotFound` when it is not parked.
    fn retry_dead_letter(
        &self,
        event: EventId,
    ) -> impl Future<Output = AppResult<Vec<DeadLetter>>> + Send;

    /// Claims an `Idempotency-Key` for `request` now, under the default policy: the domain's
    /// [`viewing_domain::idempotency::decide`], taken atomically.
    fn claim_idempotency_key(
        &self,
        user: UserId,
        key: &IdempotencyKey,
        request: &RequestFingerprint,
    ) -> impl Future<Output = AppResult<Decision>> + Send;
    /// Keeps the answer of a claimed key, so a repeat replays it.
    fn complete_idempotency_key(
        &self,
        user: UserId,
        key: &IdempotencyKey,
        response: &StoredResponse,
    ) -> impl Future<Output = AppResult<()>> + Send;
    /// Forgets a claimed key whose request failed, so a corrected retry runs.
    fn release_idempotency_key(
        &self,
        user: UserId,
        key: &IdempotencyKey,
    ) -> impl Future<Output = AppResult<()>> + Send;
}

impl<S: Store> ViewingApi for ViewingService<S> {
    async fn ping(&self) -> AppResult<()> {
        ViewingService::ping(self).await
    }

    async fn upsert_movie(&self, movie: Movie) -> AppResult<Movie> {
        ViewingService::upsert_movie(self, movie).await
    }

    async fn upsert_show(&self, show: Show) -> AppResult<Show> {
        ViewingService::upsert_show(self, show).await
    }

    async fn movie(&self, id: MovieId) -> AppResult<Movie> {
        ViewingService::movie(self, id).await
    }

    async fn show(&self, id: ShowId) -> AppResult<Show> {
        ViewingService::show(self, id).await
    }

    async fn lookup(&self, query: &LookupQuery) -> AppResult<LookupResult> {
        ViewingService::lookup(self, query).await
    }

    async fn import_history(&self, user: UserId, request: ImportRequest) -> AppResult<Import> {
        ViewingService::import_history(self, user, request).await
    }

    async fn imports(&self, user: UserId) -> AppResult<Vec<Import>> {
        ViewingService::imports(self, user).await
    }

    async fn import(&self, user: UserId, id: ImportId) -> AppResult<Import> {
        ViewingService::import(self, user, id).await
    }

    async fn import_items(
        &self,
        user: UserId,
        id: ImportId,
        outcome: Option<RowOutcome>,
        offset: u32,
        limit: u32,
    ) -> AppResult<Vec<ImportItem>> {
        ViewingService::import_items(self, user, id, outcome, offset, limit).await
    }

    async fn playback_start(&self, user: UserId, report: PlaybackReport) -> AppResult<Playback> {
        ViewingService::playback_start(self, user, report).await
    }

    async fn playback_pause(&self, user: UserId, report: PlaybackReport) -> AppResult<Playback> {
        ViewingService::playback_pause(self, user, report).await
    }

    async fn playback_stop(&self, user: UserId, report: PlaybackReport) -> AppResult<Stopped> {
        ViewingService::playback_stop(self, user, report).await
    }

    async fn now_watching(&self, user: UserId) -> AppResult<Option<Playback>> {
        ViewingService::now_watching(self, user).await
    }

    async fn paused_playbacks(&self, user: UserId) -> AppResult<Vec<Playback>> {
        ViewingService::paused_playbacks(self, user).await
    }

    async fn drop_playback(&self, user: UserId, id: PlaybackId) -> AppResult<()> {
        ViewingService::drop_playback(self, user, id).await
    }

    async fn create_integration(
        &self,
        user: UserId,
        kind: IntegrationKind,
        accounts: Vec<String>,
    ) -> AppResult<NewIntegration> {
        ViewingService::create_integration(self, user, kind, accounts).await
    }

    async fn integrations(&self, user: UserId) -> AppResult<Vec<Integration>> {
        ViewingService::integrations(self, user).await
    }

    async fn revoke_integration(&self, user: UserId, id: IntegrationId) -> AppResult<()> {
        ViewingService::revoke_integration(self, user, id).await
    }

    async fn deliveries(
        &self,
        user: UserId,
        id: IntegrationId,
        offset: u32,
        limit: u32,
    ) -> AppResult<Vec<Delivery>> {
        ViewingService::deliveries(self, user, id, offset, limit).await
    }

    async fn receive_webhook(&self, secret: &str, payload: Vec<u8>) -> AppResult<Received> {
        ViewingService::receive_webhook(self, secret, payload).await
    }

    async fn replay_delivery(
        &self,
        user: UserId,
        id: IntegrationId,
        delivery: DeliveryId,
    ) -> AppResult<Delivery> {
        ViewingService::replay_delivery(self, user, id, delivery).await
    }

    async fn export(&self, user: UserId) -> AppResult<ExportDocument> {
        ViewingService::export(self, user).await
    }

    async fn export_letterboxd(&self, user: UserId) -> AppResult<String> {
        ViewingService::export_letterboxd(self, user).await
    }

    async fn undo_import(&self, user: UserId, id: ImportId) -> AppResult<Import> {
        ViewingService::undo_import(self, user, id).await
    }

    async fn search_titles(
        &self,
        text: &str,
        kind: Option<ItemKind>,
        year: Option<i32>,
    ) -> AppResult<Vec<TitleHit>> {
        ViewingService::search_titles(self, text, kind, year).await
    }

    async fn refresh(&self, kind: ItemKind, id: uuid::Uuid) -> AppResult<Fetched> {
        ViewingService::refresh(self, kind, id).await
    }

    async fn watch_movie(
        &self,
        user: UserId,
        movie_id: MovieId,
        cmd: WatchMovie,
    ) -> AppResult<ViewingRecord> {
        ViewingService::watch_movie(self, user, movie_id, cmd).await
    }

    async fn watch_episode(
        &self,
        user: UserId,
        episode_id: EpisodeId,
        cmd: WatchEpisode,
    ) -> AppResult<EpisodeWatched> {
        ViewingService::watch_episode(self, user, episode_id, cmd).await
    }

    async fn abandon(
        &self,
        user: UserId,
        item_id: uuid::Uuid,
        cmd: Abandon,
    ) -> AppResult<AbandonRecord> {
        ViewingService::abandon(self, user, item_id, cmd).await
    }

    async fn viewing_record(&self, user: UserId, id: RecordId) -> AppResult<ViewingRecord> {
        ViewingService::viewing_record(self, user, id).await
    }

    async fn delete_record(&self, user: UserId, id: RecordId) -> AppResult<()> {
        ViewingService::delete_record(self, user, id).await
    }

    async fn edit_record(
        &self,
        user: UserId,
        id: RecordId,
        edit: EditRecord,
    ) -> AppResult<ViewingRecord> {
        ViewingService::edit_record(self, user, id, edit).await
    }

    async fn undo_abandon(&self, user: UserId, id: AbandonId) -> AppResult<()> {
        ViewingService::undo_abandon(self, user, id).await
    }

    async fn reset_progress(&self, user: UserId, show_id: ShowId) -> AppResult<ProgressView> {
        ViewingService::reset_progress(self, user, show_id).await
    }

    async fn undo_reset(&self, user: UserId, show_id: ShowId) -> AppResult<()> {
        ViewingService::undo_reset(self, user, show_id).await
    }

    async fn abandon_record(&self, user: UserId, id: AbandonId) -> AppResult<AbandonRecord> {
        ViewingService::abandon_record(self, user, id).await
    }

    async fn binge_session(&self, user: UserId, id: BingeSessionId) -> AppResult<BingeSession> {
        ViewingService::binge_session(self, user, id).await
    }

    async fn history(
        &self,
        user: UserId,
        filter: &HistoryFilter,
        request: HistoryPageRequest,
    ) -> AppResult<HistoryPage> {
        ViewingService::history(self, user, filter, request).await
    }

    async fn progress(&self, user: UserId, show_id: ShowId) -> AppResult<ProgressView> {
        ViewingService::progress(self, user, show_id).await
    }

    async fn up_next(&self, user: UserId) -> AppResult<Vec<ProgressView>> {
        ViewingService::up_next(self, user).await
    }

    async fn statistics(&self, user: UserId, request: &StatisticsRequest) -> AppResult<Statistics> {
        ViewingService::statistics(self, user, request).await
    }

    async fn achievements(&self, user: UserId) -> AppResult<Vec<Achievement>> {
        ViewingService::achievements(self, user).await
    }

    async fn watchlist(&self, user: UserId) -> AppResult<Vec<WatchlistItem>> {
        ViewingService::watchlist(self, user).await
    }

    async fn add_to_watchlist(
        &self,
        user: UserId,
        content_id: uuid::Uuid,
    ) -> AppResult<(WatchlistItem, bool)> {
        ViewingService::add_to_watchlist(self, user, content_id).await
    }

    async fn remove_from_watchlist(&self, user: UserId, content_id: uuid::Uuid) -> AppResult<()> {
        ViewingService::remove_from_watchlist(self, user, content_id).await
    }

    async fn reminders(&self, user: UserId) -> AppResult<Vec<Reminder>> {
        ViewingService::reminders(self, user).await
    }

    async fn preferences(&self, user: UserId) -> AppResult<Vec<GenrePreference>> {
        ViewingService::preferences(self, user).await
    }

    async fn dead_letters(&self) -> AppResult<Vec<DeadLetter>> {
        ViewingService::dead_letters(self).await
    }

    async fn retry_dead_letter(&self, event: EventId) -> AppResult<Vec<DeadLetter>> {
        ViewingService::retry_dead_letter(self, event).await
    }

    async fn claim_idempotency_key(
        &self,
        user: UserId,
        key: &IdempotencyKey,
        request: &RequestFingerprint,
    ) -> AppResult<Decision> {
        let now = self.clock.now();
        Ok(self
            .store
            .claim_idempotency_key(user, key, request, now, IdempotencyPolicy::default())
            .await?)
    }

    async fn complete_idempotency_key(
        &self,
        user: UserId,
        key: &IdempotencyKey,
        response: &StoredResponse,
    ) -> AppResult<()> {
        let now = self.clock.now();
        Ok(self
            .store
            .complete_idempotency_key(user, key, response, now)
            .await?)
    }

    async fn release_idempotency_key(&self, user: UserId, key: &IdempotencyKey) -> AppResult<()> {
        Ok(self.store.release_idempotency_key(user, key).await?)
    }
}
