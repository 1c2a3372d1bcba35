//! The Movie Database (TMDB) as a source of catalog content (SPEC §16).
//!
//! This crate reads TMDB's v3 responses — `/movie/{id}`, `/tv/{id}` and
//! `/tv/{id}/season/{n}`, each with `append_to_response=external_ids`, and `/find/{id}` — and
//! maps them onto the domain's [`Movie`] and [`Show`], keeping TMDB's, IMDb's and TheTVDB's ids
//! as `externalIds`. Our ids are derived from TMDB's ([`tmdb_uuid`]), so fetching an item again
//! replaces it in place.
//!
//! The mapping's rules:
//! - a show's status: TMDB's `Ended` and `Canceled` are ours, anything else (`Returning
//!   Series`, `In Production`, `Planned`, `Pilot`) is `returning`;
//! - an episode without a runtime takes the show's first `episode_run_time`, else 0;
//! - an episode without an air date has not been announced: it is left out until a refresh
//!   finds one (our catalog reads a missing air date as "aired");
//! - an episode without a name is "Episode N".
//!
//! [`TmdbClient`] fetches them (cache, rate limit, retries) as the domain's
//! [`MetadataProvider`](viewing_domain::metadata::MetadataProvider); with the feature `fake`,
//! [`fake::FakeTmdb`] stands in for TMDB in tests.

mod client;
#[cfg(feature = "fake")]
pub mod fake;

pub use client::{DEFAULT_URL, TmdbClient, TmdbConfig};

use chrono::NaiveDate;
use serde::Deserialize;
use uuid::Uuid;
use viewing_domain::values::{Genre, Minutes, Title};
use viewing_domain::{
    Episode, EpisodeId, ExternalIds, Movie, MovieId, Provider, Season, SeasonId, Show, ShowId,
    ShowStatus,
};

/// The namespace of the ids derived from TMDB ids (UUID v5), this project's own.
const NAMESPACE: Uuid = Uuid::from_u128(0x2c4b_7e1a_93f0_4d8b_a6e2_5b1c_0f9d_7a34);

/// What TMDB names an id of: its ids are unique per kind, not across kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TmdbKind {
    /// `/movie/{id}`.
    Movie,
    /// `/tv/{id}`.
    Tv,
    /// A season of a show (its own TMDB id).
    Season,
    /// An episode (its own TMDB id).
    Episode,
}

/// Our id of the item TMDB calls `id` of `kind`: the same on every fetch.
pub fn tmdb_uuid(kind: TmdbKind, id: u64) -> Uuid {
    let kind = match kind {
        TmdbKind::Movie => "movie",
        TmdbKind::Tv => "tv",
        TmdbKind::Season => "season",
        TmdbKind::Episode => "episode",
    };
    Uuid::new_v5(&NAMESPACE, format!("tmdb:{kind}:{id}").as_bytes())
}

/// Why a response could not be mapped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    /// Not the JSON shape TMDB answers with.
    #[error("unexpected TMDB response: {0}")]
    Shape(String),
    /// A value the catalog refuses (an empty title, a runtime over 24 hours).
    #[error("TMDB item {id}: {message}")]
    Refused {
        /// TMDB's id of the item.
        id: u64,
        /// What was refused.
        message: String,
    },
}

#[derive(Debug, Deserialize)]
struct GenreJson {
    name: String,
}

#[derive(Debug, Default, Deserialize)]
struct ExternalIdsJson {
    #[serde(default)]
    imdb_id: Option<String>,
    #[serde(default)]
    tvdb_id: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct MovieJson {
    id: u64,
    title: String,
    #[serde(default)]
    runtime: Option<u32>,
    #[serde(default)]
    release_date: Option<String>,
    #[serde(default)]
    genres: Vec<GenreJson>,
    #[serde(default)]
    external_ids: ExternalIdsJson,
}

#[derive(Debug, Deserialize)]
struct TvJson {
    id: u64,
    name: String,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    genres: Vec<GenreJson>,
    #[serde(default)]
    episode_run_time: Vec<u32>,
    #[serde(default)]
    seasons: Vec<SeasonSummaryJson>,
    #[serde(default)]
    external_ids: ExternalIdsJson,
}

#[derive(Debug, Deserialize)]
struct SeasonSummaryJson {
    season_number: u32,
}

#[derive(Debug, Deserialize)]
struct SeasonJson {
    id: u64,
    season_number: u32,
    #[serde(default)]
    episodes: Vec<EpisodeJson>,
    #[serde(default)]
    external_ids: ExternalIdsJson,
}

#[derive(Debug, Deserialize)]
struct EpisodeJson {
    id: u64,
    episode_number: u32,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    runtime: Option<u32>,
    #[serde(default)]
    air_date: Option<String>,
}

#[derive(Debug, Deserialize)]
struct FindJson {
    #[serde(default)]
    movie_results: Vec<FoundJson>,
    #[serde(default)]
    tv_results: Vec<FoundJson>,
    #[serde(default)]
    tv_episode_results: Vec<FoundEpisodeJson>,
}

#[derive(Debug, Deserialize)]
struct FoundJson {
    id: u64,
}

#[derive(Debug, Deserialize)]
struct FoundEpisodeJson {
    show_id: u64,
    season_number: u32,
    episode_number: u32,
}

/// What `/find/{id}` found: the first movie, show or episode (in that order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// A movie, by TMDB id.
    Movie(u64),
    /// A show, by TMDB id.
    Tv(u64),
    /// An episode: its show's TMDB id and its numbers.
    Episode {
        /// The show's TMDB id.
        show: u64,
        /// The season number.
        season: u32,
        /// The episode number.
        episode: u32,
    },
}

