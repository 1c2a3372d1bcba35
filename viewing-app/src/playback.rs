//! The playback use cases (SPEC §13, Trakt's scrobble model): a player reports `start`, `pause`
//! and `stop` of a movie or episode; the user's *now watching* item and paused items follow, and
//! a `stop` at the threshold records the play with `origin: playback`.

use chrono::{DateTime, Utc};
use viewing_domain::ports::{
    PlaybackRepository, Store, Transaction, UserItemLock, ViewingRecordRepository,
};
use viewing_domain::rules::episode::WatchEpisode;
use viewing_domain::rules::movie::WatchMovie;
use viewing_domain::rules::playback::{
    Playback, PlaybackState, StopOutcome, decide_stop, now_watching_until, repeats_scrobble,
};
use viewing_domain::values::{self, Minutes, Percent};
use viewing_domain::{
    EpisodeId, ExternalIds, ItemKind, MovieId, Origin, PlaybackId, ShowId, UserId, ViewingRecord,
};

use crate::catalog::{LookupQuery, Match, Unmatched};
use crate::error::{AppError, AppResult};
use crate::service::ViewingService;
use crate::viewing::Plays;

/// What a player names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlaybackTarget {
    /// A movie's or an episode's id in this catalog.
    Content(uuid::Uuid),
    /// A movie's or an episode's ids at other services.
    ExternalIds(ExternalIds),
    /// An episode by its show's title and its numbers (a media server that knows only those).
    ShowTitle {
        /// The show's title.
        title: String,
        /// The season number.
        season: u32,
        /// The episode number.
        episode: u32,
    },
    /// An episode by its show's ids and its numbers.
    Episode {
        /// The show's ids at other services.
        show: ExternalIds,
        /// The season number.
        season: u32,
        /// The episode number.
        episode: u32,
    },
}

/// A player's report: what, how far, when (now by default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaybackReport {
    /// What is played.
    pub target: PlaybackTarget,
    /// How far, 0 to 100 %.
    pub progress: Percent,
    /// When; now by default, never more than 5 minutes ahead.
    pub at: Option<DateTime<Utc>>,
}

/// What a `stop` did.
#[derive(Debug, Clone, PartialEq)]
pub enum Stopped {
    /// At or above the threshold: the play, recorded now.
    Scrobbled(ViewingRecord),
    /// Below it: kept as paused.
    Paused(Playback),
    /// The same item was recorded within its runtime before: that play, nothing new.
    Repeated(ViewingRecord),
}

/// The item a report names, as the catalog holds it.
struct Item {
    content: uuid::Uuid,
    kind: ItemKind,
    show: Option<ShowId>,
    runtime: Minutes,
}

impl<S: Store> ViewingService<S> {
    /// `POST /api/playback/start`: the item becomes the user's *now watching* one until its
    /// remaining runtime has passed; one playing before is paused where it was.
    pub async fn playback_start(
        &self,
        user: UserId,
        report: PlaybackReport,
    ) -> AppResult<Playback> {
        self.report(user, report, PlaybackState::Watching).await
    }

    /// `POST /api/playback/pause`: the item is kept with its resume point.
    pub async fn playback_pause(
        &self,
        user: UserId,
        report: PlaybackReport,
    ) -> AppResult<Playback> {
        self.report(user, report, PlaybackState::Paused).await
    }

    /// `POST /api/playback/stop`: at or above the threshold of its kind the play is recorded
    /// (`origin: playback`, no order check) and the paused entry goes; below it, a pause; a
    /// second stop within the runtime of a play of the item is that play, nothing new.
    ///
    /// # Errors
    /// `Invalid` under 1 %; `ContentNotFound` for an item the catalog (and the metadata
    /// provider) does not know; `MetadataUnavailable` when the catalog lacks it and the
    /// provider cannot be reached (the player tries again later).
    pub async fn playback_stop(&self, user: UserId, report: PlaybackReport) -> AppResult<Stopped> {
        self.playback_stop_as(user, report, Origin::Playback).await
    }

