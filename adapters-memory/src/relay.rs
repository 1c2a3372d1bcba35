//! The relay's side of the outbox in memory: channels, leases, retries and dead letters.

use std::collections::HashSet;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use viewing_domain::event_ports::{
    ClaimToken, DeadLetter, OutboxBacklog, OutboxRelay, PendingBody, PendingEvent, RelayChannel,
};
use viewing_domain::ports::StoreResult;
use viewing_domain::{EventEnvelope, EventId, UserId};

use crate::events::{Delivery, EventState, index_of, seq_of};
use crate::store::MemoryStore;

#[async_trait]
impl OutboxRelay for MemoryStore {
    async fn claim_events(
        &self,
        channel: RelayChannel,
        token: ClaimToken,
        now: DateTime<Utc>,
        lease: chrono::Duration,
        limit: u32,
    ) -> StoreResult<Vec<PendingEvent>> {
        let mut guard = self.lock().await?;
        let (outbox, events) = guard.split();
        let start = events.delivered_prefix.get(&channel).copied().unwrap_or(0);
        let mut blocked: HashSet<UserId> = HashSet::new();
        let mut claimed = Vec::new();
        for (index, envelope) in outbox.iter().enumerate().skip(start) {
            if claimed.len() >= limit as usize {
                break;
            }
            let seq = seq_of(index);
            let delivery = events.delivery.entry((channel, seq)).or_default();
            if delivery.delivered_at.is_some() || delivery.parked_at.is_some() {
                continue;
            }
            let due = delivery.next_attempt_at.is_none_or(|t| t <= now);
            let free = delivery.claim.is_none_or(|(_, until)| until <= now);
            if blocked.contains(&envelope.user_id) || !due || !free {
                blocked.insert(envelope.user_id);
                continue;
            }
            delivery.claim = Some((token, now + lease));
            let attempts = delivery.attempts;
            let body = match events.raw_payloads.get(&seq) {
                None => PendingBody::Event(envelope.clone()),
                Some(raw) => match serde_json::from_str::<EventEnvelope>(raw) {
                    Ok(e) => PendingBody::Event(e),
                    Err(e) => PendingBody::Undecodable {
                        reason: e.to_string(),
                    },
                },
            };
            claimed.push(PendingEvent {
                seq,
                event_id: envelope.event_id,
                user_id: envelope.user_id,
                body,
                attempts,
            });
        }
        Ok(claimed)
    }

    async fn mark_delivered(
        &self,
        channel: RelayChannel,
        seqs: &[i64],
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut guard = self.lock().await?;
        let len = guard.outbox().len();
        for &seq in seqs {
            if index_of(seq).is_some_and(|i| i < len) {
                let d = guard.events.delivery.entry((channel, seq)).or_default();
                d.delivered_at = Some(now);
                d.claim = None;
            }
        }
        guard.events.advance_prefix(channel, len);
        Ok(())
    }

    async fn schedule_retry(
        &self,
        channel: RelayChannel,
        token: ClaimToken,
        seq: i64,
        next_attempt_at: DateTime<Utc>,
        error: &str,
    ) -> StoreResult<()> {
        let mut guard = self.lock().await?;
        if let Some(d) = guard.events.delivery.get_mut(&(channel, seq))
            && d.claim.is_some_and(|(t, _)| t == token)
            && d.delivered_at.is_none()
        {
            d.attempts += 1;
            d.next_attempt_at = Some(next_attempt_at);
            d.last_error = Some(error.to_owned());
            d.claim = None;
        }
        Ok(())
    }

    async fn renew_claim(
        &self,
        channel: RelayChannel,
        token: ClaimToken,
        until: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let mut guard = self.lock().await?;
        let mut renewed = 0;
        for ((c, _), d) in guard.events.delivery.iter_mut() {
            if *c == channel
                && let Some((t, held_until)) = d.claim.as_mut()
                && *t == token
            {
                *held_until = until;
                renewed += 1;
            }
        }
        Ok(renewed)
    }

    async fn park_event(
        &self,
        channel: RelayChannel,
        token: ClaimToken,
        seq: i64,
        now: DateTime<Utc>,
        error: &str,
    ) -> StoreResult<()> {
        let mut guard = self.lock().await?;
        if let Some(d) = guard.events.delivery.get_mut(&(channel, seq))
            && d.claim.is_some_and(|(t, _)| t == token)
            && d.delivered_at.is_none()
        {
            d.attempts += 1;
            d.last_error = Some(error.to_owned());
            d.parked_at = Some(now);
            d.claim = None;
        }
        Ok(())
    }

