//! The relay's side of the outbox on SQLite: its two channels, leases, retries and dead
//! letters. Tables: `migrations/0002_events.sql`.
//!
//! Units of work run one at a time on SQLite (see `SqliteStore::begin_write`), so a claim needs
//! no row locks: it is a short unit of work of its own.

use adapters_sql::decode;
use adapters_sql::outbox::{self, column_prefix as p, pending_body};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use viewing_domain::event_ports::{
    ClaimToken, DeadLetter, OutboxBacklog, OutboxRelay, PendingEvent, RelayChannel,
};
use viewing_domain::ports::{Begin, StoreResult, Transaction};
use viewing_domain::{EventId, UserId};

use crate::codec::dynamic;
use crate::codec::{RowExt, db_err, id, ts};
use crate::store::SqliteStore;

fn seq_list(seqs: &[i64]) -> String {
    format!(
        "[{}]",
        seqs.iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(",")
    )
}

/// Every dead letter of both channels, one row per parked channel (`channel` 0 = handlers,
/// 1 = broker, the order of `RelayChannel`).
fn dead_letter_select() -> String {
    let part = |rank: u8, p: &str| {
        format!(
            "SELECT {rank} AS channel, seq, event_id, user_id, event_type, \
             {p}attempts AS attempts, {p}last_error AS last_error, {p}parked_at AS parked_at, \
             payload FROM outbox WHERE {p}parked_at IS NOT NULL"
        )
    };
    format!("{} UNION ALL {}", part(0, ""), part(1, "broker_"))
}

