//! Media servers' integrations and their inboxes (SPEC §13).

use adapters_sql::decode;
use async_trait::async_trait;
use viewing_domain::integrations::{Delivery, Integration};
use viewing_domain::ports::{IntegrationRepository, StoreError, StoreResult};
use viewing_domain::{DeliveryId, IntegrationId, UserId};

use crate::codec::{RowExt, db_err, id, id_opt, ts, ts_opt};
use crate::uow::SqliteUow;

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

fn integration_of(row: &sqlx::sqlite::SqliteRow) -> StoreResult<Integration> {
    let accounts: Vec<String> = serde_json::from_str(&row.text("accounts")?)
        .map_err(|e| adapters_sql::corrupt("accounts", e))?;
    decode::integration(row, accounts)
}

#[async_trait]
impl IntegrationRepository for SqliteUow {
    async fn save_integration(&mut self, i: &Integration) -> StoreResult<()> {
        let accounts = serde_json::to_string(&i.accounts).map_err(StoreError::unexpected)?;
        sqlx::query(
            "INSERT INTO integrations (id, user_id, kind, secret_hash, accounts, created_at, \
             revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (id) DO UPDATE SET accounts = excluded.accounts, \
             revoked_at = excluded.revoked_at",
        )
        .bind(id(i.id))
        .bind(id(i.user_id))
        .bind(i.kind.as_str())
        .bind(&i.secret_hash)
        .bind(accounts)
        .bind(ts(i.created_at))
        .bind(ts_opt(i.revoked_at))
        .execute(self.conn())
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn integration_by_secret(
        &mut self,
        secret_hash: &str,
    ) -> StoreResult<Option<Integration>> {
        let row = sqlx::query(concat!(select_integrations!(), " WHERE secret_hash = ?"))
            .bind(secret_hash)
            .fetch_optional(self.conn())
            .await
            .map_err(db_err)?;
        row.as_ref().map(integration_of).transpose()
    }

    async fn integration(
        &mut self,
        user: UserId,
        iid: IntegrationId,
    ) -> StoreResult<Option<Integration>> {
        let row = sqlx::query(concat!(
            select_integrations!(),
            " WHERE id = ? AND user_id = ?"
        ))
        .bind(id(iid))
        .bind(id(user))
        .fetch_optional(self.conn())
        .await
        .map_err(db_err)?;
        row.as_ref().map(integration_of).transpose()
    }

    async fn integrations_of(&mut self, user: UserId) -> StoreResult<Vec<Integration>> {
        let rows = sqlx::query(concat!(
            select_integrations!(),
            " WHERE user_id = ? ORDER BY created_at DESC, id DESC"
        ))
        .bind(id(user))
        .fetch_all(self.conn())
        .await
        .map_err(db_err)?;
        rows.iter().map(integration_of).collect()
    }

    async fn save_delivery(&mut self, d: &Delivery) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO deliveries (id, integration_id, received_at, payload, outcome, reason, \
             record_id, handled_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (id) DO UPDATE SET outcome = excluded.outcome, \
             reason = excluded.reason, record_id = excluded.record_id, \
             handled_at = excluded.handled_at",
        )
        .bind(id(d.id))
        .bind(id(d.integration_id))
        .bind(ts(d.received_at))
        .bind(&d.payload)
        .bind(d.outcome.as_str())
        .bind(d.reason.as_deref())
        .bind(id_opt(d.record_id))
        .bind(ts(d.handled_at))
        .execute(self.conn())
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn delivery(
        &mut self,
        integration: IntegrationId,
        did: DeliveryId,
    ) -> StoreResult<Option<Delivery>> {
        let row = sqlx::query(concat!(
            select_deliveries!(),
            " WHERE id = ? AND integration_id = ?"
        ))
        .bind(id(did))
        .bind(id(integration))
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
            " WHERE integration_id = ? ORDER BY received_at DESC, id DESC LIMIT ? OFFSET ?"
        ))
        .bind(id(integration))
        .bind(i64::from(limit))
        .bind(i64::from(offset))
        .fetch_all(self.conn())
        .await
        .map_err(db_err)?;
        rows.iter().map(decode::delivery).collect()
    }
}
