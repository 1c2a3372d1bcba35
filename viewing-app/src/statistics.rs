//! Viewing statistics for a calendar period in the user's time zone (SPEC §6).
//!
//! This version aggregates from the records at read time; the event-fed buckets of SPEC §7
//! replace the aggregation without changing this query contract.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, Utc};
use serde::Serialize;
use viewing_domain::handler_ports::{EventStore, StatisticsRepository};
use viewing_domain::ports::{
    AbandonRepository, CatalogRepository, HistoryCursor, HistoryFilter, HistoryPaging,
    ShowProgressRepository, Store, ViewingRecordRepository,
};
use viewing_domain::stats::{Dimension, StatsDelta, cover, cover_everything};
use viewing_domain::{BingeSessionId, Movie, MovieId, Show, ShowId, UserId, Watched};

use crate::error::{AppError, AppResult};
use crate::history::{local_midnight, parse_tz};
use crate::service::ViewingService;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Period {
    Week,
    Month,
    Year,
    All,
}

impl Period {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "week" => Some(Period::Week),
            "month" => Some(Period::Month),
            "year" => Some(Period::Year),
            "all" => Some(Period::All),
            _ => None,
        }
    }

    /// The calendar period containing `date`: ISO week (Monday first), month or year; first and
    /// last day inclusive. `None` for `all`.
    pub fn days(self, date: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
        match self {
            Period::Week => {
                let start = date - Duration::days(i64::from(date.weekday().num_days_from_monday()));
                Some((start, start + Duration::days(6)))
            }
            Period::Month => {
                let start = date.with_day(1)?;
                Some((start, start.checked_add_months(Months::new(1))?.pred_opt()?))
            }
            Period::Year => {
                let start = NaiveDate::from_ymd_opt(date.year(), 1, 1)?;
                Some((start, NaiveDate::from_ymd_opt(date.year(), 12, 31)?))
            }
            Period::All => None,
        }
    }
}

