//! `GET /api/export` (SPEC §12): a user's whole history as one versioned JSON document — every
//! record with its companions and origin, the abandons, the watchlist, the resets and the
//! imports — which `POST /api/imports?source=viewing` reads back; and the movie plays as the CSV
//! Letterboxd's importer takes.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use viewing_domain::ports::{
    AbandonRepository, HistoryCursor, HistoryFilter, HistoryPaging, ImportRepository,
    ShowProgressRepository, Store, ViewingRecordRepository,
};
use viewing_domain::{ExternalIds, Movie, MovieId, Show, ShowId, UserId, Watched};

use crate::error::AppResult;
use crate::service::ViewingService;

/// The `format` of the document.
pub const FORMAT: &str = "viewing-export";
/// The version of the document this build writes and reads.
pub const VERSION: u32 = 1;

/// The whole document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportDocument {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`VERSION`] when written by this build.
    pub version: u32,
    /// When it was written.
    pub exported_at: DateTime<Utc>,
    /// Whose history it is.
    pub user_id: Uuid,
    /// Every play, oldest first.
    pub records: Vec<ExportedRecord>,
    /// Every abandon, oldest first.
    #[serde(default)]
    pub abandons: Vec<ExportedAbandon>,
    /// The watchlist.
    #[serde(default)]
    pub watchlist: Vec<ExportedWatchlistItem>,
    /// Every rewatch reset, oldest first.
    #[serde(default)]
    pub resets: Vec<ExportedReset>,
    /// The imports made.
    #[serde(default)]
    pub imports: Vec<ExportedImport>,
}

/// One play.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportedRecord {
    /// The record's id.
    pub id: Uuid,
    /// `movie` or `episode`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The movie's or episode's id in the catalog.
    pub content_id: Uuid,
    /// An episode's show.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub show_id: Option<Uuid>,
    /// An episode's season number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub season_number: Option<u32>,
    /// An episode's number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub episode_number: Option<u32>,
    /// The movie's or episode's title (when the catalog still has it).
    #[serde(default)]
    pub title: String,
    /// An episode's show's title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub show_title: Option<String>,
    /// A movie's release year.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year: Option<i32>,
    /// The movie's or episode's external ids.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub external_ids: BTreeMap<String, String>,
    /// An episode's show's external ids.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub show_external_ids: BTreeMap<String, String>,
    /// When it was watched.
    pub watch_date: DateTime<Utc>,
    /// Where it was streamed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// Where a movie was watched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub viewing_location: Option<String>,
    /// Why or how a movie was watched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub viewing_context: Option<String>,
    /// With whom a movie was watched.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub watched_with: Vec<String>,
    /// Seen before.
    pub is_rewatch: bool,
    /// Whole minutes watched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub viewing_duration_minutes: Option<u32>,
    /// Recorded by `markPreviousWatched`.
    #[serde(default)]
    pub backfilled: bool,
    /// `manual`, `import`, `playback` or `webhook`.
    pub origin: String,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
}

/// One abandon.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportedAbandon {
    /// Its id.
    pub id: Uuid,
    /// The movie or show.
    pub item_id: Uuid,
    /// `movie` or `show`.
    pub item_type: String,
    /// When.
    pub abandon_date: DateTime<Utc>,
    /// How far the user got (0 to 100).
    pub progress_percent: f64,
    /// Why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abandon_reason: Option<String>,
    /// What they thought of it (0 to 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality_rating: Option<f64>,
    /// Whether they might try again.
    #[serde(default)]
    pub would_retry: bool,
}

/// One watchlist entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportedWatchlistItem {
    /// The movie or show.
    pub content_id: Uuid,
    /// `movie` or `show`.
    #[serde(rename = "type")]
    pub kind: String,
    /// When it was added.
    pub added_at: DateTime<Utc>,
}

