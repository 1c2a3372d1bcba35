//! The statistics buckets in memory.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use viewing_domain::handler_ports::StatisticsRepository;
use viewing_domain::ports::StoreResult;
use viewing_domain::stats::{BingeStat, BucketKey, BucketSpan, StatsDelta};
use viewing_domain::{BingeSessionId, UserId};

use crate::events::{binge, buckets, write};
use crate::store::MemoryUow;

#[async_trait]
impl StatisticsRepository for MemoryUow {
    async fn add_to_buckets(
        &mut self,
        user: UserId,
        keys: &[BucketKey],
        delta: &StatsDelta,
    ) -> StoreResult<()> {
        let (state, journal) = self.events();
        for k in keys {
            let id = (user, k.granularity, k.start);
            let mut bucket = state.buckets.get(&id).cloned().unwrap_or_default();
            bucket.combine(delta);
            write(state, journal, buckets, id, Some(bucket));
        }
        Ok(())
    }

    async fn read_buckets(
        &mut self,
        user: UserId,
        spans: &[BucketSpan],
    ) -> StoreResult<StatsDelta> {
        let mut total = StatsDelta::default();
        for span in spans {
            let range = (user, span.granularity, span.from)..(user, span.granularity, span.to);
            for bucket in self.guard.events.buckets.range(range).map(|(_, b)| b) {
                total.combine(bucket);
            }
        }
        Ok(total)
    }

    async fn binge_stat(&mut self, session: BingeSessionId) -> StoreResult<Option<BingeStat>> {
        Ok(self.guard.events.binge.get(&session).copied())
    }

    async fn longest_binge(
        &mut self,
        user: UserId,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> StoreResult<u32> {
        Ok(self
            .guard
            .events
            .binge
            .values()
            .filter(|s| s.user_id == user)
            .filter(|s| from.is_none_or(|f| s.start >= f) && to.is_none_or(|t| s.start < t))
            .map(|s| s.episodes)
            .max()
            .unwrap_or(0))
    }

    async fn save_binge_stat(&mut self, stat: &BingeStat) -> StoreResult<()> {
        let (state, journal) = self.events();
        write(state, journal, binge, stat.session_id, Some(*stat));
        Ok(())
    }
}
