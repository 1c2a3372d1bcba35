//! The catalog file (SPEC §4, §16): `{ "movies": [...], "shows": [...] }`, the JSON document
//! `viewing-server catalog import` reads and an embedding service can load with
//! [`ViewingService::import_catalog`](crate::ViewingService::import_catalog).
//!
//! It lives in the app crate so that an embedder needs neither the HTTP adapter nor an OpenAPI
//! library to load content. [`parse`] checks the whole file before anything is written: every
//! problem comes back at once, each named by its path in the file (`movies[1].runtimeMinutes`,
//! `shows[0].seasons[2].episodes[0].title`, `shows[3].rating` for a field the format does not
//! know). Texts are cleaned with [`plain_text`], the same cleaner the
//! HTTP API uses, and a movie or show entry is validated by the same code as the API's
//! `PUT /api/catalog/...` bodies ([`MovieEntry::into_movie`], [`ShowEntry::into_show`]).
//!
//! ```
//! use viewing_app::catalog_file::{self, CatalogFileError};
//!
//! let catalog = catalog_file::parse(r#"{
//!     "movies": [{ "id": "0191b2c4-0000-7000-8000-000000000001",
//!                  "title": "<b>Heat</b>", "runtimeMinutes": 170, "genres": ["crime"] }]
//! }"#).unwrap();
//! assert_eq!(catalog.movies[0].title.as_str(), "Heat");
//! assert!(catalog.shows.is_empty());
//!
//! let Err(CatalogFileError::Invalid(problems)) = catalog_file::parse(r#"{
//!     "movies": [{ "id": "0191b2c4-0000-7000-8000-000000000001",
//!                  "title": " ", "runtimeMinutes": 5000, "stars": 5 }]
//! }"#) else { panic!("refused") };
//! let paths: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
//! assert_eq!(paths, ["movies[0].stars", "movies[0].title", "movies[0].runtimeMinutes"]);
//! ```

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use viewing_domain::values::{Genre, Minutes, Title, ValidationError, calendar_date};
use viewing_domain::{
    Episode, EpisodeId, ExternalIds, Movie, MovieId, Provider, Season, SeasonId, Show, ShowId,
    ShowStatus,
};

use crate::text::plain_text;

/// One refused part of a catalog entry or file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    /// Where: the camelCase field name, nested as `seasons[0].episodes[2].title`; in
    /// [`parse`]'s answer prefixed with the entry (`shows[1].seasons[0].seasonNumber`).
    pub field: String,
    /// What is wrong, for a person.
    pub message: String,
}

impl fmt::Display for FieldProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl From<ValidationError> for FieldProblem {
    fn from(e: ValidationError) -> Self {
        Self {
            field: e.field.to_owned(),
            message: e.message,
        }
    }
}

/// Why a catalog file was refused. Nothing of a refused file should be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogFileError {
    /// Not JSON, or not of the file's shape (a missing field, a number where a text belongs).
    /// JSON parsing stops at the first such error, so this names one, with its line and column.
    #[error("not a catalog file: {0}")]
    Malformed(String),
    /// Well-formed, but with unknown fields or values the domain refuses: every one of them.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldProblem>),
}

/// The whole file as written, before validation. The types accept unknown fields so that
/// [`parse`] can name every one of them (serde stops at the first); `parse` refuses them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CatalogFile {
    /// Movies, each created or replaced by id.
    #[serde(default)]
    pub movies: Vec<MovieEntry>,
    /// Shows, each replaced as a whole tree by id.
    #[serde(default)]
    pub shows: Vec<ShowEntry>,
}

/// A movie of the file (and the body of `PUT /api/catalog/movies/{id}` with the id added).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MovieEntry {
    /// The movie's id, chosen by the catalog's owner.
    pub id: Uuid,
    /// Plain text after cleaning, not blank.
    pub title: String,
    /// Whole minutes, 0 to 1440 (`170.0` counts as whole).
    #[serde(deserialize_with = "whole::i64")]
    pub runtime_minutes: i64,
    /// Genre names; repeats (ignoring case) are dropped.
    #[serde(default)]
    pub genres: Vec<String>,
    /// 1800-01-01 to 9999-12-31.
    #[serde(default)]
    pub release_date: Option<NaiveDate>,
    /// How other services name it.
    #[serde(default, skip_serializing_if = "ExternalIdsEntry::is_empty")]
    pub external_ids: ExternalIdsEntry,
}

