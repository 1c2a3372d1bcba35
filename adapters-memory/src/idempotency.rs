//! Idempotency keys in memory: the store's lock serialises the claims.

use crate::store::MemoryStore;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use viewing_domain::UserId;
use viewing_domain::idempotency::{
    self, Completed, Decision, IdempotencyKey, IdempotencyPolicy, KeyRow, RequestFingerprint,
};
use viewing_domain::ports::*;

#[async_trait]
impl IdempotencyStore for MemoryStore {
    /// Decides under the store's lock, so two requests with one key decide one after the other.
    async fn claim_idempotency_key(
        &self,
        user: UserId,
        key: &IdempotencyKey,
        request: &RequestFingerprint,
        now: DateTime<Utc>,
        policy: IdempotencyPolicy,
    ) -> StoreResult<Decision> {
        let mut shared = self.lock().await?;
        let keys = &mut shared.state.idempotency;
        let slot = (user, key.clone());
        let decision = idempotency::decide(keys.get(&slot), request, now, policy);
        if decision.claims() {
            keys.insert(slot, KeyRow::claim(request.clone(), now));
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
        let mut shared = self.lock().await?;
        if let Some(row) = shared.state.idempotency.get_mut(&(user, key.clone())) {
            row.completed = Some(Completed {
                at: now,
                response: response.clone(),
            });
        }
        Ok(())
    }

    async fn release_idempotency_key(&self, user: UserId, key: &IdempotencyKey) -> StoreResult<()> {
        let mut shared = self.lock().await?;
        let slot = (user, key.clone());
        if shared
            .state
            .idempotency
            .get(&slot)
            .is_some_and(|row| row.completed.is_none())
        {
            shared.state.idempotency.remove(&slot);
        }
        Ok(())
    }
}
