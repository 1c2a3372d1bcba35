//! `/metrics` in process: each router records into its own recorder, so two routers in one
//! process (tests, or an embedding program) never see each other's numbers.

use std::num::NonZeroU32;

use adapters_http::{AppState, HttpConfig, JwtSecret, router};
use adapters_memory::MemoryStore;
use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode};
use tower::ServiceExt;
use viewing_app::ViewingService;

fn app() -> axum::Router {
    let n = |v| NonZeroU32::new(v).unwrap_or(NonZeroU32::MIN);
    router(AppState::new(
        ViewingService::new(MemoryStore::new()),
        &HttpConfig {
            jwt_secret: JwtSecret::new("metrics-test-secret"),
            rate_limit_per_min: n(600),
            rate_limit_burst: n(100),
            anon_rate_limit_per_min: n(60),
            anon_rate_limit_burst: n(20),
        },
    ))
}

async fn get(app: &axum::Router, path: &str) -> (StatusCode, String) {
    let response = app
        .clone()
        .oneshot(Request::get(path).body(Body::empty()).unwrap_or_default())
        .await
        .unwrap_or_else(|e| match e {});
    let status = response.status();
    let bytes = to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap_or_default();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

const LIVE: &str = "http_requests_total{method=\"GET\",route=\"/health/live\",status=\"200\"}";

#[tokio::test]
async fn two_routers_in_one_process_count_their_own_requests() {
    let (a, b) = (app(), app());
    // The first scrape already lists the family.
    let (status, text) = get(&b, "/metrics").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        text.contains("# TYPE http_requests_total counter"),
        "{text}"
    );
    for _ in 0..2 {
        assert_eq!(get(&a, "/health/live").await.0, StatusCode::OK);
    }
    assert_eq!(get(&b, "/health/live").await.0, StatusCode::OK);

    let (_, text) = get(&a, "/metrics").await;
    assert!(text.contains(&format!("{LIVE} 2\n")), "{text}");
    assert!(
        text.contains(
            "http_request_duration_seconds_count{method=\"GET\",route=\"/health/live\"} 2\n"
        ),
        "{text}"
    );
    let (_, text) = get(&b, "/metrics").await;
    assert!(text.contains(&format!("{LIVE} 1\n")), "{text}");
    // b's first scrape is counted by b alone.
    assert!(
        text.contains("http_requests_total{method=\"GET\",route=\"/metrics\",status=\"200\"} 1\n"),
        "{text}"
    );
}
