//! The store handle: connecting, migrating, opening units of work, idempotency keys.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Row, SqliteConnection};
use viewing_domain::EventEnvelope;
use viewing_domain::UserId;
use viewing_domain::idempotency::{
    self, Completed, Decision, IdempotencyKey, IdempotencyPolicy, KeyRow, RequestFingerprint,
};
use viewing_domain::ports::{
    Begin, IdempotencyStore, Store, StoreError, StoreResult, StoredResponse,
};

use crate::codec::{RowExt, corrupt, db_err, id, ts};
use crate::uow::SqliteUow;
use crate::writer::{WriteTx, Writer};

/// How long a statement waits for another process's write lock before the store reports
/// itself unavailable.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The SQLite store. Clones share one pool and one writer.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// Serialises this process's units of work and commits them in groups (see
    /// [`SqliteStore::begin_write`]).
    writer: Writer,
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

impl SqliteStore {
    /// Opens (creating the file if missing) the database at `url` (`sqlite://viewing.db`,
    /// `sqlite::memory:`), in WAL mode with a busy timeout and foreign keys on, and runs the
    /// migrations.
    ///
    /// `synchronous = FULL`: every commit is on disk before it is acknowledged, so an
    /// acknowledged write survives `kill -9` and power loss alike.
    ///
    /// A file that cannot be opened is [`StoreError::Unavailable`] with a message naming the
    /// file and the cause (no such directory, not a directory, permission denied, …).
    pub async fn connect(url: &str) -> Result<SqliteStore, StoreError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::unexpected(format!("invalid SQLite URL: {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true);
        // An in-memory database lives as long as its connections: keep exactly one forever.
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let pool_options = if in_memory {
            SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
        } else {
            // Write units of work run one at a time (the gate): one connection for the writer,
            // the rest for read-only units of work, which WAL lets run beside it, and pings.
            SqlitePoolOptions::new().max_connections(8)
        };
        let file = options.get_filename().to_owned();
        let pool = pool_options
            .acquire_timeout(BUSY_TIMEOUT * 2)
            // A connection to a local file does not go stale: no ping before each use.
            .test_before_acquire(false)
            .connect_with(options)
            .await
            .map_err(|e| match e {
                sqlx::Error::Database(_) | sqlx::Error::Io(_) if !in_memory => {
                    crate::open::open_error(&file, &e)
                }
                e => db_err(e),
            })?;
        let store = SqliteStore {
            writer: Writer::new(pool.clone()),
            pool,
        };
        store.migrate().await?;
        Ok(store)
    }

    /// Applies every migration not applied yet (idempotent; `connect` already does it).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await.map_err(|e| match e {
            sqlx::migrate::MigrateError::Execute(e) => db_err(e),
            other => StoreError::unexpected(other),
        })?;
        self.fill_title_keys().await
    }

    /// Gives the movies and shows written before migration 0012 their title key, in batches
    /// (once: every later write sets it).
    async fn fill_title_keys(&self) -> Result<(), StoreError> {
        for (table, select, update) in [
            (
                "movies",
                "SELECT id, title FROM movies WHERE title_key IS NULL LIMIT 5000",
                "UPDATE movies SET title_key = ? WHERE id = ?",
            ),
            (
                "shows",
                "SELECT id, title FROM shows WHERE title_key IS NULL LIMIT 5000",
                "UPDATE shows SET title_key = ? WHERE id = ?",
            ),
        ] {
            loop {
                let rows = sqlx::query(select)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(db_err)?;
                if rows.is_empty() {
                    break;
                }
                let mut tx = self.pool.begin().await.map_err(db_err)?;
                for row in &rows {
                    let title = row.text("title")?;
                    sqlx::query(update)
                        .bind(viewing_domain::search::title_key(&title))
                        .bind(row.text("id")?)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                }
                tx.commit().await.map_err(db_err)?;
                tracing::info!(table, rows = rows.len(), "title keys filled");
            }
        }
        Ok(())
    }

    /// The underlying pool, for the later issues' tables (statistics, handlers) and the relay.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Closes every connection (tests and shutdown).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Every outbox event in append order, whether delivered or not (tests, diagnostics).
    pub async fn outbox_events(&self) -> StoreResult<Vec<EventEnvelope>> {
        let rows = sqlx::query("SELECT payload FROM outbox ORDER BY seq")
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                let payload = r.text("payload")?;
                serde_json::from_str(&payload).map_err(|e| corrupt("outbox payload", e))
            })
            .collect()
    }

    /// Starts a write unit of work behind this process's writer gate: in the open group
    /// transaction, or in a new one begun with `BEGIN IMMEDIATE` (see [`crate::writer`] for
    /// the group commit).
    ///
    /// Why: a deferred SQLite transaction that reads first and writes later cannot upgrade its
    /// lock if another connection committed in between (WAL: `SQLITE_BUSY_SNAPSHOT`, which the
    /// busy timeout does not retry), and two such transactions can deadlock. Units of work read
    /// the catalog and the user's records before they write, so every unit of work takes the
    /// write lock up front. SQLite allows one writer anyway; the in-process gate makes waiting
    /// writers queue fairly on a tokio mutex instead of polling in SQLite's busy handler, and
    /// keeps waiting tasks from holding pool connections. `BEGIN IMMEDIATE` still protects
    /// against other processes (`viewing-server migrate`, a catalog import) on the same file.
    /// Because units of work never overlap, [`crate::SqliteUow::lock_user_item`] needs no lock
    /// of its own.
    async fn begin_write(&self) -> StoreResult<WriteTx> {
        self.writer.begin().await
    }
}

