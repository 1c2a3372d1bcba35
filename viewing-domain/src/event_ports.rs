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
//! Error contract as in [`crate::ports`]: `Unavailable` when the store cannot be reached,
//! `Conflict` for a race the store could not resolve, `Unexpected` otherwise.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::events::EventEnvelope;
use crate::ids::EventId;
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
    pub const EVERY: [RelayChannel; 2] = [RelayChannel::Handlers, RelayChannel::Broker];

    pub fn as_str(self) -> &'static str {
        match self {
            RelayChannel::Handlers => "handlers",
            RelayChannel::Broker => "broker",
        }
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
    pub envelope: EventEnvelope,
    /// Failed deliveries on this channel so far.
    pub attempts: u32,
}

/// How far a channel is behind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxBacklog {
    /// Events not yet delivered on the channel.
    pub pending: u64,
    /// `occurred_at` of the oldest of them.
    pub oldest_occurred_at: Option<DateTime<Utc>>,
}

/// The relay's view of the outbox. Every method is its own short transaction.
#[async_trait]
pub trait OutboxRelay: Send + Sync {
    /// Claims, for `lease`, up to `limit` events of `channel` that are not delivered, not
    /// claimed by a live lease and due (`next_attempt_at <= now`), in `seq` order.
    ///
    /// Per-user order: an event is never returned while an earlier undelivered event of the
    /// same user is not in the same answer (it is claimed elsewhere, or waits for a retry).
    /// Several relays may call this at once on one database; no event is in two live claims
    /// (PostgreSQL: `FOR UPDATE SKIP LOCKED`).
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
}

#[derive(Debug, thiserror::Error)]
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
