//! The store handle: connecting, migrating, opening units of work, idempotency keys.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Postgres, Transaction};
use viewing_domain::idempotency::{
    self, Completed, Decision, IdempotencyKey, IdempotencyPolicy, KeyRow, RequestFingerprint,
};
use viewing_domain::ports::{
    Begin, IdempotencyStore, Store, StoreError, StoreResult, StoredResponse,
};
use viewing_domain::{EventEnvelope, UserId};

use crate::codec::{RowExt, corrupt, db_err, get};
use crate::uow::PgUow;

/// How long a request waits for a pooled connection before the store reports itself
/// unavailable (a server that is down fails faster: the connect is refused).
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// The PostgreSQL store. Clones share one pool.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Every unit of work runs at READ COMMITTED, named explicitly so a server default cannot
/// change it: after `lock_user_item` each statement sees everything committed before the lock
/// was granted. (REPEATABLE READ would pin the snapshot taken *before* waiting for the lock and
/// so read stale records.)
const BEGIN: &str = "BEGIN ISOLATION LEVEL READ COMMITTED";

impl PgStore {
    /// Connects to `url` (`postgres://user@host:5432/db`) and runs the migrations (sqlx takes
    /// an advisory lock for that, so replicas starting together migrate once).
    ///
    /// A first connection is made directly, within a few seconds: a server that cannot be
    /// reached, a database that does not exist or a refused login is [`StoreError::Unavailable`]
    /// naming the host and the cause, not a pool timeout.
    pub async fn connect(url: &str) -> Result<PgStore, StoreError> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::unexpected(format!("invalid PostgreSQL URL: {e}")))?;
        crate::open::check_reachable(&options).await?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(db_err)?;
        let store = PgStore { pool };
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
                "UPDATE movies SET title_key = $1 WHERE id = $2",
            ),
            (
                "shows",
                "SELECT id, title FROM shows WHERE title_key IS NULL LIMIT 5000",
                "UPDATE shows SET title_key = $1 WHERE id = $2",
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
                        .bind(row.uuid("id")?)
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
    pub fn pool(&self) -> &PgPool {
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
                let payload: String = r.text("payload")?;
                serde_json::from_str(&payload).map_err(|e| corrupt("outbox payload", e))
            })
            .collect()
    }

    pub(crate) async fn begin_tx(&self) -> StoreResult<Transaction<'static, Postgres>> {
        self.pool.begin_with(BEGIN).await.map_err(db_err)
    }
}

#[async_trait]
impl Begin for PgStore {
    type Uow = PgUow;

    #[tracing::instrument(level = "debug", skip_all)]
    async fn begin(&self) -> StoreResult<PgUow> {
        Ok(PgUow::new(self.begin_tx().await?))
    }
}

#[async_trait]
impl Store for PgStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }
}

/// How many times a claim retries when another request inserted the same key between its
/// look-up and its insert.
const CLAIM_ATTEMPTS: usize = 3;

/// The idempotency row of `user`'s `key`, locked `FOR UPDATE` until the transaction ends.
async fn locked_key_row(
    tx: &mut Transaction<'static, Postgres>,
    user: UserId,
    key: &IdempotencyKey,
) -> StoreResult<Option<KeyRow>> {
    let Some(row) = sqlx::query(
        "SELECT request_method, request_path, body_digest, claimed_at, completed_at, \
         response_status, response_location, response_body FROM idempotency_keys \
         WHERE user_id = $1 AND idempotency_key = $2 FOR UPDATE",
    )
    .bind(user.as_uuid())
    .bind(key.as_str())
    .fetch_optional(&mut **tx)
    .await
    .map_err(db_err)?
    else {
        return Ok(None);
    };
    let completed_at: Option<DateTime<Utc>> = row.instant_opt("completed_at")?;
    let status: Option<i64> = row.int_opt("response_status")?;
    let completed = match (completed_at, status) {
        (Some(at), Some(status)) => {
            let body: Option<Vec<u8>> = get(&row, "response_body")?;
            Some(Completed {
                at,
                response: StoredResponse {
                    status: u16::try_from(status).map_err(|e| corrupt("response_status", e))?,
                    location: row.text_opt("response_location")?,
                    body: body.unwrap_or_default(),
                },
            })
        }
        (None, None) => None,
        _ => return Err(corrupt("idempotency answer", "half written")),
    };
    Ok(Some(KeyRow {
        request: RequestFingerprint {
            method: row.text("request_method")?,
            path: row.text("request_path")?,
            body_digest: get(&row, "body_digest")?,
        },
        claimed_at: row.instant("claimed_at")?,
        completed,
    }))
}

#[async_trait]
impl IdempotencyStore for PgStore {
    /// Lock, decide, claim in one transaction: an existing row is locked `FOR UPDATE`, so two
    /// requests with one key decide one after the other; a new key is inserted, and if another
    /// request inserted it first, the claim starts over and finds that row.
    async fn claim_idempotency_key(
        &self,
        user: UserId,
        key: &IdempotencyKey,
        request: &RequestFingerprint,
        now: DateTime<Utc>,
        policy: IdempotencyPolicy,
    ) -> StoreResult<Decision> {
        for _ in 0..CLAIM_ATTEMPTS {
            let mut tx = self.begin_tx().await?;
            let existing = locked_key_row(&mut tx, user, key).await?;
            let decision = idempotency::decide(existing.as_ref(), request, now, policy);
            if !decision.claims() {
                return Ok(decision);
            }
            let claim = KeyRow::claim(request.clone(), now);
            let written = sqlx::query(
                "INSERT INTO idempotency_keys (user_id, idempotency_key, request_method, \
                 request_path, body_digest, claimed_at) VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (user_id, idempotency_key) DO UPDATE SET \
                 request_method = excluded.request_method, request_path = excluded.request_path, \
                 body_digest = excluded.body_digest, claimed_at = excluded.claimed_at, \
                 completed_at = NULL, response_status = NULL, response_location = NULL, \
                 response_body = NULL \
                 WHERE $7",
            )
            .bind(user.as_uuid())
            .bind(key.as_str())
            .bind(&claim.request.method)
            .bind(&claim.request.path)
            .bind(claim.request.body_digest.as_slice())
            .bind(claim.claimed_at)
            // Overwrite only the row this transaction locked and decided on; a row inserted by
            // someone else meanwhile must be decided on first.
            .bind(existing.is_some())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
            if written == 1 {
                tx.commit().await.map_err(db_err)?;
                return Ok(decision);
            }
        }
        Err(StoreError::Conflict(format!(
            "idempotency key {key:?} kept changing during the claim"
        )))
    }

    async fn complete_idempotency_key(
        &self,
        user: UserId,
        key: &IdempotencyKey,
        response: &StoredResponse,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE idempotency_keys SET completed_at = $3, response_status = $4, \
             response_location = $5, response_body = $6 \
             WHERE user_id = $1 AND idempotency_key = $2",
        )
        .bind(user.as_uuid())
        .bind(key.as_str())
        .bind(now)
        .bind(i32::from(response.status))
        .bind(response.location.as_deref())
        .bind(response.body.as_slice())
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn release_idempotency_key(&self, user: UserId, key: &IdempotencyKey) -> StoreResult<()> {
        sqlx::query(
            "DELETE FROM idempotency_keys \
             WHERE user_id = $1 AND idempotency_key = $2 AND completed_at IS NULL",
        )
        .bind(user.as_uuid())
        .bind(key.as_str())
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }
}
