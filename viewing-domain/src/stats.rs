//! Pre-aggregated statistics buckets (SPEC §6, §7).
//!
//! Every viewing adds its numbers to the five UTC buckets that contain it: its quarter hour,
//! day, month and year, and the user's all-time bucket. A calendar period in any time zone is
//! then covered exactly by a bounded number of whole buckets: quarter hours for the partial
//! days at its edges (every time zone in use today is offset by a multiple of 15 minutes),
//! days up to the month boundaries, months up to the year boundaries, whole years in between.
//! A read therefore touches at most a few hundred buckets whatever the number of records.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, TimeZone, Timelike, Utc};

use crate::ids::{BingeSessionId, UserId};

/// The size of a bucket. Buckets of every granularity start at UTC boundaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Granularity {
    /// A quarter of an hour: the finest step, so any time-zone offset falls on a boundary.
    Quarter,
    /// A UTC day.
    Day,
    /// A UTC month.
    Month,
    /// A UTC year.
    Year,
    /// One bucket per user holding everything.
    All,
}

impl Granularity {
    /// Every granularity, finest first.
    pub const EVERY: [Granularity; 5] = [
        Granularity::Quarter,
        Granularity::Day,
        Granularity::Month,
        Granularity::Year,
        Granularity::All,
    ];

    /// The lowercase name the stores keep.
    pub fn as_str(self) -> &'static str {
        match self {
            Granularity::Quarter => "quarter",
            Granularity::Day => "day",
            Granularity::Month => "month",
            Granularity::Year => "year",
            Granularity::All => "all",
        }
    }

    /// The granularity named by `as_str`, or `None`.
    pub fn parse(s: &str) -> Option<Self> {
        Self::EVERY.into_iter().find(|g| g.as_str() == s)
    }

    /// Start of the bucket of this size containing `at`.
    pub fn bucket_start(self, at: DateTime<Utc>) -> DateTime<Utc> {
        let day = at.date_naive();
        let midnight = |d: NaiveDate| Utc.from_utc_datetime(&d.and_time(chrono::NaiveTime::MIN));
        match self {
            Granularity::Quarter => {
                let minute = at.minute() - at.minute() % 15;
                midnight(day)
                    + Duration::hours(i64::from(at.hour()))
                    + Duration::minutes(i64::from(minute))
            }
            Granularity::Day => midnight(day),
            Granularity::Month => midnight(day.with_day(1).unwrap_or(day)),
            Granularity::Year => midnight(NaiveDate::from_ymd_opt(day.year(), 1, 1).unwrap_or(day)),
            Granularity::All => all_time_start(),
        }
    }

    /// Start of the bucket after the one starting at `start` (`None` past chrono's range; the
    /// all-time bucket has no successor).
    pub fn next_start(self, start: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Granularity::Quarter => start.checked_add_signed(Duration::minutes(15)),
            Granularity::Day => start.checked_add_signed(Duration::days(1)),
            Granularity::Month => start.checked_add_months(Months::new(1)),
            Granularity::Year => start.checked_add_months(Months::new(12)),
            Granularity::All => None,
        }
    }
}

/// The start stored for the all-time bucket.
pub fn all_time_start() -> DateTime<Utc> {
    DateTime::<Utc>::UNIX_EPOCH
}

/// One bucket of one user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BucketKey {
    /// Its size.
    pub granularity: Granularity,
    /// Its first instant.
    pub start: DateTime<Utc>,
}

/// The five buckets an instant adds to.
pub fn buckets_containing(at: DateTime<Utc>) -> [BucketKey; 5] {
    Granularity::EVERY.map(|granularity| BucketKey {
        granularity,
        start: granularity.bucket_start(at),
    })
}

/// The buckets of one granularity whose start is in `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BucketSpan {
    /// The buckets' size.
    pub granularity: Granularity,
    /// Start of the first bucket.
    pub from: DateTime<Utc>,
    /// End (exclusive): no bucket starting here or later.
    pub to: DateTime<Utc>,
}

impl BucketSpan {
    /// Whether `key` is one of these buckets.
    pub fn contains(&self, key: &BucketKey) -> bool {
        key.granularity == self.granularity && key.start >= self.from && key.start < self.to
    }
}

/// The span of the all-time bucket.
pub fn cover_everything() -> Vec<BucketSpan> {
    vec![BucketSpan {
        granularity: Granularity::All,
        from: all_time_start(),
        to: all_time_start() + Duration::seconds(1),
    }]
}