/// How other services name an item (SPEC §10), as the file spells it: an object with one
/// optional text per provider (`imdb`: `tt` and 5–10 digits; the others 1–12 digits). Any other
/// key is refused, and so is anything but an object (serde would read a struct from an array).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ExternalIdsEntry {
    /// The Movie Database.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tmdb: Option<String>,
    /// IMDb.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imdb: Option<String>,
    /// TheTVDB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tvdb: Option<String>,
    /// Trakt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trakt: Option<String>,
    /// TVmaze.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tvmaze: Option<String>,
}

impl<'de> Deserialize<'de> for ExternalIdsEntry {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        /// The fields, read from the object only.
        #[derive(Deserialize)]
        struct Fields {
            #[serde(default)]
            tmdb: Option<String>,
            #[serde(default)]
            imdb: Option<String>,
            #[serde(default)]
            tvdb: Option<String>,
            #[serde(default)]
            trakt: Option<String>,
            #[serde(default)]
            tvmaze: Option<String>,
        }
        struct ObjectOnly;
        impl<'de> serde::de::Visitor<'de> for ObjectOnly {
            type Value = ExternalIdsEntry;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of external ids")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<Self::Value, A::Error> {
                let f = Fields::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(ExternalIdsEntry {
                    tmdb: f.tmdb,
                    imdb: f.imdb,
                    tvdb: f.tvdb,
                    trakt: f.trakt,
                    tvmaze: f.tvmaze,
                })
            }
        }
        d.deserialize_map(ObjectOnly)
    }
}

impl ExternalIdsEntry {
    /// The entry of `ids`.
    pub fn of(ids: &ExternalIds) -> Self {
        let get = |p| ids.get(p).map(str::to_owned);
        Self {
            tmdb: get(Provider::Tmdb),
            imdb: get(Provider::Imdb),
            tvdb: get(Provider::Tvdb),
            trakt: get(Provider::Trakt),
            tvmaze: get(Provider::Tvmaze),
        }
    }

    /// Whether no provider is given.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    fn pairs(&self) -> [(Provider, Option<&String>); 5] {
        [
            (Provider::Tmdb, self.tmdb.as_ref()),
            (Provider::Imdb, self.imdb.as_ref()),
            (Provider::Tvdb, self.tvdb.as_ref()),
            (Provider::Trakt, self.trakt.as_ref()),
            (Provider::Tvmaze, self.tvmaze.as_ref()),
        ]
    }
}

/// Whether a show will get new episodes, as the file spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ShowStatusEntry {
    /// `returning`: more episodes will come.
    Returning,
    /// `ended`: finished as planned.
    Ended,
    /// `canceled`: stopped early.
    Canceled,
}

impl From<ShowStatusEntry> for ShowStatus {
    fn from(s: ShowStatusEntry) -> Self {
        match s {
            ShowStatusEntry::Returning => ShowStatus::Returning,
            ShowStatusEntry::Ended => ShowStatus::Ended,
            ShowStatusEntry::Canceled => ShowStatus::Canceled,
        }
    }
}

/// A show of the file with its whole tree of seasons and episodes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShowEntry {
    /// The show's id.
    pub id: Uuid,
    /// Plain text after cleaning, not blank.
    pub title: String,
    /// Returning, ended or canceled.
    pub status: ShowStatusEntry,
    /// Genre names; repeats (ignoring case) are dropped.
    #[serde(default)]
    pub genres: Vec<String>,
    /// The seasons; numbers and ids must be unique within the show.
    #[serde(default)]
    pub seasons: Vec<SeasonEntry>,
    /// How other services name it.
    #[serde(default, skip_serializing_if = "ExternalIdsEntry::is_empty")]
    pub external_ids: ExternalIdsEntry,
}

/// A season of a [`ShowEntry`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SeasonEntry {
    /// The season's id.
    pub season_id: Uuid,
    /// 0 holds specials.
    #[serde(deserialize_with = "whole::u32")]
    pub season_number: u32,
    /// The episodes, in any order.
    #[serde(default)]
    pub episodes: Vec<EpisodeEntry>,
    /// How other services name it.
    #[serde(default, skip_serializing_if = "ExternalIdsEntry::is_empty")]
    pub external_ids: ExternalIdsEntry,
}

