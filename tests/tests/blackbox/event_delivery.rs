//! Where events and reminders leave the process: due reminders POSTed to the webhook of
//! `VIEWING_NOTIFY_WEBHOOK_URL`, the runner's numbers in `/metrics`, and the domain events in
//! NATS JetStream when `VIEWING_NATS_URL` is set (`VIEWING_TEST_NATS_URL` names the server to
//! test against).

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use uuid::Uuid;
use viewing_tests::{Options, Server, movie, server_bin, show};

/// A webhook receiver on a free port: every JSON body POSTed to `/hooks/reminders` comes out
/// of the channel.
async fn webhook() -> (String, mpsc::UnboundedReceiver<Value>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let app = axum::Router::new()
        .route(
            "/hooks/reminders",
            post(
                |State(tx): State<mpsc::UnboundedSender<Value>>, Json(body): Json<Value>| async move {
                    let _ = tx.send(body);
                    StatusCode::NO_CONTENT
                },
            ),
        )
        .with_state(tx);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("bind: {e}"));
    let addr = listener
        .local_addr()
        .unwrap_or_else(|e| panic!("addr: {e}"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/hooks/reminders"), rx)
}

#[tokio::test]
async fn due_reminders_are_posted_to_the_webhook() {
    let (url, mut received) = webhook().await;
    let server = Server::start_with(
        &server_bin!(),
        Options {
            env: vec![
                ("VIEWING_NOTIFY_WEBHOOK_URL".into(), url),
                // Due a minute after the watch, looked for every second.
                ("VIEWING_REMINDER_DELAY_MINUTES".into(), "1".into()),
                ("VIEWING_REMINDER_INTERVAL_SECONDS".into(), "1".into()),
            ],
            ..Options::default()
        },
    );
    let s = show("Dark", "ended", &[3], 50);
    server.admin().put_show(&s).await.assert_status(200);
    let user = Uuid::new_v4();
    let alice = server.client(user);
    let watched_at = (chrono::Utc::now() - chrono::Duration::minutes(2))
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let record = alice
        .watch_episode(s.episode(1, 1), &json!({ "watchDate": watched_at }))
        .await;
    record.assert_status(201);

    let body = tokio::time::timeout(Duration::from_secs(15), received.recv())
        .await
        .unwrap_or_else(|_| {
            panic!(
                "no reminder reached the webhook; server log:\n{}",
                server.stderr()
            )
        })
        .unwrap_or_else(|| panic!("the webhook receiver stopped"));
    let reminder_id = body["reminderId"].clone();
    assert!(reminder_id.is_string(), "{body}");
    assert_eq!(
        body,
        json!({
            "type": "continuation-reminder",
            "reminderId": reminder_id,
            "userId": user,
            "showId": s.id,
            "episodeId": s.episode(1, 2),
            "seasonNumber": 1,
            "episodeNumber": 2,
            "lastWatchAt": record.body["watchDate"],
            "attempt": 1,
        })
    );

    // The stored reminder reads as sent, once.
    let listed = alice
        .wait_get("/api/viewing/reminders", |b| {
            b["items"][0]["status"] == "sent"
        })
        .await;
    let r = &listed["items"][0];
    assert_eq!(r["id"], reminder_id);
    assert_eq!(r["attempts"], 1);
    assert!(r["sentAt"].is_string(), "{r}");
    let metrics = server.anonymous().get("/metrics").await;
    assert!(
        metrics.text.contains("viewing_reminders_sent_total 1"),
        "{}",
        metrics.text
    );
}

#[tokio::test]
async fn metrics_show_the_outbox_backlog_and_handler_lag() {
    let server = Server::start(&server_bin!());
    let m = movie("Heat", 170, &["crime"]);
    server.admin().put_movie(&m).await.assert_status(200);
    let alice = server.client(Uuid::new_v4());
    alice.watch_movie(m.id, &json!({})).await.assert_status(201);
    alice
        .wait_get("/api/viewing/preferences", |b| {
            b["genres"][0]["genre"] == "crime"
        })
        .await;

    let anon = server.anonymous();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let metrics = anon.get("/metrics").await;
        metrics.assert_status(200);
        let t = &metrics.text;
        // The backlog is read every second: wait until it has caught up with the delivery.
        if t.contains("viewing_outbox_backlog{channel=\"handlers\"} 0")
            && t.contains("viewing_handler_applied_total{handler=\"preferences\"}")
        {
            for family in [
                "# TYPE viewing_outbox_backlog gauge",
                "# TYPE viewing_outbox_oldest_pending_seconds gauge",
                // The exporter writes a zero gauge as `0` (it was `0.000`).
                "viewing_outbox_oldest_pending_seconds{channel=\"handlers\"} 0\n",
                "viewing_outbox_delivered_total{channel=\"handlers\"}",
                "viewing_outbox_delivery_failures_total{channel=\"handlers\"} 0",
                "viewing_handler_lag_seconds{handler=\"statistics\"}",
                "viewing_handler_lag_seconds{handler=\"achievements\"}",
                "viewing_handler_lag_seconds{handler=\"watchlist\"}",
                "viewing_handler_lag_seconds{handler=\"reminders\"}",
                "viewing_handler_lag_seconds{handler=\"preferences\"}",
                // The HTTP families are still there.
                "# TYPE http_requests_total counter",
            ] {
                assert!(t.contains(family), "{family} missing from:\n{t}");
            }
            // No broker configured: no broker channel.
            assert!(!t.contains("channel=\"broker\""), "{t}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the outbox backlog never showed 0:\n{t}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Messages of stream `VIEWING_EVENTS` after `after`, until `found` accepts one (at most 15 s).
async fn find_in_stream(
    js: &async_nats::jetstream::Context,
    after: u64,
    found: impl Fn(&str, &Value) -> bool,
) -> (async_nats::jetstream::message::StreamMessage, Value) {
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let mut next = after + 1;
    loop {
        if let Ok(stream) = js.get_stream("VIEWING_EVENTS").await
            && let Ok(info) = stream.get_info().await
        {
            while next <= info.state.last_sequence {
                if let Ok(m) = stream.get_raw_message(next).await {
                    let envelope: Value = serde_json::from_slice(&m.payload).unwrap_or_default();
                    if found(m.subject.as_str(), &envelope) {
                        return (m, envelope);
                    }
                }
                next += 1;
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the event never reached stream VIEWING_EVENTS"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn events_reach_nats_jetstream() {
    let Some(nats_url) = viewing_tests::nats::test_url() else {
        return;
    };
    let client = async_nats::connect(nats_url.as_str())
        .await
        .unwrap_or_else(|e| {
            panic!("VIEWING_TEST_NATS_URL={nats_url} is set but NATS does not answer: {e}")
        });
    let js = async_nats::jetstream::new(client);
    // Other processes may publish to the stream too: read only what comes after this point,
    // and only this test's user.
    let after = match js.get_stream("VIEWING_EVENTS").await {
        Ok(stream) => stream
            .get_info()
            .await
            .map(|i| i.state.last_sequence)
            .unwrap_or(0),
        Err(_) => 0,
    };

    let server = Server::start_with(
        &server_bin!(),
        Options {
            env: vec![("VIEWING_NATS_URL".into(), nats_url.clone())],
            ..Options::default()
        },
    );
    let m = movie("Heat", 170, &["crime", "thriller"]);
    server.admin().put_movie(&m).await.assert_status(200);
    let user = Uuid::new_v4();
    let alice = server.client(user);
    let record = alice
        .watch_movie(
            m.id,
            &json!({
                "watchDate": "2026-01-10T20:00:00Z",
                "viewingPlatform": "Netflix",
                "viewingLocation": "home",
                "watchedWith": ["Sam"],
                "viewingContext": "date night",
            }),
        )
        .await;
    record.assert_status(201);

    let mine = |event_type: &'static str| {
        move |subject: &str, e: &Value| {
            e["userId"] == json!(user)
                && e["eventType"] == event_type
                && subject == format!("viewing.events.{event_type}")
        }
    };
    let (msg, envelope) = find_in_stream(&js, after, mine("MovieWatched")).await;
    let event_id = envelope["eventId"].as_str().unwrap_or_default().to_owned();
    let parsed = Uuid::parse_str(&event_id).unwrap_or_else(|e| panic!("eventId {event_id}: {e}"));
    assert_eq!(parsed.get_version_num(), 7, "eventId is a UUID v7");
    assert_eq!(
        msg.headers.get("Nats-Msg-Id").map(|v| v.as_str()),
        Some(event_id.as_str())
    );
    assert!(envelope["occurredAt"].is_string(), "{envelope}");
    assert_eq!(
        envelope["payload"],
        json!({
            "movieId": m.id,
            "recordId": record.body["id"],
            "watchDate": "2026-01-10T20:00:00Z",
            "viewingLocation": "home",
            "viewingPlatform": "Netflix",
            "watchedWith": ["Sam"],
            "viewingContext": "date night",
            "isRewatch": false,
            // None was sent (a movie's record keeps none either).
            "viewingDuration": record.body["viewingDuration"],
        })
    );
    let keys: Vec<&String> = envelope
        .as_object()
        .map(|o| o.keys().collect())
        .unwrap_or_default();
    assert_eq!(
        keys.len(),
        6,
        "schemaVersion, eventId, eventType, occurredAt, userId, payload: {envelope}"
    );
    assert_eq!(envelope["schemaVersion"], 1);

    // The handlers' own events go out too: the first movie unlocks an achievement.
    let (_, unlocked) = find_in_stream(&js, after, mine("AchievementUnlocked")).await;
    assert_eq!(
        unlocked["payload"]["achievement"], "first-movie",
        "{unlocked}"
    );
    assert_eq!(unlocked["payload"]["unlockedAt"], "2026-01-10T20:00:00Z");

    // The broker channel shows in the metrics.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let t = server.anonymous().get("/metrics").await.text;
        if t.contains("viewing_outbox_backlog{channel=\"broker\"} 0") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no broker backlog of 0 in:\n{t}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