#[async_trait]
impl Begin for SqliteStore {
    type Uow = SqliteUow;

    #[tracing::instrument(level = "debug", skip_all)]
    async fn begin(&self) -> StoreResult<SqliteUow> {
        Ok(SqliteUow::write(self.begin_write().await?))
    }

    /// A deferred transaction outside the writer gate: in WAL mode it reads the snapshot of its
    /// first statement while the one writer goes on, so queries never queue behind writes.
    async fn begin_read(&self) -> StoreResult<SqliteUow> {
        let tx = self.pool.begin().await.map_err(db_err)?;
        Ok(SqliteUow::read(tx))
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }
}

/// The idempotency row of `user`'s `key`, if any.
async fn key_row(
    conn: &mut SqliteConnection,
    user: UserId,
    key: &IdempotencyKey,
) -> StoreResult<Option<KeyRow>> {
    let Some(r) = sqlx::query(
        "SELECT request_method, request_path, body_digest, claimed_at, completed_at, \
         response_status, response_location, response_body \
         FROM idempotency_keys WHERE user_id = ? AND idempotency_key = ?",
    )
    .bind(id(user))
    .bind(key.as_str())
    .fetch_optional(conn)
    .await
    .map_err(db_err)?
    else {
        return Ok(None);
    };
    let blob = |col: &str| -> StoreResult<Option<Vec<u8>>> {
        r.try_get::<Option<Vec<u8>>, _>(col)
            .map_err(|e| corrupt(col, e))
    };
    let completed = match (
        r.instant_opt("completed_at")?,
        r.int_opt("response_status")?,
    ) {
        (Some(at), Some(status)) => Some(Completed {
            at,
            response: StoredResponse {
                status: u16::try_from(status).map_err(|e| corrupt("response_status", e))?,
                location: r.text_opt("response_location")?,
                body: blob("response_body")?.unwrap_or_default(),
            },
        }),
        (None, None) => None,
        _ => return Err(corrupt("idempotency answer", "half written")),
    };
    Ok(Some(KeyRow {
        request: RequestFingerprint {
            method: r.text("request_method")?,
            path: r.text("request_path")?,
            body_digest: blob("body_digest")?.unwrap_or_default(),
        },
        claimed_at: r.instant("claimed_at")?,
        completed,
    }))
}

