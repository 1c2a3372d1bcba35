//! Validated value objects. Once a value exists it is valid; nothing downstream re-checks it.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Why an input value was refused. `field` is the API field name (camelCase).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{field}: {message}")]
pub struct ValidationError {
    /// The API's name of the refused field.
    pub field: &'static str,
    /// What is wrong, for a person.
    pub message: String,
}

impl ValidationError {
    /// `field` refused for `message`.
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

/// A rating from 0.0 to 10.0 with at most one decimal, kept in tenths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rating(u8);

impl Rating {
    /// Validates a client value: 0.0 to 10.0, at most one decimal.
    pub fn new(field: &'static str, value: f64) -> Result<Self, ValidationError> {
        if !value.is_finite() || !(0.0..=10.0).contains(&value) {
            return Err(ValidationError::new(field, "must be between 0.0 and 10.0"));
        }
        let tenths = (value * 10.0).round();
        if (tenths - value * 10.0).abs() > 1e-6 {
            return Err(ValidationError::new(field, "must have at most one decimal"));
        }
        Ok(Self(tenths as u8))
    }
    /// A rating kept in tenths (0 to 100), as stores hold it.
    pub fn from_tenths(tenths: u8) -> Option<Self> {
        (tenths <= 100).then_some(Self(tenths))
    }
    /// Tenths of a point: 7.5 is 75.
    pub fn tenths(self) -> u8 {
        self.0
    }
    /// The rating as a number (7.5).
    pub fn value(self) -> f64 {
        f64::from(self.0) / 10.0
    }
}

impl Serialize for Rating {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.value())
    }
}

impl<'de> Deserialize<'de> for Rating {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = f64::deserialize(d)?;
        Rating::new("rating", v).map_err(serde::de::Error::custom)
    }
}

/// A percentage from 0 to 100 with two decimals, kept in hundredths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Percent(u16);

impl Percent {
    /// 0 %.
    pub const ZERO: Percent = Percent(0);
    /// 100 %.
    pub const FULL: Percent = Percent(10_000);

    /// Validates a client value; it is rounded to two decimals.
    pub fn new(field: &'static str, value: f64) -> Result<Self, ValidationError> {
        if !value.is_finite() || !(0.0..=100.0).contains(&value) {
            return Err(ValidationError::new(field, "must be between 0 and 100"));
        }
        Ok(Self((value * 100.0).round() as u16))
    }
    /// `part` of `whole` as a percentage, rounded half up to two decimals; 0 when `whole` is 0.
    pub fn of(part: u32, whole: u32) -> Self {
        if whole == 0 {
            return Self::ZERO;
        }
        let part = u64::from(part.min(whole));
        let hundredths = (part * 10_000 * 2 + u64::from(whole)) / (u64::from(whole) * 2);
        Self(hundredths as u16)
    }
    /// A percentage kept in hundredths (0 to 10 000), as stores hold it.
    pub const fn from_hundredths(h: u16) -> Option<Self> {
        if h <= 10_000 { Some(Self(h)) } else { None }
    }
    /// Hundredths of a percent: 12.5 % is 1250.
    pub fn hundredths(self) -> u16 {
        self.0
    }
    /// The percentage as a number (12.5).
    pub fn value(self) -> f64 {
        f64::from(self.0) / 100.0
    }
}

impl Serialize for Percent {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.value())
    }
}

impl<'de> Deserialize<'de> for Percent {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = f64::deserialize(d)?;
        Percent::new("progressPercent", v).map_err(serde::de::Error::custom)
    }
}

/// Trims, removes control characters and enforces a maximum length in characters.
/// Over-long text is refused, never cut. Empty text after cleaning is `None`.
pub fn clean_text(
    field: &'static str,
    raw: &str,
    max_chars: usize,
) -> Result<Option<String>, ValidationError> {
    let cleaned: String = raw.chars().filter(|c| !c.is_control()).collect();
    let cleaned = cleaned.trim();
    if cleaned.is_empty() {
        return Ok(None);
    }
    let len = cleaned.chars().count();
    if len > max_chars {
        return Err(ValidationError::new(
            field,
            format!("must be at most {max_chars} characters (got {len})"),
        ));
    }
    Ok(Some(cleaned.to_owned()))
}

