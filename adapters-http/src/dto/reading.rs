//! Reading (SPEC §6): history, progress, up next, statistics.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use viewing_app::domain::rules::progress::{ProgressStatus, ProgressView};
use viewing_app::history::{HistoryItem, HistoryPage, HistoryParams};
use viewing_app::statistics::{Breakdown, Period, Statistics, StatisticsParams};

use super::viewing::ViewingRecordDto;

/// The query of `GET /api/viewing/history`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// An RFC 3339 instant, or a `YYYY-MM-DD` date (inclusive, in `tz`); 1900 to 9999.
    pub start_date: Option<String>,
    /// An RFC 3339 instant, or a `YYYY-MM-DD` date (inclusive, in `tz`); 1900 to 9999.
    pub end_date: Option<String>,
    /// `movie` or `episode`.
    #[param(inline, value_type = Option<super::viewing::ContentTypeDto>)]
    pub content_type: Option<String>,
    /// Compared case-insensitively.
    pub platform: Option<String>,
    /// 1-based page (default 1).
    #[param(minimum = 1, maximum = 2147483647)]
    pub page: Option<u32>,
    /// 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// IANA time zone (default UTC).
    pub tz: Option<String>,
    /// Opaque keyset cursor from a previous page's `nextCursor`.
    pub cursor: Option<String>,
}

impl From<HistoryQuery> for HistoryParams {
    fn from(q: HistoryQuery) -> Self {
        Self {
            start_date: q.start_date,
            end_date: q.end_date,
            content_type: q.content_type,
            platform: q.platform,
            page: q.page,
            limit: q.limit,
            tz: q.tz,
            cursor: q.cursor,
        }
    }
}

/// A history line: the record with the titles a client shows with it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HistoryItemDto {
    #[serde(flatten)]
    pub record: ViewingRecordDto,
    /// The movie's or the episode's title.
    pub title: Option<String>,
    /// The show's title (episodes only).
    pub show_title: Option<String>,
}

