//! The outbox relay: claims events, delivers them to the handlers or the broker, acknowledges.
//!
//! Delivery is at least once and in order per user on each channel: when an event fails, the
//! later events of the same user in the batch are given back untouched and wait behind it.
//! A broker that is unreachable ends the broker pass at once (every other event would fail the
//! same way); the runner then backs off.
//!
//! Claims are short leases ([`RelayConfig::lease`], 5 s) that the relay renews while it
//! delivers a batch, so a relay killed mid-batch holds its events back for seconds, not
//! minutes. What cannot be delivered is parked as a dead letter instead of blocking its
//! user's queue: an event whose payload cannot be read, at once; an event that failed
//! [`RelayConfig::max_attempts`] times, at its last failure — unless the failure is an outage
//! (the broker or the store unreachable), which says nothing about the event and only delays.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use tokio::sync::watch;
use viewing_domain::EventEnvelope;
use viewing_domain::event_ports::{
    ClaimToken, EventPublisher, PendingBody, PendingEvent, ProcessedEvents, PublishError,
    RelayChannel,
};
use viewing_domain::ports::{Clock, IdGenerator, Store, Transaction};

use crate::error::{AppError, AppResult};
use crate::handlers::{EventHandler, HandlerContext, Handlers, HandlersConfig, apply_once};
use crate::metrics::RelayMetrics;
use crate::service::ViewingService;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
/// How the relay claims, retries and parks events.
pub struct RelayConfig {
    /// Events claimed at once.
    pub batch: u32,
    /// How long a claim keeps other relays away; renewed every third of it while a batch is
    /// being delivered, so only a dead relay's events come back, after at most this long.
    pub lease: Duration,
    /// First retry delay of a failed event; doubles per attempt up to `retry_max`.
    pub retry_base: Duration,
    /// The longest retry delay.
    pub retry_max: Duration,
    /// Failed deliveries on a channel after which an event is parked as a dead letter.
    pub max_attempts: u32,
}

impl Default for RelayConfig {
    fn default() -> Self {
        Self {
            batch: 500,
            lease: Duration::seconds(5),
            retry_base: Duration::seconds(1),
            retry_max: Duration::minutes(5),
            max_attempts: 10,
        }
    }
}

impl RelayConfig {
    /// Delay before the next attempt of an event that failed `attempts` times before.
    pub fn backoff(&self, attempts: u32) -> Duration {
        let factor = 1i32.checked_shl(attempts.min(20)).unwrap_or(i32::MAX);
        (self.retry_base * factor).min(self.retry_max)
    }

    /// Whether an event that failed `attempts` times before, and now failed again for a
    /// reason of its own (not an outage), is parked.
    pub fn parks_after(&self, attempts: u32) -> bool {
        attempts.saturating_add(1) >= self.max_attempts
    }

    /// How often a held claim is renewed: a third of the lease, so that two renewals may be
    /// late before it lapses.
    fn renew_every(&self) -> std::time::Duration {
        (self.lease / 3)
            .to_std()
            .unwrap_or(std::time::Duration::from_secs(1))
            .max(std::time::Duration::from_millis(10))
    }
}

/// What one pass over a batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PassOutcome {
    /// Events claimed for delivery.
    pub claimed: usize,
    /// Events delivered on their channel.
    pub delivered: usize,
    /// Events whose delivery failed (retried later or parked).
    pub failed: usize,
    /// Events parked as dead letters in this pass.
    pub parked: usize,
    /// The broker was unreachable: the pass stopped early.
    pub broker_down: bool,
}

impl PassOutcome {
    /// Records the counts on the current span (the pass's), so a slow or stuck pass shows how
    /// much it claimed and what became of it.
    fn traced(self) -> Self {
        let span = tracing::Span::current();
        span.record("claimed", self.claimed);
        span.record("delivered", self.delivered);
        span.record("failed", self.failed);
        span.record("parked", self.parked);
        self
    }
}

/// Why one event could not be delivered.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error("handler {handler} failed: {source}")]
    /// A handler returned an error; its unit of work was rolled back.
    Handler {
        /// The handler's name.
        handler: &'static str,
        #[source]
        /// What it returned.
        source: AppError,
    },
    #[error(transparent)]
    /// The broker refused the event or could not be reached.
    Publish(#[from] PublishError),
}

