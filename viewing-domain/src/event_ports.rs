//! Ports of event delivery: the outbox relay, processed-event marks and the broker.
//!
//! Events are appended to the outbox in the unit of work of the records they describe
//! ([`crate::ports::Outbox`]). A relay then delivers each event at least once through two
//! independent channels ([`RelayChannel`]): the in-process handlers, and the broker. Each
//! channel has its own delivery state, so a broker outage delays nothing but the broker.
//!
//! Claims are leases, not open transactions: `claim_events` marks the events as taken until
//! `now + lease` and commits at once, so a relay holds no lock while it delivers (SQLite has a
//! single writer and the handlers need it). A relay that dies simply lets its lease expire and
//! another claims the events again: delivery is at least once, which the handlers' processed
//! marks and the broker's deduplication by event id turn into effects applied once.
//!
//! Leases are short (seconds) so that the events of a relay killed mid-batch come back
//! quickly; a live relay keeps what it still holds by calling [`OutboxRelay::renew_claim`]
//! while it delivers (every third of the lease), so a slow batch or a slow broker does not
//! lose its claim to another relay.
//!
//! Dead letters: an event that cannot be delivered on a channel — its payload cannot be read
//! ([`PendingBody::Undecodable`]), or it failed too often — is *parked* there
//! ([`OutboxRelay::park_event`]). A parked event is out of the way: it is never claimed and
//! holds back no other event, not even its own user's later ones, until an operator retries it
//! ([`OutboxRelay::retry_dead_letter`]). The relay decides what to park; stores only record it.
//!
//! Error contract as in [`crate::ports`]: `Unavailable` when the store cannot be reached,
//! `Conflict` for a race the store could not resolve, `Unexpected` otherwise.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::events::EventEnvelope;
use crate::ids::{EventId, UserId};
use crate::ports::{BoxError, StoreResult};

/// A delivery target with its own progress through the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RelayChannel {
    /// The in-process event handlers.
    Handlers,
    /// The message broker (NATS JetStream), when one is configured.
    Broker,
}

impl RelayChannel {
    /// Every channel, in delivery order.
    pub const EVERY: [RelayChannel; 2] = [RelayChannel::Handlers, RelayChannel::Broker];

    /// The lowercase name used in metrics, the admin API and the stores.
    pub fn as_str(self) -> &'static str {
        match self {
            RelayChannel::Handlers => "handlers",
            RelayChannel::Broker => "broker",
        }
    }

    /// The channel named `s` ([`RelayChannel::as_str`]).
    pub fn parse(s: &str) -> Option<Self> {
        Self::EVERY.into_iter().find(|c| c.as_str() == s)
    }
}

/// Identifies one claim, so that only its owner releases or reschedules what it claimed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClaimToken(pub uuid::Uuid);

/// An outbox event handed to a relay.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingEvent {
    /// Position in the outbox (append order).
    pub seq: i64,
    /// The event's id and user as stored beside the payload (known even when the payload
    /// cannot be read).
    pub event_id: EventId,
    /// Whose event (as stored beside the payload).
    pub user_id: UserId,
    /// The event, or why it could not be read.
    pub body: PendingBody,
    /// Failed deliveries on this channel so far.
    pub attempts: u32,
}

impl PendingEvent {
    /// The event, when its payload could be read.
    pub fn envelope(&self) -> Option<&EventEnvelope> {
        match &self.body {
            PendingBody::Event(e) => Some(e),
            PendingBody::Undecodable { .. } => None,
        }
    }
}

/// What a claim found in the outbox row. Reading a payload is the store's job (it knows the
/// encoding); a payload it cannot read is handed over as such, never failing the whole claim.
#[derive(Debug, Clone, PartialEq)]
pub enum PendingBody {
    /// The event, read.
    Event(EventEnvelope),
    /// The stored text is not an envelope this build can read: not JSON, missing fields, an
    /// unknown event type or an unsupported `schemaVersion`.
    Undecodable {
        /// Why it could not be read.
        reason: String,
    },
}

/// An event parked on one channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// The event's id.
    pub event_id: EventId,
    /// The channel it is parked on.
    pub channel: RelayChannel,
    /// Whose event.
    pub user_id: UserId,
    /// As stored beside the payload.
    pub event_type: String,
    /// Failed deliveries on this channel, the one that parked it included.
    pub attempts: u32,
    /// The error of the last failed delivery.
    pub last_error: Option<String>,
    /// When it was parked.
    pub parked_at: DateTime<Utc>,
    /// The payload exactly as stored.
    pub payload: String,
}

/// How far a channel is behind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxBacklog {
    /// Events not yet delivered on the channel, dead letters not included.
    pub pending: u64,
    /// `occurred_at` of the oldest of them.
    pub oldest_occurred_at: Option<DateTime<Utc>>,
    /// Events parked on the channel.
    pub dead_letters: u64,
}