#[async_trait]
impl IdempotencyStore for SqliteStore {
    /// Read, decide and claim inside one write transaction (behind the writer gate).
    async fn claim_idempotency_key(
        &self,
        user: UserId,
        key: &IdempotencyKey,
        request: &RequestFingerprint,
        now: DateTime<Utc>,
        policy: IdempotencyPolicy,
    ) -> StoreResult<Decision> {
        let mut tx = self.begin_write().await?;
        let existing = key_row(tx.conn(), user, key).await?;
        let decision = idempotency::decide(existing.as_ref(), request, now, policy);
        if decision.claims() {
            let claim = KeyRow::claim(request.clone(), now);
            sqlx::query(
                "INSERT INTO idempotency_keys (user_id, idempotency_key, request_method, \
                 request_path, body_digest, claimed_at) VALUES (?, ?, ?, ?, ?, ?) \
                 ON CONFLICT (user_id, idempotency_key) DO UPDATE SET \
                 request_method = excluded.request_method, request_path = excluded.request_path, \
                 body_digest = excluded.body_digest, claimed_at = excluded.claimed_at, \
                 completed_at = NULL, response_status = NULL, response_location = NULL, \
                 response_body = NULL",
            )
            .bind(id(user))
            .bind(key.as_str())
            .bind(&claim.request.method)
            .bind(&claim.request.path)
            .bind(claim.request.body_digest.as_slice())
            .bind(ts(claim.claimed_at))
            .execute(tx.conn())
            .await
            .map_err(db_err)?;
            tx.commit().await?;
        }
        Ok(decision)
    }

    async fn complete_idempotency_key(
        &self,
        user: UserId,
        key: &IdempotencyKey,
        response: &StoredResponse,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE idempotency_keys SET completed_at = ?, response_status = ?, \
             response_location = ?, response_body = ? \
             WHERE user_id = ? AND idempotency_key = ?",
        )
        .bind(ts(now))
        .bind(i64::from(response.status))
        .bind(response.location.as_deref())
        .bind(response.body.as_slice())
        .bind(id(user))
        .bind(key.as_str())
        .execute(tx.conn())
        .await
        .map_err(db_err)?;
        tx.commit().await
    }

    async fn release_idempotency_key(&self, user: UserId, key: &IdempotencyKey) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "DELETE FROM idempotency_keys \
             WHERE user_id = ? AND idempotency_key = ? AND completed_at IS NULL",
        )
        .bind(id(user))
        .bind(key.as_str())
        .execute(tx.conn())
        .await
        .map_err(db_err)?;
        tx.commit().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use viewing_domain::Movie;
    use viewing_domain::ports::{CatalogRepository, Transaction};
    use viewing_domain::values::{Minutes, Title};

    /// Queries do not queue behind an open write: WAL gives them the last committed snapshot.
    #[tokio::test]
    async fn a_read_runs_beside_an_open_write_and_sees_only_committed_data() {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("read.db").display());
        let store = SqliteStore::connect(&url).await.expect("connect");
        let movie = Movie {
            id: uuid::Uuid::now_v7().into(),
            title: Title::parse("Heat").ok().flatten().expect("title"),
            runtime: Minutes::from_u32_saturating(170),
            genres: vec![],
            release_date: None,
            external_ids: Default::default(),
        };
        let mut writer = store.begin().await.expect("write unit of work");
        writer.upsert_movie(&movie).await.expect("upsert");

        // Would wait forever behind the writer gate if reads took it.
        let mut reader = tokio::time::timeout(Duration::from_secs(30), store.begin_read())
            .await
            .expect("a read must not wait for the open write")
            .expect("read unit of work");
        assert_eq!(reader.movie(movie.id).await.expect("read"), None);
        drop(reader);

        writer.commit().await.expect("commit");
        let mut reader = store.begin_read().await.expect("read unit of work");
        assert_eq!(reader.movie(movie.id).await.expect("read"), Some(movie));
    }
}
