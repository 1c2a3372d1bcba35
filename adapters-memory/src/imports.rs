//! Imports (SPEC §12) in memory.

use std::collections::HashSet;

use crate::store::MemoryUow;
use async_trait::async_trait;
use viewing_domain::imports::{Import, ImportItem, ImportLink, RowOutcome};
use viewing_domain::ports::*;
use viewing_domain::{ImportId, UserId};

#[async_trait]
impl ImportRepository for MemoryUow {
    async fn save_import(&mut self, import: &Import) -> StoreResult<()> {
        match self.work.imports.iter_mut().find(|i| i.id == import.id) {
            Some(kept) => *kept = import.clone(),
            None => self.work.imports.push(import.clone()),
        }
        Ok(())
    }

    async fn import(&mut self, user: UserId, id: ImportId) -> StoreResult<Option<Import>> {
        Ok(self
            .work
            .imports
            .iter()
            .find(|i| i.id == id && i.user_id == user)
            .cloned())
    }

    async fn imports_of(&mut self, user: UserId) -> StoreResult<Vec<Import>> {
        let mut out: Vec<Import> = self
            .work
            .imports
            .iter()
            .filter(|i| i.user_id == user)
            .cloned()
            .collect();
        out.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        Ok(out)
    }

    async fn save_import_items(&mut self, id: ImportId, items: &[ImportItem]) -> StoreResult<()> {
        let mut items = items.to_vec();
        items.sort_by_key(|i| i.row);
        self.work.import_items.insert(id, items);
        Ok(())
    }

    async fn import_items(
        &mut self,
        id: ImportId,
        outcome: Option<RowOutcome>,
        offset: u32,
        limit: u32,
    ) -> StoreResult<Vec<ImportItem>> {
        Ok(self
            .work
            .import_items
            .get(&id)
            .map(|items| {
                items
                    .iter()
                    .filter(|i| outcome.is_none_or(|o| i.outcome == o))
                    .skip(offset as usize)
                    .take(limit as usize)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn held_source_keys(
        &mut self,
        user: UserId,
        keys: &[String],
    ) -> StoreResult<HashSet<String>> {
        let wanted: HashSet<&String> = keys.iter().collect();
        Ok(self
            .work
            .import_links
            .iter()
            .filter(|(u, k, _, _)| *u == user && wanted.contains(k))
            .map(|(_, k, _, _)| k.clone())
            .collect())
    }

    async fn link_import_item(
        &mut self,
        user: UserId,
        import: ImportId,
        key: &str,
        link: ImportLink,
    ) -> StoreResult<()> {
        if self
            .work
            .import_links
            .iter()
            .any(|(u, k, _, _)| *u == user && k == key)
        {
            return Err(StoreError::Conflict(format!(
                "the play {key} was imported already"
            )));
        }
        self.work
            .import_links
            .push((user, key.to_owned(), import, link));
        Ok(())
    }

    async fn import_links(
        &mut self,
        user: UserId,
        import: ImportId,
    ) -> StoreResult<Vec<ImportLink>> {
        Ok(self
            .work
            .import_links
            .iter()
            .filter(|(u, _, i, _)| *u == user && *i == import)
            .map(|(_, _, _, r)| *r)
            .collect())
    }

    async fn unlink_import_items(&mut self, user: UserId, import: ImportId) -> StoreResult<()> {
        self.work
            .import_links
            .retain(|(u, _, i, _)| !(*u == user && *i == import));
        Ok(())
    }
}
