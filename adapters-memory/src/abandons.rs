//! Abandon records in memory.

use std::collections::HashMap;

use crate::store::MemoryUow;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use viewing_domain::ports::*;
use viewing_domain::{AbandonId, AbandonRecord, UserId};

#[async_trait]
impl AbandonRepository for MemoryUow {
    async fn insert_abandon(&mut self, record: &AbandonRecord) -> StoreResult<()> {
        self.work.abandons.push(record.clone());
        Ok(())
    }

    async fn delete_abandon(&mut self, user: UserId, id: AbandonId) -> StoreResult<bool> {
        let before = self.work.abandons.len();
        self.work
            .abandons
            .retain(|a| !(a.id == id && a.user_id == user));
        Ok(self.work.abandons.len() < before)
    }

    async fn abandon_record(
        &mut self,
        user: UserId,
        id: AbandonId,
    ) -> StoreResult<Option<AbandonRecord>> {
        Ok(self
            .work
            .abandons
            .iter()
            .find(|a| a.id == id && a.user_id == user)
            .cloned())
    }

    async fn latest_abandon(
        &mut self,
        user: UserId,
        item: uuid::Uuid,
    ) -> StoreResult<Option<AbandonRecord>> {
        Ok(self
            .work
            .abandons
            .iter()
            .filter(|a| a.user_id == user && a.item_id == item)
            .max_by_key(|a| (a.abandon_date, a.created_at, a.id))
            .cloned())
    }

    async fn latest_abandons(
        &mut self,
        user: UserId,
        items: &[uuid::Uuid],
    ) -> StoreResult<HashMap<uuid::Uuid, AbandonRecord>> {
        let mut out: HashMap<uuid::Uuid, AbandonRecord> = HashMap::new();
        for a in self
            .work
            .abandons
            .iter()
            .filter(|a| a.user_id == user && items.contains(&a.item_id))
        {
            let key = |a: &AbandonRecord| (a.abandon_date, a.created_at, a.id);
            match out.get(&a.item_id) {
                Some(kept) if key(kept) >= key(a) => {}
                _ => {
                    out.insert(a.item_id, a.clone());
                }
            }
        }
        Ok(out)
    }

    async fn abandons_between(
        &mut self,
        user: UserId,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> StoreResult<Vec<AbandonRecord>> {
        let mut out: Vec<AbandonRecord> = self
            .work
            .abandons
            .iter()
            .filter(|a| {
                a.user_id == user
                    && from.is_none_or(|f| a.abandon_date >= f)
                    && to.is_none_or(|t| a.abandon_date < t)
            })
            .cloned()
            .collect();
        out.sort_by_key(|a| std::cmp::Reverse((a.abandon_date, a.id)));
        Ok(out)
    }
}
