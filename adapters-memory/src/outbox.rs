//! The outbox in memory, inside a unit of work: appended events and the handlers' processed marks.

use crate::events::{processed, write};
use crate::store::MemoryUow;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use viewing_domain::EventEnvelope;
use viewing_domain::EventId;
use viewing_domain::event_ports::ProcessedEvents;
use viewing_domain::ports::*;

#[async_trait]
impl Outbox for MemoryUow {
    async fn append_events(&mut self, events: &[EventEnvelope]) -> StoreResult<()> {
        self.work.outbox.extend_from_slice(events);
        Ok(())
    }
}

#[async_trait]
impl ProcessedEvents for MemoryUow {
    async fn mark_processed(
        &mut self,
        handler: &str,
        event: EventId,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let key = (handler.to_owned(), event);
        let (state, journal) = self.events();
        if state.processed.contains_key(&key) {
            return Ok(false);
        }
        write(state, journal, processed, key, Some(now));
        Ok(true)
    }
}