    /// [`Self::playback_stop`] for a play that comes from `origin` (a media server's webhook).
    pub(crate) async fn playback_stop_as(
        &self,
        user: UserId,
        report: PlaybackReport,
        origin: Origin,
    ) -> AppResult<Stopped> {
        let item = self.playback_item(&report.target).await?;
        let now = self.clock.now();
        let at = values::watch_date("at", report.at, now)?;
        let outcome = decide_stop(report.progress, item.kind, &self.rules.scrobble)?;
        if let StopOutcome::Pause(_) = outcome {
            return self
                .report(user, report, PlaybackState::Paused)
                .await
                .map(Stopped::Paused);
        }
        self.retrying(|| async {
            let mut uow = self.store.begin().await?;
            uow.lock_user_item(user, item.show.map_or(item.content, |s| s.as_uuid()))
                .await?;
            let last = uow
                .records_of_content(user, item.content)
                .await?
                .into_iter()
                .filter(|r| r.watch_date <= at)
                .max_by_key(|r| r.watch_date);
            if let Some(last) = last
                && repeats_scrobble(Some(last.watch_date), at, item.runtime)
            {
                return Ok(Stopped::Repeated(last));
            }
            let plays = Plays {
                decided: origin,
                stored: origin,
            };
            let record = match item.kind {
                ItemKind::Movie => {
                    let cmd = WatchMovie {
                        watch_date: Some(at),
                        ..WatchMovie::default()
                    };
                    self.record_movie_in(
                        &mut uow,
                        user,
                        MovieId::from(item.content),
                        cmd,
                        plays,
                        now,
                    )
                    .await?
                }
                _ => {
                    let cmd = WatchEpisode {
                        watch_date: Some(at),
                        ..WatchEpisode::default()
                    };
                    self.record_episode_in(
                        &mut uow,
                        user,
                        EpisodeId::from(item.content),
                        &cmd,
                        plays,
                        now,
                    )
                    .await?
                    .record
                }
            };
            if let Some(p) = uow.playback_of(user, item.content).await? {
                uow.delete_playback(user, p.id).await?;
            }
            uow.commit().await?;
            Ok(Stopped::Scrobbled(record))
        })
        .await
    }

    /// `GET /api/playback/now`: what the user is watching now, if anything.
    pub async fn now_watching(&self, user: UserId) -> AppResult<Option<Playback>> {
        let now = self.clock.now();
        let mut uow = self.store.begin_read().await?;
        Ok(uow
            .playbacks(user)
            .await?
            .into_iter()
            .find(|p| p.state == PlaybackState::Watching && p.expires_at > now))
    }

    /// `GET /api/playback`: the user's paused items with their resume points, the latest first.
    pub async fn paused_playbacks(&self, user: UserId) -> AppResult<Vec<Playback>> {
        let mut uow = self.store.begin_read().await?;
        Ok(uow
            .playbacks(user)
            .await?
            .into_iter()
            .filter(|p| p.state == PlaybackState::Paused)
            .collect())
    }

    /// `DELETE /api/playback/{id}`; another user's or an unknown one is `NotFound`.
    pub async fn drop_playback(&self, user: UserId, id: PlaybackId) -> AppResult<()> {
        let mut uow = self.store.begin().await?;
        if !uow.delete_playback(user, id).await? {
            return Err(AppError::NotFound);
        }
        uow.commit().await?;
        Ok(())
    }

