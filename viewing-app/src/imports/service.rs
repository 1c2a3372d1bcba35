//! The import use cases (SPEC §12): import a file (dry run or applied), list imports and
//! their rows, undo one.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, SubsecRound, Utc};
use viewing_domain::engagement::WatchlistItem;
use viewing_domain::handler_ports::WatchlistRepository;
use viewing_domain::imports::RowKind;
use viewing_domain::imports::{
    Import, ImportItem, ImportLink, ImportRow, ImportSource, ImportStatus, ImportSummary,
    PlayDetails, RowOutcome,
};
use viewing_domain::ports::{ImportRepository, Store, Transaction, UserRepository};
use viewing_domain::rules::abandon::Abandon;
use viewing_domain::rules::episode::WatchEpisode;
use viewing_domain::rules::movie::WatchMovie;
use viewing_domain::values::{self, ValidationError};
use viewing_domain::{EpisodeId, ImportId, ItemType, MovieId, Origin, ShowId, UserId};

use super::matching::Match;
use super::{read_files, rows};
use crate::error::{AppError, AppResult};
use crate::service::ViewingService;
use crate::text::{plain_text, without_controls};
use crate::viewing::{EpisodeBatch, EpisodePlay, Plays};

/// What `POST /api/imports` asks.
#[derive(Clone)]
pub struct ImportRequest {
    /// Whose export the upload is.
    pub source: ImportSource,
    /// Match and count only; record nothing.
    pub dry_run: bool,
    /// The file, or the export's zip.
    pub upload: Vec<u8>,
    /// Told how far the import is (a progress bar); `None`: nobody.
    pub progress: Option<Arc<dyn ImportProgress>>,
    /// The Netflix profile to import from a `ViewingActivity.csv` holding several.
    pub profile: Option<String>,
}

/// Told how far an import is, for a progress bar (`viewing-server import`).
pub trait ImportProgress: Send + Sync {
    /// `done` of `total` rows are matched.
    fn matched(&self, done: usize, total: usize);
    /// `done` of `total` plays are recorded (not committed until the last).
    fn recorded(&self, done: usize, total: usize);
}

/// A matched play to record.
#[derive(Debug, Clone)]
struct Play {
    /// Its index in the items.
    item: usize,
    target: Target,
    at: DateTime<Utc>,
    key: String,
    details: PlayDetails,
}

#[derive(Debug, Clone)]
enum Target {
    Movie(MovieId),
    Episode(EpisodeId),
    /// A movie or show to put on the watchlist.
    Watchlist(uuid::Uuid, ItemType),
    /// A movie or show abandoned, as the export says.
    Abandon(uuid::Uuid, Abandon),
    /// A rewatch reset of a show.
    Reset(ShowId),
}

/// An imported play: the rules see an import; the record keeps the play's first origin when
/// the export says it (this service's own).
fn imported(d: &PlayDetails) -> Plays {
    Plays {
        decided: Origin::Import,
        stored: d.origin.unwrap_or(Origin::Import),
    }
}

/// A row's texts as they are kept (SPEC §9): its title (and its show's) as plain text, its
/// source key and its reason without control characters, which PostgreSQL's text refuses.
fn storable(mut row: ImportRow) -> ImportRow {
    row.title = plain_text(&row.title).unwrap_or_default();
    if let Some(show) = &mut row.show {
        show.title = plain_text(&show.title).unwrap_or_default();
    }
    row.source_key = without_controls(&row.source_key);
    if let Some((_, why)) = &mut row.verdict {
        *why = without_controls(why);
    }
    row
}

fn bad_file(e: super::FileError) -> AppError {
    AppError::Invalid(ValidationError::new("file", e.0))
}