impl DeliveryError {
    /// The target could not be reached: the event itself may be fine, so this failure never
    /// parks it.
    pub fn is_outage(&self) -> bool {
        matches!(
            self,
            DeliveryError::Publish(PublishError::Unavailable(_))
                | DeliveryError::Handler {
                    source: AppError::Unavailable(_),
                    ..
                }
        )
    }
}

/// Delivers the outbox's events to the handlers (and, with a publisher, to a broker) at least
/// once, each channel on its own, with leases so several replicas can relay together.
pub struct Relay<S: Store> {
    store: S,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
    handlers: Handlers<S::Uow>,
    handlers_config: HandlersConfig,
    publisher: Option<Arc<dyn EventPublisher>>,
    config: RelayConfig,
    metrics: Arc<RelayMetrics>,
    catalog: Arc<crate::catalog_cache::CatalogCache>,
    progress_cache: Arc<crate::progress_cache::ProgressCache>,
}

impl<S: Store> Relay<S> {
    /// A relay over the service's store, clock and ids, with the five handlers of SPEC §7 and
    /// no broker.
    pub fn new(service: &ViewingService<S>) -> Self {
        Self {
            store: service.store.clone(),
            clock: service.clock.clone(),
            ids: service.ids.clone(),
            handlers: crate::handlers::default_handlers(),
            handlers_config: HandlersConfig::default(),
            publisher: None,
            config: RelayConfig::default(),
            metrics: Arc::new(RelayMetrics::default()),
            catalog: service.catalog.clone(),
            progress_cache: service.progress_cache.clone(),
        }
    }

    /// Also publishes every event to a broker, on a channel of its own.
    pub fn with_publisher(mut self, publisher: Arc<dyn EventPublisher>) -> Self {
        self.publisher = Some(publisher);
        self
    }

    /// Delivers to these handlers instead of the five of SPEC §7.
    pub fn with_handlers(mut self, handlers: Handlers<S::Uow>) -> Self {
        self.handlers = handlers;
        self
    }

    /// Handler settings.
    pub fn with_handlers_config(mut self, config: HandlersConfig) -> Self {
        self.handlers_config = config;
        self
    }

    /// Batch, lease and retry settings.
    pub fn with_config(mut self, config: RelayConfig) -> Self {
        self.config = config;
        self
    }

    /// The batch, lease and retry settings.
    pub fn config(&self) -> &RelayConfig {
        &self.config
    }

    /// The counters the relay keeps (shared with the metrics endpoint).
    pub fn metrics(&self) -> Arc<RelayMetrics> {
        self.metrics.clone()
    }

    /// Whether events also go to a broker.
    pub fn has_publisher(&self) -> bool {
        self.publisher.is_some()
    }

    /// Channels this relay serves: the handlers, and the broker when there is one.
    pub fn channels(&self) -> Vec<RelayChannel> {
        let mut c = vec![RelayChannel::Handlers];
        if self.publisher.is_some() {
            c.push(RelayChannel::Broker);
        }
        c
    }