fn parse<'a, T: Deserialize<'a>>(json: &'a str) -> Result<T, MappingError> {
    serde_json::from_str(json).map_err(|e| MappingError::Shape(e.to_string()))
}

fn refused(id: u64, message: impl Into<String>) -> MappingError {
    MappingError::Refused {
        id,
        message: message.into(),
    }
}

fn title(id: u64, raw: &str) -> Result<Title, MappingError> {
    match Title::parse(raw) {
        Ok(Some(t)) => Ok(t),
        Ok(None) => Err(refused(id, "no title")),
        Err(e) => Err(refused(id, e.message)),
    }
}

fn minutes(id: u64, m: u32) -> Result<Minutes, MappingError> {
    Minutes::new("runtimeMinutes", i64::from(m)).map_err(|e| refused(id, e.message))
}

fn genres(raw: &[GenreJson]) -> Vec<Genre> {
    let mut out: Vec<Genre> = Vec::new();
    for g in raw {
        if let Ok(Some(g)) = Genre::parse(&g.name) {
            Genre::push_distinct(&mut out, g);
        }
    }
    out
}

/// A date TMDB gives as `YYYY-MM-DD` (an empty text is none).
fn date(raw: Option<&str>) -> Option<NaiveDate> {
    raw.filter(|d| !d.is_empty())
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
}

/// The external ids of an item: TMDB's own, and IMDb's and TheTVDB's when TMDB knows them and
/// they have their provider's shape.
fn ids(tmdb: u64, ext: &ExternalIdsJson) -> ExternalIds {
    let mut ids = ExternalIds::new();
    let _ = ids.insert(Provider::Tmdb, &tmdb.to_string());
    if let Some(imdb) = ext.imdb_id.as_deref().filter(|v| !v.is_empty()) {
        let _ = ids.insert(Provider::Imdb, imdb);
    }
    if let Some(tvdb) = ext.tvdb_id {
        let _ = ids.insert(Provider::Tvdb, &tvdb.to_string());
    }
    ids
}

/// `/movie/{id}?append_to_response=external_ids` as a catalog movie.
pub fn movie(json: &str) -> Result<Movie, MappingError> {
    let m: MovieJson = parse(json)?;
    Ok(Movie {
        id: MovieId::from(tmdb_uuid(TmdbKind::Movie, m.id)),
        title: title(m.id, &m.title)?,
        runtime: minutes(m.id, m.runtime.unwrap_or(0))?,
        genres: genres(&m.genres),
        release_date: date(m.release_date.as_deref()),
        external_ids: ids(m.id, &m.external_ids),
    })
}

/// The season numbers `/tv/{id}` lists: which `/tv/{id}/season/{n}` to fetch.
pub fn season_numbers(tv_json: &str) -> Result<Vec<u32>, MappingError> {
    let tv: TvJson = parse(tv_json)?;
    Ok(tv.seasons.iter().map(|s| s.season_number).collect())
}

/// `/tv/{id}` and its seasons' `/tv/{id}/season/{n}` (each with
/// `append_to_response=external_ids`) as a catalog show with its whole tree.
pub fn show(tv_json: &str, season_jsons: &[&str]) -> Result<Show, MappingError> {
    let tv: TvJson = parse(tv_json)?;
    let default_runtime = tv.episode_run_time.first().copied().unwrap_or(0);
    let mut seasons = Vec::with_capacity(season_jsons.len());
    for json in season_jsons {
        let s: SeasonJson = parse(json)?;
        let mut episodes = Vec::with_capacity(s.episodes.len());
        for e in &s.episodes {
            // Not announced yet: left out until a refresh finds its date.
            let Some(air_date) = date(e.air_date.as_deref()) else {
                continue;
            };
            let name = e
                .name
                .as_deref()
                .filter(|n| !n.trim().is_empty())
                .map_or_else(|| format!("Episode {}", e.episode_number), str::to_owned);
            episodes.push(Episode {
                id: EpisodeId::from(tmdb_uuid(TmdbKind::Episode, e.id)),
                number: e.episode_number,
                title: title(e.id, &name)?,
                runtime: minutes(e.id, e.runtime.unwrap_or(default_runtime))?,
                air_date: Some(air_date),
                external_ids: ids(e.id, &ExternalIdsJson::default()),
            });
        }
        seasons.push(Season {
            id: SeasonId::from(tmdb_uuid(TmdbKind::Season, s.id)),
            number: s.season_number,
            episodes,
            external_ids: ids(s.id, &s.external_ids),
        });
    }
    let status = match tv.status.as_deref() {
        Some("Ended") => ShowStatus::Ended,
        Some("Canceled") => ShowStatus::Canceled,
        _ => ShowStatus::Returning,
    };
    let mut show = Show::new(
        ShowId::from(tmdb_uuid(TmdbKind::Tv, tv.id)),
        title(tv.id, &tv.name)?,
        status,
        genres(&tv.genres),
        seasons,
    )
    .map_err(|e| refused(tv.id, e.message))?;
    show.external_ids = ids(tv.id, &tv.external_ids);
    Ok(show)
}

/// `/find/{id}?external_source=…`: the first movie, show or episode found, in that order.
pub fn found(json: &str) -> Result<Option<Found>, MappingError> {
    let f: FindJson = parse(json)?;
    Ok(f.movie_results
        .first()
        .map(|m| Found::Movie(m.id))
        .or_else(|| f.tv_results.first().map(|t| Found::Tv(t.id)))
        .or_else(|| {
            f.tv_episode_results.first().map(|e| Found::Episode {
                show: e.show_id,
                season: e.season_number,
                episode: e.episode_number,
            })
        }))
}