    /// A start or a pause: the item's playback in `state`; a start pauses the one playing.
    async fn report(
        &self,
        user: UserId,
        report: PlaybackReport,
        state: PlaybackState,
    ) -> AppResult<Playback> {
        let item = self.playback_item(&report.target).await?;
        let now = self.clock.now();
        let at = values::watch_date("at", report.at, now)?;
        let mut uow = self.store.begin().await?;
        let previous = uow.playback_of(user, item.content).await?;
        if state == PlaybackState::Watching {
            for mut other in uow.playbacks(user).await? {
                if other.state == PlaybackState::Watching && other.content_id != item.content {
                    other.state = PlaybackState::Paused;
                    other.updated_at = now;
                    uow.save_playback(&other).await?;
                }
            }
        }
        let playback = Playback {
            id: previous
                .as_ref()
                .map_or_else(|| PlaybackId::from(self.ids.new_id()), |p| p.id),
            user_id: user,
            content_id: item.content,
            kind: item.kind,
            show_id: item.show,
            state,
            progress: report.progress,
            started_at: match (&previous, state) {
                (Some(p), PlaybackState::Paused) => p.started_at,
                _ => at,
            },
            updated_at: now,
            expires_at: match state {
                PlaybackState::Watching => now_watching_until(at, report.progress, item.runtime),
                PlaybackState::Paused => at,
            },
        };
        uow.save_playback(&playback).await?;
        uow.commit().await?;
        Ok(playback)
    }

    /// The movie or episode the first of `queries` finds (in the catalog, or fetched from the
    /// metadata provider). None found: `MetadataUnavailable` when the provider could not be
    /// asked for one of them (a player tries again; a delivery keeps the reason), else
    /// `ContentNotFound`.
    async fn first_match(
        &self,
        queries: impl Iterator<Item = LookupQuery>,
    ) -> AppResult<uuid::Uuid> {
        let mut down = None;
        for query in queries {
            match self.match_external(&query).await? {
                Match::Found(f) if matches!(f.kind, ItemKind::Movie | ItemKind::Episode) => {
                    return Ok(f.id);
                }
                Match::Unmatched(Unmatched::ProviderUnavailable(why)) => down = Some(why),
                _ => {}
            }
        }
        Err(down.map_or(AppError::ContentNotFound, AppError::MetadataUnavailable))
    }

    /// The movie or episode a report names: by this catalog's id, by its external ids, or by
    /// its show's ids and numbers (fetched from the metadata provider when there is one).
    async fn playback_item(&self, target: &PlaybackTarget) -> AppResult<Item> {
        let content = match target {
            PlaybackTarget::Content(id) => *id,
            PlaybackTarget::ExternalIds(ids) => {
                let queries = ids.iter().map(|(provider, value)| LookupQuery::Id {
                    provider,
                    value: value.to_owned(),
                    kind: None,
                });
                self.first_match(queries).await?
            }
            PlaybackTarget::ShowTitle {
                title,
                season,
                episode,
            } => {
                let shows = self.shows_titled(title).await?;
                let [show_id] = shows.as_slice() else {
                    return Err(AppError::ContentNotFound);
                };
                let found = self.show(ShowId::from(*show_id)).await?;
                found
                    .season(*season)
                    .and_then(|s| s.episodes.iter().find(|e| e.number == *episode))
                    .map(|e| e.id.as_uuid())
                    .ok_or(AppError::ContentNotFound)?
            }
            PlaybackTarget::Episode {
                show,
                season,
                episode,
            } => {
                let queries = show.iter().map(|(provider, value)| LookupQuery::Episode {
                    provider,
                    show: value.to_owned(),
                    season: *season,
                    episode: *episode,
                });
                self.first_match(queries).await?
            }
        };
        let mut uow = self.store.begin_read().await?;
        if let Some(m) = self.catalog.movie(&mut uow, MovieId::from(content)).await? {
            return Ok(Item {
                content,
                kind: ItemKind::Movie,
                show: None,
                runtime: m.runtime,
            });
        }
        if let Some(show) = self
            .catalog
            .show_of_episode(&mut uow, EpisodeId::from(content))
            .await?
            && let Some(e) = show.episode(EpisodeId::from(content))
        {
            return Ok(Item {
                content,
                kind: ItemKind::Episode,
                show: Some(show.id),
                runtime: e.episode.runtime,
            });
        }
        Err(AppError::ContentNotFound)
    }
}
