//! The event publisher to NATS JetStream (SPEC §7).
//!
//! Every event goes to subject `viewing.events.<EventType>` of stream `VIEWING_EVENTS` (created
//! when missing), with header `Nats-Msg-Id` = eventId so that JetStream drops a redelivered
//! event inside its duplicate window, and the JSON envelope as body. A publish returns only
//! after JetStream acknowledged it; the relay keeps the event in the outbox until then.
//!
//! The connection is made lazily: a server started while NATS is down still starts, its
//! events wait in the outbox, and the first publish after NATS is back connects.
#![forbid(unsafe_code)]

use std::time::Duration;

use async_nats::jetstream::{self, stream};
use async_trait::async_trait;
use tokio::sync::Mutex;
use viewing_domain::EventEnvelope;
use viewing_domain::event_ports::{EventPublisher, PublishError};

/// Where and how events are published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NatsConfig {
    pub url: String,
    /// `VIEWING_EVENTS` in production; tests use a name of their own.
    pub stream: String,
    /// `viewing.events` in production: subjects are `<prefix>.<EventType>`.
    pub subject_prefix: String,
    /// Longest wait for a connection or an acknowledgement before the broker counts as down.
    pub timeout: Duration,
    /// How long JetStream remembers message ids to drop duplicates.
    pub duplicate_window: Duration,
}

impl NatsConfig {
    pub const STREAM: &'static str = "VIEWING_EVENTS";
    pub const SUBJECT_PREFIX: &'static str = "viewing.events";

    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            stream: Self::STREAM.to_owned(),
            subject_prefix: Self::SUBJECT_PREFIX.to_owned(),
            timeout: Duration::from_secs(5),
            duplicate_window: Duration::from_secs(120),
        }
    }

    /// The subject an event is published on.
    pub fn subject(&self, event: &EventEnvelope) -> String {
        format!("{}.{}", self.subject_prefix, event.event_type())
    }
}

pub struct NatsPublisher {
    config: NatsConfig,
    /// `None` until connected, and again after a failure (the next publish reconnects and
    /// makes sure the stream exists).
    context: Mutex<Option<jetstream::Context>>,
}

fn unavailable(e: impl std::fmt::Display) -> PublishError {
    PublishError::Unavailable(e.to_string().into())
}

impl NatsPublisher {
    /// Connects now and creates the stream if missing; fails when NATS cannot be reached.
    pub async fn connect(config: NatsConfig) -> Result<Self, PublishError> {
        let publisher = Self::lazy(config);
        let context = publisher.open().await?;
        *publisher.context.lock().await = Some(context);
        Ok(publisher)
    }

    /// A publisher that connects on its first publish.
    pub fn lazy(config: NatsConfig) -> Self {
        Self {
            config,
            context: Mutex::new(None),
        }
    }

    pub fn config(&self) -> &NatsConfig {
        &self.config
    }

    async fn open(&self) -> Result<jetstream::Context, PublishError> {
        let client = async_nats::ConnectOptions::new()
            .connection_timeout(self.config.timeout)
            .request_timeout(Some(self.config.timeout))
            .connect(self.config.url.as_str())
            .await
            .map_err(unavailable)?;
        let mut context = jetstream::new(client);
        context.set_timeout(self.config.timeout);
        context
            .get_or_create_stream(stream::Config {
                name: self.config.stream.clone(),
                subjects: vec![format!("{}.>", self.config.subject_prefix)],
                duplicate_window: self.config.duplicate_window,
                ..stream::Config::default()
            })
            .await
            .map_err(unavailable)?;
        Ok(context)
    }

    async fn context(&self) -> Result<jetstream::Context, PublishError> {
        let mut slot = self.context.lock().await;
        if let Some(c) = slot.as_ref() {
            return Ok(c.clone());
        }
        let c = self.open().await?;
        *slot = Some(c.clone());
        Ok(c)
    }

    async fn forget_connection(&self) {
        *self.context.lock().await = None;
    }
}

#[async_trait]
impl EventPublisher for NatsPublisher {
    async fn publish(&self, event: &EventEnvelope) -> Result<(), PublishError> {
        let body = serde_json::to_vec(event).map_err(|e| PublishError::Rejected(e.into()))?;
        let context = self.context().await?;
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("Nats-Msg-Id", event.event_id.to_string().as_str());
        let sent = async {
            context
                .publish_with_headers(self.config.subject(event), headers, body.into())
                .await
                .map_err(unavailable)?
                .await
                .map_err(unavailable)
        };
        match tokio::time::timeout(self.config.timeout * 2, sent).await {
            Ok(Ok(_ack)) => Ok(()),
            Ok(Err(e)) => {
                self.forget_connection().await;
                Err(e)
            }
            Err(_) => {
                self.forget_connection().await;
                Err(unavailable("no acknowledgement from JetStream in time"))
            }
        }
    }
}
