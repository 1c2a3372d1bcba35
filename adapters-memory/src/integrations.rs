//! Media servers' integrations and their inboxes (SPEC §13) in memory.

use crate::store::MemoryUow;
use async_trait::async_trait;
use viewing_domain::integrations::{Delivery, Integration};
use viewing_domain::ports::*;
use viewing_domain::{DeliveryId, IntegrationId, UserId};

#[async_trait]
impl IntegrationRepository for MemoryUow {
    async fn save_integration(&mut self, integration: &Integration) -> StoreResult<()> {
        if self
            .work
            .integrations
            .iter()
            .any(|i| i.secret_hash == integration.secret_hash && i.id != integration.id)
        {
            return Err(StoreError::Conflict("the secret is taken".to_owned()));
        }
        match self
            .work
            .integrations
            .iter_mut()
            .find(|i| i.id == integration.id)
        {
            Some(kept) => {
                kept.accounts.clone_from(&integration.accounts);
                kept.revoked_at = integration.revoked_at;
            }
            None => self.work.integrations.push(integration.clone()),
        }
        Ok(())
    }

    async fn integration_by_secret(
        &mut self,
        secret_hash: &str,
    ) -> StoreResult<Option<Integration>> {
        Ok(self
            .work
            .integrations
            .iter()
            .find(|i| i.secret_hash == secret_hash)
            .cloned())
    }

    async fn integration(
        &mut self,
        user: UserId,
        id: IntegrationId,
    ) -> StoreResult<Option<Integration>> {
        Ok(self
            .work
            .integrations
            .iter()
            .find(|i| i.id == id && i.user_id == user)
            .cloned())
    }

    async fn integrations_of(&mut self, user: UserId) -> StoreResult<Vec<Integration>> {
        let mut out: Vec<Integration> = self
            .work
            .integrations
            .iter()
            .filter(|i| i.user_id == user)
            .cloned()
            .collect();
        out.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        Ok(out)
    }

    async fn save_delivery(&mut self, delivery: &Delivery) -> StoreResult<()> {
        match self
            .work
            .deliveries
            .iter_mut()
            .find(|d| d.id == delivery.id)
        {
            Some(kept) => {
                kept.outcome = delivery.outcome;
                kept.reason.clone_from(&delivery.reason);
                kept.record_id = delivery.record_id;
                kept.handled_at = delivery.handled_at;
            }
            None => self.work.deliveries.push(delivery.clone()),
        }
        Ok(())
    }

    async fn delivery(
        &mut self,
        integration: IntegrationId,
        id: DeliveryId,
    ) -> StoreResult<Option<Delivery>> {
        Ok(self
            .work
            .deliveries
            .iter()
            .find(|d| d.id == id && d.integration_id == integration)
            .cloned())
    }

    async fn deliveries(
        &mut self,
        integration: IntegrationId,
        offset: u32,
        limit: u32,
    ) -> StoreResult<Vec<Delivery>> {
        let mut out: Vec<Delivery> = self
            .work
            .deliveries
            .iter()
            .filter(|d| d.integration_id == integration)
            .cloned()
            .collect();
        out.sort_by(|a, b| b.received_at.cmp(&a.received_at).then(b.id.cmp(&a.id)));
        Ok(out
            .into_iter()
            .skip(offset as usize)
            .take(limit as usize)
            .collect())
    }
}
