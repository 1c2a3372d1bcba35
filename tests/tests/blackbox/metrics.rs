//! `/metrics` serves every metric family it served before the metrics went through the
//! `metrics` facade and its Prometheus exporter (issue 9), with the same names, kinds and
//! labels, on SQLite and on PostgreSQL: dashboards do not break.

use std::time::Duration;

use serde_json::json;
use uuid::Uuid;
use viewing_tests::postgres;
use viewing_tests::{Server, movie, server_bin};

/// Every family `/metrics` served (name, kind), read from its output before issue 9.
const FAMILIES: [(&str, &str); 16] = [
    ("http_requests_total", "counter"),
    ("http_request_duration_seconds", "histogram"),
    ("viewing_outbox_backlog", "gauge"),
    ("viewing_outbox_oldest_pending_seconds", "gauge"),
    ("viewing_outbox_dead_letters", "gauge"),
    ("viewing_outbox_parked_total", "counter"),
    ("viewing_outbox_lease_renewal_failures_total", "counter"),
    ("viewing_outbox_delivered_total", "counter"),
    ("viewing_outbox_delivery_failures_total", "counter"),
    ("viewing_handler_applied_total", "counter"),
    ("viewing_handler_skipped_total", "counter"),
    ("viewing_handler_failures_total", "counter"),
    ("viewing_handler_lag_seconds", "gauge"),
    ("viewing_reminders_sent_total", "counter"),
    ("viewing_reminders_failed_total", "counter"),
    ("viewing_inactive_shows_reported_total", "counter"),
];

/// Sample lines (name and labels) that must be there once a movie was watched and the
/// handlers applied it.
const SAMPLES: [&str; 19] = [
    "http_requests_total{method=\"POST\",route=\"/api/viewing/movies/{movieId}/watched\",status=\"201\"} 1",
    "http_request_duration_seconds_bucket{method=\"POST\",route=\"/api/viewing/movies/{movieId}/watched\",le=\"0.001\"}",
    "http_request_duration_seconds_bucket{method=\"POST\",route=\"/api/viewing/movies/{movieId}/watched\",le=\"5\"}",
    "http_request_duration_seconds_bucket{method=\"POST\",route=\"/api/viewing/movies/{movieId}/watched\",le=\"+Inf\"} 1",
    "http_request_duration_seconds_sum{method=\"POST\",route=\"/api/viewing/movies/{movieId}/watched\"}",
    "http_request_duration_seconds_count{method=\"POST\",route=\"/api/viewing/movies/{movieId}/watched\"} 1",
    "viewing_outbox_backlog{channel=\"handlers\"} 0",
    "viewing_outbox_oldest_pending_seconds{channel=\"handlers\"} 0",
    "viewing_outbox_dead_letters{channel=\"handlers\"} 0",
    "viewing_outbox_parked_total{channel=\"handlers\"} 0",
    "viewing_outbox_lease_renewal_failures_total{channel=\"handlers\"} 0",
    "viewing_outbox_delivered_total{channel=\"handlers\"}",
    "viewing_outbox_delivery_failures_total{channel=\"handlers\"} 0",
    "viewing_handler_applied_total{handler=\"preferences\"}",
    "viewing_handler_skipped_total{handler=\"preferences\"} 0",
    "viewing_handler_failures_total{handler=\"preferences\"} 0",
    "viewing_handler_lag_seconds{handler=\"preferences\"}",
    "viewing_reminders_sent_total 0",
    "viewing_inactive_shows_reported_total 0",
];

async fn serves_every_family(server: &Server) {
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
        assert!(
            metrics
                .header("content-type")
                .is_some_and(|c| c.starts_with("text/plain; version=0.0.4")),
            "{:?}",
            metrics.header("content-type")
        );
        let t = &metrics.text;
        // The backlog is read every second: wait until it has caught up with the delivery.
        if t.contains("viewing_outbox_backlog{channel=\"handlers\"} 0\n") {
            for (name, kind) in FAMILIES {
                let line = format!("# TYPE {name} {kind}\n");
                assert!(t.contains(&line), "{line} missing from:\n{t}");
                assert!(
                    t.contains(&format!("# HELP {name} ")),
                    "no help for {name}:\n{t}"
                );
            }
            for sample in SAMPLES {
                assert!(t.contains(sample), "{sample} missing from:\n{t}");
            }
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the outbox backlog never showed 0:\n{t}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn metrics_serve_every_family_on_sqlite() {
    let server = Server::start(&server_bin!());
    serves_every_family(&server).await;
}

#[tokio::test]
async fn metrics_serve_every_family_on_postgresql() {
    let Some((server, _db)) = postgres::start_server(&server_bin!()).await else {
        return;
    };
    serves_every_family(&server).await;
}