    fn context(&self) -> HandlerContext<'_> {
        HandlerContext {
            clock: self.clock.as_ref(),
            ids: self.ids.as_ref(),
            config: &self.handlers_config,
            catalog: &self.catalog,
            batch: None,
        }
    }

    /// Applies one event to every handler that has not applied it yet, each in its own unit
    /// of work with its processed mark. Stops at the first handler that fails.
    #[tracing::instrument(
        level = "debug",
        skip_all,
        fields(
            event = %event.event_id,
            event_type = event.event.event_type(),
            user = %event.user_id,
        ),
        err(level = "debug")
    )]
    pub async fn deliver_to_handlers(&self, event: &EventEnvelope) -> Result<(), DeliveryError> {
        let ctx = self.context();
        // Fast path: every handler in one unit of work, so an event costs one commit (one
        // fsync on SQLite) instead of one per handler. Any failure rolls it all back, and the
        // handlers then run one by one below, each in its own unit of work, so one failing
        // handler neither blocks nor undoes the others.
        if let Ok(applied) = self.apply_all_at_once(event, &ctx).await {
            for (handler, applied) in self.handlers.iter().zip(applied) {
                self.count_applied(handler.name(), applied, event);
            }
            return Ok(());
        }
        for handler in &self.handlers {
            let handler: &dyn EventHandler<S::Uow> = handler.as_ref();
            let name = handler.name();
            match apply_once(&self.store, handler, event, &ctx).await {
                Ok(applied) => self.count_applied(name, applied, event),
                Err(source) => {
                    self.metrics.handler(name, |h| h.failed += 1);
                    return Err(DeliveryError::Handler {
                        handler: name,
                        source,
                    });
                }
            }
        }
        Ok(())
    }

    /// Applies `event` to every handler not done with it yet, in one unit of work. Returns,
    /// per handler, whether it applied the event now.
    #[tracing::instrument(level = "debug", skip_all)]
    async fn apply_all_at_once(
        &self,
        event: &EventEnvelope,
        ctx: &HandlerContext<'_>,
    ) -> AppResult<Vec<bool>> {
        let mut uow = self.store.begin().await?;
        let mut applied = Vec::with_capacity(self.handlers.len());
        for handler in &self.handlers {
            let fresh = uow
                .mark_processed(handler.name(), event.event_id, ctx.clock.now())
                .await?;
            if fresh {
                handler.handle(&mut uow, event, ctx).await?;
            }
            applied.push(fresh);
        }
        uow.commit().await?;
        Ok(applied)
    }

    /// Applies a whole claimed batch to every handler in one unit of work: one processed-mark
    /// statement per handler, every event in `seq` order (so per user too), the statistics
    /// deltas combined per user and bucket and written once, one commit. Any failure rolls
    /// all of it back; the caller then delivers the events one by one, which finds each
    /// failing event and handler on its own. Returns, per handler, which events it applied now.
    #[tracing::instrument(level = "debug", skip_all, fields(events = events.len()))]
    async fn apply_batch(&self, events: &[&EventEnvelope]) -> AppResult<Vec<Vec<bool>>> {
        let buffer =
            crate::handlers::BatchEffects::with_progress_cache(self.progress_cache.clone());
        let ctx = HandlerContext {
            batch: Some(&buffer),
            ..self.context()
        };
        let ids: Vec<_> = events.iter().map(|e| e.event_id).collect();
        let now = self.clock.now();
        let mut uow = self.store.begin().await?;
        let mut fresh = Vec::with_capacity(self.handlers.len());
        for handler in &self.handlers {
            let marks = uow.mark_processed_many(handler.name(), &ids, now).await?;
            if marks.len() != ids.len() {
                return Err(AppError::Unexpected(
                    format!(
                        "{} processed marks answered for {} events",
                        marks.len(),
                        ids.len()
                    )
                    .into(),
                ));
            }
            fresh.push(marks);
        }
        for (handler, marks) in self.handlers.iter().zip(&fresh) {
            let mine: Vec<&EventEnvelope> = events
                .iter()
                .zip(marks)
                .filter_map(|(e, fresh)| fresh.then_some(*e))
                .collect();
            if !mine.is_empty() {
                handler.prefetch(&mut uow, &mine, &buffer).await?;
            }
        }
        for (i, event) in events.iter().enumerate() {
            for (handler, marks) in self.handlers.iter().zip(&fresh) {
                if marks[i] {
                    handler.handle(&mut uow, event, &ctx).await?;
                }
            }
        }
        buffer.flush(&mut uow).await?;
        uow.commit().await?;
        Ok(fresh)
    }

    fn count_applied(&self, name: &'static str, applied: bool, event: &EventEnvelope) {
        self.metrics.handler(name, |h| {
            if applied {
                h.applied += 1;
                h.last_lag_seconds = lag_seconds(event.occurred_at, self.clock.now());
            } else {
                h.skipped += 1;
            }
        });
    }

    #[tracing::instrument(
        level = "debug",
        skip_all,
        fields(channel = channel.as_str(), event = %event.event_id),
        err(level = "debug")
    )]
    async fn deliver(
        &self,
        channel: RelayChannel,
        event: &EventEnvelope,
    ) -> Result<(), DeliveryError> {
        match channel {
            RelayChannel::Handlers => self.deliver_to_handlers(event).await,
            RelayChannel::Broker => match &self.publisher {
                Some(p) => Ok(p.publish(event).await?),
                None => Ok(()),
            },
        }
    }

    /// Claims one batch of `channel` and delivers it, renewing the claim while it works.
    #[tracing::instrument(
        level = "debug",
        skip_all,
        fields(
            channel = channel.as_str(),
            claimed = tracing::field::Empty,
            delivered = tracing::field::Empty,
            failed = tracing::field::Empty,
            parked = tracing::field::Empty,
        ),
        err(level = "debug")
    )]
    pub async fn pass(&self, channel: RelayChannel) -> AppResult<PassOutcome> {
        let token = ClaimToken(self.ids.new_id());
        let now = self.clock.now();
        let batch = self
            .store
            .claim_events(channel, token, now, self.config.lease, self.config.batch)
            .await?;
        if batch.is_empty() {
            return Ok(PassOutcome::default().traced());
        }
        let (done, stop) = watch::channel(false);
        let work = async {
            let outcome = self.deliver_batch(channel, token, &batch).await;
            let _ = done.send(true);
            outcome
        };
        let (outcome, ()) = join2(work, self.keep_claim(channel, token, stop)).await;
        outcome.map(PassOutcome::traced)
    }

    /// Renews the claim of `token` every third of the lease until `stop` says the batch is
    /// done. A failed renewal is not fatal: at worst the lease lapses and another relay
    /// delivers some events again (at least once).
    async fn keep_claim(
        &self,
        channel: RelayChannel,
        token: ClaimToken,
        mut stop: watch::Receiver<bool>,
    ) {
        let every = self.config.renew_every();
        loop {
            match tokio::time::timeout(every, stop.changed()).await {
                Ok(_) => return,
                Err(_elapsed) => {
                    let until = self.clock.now() + self.config.lease;
                    if self.store.renew_claim(channel, token, until).await.is_err() {
                        self.metrics.channel(channel, |c| c.renewals_failed += 1);
                    }
                }
            }
        }
    }

    async fn deliver_batch(
        &self,
        channel: RelayChannel,
        token: ClaimToken,
        batch: &[PendingEvent],
    ) -> AppResult<PassOutcome> {
        let mut outcome = PassOutcome {
            claimed: batch.len(),
            ..PassOutcome::default()
        };
        let mut delivered = Vec::new();
        let mut untouched = Vec::new();
        let mut held_back = HashSet::new();
        let mut parked_early = HashSet::new();
        if channel == RelayChannel::Handlers && batch.len() > 1 {
            // The fast path: every readable event in one unit of work. Unreadable ones are
            // parked first; they hold back nothing, not even their own user's later events.
            let mut readable = Vec::with_capacity(batch.len());
            for event in batch {
                match &event.body {
                    PendingBody::Event(envelope) => readable.push((event.seq, envelope)),
                    PendingBody::Undecodable { reason } => {
                        let error = format!("undecodable payload: {reason}");
                        self.store
                            .park_event(channel, token, event.seq, self.clock.now(), &error)
                            .await?;
                        outcome.parked += 1;
                        parked_early.insert(event.seq);
                    }
                }
            }
            let envelopes: Vec<&EventEnvelope> = readable.iter().map(|(_, e)| *e).collect();
            let applied = self.apply_batch(&envelopes).await;
            if let Err(e) = &applied {
                tracing::debug!(error = %e, "batch rolled back; delivering one event at a time");
            }
            if let Ok(applied) = applied {
                for (handler, marks) in self.handlers.iter().zip(&applied) {
                    for (event, fresh) in envelopes.iter().zip(marks) {
                        self.count_applied(handler.name(), *fresh, event);
                    }
                }
                delivered.extend(readable.iter().map(|(seq, _)| *seq));
                return self
                    .finish_batch(channel, token, outcome, delivered, untouched)
                    .await;
            }
        }
        for event in batch {
            if parked_early.contains(&event.seq) {
                continue;
            }
            if outcome.broker_down || held_back.contains(&event.user_id) {
                untouched.push(event.seq);
                continue;
            }
            let envelope = match &event.body {
                PendingBody::Event(envelope) => envelope,
                PendingBody::Undecodable { reason } => {
                    // Out of the way at once: no later attempt can read it either.
                    let error = format!("undecodable payload: {reason}");
                    self.store
                        .park_event(channel, token, event.seq, self.clock.now(), &error)
                        .await?;
                    outcome.parked += 1;
                    continue;
                }
            };
            match self.deliver(channel, envelope).await {
                Ok(()) => delivered.push(event.seq),
                Err(e) => {
                    outcome.failed += 1;
                    outcome.broker_down =
                        matches!(e, DeliveryError::Publish(PublishError::Unavailable(_)));
                    if !e.is_outage() && self.config.parks_after(event.attempts) {
                        self.store
                            .park_event(channel, token, event.seq, self.clock.now(), &e.to_string())
                            .await?;
                        outcome.parked += 1;
                        continue;
                    }
                    held_back.insert(event.user_id);
                    let retry_at = self.clock.now() + self.config.backoff(event.attempts);
                    self.store
                        .schedule_retry(channel, token, event.seq, retry_at, &e.to_string())
                        .await?;
                }
            }
        }
        self.finish_batch(channel, token, outcome, delivered, untouched)
            .await
    }

    /// Marks what was delivered, gives back what was not attempted, counts.
    async fn finish_batch(
        &self,
        channel: RelayChannel,
        token: ClaimToken,
        mut outcome: PassOutcome,
        delivered: Vec<i64>,
        untouched: Vec<i64>,
    ) -> AppResult<PassOutcome> {
        if !delivered.is_empty() {
            self.store
                .mark_delivered(channel, &delivered, self.clock.now())
                .await?;
        }
        if !untouched.is_empty() {
            self.store
                .release_events(channel, token, &untouched)
                .await?;
        }
        outcome.delivered = delivered.len();
        self.metrics.channel(channel, |c| {
            c.delivered += delivered.len() as u64;
            c.failed += outcome.failed as u64;
            c.parked += outcome.parked as u64;
        });
        Ok(outcome)
    }

    /// Delivers everything deliverable now on every channel this relay serves, pass after
    /// pass, and returns how many deliveries succeeded. Stops when a pass delivers nothing
    /// (empty outbox, or only failures waiting for their retry time). For tests and
    /// in-process embedding; the runner polls instead.
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn drain(&self) -> AppResult<usize> {
        let mut total = 0;
        for channel in self.channels() {
            loop {
                let o = self.pass(channel).await?;
                total += o.delivered;
                if o.delivered == 0 && o.parked == 0 {
                    break;
                }
            }
        }
        self.refresh_backlog().await?;
        Ok(total)
    }

    /// Reads each channel's backlog into the metrics (and lists every handler in them).
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn refresh_backlog(&self) -> AppResult<()> {
        let now = self.clock.now();
        for channel in self.channels() {
            let b = self.store.outbox_backlog(channel).await?;
            self.metrics.channel(channel, |c| {
                c.backlog = b.pending;
                c.oldest_pending_seconds =
                    b.oldest_occurred_at.map_or(0.0, |o| lag_seconds(o, now));
                c.dead_letters = b.dead_letters;
            });
        }
        // Every handler's numbers exist from the first reading on, at 0 until it works.
        for handler in &self.handlers {
            self.metrics.handler(handler.name(), |_| {});
        }
        Ok(())
    }
}

fn lag_seconds(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    ((to - from).num_milliseconds().max(0) as f64) / 1000.0
}

/// Runs both futures to completion, concurrently, on the caller's task.
async fn join2<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let (mut a, mut b) = (std::pin::pin!(a), std::pin::pin!(b));
    let (mut out_a, mut out_b) = (None, None);
    std::future::poll_fn(|cx| {
        if out_a.is_none()
            && let std::task::Poll::Ready(v) = a.as_mut().poll(cx)
        {
            out_a = Some(v);
        }
        if out_b.is_none()
            && let std::task::Poll::Ready(v) = b.as_mut().poll(cx)
        {
            out_b = Some(v);
        }
        match (out_a.take(), out_b.take()) {
            (Some(a), Some(b)) => std::task::Poll::Ready((a, b)),
            (a, b) => {
                out_a = a;
                out_b = b;
                std::task::Poll::Pending
            }
        }
    })
    .await
}