/// Whole buckets covering `[from, to)` exactly, as at most seven spans (quarters, days, months,
/// years, months, days, quarters). Both ends are first floored to a quarter hour, which changes
/// nothing for today's time zones.
pub fn cover(from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<BucketSpan> {
    let mut cursor = Granularity::Quarter.bucket_start(from);
    let end = Granularity::Quarter.bucket_start(to);
    let mut spans: Vec<BucketSpan> = Vec::new();
    const COARSEST_FIRST: [Granularity; 4] = [
        Granularity::Year,
        Granularity::Month,
        Granularity::Day,
        Granularity::Quarter,
    ];
    while cursor < end {
        let step = COARSEST_FIRST.into_iter().find_map(|g| {
            let next = g.next_start(cursor)?;
            (g.bucket_start(cursor) == cursor && next <= end).then_some((g, next))
        });
        let Some((granularity, next)) = step else {
            break;
        };
        match spans.last_mut() {
            Some(last) if last.granularity == granularity && last.to == cursor => last.to = next,
            _ => spans.push(BucketSpan {
                granularity,
                from: cursor,
                to: next,
            }),
        }
        cursor = next;
    }
    spans
}

/// A statistics breakdown axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dimension {
    /// Movie or episode.
    ContentType,
    /// A genre of the content.
    Genre,
    /// The platform (or `unknown`).
    Platform,
}

impl Dimension {
    /// The lowercase name the stores keep.
    pub fn as_str(self) -> &'static str {
        match self {
            Dimension::ContentType => "type",
            Dimension::Genre => "genre",
            Dimension::Platform => "platform",
        }
    }
    /// The dimension named by `as_str`, or `None`.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Dimension::ContentType,
            Dimension::Genre,
            Dimension::Platform,
        ]
        .into_iter()
        .find(|d| d.as_str() == s)
    }
}

/// The plain numbers of a bucket. Every field is summed when buckets combine except
/// `longest_binge`, which takes the maximum.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatsCounters {
    /// Viewings (movies and episodes).
    pub watched: i64,
    /// Movie viewings.
    pub movies: i64,
    /// Episode viewings.
    pub episodes: i64,
    /// Viewings that were rewatches.
    pub rewatches: i64,
    /// Minutes watched.
    pub minutes: i64,
    /// Shows completed.
    pub shows_completed: i64,
    /// Seasons completed.
    pub seasons_completed: i64,
    /// Movies and shows abandoned.
    pub abandoned: i64,
    /// Binge sessions that started in the bucket.
    pub binge_sessions: i64,
    /// Most episodes of one session started in the bucket.
    pub longest_binge: i64,
}

/// A counter of a statistics bucket that is summed when buckets combine. Its name
/// ([`Counter::as_str`]) is the column of a store; [`LONGEST_BINGE`] is apart (it takes the
/// maximum). A new statistic is a variant here, a field of [`StatsCounters`] and a column in
/// each store's migration: the stores read the list from here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Counter {
    /// Viewing records (rewatches included).
    Watched,
    /// Movie records.
    Movies,
    /// Episode records.
    Episodes,
    /// Records that are rewatches.
    Rewatches,
    /// Minutes watched.
    Minutes,
    /// Shows completed.
    ShowsCompleted,
    /// Seasons completed.
    SeasonsCompleted,
    /// Abandon records.
    Abandoned,
    /// Binge sessions started.
    BingeSessions,
}

/// The column of [`StatsCounters::longest_binge`], which combines by maximum.
pub const LONGEST_BINGE: &str = "longest_binge";

impl Counter {
    /// Every summed counter, in column order.
    pub const SUMMED: [Counter; 9] = [
        Counter::Watched,
        Counter::Movies,
        Counter::Episodes,
        Counter::Rewatches,
        Counter::Minutes,
        Counter::ShowsCompleted,
        Counter::SeasonsCompleted,
        Counter::Abandoned,
        Counter::BingeSessions,
    ];

