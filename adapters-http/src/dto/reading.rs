//! Reading (SPEC §6): history, progress, up next, statistics.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use viewing_app::domain::ContentType;
use viewing_app::domain::ports::HistoryFilter;
use viewing_app::domain::rules::progress::{ProgressStatus, ProgressView};
use viewing_app::domain::values;
use viewing_app::history::{
    HistoryItem, HistoryPage, HistoryPageRequest, Tz, decode_cursor, end_of_day, just_after,
    start_of_day,
};
use viewing_app::statistics::{Breakdown, Period, Statistics, StatisticsRequest};

use crate::error::ApiError;

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

impl HistoryQuery {
    /// The typed filter (dates half-open, `[startDate, endDate + 1 day)` or up to just after
    /// an `endDate` instant) and page request; a bad value is 400 naming its parameter. An empty
    /// `platform` is absent; an empty formatted value is refused like any other bad one.
    pub fn parse(&self) -> Result<(HistoryFilter, HistoryPageRequest), ApiError> {
        let tz = time_zone(self.tz.as_deref())?;
        let from = self
            .start_date
            .as_deref()
            .map(|raw| match bound("startDate", raw)? {
                Bound::Instant(t) => Ok(t),
                Bound::Day(d) => day_instant("startDate", start_of_day(d, tz)),
            })
            .transpose()?;
        let to = self
            .end_date
            .as_deref()
            .map(|raw| match bound("endDate", raw)? {
                Bound::Instant(t) => Ok(just_after(t)),
                Bound::Day(d) => day_instant("endDate", end_of_day(d, tz)),
            })
            .transpose()?;
        let content_type = self
            .content_type
            .as_deref()
            .map(|c| {
                ContentType::parse(c).ok_or_else(|| {
                    ApiError::Malformed("contentType: expected movie or episode".to_owned())
                })
            })
            .transpose()?;
        let cursor = self.cursor.as_deref().map(decode_cursor).transpose()?;
        let filter = HistoryFilter {
            from,
            to,
            content_type,
            platform: self.platform.clone().filter(|p| !p.trim().is_empty()),
        };
        Ok((
            filter,
            HistoryPageRequest::new(self.page, self.limit, cursor)?,
        ))
    }
}

/// An IANA time zone name (default UTC).
fn time_zone(raw: Option<&str>) -> Result<Tz, ApiError> {
    match raw {
        None => Ok(Tz::UTC),
        Some(name) => name
            .parse::<Tz>()
            .map_err(|_| ApiError::Malformed(format!("tz: unknown time zone {name:?}"))),
    }
}

/// A history bound as sent: an instant, or a whole day in the query's zone.
enum Bound {
    Instant(DateTime<Utc>),
    Day(NaiveDate),
}

/// An RFC 3339 instant or a `YYYY-MM-DD` date, between 1900 and 9999.
fn bound(field: &str, raw: &str) -> Result<Bound, ApiError> {
    let out_of_range =
        |e: values::ValidationError| ApiError::Malformed(format!("{field}: {}", e.message));
    if let Ok(instant) = DateTime::parse_from_rfc3339(raw) {
        return values::instant("date", instant.with_timezone(&Utc))
            .map(Bound::Instant)
            .map_err(out_of_range);
    }
    let day = NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| {
        ApiError::Malformed(format!(
            "{field}: expected an RFC 3339 instant or YYYY-MM-DD"
        ))
    })?;
    values::instant("date", day.and_time(NaiveTime::MIN).and_utc()).map_err(out_of_range)?;
    Ok(Bound::Day(day))
}

fn day_instant(field: &str, t: Option<DateTime<Utc>>) -> Result<DateTime<Utc>, ApiError> {
    t.ok_or_else(|| ApiError::Malformed(format!("{field}: date out of range")))
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
    /// The first unwatched aired regular episode after `lastWatched`, in watching order.
    pub next_episode: Option<NextEpisodeDto>,
    /// Unwatched aired regular episodes before `lastWatched`: what imported, played or deleted
    /// plays skipped (SPEC §11). Empty when every earlier episode is watched.
    pub gaps: Vec<GapDto>,
    pub seasons: Vec<SeasonProgressDto>,
    pub last_activity_at: Option<DateTime<Utc>>,
    pub total_viewing_minutes: u64,
    /// The rewatch pass, 1 before any reset (SPEC §11). The counts, `lastWatched`,
    /// `nextEpisode`, `gaps` and `seasons` are of this pass's plays only.
    pub pass: u32,
    /// When the pass started; `null` for the first pass.
    pub reset_at: Option<DateTime<Utc>>,
}