impl<S: Store> ViewingService<S> {
    /// `POST /api/imports` (SPEC §12): reads the upload, matches every row against the catalog
    /// and, unless `dry_run`, records the matched plays with `origin: import` and their own
    /// dates, oldest first, in one unit of work — all of them or none. A play whose source key
    /// was imported before, or that the file repeats, is a `duplicate`; a play the rules
    /// refuse (an episode not aired yet, say) is `invalid` with the reason, and the rest go on.
    ///
    /// # Errors
    /// [`AppError::Invalid`] (field `file`) for an upload that is not the source's export.
    #[tracing::instrument(level = "debug", skip_all, fields(user = %user, source = req.source.as_str()))]
    pub async fn import_history(&self, user: UserId, req: ImportRequest) -> AppResult<Import> {
        let files = read_files(req.upload).map_err(bad_file)?;
        let rows: Vec<ImportRow> = rows(req.source, &files, req.profile.as_deref())
            .map_err(bad_file)?
            .into_iter()
            .map(storable)
            .collect();
        let progress = req.progress.clone();
        let (items, plays) = self.outcomes(user, &rows, progress.as_deref()).await?;
        // Microseconds, as the stores keep instants: the shows an import holds in memory then
        // compare their records exactly as the stored ones would.
        let now = self.clock.now().trunc_subsecs(6);
        let mut import = Import {
            id: ImportId::from(self.ids.new_id()),
            user_id: user,
            source: req.source,
            status: if req.dry_run {
                ImportStatus::DryRun
            } else {
                ImportStatus::Applied
            },
            created_at: now,
            summary: ImportSummary::of(&items),
        };
        if req.dry_run {
            let mut uow = self.store.begin().await?;
            uow.ensure_user(user, now).await?;
            uow.save_import(&import).await?;
            uow.save_import_items(import.id, &items).await?;
            uow.commit().await?;
            return Ok(import);
        }
        let items = self
            .retrying(|| async {
                let mut items = items.clone();
                let mut uow = self.store.begin().await?;
                uow.ensure_user(user, now).await?;
                // Episodes are recorded against each show read once (SPEC §12's batch); an
                // abandon or a reset reads the show's progress itself, so what the batch
                // holds is written first.
                let mut batch = EpisodeBatch::new(user);
                for (done, play) in plays.iter().enumerate() {
                    if let Some(p) = &progress {
                        p.recorded(done, plays.len());
                    }
                    if matches!(play.target, Target::Abandon(..) | Target::Reset(_)) {
                        self.flush_episodes(&mut uow, &mut batch).await?;
                    }
                    let done = match &play.target {
                        Target::Movie(id) => {
                            let d = &play.details;
                            let cmd = WatchMovie {
                                watch_date: Some(play.at),
                                viewing_platform: d.platform.clone(),
                                viewing_duration: d.minutes,
                                viewing_location: d.location.clone(),
                                viewing_context: d.context.clone(),
                                watched_with: d.companions.clone(),
                                ..WatchMovie::default()
                            };
                            self.record_movie_in(&mut uow, user, *id, cmd, imported(d), now)
                                .await
                                .map(|r| Some(ImportLink::Play(r.id)))
                        }
                        Target::Episode(id) => {
                            let d = &play.details;
                            let cmd = WatchEpisode {
                                watch_date: Some(play.at),
                                platform: d.platform.clone(),
                                viewing_duration: d.minutes,
                                ..WatchEpisode::default()
                            };
                            let episode = EpisodePlay {
                                episode_id: *id,
                                cmd: &cmd,
                                requested_session: None,
                                origin: imported(d),
                                details: Some(d),
                            };
                            self.record_episode_batched(&mut uow, &mut batch, episode, now)
                                .await
                                .map(|w| Some(ImportLink::Play(w.record.id)))
                        }
                        Target::Watchlist(content, item_type) => uow
                            .add_to_watchlist(&WatchlistItem {
                                user_id: user,
                                content_id: *content,
                                item_type: *item_type,
                                added_at: play.at,
                            })
                            .await
                            .map(|(_, added)| added.then_some(ImportLink::Watchlist(*content)))
                            .map_err(AppError::from),
                        Target::Abandon(item, cmd) => self
                            .abandon_in(&mut uow, user, *item, cmd.clone(), now)
                            .await
                            .map(|a| Some(ImportLink::Abandon(a.id))),
                        Target::Reset(show) => self
                            .reset_in(&mut uow, user, *show, play.at)
                            .await
                            .map(|()| Some(ImportLink::Reset(*show))),
                    };
                    match done {
                        Ok(Some(link)) => {
                            uow.link_import_item(user, import.id, &play.key, link)
                                .await?;
                        }
                        Ok(None) => {
                            let item = &mut items[play.item];
                            item.outcome = RowOutcome::Duplicate;
                            item.reason = Some("already on the watchlist".to_owned());
                        }
                        // Refused by a rule before anything was written: this row only.
                        Err(
                            e @ (AppError::Invalid(_)
                            | AppError::EpisodeOutOfOrder(_)
                            | AppError::Conflict(_)),
                        ) if !matches!(play.target, Target::Movie(_) | Target::Episode(_))
                            || !matches!(e, AppError::Conflict(_)) =>
                        {
                            let item = &mut items[play.item];
                            item.outcome = RowOutcome::Invalid;
                            item.reason = Some(e.to_string());
                        }
                        Err(AppError::ContentNotFound) => {
                            let item = &mut items[play.item];
                            item.outcome = RowOutcome::Unmatched;
                            item.reason = Some("no longer in the catalog".to_owned());
                        }
                        Err(e) => return Err(e),
                    }
                }
                self.flush_episodes(&mut uow, &mut batch).await?;
                let mut applied = import.clone();
                applied.summary = ImportSummary::of(&items);
                uow.save_import(&applied).await?;
                uow.save_import_items(applied.id, &items).await?;
                uow.commit().await?;
                Ok(items)
            })
            .await?;
        import.summary = ImportSummary::of(&items);
        Ok(import)
    }