/// The relay's view of the outbox. Every method is its own short transaction.
#[async_trait]
pub trait OutboxRelay: Send + Sync {
    /// Claims, for `lease`, up to `limit` events of `channel` that are not delivered, not
    /// parked, not claimed by a live lease and due (`next_attempt_at <= now`), in `seq` order.
    ///
    /// Per-user order: an event is never returned while an earlier undelivered, unparked event
    /// of the same user is not in the same answer (it is claimed elsewhere, or waits for a
    /// retry). Several relays may call this at once on one database; no event is in two live
    /// claims (PostgreSQL: `FOR UPDATE SKIP LOCKED`).
    ///
    /// A payload that cannot be read is claimed like any other and returned as
    /// [`PendingBody::Undecodable`]; it never makes the claim fail.
    async fn claim_events(
        &self,
        channel: RelayChannel,
        token: ClaimToken,
        now: DateTime<Utc>,
        lease: chrono::Duration,
        limit: u32,
    ) -> StoreResult<Vec<PendingEvent>>;

    /// Marks events delivered on `channel` (whoever holds their claim: delivering twice is
    /// allowed, forgetting is not).
    async fn mark_delivered(
        &self,
        channel: RelayChannel,
        seqs: &[i64],
        now: DateTime<Utc>,
    ) -> StoreResult<()>;

    /// A delivery failed: counts the attempt, keeps `error`, releases the claim and makes the
    /// event due again at `next_attempt_at`. A no-op when `token` no longer holds the claim.
    async fn schedule_retry(
        &self,
        channel: RelayChannel,
        token: ClaimToken,
        seq: i64,
        next_attempt_at: DateTime<Utc>,
        error: &str,
    ) -> StoreResult<()>;

    /// Extends to `until` the lease of every event `token` still holds on `channel` (not
    /// delivered, not given back, not parked). Returns how many. A relay calls it while it
    /// delivers a batch, so that only a dead relay's claims expire.
    async fn renew_claim(
        &self,
        channel: RelayChannel,
        token: ClaimToken,
        until: DateTime<Utc>,
    ) -> StoreResult<u64>;

    /// Parks a claimed event on `channel` as a dead letter: counts the attempt, keeps
    /// `error`, releases the claim, sets `parked_at = now`. A no-op when `token` no longer
    /// holds the claim.
    async fn park_event(
        &self,
        channel: RelayChannel,
        token: ClaimToken,
        seq: i64,
        now: DateTime<Utc>,
        error: &str,
    ) -> StoreResult<()>;

    /// Dead letters of every channel, oldest parked first (then `seq`, then channel), at most
    /// `limit`.
    async fn dead_letters(&self, limit: u32) -> StoreResult<Vec<DeadLetter>>;

    /// Makes `event` due again (`next_attempt_at = now`, attempts reset to 0, no longer
    /// parked) on every channel where it is parked, and returns those entries as they were
    /// parked. Empty when the event is parked nowhere (unknown, delivered or pending).
    async fn retry_dead_letter(
        &self,
        event: EventId,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<DeadLetter>>;

    /// Gives back claimed events that were not attempted (their attempts are unchanged).
    async fn release_events(
        &self,
        channel: RelayChannel,
        token: ClaimToken,
        seqs: &[i64],
    ) -> StoreResult<()>;

    /// The channel's backlog, for metrics.
    async fn outbox_backlog(&self, channel: RelayChannel) -> StoreResult<OutboxBacklog>;
}

/// Which handler applied which event. Part of a unit of work, so that a handler's effects and
/// its mark commit together: a redelivered event finds the mark and changes nothing.
#[async_trait]
pub trait ProcessedEvents: Send {
    /// Records that `handler` applies `event` in this unit of work. `false` when the mark
    /// already exists (the caller then skips the handler). On PostgreSQL a concurrent unit of
    /// work marking the same pair makes this wait for it, then answer `false` if it committed.
    async fn mark_processed(
        &mut self,
        handler: &str,
        event: EventId,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;

    /// [`ProcessedEvents::mark_processed`] for many events of one handler at once (a relay
    /// applying a batch): answers, per event in the order given, whether the mark is new.
    /// The events are distinct. Stores answer it in one statement; the default asks one by one.
    async fn mark_processed_many(
        &mut self,
        handler: &str,
        events: &[EventId],
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<bool>> {
        let mut fresh = Vec::with_capacity(events.len());
        for event in events {
            fresh.push(self.mark_processed(handler, *event, now).await?);
        }
        Ok(fresh)
    }
}

#[derive(Debug, thiserror::Error)]
/// Why a broker did not take an event.
pub enum PublishError {
    /// The broker cannot be reached or did not acknowledge in time: try again later.
    #[error("broker unavailable: {0}")]
    Unavailable(#[source] BoxError),
    /// The broker refused the message.
    #[error("broker rejected the event: {0}")]
    Rejected(#[source] BoxError),
}

/// The message broker (SPEC §7).
#[async_trait]
pub trait EventPublisher: Send + Sync {
    /// Publishes one event and returns once the broker has stored it. Publishing the same
    /// event again must be harmless (the broker deduplicates by event id).
    async fn publish(&self, event: &EventEnvelope) -> Result<(), PublishError>;
}

/// Where due continuation reminders go (SPEC §7): a webhook, a push service, a log.
#[async_trait]
pub trait Notifier: Send + Sync {
    /// Delivers one reminder; an error makes the scheduler try again later.
    async fn notify(&self, reminder: &crate::engagement::Reminder) -> Result<(), BoxError>;
}