    /// The stored name (a column of `stats_buckets`).
    pub fn as_str(self) -> &'static str {
        match self {
            Counter::Watched => "watched",
            Counter::Movies => "movies",
            Counter::Episodes => "episodes",
            Counter::Rewatches => "rewatches",
            Counter::Minutes => "minutes",
            Counter::ShowsCompleted => "shows_completed",
            Counter::SeasonsCompleted => "seasons_completed",
            Counter::Abandoned => "abandoned",
            Counter::BingeSessions => "binge_sessions",
        }
    }

    /// The stored names of [`Counter::SUMMED`], in that order.
    pub fn columns() -> [&'static str; 9] {
        Self::SUMMED.map(Counter::as_str)
    }

    /// The counter named `s` ([`Counter::as_str`]).
    pub fn parse(s: &str) -> Option<Self> {
        Self::SUMMED.into_iter().find(|c| c.as_str() == s)
    }
}

impl StatsCounters {
    /// The value of one summed counter.
    pub fn get(&self, c: Counter) -> i64 {
        match c {
            Counter::Watched => self.watched,
            Counter::Movies => self.movies,
            Counter::Episodes => self.episodes,
            Counter::Rewatches => self.rewatches,
            Counter::Minutes => self.minutes,
            Counter::ShowsCompleted => self.shows_completed,
            Counter::SeasonsCompleted => self.seasons_completed,
            Counter::Abandoned => self.abandoned,
            Counter::BingeSessions => self.binge_sessions,
        }
    }

    fn get_mut(&mut self, c: Counter) -> &mut i64 {
        match c {
            Counter::Watched => &mut self.watched,
            Counter::Movies => &mut self.movies,
            Counter::Episodes => &mut self.episodes,
            Counter::Rewatches => &mut self.rewatches,
            Counter::Minutes => &mut self.minutes,
            Counter::ShowsCompleted => &mut self.shows_completed,
            Counter::SeasonsCompleted => &mut self.seasons_completed,
            Counter::Abandoned => &mut self.abandoned,
            Counter::BingeSessions => &mut self.binge_sessions,
        }
    }

    /// The summed counters' values, in [`Counter::SUMMED`] order (what a store binds).
    pub fn summed_values(&self) -> [i64; 9] {
        Counter::SUMMED.map(|c| self.get(c))
    }

    /// Reads every counter by its column name ([`Counter::as_str`], then [`LONGEST_BINGE`]):
    /// the one decoder of a bucket row, whatever the store.
    pub fn read<E>(mut column: impl FnMut(&'static str) -> Result<i64, E>) -> Result<Self, E> {
        let mut out = StatsCounters::default();
        for c in Counter::SUMMED {
            *out.get_mut(c) = column(c.as_str())?;
        }
        out.longest_binge = column(LONGEST_BINGE)?;
        Ok(out)
    }

    /// Adds `o`: sums, and the larger `longest_binge`.
    pub fn combine(&mut self, o: &StatsCounters) {
        for c in Counter::SUMMED {
            *self.get_mut(c) += o.get(c);
        }
        self.longest_binge = self.longest_binge.max(o.longest_binge);
    }
}

/// Count and minutes of one key (a type, genre or platform) of a dimension.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Viewings.
    pub count: i64,
    /// Minutes watched.
    pub minutes: i64,
}

/// What one event adds to its buckets, and also what a read returns (the sum of buckets).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatsDelta {
    /// The plain numbers.
    pub counters: StatsCounters,
    /// Count and minutes per `(dimension, key)`.
    pub dimensions: BTreeMap<(Dimension, String), Tally>,
}

impl StatsDelta {
    /// Adds `count` and `minutes` to `key` of `dimension`.
    pub fn tally(&mut self, dimension: Dimension, key: &str, count: i64, minutes: i64) {
        let t = self
            .dimensions
            .entry((dimension, key.to_owned()))
            .or_default();
        t.count += count;
        t.minutes += minutes;
    }

    /// Adds every number of `o`.
    pub fn combine(&mut self, o: &StatsDelta) {
        self.counters.combine(&o.counters);
        for ((d, k), t) in &o.dimensions {
            self.tally(*d, k, t.count, t.minutes);
        }
    }

    /// Adds nothing.
    pub fn is_empty(&self) -> bool {
        *self == StatsDelta::default()
    }

    /// What takes this delta away again: every sum negated. `longest_binge` (a maximum, which
    /// no subtraction undoes) becomes 0.
    pub fn negated(&self) -> StatsDelta {
        let mut out = StatsDelta::default();
        for c in Counter::SUMMED {
            *out.counters.get_mut(c) = -self.counters.get(c);
        }
        for ((d, k), t) in &self.dimensions {
            out.tally(*d, k, -t.count, -t.minutes);
        }
        out
    }
}

