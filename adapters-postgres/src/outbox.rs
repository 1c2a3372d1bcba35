//! The outbox on PostgreSQL, inside a unit of work: events appended with the records they describe,
//! and the handlers' processed marks (a handler's effects commit with its mark). The relay's
//! side is in `relay.rs`. Tables: `migrations/0002_events.sql`.

use adapters_sql::outbox;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use viewing_domain::event_ports::ProcessedEvents;
use viewing_domain::ports::Outbox;
use viewing_domain::ports::StoreResult;
use viewing_domain::{EventEnvelope, EventId};

use crate::codec::db_err;
use crate::uow::PgUow;

#[async_trait]
impl ProcessedEvents for PgUow {
    /// `ON CONFLICT DO NOTHING` on the primary key: a concurrent unit of work inserting the
    /// same pair makes this one wait for it; if it commits, this insert does nothing (`false`),
    /// if it rolls back, this one inserts (`true`).
    #[tracing::instrument(level = "debug", skip_all)]
    async fn mark_processed(
        &mut self,
        handler: &str,
        event: EventId,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "INSERT INTO processed_events (handler, event_id, processed_at) VALUES ($1, $2, $3) \
             ON CONFLICT (handler, event_id) DO NOTHING",
        )
        .bind(handler)
        .bind(event.as_uuid())
        .bind(now)
        .execute(self.conn())
        .await
        .map_err(db_err)?;
        Ok(done.rows_affected() == 1)
    }
}

#[async_trait]
impl Outbox for PgUow {
    #[tracing::instrument(level = "debug", skip_all)]
    async fn append_events(&mut self, events: &[EventEnvelope]) -> StoreResult<()> {
        if events.is_empty() {
            return Ok(());
        }
        let mut ids = Vec::with_capacity(events.len());
        let mut users = Vec::with_capacity(events.len());
        let mut types = Vec::with_capacity(events.len());
        let mut times = Vec::with_capacity(events.len());
        let mut payloads = Vec::with_capacity(events.len());
        for e in events {
            ids.push(e.event_id.as_uuid());
            users.push(e.user_id.as_uuid());
            types.push(e.event_type());
            times.push(e.occurred_at);
            payloads.push(outbox::payload(e)?);
        }
        // WITH ORDINALITY + ORDER BY: `seq` follows the order of `events`.
        sqlx::query(
            "INSERT INTO outbox (event_id, user_id, event_type, occurred_at, payload, \
             next_attempt_at) \
             SELECT e.id, e.user_id, e.type, e.at, e.payload, e.at \
             FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::timestamptz[], $5::text[]) \
             WITH ORDINALITY AS e(id, user_id, type, at, payload, ord) ORDER BY e.ord",
        )
        .bind(ids)
        .bind(users)
        .bind(types)
        .bind(times)
        .bind(payloads)
        .execute(self.conn())
        .await
        .map_err(db_err)?;
        Ok(())
    }
}
