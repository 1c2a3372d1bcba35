//! The background runner of a server process: the outbox relay (handlers and broker), the
//! reminder scheduler and the daily inactivity job, until a shutdown signal.
//!
//! It runs as one future (no task spawning, so no runtime is assumed beyond tokio's timers);
//! the server spawns it. Failures never stop it: a failed pass waits longer (doubling up to
//! `max_backoff`) and is reported to the optional error callback.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tracing::Instrument;
use viewing_domain::event_ports::{Notifier, RelayChannel};
use viewing_domain::ports::Store;

use crate::error::AppError;
use crate::metrics::RelayMetrics;
use crate::relay::Relay;
use crate::service::ViewingService;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
/// How often the background tasks run.
pub struct RunnerConfig {
    /// Pause between relay passes when the outbox is idle.
    pub poll_interval: Duration,
    /// Longest pause after failures.
    pub max_backoff: Duration,
    /// How often due reminders are looked for.
    pub reminder_interval: Duration,
    /// Reminders fired per run.
    pub reminder_batch: u32,
    /// How often the inactivity job runs (first run at start).
    pub inactivity_interval: Duration,
    /// Shows checked per inactivity run.
    pub inactivity_batch: u32,
    /// How often the outbox backlog is read into the metrics.
    pub metrics_interval: Duration,
    /// Handler relay loops run concurrently (at least 1). Each claims its own batches; the
    /// store's claims keep every user's events in order across them (SPEC §14), so more than
    /// one helps where the store takes several writers at once (PostgreSQL), not on SQLite.
    pub handler_workers: u32,
}

impl Default for RunnerConfig {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_millis(200),
            max_backoff: Duration::from_secs(30),
            reminder_interval: Duration::from_secs(30),
            reminder_batch: 100,
            inactivity_interval: Duration::from_secs(24 * 60 * 60),
            inactivity_batch: 1000,
            metrics_interval: Duration::from_secs(1),
            handler_workers: 1,
        }
    }
}