/// The query string of `GET /api/viewing/statistics`, as received.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatisticsParams {
    pub period: Option<String>,
    pub tz: Option<String>,
    pub date: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Breakdown {
    /// The type, genre or platform.
    pub key: String,
    pub count: u64,
    pub minutes: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Statistics {
    pub period: Period,
    /// First day of the period in the requested zone (`None` for `all`).
    pub from: Option<NaiveDate>,
    /// Last day of the period, inclusive.
    pub to: Option<NaiveDate>,
    pub total_watched: u64,
    pub movies: u64,
    pub episodes: u64,
    pub rewatches: u64,
    pub total_minutes: u64,
    pub total_hours: f64,
    pub by_type: Vec<Breakdown>,
    pub by_genre: Vec<Breakdown>,
    pub by_platform: Vec<Breakdown>,
    pub shows_completed: u64,
    pub seasons_completed: u64,
    pub abandoned: u64,
    pub binge_sessions: u64,
    pub longest_binge_episodes: u64,
}

/// Platform name used when a record has none.
pub const UNKNOWN_PLATFORM: &str = "unknown";

/// Resolved query: period, its days, and its instants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatisticsRange {
    pub period: Period,
    pub days: Option<(NaiveDate, NaiveDate)>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

impl StatisticsParams {
    pub fn resolve(&self, now: DateTime<Utc>) -> AppResult<StatisticsRange> {
        let period = match self.period.as_deref() {
            None => Period::All,
            Some(p) => Period::parse(p).ok_or_else(|| {
                AppError::Malformed("period: expected week, month, year or all".to_owned())
            })?,
        };
        let tz = parse_tz(self.tz.as_deref())?;
        let date = match self.date.as_deref() {
            None => now.with_timezone(&tz).date_naive(),
            Some(d) => NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .map_err(|_| AppError::Malformed("date: expected YYYY-MM-DD".to_owned()))?,
        };
        let days = period.days(date);
        let bounds =
            |(first, last): (NaiveDate, NaiveDate)| -> Option<(DateTime<Utc>, DateTime<Utc>)> {
                let from = local_midnight(first, tz)?;
                let to = local_midnight(last.succ_opt()?, tz)? - Duration::microseconds(1);
                Some((from, to))
            };
        let (from, to) = match days {
            Some(d) => {
                let (f, t) = bounds(d)
                    .ok_or_else(|| AppError::Malformed("date: out of range".to_owned()))?;
                (Some(f), Some(t))
            }
            None => (None, None),
        };
        Ok(StatisticsRange {
            period,
            days,
            from,
            to,
        })
    }
}

fn within(range: &StatisticsRange, at: DateTime<Utc>) -> bool {
    range.from.is_none_or(|f| at >= f) && range.to.is_none_or(|t| at <= t)
}

#[derive(Default)]
struct Tallies {
    map: BTreeMap<String, (u64, u64)>,
}

impl Tallies {
    fn add(&mut self, key: &str, minutes: u64) {
        let e = self.map.entry(key.to_owned()).or_default();
        e.0 += 1;
        e.1 += minutes;
    }
    fn into_sorted(self) -> Vec<Breakdown> {
        let mut v: Vec<Breakdown> = self
            .map
            .into_iter()
            .map(|(key, (count, minutes))| Breakdown {
                key,
                count,
                minutes,
            })
            .collect();
        v.sort_by(|a, b| b.count.cmp(&a.count).then(b.minutes.cmp(&a.minutes)));
        v
    }
}

const PAGE: u32 = 500;

impl<S: Store> ViewingService<S> {
    /// `GET /api/viewing/statistics`.
    pub async fn statistics(
        &self,
        user: UserId,
        params: &StatisticsParams,
    ) -> AppResult<Statistics> {
        let range = params.resolve(self.clock.now())?;
        let mut uow = self.store.begin().await?;
        let filter = HistoryFilter {
            from: range.from,
            to: range.to,
            ..HistoryFilter::default()
        };
        let mut movies: HashMap<MovieId, Option<Movie>> = HashMap::new();
        let mut shows: HashMap<ShowId, Option<Show>> = HashMap::new();
        let (mut by_type, mut by_genre, mut by_platform) =
            (Tallies::default(), Tallies::default(), Tallies::default());
        let mut sessions: HashMap<BingeSessionId, u64> = HashMap::new();
        let (mut total, mut n_movies, mut n_episodes, mut rewatches, mut minutes_total) =
            (0u64, 0u64, 0u64, 0u64, 0u64);
        let mut paging = HistoryPaging::First { limit: PAGE };
        loop {
            let slice = uow.history(user, &filter, paging).await?;
            let Some(last) = slice.items.last() else {
                break;
            };
            paging = HistoryPaging::After {
                cursor: HistoryCursor {
                    watch_date: last.watch_date,
                    id: last.id,
                },
                limit: PAGE,
            };
            let full = slice.items.len() as u32 == PAGE;
            for r in &slice.items {
                let (runtime, genres): (u32, Vec<String>) = match r.watched {
                    Watched::Movie(id) => {
                        if let Entry::Vacant(slot) = movies.entry(id) {
                            slot.insert(uow.movie(id).await?);
                        }
                        let m = movies.get(&id).and_then(Option::as_ref);
                        (
                            m.map_or(0, |m| m.runtime.get()),
                            m.map(|m| m.genres.iter().map(|g| g.as_str().to_owned()).collect())
                                .unwrap_or_default(),
                        )
                    }
                    Watched::Episode {
                        episode_id,
                        show_id,
                        ..
                    } => {
                        if let Entry::Vacant(slot) = shows.entry(show_id) {
                            slot.insert(uow.show(show_id).await?);
                        }
                        let s = shows.get(&show_id).and_then(Option::as_ref);
                        (
                            s.and_then(|s| s.episode(episode_id))
                                .map_or(0, |e| e.episode.runtime.get()),
                            s.map(|s| s.genres.iter().map(|g| g.as_str().to_owned()).collect())
                                .unwrap_or_default(),
                        )
                    }
                };
                let minutes = u64::from(r.viewing_duration.map_or(runtime, |d| d.get()));
                total += 1;
                minutes_total += minutes;
                match r.watched {
                    Watched::Movie(_) => n_movies += 1,
                    Watched::Episode { .. } => n_episodes += 1,
                }
                if r.is_rewatch {
                    rewatches += 1;
                }
                by_type.add(r.watched.content_type().as_str(), minutes);
                for g in &genres {
                    by_genre.add(g, minutes);
                }
                by_platform.add(
                    r.platform.as_ref().map_or(UNKNOWN_PLATFORM, |p| p.as_str()),
                    minutes,
                );
                if let Some(s) = r.binge_session_id {
                    *sessions.entry(s).or_default() += 1;
                }
            }
            if !full {
                break;
            }
        }

        let mut shows_completed = 0;
        let mut seasons_completed = 0;
        for p in uow.progress_of_user(user).await? {
            if p.completion_date.is_some_and(|d| within(&range, d)) {
                shows_completed += 1;
            }
            seasons_completed += p
                .completed_seasons
                .iter()
                .filter(|c| within(&range, c.completed_at))
                .count() as u64;
        }
        let abandoned = uow
            .abandons_between(user, range.from, range.to)
            .await?
            .len() as u64;

        Ok(Statistics {
            period: range.period,
            from: range.days.map(|d| d.0),
            to: range.days.map(|d| d.1),
            total_watched: total,
            movies: n_movies,
            episodes: n_episodes,
            rewatches,
            total_minutes: minutes_total,
            total_hours: (minutes_total as f64 / 60.0 * 100.0).round() / 100.0,
            by_type: by_type.into_sorted(),
            by_genre: by_genre.into_sorted(),
            by_platform: by_platform.into_sorted(),
            shows_completed,
            seasons_completed,
            abandoned,
            binge_sessions: sessions.len() as u64,
            longest_binge_episodes: sessions.values().copied().max().unwrap_or(0),
        })
    }
}

/// The breakdown of one dimension, most watched first (ties: most minutes, then key).
fn breakdown(totals: &StatsDelta, dimension: Dimension) -> Vec<Breakdown> {
    let mut v: Vec<Breakdown> = totals
        .dimensions
        .iter()
        .filter(|((d, _), t)| *d == dimension && t.count > 0)
        .map(|((_, key), t)| Breakdown {
            key: key.clone(),
            count: t.count.max(0) as u64,
            minutes: t.minutes.max(0) as u64,
        })
        .collect();
    v.sort_by(|a, b| b.count.cmp(&a.count).then(b.minutes.cmp(&a.minutes)));
    v
}

/// The response for `range` from the sum of its buckets.
fn from_buckets(range: &StatisticsRange, totals: &StatsDelta) -> Statistics {
    let c = &totals.counters;
    let n = |v: i64| v.max(0) as u64;
    Statistics {
        period: range.period,
        from: range.days.map(|d| d.0),
        to: range.days.map(|d| d.1),
        total_watched: n(c.watched),
        movies: n(c.movies),
        episodes: n(c.episodes),
        rewatches: n(c.rewatches),
        total_minutes: n(c.minutes),
        total_hours: (n(c.minutes) as f64 / 60.0 * 100.0).round() / 100.0,
        by_type: breakdown(totals, Dimension::ContentType),
        by_genre: breakdown(totals, Dimension::Genre),
        by_platform: breakdown(totals, Dimension::Platform),
        shows_completed: n(c.shows_completed),
        seasons_completed: n(c.seasons_completed),
        abandoned: n(c.abandoned),
        binge_sessions: n(c.binge_sessions),
        longest_binge_episodes: n(c.longest_binge),
    }
}

impl<S: EventStore> ViewingService<S> {
    /// `GET /api/viewing/statistics` from the pre-aggregated buckets the StatisticsCalculator
    /// keeps (SPEC §6): the period is covered by at most seven spans of whole UTC buckets, so
    /// the cost does not depend on how many records the user has. Binge sessions count in the
    /// period their first episode is in.
    pub async fn bucket_statistics(
        &self,
        user: UserId,
        params: &StatisticsParams,
    ) -> AppResult<Statistics> {
        let range = params.resolve(self.clock.now())?;
        let spans = match (range.from, range.to) {
            (Some(from), Some(to)) => cover(from, to + Duration::microseconds(1)),
            _ => cover_everything(),
        };
        let mut uow = self.store.begin().await?;
        let totals = uow.read_buckets(user, &spans).await?;
        Ok(from_buckets(&range, &totals))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_are_calendar_periods() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap_or_default(); // a Thursday
        let day = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).unwrap_or_default();
        assert_eq!(
            Period::Week.days(d),
            Some((day(2026, 11, 23), day(2026, 11, 29)))
        );
        assert_eq!(
            Period::Month.days(d),
            Some((day(2026, 11, 1), day(2026, 11, 30)))
        );
        assert_eq!(
            Period::Year.days(d),
            Some((day(2026, 1, 1), day(2026, 12, 31)))
        );
        assert_eq!(Period::All.days(d), None);
    }
}