/// An episode of a [`SeasonEntry`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EpisodeEntry {
    /// The episode's id.
    pub episode_id: Uuid,
    /// Its number within the season.
    #[serde(deserialize_with = "whole::u32")]
    pub episode_number: u32,
    /// Plain text after cleaning, not blank.
    pub title: String,
    /// Whole minutes, 0 to 1440.
    #[serde(deserialize_with = "whole::i64")]
    pub runtime_minutes: i64,
    /// Missing: already aired. 1800-01-01 to 9999-12-31.
    #[serde(default)]
    pub air_date: Option<NaiveDate>,
    /// How other services name it.
    #[serde(default, skip_serializing_if = "ExternalIdsEntry::is_empty")]
    pub external_ids: ExternalIdsEntry,
}

/// A valid catalog file: the domain's movies and shows, ready to be upserted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Catalog {
    /// The movies, in file order.
    pub movies: Vec<Movie>,
    /// The shows, in file order.
    pub shows: Vec<Show>,
}

/// Reads a catalog file: its JSON, then every entry. `Ok` only when nothing is wrong; otherwise
/// every unknown field and every refused value, each named by its path in the file.
pub fn parse(json: &str) -> Result<Catalog, CatalogFileError> {
    let mut unknown = Vec::new();
    let mut de = serde_json::Deserializer::from_str(json);
    let file: CatalogFile = serde_ignored::deserialize(&mut de, |path| {
        unknown.push(FieldProblem {
            field: path_name(&path),
            message: "unknown field".to_owned(),
        });
    })
    .and_then(|file| de.end().map(|()| file))
    .map_err(|e| CatalogFileError::Malformed(e.to_string()))?;
    file.into_catalog(unknown)
}

impl CatalogFile {
    /// Validates every entry; `problems` already found (unknown fields) come first.
    fn into_catalog(self, mut problems: Vec<FieldProblem>) -> Result<Catalog, CatalogFileError> {
        let mut catalog = Catalog::default();
        for (i, m) in self.movies.into_iter().enumerate() {
            match m.into_movie() {
                Ok(movie) => catalog.movies.push(movie),
                Err(p) => problems.extend(prefixed(&format!("movies[{i}]."), p)),
            }
        }
        for (i, s) in self.shows.into_iter().enumerate() {
            match s.into_show() {
                Ok(show) => catalog.shows.push(show),
                Err(p) => problems.extend(prefixed(&format!("shows[{i}]."), p)),
            }
        }
        if problems.is_empty() {
            Ok(catalog)
        } else {
            Err(CatalogFileError::Invalid(problems))
        }
    }
}

/// `movies[0].extra` for serde_ignored's `movies.0.extra`.
fn path_name(path: &serde_ignored::Path<'_>) -> String {
    use serde_ignored::Path;
    match path {
        Path::Root => String::new(),
        Path::Seq { parent, index } => format!("{}[{index}]", path_name(parent)),
        Path::Map { parent, key } => {
            let parent = path_name(parent);
            if parent.is_empty() {
                key.clone()
            } else {
                format!("{parent}.{key}")
            }
        }
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => path_name(parent),
    }
}

fn prefixed(prefix: &str, problems: Vec<FieldProblem>) -> impl Iterator<Item = FieldProblem> {
    problems.into_iter().map(move |p| FieldProblem {
        field: format!("{prefix}{}", p.field),
        message: p.message,
    })
}

impl MovieEntry {
    /// The domain's movie, or every refused field (named without the entry's prefix).
    pub fn into_movie(self) -> Result<Movie, Vec<FieldProblem>> {
        let mut c = Checker::default();
        let title = c.required_text("title", &self.title, Title::parse);
        let runtime = c.runtime("runtimeMinutes", self.runtime_minutes);
        let genres = c.genres(&self.genres);
        let release_date = c.date("releaseDate", self.release_date);
        let external_ids = c.external_ids(&self.external_ids);
        match (title, runtime, release_date) {
            // A missing value always comes with its problem.
            (Some(title), Some(runtime), Some(release_date)) if c.problems.is_empty() => {
                Ok(Movie {
                    id: MovieId::from(self.id),
                    title,
                    runtime,
                    genres,
                    release_date,
                    external_ids,
                })
            }
            _ => Err(c.problems),
        }
    }
}