/// An unwatched episode before the last watched one.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GapDto {
    pub season_number: u32,
    pub episode_number: u32,
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
            gaps: v
                .gaps
                .iter()
                .map(|&(season_number, episode_number)| GapDto {
                    season_number,
                    episode_number,
                })
                .collect(),
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
            pass: v.pass,
            reset_at: v.reset_at,
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

impl StatisticsQuery {
    /// The typed request; a bad value is 400 naming its parameter.
    pub fn parse(&self) -> Result<StatisticsRequest, ApiError> {
        let period = match self.period.as_deref() {
            None => Period::All,
            Some(p) => Period::parse(p).ok_or_else(|| {
                ApiError::Malformed("period: expected week, month, year or all".to_owned())
            })?,
        };
        let tz = time_zone(self.tz.as_deref())?;
        let date = self
            .date
            .as_deref()
            .map(|raw| {
                let day = NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                    .map_err(|_| ApiError::Malformed("date: expected YYYY-MM-DD".to_owned()))?;
                values::instant("date", day.and_time(NaiveTime::MIN).and_utc())
                    .map(|_| day)
                    .map_err(|e| ApiError::Malformed(format!("date: {}", e.message)))
            })
            .transpose()?;
        Ok(StatisticsRequest { period, tz, date })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn history(q: HistoryQuery) -> Result<(HistoryFilter, HistoryPageRequest), String> {
        q.parse().map_err(|e| match e {
            ApiError::Malformed(m) => m,
            other => format!("not a 400: {other:?}"),
        })
    }

    fn statistics(q: StatisticsQuery) -> Result<StatisticsRequest, String> {
        q.parse().map_err(|e| match e {
            ApiError::Malformed(m) => m,
            other => format!("not a 400: {other:?}"),
        })
    }

    fn utc(s: &str) -> Option<DateTime<Utc>> {
        DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    }

    /// The 400's message names the parameter.
    fn refused(r: Result<impl std::fmt::Debug, String>, param: &str) {
        match r {
            Err(m) => assert!(m.starts_with(&format!("{param}: ")), "{m}"),
            Ok(v) => panic!("{param} accepted: {v:?}"),
        }
    }

    #[test]
    fn no_parameters_is_everything_page_one() {
        let (filter, page) = history(HistoryQuery::default()).unwrap_or_default();
        assert_eq!(filter, HistoryFilter::default());
        assert_eq!(page, HistoryPageRequest::default());
    }

    #[test]
    fn start_date_is_an_inclusive_start() {
        let q = |v: &str| HistoryQuery {
            start_date: Some(v.into()),
            tz: Some("Europe/Paris".into()),
            ..HistoryQuery::default()
        };
        let from = |v| history(q(v)).ok().and_then(|(f, _)| f.from);
        assert_eq!(from("2026-07-01"), utc("2026-06-30T22:00:00Z"));
        assert_eq!(
            from("2026-07-01T10:00:00.1234567+02:00"),
            utc("2026-07-01T08:00:00.123456Z")
        );
        refused(history(q("yesterday")), "startDate");
        refused(history(q("")), "startDate");
        refused(history(q("1899-12-31")), "startDate");
        refused(history(q("1899-12-31T23:59:59Z")), "startDate");
    }

    #[test]
    fn end_date_becomes_an_exclusive_end() {
        let q = |v: &str| HistoryQuery {
            end_date: Some(v.into()),
            tz: Some("Europe/Paris".into()),
            ..HistoryQuery::default()
        };
        let to = |v| history(q(v)).ok().and_then(|(f, _)| f.to);
        // The whole day in the zone: up to the next local midnight.
        assert_eq!(to("2026-07-01"), utc("2026-07-01T22:00:00Z"));
        // An instant is the last one kept.
        assert_eq!(
            to("2026-07-01T10:00:00Z"),
            utc("2026-07-01T10:00:00.000001Z")
        );
        assert_eq!(to("9999-12-31"), utc("9999-12-31T23:00:00Z"));
        refused(history(q("07/01/2026")), "endDate");
        refused(history(q(" ")), "endDate");
        refused(history(q("10000-01-01T00:00:00Z")), "endDate");
    }

    #[test]
    fn an_inverted_range_is_accepted() {
        let (filter, _) = history(HistoryQuery {
            start_date: Some("2026-07-02".into()),
            end_date: Some("2026-07-01".into()),
            ..HistoryQuery::default()
        })
        .unwrap_or_default();
        assert!(filter.from >= filter.to, "an empty range: {filter:?}");
    }

    #[test]
    fn content_type_is_movie_or_episode() {
        let q = |v: &str| HistoryQuery {
            content_type: Some(v.into()),
            ..HistoryQuery::default()
        };
        let kind = |v| history(q(v)).ok().and_then(|(f, _)| f.content_type);
        assert_eq!(kind("movie"), Some(ContentType::Movie));
        assert_eq!(kind("episode"), Some(ContentType::Episode));
        refused(history(q("series")), "contentType");
        refused(history(q("")), "contentType");
    }

    #[test]
    fn an_empty_platform_is_absent() {
        let q = |v: &str| HistoryQuery {
            platform: Some(v.into()),
            ..HistoryQuery::default()
        };
        let platform = |v| history(q(v)).ok().map(|(f, _)| f.platform);
        assert_eq!(platform("Netflix"), Some(Some("Netflix".to_owned())));
        assert_eq!(platform(""), Some(None));
        assert_eq!(platform("  "), Some(None));
    }

    #[test]
    fn page_and_limit_are_bounded() {
        let q = |page: Option<u32>, limit: Option<u32>| HistoryQuery {
            page,
            limit,
            ..HistoryQuery::default()
        };
        let (_, p) = history(q(Some(3), Some(100))).unwrap_or_default();
        assert_eq!((p.page(), p.limit()), (3, 100));
        refused(history(q(Some(0), None)), "page");
        refused(history(q(Some(i32::MAX as u32 + 1), None)), "page");
        refused(history(q(None, Some(0))), "limit");
        refused(history(q(None, Some(101))), "limit");
    }

    #[test]
    fn time_zones_are_iana_names() {
        let q = |v: &str| HistoryQuery {
            start_date: Some("2026-01-01".into()),
            tz: Some(v.into()),
            ..HistoryQuery::default()
        };
        let from = |v| history(q(v)).ok().and_then(|(f, _)| f.from);
        assert_eq!(from("Asia/Kathmandu"), utc("2025-12-31T18:15:00Z"));
        refused(history(q("Mars/Olympus")), "tz");
        refused(history(q("")), "tz");
        refused(
            statistics(StatisticsQuery {
                tz: Some("".into()),
                ..StatisticsQuery::default()
            }),
            "tz",
        );
    }

    #[test]
    fn cursors_are_only_those_the_service_issued() {
        let q = |v: &str| HistoryQuery {
            cursor: Some(v.into()),
            ..HistoryQuery::default()
        };
        let good = "18c5a8b9e1f40.0190f0c4a0b07c3d8e2a6f1b9c4d5e6f";
        let cursor = history(q(good)).ok().and_then(|(_, p)| p.cursor());
        assert_eq!(
            cursor.map(|c| c.watch_date.timestamp_micros()),
            i64::from_str_radix("18c5a8b9e1f40", 16).ok()
        );
        refused(history(q("zz.1")), "cursor");
        refused(history(q("")), "cursor");
    }

    #[test]
    fn statistics_period_and_date() {
        let q = |period: Option<&str>, date: Option<&str>| StatisticsQuery {
            period: period.map(Into::into),
            tz: None,
            date: date.map(Into::into),
        };
        assert_eq!(
            statistics(q(None, None)).ok(),
            Some(StatisticsRequest::default())
        );
        let r = statistics(q(Some("week"), Some("2026-11-26"))).ok();
        assert_eq!(r.map(|r| r.period), Some(Period::Week));
        assert_eq!(
            r.and_then(|r| r.date),
            NaiveDate::from_ymd_opt(2026, 11, 26)
        );
        refused(statistics(q(Some("decade"), None)), "period");
        refused(statistics(q(Some(""), None)), "period");
        refused(statistics(q(None, Some("26/11/2026"))), "date");
        refused(statistics(q(None, Some(""))), "date");
        refused(statistics(q(None, Some("1899-12-31"))), "date");
    }
}
