//! Viewing statistics for a calendar period in the user's time zone (SPEC §6), read from the
//! pre-aggregated buckets the StatisticsCalculator keeps from the events (SPEC §7): a read
//! costs the same for 10 records or 1,000,000, and lags the writes by the relay's delay.

use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, Utc};
use viewing_domain::UserId;
use viewing_domain::handler_ports::StatisticsRepository;
use viewing_domain::ports::Store;
use viewing_domain::stats::{Dimension, StatsDelta, cover, cover_everything};

use crate::error::{AppError, AppResult};
use crate::history::{Tz, end_of_day, start_of_day};
use crate::service::ViewingService;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
/// The period of `GET /api/viewing/statistics`.
pub enum Period {
    /// The ISO week (Monday to Sunday) holding the date.
    Week,
    /// The calendar month holding the date.
    Month,
    /// The calendar year holding the date.
    Year,
    /// Everything, ever.
    All,
}

impl Period {
    /// The period named `week`, `month`, `year` or `all`.
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

/// What `GET /api/viewing/statistics` asks for: the period containing `date` (today in `tz`
/// when `None`), its days taken in `tz`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatisticsRequest {
    /// Week, month, year or all time.
    pub period: Period,
    /// The zone the period's days are in.
    pub tz: Tz,
    /// A day inside the period; today in `tz` when `None`.
    pub date: Option<NaiveDate>,
}

impl Default for StatisticsRequest {
    /// All time, in UTC.
    fn default() -> Self {
        Self {
            period: Period::All,
            tz: Tz::UTC,
            date: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
/// One key of a breakdown.
pub struct Breakdown {
    /// The type, genre or platform.
    pub key: String,
    /// Viewings.
    pub count: u64,
    /// Minutes watched.
    pub minutes: u64,
}

#[derive(Debug, Clone, PartialEq)]
/// A user's statistics for a period (SPEC §6).
pub struct Statistics {
    /// The period asked for.
    pub period: Period,
    /// First day of the period in the requested zone (`None` for `all`).
    pub from: Option<NaiveDate>,
    /// Last day of the period, inclusive.
    pub to: Option<NaiveDate>,
    /// Viewings.
    pub total_watched: u64,
    /// Movie viewings.
    pub movies: u64,
    /// Episode viewings.
    pub episodes: u64,
    /// Rewatches.
    pub rewatches: u64,
    /// Minutes watched.
    pub total_minutes: u64,
    /// Hours watched, rounded to one decimal.
    pub total_hours: f64,
    /// By content type.
    pub by_type: Vec<Breakdown>,
    /// By genre.
    pub by_genre: Vec<Breakdown>,
    /// By platform.
    pub by_platform: Vec<Breakdown>,
    /// Shows completed.
    pub shows_completed: u64,
    /// Seasons completed.
    pub seasons_completed: u64,
    /// Movies and shows abandoned.
    pub abandoned: u64,
    /// Binge sessions started in the period.
    pub binge_sessions: u64,
    /// Most episodes of one of those sessions.
    pub longest_binge_episodes: u64,
}

/// Platform name used when a record has none.
pub const UNKNOWN_PLATFORM: &str = "unknown";

/// Resolved query: period, its days, and its instants, `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatisticsRange {
    /// The period.
    pub period: Period,
    /// First and last day, inclusive.
    pub days: Option<(NaiveDate, NaiveDate)>,
    /// The first instant of the first day (inclusive).
    pub from: Option<DateTime<Utc>>,
    /// The first instant after the last day (exclusive).
    pub to: Option<DateTime<Utc>>,
}

impl StatisticsRequest {
    /// The period's days and instants, `now` giving today's date when none was asked for.
    pub fn resolve(&self, now: DateTime<Utc>) -> AppResult<StatisticsRange> {
        let date = self
            .date
            .unwrap_or_else(|| now.with_timezone(&self.tz).date_naive());
        let days = self.period.days(date);
        let (from, to) = match days {
            Some((first, last)) => {
                let bounds = start_of_day(first, self.tz).zip(end_of_day(last, self.tz));
                let (f, t) =
                    bounds.ok_or_else(|| AppError::Malformed("date: out of range".to_owned()))?;
                (Some(f), Some(t))
            }
            None => (None, None),
        };
        Ok(StatisticsRange {
            period: self.period,
            days,
            from,
            to,
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

impl<S: Store> ViewingService<S> {
    /// `GET /api/viewing/statistics` from the pre-aggregated buckets the StatisticsCalculator
    /// keeps (SPEC §6): the period is covered by at most seven spans of whole UTC buckets, so
    /// the cost does not depend on how many records the user has. Binge sessions count in the
    /// period their first episode is in. Events not yet relayed are not counted yet.
    #[tracing::instrument(level = "debug", skip_all, fields(user = %user))]
    pub async fn statistics(
        &self,
        user: UserId,
        request: &StatisticsRequest,
    ) -> AppResult<Statistics> {
        let range = request.resolve(self.clock.now())?;
        let spans = match (range.from, range.to) {
            (Some(from), Some(to)) => cover(from, to),
            _ => cover_everything(),
        };
        let mut uow = self.store.begin_read().await?;
        let mut totals = uow.read_buckets(user, &spans).await?;
        totals.counters.longest_binge =
            i64::from(uow.longest_binge(user, range.from, range.to).await?);
        Ok(from_buckets(&range, &totals))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_period_is_half_open_in_its_zone() {
        let request = StatisticsRequest {
            period: Period::Month,
            tz: "Europe/Paris".parse().unwrap_or(Tz::UTC),
            date: NaiveDate::from_ymd_opt(2026, 7, 15),
        };
        let range = request.resolve(Utc::now()).ok();
        assert_eq!(
            range.and_then(|r| r.from).map(|d| d.to_rfc3339()),
            Some("2026-06-30T22:00:00+00:00".into())
        );
        assert_eq!(
            range.and_then(|r| r.to).map(|d| d.to_rfc3339()),
            Some("2026-07-31T22:00:00+00:00".into())
        );
    }

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