impl EpisodeEntry {
    fn check(self, c: &mut Checker) -> Option<Episode> {
        let title = c.required_text("title", &self.title, Title::parse);
        let runtime = c.runtime("runtimeMinutes", self.runtime_minutes);
        let air_date = c.date("airDate", self.air_date);
        let external_ids = c.external_ids(&self.external_ids);
        Some(Episode {
            id: EpisodeId::from(self.episode_id),
            number: self.episode_number,
            title: title?,
            runtime: runtime?,
            air_date: air_date?,
            external_ids,
        })
    }
}

impl ShowEntry {
    /// The domain's show, or every refused field (`seasons[0].episodes[1].title`). Season and
    /// episode numbering is checked by [`Show::new`] once every text and number is valid.
    pub fn into_show(self) -> Result<Show, Vec<FieldProblem>> {
        let mut c = Checker::default();
        let title = c.required_text("title", &self.title, Title::parse);
        let genres = c.genres(&self.genres);
        let external_ids = c.external_ids(&self.external_ids);
        let mut seasons = Vec::with_capacity(self.seasons.len());
        for (si, season) in self.seasons.into_iter().enumerate() {
            let mut episodes = Vec::with_capacity(season.episodes.len());
            for (ei, episode) in season.episodes.into_iter().enumerate() {
                let mut ec = Checker::default();
                let e = episode.check(&mut ec);
                c.problems.extend(prefixed(
                    &format!("seasons[{si}].episodes[{ei}]."),
                    ec.problems,
                ));
                episodes.extend(e);
            }
            let mut sc = Checker::default();
            let season_ids = sc.external_ids(&season.external_ids);
            c.problems
                .extend(prefixed(&format!("seasons[{si}]."), sc.problems));
            seasons.push(Season {
                id: SeasonId::from(season.season_id),
                number: season.season_number,
                episodes,
                external_ids: season_ids,
            });
        }
        let Some(title) = title.filter(|_| c.problems.is_empty()) else {
            return Err(c.problems);
        };
        let mut show = Show::new(
            ShowId::from(self.id),
            title,
            self.status.into(),
            genres,
            seasons,
        )
        .map_err(|e| vec![e.into()])?;
        show.external_ids = external_ids;
        Ok(show)
    }
}

/// Collects every refused field of an entry, so one answer names them all.
#[derive(Default)]
struct Checker {
    problems: Vec<FieldProblem>,
}

impl Checker {
    fn check<T>(&mut self, field: &str, result: Result<T, ValidationError>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.push(field, e.message);
                None
            }
        }
    }

    fn push(&mut self, field: &str, message: impl Into<String>) {
        self.problems.push(FieldProblem {
            field: field.to_owned(),
            message: message.into(),
        });
    }

    /// An optional text: HTML stripped, then parsed by the domain (`None` when blank).
    fn text<T>(
        &mut self,
        field: &str,
        raw: &str,
        parse: fn(&str) -> Result<Option<T>, ValidationError>,
    ) -> Option<T> {
        match plain_text(raw) {
            Some(text) => self.check(field, parse(&text)).flatten(),
            None => {
                self.push(field, "contains markup under too many layers of encoding");
                None
            }
        }
    }

    fn required_text<T>(
        &mut self,
        field: &str,
        raw: &str,
        parse: fn(&str) -> Result<Option<T>, ValidationError>,
    ) -> Option<T> {
        let v = self.text(field, raw, parse);
        if v.is_none() && !self.problems.iter().any(|p| p.field == field) {
            self.push(field, "must not be blank");
        }
        v
    }

    /// The valid external ids of `entry`; each refused one is a problem (`externalIds.imdb`).
    fn external_ids(&mut self, entry: &ExternalIdsEntry) -> ExternalIds {
        let mut ids = ExternalIds::new();
        for (provider, value) in entry.pairs() {
            if let Some(v) = value {
                let v = v.trim();
                self.check(provider.field(), ids.insert(provider, v));
            }
        }
        ids
    }

    fn genres(&mut self, raw: &[String]) -> Vec<Genre> {
        let mut out: Vec<Genre> = Vec::new();
        for (i, g) in raw.iter().enumerate() {
            if let Some(g) = self.text(&format!("genres[{i}]"), g, Genre::parse) {
                Genre::push_distinct(&mut out, g);
            }
        }
        out
    }

    /// An optional calendar date in the range every store keeps.
    fn date(&mut self, field: &'static str, d: Option<NaiveDate>) -> Option<Option<NaiveDate>> {
        match d {
            None => Some(None),
            Some(d) => self.check(field, calendar_date(field, d)).map(Some),
        }
    }

    fn runtime(&mut self, field: &str, minutes: i64) -> Option<Minutes> {
        self.check(field, Minutes::new("runtimeMinutes", minutes))
    }
}

