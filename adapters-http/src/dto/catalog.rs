//! Catalog bodies (SPEC §4). The documents with ids are also the entries of the
//! `viewing-server catalog import` file.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;
use utoipa::ToSchema;
use uuid::Uuid;
use viewing_app::catalog::{LookupQuery, LookupResult};
use viewing_app::catalog_file::{
    EpisodeEntry, ExternalIdsEntry, FieldProblem, MovieEntry, SeasonEntry, ShowEntry,
    ShowStatusEntry,
};
use viewing_app::domain::{ExternalIds, ItemKind, Movie, Provider, Show, ShowStatus};

use crate::error::{ApiError, FieldError};

/// How other services name an item (SPEC §10). Any other key is refused (422); an id another
/// item of the same kind holds is 409 `conflict`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct ExternalIdsDto {
    /// The Movie Database id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^[0-9]{1,12}$", example = "603")]
    pub tmdb: Option<String>,
    /// IMDb id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^tt[0-9]{5,10}$", example = "tt0133093")]
    pub imdb: Option<String>,
    /// TheTVDB id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^[0-9]{1,12}$")]
    pub tvdb: Option<String>,
    /// Trakt id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^[0-9]{1,12}$")]
    pub trakt: Option<String>,
    /// TVmaze id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^[0-9]{1,12}$")]
    pub tvmaze: Option<String>,
}

impl ExternalIdsDto {
    fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

impl<'de> Deserialize<'de> for ExternalIdsDto {
    /// As the catalog file reads it: an object only, unknown keys reported.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        ExternalIdsEntry::deserialize(d).map(|e| Self {
            tmdb: e.tmdb,
            imdb: e.imdb,
            tvdb: e.tvdb,
            trakt: e.trakt,
            tvmaze: e.tvmaze,
        })
    }
}

impl From<ExternalIdsDto> for ExternalIdsEntry {
    fn from(d: ExternalIdsDto) -> Self {
        Self {
            tmdb: d.tmdb,
            imdb: d.imdb,
            tvdb: d.tvdb,
            trakt: d.trakt,
            tvmaze: d.tvmaze,
        }
    }
}

impl From<&ExternalIds> for ExternalIdsDto {
    fn from(ids: &ExternalIds) -> Self {
        let e = ExternalIdsEntry::of(ids);
        Self {
            tmdb: e.tmdb,
            imdb: e.imdb,
            tvdb: e.tvdb,
            trakt: e.trakt,
            tvmaze: e.tvmaze,
        }
    }
}

/// `PUT /api/catalog/movies/{movieId}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MovieBody {
    #[schema(example = "Heat")]
    pub title: String,
    /// Whole minutes, 0 to 1440.
    #[schema(example = 170, minimum = 0, maximum = 1440)]
    #[serde(deserialize_with = "super::whole::i64")]
    pub runtime_minutes: i64,
    #[serde(default)]
    #[schema(example = json!(["crime", "thriller"]))]
    pub genres: Vec<String>,
    /// 1800-01-01 to 9999-12-31.
    #[serde(default)]
    pub release_date: Option<NaiveDate>,
    /// How other services name it.
    #[serde(default, skip_serializing_if = "ExternalIdsDto::is_empty")]
    pub external_ids: ExternalIdsDto,
}

/// A movie with its id: the answer of the catalog reads, an entry of an import file.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MovieDocument {
    pub id: Uuid,
    #[serde(flatten)]
    #[schema(inline)]
    pub body: MovieBody,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ShowStatusDto {
    Returning,
    Ended,
    Canceled,
}

impl From<ShowStatusDto> for ShowStatus {
    fn from(s: ShowStatusDto) -> Self {
        match s {
            ShowStatusDto::Returning => ShowStatus::Returning,
            ShowStatusDto::Ended => ShowStatus::Ended,
            ShowStatusDto::Canceled => ShowStatus::Canceled,
        }
    }
}

impl From<ShowStatusDto> for ShowStatusEntry {
    fn from(s: ShowStatusDto) -> Self {
        match s {
            ShowStatusDto::Returning => ShowStatusEntry::Returning,
            ShowStatusDto::Ended => ShowStatusEntry::Ended,
            ShowStatusDto::Canceled => ShowStatusEntry::Canceled,
        }
    }
}

