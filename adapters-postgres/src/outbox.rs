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

use crate::codec::{db_err, get};
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

    /// One statement for the whole batch, with the same waiting as `mark_processed`.
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
        let ids: Vec<uuid::Uuid> = events.iter().map(|e| e.as_uuid()).collect();
        let rows = sqlx::query(
            "INSERT INTO processed_events (handler, event_id, processed_at) \
             SELECT $1, e, $2 FROM unnest($3::uuid[]) AS e \
             ON CONFLICT (handler, event_id) DO NOTHING RETURNING event_id",
        )
        .bind(handler)
        .bind(now)
        .bind(&ids)
        .fetch_all(self.conn())
        .await
        .map_err(db_err)?;
        let mut fresh = std::collections::HashSet::with_capacity(rows.len());
        for r in &rows {
            let id: uuid::Uuid = get(r, "event_id")?;
            fresh.insert(id);
        }
        Ok(ids.iter().map(|e| fresh.contains(e)).collect())
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