/// Called with the task name and the error of a failed step (the server logs it).
pub type ErrorSink = Arc<dyn Fn(&'static str, &AppError) + Send + Sync>;

/// The background tasks of a serving process: relay passes, the reminder scheduler, the
/// inactivity job and the backlog metric, each retried with a backoff after errors.
pub struct Runner<S: Store> {
    service: ViewingService<S>,
    relay: Arc<Relay<S>>,
    notifier: Arc<dyn Notifier>,
    config: RunnerConfig,
    on_error: Option<ErrorSink>,
}

type Task<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

impl<S: Store> Runner<S> {
    /// Tasks over `service` and `relay`, handing due reminders to `notifier`.
    pub fn new(service: ViewingService<S>, relay: Relay<S>, notifier: Arc<dyn Notifier>) -> Self {
        Self {
            service,
            relay: Arc::new(relay),
            notifier,
            config: RunnerConfig::default(),
            on_error: None,
        }
    }

    /// Other intervals and batch sizes.
    pub fn with_config(mut self, config: RunnerConfig) -> Self {
        self.config = config;
        self
    }

    /// Where failed steps are reported (otherwise they are only retried).
    pub fn on_error(mut self, sink: ErrorSink) -> Self {
        self.on_error = Some(sink);
        self
    }

    /// The relay's counters.
    pub fn metrics(&self) -> Arc<RelayMetrics> {
        self.relay.metrics()
    }

    /// The relay the tasks drive.
    pub fn relay(&self) -> Arc<Relay<S>> {
        self.relay.clone()
    }

    fn report(&self, task: &'static str, e: &AppError) {
        if let Some(sink) = &self.on_error {
            sink(task, e);
        }
    }

    /// Runs until `shutdown` completes, then finishes the step in progress and returns.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send) {
        let (tx, rx) = watch::channel(false);
        let mut tasks: Vec<Task<'_>> = vec![
            Box::pin(async move {
                shutdown.await;
                let _ = tx.send(true);
            }),
            Box::pin(self.scheduler_loop(rx.clone())),
        ];
        // Only the first handler worker reads the backlog into the metrics.
        for worker in 0..self.config.handler_workers.max(1) {
            tasks.push(Box::pin(self.relay_loop(
                RelayChannel::Handlers,
                worker == 0,
                rx.clone(),
            )));
        }
        if self.relay.has_publisher() {
            tasks.push(Box::pin(self.relay_loop(RelayChannel::Broker, false, rx)));
        }
        join_all(tasks).await;
    }

    /// Passes over `channel` until `stop`; `metrics`: also reads the backlog into the metrics
    /// every `metrics_interval`.
    async fn relay_loop(
        &self,
        channel: RelayChannel,
        metrics: bool,
        mut stop: watch::Receiver<bool>,
    ) {
        let poll = self.config.poll_interval;
        let mut backoff = poll;
        let mut refreshed: Option<Instant> = None;
        loop {
            let wait = match self
                .relay
                .pass(channel)
                .instrument(step("relay", channel))
                .await
            {
                Ok(o) if o.broker_down => {
                    backoff = (backoff * 2).min(self.config.max_backoff);
                    backoff
                }
                Ok(o) => {
                    backoff = poll;
                    let full = o.claimed >= self.relay.config().batch as usize;
                    if full && o.delivered > 0 {
                        Duration::ZERO
                    } else {
                        poll
                    }
                }
                Err(e) => {
                    self.report("relay", &e);
                    backoff = (backoff * 2).min(self.config.max_backoff);
                    backoff
                }
            };
            if metrics && refreshed.is_none_or(|t| t.elapsed() >= self.config.metrics_interval) {
                if let Err(e) = self
                    .relay
                    .refresh_backlog()
                    .instrument(step("metrics", channel))
                    .await
                {
                    self.report("metrics", &e);
                }
                refreshed = Some(Instant::now());
            }
            if sleep_or_stop(&mut stop, wait).await {
                return;
            }
        }
    }

    async fn scheduler_loop(&self, mut stop: watch::Receiver<bool>) {
        let mut inactivity_ran: Option<Instant> = None;
        loop {
            match self
                .service
                .fire_due_reminders(self.notifier.as_ref(), self.config.reminder_batch)
                .instrument(tracing::debug_span!("runner", task = "reminders"))
                .await
            {
                Ok(f) => self
                    .relay
                    .metrics()
                    .reminders(f.sent as u64, f.failed as u64),
                Err(e) => self.report("reminders", &e),
            }
            if inactivity_ran.is_none_or(|t| t.elapsed() >= self.config.inactivity_interval) {
                match self
                    .service
                    .report_inactive_shows(self.config.inactivity_batch)
                    .instrument(tracing::debug_span!("runner", task = "inactivity"))
                    .await
                {
                    Ok(n) => {
                        self.relay.metrics().inactive(n as u64);
                        inactivity_ran = Some(Instant::now());
                    }
                    Err(e) => self.report("inactivity", &e),
                }
            }
            if sleep_or_stop(&mut stop, self.config.reminder_interval).await {
                return;
            }
        }
    }
}

/// The span of one step of a relay loop: each step is a trace of its own (the loops run for
/// the life of the process, so they are no span), named like the tasks `on_error` reports.
fn step(task: &'static str, channel: RelayChannel) -> tracing::Span {
    tracing::debug_span!("runner", task, channel = channel.as_str())
}

/// Waits `d` unless the stop signal comes first; `true` when stopping.
async fn sleep_or_stop(stop: &mut watch::Receiver<bool>, d: Duration) -> bool {
    if *stop.borrow() {
        return true;
    }
    match tokio::time::timeout(d, stop.changed()).await {
        Ok(Ok(())) => *stop.borrow(),
        Ok(Err(_)) => true,
        Err(_elapsed) => false,
    }
}

/// Polls every task until all are done.
async fn join_all(tasks: Vec<Task<'_>>) {
    let mut tasks: Vec<Option<Task<'_>>> = tasks.into_iter().map(Some).collect();
    std::future::poll_fn(|cx| {
        for slot in tasks.iter_mut() {
            if let Some(task) = slot
                && task.as_mut().poll(cx).is_ready()
            {
                *slot = None;
            }
        }
        if tasks.iter().all(Option::is_none) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await;
}
