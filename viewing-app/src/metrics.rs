//! Numbers the relay and the background runner keep for `/metrics`: read in process through
//! [`RelayMetrics::snapshot`], exported through the [`metrics`] facade by
//! [`MetricsSnapshot::record`] (the HTTP layer owns the recorder and renders it).

use std::collections::BTreeMap;
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

/// Seconds rounded to the millisecond, as `/metrics` shows them.
fn millis(seconds: f64) -> f64 {
    (seconds * 1000.0).round() / 1000.0
}

impl MetricsSnapshot {
    /// Writes every number through the [`metrics`] facade into the recorder in effect (one the
    /// caller passes with [`metrics::with_local_recorder`]; nothing when there is none), the
    /// way a Prometheus collector is read at scrape time: counters as their absolute values,
    /// gauges as set. The names and labels are the ones dashboards read.
    pub fn record(&self) {
        use metrics::{Unit, counter, describe_counter, describe_gauge, gauge};

        describe_gauge!(
            "viewing_outbox_backlog",
            "Outbox events not yet delivered, per channel."
        );
        describe_gauge!(
            "viewing_outbox_oldest_pending_seconds",
            Unit::Seconds,
            "Age of the oldest undelivered outbox event, per channel."
        );
        describe_gauge!(
            "viewing_outbox_dead_letters",
            "Outbox events parked as dead letters, per channel (GET /api/admin/dead-letters)."
        );
        describe_counter!(
            "viewing_outbox_parked_total",
            "Events this process parked as dead letters, per channel."
        );
        describe_counter!(
            "viewing_outbox_lease_renewal_failures_total",
            "Claim renewals that failed, per channel."
        );
        describe_counter!(
            "viewing_outbox_delivered_total",
            "Outbox events delivered by this process, per channel."
        );
        describe_counter!(
            "viewing_outbox_delivery_failures_total",
            "Failed delivery attempts by this process, per channel."
        );
        for (channel, c) in &self.channels {
            let channel = channel.as_str();
            #[allow(clippy::cast_precision_loss)]
            gauge!("viewing_outbox_backlog", "channel" => channel).set(c.backlog as f64);
            gauge!("viewing_outbox_oldest_pending_seconds", "channel" => channel)
                .set(millis(c.oldest_pending_seconds));
            #[allow(clippy::cast_precision_loss)]
            gauge!("viewing_outbox_dead_letters", "channel" => channel).set(c.dead_letters as f64);
            counter!("viewing_outbox_parked_total", "channel" => channel).absolute(c.parked);
            counter!("viewing_outbox_lease_renewal_failures_total", "channel" => channel)
                .absolute(c.renewals_failed);
            counter!("viewing_outbox_delivered_total", "channel" => channel).absolute(c.delivered);
            counter!("viewing_outbox_delivery_failures_total", "channel" => channel)
                .absolute(c.failed);
        }

        describe_counter!(
            "viewing_handler_applied_total",
            "Events applied, per handler."
        );
        describe_counter!(
            "viewing_handler_skipped_total",
            "Redelivered events a handler had already applied."
        );
        describe_counter!(
            "viewing_handler_failures_total",
            "Events a handler failed on (retried later)."
        );
        describe_gauge!(
            "viewing_handler_lag_seconds",
            Unit::Seconds,
            "Seconds from an event's occurrence to its application, last applied event."
        );
        for (&handler, h) in &self.handlers {
            counter!("viewing_handler_applied_total", "handler" => handler).absolute(h.applied);
            counter!("viewing_handler_skipped_total", "handler" => handler).absolute(h.skipped);
            counter!("viewing_handler_failures_total", "handler" => handler).absolute(h.failed);
            gauge!("viewing_handler_lag_seconds", "handler" => handler)
                .set(millis(h.last_lag_seconds));
        }

        describe_counter!(
            "viewing_reminders_sent_total",
            "Continuation reminders handed to the notifier."
        );
        describe_counter!(
            "viewing_reminders_failed_total",
            "Notification attempts that failed."
        );
        describe_counter!(
            "viewing_inactive_shows_reported_total",
            "Shows reported abandoned by the inactivity job."
        );
        counter!("viewing_reminders_sent_total").absolute(self.reminders_sent);
        counter!("viewing_reminders_failed_total").absolute(self.reminders_failed);
        counter!("viewing_inactive_shows_reported_total").absolute(self.inactive_reported);
    }
}