macro_rules! text_type {
    ($(#[$meta:meta])* $name:ident, $field:literal, $max:expr) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The longest text accepted, in characters (over-long input is refused, never cut).
            pub const MAX_CHARS: usize = $max;
            /// The API's name of the field this text comes from.
            pub const FIELD: &'static str = $field;

            /// Cleans and validates; blank input is `Ok(None)`.
            pub fn parse(raw: &str) -> Result<Option<Self>, ValidationError> {
                Ok(clean_text($field, raw, $max)?.map(Self))
            }
            /// The cleaned text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
            /// The cleaned text, owned.
            pub fn into_inner(self) -> String {
                self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

text_type!(
    /// Why the user stopped watching.
    AbandonReason, "abandonReason", 500);
text_type!(
    /// Where a movie was watched (`home`, `cinema`, ...).
    ViewingLocation, "viewingLocation", 200);
text_type!(
    /// Where it was watched (`viewingPlatform` for movies, `platform` for episodes).
    Platform, "platform", 100);
text_type!(
    /// Why or how a movie was watched (`date night`, ...).
    ViewingContext, "viewingContext", 50);
text_type!(
    /// One person a viewing was shared with.
    CompanionName, "watchedWith", 200);
text_type!(
    /// Free text reaction to a series finale.
    FinaleReaction, "seriesFinaleReaction", 500);
text_type!(
    /// A catalog title.
    Title, "title", 300);
text_type!(
    /// A genre name; equal ignoring case counts as the same genre.
    Genre, "genres", 50);

impl Genre {
    /// Adds `g` to `genres` unless a genre equal to it ignoring case is there already: the
    /// catalog keeps distinct genres, in the order first given.
    pub fn push_distinct(genres: &mut Vec<Genre>, g: Genre) {
        if !genres
            .iter()
            .any(|o| o.as_str().eq_ignore_ascii_case(g.as_str()))
        {
            genres.push(g);
        }
    }
}

/// The people a viewing was shared with: at most 20 names, each at most 200 characters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Companions(Vec<CompanionName>);

impl Companions {
    /// The most names a viewing may list.
    pub const MAX: usize = 20;

    /// Each name cleaned and validated; blank names are dropped, more than [`Companions::MAX`] refused.
    pub fn parse<S: AsRef<str>>(names: &[S]) -> Result<Self, ValidationError> {
        if names.len() > Self::MAX {
            return Err(ValidationError::new(
                "watchedWith",
                format!("at most {} companions", Self::MAX),
            ));
        }
        let mut out = Vec::with_capacity(names.len());
        for n in names {
            if let Some(name) = CompanionName::parse(n.as_ref())? {
                out.push(name);
            }
        }
        Ok(Self(out))
    }
    /// The names, in the order given.
    pub fn names(&self) -> &[CompanionName] {
        &self.0
    }
    /// Nobody named.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Whole minutes of viewing, 1 to 1440 (one day).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Minutes(u32);

impl Minutes {
    /// One day.
    pub const MAX: u32 = 24 * 60;

    /// Validates `value` as whole minutes, 0 to [`Minutes::MAX`]; `field` names it in the refusal.
    pub fn new(field: &'static str, value: i64) -> Result<Self, ValidationError> {
        if !(0..=i64::from(Self::MAX)).contains(&value) {
            return Err(ValidationError::new(
                field,
                format!("must be between 0 and {} minutes", Self::MAX),
            ));
        }
        Ok(Self(value as u32))
    }
    /// `v`, or [`Minutes::MAX`] when it is larger: for sums read back from a store.
    pub const fn from_u32_saturating(v: u32) -> Self {
        if v > Self::MAX {
            Self(Self::MAX)
        } else {
            Self(v)
        }
    }
    /// The minutes.
    pub fn get(self) -> u32 {
        self.0
    }
    /// As a chrono duration.
    pub fn as_duration(self) -> Duration {
        Duration::minutes(i64::from(self.0))
    }
}

/// How far in the future a watch date may lie (clock skew between devices).
pub const MAX_WATCH_DATE_AHEAD: Duration = Duration::minutes(5);

/// The earliest instant a client may send: `1900-01-01T00:00:00Z` (SPEC §9).
pub const EARLIEST_INSTANT: DateTime<Utc> = match NaiveDate::from_ymd_opt(1900, 1, 1) {
    Some(d) => d.and_time(NaiveTime::MIN).and_utc(),
    None => DateTime::<Utc>::MIN_UTC,
};

/// The latest instant a client may send: `9999-12-31T23:59:59Z` (SPEC §9).
pub const LATEST_INSTANT: DateTime<Utc> = match NaiveDate::from_ymd_opt(9999, 12, 31) {
    Some(d) => match NaiveTime::from_hms_opt(23, 59, 59) {
        Some(t) => d.and_time(t).and_utc(),
        None => DateTime::<Utc>::MAX_UTC,
    },
    None => DateTime::<Utc>::MAX_UTC,
};

/// The earliest calendar date a client may send (`releaseDate`, `airDate`): 1800-01-01, so the
/// first films (1880s) fit.
pub const EARLIEST_DATE: NaiveDate = match NaiveDate::from_ymd_opt(1800, 1, 1) {
    Some(d) => d,
    None => NaiveDate::MIN,
};

/// The latest calendar date a client may send: 9999-12-31.
pub const LATEST_DATE: NaiveDate = match NaiveDate::from_ymd_opt(9999, 12, 31) {
    Some(d) => d,
    None => NaiveDate::MAX,
};

/// `t` in whole microseconds (truncated, never rounded): the finest precision SQLite text and
/// PostgreSQL `timestamptz` share. The one place instants are cut: every instant reaching a
/// store comes from a [`crate::ports::Clock`] (which returns such instants) or from
/// [`instant`], or is computed from those by whole units, so stores and DTOs store and answer
/// instants as they get them.
pub fn micros(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(6)
}

/// An instant a client sent, as every store keeps it: between [`EARLIEST_INSTANT`] and
/// [`LATEST_INSTANT`], truncated to whole microseconds (the finest precision SQLite text and
/// PostgreSQL `timestamptz` share), so that what is stored reads back identically everywhere.
pub fn instant(field: &'static str, t: DateTime<Utc>) -> Result<DateTime<Utc>, ValidationError> {
    if !(EARLIEST_INSTANT..=LATEST_INSTANT).contains(&t) {
        return Err(ValidationError::new(
            field,
            "must lie between 1900-01-01T00:00:00Z and 9999-12-31T23:59:59Z",
        ));
    }
    Ok(micros(t))
}

/// A calendar date a client sent: between [`EARLIEST_DATE`] and [`LATEST_DATE`].
pub fn calendar_date(field: &'static str, d: NaiveDate) -> Result<NaiveDate, ValidationError> {
    if !(EARLIEST_DATE..=LATEST_DATE).contains(&d) {
        return Err(ValidationError::new(
            field,
            "must lie between 1800-01-01 and 9999-12-31",
        ));
    }
    Ok(d)
}

/// When a viewing finished: now by default; a given date is an [`instant`] no more than five
/// minutes ahead of now.
pub fn watch_date(
    field: &'static str,
    requested: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, ValidationError> {
    match requested {
        None => Ok(micros(now)),
        Some(d) if d > now + MAX_WATCH_DATE_AHEAD => Err(ValidationError::new(
            field,
            "must not be more than 5 minutes in the future",
        )),
        Some(d) => instant(field, d),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Truncated down, never rounded, even before 1970 and 2000 (sqlx would round PostgreSQL's
    /// pre-2000 instants up), so both SQL stores keep the same microsecond.
    #[test]
    fn instants_truncate_down_even_before_2000() {
        let t = DateTime::<Utc>::from_timestamp(900_000_000, 123_456_789).unwrap_or_default();
        assert_eq!(micros(t).timestamp_subsec_nanos(), 123_456_000);
        let old = DateTime::<Utc>::from_timestamp(-5, 999_999_999).unwrap_or_default();
        assert_eq!(micros(old).timestamp_subsec_nanos(), 999_999_000);
        assert!(micros(old) <= old);
        assert_eq!(instant("t", old).ok(), Some(micros(old)));
    }

    #[test]
    fn rating_accepts_one_decimal_in_range() {
        assert_eq!(Rating::new("r", 8.5).map(Rating::tenths), Ok(85));
        assert_eq!(Rating::new("r", 0.0).map(Rating::tenths), Ok(0));
        assert_eq!(Rating::new("r", 10.0).map(Rating::tenths), Ok(100));
        assert!(Rating::new("r", 8.55).is_err());
        assert!(Rating::new("r", 10.1).is_err());
        assert!(Rating::new("r", -0.1).is_err());
        assert!(Rating::new("r", f64::NAN).is_err());
    }

    #[test]
    fn percent_of_rounds_to_two_decimals() {
        assert_eq!(Percent::of(7, 62).value(), 11.29);
        assert_eq!(Percent::of(1, 3).value(), 33.33);
        assert_eq!(Percent::of(2, 3).value(), 66.67);
        assert_eq!(Percent::of(0, 0), Percent::ZERO);
        assert_eq!(Percent::of(62, 62), Percent::FULL);
        assert!(Percent::new("p", 100.01).is_err());
    }

    #[test]
    fn text_is_cleaned_and_length_limited() {
        assert_eq!(
            AbandonReason::parse("  too\u{7} slow \n").map(|o| o.map(AbandonReason::into_inner)),
            Ok(Some("too slow".to_owned()))
        );
        assert_eq!(AbandonReason::parse("   "), Ok(None));
        assert!(ViewingContext::parse(&"x".repeat(51)).is_err());
        assert!(ViewingContext::parse(&"é".repeat(50)).is_ok());
        let many: Vec<String> = (0..21).map(|i| format!("p{i}")).collect();
        assert!(Companions::parse(&many).is_err());
    }

    #[test]
    fn watch_date_may_be_at_most_five_minutes_ahead() {
        let now = DateTime::<Utc>::from_timestamp(1_700_000_000, 0).unwrap_or_default();
        assert_eq!(watch_date("w", None, now), Ok(now));
        assert!(watch_date("w", Some(now + Duration::minutes(5)), now).is_ok());
        assert!(watch_date("w", Some(now + Duration::minutes(6)), now).is_err());
    }

    #[test]
    fn instants_lie_between_1900_and_9999_in_microseconds() {
        let at = |s: &str| DateTime::parse_from_rfc3339(s).map(|d| d.with_timezone(&Utc));
        let ok = |s: &str| at(s).ok().map(|t| instant("t", t));
        assert_eq!(ok("1900-01-01T00:00:00Z"), Some(Ok(EARLIEST_INSTANT)));
        assert_eq!(ok("9999-12-31T23:59:59Z"), Some(Ok(LATEST_INSTANT)));
        assert!(matches!(ok("1899-12-31T23:59:59.999999Z"), Some(Err(_))));
        assert!(matches!(ok("9999-12-31T23:59:59.5Z"), Some(Err(_))));
        let min = DateTime::<Utc>::MIN_UTC;
        assert!(instant("t", min).is_err());
        assert_eq!(
            ok("2026-01-02T03:04:05.123456789Z").and_then(Result::ok),
            at("2026-01-02T03:04:05.123456Z").ok()
        );
        let now = at("2026-01-01T00:00:00Z").unwrap_or_default();
        assert!(watch_date("w", Some(min), now).is_err());
        assert!(calendar_date("d", NaiveDate::MIN).is_err());
        assert!(calendar_date("d", EARLIEST_DATE).is_ok());
    }
}
