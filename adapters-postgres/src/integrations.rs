//! Media servers' integrations and their inboxes (SPEC §13).

use adapters_sql::decode;
use async_trait::async_trait;
use sqlx::Row;
use viewing_domain::integrations::{Delivery, Integration};
use viewing_domain::ports::{IntegrationRepository, StoreResult};
use viewing_domain::{DeliveryId, IntegrationId, UserId};

use crate::codec::db_err;
use crate::uow::PgUow;

macro_rules! select_integrations {
    () => {
        "SELECT id, user_id, kind, secret_hash, accounts, created_at, revoked_at FROM integrations"
    };
}

macro_rules! select_deliveries {
    () => {
        "SELECT id, integration_id, received_at, payload, outcome, reason, record_id, handled_at \
         FROM deliveries"
    };
}

fn integration_of(row: &sqlx::postgres::PgRow) -> StoreResult<Integration> {
    let accounts: Vec<String> = row
        .try_get("accounts")
        .map_err(|e| adapters_sql::corrupt("accounts", e))?;
    decode::integration(row, accounts)
}

#[async_trait]
impl IntegrationRepository for PgUow {
    async fn save_integration(&mut self, i: &Integration) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO integrations (id, user_id, kind, secret_hash, accounts, created_at, \
             revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (id) DO UPDATE SET accounts = excluded.accounts, \
             revoked_at = excluded.revoked_at",
        )
        .bind(i.id.as_uuid())
        .bind(i.user_id.as_uuid())
        .bind(i.kind.as_str())
        .bind(&i.secret_hash)
        .bind(&i.accounts)
        .bind(i.created_at)
        .bind(i.revoked_at)
        .execute(self.conn())
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn integration_by_secret(
        &mut self,
        secret_hash: &str,
    ) -> StoreResult<Option<Integration>> {
        let row = sqlx::query(concat!(select_integrations!(), " WHERE secret_hash = $1"))
            .bind(secret_hash)
            .fetch_optional(self.conn())
            .await
            .map_err(db_err)?;
        row.as_ref().map(integration_of).transpose()
    }

    async fn integration(
        &mut self,
        user: UserId,
        id: IntegrationId,
    ) -> StoreResult<Option<Integration>> {
        let row = sqlx::query(concat!(
            select_integrations!(),
            " WHERE id = $1 AND user_id = $2"
        ))
        .bind(id.as_uuid())
        .bind(user.as_uuid())
        .fetch_optional(self.conn())
        .await
        .map_err(db_err)?;
        row.as_ref().map(integration_of).transpose()
    }

    async fn integrations_of(&mut self, user: UserId) -> StoreResult<Vec<Integration>> {
        let rows = sqlx::query(concat!(
            select_integrations!(),
            " WHERE user_id = $1 ORDER BY created_at DESC, id DESC"
        ))
        .bind(user.as_uuid())
        .fetch_all(self.conn())
        .await
        .map_err(db_err)?;
        rows.iter().map(integration_of).collect()
    }

    async fn save_delivery(&mut self, d: &Delivery) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO deliveries (id, integration_id, received_at, payload, outcome, reason, \
             record_id, handled_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (id) DO UPDATE SET outcome = excluded.outcome, \
             reason = excluded.reason, record_id = excluded.record_id, \
             handled_at = excluded.handled_at",
        )
        .bind(d.id.as_uuid())
        .bind(d.integration_id.as_uuid())
        .bind(d.received_at)
        .bind(&d.payload)
        .bind(d.outcome.as_str())
        .bind(d.reason.as_deref())
        .bind(d.record_id.map(|r| r.as_uuid()))
        .bind(d.handled_at)
        .execute(self.conn())
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn delivery(
        &mut self,
        integration: IntegrationId,
        id: DeliveryId,
    ) -> StoreResult<Option<Delivery>> {
        let row = sqlx::query(concat!(
            select_deliveries!(),
            " WHERE id = $1 AND integration_id = $2"
        ))
        .bind(id.as_uuid())
        .bind(integration.as_uuid())
        .fetch_optional(self.conn())
        .await
        .map_err(db_err)?;
        row.as_ref().map(decode::delivery).transpose()
    }

    async fn deliveries(
        &mut self,
        integration: IntegrationId,
        offset: u32,
        limit: u32,
    ) -> StoreResult<Vec<Delivery>> {
        let rows = sqlx::query(concat!(
            select_deliveries!(),
            " WHERE integration_id = $1 ORDER BY received_at DESC, id DESC LIMIT $2 OFFSET $3"
        ))
        .bind(integration.as_uuid())
        .bind(i64::from(limit))
        .bind(i64::from(offset))
        .fetch_all(self.conn())
        .await
        .map_err(db_err)?;
        rows.iter().map(decode::delivery).collect()
    }
}
