//! Viewing records in memory.

use std::collections::HashMap;

use crate::store::MemoryUow;
use async_trait::async_trait;
use viewing_domain::ports::*;
use viewing_domain::{BingeSessionId, RecordId, ShowId, UserId, ViewingRecord};

pub(crate) fn matches(r: &ViewingRecord, f: &HistoryFilter) -> bool {
    f.from.is_none_or(|from| r.watch_date >= from)
        && f.to.is_none_or(|to| r.watch_date < to)
        && f.content_type.is_none_or(|t| r.watched.content_type() == t)
        && f.platform.as_ref().is_none_or(|p| {
            r.platform
                .as_ref()
                .is_some_and(|rp| rp.as_str().eq_ignore_ascii_case(p))
        })
}

#[async_trait]
impl ViewingRecordRepository for MemoryUow {
    async fn insert_record(&mut self, record: &ViewingRecord) -> StoreResult<()> {
        if self.work.records.iter().any(|r| r.id == record.id) {
            return Err(StoreError::Conflict(format!("record {} exists", record.id)));
        }
        self.work.records.push(record.clone());
        Ok(())
    }

    async fn set_binge_session(
        &mut self,
        record: RecordId,
        session: Option<BingeSessionId>,
    ) -> StoreResult<()> {
        if let Some(r) = self.work.records.iter_mut().find(|r| r.id == record) {
            r.binge_session_id = session;
        }
        Ok(())
    }

    async fn record(&mut self, user: UserId, id: RecordId) -> StoreResult<Option<ViewingRecord>> {
        Ok(self
            .work
            .records
            .iter()
            .find(|r| r.id == id && r.user_id == user)
            .cloned())
    }

    async fn delete_record(&mut self, user: UserId, id: RecordId) -> StoreResult<bool> {
        let before = self.work.records.len();
        self.work
            .records
            .retain(|r| !(r.id == id && r.user_id == user));
        Ok(self.work.records.len() < before)
    }

    async fn records_of_content(
        &mut self,
        user: UserId,
        content: uuid::Uuid,
    ) -> StoreResult<Vec<ViewingRecord>> {
        Ok(self
            .work
            .records
            .iter()
            .filter(|r| r.user_id == user && r.watched.content_id() == content)
            .cloned()
            .collect())
    }

    async fn count_records_of(&mut self, user: UserId, content: uuid::Uuid) -> StoreResult<u64> {
        Ok(self
            .work
            .records
            .iter()
            .filter(|r| r.user_id == user && r.watched.content_id() == content)
            .count() as u64)
    }

    async fn episode_records(
        &mut self,
        user: UserId,
        show: ShowId,
    ) -> StoreResult<Vec<ViewingRecord>> {
        Ok(self
            .work
            .records
            .iter()
            .filter(|r| r.user_id == user && r.watched.show_id() == Some(show))
            .cloned()
            .collect())
    }

    async fn episode_records_of_shows(
        &mut self,
        user: UserId,
        shows: &[ShowId],
    ) -> StoreResult<HashMap<ShowId, Vec<ViewingRecord>>> {
        let mut out: HashMap<ShowId, Vec<ViewingRecord>> = HashMap::new();
        for r in self.work.records.iter().filter(|r| r.user_id == user) {
            if let Some(show) = r.watched.show_id()
                && shows.contains(&show)
            {
                out.entry(show).or_default().push(r.clone());
            }
        }
        Ok(out)
    }

    async fn history(
        &mut self,
        user: UserId,
        filter: &HistoryFilter,
        paging: HistoryPaging,
    ) -> StoreResult<HistorySlice> {
        let mut all: Vec<&ViewingRecord> = self
            .work
            .records
            .iter()
            .filter(|r| r.user_id == user && matches(r, filter))
            .collect();
        all.sort_by_key(|r| std::cmp::Reverse((r.watch_date, r.id)));
        let total_items = all.len() as u64;
        let items = match paging {
            HistoryPaging::Page { page, limit } => all
                .into_iter()
                .skip((page.saturating_sub(1) as usize).saturating_mul(limit as usize))
                .take(limit as usize)
                .cloned()
                .collect(),
            HistoryPaging::First { limit } => {
                all.into_iter().take(limit as usize).cloned().collect()
            }
            HistoryPaging::After { cursor, limit } => all
                .into_iter()
                .filter(|r| (r.watch_date, r.id) < (cursor.watch_date, cursor.id))
                .take(limit as usize)
                .cloned()
                .collect(),
        };
        Ok(HistorySlice { items, total_items })
    }
}