/// The statistics handler's memory of one binge session: where it was counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BingeStat {
    /// The session.
    pub session_id: BingeSessionId,
    /// Whose session.
    pub user_id: UserId,
    /// The session start the count was added at.
    pub start: DateTime<Utc>,
    /// The episodes already counted for it.
    pub episodes: u32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0)
            .single()
            .unwrap_or_default()
    }

    #[test]
    fn every_counter_reads_back_from_its_own_column() {
        let names: Vec<&str> = Counter::SUMMED.iter().map(|c| c.as_str()).collect();
        let distinct: std::collections::BTreeSet<&str> = names.iter().copied().collect();
        assert_eq!(distinct.len(), names.len(), "column names are distinct");
        assert!(!names.contains(&LONGEST_BINGE));
        for c in Counter::SUMMED {
            assert_eq!(Counter::parse(c.as_str()), Some(c));
        }
        // Each column holds a different value: a counter decoded from another's column shows.
        let value = |col: &str| {
            names
                .iter()
                .position(|n| *n == col)
                .map_or(100, |i| i as i64 + 1)
        };
        let read = StatsCounters::read(|col| Ok::<_, ()>(value(col))).expect("read");
        for c in Counter::SUMMED {
            assert_eq!(read.get(c), value(c.as_str()), "{}", c.as_str());
        }
        assert_eq!(read.longest_binge, 100);
        assert_eq!(read.summed_values().to_vec(), (1..=9).collect::<Vec<i64>>());
        let mut twice = read;
        twice.combine(&read);
        assert_eq!(twice.watched, 2 * read.watched);
        assert_eq!(twice.binge_sessions, 2 * read.binge_sessions);
        assert_eq!(twice.longest_binge, read.longest_binge, "maximum, not sum");
    }

    #[test]
    fn an_instant_falls_in_five_buckets() {
        let keys = buckets_containing(at(2026, 3, 14, 22, 59));
        let starts: Vec<_> = keys.iter().map(|k| k.start).collect();
        assert_eq!(
            starts,
            vec![
                at(2026, 3, 14, 22, 45),
                at(2026, 3, 14, 0, 0),
                at(2026, 3, 1, 0, 0),
                at(2026, 1, 1, 0, 0),
                all_time_start()
            ]
        );
    }

    #[test]
    fn a_utc_year_is_one_bucket_and_a_shifted_week_has_quarter_edges() {
        assert_eq!(
            cover(at(2026, 1, 1, 0, 0), at(2027, 1, 1, 0, 0)),
            vec![BucketSpan {
                granularity: Granularity::Year,
                from: at(2026, 1, 1, 0, 0),
                to: at(2027, 1, 1, 0, 0)
            }]
        );
        // A week in UTC-05:00 (Mon 05:00 UTC to next Mon 05:00 UTC).
        let spans = cover(at(2026, 3, 2, 5, 0), at(2026, 3, 9, 5, 0));
        let kinds: Vec<_> = spans.iter().map(|s| s.granularity).collect();
        assert_eq!(
            kinds,
            vec![Granularity::Quarter, Granularity::Day, Granularity::Quarter]
        );
        assert_eq!(spans[1].from, at(2026, 3, 3, 0, 0));
        assert_eq!(spans[1].to, at(2026, 3, 9, 0, 0));
    }

    proptest! {
        /// Every quarter hour inside the range is in exactly one span's bucket, none outside.
        #[test]
        fn cover_is_exact(start in 0i64..2_000_000, len in 0i64..600_000, probe in 0i64..700_000) {
            let base = at(2020, 1, 1, 0, 0);
            let from = base + Duration::minutes(start * 15);
            let to = from + Duration::minutes(len / 15 * 15);
            let spans = cover(from, to);
            prop_assert!(spans.len() <= 7);
            let p = from - Duration::minutes(50_000) + Duration::minutes(probe);
            let hits = spans
                .iter()
                .filter(|s| {
                    let key = BucketKey { granularity: s.granularity, start: s.granularity.bucket_start(p) };
                    s.contains(&key)
                })
                .count();
            let inside = p >= from && p < to;
            prop_assert_eq!(hits, usize::from(inside));
        }
    }
}
