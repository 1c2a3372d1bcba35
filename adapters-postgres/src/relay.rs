//! The relay's side of the outbox on PostgreSQL: its two channels, leases, retries and dead
//! letters. Tables: `migrations/0002_events.sql`.
//!
//! Unlike SQLite, several relays (server replicas) claim from one database at the same time,
//! so a claim must be safe against a concurrent claimer without holding anything while it
//! delivers. It is one short transaction (see [`OutboxRelay::claim_events`] below):
//!
//! 1. pick the channel's due, unleased events in `seq` order with
//!    `FOR UPDATE OF o SKIP LOCKED` — rows a concurrent claim is taking are skipped, never
//!    waited for, so claimers never block each other and never pick the same row;
//! 2. enforce per-user order: drop every picked event whose user has an earlier undelivered
//!    event (on this channel) that is not among the picked ones — whether it waits for a retry,
//!    is leased to another relay, or is locked right now by a concurrent claimer (which this
//!    transaction sees as an ordinary undelivered row, as it was before that claim);
//! 3. lease the events kept (`claimed_by`, `claimed_until`) and commit.
//!
//! The dropped events never get a lease: their row locks end with the commit, microseconds
//! later, and the next pass (of any relay) finds them again once the earlier event is done.
//! Step 2 only ever drops a suffix of each user's picked events, and whoever picked a user's
//! earliest undelivered event keeps it, so two relays cannot starve each other.
//!
//! What "order" means across transactions: `seq` is drawn at insert, not at commit. Writes of
//! one user to one show or movie are serialised (`lock_user_item`), so their events become
//! visible in `seq` order. Two concurrent commands of one user on *different* items have no
//! order between them until both commit; if the later `seq` commits first it may be delivered
//! first. Nothing is lost either way: every row is delivered by its own flag, not by a cursor.

use adapters_sql::decode;
use adapters_sql::outbox::{self, column_prefix as p, pending_body};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;
use viewing_domain::event_ports::{
    ClaimToken, DeadLetter, OutboxBacklog, OutboxRelay, PendingEvent, RelayChannel,
};
use viewing_domain::ports::StoreResult;
use viewing_domain::{EventId, UserId};

use crate::codec::dynamic;
use crate::codec::{RowExt, db_err};
use crate::store::PgStore;

/// "Due and not leased at `$1`" for the outbox row aliased `t`.
fn ready(p: &str, t: &str) -> String {
    format!(
        "{t}.{p}next_attempt_at <= $1 AND ({t}.{p}claimed_until IS NULL \
         OR {t}.{p}claimed_until <= $1)"
    )
}

/// Every dead letter of both channels, one row per parked channel (`channel` 0 = handlers,
/// 1 = broker, the order of `RelayChannel`).
fn dead_letter_select() -> String {
    let part = |rank: u8, p: &str| {
        format!(
            "SELECT {rank}::INT2 AS channel, seq, event_id, user_id, event_type, \
             {p}attempts AS attempts, {p}last_error AS last_error, {p}parked_at AS parked_at, \
             payload FROM outbox WHERE {p}parked_at IS NOT NULL"
        )
    };
    format!("{} UNION ALL {}", part(0, ""), part(1, "broker_"))
}

/// One picked row, before the order check.
struct Picked {
    seq: i64,
    event: Uuid,
    user: Uuid,
    payload: String,
    attempts: u32,
}

#[async_trait]
impl OutboxRelay for PgStore {
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
        let mut tx = self.begin_tx().await?;