impl From<ShowStatus> for ShowStatusDto {
    fn from(s: ShowStatus) -> Self {
        match s {
            ShowStatus::Returning => ShowStatusDto::Returning,
            ShowStatus::Ended => ShowStatusDto::Ended,
            ShowStatus::Canceled => ShowStatusDto::Canceled,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EpisodeBody {
    pub episode_id: Uuid,
    #[serde(deserialize_with = "super::whole::u32")]
    #[schema(maximum = 1000000)]
    pub episode_number: u32,
    pub title: String,
    /// Whole minutes, 0 to 1440.
    #[schema(minimum = 0, maximum = 1440)]
    #[serde(deserialize_with = "super::whole::i64")]
    pub runtime_minutes: i64,
    /// Missing: already aired. 1800-01-01 to 9999-12-31.
    #[serde(default)]
    pub air_date: Option<NaiveDate>,
    /// How other services name it.
    #[serde(default, skip_serializing_if = "ExternalIdsDto::is_empty")]
    pub external_ids: ExternalIdsDto,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SeasonBody {
    pub season_id: Uuid,
    /// 0 holds specials.
    #[serde(deserialize_with = "super::whole::u32")]
    #[schema(maximum = 1000000)]
    pub season_number: u32,
    #[serde(default)]
    pub episodes: Vec<EpisodeBody>,
    /// How other services name it.
    #[serde(default, skip_serializing_if = "ExternalIdsDto::is_empty")]
    pub external_ids: ExternalIdsDto,
}

/// `PUT /api/catalog/shows/{showId}`: replaces the show's whole tree.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ShowBody {
    pub title: String,
    pub status: ShowStatusDto,
    #[serde(default)]
    pub genres: Vec<String>,
    #[serde(default)]
    pub seasons: Vec<SeasonBody>,
    /// How other services name it.
    #[serde(default, skip_serializing_if = "ExternalIdsDto::is_empty")]
    pub external_ids: ExternalIdsDto,
}

/// A show with its id and whole tree.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ShowDocument {
    pub id: Uuid,
    #[serde(flatten)]
    #[schema(inline)]
    pub body: ShowBody,
}

/// What `PUT /api/catalog/refresh/{kind}/{id}` answers: the movie or the show as stored after
/// the refresh.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(untagged)]
pub enum RefreshedDocument {
    /// A refreshed movie.
    Movie(MovieDocument),
    /// A refreshed show, with its whole tree.
    Show(ShowDocument),
}

impl From<&viewing_app::domain::metadata::Fetched> for RefreshedDocument {
    fn from(f: &viewing_app::domain::metadata::Fetched) -> Self {
        use viewing_app::domain::metadata::Fetched;
        match f {
            Fetched::Movie(m) => Self::Movie(MovieDocument::from(m)),
            Fetched::Show(s) => Self::Show(ShowDocument::from(s)),
        }
    }
}

/// `{ "movies": [...], "shows": [...] }`, the file `viewing-server catalog import` reads: its
/// schema for the OpenAPI document. The file is parsed by [`viewing_app::catalog_file::parse`].
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct CatalogFile {
    #[serde(default)]
    pub movies: Vec<MovieDocument>,
    #[serde(default)]
    pub shows: Vec<ShowDocument>,
}

/// The app's check of a catalog entry, its problems as one 422.
fn refused(problems: Vec<FieldProblem>) -> ApiError {
    ApiError::Validation(
        problems
            .into_iter()
            .map(|p| FieldError {
                field: p.field,
                message: p.message,
            })
            .collect(),
    )
}

impl MovieBody {
    /// The domain's movie, checked by the app's catalog rules (the same as the import file's).
    pub fn try_into_domain(self, id: Uuid) -> Result<Movie, ApiError> {
        MovieEntry {
            id,
            title: self.title,
            runtime_minutes: self.runtime_minutes,
            genres: self.genres,
            release_date: self.release_date,
            external_ids: self.external_ids.into(),
        }
        .into_movie()
        .map_err(refused)
    }
}

impl ShowBody {
    /// The domain's show, checked by the app's catalog rules (the same as the import file's).
    pub fn try_into_domain(self, id: Uuid) -> Result<Show, ApiError> {
        ShowEntry {
            id,
            title: self.title,
            status: self.status.into(),
            genres: self.genres,
            seasons: self
                .seasons
                .into_iter()
                .map(|season| SeasonEntry {
                    season_id: season.season_id,
                    season_number: season.season_number,
                    episodes: season
                        .episodes
                        .into_iter()
                        .map(|e| EpisodeEntry {
                            episode_id: e.episode_id,
                            episode_number: e.episode_number,
                            title: e.title,
                            runtime_minutes: e.runtime_minutes,
                            air_date: e.air_date,
                            external_ids: e.external_ids.into(),
                        })
                        .collect(),
                    external_ids: season.external_ids.into(),
                })
                .collect(),
            external_ids: self.external_ids.into(),
        }
        .into_show()
        .map_err(refused)
    }
}

impl From<&Movie> for MovieDocument {
    fn from(m: &Movie) -> Self {
        Self {
            id: m.id.as_uuid(),
            body: MovieBody {
                title: m.title.as_str().to_owned(),
                runtime_minutes: i64::from(m.runtime.get()),
                genres: m.genres.iter().map(|g| g.as_str().to_owned()).collect(),
                release_date: m.release_date,
                external_ids: (&m.external_ids).into(),
            },
        }
    }
}

impl From<&Show> for ShowDocument {
    fn from(s: &Show) -> Self {
        Self {
            id: s.id.as_uuid(),
            body: ShowBody {
                title: s.title.as_str().to_owned(),
                status: s.status.into(),
                genres: s.genres.iter().map(|g| g.as_str().to_owned()).collect(),
                seasons: s
                    .seasons()
                    .iter()
                    .map(|season| SeasonBody {
                        season_id: season.id.as_uuid(),
                        season_number: season.number,
                        episodes: season
                            .episodes
                            .iter()
                            .map(|e| EpisodeBody {
                                episode_id: e.id.as_uuid(),
                                episode_number: e.number,
                                title: e.title.as_str().to_owned(),
                                runtime_minutes: i64::from(e.runtime.get()),
                                air_date: e.air_date,
                                external_ids: (&e.external_ids).into(),
                            })
                            .collect(),
                        external_ids: (&season.external_ids).into(),
                    })
                    .collect(),
                external_ids: (&s.external_ids).into(),
            },
        }
    }
}

/// The query of `GET /api/catalog/lookup` (SPEC §10): `provider` with `id`, or with `show`,
/// `season` and `episode` for an episode its show's id and numbers name.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LookupQueryDto {
    /// `tmdb`, `imdb`, `tvdb`, `trakt` or `tvmaze`.
    #[param(inline, value_type = String, pattern = "^(tmdb|imdb|tvdb|trakt|tvmaze)$")]
    pub provider: Option<String>,
    /// The item's id at the provider (`tt0133093`, `603`).
    #[param(pattern = "^(tt[0-9]{5,10}|[0-9]{1,12})$")]
    pub id: Option<String>,
    /// The show's id at the provider, with `season` and `episode`.
    #[param(pattern = "^(tt[0-9]{5,10}|[0-9]{1,12})$")]
    pub show: Option<String>,
    /// A season number.
    #[param(minimum = 0, maximum = 1000000)]
    pub season: Option<u32>,
    /// An episode number.
    #[param(minimum = 0, maximum = 1000000)]
    pub episode: Option<u32>,
    /// With `id`: only a `movie` or only a `show`. TMDB numbers movies and shows apart, so a
    /// lookup by a `tmdb` id the catalog lacks is fetched from TMDB only when this says which.
    #[serde(rename = "type")]
    #[param(rename = "type", inline, value_type = Option<String>, pattern = "^(movie|show)$")]
    pub kind: Option<String>,
}

impl LookupQueryDto {
    /// The app's query; 400 naming the parameter when one is missing or of the wrong shape.
    pub fn parse(&self) -> Result<LookupQuery, ApiError> {
        let bad = |m: &str| ApiError::Malformed(m.to_owned());
        let name = self
            .provider
            .as_deref()
            .ok_or_else(|| bad("provider: required (tmdb, imdb, tvdb, trakt or tvmaze)"))?;
        let provider = Provider::parse(name)
            .ok_or_else(|| bad("provider: one of tmdb, imdb, tvdb, trakt, tvmaze"))?;
        let checked = |param: &str, v: &str| {
            if provider.accepts(v) {
                Ok(v.to_owned())
            } else {
                Err(ApiError::Malformed(format!("{param}: not a {provider} id")))
            }
        };
        let kind = match self.kind.as_deref() {
            None => None,
            Some("movie") => Some(ItemKind::Movie),
            Some("show") => Some(ItemKind::Show),
            Some(_) => return Err(bad("type: movie or show")),
        };
        match (&self.id, &self.show, self.season, self.episode) {
            (Some(id), None, None, None) => Ok(LookupQuery::Id {
                provider,
                value: checked("id", id)?,
                kind,
            }),
            (None, Some(_), Some(_), Some(_)) if kind.is_some() => Err(bad(
                "type: only with id (show, season and episode name an episode)",
            )),
            (None, Some(show), Some(season), Some(episode)) => Ok(LookupQuery::Episode {
                provider,
                show: checked("show", show)?,
                season,
                episode,
            }),
            _ => Err(bad("give either id, or show with season and episode")),
        }
    }
}

/// The query of `GET /api/catalog/search` (SPEC §10).
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQueryDto {
    /// The start of a title (`matrix`, `The Matrix`, `Amélie`); case, accents, punctuation and
    /// a leading "the", "a" or "an" are ignored. 1 to 200 characters.
    #[param(min_length = 1, max_length = 200)]
    pub q: Option<String>,
    /// Only `movie` or only `show`.
    #[serde(rename = "type")]
    #[param(rename = "type", inline, value_type = Option<String>, pattern = "^(movie|show)$")]
    pub kind: Option<String>,
    /// Only movies released this year (shows are not narrowed).
    #[param(minimum = 1800, maximum = 9999)]
    pub year: Option<i32>,
}

/// A search checked: text, kind, year.
pub type SearchQuery = (String, Option<ItemKind>, Option<i32>);

impl SearchQueryDto {
    /// The search; 400 naming the parameter that is missing or of the wrong shape.
    pub fn parse(&self) -> Result<SearchQuery, ApiError> {
        let bad = |m: &str| ApiError::Malformed(m.to_owned());
        let q = self
            .q
            .as_deref()
            .filter(|q| !q.trim().is_empty())
            .ok_or_else(|| bad("q: required, the start of a title"))?;
        if q.chars().count() > 200 {
            return Err(bad("q: at most 200 characters"));
        }
        let kind = match self.kind.as_deref() {
            None => None,
            Some("movie") => Some(ItemKind::Movie),
            Some("show") => Some(ItemKind::Show),
            Some(_) => return Err(bad("type: movie or show")),
        };
        if self.year.is_some_and(|y| !(1800..=9999).contains(&y)) {
            return Err(bad("year: 1800 to 9999"));
        }
        Ok((q.to_owned(), kind, self.year))
    }
}

/// A movie or show a title search found.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SearchHitDto {
    /// `movie` or `show`.
    #[serde(rename = "type")]
    #[schema(pattern = "^(movie|show)$")]
    pub kind: String,
    /// Its id in this catalog.
    pub id: Uuid,
    pub title: String,
    /// A movie's release year.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub year: Option<i32>,
    /// How other services name it.
    #[serde(default, skip_serializing_if = "ExternalIdsDto::is_empty")]
    pub external_ids: ExternalIdsDto,
}