/// A rewatch reset of a show (SPEC §11).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportedReset {
    /// The show.
    pub show_id: Uuid,
    /// When the new pass began.
    pub reset_at: DateTime<Utc>,
}

/// An import made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportedImport {
    /// Its id.
    pub id: Uuid,
    /// Whose export it was.
    pub source: String,
    /// `dry-run`, `applied` or `undone`.
    pub status: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// Plays it recorded.
    pub imported: u32,
}

/// External ids as the document writes them: `{ "imdb": "tt0133093" }`.
pub fn id_map(ids: &ExternalIds) -> BTreeMap<String, String> {
    ids.iter()
        .map(|(p, v)| (p.as_str().to_owned(), v.to_owned()))
        .collect()
}

/// The page size the export reads the history in.
const PAGE: u32 = 1000;

impl<S: Store> ViewingService<S> {
    /// `GET /api/export`: the user's whole history (see [`ExportDocument`]).
    #[tracing::instrument(level = "debug", skip_all, fields(user = %user))]
    pub async fn export(&self, user: UserId) -> AppResult<ExportDocument> {
        let mut uow = self.store.begin_read().await?;
        let mut records = Vec::new();
        let mut paging = HistoryPaging::Page {
            page: 1,
            limit: PAGE,
        };
        loop {
            let slice = uow.history(user, &HistoryFilter::default(), paging).await?;
            let last = slice.items.last().map(|r| HistoryCursor {
                watch_date: r.watch_date,
                id: r.id,
            });
            let full = slice.items.len() == PAGE as usize;
            records.extend(slice.items);
            match last {
                Some(cursor) if full => {
                    paging = HistoryPaging::After {
                        cursor,
                        limit: PAGE,
                    };
                }
                _ => break,
            }
        }
        records.reverse();
        let mut movies: HashMap<MovieId, Option<Arc<Movie>>> = HashMap::new();
        let mut shows: HashMap<ShowId, Option<Arc<Show>>> = HashMap::new();
        let mut out = Vec::with_capacity(records.len());
        for r in &records {
            let mut e = ExportedRecord {
                id: r.id.as_uuid(),
                kind: r.watched.content_type().as_str().to_owned(),
                content_id: r.watched.content_id(),
                show_id: None,
                season_number: None,
                episode_number: None,
                title: String::new(),
                show_title: None,
                year: None,
                external_ids: BTreeMap::new(),
                show_external_ids: BTreeMap::new(),
                watch_date: r.watch_date,
                platform: r.platform.as_ref().map(|p| p.as_str().to_owned()),
                viewing_location: r.viewing_location.as_ref().map(|v| v.as_str().to_owned()),
                viewing_context: r.viewing_context.as_ref().map(|v| v.as_str().to_owned()),
                watched_with: r
                    .watched_with
                    .names()
                    .iter()
                    .map(|n| n.as_str().to_owned())
                    .collect(),
                is_rewatch: r.is_rewatch,
                viewing_duration_minutes: r.viewing_duration.map(|m| m.get()),
                backfilled: r.backfilled,
                origin: r.origin.as_str().to_owned(),
                created_at: r.created_at,
            };
            match r.watched {
                Watched::Movie(id) => {
                    if let std::collections::hash_map::Entry::Vacant(slot) = movies.entry(id) {
                        slot.insert(self.catalog.movie(&mut uow, id).await?);
                    }
                    if let Some(Some(m)) = movies.get(&id) {
                        e.title = m.title.as_str().to_owned();
                        e.year = m.release_date.map(|d| chrono::Datelike::year(&d));
                        e.external_ids = id_map(&m.external_ids);
                    }
                }
                Watched::Episode {
                    episode_id,
                    show_id,
                    season_number,
                    episode_number,
                } => {
                    e.show_id = Some(show_id.as_uuid());
                    e.season_number = Some(season_number);
                    e.episode_number = Some(episode_number);
                    if let std::collections::hash_map::Entry::Vacant(slot) = shows.entry(show_id) {
                        slot.insert(self.catalog.show(&mut uow, show_id).await?);
                    }
                    if let Some(Some(s)) = shows.get(&show_id) {
                        e.show_title = Some(s.title.as_str().to_owned());
                        e.show_external_ids = id_map(&s.external_ids);
                        if let Some(found) = s.episode(episode_id) {
                            e.title = found.episode.title.as_str().to_owned();
                            e.external_ids = id_map(&found.episode.external_ids);
                        }
                    }
                }
            }
            out.push(e);
        }
        let mut abandons = uow.abandons_between(user, None, None).await?;
        abandons.reverse();
        let mut resets: Vec<ExportedReset> = uow
            .progress_of_user(user)
            .await?
            .iter()
            .flat_map(|p| {
                p.earlier_passes
                    .iter()
                    .filter_map(|pass| pass.started_at)
                    .chain(p.reset_at)
                    .map(|at| ExportedReset {
                        show_id: p.show_id.as_uuid(),
                        reset_at: at,
                    })
            })
            .collect();
        resets.sort_by_key(|r| (r.reset_at, r.show_id));
        let imports = uow.imports_of(user).await?;
        drop(uow);
        let watchlist = self.watchlist(user).await?;
        Ok(ExportDocument {
            format: FORMAT.to_owned(),
            version: VERSION,
            exported_at: self.clock.now(),
            user_id: user.as_uuid(),
            records: out,
            abandons: abandons
                .iter()
                .map(|a| ExportedAbandon {
                    id: a.id.as_uuid(),
                    item_id: a.item_id,
                    item_type: a.item_type.as_str().to_owned(),
                    abandon_date: a.abandon_date,
                    progress_percent: a.progress_percent.value(),
                    abandon_reason: a.abandon_reason.as_ref().map(|r| r.as_str().to_owned()),
                    quality_rating: a.quality_rating.map(|r| r.value()),
                    would_retry: a.would_retry,
                })
                .collect(),
            watchlist: watchlist
                .iter()
                .map(|w| ExportedWatchlistItem {
                    content_id: w.content_id,
                    kind: w.item_type.as_str().to_owned(),
                    added_at: w.added_at,
                })
                .collect(),
            resets,
            imports: imports
                .iter()
                .map(|i| ExportedImport {
                    id: i.id.as_uuid(),
                    source: i.source.as_str().to_owned(),
                    status: i.status.as_str().to_owned(),
                    created_at: i.created_at,
                    imported: i.summary.imported,
                })
                .collect(),
        })
    }

