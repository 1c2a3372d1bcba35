//! Numbers the relay and the background runner keep for `/metrics`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use viewing_domain::event_ports::RelayChannel;

/// Counters of one handler.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct HandlerCounters {
    /// Events applied.
    pub applied: u64,
    /// Events skipped because they were already applied (redeliveries).
    pub skipped: u64,
    /// Events whose application failed.
    pub failed: u64,
    /// Seconds between the last applied event's `occurredAt` and its application.
    pub last_lag_seconds: f64,
}

/// Per channel: what was delivered and what waits.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ChannelCounters {
    /// Events delivered.
    pub delivered: u64,
    /// Deliveries that failed.
    pub failed: u64,
    /// Events waiting.
    pub backlog: u64,
    /// Age of the oldest undelivered event, 0 when none.
    pub oldest_pending_seconds: f64,
    /// Events parked on the channel now (read from the store).
    pub dead_letters: u64,
    /// Events this process parked.
    pub parked: u64,
    /// Lease renewals that failed (the claim may have lapsed).
    pub renewals_failed: u64,
}

/// Shared, lock-light metrics. Cheap to read at any time.
#[derive(Debug, Default)]
pub struct RelayMetrics {
    channels: Mutex<BTreeMap<RelayChannel, ChannelCounters>>,
    handlers: Mutex<BTreeMap<&'static str, HandlerCounters>>,
    reminders_sent: AtomicU64,
    reminders_failed: AtomicU64,
    inactive_reported: AtomicU64,
}

/// A copy of every number at one moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetricsSnapshot {
    /// Per channel.
    pub channels: BTreeMap<RelayChannel, ChannelCounters>,
    /// Per handler, by name.
    pub handlers: BTreeMap<&'static str, HandlerCounters>,
    /// Reminders the notifier took.
    pub reminders_sent: u64,
    /// Reminders the notifier refused.
    pub reminders_failed: u64,
    /// Shows reported inactive.
    pub inactive_reported: u64,
}

fn locked<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl RelayMetrics {
    pub(crate) fn channel(&self, channel: RelayChannel, f: impl FnOnce(&mut ChannelCounters)) {
        f(locked(&self.channels).entry(channel).or_default());
    }

    pub(crate) fn handler(&self, name: &'static str, f: impl FnOnce(&mut HandlerCounters)) {
        f(locked(&self.handlers).entry(name).or_default());
    }

    pub(crate) fn reminders(&self, sent: u64, failed: u64) {
        self.reminders_sent.fetch_add(sent, Ordering::Relaxed);
        self.reminders_failed.fetch_add(failed, Ordering::Relaxed);
    }

    pub(crate) fn inactive(&self, n: u64) {
        self.inactive_reported.fetch_add(n, Ordering::Relaxed);
    }

    /// Every number now.
    pub fn snapshot(&self) -> MetricsSnapshot {
        MetricsSnapshot {
            channels: locked(&self.channels).clone(),
            handlers: locked(&self.handlers).clone(),
            reminders_sent: self.reminders_sent.load(Ordering::Relaxed),
            reminders_failed: self.reminders_failed.load(Ordering::Relaxed),
            inactive_reported: self.inactive_reported.load(Ordering::Relaxed),
        }
    }
}

impl MetricsSnapshot {
    /// The Prometheus text exposition of these numbers (to append to `/metrics`).
    pub fn to_prometheus(&self) -> String {
        let mut out = String::new();
        let mut family = |name: &str, kind: &str, help: &str, rows: Vec<(String, String)>| {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} {kind}");
            for (labels, value) in rows {
                let _ = writeln!(out, "{name}{labels} {value}");
            }
        };
        let per_channel = |f: fn(&ChannelCounters) -> String| {
            self.channels
                .iter()
                .map(|(c, v)| (format!("{{channel=\"{}\"}}", c.as_str()), f(v)))
                .collect::<Vec<_>>()
        };
        let per_handler = |f: fn(&HandlerCounters) -> String| {
            self.handlers
                .iter()
                .map(|(h, v)| (format!("{{handler=\"{h}\"}}"), f(v)))
                .collect::<Vec<_>>()
        };
        family(
            "viewing_outbox_backlog",
            "gauge",
            "Outbox events not yet delivered, per channel.",
            per_channel(|c| c.backlog.to_string()),
        );
        family(
            "viewing_outbox_oldest_pending_seconds",
            "gauge",
            "Age of the oldest undelivered outbox event, per channel.",
            per_channel(|c| format!("{:.3}", c.oldest_pending_seconds)),
        );
        family(
            "viewing_outbox_dead_letters",
            "gauge",
            "Outbox events parked as dead letters, per channel (GET /api/admin/dead-letters).",
            per_channel(|c| c.dead_letters.to_string()),
        );
        family(
            "viewing_outbox_parked_total",
            "counter",
            "Events this process parked as dead letters, per channel.",
            per_channel(|c| c.parked.to_string()),
        );
        family(
            "viewing_outbox_lease_renewal_failures_total",
            "counter",
            "Claim renewals that failed, per channel.",
            per_channel(|c| c.renewals_failed.to_string()),
        );
        family(
            "viewing_outbox_delivered_total",
            "counter",
            "Outbox events delivered by this process, per channel.",
            per_channel(|c| c.delivered.to_string()),
        );
        family(
            "viewing_outbox_delivery_failures_total",
            "counter",
            "Failed delivery attempts by this process, per channel.",
            per_channel(|c| c.failed.to_string()),
        );
        family(
            "viewing_handler_applied_total",
            "counter",
            "Events applied, per handler.",
            per_handler(|h| h.applied.to_string()),
        );
        family(
            "viewing_handler_skipped_total",
            "counter",
            "Redelivered events a handler had already applied.",
            per_handler(|h| h.skipped.to_string()),
        );
        family(
            "viewing_handler_failures_total",
            "counter",
            "Events a handler failed on (retried later).",
            per_handler(|h| h.failed.to_string()),
        );
        family(
            "viewing_handler_lag_seconds",
            "gauge",
            "Seconds from an event's occurrence to its application, last applied event.",
            per_handler(|h| format!("{:.3}", h.last_lag_seconds)),
        );
        family(
            "viewing_reminders_sent_total",
            "counter",
            "Continuation reminders handed to the notifier.",
            vec![(String::new(), self.reminders_sent.to_string())],
        );
        family(
            "viewing_reminders_failed_total",
            "counter",
            "Notification attempts that failed.",
            vec![(String::new(), self.reminders_failed.to_string())],
        );
        family(
            "viewing_inactive_shows_reported_total",
            "counter",
            "Shows reported abandoned by the inactivity job.",
            vec![(String::new(), self.inactive_reported.to_string())],
        );
        out
    }
}