    /// Every row's outcome, and the plays to record (matched, not duplicates), oldest first.
    async fn outcomes(
        &self,
        user: UserId,
        rows: &[ImportRow],
        progress: Option<&dyn ImportProgress>,
    ) -> AppResult<(Vec<ImportItem>, Vec<Play>)> {
        let keys: Vec<String> = rows
            .iter()
            .filter(|r| r.verdict.is_none())
            .map(|r| r.source_key.clone())
            .collect();
        let held = {
            let mut uow = self.store.begin_read().await?;
            uow.held_source_keys(user, &keys).await?
        };
        let mut seen = HashSet::new();
        let mut items = Vec::with_capacity(rows.len());
        let mut plays = Vec::new();
        for (done, row) in rows.iter().enumerate() {
            if let Some(p) = progress {
                p.matched(done, rows.len());
            }
            let mut item = ImportItem {
                row: row.row,
                kind: row.kind,
                title: row.title.clone(),
                outcome: RowOutcome::Imported,
                matched_by: None,
                content_id: None,
                reason: None,
            };
            if let Some((outcome, reason)) = &row.verdict {
                item.outcome = *outcome;
                item.reason = Some(reason.clone());
            } else if held.contains(&row.source_key) {
                item.outcome = RowOutcome::Duplicate;
                item.reason = Some("imported before".to_owned());
            } else if !seen.insert(row.source_key.as_str()) {
                item.outcome = RowOutcome::Duplicate;
                item.reason = Some("repeated in the file".to_owned());
            } else {
                let matched = self.match_row(row).await?;
                let (content, by) = match &matched {
                    Match::Movie(id, by) => (Some(id.as_uuid()), Some(*by)),
                    Match::Episode(id, by) => (Some(id.as_uuid()), Some(*by)),
                    Match::Show(id, by) => (Some(id.as_uuid()), Some(*by)),
                    Match::Unmatched(_) => (None, None),
                };
                item.content_id = content;
                item.matched_by = by;
                let target = match (row.kind, matched) {
                    (_, Match::Unmatched(reason)) => {
                        item.outcome = RowOutcome::Unmatched;
                        item.reason = Some(reason);
                        None
                    }
                    (RowKind::Movie, Match::Movie(id, _)) => Some(Target::Movie(id)),
                    (RowKind::Episode, Match::Episode(id, _)) => Some(Target::Episode(id)),
                    (RowKind::Watchlist, Match::Movie(id, _)) => {
                        Some(Target::Watchlist(id.as_uuid(), ItemType::Movie))
                    }
                    (RowKind::Watchlist, Match::Show(id, _)) => {
                        Some(Target::Watchlist(id.as_uuid(), ItemType::Show))
                    }
                    (RowKind::Abandon, Match::Movie(id, _)) => row
                        .abandon
                        .clone()
                        .map(|cmd| Target::Abandon(id.as_uuid(), cmd)),
                    (RowKind::Abandon, Match::Show(id, _)) => row
                        .abandon
                        .clone()
                        .map(|cmd| Target::Abandon(id.as_uuid(), cmd)),
                    (RowKind::Reset, Match::Show(id, _)) => Some(Target::Reset(id)),
                    _ => {
                        item.outcome = RowOutcome::Unmatched;
                        item.reason = Some("matched an item of another kind".to_owned());
                        item.content_id = None;
                        item.matched_by = None;
                        None
                    }
                };
                // Every date a store keeps lies in 1900–9999 (a watchlist entry's and a reset's
                // too, which no rule checks on the way).
                match (target, row.at.map(|at| values::instant("date", at))) {
                    (Some(target), Some(Ok(at))) => plays.push(Play {
                        item: items.len(),
                        target,
                        at,
                        key: row.source_key.clone(),
                        details: row.play.clone(),
                    }),
                    (Some(_), Some(Err(e))) => {
                        item.outcome = RowOutcome::Invalid;
                        item.reason = Some(e.to_string());
                    }
                    (Some(_), None) => {
                        item.outcome = RowOutcome::Invalid;
                        item.reason = Some("no date".to_owned());
                    }
                    (None, _) => {}
                }
            }
            items.push(item);
        }
        plays.sort_by_key(|p| (p.at, p.item));
        Ok((items, plays))
    }

