//! Catalog bodies (SPEC §4). The documents with ids are also the entries of the
//! `viewing-server catalog import` file.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use viewing_app::domain::values::{Genre, Minutes, Title, calendar_date};
use viewing_app::domain::{
    Episode, EpisodeId, Movie, MovieId, Season, SeasonId, Show, ShowId, ShowStatus,
};

use crate::error::ApiError;
use crate::sanitize::Checker;

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

/// `{ "movies": [...], "shows": [...] }`, the file `viewing-server catalog import` reads.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct CatalogFile {
    #[serde(default)]
    pub movies: Vec<MovieDocument>,
    #[serde(default)]
    pub shows: Vec<ShowDocument>,
}

fn genres(c: &mut Checker, raw: &[String]) -> Vec<Genre> {
    let mut out: Vec<Genre> = Vec::new();
    for (i, g) in raw.iter().enumerate() {
        if let Some(g) = c.text(&format!("genres[{i}]"), Some(g), Genre::parse)
            && !out
                .iter()
                .any(|o| o.as_str().eq_ignore_ascii_case(g.as_str()))
        {
            out.push(g);
        }
    }
    out
}

/// An optional calendar date in the range every store keeps.
fn date(c: &mut Checker, field: &'static str, d: Option<NaiveDate>) -> Option<Option<NaiveDate>> {
    match d {
        None => Some(None),
        Some(d) => c.check(field, calendar_date(field, d)).map(Some),
    }
}

fn runtime(c: &mut Checker, field: &str, minutes: i64) -> Option<Minutes> {
    c.check(field, Minutes::new("runtimeMinutes", minutes))
}

impl MovieBody {
    pub fn try_into_domain(self, id: Uuid) -> Result<Movie, ApiError> {
        let mut c = Checker::new();
        let title = c.required_text("title", &self.title, Title::parse);
        let runtime = runtime(&mut c, "runtimeMinutes", self.runtime_minutes);
        let genres = genres(&mut c, &self.genres);
        let release_date = date(&mut c, "releaseDate", self.release_date);
        c.finish(|| {
            Some(Movie {
                id: MovieId::from(id),
                title: title?,
                runtime: runtime?,
                genres,
                release_date: release_date?,
            })
        })
    }
}

impl EpisodeBody {
    fn check(self, c: &mut Checker) -> Option<Episode> {
        let title = c.required_text("title", &self.title, Title::parse);
        let runtime = runtime(c, "runtimeMinutes", self.runtime_minutes);
        let air_date = date(c, "airDate", self.air_date);
        Some(Episode {
            id: EpisodeId::from(self.episode_id),
            number: self.episode_number,
            title: title?,
            runtime: runtime?,
            air_date: air_date?,
        })
    }
}

impl ShowBody {
    pub fn try_into_domain(self, id: Uuid) -> Result<Show, ApiError> {
        let mut c = Checker::new();
        let title = c.required_text("title", &self.title, Title::parse);
        let genres = genres(&mut c, &self.genres);
        let mut seasons = Vec::with_capacity(self.seasons.len());
        for (si, season) in self.seasons.into_iter().enumerate() {
            let mut episodes = Vec::with_capacity(season.episodes.len());
            for (ei, episode) in season.episodes.into_iter().enumerate() {
                let mut ec = Checker::new();
                let e = episode.check(&mut ec);
                c.absorb(&format!("seasons[{si}].episodes[{ei}]."), ec);
                episodes.extend(e);
            }
            seasons.push(Season {
                id: SeasonId::from(season.season_id),
                number: season.season_number,
                episodes,
            });
        }
        let Some(title) = title.filter(|_| c.is_ok()) else {
            return c.finish(|| None);
        };
        Show::new(ShowId::from(id), title, self.status.into(), genres, seasons)
            .map_err(ApiError::validation)
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
                            })
                            .collect(),
                    })
                    .collect(),
            },
        }
    }
}