impl From<&HistoryItem> for HistoryItemDto {
    fn from(i: &HistoryItem) -> Self {
        Self {
            record: ViewingRecordDto::from(&i.record),
            title: i.title.clone(),
            show_title: i.show_title.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HistoryPageDto {
    /// Newest first.
    pub items: Vec<HistoryItemDto>,
    pub page: u32,
    pub limit: u32,
    pub total_items: u64,
    pub total_pages: u64,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

impl From<&HistoryPage> for HistoryPageDto {
    fn from(p: &HistoryPage) -> Self {
        Self {
            items: p.items.iter().map(HistoryItemDto::from).collect(),
            page: p.page,
            limit: p.limit,
            total_items: p.total_items,
            total_pages: p.total_pages,
            next_cursor: p.next_cursor.clone(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProgressStatusDto {
    NotStarted,
    Watching,
    CaughtUp,
    Completed,
    Dropped,
    Stalled,
}

impl From<ProgressStatus> for ProgressStatusDto {
    fn from(s: ProgressStatus) -> Self {
        match s {
            ProgressStatus::NotStarted => Self::NotStarted,
            ProgressStatus::Watching => Self::Watching,
            ProgressStatus::CaughtUp => Self::CaughtUp,
            ProgressStatus::Completed => Self::Completed,
            ProgressStatus::Dropped => Self::Dropped,
            ProgressStatus::Stalled => Self::Stalled,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LastWatchedDto {
    pub episode_id: Uuid,
    pub season_number: u32,
    pub episode_number: u32,
    pub watch_date: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NextEpisodeDto {
    pub episode_id: Uuid,
    pub season_number: u32,
    pub episode_number: u32,
    pub title: String,
    pub air_date: Option<NaiveDate>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SeasonProgressDto {
    pub season_number: u32,
    pub episodes_watched: u32,
    pub total_episodes: u32,
    pub completed: bool,
    pub completion_date: Option<DateTime<Utc>>,
}

/// A user's progress in one show (aired regular episodes only).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProgressDto {
    pub show_id: Uuid,
    pub title: String,
    pub status: ProgressStatusDto,
    pub episodes_watched: u32,
    pub total_episodes: u32,
    /// 0–100, two decimals.
    pub completion_percent: f64,
    pub completed_seasons: u32,
    pub last_watched: Option<LastWatchedDto>,
    pub next_episode: Option<NextEpisodeDto>,
    pub seasons: Vec<SeasonProgressDto>,
    pub last_activity_at: Option<DateTime<Utc>>,
    pub total_viewing_minutes: u64,
}

impl From<&ProgressView> for ProgressDto {
    fn from(v: &ProgressView) -> Self {
        Self {
            show_id: v.show_id.as_uuid(),
            title: v.title.clone(),
            status: v.status.into(),
            episodes_watched: v.episodes_watched,
            total_episodes: v.total_episodes,
            completion_percent: v.completion_percent.value(),
            completed_seasons: v.completed_seasons,
            last_watched: v.last_watched.as_ref().map(|l| LastWatchedDto {
                episode_id: l.episode_id.as_uuid(),
                season_number: l.season_number,
                episode_number: l.episode_number,
                watch_date: l.watch_date,
            }),
            next_episode: v.next_episode.as_ref().map(|n| NextEpisodeDto {
                episode_id: n.episode_id.as_uuid(),
                season_number: n.season_number,
                episode_number: n.episode_number,
                title: n.title.clone(),
                air_date: n.air_date,
            }),
            seasons: v
                .seasons
                .iter()
                .map(|s| SeasonProgressDto {
                    season_number: s.season_number,
                    episodes_watched: s.episodes_watched,
                    total_episodes: s.total_episodes,
                    completed: s.completed,
                    completion_date: s.completion_date,
                })
                .collect(),
            last_activity_at: v.last_activity_at,
            total_viewing_minutes: v.total_viewing_minutes,
        }
    }
}

/// `GET /api/viewing/progress`: shows in progress, most recent activity first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UpNextDto {
    pub items: Vec<ProgressDto>,
}

/// The query of `GET /api/viewing/statistics`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatisticsQuery {
    /// `week` (ISO), `month`, `year` or `all` (default `all`).
    #[param(inline, value_type = Option<PeriodDto>)]
    pub period: Option<String>,
    /// IANA time zone (default UTC).
    pub tz: Option<String>,
    /// `YYYY-MM-DD` inside the period (default today in `tz`), 1900-01-01 to 9999-12-31.
    #[param(value_type = Option<chrono::NaiveDate>)]
    pub date: Option<String>,
}

impl From<StatisticsQuery> for StatisticsParams {
    fn from(q: StatisticsQuery) -> Self {
        Self {
            period: q.period,
            tz: q.tz,
            date: q.date,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PeriodDto {
    Week,
    Month,
    Year,
    All,
}

impl From<Period> for PeriodDto {
    fn from(p: Period) -> Self {
        match p {
            Period::Week => Self::Week,
            Period::Month => Self::Month,
            Period::Year => Self::Year,
            Period::All => Self::All,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TypeBreakdown {
    /// `movie` or `episode`.
    #[serde(rename = "type")]
    pub content_type: String,
    pub count: u64,
    pub minutes: u64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GenreBreakdown {
    pub genre: String,
    pub count: u64,
    pub minutes: u64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlatformBreakdown {
    /// `unknown` for records without a platform.
    pub platform: String,
    pub count: u64,
    pub minutes: u64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatisticsDto {
    pub period: PeriodDto,
    /// First day of the period (`null` for `all`).
    pub from: Option<NaiveDate>,
    /// Last day of the period, inclusive.
    pub to: Option<NaiveDate>,
    pub total_watched: u64,
    pub movies: u64,
    pub episodes: u64,
    pub rewatches: u64,
    pub total_minutes: u64,
    pub total_hours: f64,
    pub by_type: Vec<TypeBreakdown>,
    pub by_genre: Vec<GenreBreakdown>,
    pub by_platform: Vec<PlatformBreakdown>,
    pub shows_completed: u64,
    pub seasons_completed: u64,
    pub abandoned: u64,
    pub binge_sessions: u64,
    pub longest_binge_episodes: u64,
}

fn rows<T>(b: &[Breakdown], make: impl Fn(String, u64, u64) -> T) -> Vec<T> {
    b.iter()
        .map(|r| make(r.key.clone(), r.count, r.minutes))
        .collect()
}

impl From<&Statistics> for StatisticsDto {
    fn from(s: &Statistics) -> Self {
        Self {
            period: s.period.into(),
            from: s.from,
            to: s.to,
            total_watched: s.total_watched,
            movies: s.movies,
            episodes: s.episodes,
            rewatches: s.rewatches,
            total_minutes: s.total_minutes,
            total_hours: s.total_hours,
            by_type: rows(&s.by_type, |content_type, count, minutes| TypeBreakdown {
                content_type,
                count,
                minutes,
            }),
            by_genre: rows(&s.by_genre, |genre, count, minutes| GenreBreakdown {
                genre,
                count,
                minutes,
            }),
            by_platform: rows(&s.by_platform, |platform, count, minutes| {
                PlatformBreakdown {
                    platform,
                    count,
                    minutes,
                }
            }),
            shows_completed: s.shows_completed,
            seasons_completed: s.seasons_completed,
            abandoned: s.abandoned,
            binge_sessions: s.binge_sessions,
            longest_binge_episodes: s.longest_binge_episodes,
        }
    }
}