#[async_trait]
impl OutboxRelay for SqliteStore {
    #[tracing::instrument(level = "debug", skip_all)]
    async fn claim_events(
        &self,
        channel: RelayChannel,
        token: ClaimToken,
        now: DateTime<Utc>,
        lease: chrono::Duration,
        limit: u32,
    ) -> StoreResult<Vec<PendingEvent>> {
        let p = p(channel);
        let ready = |t: &str| {
            format!(
                "{t}.{p}next_attempt_at <= ?1 AND ({t}.{p}claimed_until IS NULL \
                 OR {t}.{p}claimed_until <= ?1)"
            )
        };
        // An event is claimable when every earlier undelivered, unparked event of its user is
        // claimable too; those have smaller seqs, so `LIMIT` keeps them in the same answer.
        let sql = format!(
            "SELECT o.seq, o.event_id, o.user_id, o.payload, o.{p}attempts AS attempts \
             FROM outbox o \
             WHERE o.{p}delivered_at IS NULL AND o.{p}parked_at IS NULL AND {ready_o} \
             AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.user_id = o.user_id \
                 AND e.seq < o.seq AND e.{p}delivered_at IS NULL AND e.{p}parked_at IS NULL \
                 AND NOT ({ready_e})) \
             ORDER BY o.seq LIMIT ?2",
            ready_o = ready("o"),
            ready_e = ready("e"),
        );
        let mut uow = self.begin().await?;
        let rows = dynamic(sql)
            .bind(ts(now))
            .bind(i64::from(limit))
            .fetch_all(uow.conn())
            .await
            .map_err(db_err)?;
        let mut claimed = Vec::with_capacity(rows.len());
        for r in &rows {
            claimed.push(PendingEvent {
                seq: r.int("seq")?,
                event_id: EventId::from(r.uuid("event_id")?),
                user_id: UserId::from(r.uuid("user_id")?),
                body: pending_body(&r.text("payload")?),
                attempts: r.u32("attempts")?,
            });
        }
        if !claimed.is_empty() {
            let seqs: Vec<i64> = claimed.iter().map(|c| c.seq).collect();
            dynamic(format!(
                "UPDATE outbox SET {p}claimed_by = ?, {p}claimed_until = ? \
                 WHERE seq IN (SELECT value FROM json_each(?))"
            ))
            .bind(id(token.0))
            .bind(ts(now + lease))
            .bind(seq_list(&seqs))
            .execute(uow.conn())
            .await
            .map_err(db_err)?;
        }
        uow.commit().await?;
        Ok(claimed)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn mark_delivered(
        &self,
        channel: RelayChannel,
        seqs: &[i64],
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let p = p(channel);
        let mut uow = self.begin().await?;
        dynamic(format!(
            "UPDATE outbox SET {p}delivered_at = ?, {p}claimed_by = NULL, {p}claimed_until = NULL \
             WHERE seq IN (SELECT value FROM json_each(?)) AND {p}delivered_at IS NULL"
        ))
        .bind(ts(now))
        .bind(seq_list(seqs))
        .execute(uow.conn())
        .await
        .map_err(db_err)?;
        uow.commit().await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn schedule_retry(
        &self,
        channel: RelayChannel,
        token: ClaimToken,
        seq: i64,
        next_attempt_at: DateTime<Utc>,
        error: &str,
    ) -> StoreResult<()> {
        let p = p(channel);
        let mut uow = self.begin().await?;
        dynamic(format!(
            "UPDATE outbox SET {p}attempts = {p}attempts + 1, {p}next_attempt_at = ?, \
             {p}last_error = ?, {p}claimed_by = NULL, {p}claimed_until = NULL \
             WHERE seq = ? AND {p}claimed_by = ? AND {p}delivered_at IS NULL"
        ))
        .bind(ts(next_attempt_at))
        .bind(error)
        .bind(seq)
        .bind(id(token.0))
        .execute(uow.conn())
        .await
        .map_err(db_err)?;
        uow.commit().await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn renew_claim(
        &self,
        channel: RelayChannel,
        token: ClaimToken,
        until: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let p = p(channel);
        let mut uow = self.begin().await?;
        let done = dynamic(format!(
            "UPDATE outbox SET {p}claimed_until = ? \
             WHERE {p}claimed_by = ? AND {p}delivered_at IS NULL AND {p}parked_at IS NULL"
        ))
        .bind(ts(until))
        .bind(id(token.0))
        .execute(uow.conn())
        .await
        .map_err(db_err)?;
        uow.commit().await?;
        Ok(done.rows_affected())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn park_event(
        &self,
        channel: RelayChannel,
        token: ClaimToken,
        seq: i64,
        now: DateTime<Utc>,
        error: &str,
    ) -> StoreResult<()> {
        let p = p(channel);
        let mut uow = self.begin().await?;
        dynamic(format!(
            "UPDATE outbox SET {p}attempts = {p}attempts + 1, {p}parked_at = ?, \
             {p}last_error = ?, {p}claimed_by = NULL, {p}claimed_until = NULL \
             WHERE seq = ? AND {p}claimed_by = ? AND {p}delivered_at IS NULL"
        ))
        .bind(ts(now))
        .bind(error)
        .bind(seq)
        .bind(id(token.0))
        .execute(uow.conn())
        .await
        .map_err(db_err)?;
        uow.commit().await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn dead_letters(&self, limit: u32) -> StoreResult<Vec<DeadLetter>> {
        let rows = dynamic(format!(
            "{} ORDER BY parked_at, seq, channel LIMIT ?",
            dead_letter_select()
        ))
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await
        .map_err(db_err)?;
        rows.iter().map(decode::dead_letter).collect()
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn retry_dead_letter(
        &self,
        event: EventId,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<DeadLetter>> {
        let mut uow = self.begin().await?;
        let rows = dynamic(format!(
            "SELECT * FROM ({}) WHERE event_id = ? ORDER BY channel",
            dead_letter_select()
        ))
        .bind(id(event))
        .fetch_all(uow.conn())
        .await
        .map_err(db_err)?;
        let retried = rows
            .iter()
            .map(decode::dead_letter)
            .collect::<StoreResult<Vec<_>>>()?;
        for l in &retried {
            let p = p(l.channel);
            dynamic(format!(
                "UPDATE outbox SET {p}parked_at = NULL, {p}attempts = 0, {p}next_attempt_at = ?, \
                 {p}claimed_by = NULL, {p}claimed_until = NULL \
                 WHERE event_id = ? AND {p}parked_at IS NOT NULL"
            ))
            .bind(ts(now))
            .bind(id(event))
            .execute(uow.conn())
            .await
            .map_err(db_err)?;
        }
        uow.commit().await?;
        Ok(retried)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn release_events(
        &self,
        channel: RelayChannel,
        token: ClaimToken,
        seqs: &[i64],
    ) -> StoreResult<()> {
        let p = p(channel);
        let mut uow = self.begin().await?;
        dynamic(format!(
            "UPDATE outbox SET {p}claimed_by = NULL, {p}claimed_until = NULL \
             WHERE seq IN (SELECT value FROM json_each(?)) AND {p}claimed_by = ?"
        ))
        .bind(seq_list(seqs))
        .bind(id(token.0))
        .execute(uow.conn())
        .await
        .map_err(db_err)?;
        uow.commit().await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn outbox_backlog(&self, channel: RelayChannel) -> StoreResult<OutboxBacklog> {
        let row = dynamic(outbox::backlog_select(channel))
            .fetch_one(self.pool())
            .await
            .map_err(db_err)?;
        outbox::backlog(&row)
    }
}
