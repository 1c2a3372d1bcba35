//! The store handle: connecting, migrating, opening units of work, idempotency keys.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Postgres, Transaction};
use viewing_domain::ports::{
    IdempotencyClaim, IdempotencyStore, Store, StoreError, StoreResult, StoredResponse,
};
use viewing_domain::{EventEnvelope, UserId};

use crate::codec::{corrupt, db_err, get, ts};
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
        })
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
                let payload: String = get(r, "payload")?;
                serde_json::from_str(&payload).map_err(|e| corrupt("outbox payload", e))
            })
            .collect()
    }

    pub(crate) async fn begin_tx(&self) -> StoreResult<Transaction<'static, Postgres>> {
        self.pool.begin_with(BEGIN).await.map_err(db_err)
    }
}

#[async_trait]
impl Store for PgStore {
    type Uow = PgUow;

    async fn begin(&self) -> StoreResult<PgUow> {
        Ok(PgUow::new(self.begin_tx().await?))
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }
}

/// How many times a claim retries when the row it saw vanished before it could lock it.
const CLAIM_ATTEMPTS: usize = 3;

#[async_trait]
impl IdempotencyStore for PgStore {
    /// Insert-or-lock: a new key is inserted (`Claimed`); an existing row is locked with
    /// `FOR UPDATE`, so two requests with one key decide one after the other.
    async fn claim_idempotency_key(
        &self,
        user: UserId,
        key: &str,
        now: DateTime<Utc>,
        ttl: chrono::Duration,
        stale_after: chrono::Duration,
    ) -> StoreResult<IdempotencyClaim> {
        for _ in 0..CLAIM_ATTEMPTS {
            let mut tx = self.begin_tx().await?;
            let inserted = sqlx::query(
                "INSERT INTO idempotency_keys (user_id, idempotency_key, claimed_at) \
                 VALUES ($1, $2, $3) ON CONFLICT (user_id, idempotency_key) DO NOTHING",
            )
            .bind(user.as_uuid())
            .bind(key)
            .bind(ts(now))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
            if inserted == 1 {
                tx.commit().await.map_err(db_err)?;
                return Ok(IdempotencyClaim::Claimed);
            }
            let Some(row) = sqlx::query(
                "SELECT claimed_at, completed_at, response_status, response_location, \
                 response_body FROM idempotency_keys \
                 WHERE user_id = $1 AND idempotency_key = $2 FOR UPDATE",
            )
            .bind(user.as_uuid())
            .bind(key)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?
            else {
                // Released between the insert and the lock: try again.
                continue;
            };
            let claimed_at: DateTime<Utc> = get(&row, "claimed_at")?;
            let completed_at: Option<DateTime<Utc>> = get(&row, "completed_at")?;
            let status: Option<i32> = get(&row, "response_status")?;
            match (completed_at, status) {
                (Some(done), Some(status)) if now - done < ttl => {
                    let body: Option<Vec<u8>> = get(&row, "response_body")?;
                    return Ok(IdempotencyClaim::Completed(StoredResponse {
                        status: u16::try_from(status).map_err(|e| corrupt("response_status", e))?,
                        location: get(&row, "response_location")?,
                        body: body.unwrap_or_default(),
                    }));
                }
                (None, _) if now - claimed_at < stale_after => {
                    return Ok(IdempotencyClaim::InProgress);
                }
                _ => {}
            }
            sqlx::query(
                "UPDATE idempotency_keys SET claimed_at = $3, completed_at = NULL, \
                 response_status = NULL, response_location = NULL, response_body = NULL \
                 WHERE user_id = $1 AND idempotency_key = $2",
            )
            .bind(user.as_uuid())
            .bind(key)
            .bind(ts(now))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            tx.commit().await.map_err(db_err)?;
            return Ok(IdempotencyClaim::Claimed);
        }
        Err(StoreError::Conflict(format!(
            "idempotency key {key:?} kept changing during the claim"
        )))
    }

    async fn complete_idempotency_key(
        &self,
        user: UserId,
        key: &str,
        response: &StoredResponse,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO idempotency_keys (user_id, idempotency_key, claimed_at, completed_at, \
             response_status, response_location, response_body) \
             VALUES ($1, $2, $3, $3, $4, $5, $6) \
             ON CONFLICT (user_id, idempotency_key) DO UPDATE SET \
             completed_at = excluded.completed_at, response_status = excluded.response_status, \
             response_location = excluded.response_location, \
             response_body = excluded.response_body",
        )
        .bind(user.as_uuid())
        .bind(key)
        .bind(ts(now))
        .bind(i32::from(response.status))
        .bind(response.location.as_deref())
        .bind(response.body.as_slice())
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn release_idempotency_key(&self, user: UserId, key: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM idempotency_keys WHERE user_id = $1 AND idempotency_key = $2")
            .bind(user.as_uuid())
            .bind(key)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }
}
