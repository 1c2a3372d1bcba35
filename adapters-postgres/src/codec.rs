//! How domain values meet PostgreSQL's types, and how driver errors become [`StoreError`]s.

use sqlx::postgres::PgRow;
use sqlx::{Decode, Postgres, Row, Type};
use viewing_domain::ports::{StoreError, StoreResult};
use viewing_domain::values::ValidationError;

/// A count or number for an INTEGER column.
pub(crate) fn int(v: u32) -> StoreResult<i32> {
    i32::try_from(v).map_err(|_| StoreError::unexpected(format!("{v} does not fit an INTEGER")))
}

/// Data read back that does not fit the domain: a bug or a hand-edited database.
pub(crate) fn corrupt(what: &str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::unexpected(format!("stored {what} is invalid: {detail}"))
}

/// One typed column; a decode failure is [`StoreError::Unexpected`].
pub(crate) fn get<'r, T>(row: &'r PgRow, col: &str) -> StoreResult<T>
where
    T: Decode<'r, Postgres> + Type<Postgres>,
{
    row.try_get(col).map_err(|e| corrupt(col, e))
}

/// An INTEGER column that holds a count or number the domain keeps as `u32`.
pub(crate) fn get_u32(row: &PgRow, col: &str) -> StoreResult<u32> {
    let v: i32 = get(row, col)?;
    u32::try_from(v).map_err(|e| corrupt(col, e))
}

pub(crate) fn get_u32_opt(row: &PgRow, col: &str) -> StoreResult<Option<u32>> {
    let v: Option<i32> = get(row, col)?;
    v.map(|v| u32::try_from(v).map_err(|e| corrupt(col, e)))
        .transpose()
}

/// Re-validates stored text through the domain's constructor. Stored values were cleaned on
/// the way in, so this only fails for data the service did not write.
pub(crate) fn parsed<T>(
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
pub(crate) fn required<T>(
    col: &str,
    raw: String,
    parse: fn(&str) -> Result<Option<T>, ValidationError>,
) -> StoreResult<T> {
    parse(&raw)
        .map_err(|e| corrupt(col, e))?
        .ok_or_else(|| corrupt(col, "empty"))
}

/// Maps a driver error onto the port's error contract.
///
/// - The server cannot be reached or is going away (connection refused or reset, TLS, pool
///   timeout, SQLSTATE class 08 connection exception, 57P0x shutdown / cannot connect now,
///   53300 too many connections) → `Unavailable`: retrying later helps.
/// - A serialization failure (40001), a deadlock (40P01) or a unique violation (23505) →
///   `Conflict`: this write lost a race.
/// - Everything else → `Unexpected`.
pub(crate) fn db_err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => StoreError::unavailable(e),
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            match &*code {
                "40001" | "40P01" | "23505" => StoreError::Conflict(db.message().to_owned()),
                "57P01" | "57P02" | "57P03" | "53300" => StoreError::unavailable(e),
                c if c.starts_with("08") => StoreError::unavailable(e),
                _ => StoreError::unexpected(e),
            }
        }
        _ => StoreError::unexpected(e),
    }
}

/// A statement whose only dynamic parts are this crate's own column and table names.
pub(crate) fn dynamic(
    sql: String,
) -> sqlx::query::Query<'static, Postgres, sqlx::postgres::PgArguments> {
    sqlx::query(sqlx::AssertSqlSafe(sql))
}

/// A stored name of one of the domain's enums.
pub(crate) fn name<T>(col: &str, raw: String, parse: fn(&str) -> Option<T>) -> StoreResult<T> {
    parse(&raw).ok_or_else(|| corrupt(col, format!("unknown value {raw:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreachable_server_is_unavailable() {
        let e = sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        assert!(matches!(db_err(e), StoreError::Unavailable(_)));
        assert!(matches!(
            db_err(sqlx::Error::PoolTimedOut),
            StoreError::Unavailable(_)
        ));
        assert!(matches!(
            db_err(sqlx::Error::RowNotFound),
            StoreError::Unexpected(_)
        ));
    }
}
