//! The background work of `viewing-server serve` (SPEC §7): the outbox relay to the five event
//! handlers and, when `--nats-url` / `VIEWING_NATS_URL` is set, to NATS JetStream; the reminder
//! scheduler (to the webhook of `--notify-webhook-url`, else the log); the daily inactivity
//! job — one [`Runner`] per process. Replicas on one PostgreSQL share the outbox (claims skip
//! each other's rows and keep each user's events in order).

use std::sync::Arc;
use std::time::Duration;

use adapters_nats::{NatsConfig, NatsPublisher};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use viewing_app::ViewingService;
use viewing_app::domain::event_ports::Notifier;
use viewing_app::domain::ports::Store;
use viewing_app::handlers::HandlersConfig;
use viewing_app::metrics::RelayMetrics;
use viewing_app::relay::Relay;
use viewing_app::runner::{Runner, RunnerConfig};

use crate::config::{Settings, redact_url};
use crate::notify::{LogNotifier, WEBHOOK_TIMEOUT, WebhookNotifier, origin};

/// The running background work; [`Background::stop`] ends it.
pub struct Background {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
    metrics: Arc<RelayMetrics>,
}

/// Where due reminders go, from the settings.
fn notifier(settings: &Settings) -> crate::Fallible<Arc<dyn Notifier>> {
    Ok(match settings.notify_webhook_url() {
        Some(url) => {
            tracing::info!(webhook = %origin(&url), "due reminders are POSTed to the webhook");
            Arc::new(WebhookNotifier::new(url, WEBHOOK_TIMEOUT)?)
        }
        None => Arc::new(LogNotifier),
    })
}

impl Background {
    /// Spawns the runner over `service`'s store. The NATS publisher connects lazily: a server
    /// started while NATS is down serves at once and its events wait in the outbox.
    pub fn start<S: Store>(
        service: ViewingService<S>,
        settings: &Settings,
    ) -> crate::Fallible<Self> {
        let mut relay = Relay::new(&service).with_handlers_config(HandlersConfig {
            reminder_delay: chrono::Duration::minutes(i64::from(
                settings.reminder_delay_minutes.get(),
            )),
        });
        if let Some(url) = settings.nats_url() {
            tracing::info!(nats = %redact_url(url), "events also go to NATS JetStream");
            relay = relay.with_publisher(Arc::new(NatsPublisher::lazy(NatsConfig::new(url))));
        }
        let config = RunnerConfig {
            reminder_interval: Duration::from_secs(u64::from(
                settings.reminder_interval_seconds.get(),
            )),
            handler_workers: settings.handler_workers(),
            ..RunnerConfig::default()
        };
        let runner = Runner::new(service, relay, notifier(settings)?)
            .with_config(config)
            .on_error(Arc::new(|task, e| {
                tracing::warn!(task, error = %e, "background step failed; retrying");
            }));
        let metrics = runner.metrics();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(runner.run(async move {
            let _ = stopped.await;
        }));
        Ok(Self {
            stop,
            task,
            metrics,
        })
    }

    /// The runner's numbers, for `/metrics`.
    pub fn metrics(&self) -> Arc<RelayMetrics> {
        self.metrics.clone()
    }

    /// Lets the step in progress finish, then returns.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        if let Err(e) = self.task.await {
            tracing::error!(error = %e, "the background work panicked");
        }
    }
}