/// Whole numbers as JSON Schema counts them: `59` and `59.0` alike, anything else refused.
/// Shared with the HTTP adapter's bodies (`#[serde(deserialize_with = "whole::i64")]`).
pub mod whole {
    use serde::{Deserialize, Deserializer, de::Error};

    fn number<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        let n = serde_json::Number::deserialize(d)?;
        if let Some(i) = n.as_i64() {
            return Ok(i);
        }
        match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(f as i64),
            _ => Err(D::Error::custom(format!(
                "expected a whole number, got {n}"
            ))),
        }
    }

    /// An `i64`.
    pub fn i64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        number(d)
    }

    /// An optional `i64` (`null` or absent is `None`).
    pub fn opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        Option::<serde_json::Number>::deserialize(d)?
            .map(|n| number(n).map_err(D::Error::custom))
            .transpose()
    }

    /// A `u32`.
    pub fn u32<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
        let n = number(d)?;
        u32::try_from(n)
            .map_err(|_| D::Error::custom(format!("expected 0 to {}, got {n}", u32::MAX)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(json: &str) -> Vec<String> {
        match parse(json) {
            Err(CatalogFileError::Invalid(p)) => p.iter().map(ToString::to_string).collect(),
            other => panic!("expected problems, got {other:?}"),
        }
    }

    const SHOW: &str = r#"{ "shows": [{ "id": "0191b2c4-0000-7000-8000-000000000002",
        "title": "Dark", "status": "ended", "seasons": [{
            "seasonId": "0191b2c4-0000-7000-8000-000000000003", "seasonNumber": 1.0,
            "episodes": [{ "episodeId": "0191b2c4-0000-7000-8000-000000000004",
                "episodeNumber": 1, "title": "Secrets", "runtimeMinutes": 51 }] }] }] }"#;

    #[test]
    fn a_valid_show_becomes_the_domain_tree() {
        let catalog = parse(SHOW).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(catalog.shows.len(), 1);
        assert_eq!(
            catalog.shows[0].seasons()[0].episodes[0].title.as_str(),
            "Secrets"
        );
    }

    #[test]
    fn unknown_fields_are_named_at_every_depth() {
        let json = SHOW
            .replace(r#""title": "Secrets""#, r#""title": "Secrets", "extra": 1"#)
            .replace(r#""status": "ended""#, r#""status": "ended", "rating": 2"#)
            .replace(r#"{ "shows""#, r#"{ "version": 1, "shows""#);
        assert_eq!(
            problems(&json),
            [
                "version: unknown field",
                "shows[0].rating: unknown field",
                "shows[0].seasons[0].episodes[0].extra: unknown field"
            ]
        );
    }

    #[test]
    fn every_refused_value_is_named_by_its_path() {
        // A genre named twice is one genre, not a problem.
        let json = SHOW
            .replace(r#""title": "Secrets""#, r#""title": "<i></i>""#)
            .replace(r#""runtimeMinutes": 51"#, r#""runtimeMinutes": 1441"#)
            .replace(
                r#""title": "Dark""#,
                r#""title": "Dark", "genres": ["Drama", "drama"]"#,
            );
        assert_eq!(
            problems(&json),
            [
                "shows[0].seasons[0].episodes[0].title: must not be blank",
                "shows[0].seasons[0].episodes[0].runtimeMinutes: must be between 0 and 1440 minutes"
            ]
        );
    }

    #[test]
    fn broken_json_is_malformed_not_a_panic() {
        for json in [
            "",
            "42",
            r#"{"movies": {}}"#,
            r#"{"movies": []} x"#,
            SHOW.replace("1.0", "1.5").as_str(),
        ] {
            assert!(
                matches!(parse(json), Err(CatalogFileError::Malformed(_))),
                "{json}"
            );
        }
    }
}
