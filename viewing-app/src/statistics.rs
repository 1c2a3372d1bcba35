//! Viewing statistics for a calendar period in the user's time zone (SPEC §6), read from the
//! pre-aggregated buckets the StatisticsCalculator keeps from the events (SPEC §7): a read
//! costs the same for 10 records or 1,000,000, and lags the writes by the relay's delay.

use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, Utc};
use viewing_domain::UserId;
use viewing_domain::handler_ports::StatisticsRepository;
use viewing_domain::ports::Store;
use viewing_domain::stats::{Dimension, StatsDelta, cover, cover_everything};

use crate::error::{AppError, AppResult};
use crate::history::{local_midnight, parse_tz};
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

/// The query string of `GET /api/viewing/statistics`, as received.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatisticsParams {
    /// `week`, `month`, `year` or `all` (the default).
    pub period: Option<String>,
    /// IANA time zone the period's days are in; UTC by default.
    pub tz: Option<String>,
    /// A day in the period; today by default.
    pub date: Option<String>,
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

/// Resolved query: period, its days, and its instants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatisticsRange {
    /// The period.
    pub period: Period,
    /// Its first and last day in the zone (`None` for `all`).
    pub days: Option<(NaiveDate, NaiveDate)>,
    /// Its first instant.
    pub from: Option<DateTime<Utc>>,
    /// Its last instant (inclusive).
    pub to: Option<DateTime<Utc>>,
}

impl StatisticsParams {
    /// Checks the parameters and resolves the period's days and instants relative to `now`.
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
                .map_err(|_| AppError::Malformed("date: expected YYYY-MM-DD".to_owned()))
                .and_then(|d| {
                    let midnight = d.and_time(chrono::NaiveTime::MIN).and_utc();
                    viewing_domain::values::instant("date", midnight)
                        .map(|_| d)
                        .map_err(|e| AppError::Malformed(format!("date: {}", e.message)))
                })?,
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
    pub async fn statistics(
        &self,
        user: UserId,
        params: &StatisticsParams,
    ) -> AppResult<Statistics> {
        let range = params.resolve(self.clock.now())?;
        let spans = match (range.from, range.to) {
            (Some(from), Some(to)) => cover(from, to + Duration::microseconds(1)),
            _ => cover_everything(),
        };
        let mut uow = self.store.begin_read().await?;
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