    /// `GET /api/export?format=letterboxd`: the movie plays as the CSV Letterboxd's importer
    /// takes (`Title,Year,WatchedDate,imdbID,tmdbID,Rewatch`), oldest first.
    pub async fn export_letterboxd(&self, user: UserId) -> AppResult<String> {
        let doc = self.export(user).await?;
        let mut w = csv::Writer::from_writer(Vec::new());
        let fail = |e: csv::Error| crate::error::AppError::Unexpected(e.into());
        w.write_record([
            "Title",
            "Year",
            "WatchedDate",
            "imdbID",
            "tmdbID",
            "Rewatch",
        ])
        .map_err(fail)?;
        for r in doc.records.iter().filter(|r| r.kind == "movie") {
            w.write_record([
                r.title.as_str(),
                &r.year.map(|y| y.to_string()).unwrap_or_default(),
                &r.watch_date.format("%Y-%m-%d").to_string(),
                r.external_ids.get("imdb").map_or("", String::as_str),
                r.external_ids.get("tmdb").map_or("", String::as_str),
                if r.is_rewatch { "true" } else { "false" },
            ])
            .map_err(fail)?;
        }
        let bytes = w
            .into_inner()
            .map_err(|e| crate::error::AppError::Unexpected(e.to_string().into()))?;
        String::from_utf8(bytes).map_err(|e| crate::error::AppError::Unexpected(e.into()))
    }
}