        // 1. Pick. Users that have an event leased to a relay or waiting for its retry are
        // left out at once (a hashed set, found through the small partial indexes of
        // migration 0006), so that a long blocked queue of one user neither fills every batch
        // nor makes the claim walk it event by event. The set is a superset of what blocks:
        // such a user's events before the blocking one (possible only when a smaller `seq`
        // committed late) wait one lease longer. It cannot see rows SKIP LOCKED skipped, nor
        // a not-yet-due first attempt; step 2 is the exact check.
        let rows = dynamic(format!(
            "SELECT o.seq, o.event_id, o.user_id, o.payload, o.{p}attempts AS attempts \
             FROM outbox o \
             WHERE o.{p}delivered_at IS NULL AND o.{p}parked_at IS NULL AND {ready_o} \
             AND o.user_id NOT IN ( \
                 SELECT e.user_id FROM outbox e WHERE e.{p}delivered_at IS NULL \
                 AND e.{p}claimed_until IS NOT NULL AND e.{p}claimed_until > $1 \
                 AND e.{p}parked_at IS NULL \
                 UNION ALL \
                 SELECT e.user_id FROM outbox e WHERE e.{p}delivered_at IS NULL \
                 AND e.{p}attempts > 0 AND e.{p}next_attempt_at > $1 \
                 AND e.{p}parked_at IS NULL) \
             ORDER BY o.seq LIMIT $2 FOR UPDATE OF o SKIP LOCKED",
            ready_o = ready(p, "o"),
        ))
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let mut picked = Vec::with_capacity(rows.len());
        for r in &rows {
            picked.push(Picked {
                seq: r.int("seq")?,
                event: r.uuid("event_id")?,
                user: r.uuid("user_id")?,
                payload: r.text("payload")?,
                attempts: r.u32("attempts")?,
            });
        }

        // 2. Per-user order: the first undelivered event of each picked user that is not
        // picked. This statement takes a fresh READ COMMITTED snapshot, so it also sees what
        // concurrent claimers committed since step 1; a row another claimer holds locked but
        // has not leased yet reads as undelivered and unleased, so it blocks too.
        let seqs: Vec<i64> = picked.iter().map(|e| e.seq).collect();
        let mut users: Vec<Uuid> = picked.iter().map(|e| e.user).collect();
        users.sort_unstable();
        users.dedup();
        let blockers = dynamic(format!(
            "SELECT e.user_id, MIN(e.seq) AS first_elsewhere FROM outbox e \
             WHERE e.user_id = ANY($1) AND e.{p}delivered_at IS NULL \
             AND e.{p}parked_at IS NULL AND NOT (e.seq = ANY($2)) GROUP BY e.user_id"
        ))
        .bind(&users)
        .bind(&seqs)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        let mut first_elsewhere = std::collections::HashMap::with_capacity(blockers.len());
        for b in &blockers {
            first_elsewhere.insert(b.uuid("user_id")?, b.int("first_elsewhere")?);
        }
        picked.retain(|e| first_elsewhere.get(&e.user).is_none_or(|&f| e.seq < f));
        if picked.is_empty() {
            // Nothing leased: committing or rolling back only ends the row locks.
            tx.commit().await.map_err(db_err)?;
            return Ok(Vec::new());
        }

        // 3. Lease what is kept, and commit: no lock outlives this call.
        let kept: Vec<i64> = picked.iter().map(|e| e.seq).collect();
        dynamic(format!(
            "UPDATE outbox SET {p}claimed_by = $1, {p}claimed_until = $2 WHERE seq = ANY($3)"
        ))
        .bind(token.0)
        .bind(now + lease)
        .bind(&kept)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;