    /// `GET /api/imports`: the user's imports, newest first.
    pub async fn imports(&self, user: UserId) -> AppResult<Vec<Import>> {
        let mut uow = self.store.begin_read().await?;
        Ok(uow.imports_of(user).await?)
    }

    /// `GET /api/imports/{id}`: one of the user's imports; another user's is `NotFound`.
    pub async fn import(&self, user: UserId, id: ImportId) -> AppResult<Import> {
        let mut uow = self.store.begin_read().await?;
        uow.import(user, id).await?.ok_or(AppError::NotFound)
    }

    /// `GET /api/imports/{id}/items`: a page of an import's rows in file order, only those of
    /// `outcome` when given; another user's import is `NotFound`.
    pub async fn import_items(
        &self,
        user: UserId,
        id: ImportId,
        outcome: Option<RowOutcome>,
        offset: u32,
        limit: u32,
    ) -> AppResult<Vec<ImportItem>> {
        let mut uow = self.store.begin_read().await?;
        uow.import(user, id).await?.ok_or(AppError::NotFound)?;
        Ok(uow.import_items(id, outcome, offset, limit).await?)
    }

    /// `DELETE /api/imports/{id}` (SPEC §12): exactly the plays the import recorded are removed,
    /// each through the history correction (SPEC §11), and their source keys may be imported
    /// again; the import is `undone`. A dry run or an import undone before changes nothing.
    /// Another user's import is `NotFound`.
    #[tracing::instrument(level = "debug", skip_all, fields(user = %user, import = %id))]
    pub async fn undo_import(&self, user: UserId, id: ImportId) -> AppResult<Import> {
        let mut import = self.import(user, id).await?;
        if import.status != ImportStatus::Applied {
            return Ok(import);
        }
        let links = {
            let mut uow = self.store.begin_read().await?;
            uow.import_links(user, id).await?
        };
        // Newest first, each through its own correction; one the user took back by hand
        // since is already gone.
        for link in links.into_iter().rev() {
            let undone = match link {
                ImportLink::Play(record) => self.delete_record(user, record).await,
                ImportLink::Abandon(abandon) => self.undo_abandon(user, abandon).await,
                ImportLink::Watchlist(content) => self.remove_from_watchlist(user, content).await,
                ImportLink::Reset(show) => self.undo_reset(user, show).await,
            };
            match undone {
                Ok(()) | Err(AppError::NotFound) => {}
                Err(e) => return Err(e),
            }
        }
        import.status = ImportStatus::Undone;
        let mut uow = self.store.begin().await?;
        uow.unlink_import_items(user, id).await?;
        uow.save_import(&import).await?;
        uow.commit().await?;
        Ok(import)
    }
}
