//! The background work of `viewing-server serve` (SPEC §7): the outbox relay to the five event
//! handlers and, when `VIEWING_NATS_URL` is set, to NATS JetStream; the reminder scheduler; the
//! daily inactivity job — one [`Runner`] per process. Replicas on one PostgreSQL share the
//! outbox (claims skip each other's rows and keep each user's events in order).
//!
//! `VIEWING_NATS_URL` is read from the environment here until the typed [`crate::Settings`]
//! carry it.

use std::sync::Arc;

use adapters_nats::{NatsConfig, NatsPublisher};
use async_trait::async_trait;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use viewing_app::ViewingService;
use viewing_app::domain::engagement::Reminder;
use viewing_app::domain::event_ports::Notifier;
use viewing_app::domain::ports::{BoxError, Store};
use viewing_app::relay::Relay;
use viewing_app::runner::Runner;

use crate::config::redact_url;

/// Names the NATS server events also go to (stream `VIEWING_EVENTS`).
pub const NATS_URL_ENV: &str = "VIEWING_NATS_URL";

/// Due reminders go to the log: they are stored and listed at `GET /api/viewing/reminders`
/// whatever the notifier does, and a log line keeps nothing in memory.
struct LogNotifier;

#[async_trait]
impl Notifier for LogNotifier {
    async fn notify(&self, r: &Reminder) -> Result<(), BoxError> {
        tracing::info!(
            user = %r.user_id,
            show = %r.show_id,
            season = r.season_number,
            episode = r.episode_number,
            "continuation reminder due"
        );
        Ok(())
    }
}

/// The running background work; [`Background::stop`] ends it.
pub struct Background {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl Background {
    /// Spawns the runner over `service`'s store. The NATS publisher connects lazily: a server
    /// started while NATS is down serves at once and its events wait in the outbox.
    pub fn start<S: Store>(service: ViewingService<S>) -> Self {
        let mut relay = Relay::new(&service);
        if let Some(url) = std::env::var(NATS_URL_ENV)
            .ok()
            .filter(|u| !u.trim().is_empty())
        {
            tracing::info!(nats = %redact_url(&url), "events also go to NATS JetStream");
            relay = relay.with_publisher(Arc::new(NatsPublisher::lazy(NatsConfig::new(url))));
        }
        let runner = Runner::new(service, relay, Arc::new(LogNotifier)).on_error(Arc::new(
            |task, e| tracing::warn!(task, error = %e, "background step failed; retrying"),
        ));
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(runner.run(async move {
            let _ = stopped.await;
        }));
        Self { stop, task }
    }

    /// Lets the step in progress finish, then returns.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        if let Err(e) = self.task.await {
            tracing::error!(error = %e, "the background work panicked");
        }
    }
}