        Ok(picked
            .into_iter()
            .map(|e| PendingEvent {
                seq: e.seq,
                event_id: EventId::from(e.event),
                user_id: UserId::from(e.user),
                body: pending_body(&e.payload),
                attempts: e.attempts,
            })
            .collect())
    }

    /// Rows are locked in `seq` order before the update, so two relays acknowledging
    /// overlapping batches (after a lease expired) queue instead of deadlocking.
    #[tracing::instrument(level = "debug", skip_all)]
    async fn mark_delivered(
        &self,
        channel: RelayChannel,
        seqs: &[i64],
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        if seqs.is_empty() {
            return Ok(());
        }
        let p = p(channel);
        dynamic(format!(
            "UPDATE outbox SET {p}delivered_at = $1, {p}claimed_by = NULL, \
             {p}claimed_until = NULL \
             WHERE seq IN (SELECT seq FROM outbox WHERE seq = ANY($2) \
                 AND {p}delivered_at IS NULL ORDER BY seq FOR UPDATE) \
             AND {p}delivered_at IS NULL"
        ))
        .bind(now)
        .bind(seqs)
        .execute(self.pool())
        .await
        .map_err(db_err)?;
        Ok(())
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
        dynamic(format!(
            "UPDATE outbox SET {p}attempts = {p}attempts + 1, {p}next_attempt_at = $1, \
             {p}last_error = $2, {p}claimed_by = NULL, {p}claimed_until = NULL \
             WHERE seq = $3 AND {p}claimed_by = $4 AND {p}delivered_at IS NULL"
        ))
        .bind(next_attempt_at)
        .bind(error)
        .bind(seq)
        .bind(token.0)
        .execute(self.pool())
        .await
        .map_err(db_err)?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn renew_claim(
        &self,
        channel: RelayChannel,
        token: ClaimToken,
        until: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let p = p(channel);
        let done = dynamic(format!(
            "UPDATE outbox SET {p}claimed_until = $1 \
             WHERE {p}claimed_by = $2 AND {p}delivered_at IS NULL AND {p}parked_at IS NULL"
        ))
        .bind(until)
        .bind(token.0)
        .execute(self.pool())
        .await
        .map_err(db_err)?;
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
        dynamic(format!(
            "UPDATE outbox SET {p}attempts = {p}attempts + 1, {p}parked_at = $1, \
             {p}last_error = $2, {p}claimed_by = NULL, {p}claimed_until = NULL \
             WHERE seq = $3 AND {p}claimed_by = $4 AND {p}delivered_at IS NULL"
        ))
        .bind(now)
        .bind(error)
        .bind(seq)
        .bind(token.0)
        .execute(self.pool())
        .await
        .map_err(db_err)?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn dead_letters(&self, limit: u32) -> StoreResult<Vec<DeadLetter>> {
        let rows = dynamic(format!(
            "{} ORDER BY parked_at, seq, channel LIMIT $1",
            dead_letter_select()
        ))
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await
        .map_err(db_err)?;
        rows.iter().map(decode::dead_letter).collect()
    }

    /// The rows are locked first, so a concurrent retry of the same event waits and then
    /// finds nothing parked.
    #[tracing::instrument(level = "debug", skip_all)]
    async fn retry_dead_letter(
        &self,
        event: EventId,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<DeadLetter>> {
        let mut tx = self.begin_tx().await?;
        sqlx::query("SELECT seq FROM outbox WHERE event_id = $1 FOR UPDATE")
            .bind(event.as_uuid())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
        let rows = dynamic(format!(
            "SELECT * FROM ({}) d WHERE d.event_id = $1 ORDER BY d.channel",
            dead_letter_select()
        ))
        .bind(event.as_uuid())
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        let retried = rows
            .iter()
            .map(decode::dead_letter)
            .collect::<StoreResult<Vec<_>>>()?;
        for l in &retried {
            let p = p(l.channel);
            dynamic(format!(
                "UPDATE outbox SET {p}parked_at = NULL, {p}attempts = 0, \
                 {p}next_attempt_at = $1, {p}claimed_by = NULL, {p}claimed_until = NULL \
                 WHERE event_id = $2 AND {p}parked_at IS NOT NULL"
            ))
            .bind(now)
            .bind(event.as_uuid())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(retried)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn release_events(
        &self,
        channel: RelayChannel,
        token: ClaimToken,
        seqs: &[i64],
    ) -> StoreResult<()> {
        if seqs.is_empty() {
            return Ok(());
        }
        let p = p(channel);
        dynamic(format!(
            "UPDATE outbox SET {p}claimed_by = NULL, {p}claimed_until = NULL \
             WHERE seq = ANY($1) AND {p}claimed_by = $2"
        ))
        .bind(seqs)
        .bind(token.0)
        .execute(self.pool())
        .await
        .map_err(db_err)?;
        Ok(())
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
