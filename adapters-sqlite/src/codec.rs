//! How domain values are written to and read from SQLite, and how driver errors become
//! [`StoreError`]s.
//!
//! SQLite has no uuid or timestamp types, so the encodings are chosen for ordering: ids are
//! lowercase hyphenated text (text order = UUID byte order, the same order PostgreSQL's `uuid`
//! and the in-memory store use) and instants are fixed-width UTC text with six fraction digits
//! (text order = time order, and the same microsecond precision as PostgreSQL's TIMESTAMPTZ).

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;
use uuid::Uuid;
use viewing_domain::ports::{StoreError, StoreResult};

const INSTANT_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.6fZ";
const DATE_FORMAT: &str = "%Y-%m-%d";

/// An instant as stored: truncated (never rounded) to whole microseconds.
pub(crate) fn ts(t: DateTime<Utc>) -> String {
    t.format(INSTANT_FORMAT).to_string()
}

pub(crate) fn ts_opt(t: Option<DateTime<Utc>>) -> Option<String> {
    t.map(ts)
}

pub(crate) fn id(u: impl Into<Uuid>) -> String {
    u.into().hyphenated().to_string()
}

pub(crate) fn id_opt(u: Option<impl Into<Uuid>>) -> Option<String> {
    u.map(id)
}

pub(crate) fn date(d: NaiveDate) -> String {
    d.format(DATE_FORMAT).to_string()
}

/// A JSON array of ids, for `IN (SELECT value FROM json_each(?))` (one bind, any length).
pub(crate) fn id_list<I: Into<Uuid>>(ids: impl IntoIterator<Item = I>) -> String {
    let ids: Vec<String> = ids.into_iter().map(id).collect();
    serde_json::to_string(&ids).unwrap_or_else(|_| "[]".to_owned())
}

pub(crate) use adapters_sql::{RowExt, corrupt, required};

/// SQLite's encoding of the shared row vocabulary ([`RowExt`]): ids and instants as text,
/// flags and whole numbers as INTEGER.
pub(crate) enum Sqlite {}

fn parse_uuid(col: &str, s: &str) -> StoreResult<Uuid> {
    Uuid::parse_str(s).map_err(|e| corrupt(col, e))
}

fn parse_instant(col: &str, s: &str) -> StoreResult<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|e| corrupt(col, e))
}

impl RowExt<Sqlite> for SqliteRow {
    fn text(&self, col: &str) -> StoreResult<String> {
        self.try_get(col).map_err(|e| corrupt(col, e))
    }
    fn text_opt(&self, col: &str) -> StoreResult<Option<String>> {
        self.try_get(col).map_err(|e| corrupt(col, e))
    }
    fn int(&self, col: &str) -> StoreResult<i64> {
        self.try_get(col).map_err(|e| corrupt(col, e))
    }
    fn int_opt(&self, col: &str) -> StoreResult<Option<i64>> {
        self.try_get(col).map_err(|e| corrupt(col, e))
    }
    fn flag(&self, col: &str) -> StoreResult<bool> {
        Ok(self.int(col)? != 0)
    }
    fn uuid(&self, col: &str) -> StoreResult<Uuid> {
        parse_uuid(col, &self.text(col)?)
    }
    fn uuid_opt(&self, col: &str) -> StoreResult<Option<Uuid>> {
        self.text_opt(col)?.map(|s| parse_uuid(col, &s)).transpose()
    }
    fn instant(&self, col: &str) -> StoreResult<DateTime<Utc>> {
        parse_instant(col, &self.text(col)?)
    }
    fn instant_opt(&self, col: &str) -> StoreResult<Option<DateTime<Utc>>> {
        self.text_opt(col)?
            .map(|s| parse_instant(col, &s))
            .transpose()
    }
    fn date_opt(&self, col: &str) -> StoreResult<Option<NaiveDate>> {
        self.text_opt(col)?
            .map(|s| NaiveDate::parse_from_str(&s, DATE_FORMAT).map_err(|e| corrupt(col, e)))
            .transpose()
    }
}

// SQLite result codes (https://www.sqlite.org/rescode.html); sqlx reports the extended code.
const SQLITE_BUSY: i64 = 5;
const SQLITE_LOCKED: i64 = 6;
const SQLITE_READONLY: i64 = 8;
const SQLITE_IOERR: i64 = 10;
const SQLITE_FULL: i64 = 13;
const SQLITE_CANTOPEN: i64 = 14;
const SQLITE_BUSY_SNAPSHOT: i64 = 517;

/// Maps a driver error onto the port's error contract.
///
/// - The database cannot be opened, read or written (I/O, disk full, pool exhausted, or still
///   locked by another process after the busy timeout) → `Unavailable`: retrying later helps.
/// - A unique/primary key violation or a stale WAL snapshot → `Conflict`: this write lost a race.
/// - Everything else → `Unexpected`.
pub(crate) fn db_err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => StoreError::unavailable(e),
        sqlx::Error::Database(db) => {
            if matches!(db.kind(), sqlx::error::ErrorKind::UniqueViolation) {
                return StoreError::Conflict(db.message().to_owned());
            }
            let code = db
                .code()
                .and_then(|c| c.parse::<i64>().ok())
                .unwrap_or_default();
            if code == SQLITE_BUSY_SNAPSHOT {
                return StoreError::Conflict(db.message().to_owned());
            }
            match code & 0xff {
                SQLITE_BUSY | SQLITE_LOCKED | SQLITE_READONLY | SQLITE_IOERR | SQLITE_FULL
                | SQLITE_CANTOPEN => StoreError::unavailable(e),
                _ => StoreError::unexpected(e),
            }
        }
        _ => StoreError::unexpected(e),
    }
}

/// A statement whose only dynamic parts are the adapter's own column and table names.
pub(crate) fn dynamic(
    sql: String,
) -> sqlx::query::Query<'static, sqlx::Sqlite, sqlx::sqlite::SqliteArguments> {
    sqlx::query(sqlx::AssertSqlSafe(sql))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::SubsecRound;

    #[test]
    fn instants_are_fixed_width_and_truncated_to_microseconds() {
        let t = DateTime::<Utc>::from_timestamp(1_700_000_000, 123_456_789).unwrap_or_default();
        assert_eq!(ts(t), "2023-11-14T22:13:20.123456Z");
        let whole = DateTime::<Utc>::from_timestamp(1_700_000_000, 0).unwrap_or_default();
        assert_eq!(ts(whole), "2023-11-14T22:13:20.000000Z");
        assert!(ts(whole) < ts(t));
        let back = parse_instant("t", &ts(t)).ok();
        assert_eq!(back, Some(t.trunc_subsecs(6)));
    }

    #[test]
    fn id_text_orders_like_uuid_bytes() {
        let a = Uuid::from_u128(0x0f00_0000_0000_0000_0000_0000_0000_0000);
        let b = Uuid::from_u128(0xa000_0000_0000_0000_0000_0000_0000_0000);
        assert!(a < b);
        assert!(id(a) < id(b));
    }
}
