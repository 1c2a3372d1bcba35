//! The outbox on SQLite, inside a unit of work: events appended with the records they describe,
//! and the handlers' processed marks (a handler's effects commit with its mark). The relay's
//! side is in `relay.rs`. Tables: `migrations/0002_events.sql`.

use adapters_sql::outbox;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use viewing_domain::event_ports::ProcessedEvents;
use viewing_domain::ports::Outbox;
use viewing_domain::ports::StoreResult;
use viewing_domain::{EventEnvelope, EventId};

use crate::codec::{RowExt, db_err, id, id_list, ts};
use crate::uow::SqliteUow;

#[async_trait]
impl ProcessedEvents for SqliteUow {
    #[tracing::instrument(level = "debug", skip_all)]
    async fn mark_processed(
        &mut self,
        handler: &str,
        event: EventId,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "INSERT INTO processed_events (handler, event_id, processed_at) VALUES (?, ?, ?) \
             ON CONFLICT (handler, event_id) DO NOTHING",
        )
        .bind(handler)
        .bind(id(event))
        .bind(ts(now))
        .execute(self.conn())
        .await
        .map_err(db_err)?;
        Ok(done.rows_affected() == 1)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(events = events.len()))]
    async fn mark_processed_many(
        &mut self,
        handler: &str,
        events: &[EventId],
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<bool>> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        // `WHERE true` tells SQLite's parser that ON CONFLICT belongs to the INSERT.
        let rows = sqlx::query(
            "INSERT INTO processed_events (handler, event_id, processed_at) \
             SELECT ?, value, ? FROM json_each(?) WHERE true \
             ON CONFLICT (handler, event_id) DO NOTHING RETURNING event_id",
        )
        .bind(handler)
        .bind(ts(now))
        .bind(id_list(events.iter().copied()))
        .fetch_all(self.conn())
        .await
        .map_err(db_err)?;
        let mut fresh = std::collections::HashSet::with_capacity(rows.len());
        for r in &rows {
            fresh.insert(r.uuid("event_id")?);
        }
        Ok(events
            .iter()
            .map(|e| fresh.contains(&e.as_uuid()))
            .collect())
    }
}

#[async_trait]
impl Outbox for SqliteUow {
    #[tracing::instrument(level = "debug", skip_all)]
    async fn append_events(&mut self, events: &[EventEnvelope]) -> StoreResult<()> {
        for e in events {
            let payload = outbox::payload(e)?;
            sqlx::query(
                "INSERT INTO outbox (event_id, user_id, event_type, occurred_at, payload, \
                 next_attempt_at) VALUES (?, ?, ?, ?, ?, ?)",
            )
            .bind(id(e.event_id))
            .bind(id(e.user_id))
            .bind(e.event_type())
            .bind(ts(e.occurred_at))
            .bind(payload)
            .bind(ts(e.occurred_at))
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        }
        Ok(())
    }
}
