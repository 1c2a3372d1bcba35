//! Where due continuation reminders go (the domain's `Notifier` port): a webhook when
//! `VIEWING_NOTIFY_WEBHOOK_URL` is set, else the log.
//!
//! A notifier makes one attempt per call. Retries belong to the reminder scheduler
//! (`ViewingService::fire_due_reminders`): a failed attempt is counted on the stored reminder
//! and tried again after a growing delay (1, 2, 4, 8 minutes), and the fifth failure marks it
//! `failed`. A failure never stops the scheduler.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;
use viewing_app::domain::engagement::Reminder;
use viewing_app::domain::event_ports::Notifier;
use viewing_app::domain::ports::BoxError;

/// Longest wait for the webhook to answer; the scheduler sends one reminder at a time.
pub const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(5);

/// The JSON body POSTed to the webhook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReminderNotification {
    /// Always `continuation-reminder`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The same on every attempt for one reminder: receivers may deduplicate by it.
    pub reminder_id: Uuid,
    pub user_id: Uuid,
    pub show_id: Uuid,
    /// The episode to watch next.
    pub episode_id: Uuid,
    pub season_number: u32,
    pub episode_number: u32,
    /// The watch the reminder follows.
    pub last_watch_at: DateTime<Utc>,
    /// 1 for the first attempt.
    pub attempt: u32,
}

impl From<&Reminder> for ReminderNotification {
    fn from(r: &Reminder) -> Self {
        Self {
            kind: "continuation-reminder",
            reminder_id: r.id,
            user_id: r.user_id.as_uuid(),
            show_id: r.show_id.as_uuid(),
            episode_id: r.episode_id.as_uuid(),
            season_number: r.season_number,
            episode_number: r.episode_number,
            last_watch_at: r.last_watch_at,
            attempt: r.attempts,
        }
    }
}

/// The scheme, host and port of a URL: what logs may show of an address that could carry a
/// secret in its user info, path or query.
pub fn origin(url: &reqwest::Url) -> String {
    url.origin().ascii_serialization()
}

/// POSTs each due reminder as JSON; any answer but 2xx, a timeout or a refused connection is
/// a failed attempt.
pub struct WebhookNotifier {
    client: reqwest::Client,
    url: reqwest::Url,
}

impl WebhookNotifier {
    pub fn new(url: reqwest::Url, timeout: Duration) -> Result<Self, BoxError> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()
            .map_err(|e| format!("cannot build the webhook client: {}", e.without_url()))?;
        Ok(Self { client, url })
    }
}

#[async_trait]
impl Notifier for WebhookNotifier {
    async fn notify(&self, reminder: &Reminder) -> Result<(), BoxError> {
        let body = ReminderNotification::from(reminder);
        let sent = self
            .client
            .post(self.url.clone())
            .json(&body)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status);
        match sent {
            Ok(_) => Ok(()),
            Err(e) => {
                // Without the URL: it may carry a secret.
                let e = e.without_url();
                tracing::warn!(
                    webhook = %origin(&self.url),
                    reminder = %reminder.id,
                    attempt = reminder.attempts,
                    error = %e,
                    "reminder webhook failed; the scheduler retries later"
                );
                Err(Box::new(e))
            }
        }
    }
}

/// Due reminders go to the log: they are stored and listed at `GET /api/viewing/reminders`
/// whatever the notifier does, and a log line keeps nothing in memory.
pub struct LogNotifier;

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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use viewing_app::domain::engagement::ReminderStatus;
    use viewing_app::domain::{EpisodeId, ShowId, UserId};

    fn reminder() -> Reminder {
        let at = Utc
            .with_ymd_and_hms(2026, 3, 2, 20, 0, 0)
            .single()
            .unwrap_or_default();
        Reminder {
            id: Uuid::from_u128(1),
            user_id: UserId::from(Uuid::from_u128(2)),
            show_id: ShowId::from(Uuid::from_u128(3)),
            episode_id: EpisodeId::from(Uuid::from_u128(4)),
            season_number: 2,
            episode_number: 4,
            last_watch_at: at,
            due_at: at,
            status: ReminderStatus::Scheduled,
            attempts: 1,
            sent_at: None,
            updated_at: at,
        }
    }

    /// A one-request HTTP server answering `status`; returns its URL and the request it got.
    async fn answer_once(status: &'static str) -> (reqwest::Url, tokio::task::JoinHandle<String>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let task = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.expect("accept");
            let mut got = Vec::new();
            let mut buf = [0u8; 4096];
            loop {
                let n = socket.read(&mut buf).await.expect("read");
                got.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&got).to_string();
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let len = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    if body.len() >= len {
                        break;
                    }
                }
                if n == 0 {
                    break;
                }
            }
            let response =
                format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            socket.write_all(response.as_bytes()).await.expect("write");
            String::from_utf8_lossy(&got).to_string()
        });
        let url = reqwest::Url::parse(&format!("http://{addr}/hook")).expect("url");
        (url, task)
    }

    #[tokio::test]
    async fn a_reminder_is_posted_as_json() {
        let (url, request) = answer_once("204 No Content").await;
        let notifier = WebhookNotifier::new(url, WEBHOOK_TIMEOUT).expect("client");
        notifier.notify(&reminder()).await.expect("delivered");
        let request = request.await.expect("request");
        assert!(request.starts_with("POST /hook HTTP/1.1"), "{request}");
        assert!(
            request
                .to_ascii_lowercase()
                .contains("content-type: application/json")
        );
        let body = request.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
        let json: serde_json::Value = serde_json::from_str(body).expect("JSON body");
        assert_eq!(
            json,
            serde_json::json!({
                "type": "continuation-reminder",
                "reminderId": Uuid::from_u128(1),
                "userId": Uuid::from_u128(2),
                "showId": Uuid::from_u128(3),
                "episodeId": Uuid::from_u128(4),
                "seasonNumber": 2,
                "episodeNumber": 4,
                "lastWatchAt": "2026-03-02T20:00:00Z",
                "attempt": 1,
            })
        );
    }

    #[tokio::test]
    async fn an_error_status_or_no_listener_is_a_failed_attempt() {
        let (url, request) = answer_once("500 Internal Server Error").await;
        let notifier = WebhookNotifier::new(url, WEBHOOK_TIMEOUT).expect("client");
        assert!(notifier.notify(&reminder()).await.is_err());
        let _ = request.await;

        // Nothing listens on a port just released.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        drop(listener);
        let url = reqwest::Url::parse(&format!("http://{addr}/hook")).expect("url");
        let notifier = WebhookNotifier::new(url, WEBHOOK_TIMEOUT).expect("client");
        assert!(notifier.notify(&reminder()).await.is_err());
    }

    #[test]
    fn logs_show_the_origin_only() {
        let url =
            reqwest::Url::parse("http://user:pw@hooks.example:8080/t/SECRET?k=v").expect("url");
        assert_eq!(origin(&url), "http://hooks.example:8080");
    }
}
