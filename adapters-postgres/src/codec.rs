//! How domain values meet PostgreSQL's types, and how driver errors become [`StoreError`]s.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::postgres::PgRow;
use sqlx::{Decode, Postgres, Row, Type, TypeInfo as _, ValueRef as _};
use uuid::Uuid;
use viewing_domain::ports::{StoreError, StoreResult};

/// A count or number for an INTEGER column.
pub(crate) fn int(v: u32) -> StoreResult<i32> {
    i32::try_from(v).map_err(|_| StoreError::unexpected(format!("{v} does not fit an INTEGER")))
}

pub(crate) use adapters_sql::{RowExt, corrupt, required};

/// PostgreSQL's encoding of the shared row vocabulary ([`RowExt`]): native `uuid`,
/// `TIMESTAMPTZ`, `DATE`, `BOOLEAN` and integer columns.
pub(crate) enum Pg {}

/// One column of a type only PostgreSQL has here (arrays, bytes); a decode failure is
/// [`StoreError::Unexpected`]. Everything else reads through [`RowExt`].
pub(crate) fn get<'r, T>(row: &'r PgRow, col: &str) -> StoreResult<T>
where
    T: Decode<'r, Postgres> + Type<Postgres>,
{
    row.try_get(col).map_err(|e| corrupt(col, e))
}

impl RowExt<Pg> for PgRow {
    fn text(&self, col: &str) -> StoreResult<String> {
        get(self, col)
    }
    fn text_opt(&self, col: &str) -> StoreResult<Option<String>> {
        get(self, col)
    }
    fn int(&self, col: &str) -> StoreResult<i64> {
        self.int_opt(col)?
            .ok_or_else(|| corrupt(col, "NULL in a column that must hold a number"))
    }
    /// SMALLINT, INTEGER and BIGINT alike, by the column's type.
    fn int_opt(&self, col: &str) -> StoreResult<Option<i64>> {
        let width = {
            let raw = self.try_get_raw(col).map_err(|e| corrupt(col, e))?;
            match raw.type_info().name() {
                "INT2" => 2,
                "INT4" => 4,
                _ => 8,
            }
        };
        Ok(match width {
            2 => get::<Option<i16>>(self, col)?.map(i64::from),
            4 => get::<Option<i32>>(self, col)?.map(i64::from),
            _ => get::<Option<i64>>(self, col)?,
        })
    }
    fn flag(&self, col: &str) -> StoreResult<bool> {
        get(self, col)
    }
    fn uuid(&self, col: &str) -> StoreResult<Uuid> {
        get(self, col)
    }
    fn uuid_opt(&self, col: &str) -> StoreResult<Option<Uuid>> {
        get(self, col)
    }
    fn instant(&self, col: &str) -> StoreResult<DateTime<Utc>> {
        get(self, col)
    }
    fn instant_opt(&self, col: &str) -> StoreResult<Option<DateTime<Utc>>> {
        get(self, col)
    }
    fn date_opt(&self, col: &str) -> StoreResult<Option<NaiveDate>> {
        get(self, col)
    }
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
