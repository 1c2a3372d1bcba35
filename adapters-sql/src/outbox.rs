//! The outbox as both SQL stores keep it: an event stored as JSON text and read back, the
//! column prefix of each relay channel, and the backlog of a channel.

use viewing_domain::EventEnvelope;
use viewing_domain::event_ports::{OutboxBacklog, PendingBody, RelayChannel};
use viewing_domain::ports::{StoreError, StoreResult};

use crate::{RowExt, corrupt};

/// An event as the outbox stores it (`payload`).
pub fn payload(event: &EventEnvelope) -> StoreResult<String> {
    serde_json::to_string(event)
        .map_err(|err| StoreError::unexpected(format!("event to JSON: {err}")))
}

/// A stored payload as the relay gets it: the event, or why it cannot be read.
pub fn pending_body(payload: &str) -> PendingBody {
    match serde_json::from_str::<EventEnvelope>(payload) {
        Ok(e) => PendingBody::Event(e),
        Err(e) => PendingBody::Undecodable {
            reason: e.to_string(),
        },
    }
}

/// Column prefix of a channel's delivery state (`attempts`, `broker_attempts`, …).
pub fn column_prefix(channel: RelayChannel) -> &'static str {
    match channel {
        RelayChannel::Handlers => "",
        RelayChannel::Broker => "broker_",
    }
}

/// How many events of `channel` wait (`n`), the oldest one's instant (`oldest`), how many are
/// parked (`parked`): one row, read by [`backlog`].
pub fn backlog_select(channel: RelayChannel) -> String {
    let p = column_prefix(channel);
    format!(
        "SELECT COUNT(*) AS n, MIN(occurred_at) AS oldest, \
         (SELECT COUNT(*) FROM outbox WHERE {p}parked_at IS NOT NULL) AS parked \
         FROM outbox WHERE {p}delivered_at IS NULL AND {p}parked_at IS NULL"
    )
}

/// The row of [`backlog_select`].
pub fn backlog<S, R: RowExt<S>>(row: &R) -> StoreResult<OutboxBacklog> {
    let count = |col: &str| -> StoreResult<u64> {
        u64::try_from(row.int(col)?).map_err(|e| corrupt("outbox count", e))
    };
    Ok(OutboxBacklog {
        pending: count("n")?,
        oldest_occurred_at: row.instant_opt("oldest")?,
        dead_letters: count("parked")?,
    })
}