    async fn dead_letters(&self, limit: u32) -> StoreResult<Vec<DeadLetter>> {
        let guard = self.lock().await?;
        let mut out: Vec<(i64, DeadLetter)> = guard
            .events
            .delivery
            .iter()
            .filter_map(|(&(channel, seq), d)| {
                let parked_at = d.parked_at?;
                let e = guard.outbox().get(index_of(seq)?)?;
                Some((
                    seq,
                    dead_letter(&guard.events, channel, seq, e, d, parked_at),
                ))
            })
            .collect();
        out.sort_by_key(|(seq, l)| (l.parked_at, *seq, l.channel));
        out.truncate(limit as usize);
        Ok(out.into_iter().map(|(_, l)| l).collect())
    }

    async fn retry_dead_letter(
        &self,
        event: EventId,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<DeadLetter>> {
        let mut guard = self.lock().await?;
        let Some(index) = guard.outbox().iter().position(|e| e.event_id == event) else {
            return Ok(Vec::new());
        };
        let seq = seq_of(index);
        let envelope = guard.outbox()[index].clone();
        let mut retried = Vec::new();
        for channel in RelayChannel::EVERY {
            let Some(d) = guard.events.delivery.get(&(channel, seq)) else {
                continue;
            };
            let Some(parked_at) = d.parked_at else {
                continue;
            };
            retried.push(dead_letter(
                &guard.events,
                channel,
                seq,
                &envelope,
                d,
                parked_at,
            ));
            if let Some(d) = guard.events.delivery.get_mut(&(channel, seq)) {
                d.parked_at = None;
                d.attempts = 0;
                d.next_attempt_at = Some(now);
                d.claim = None;
            }
        }
        Ok(retried)
    }

    async fn release_events(
        &self,
        channel: RelayChannel,
        token: ClaimToken,
        seqs: &[i64],
    ) -> StoreResult<()> {
        let mut guard = self.lock().await?;
        for &seq in seqs {
            if let Some(d) = guard.events.delivery.get_mut(&(channel, seq))
                && d.claim.is_some_and(|(t, _)| t == token)
            {
                d.claim = None;
            }
        }
        Ok(())
    }

    async fn outbox_backlog(&self, channel: RelayChannel) -> StoreResult<OutboxBacklog> {
        let guard = self.lock().await?;
        let start = guard
            .events
            .delivered_prefix
            .get(&channel)
            .copied()
            .unwrap_or(0);
        let mut backlog = OutboxBacklog::default();
        for (index, e) in guard.outbox().iter().enumerate().skip(start) {
            let delivery = guard.events.delivery.get(&(channel, seq_of(index)));
            if delivery.is_some_and(|d| d.parked_at.is_some()) {
                backlog.dead_letters += 1;
                continue;
            }
            if delivery.is_none_or(|d| d.delivered_at.is_none()) {
                backlog.pending += 1;
                backlog.oldest_occurred_at = Some(
                    backlog
                        .oldest_occurred_at
                        .map_or(e.occurred_at, |o| o.min(e.occurred_at)),
                );
            }
        }
        Ok(backlog)
    }
}

impl MemoryStore {
    /// The last delivery error of an event on a channel (tests, diagnostics).
    pub async fn last_delivery_error(&self, channel: RelayChannel, seq: i64) -> Option<String> {
        let guard = self.state.lock().await;
        guard
            .events
            .delivery
            .get(&(channel, seq))
            .and_then(|d| d.last_error.clone())
    }
}

/// The dead letter of `envelope` (at `seq`) on `channel`.
pub(crate) fn dead_letter(
    state: &EventState,
    channel: RelayChannel,
    seq: i64,
    envelope: &EventEnvelope,
    d: &Delivery,
    parked_at: DateTime<Utc>,
) -> DeadLetter {
    let payload = state
        .raw_payloads
        .get(&seq)
        .cloned()
        .unwrap_or_else(|| serde_json::to_string(envelope).unwrap_or_default());
    DeadLetter {
        event_id: envelope.event_id,
        channel,
        user_id: envelope.user_id,
        event_type: envelope.event_type().to_owned(),
        attempts: d.attempts,
        last_error: d.last_error.clone(),
        parked_at,
        payload,
    }
}

impl MemoryStore {
    /// Replaces the stored payload of `event` by `text`, as an `UPDATE outbox SET payload`
    /// would on a SQL store: claims read that text from then on (a test hook for payloads a
    /// relay cannot read). `false` when the event is not in the outbox.
    pub async fn replace_outbox_payload(&self, event: EventId, text: &str) -> bool {
        let mut guard = self.state.lock().await;
        let Some(index) = guard.outbox().iter().position(|e| e.event_id == event) else {
            return false;
        };
        guard
            .events
            .raw_payloads
            .insert(seq_of(index), text.to_owned());
        true
    }
}
