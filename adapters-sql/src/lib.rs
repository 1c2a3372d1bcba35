//! What the SQL stores (`adapters-sqlite`, `adapters-postgres`) share: one vocabulary for
//! reading a row ([`RowExt`]) and the row-to-domain mappers written once over it
//! ([`decode`]), so a mapper of one store reads like its twin in the other, or is the same one.
//!
//! There is no driver here. Each store implements [`RowExt`] for its driver's row type, in its
//! own encoding: SQLite keeps ids and instants as text, PostgreSQL as `uuid` and
//! `TIMESTAMPTZ`; a mapper only names columns and says what each holds. What is written, the
//! SQL and its dialect stay in the stores.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod decode;
pub mod encode;
pub mod outbox;

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;
use viewing_domain::ports::{StoreError, StoreResult};
use viewing_domain::values::ValidationError;

/// Typed column reads of one store's rows; a column that is missing or does not decode is
/// [`StoreError::Unexpected`] (see [`corrupt`]).
///
/// `Store` is a type of the implementing crate that names its encoding: Rust lets a crate
/// implement this trait for its driver's row type (a type of neither crate) only with one of
/// its own types in the impl. Each row type has one implementation, so callers never name it.
pub trait RowExt<Store> {
    /// A text column.
    fn text(&self, col: &str) -> StoreResult<String>;
    /// A nullable text column.
    fn text_opt(&self, col: &str) -> StoreResult<Option<String>>;
    /// A whole-number column of any width.
    fn int(&self, col: &str) -> StoreResult<i64>;
    /// A nullable whole-number column of any width.
    fn int_opt(&self, col: &str) -> StoreResult<Option<i64>>;
    /// A boolean column.
    fn flag(&self, col: &str) -> StoreResult<bool>;
    /// An id column.
    fn uuid(&self, col: &str) -> StoreResult<Uuid>;
    /// A nullable id column.
    fn uuid_opt(&self, col: &str) -> StoreResult<Option<Uuid>>;
    /// An instant column (whole microseconds, UTC).
    fn instant(&self, col: &str) -> StoreResult<DateTime<Utc>>;
    /// A nullable instant column.
    fn instant_opt(&self, col: &str) -> StoreResult<Option<DateTime<Utc>>>;
    /// A nullable calendar date column.
    fn date_opt(&self, col: &str) -> StoreResult<Option<NaiveDate>>;

    /// A count or number the domain keeps as `u32`.
    fn u32(&self, col: &str) -> StoreResult<u32> {
        to_u32(col, self.int(col)?)
    }

    /// A nullable count or number the domain keeps as `u32`.
    fn u32_opt(&self, col: &str) -> StoreResult<Option<u32>> {
        self.int_opt(col)?.map(|v| to_u32(col, v)).transpose()
    }
}

fn to_u32(col: &str, v: i64) -> StoreResult<u32> {
    u32::try_from(v).map_err(|e| corrupt(col, e))
}

/// Data read back that does not fit the domain: a bug or a hand-edited database.
pub fn corrupt(what: &str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::unexpected(format!("stored {what} is invalid: {detail}"))
}

/// Re-validates stored text through the domain's constructor. Stored values were cleaned on
/// the way in, so this only fails for data the service did not write.
pub fn parsed<T>(
    col: &str,
    raw: Option<String>,
    parse: fn(&str) -> Result<Option<T>, ValidationError>,
) -> StoreResult<Option<T>> {
    match raw {
        None => Ok(None),
        Some(s) => parse(&s).map_err(|e| corrupt(col, e)),
    }
}

/// Like [`parsed`] for a column that must hold a value.
pub fn required<T>(
    col: &str,
    raw: String,
    parse: fn(&str) -> Result<Option<T>, ValidationError>,
) -> StoreResult<T> {
    parse(&raw)
        .map_err(|e| corrupt(col, e))?
        .ok_or_else(|| corrupt(col, "empty"))
}

/// A stored name of one of the domain's enums.
pub fn name<T>(col: &str, raw: String, parse: fn(&str) -> Option<T>) -> StoreResult<T> {
    parse(&raw).ok_or_else(|| corrupt(col, format!("unknown value {raw:?}")))
}