/// `GET /api/catalog/search`: the best matches first, at most 20.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SearchResultsDto {
    pub items: Vec<SearchHitDto>,
}

impl From<&[viewing_app::domain::search::TitleHit]> for SearchResultsDto {
    fn from(hits: &[viewing_app::domain::search::TitleHit]) -> Self {
        Self {
            items: hits
                .iter()
                .map(|h| SearchHitDto {
                    kind: h.kind.as_str().to_owned(),
                    id: h.id,
                    title: h.title.clone(),
                    year: h.year,
                    external_ids: (&h.external_ids).into(),
                })
                .collect(),
        }
    }
}

/// What an external id names.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LookupDto {
    /// `movie`, `show`, `season` or `episode`.
    #[serde(rename = "type")]
    #[schema(pattern = "^(movie|show|season|episode)$")]
    pub kind: String,
    /// Its id in this catalog.
    pub id: Uuid,
    /// Its title (a season's is its show's).
    pub title: String,
    /// The show of a season or an episode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub show_id: Option<Uuid>,
    /// The season number of a season or an episode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub season_number: Option<u32>,
    /// The episode number of an episode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub episode_number: Option<u32>,
}

impl From<&LookupResult> for LookupDto {
    fn from(r: &LookupResult) -> Self {
        Self {
            kind: r.kind.as_str().to_owned(),
            id: r.id,
            title: r.title.clone(),
            show_id: r.show_id.map(|s| s.as_uuid()),
            season_number: r.season_number,
            episode_number: r.episode_number,
        }
    }
}
