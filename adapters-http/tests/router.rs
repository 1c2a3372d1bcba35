//! The router in process, over a store that can be switched off: a store that is down answers
//! 503 `unavailable` (readiness, reads, writes, idempotency keys), never a 500.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use adapters_http::{AppState, HttpConfig, JwtSecret, router};
use adapters_memory::{MemoryStore, MemoryUow};
use async_trait::async_trait;
use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode};
use chrono::{DateTime, Utc};
use tower::ServiceExt;
use viewing_app::ViewingService;
use viewing_app::domain::event_ports::{
    ClaimToken, DeadLetter, OutboxBacklog, OutboxRelay, PendingEvent, RelayChannel,
};
use viewing_app::domain::idempotency::{
    Decision, IdempotencyKey, IdempotencyPolicy, RequestFingerprint, StoredResponse,
};
use viewing_app::domain::ports::{Begin, IdempotencyStore, Store, StoreError, StoreResult};
use viewing_app::domain::{EventId, UserId};

#[derive(Clone, Default)]
struct Flaky {
    inner: MemoryStore,
    down: Arc<AtomicBool>,
}

impl Flaky {
    fn check(&self) -> StoreResult<()> {
        if self.down.load(Ordering::SeqCst) {
            Err(StoreError::unavailable("connection refused"))
        } else {
            Ok(())
        }
    }
}

#[async_trait]
impl Begin for Flaky {
    type Uow = MemoryUow;
    async fn begin(&self) -> StoreResult<MemoryUow> {
        self.check()?;
        self.inner.begin().await
    }
}

#[async_trait]
impl Store for Flaky {
    async fn ping(&self) -> StoreResult<()> {
        self.check()
    }
}

#[async_trait]
impl IdempotencyStore for Flaky {
    async fn claim_idempotency_key(
        &self,
        user: UserId,
        key: &IdempotencyKey,
        request: &RequestFingerprint,
        now: DateTime<Utc>,
        policy: IdempotencyPolicy,
    ) -> StoreResult<Decision> {
        self.check()?;
        self.inner
            .claim_idempotency_key(user, key, request, now, policy)
            .await
    }
    async fn complete_idempotency_key(
        &self,
        user: UserId,
        key: &IdempotencyKey,
        response: &StoredResponse,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.check()?;
        self.inner
            .complete_idempotency_key(user, key, response, now)
            .await
    }
    async fn release_idempotency_key(&self, user: UserId, key: &IdempotencyKey) -> StoreResult<()> {
        self.check()?;
        self.inner.release_idempotency_key(user, key).await
    }
}

/// The relay's side goes down with the rest of the store.
#[async_trait]
impl OutboxRelay for Flaky {
    async fn claim_events(
        &self,
        channel: RelayChannel,
        token: ClaimToken,
        now: DateTime<Utc>,
        lease: chrono::Duration,
        limit: u32,
    ) -> StoreResult<Vec<PendingEvent>> {
        self.check()?;
        self.inner
            .claim_events(channel, token, now, lease, limit)
            .await
    }
    async fn mark_delivered(
        &self,
        channel: RelayChannel,
        seqs: &[i64],
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.check()?;
        self.inner.mark_delivered(channel, seqs, now).await
    }
    async fn schedule_retry(
        &self,
        channel: RelayChannel,
        token: ClaimToken,
        seq: i64,
        next_attempt_at: DateTime<Utc>,
        error: &str,
    ) -> StoreResult<()> {
        self.check()?;
        self.inner
            .schedule_retry(channel, token, seq, next_attempt_at, error)
            .await
    }
    async fn renew_claim(
        &self,
        channel: RelayChannel,
        token: ClaimToken,
        until: DateTime<Utc>,
    ) -> StoreResult<u64> {
        self.check()?;
        self.inner.renew_claim(channel, token, until).await
    }
    async fn park_event(
        &self,
        channel: RelayChannel,
        token: ClaimToken,
        seq: i64,
        now: DateTime<Utc>,
        error: &str,
    ) -> StoreResult<()> {
        self.check()?;
        self.inner.park_event(channel, token, seq, now, error).await
    }
    async fn dead_letters(&self, limit: u32) -> StoreResult<Vec<DeadLetter>> {
        self.check()?;
        self.inner.dead_letters(limit).await
    }
    async fn retry_dead_letter(
        &self,
        event: EventId,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<DeadLetter>> {
        self.check()?;
        self.inner.retry_dead_letter(event, now).await
    }
    async fn release_events(
        &self,
        channel: RelayChannel,
        token: ClaimToken,
        seqs: &[i64],
    ) -> StoreResult<()> {
        self.check()?;
        self.inner.release_events(channel, token, seqs).await
    }
    async fn outbox_backlog(&self, channel: RelayChannel) -> StoreResult<OutboxBacklog> {
        self.check()?;
        self.inner.outbox_backlog(channel).await
    }
}

const SECRET: &str = "router-test-secret";

fn app(store: Flaky) -> (axum::Router, String) {
    let n = |v| NonZeroU32::new(v).unwrap_or(NonZeroU32::MIN);
    let state = AppState::new(
        ViewingService::new(store),
        &HttpConfig {
            jwt_secret: JwtSecret::new(SECRET),
            rate_limit_per_min: n(600),
            rate_limit_burst: n(100),
            anon_rate_limit_per_min: n(60),
            anon_rate_limit_burst: n(20),
        },
    );
    let now = Utc::now();
    let token = state
        .authenticator()
        .mint(
            UserId::from(uuid::Uuid::new_v4()),
            true,
            now,
            now + chrono::Duration::hours(1),
        )
        .unwrap_or_default();
    (router(state), token)
}

async fn call(app: &axum::Router, req: Request<Body>) -> (StatusCode, serde_json::Value) {
    let response = app
        .clone()
        .oneshot(req)
        .await
        .unwrap_or_else(|e| match e {});
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let bytes = to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap_or_default();
    if status.is_client_error() || status.is_server_error() {
        assert_eq!(content_type, "application/problem+json");
    }
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
    )
}

fn get(path: &str, token: &str) -> Request<Body> {
    Request::get(path)
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_store_that_is_down_answers_503() {
    let store = Flaky::default();
    let (app, token) = app(store.clone());

    let (status, _) = call(&app, get("/health/ready", &token)).await;
    assert_eq!(status, StatusCode::OK);

    store.down.store(true, Ordering::SeqCst);
    let (status, body) = call(&app, get("/health/ready", &token)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["code"], "unavailable");
    let (status, body) = call(&app, get("/api/viewing/history", &token)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["code"], "unavailable");
    let movie = uuid::Uuid::new_v4();
    let post = |key: Option<&str>| {
        let mut b = Request::post(format!("/api/viewing/movies/{movie}/watched"))
            .header("authorization", format!("Bearer {token}"));
        if let Some(k) = key {
            b = b.header("idempotency-key", k);
        }
        b.body(Body::from("{}")).unwrap_or_default()
    };
    for key in [None, Some("k")] {
        let (status, body) = call(&app, post(key)).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{key:?}");
        assert_eq!(body["code"], "unavailable");
    }
    // Liveness does not depend on the store.
    let (status, _) = call(&app, get("/health/live", &token)).await;
    assert_eq!(status, StatusCode::OK);

    // Back up: the same key runs, its failure was not kept.
    store.down.store(false, Ordering::SeqCst);
    let (status, body) = call(&app, post(Some("k"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["code"], "content-not-found");
}

#[tokio::test]
async fn the_openapi_document_is_valid_json_with_every_route() {
    let (app, token) = app(Flaky::default());
    let (status, doc) = call(&app, get("/api/openapi.json", &token)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["paths"].as_object().map(|p| p.len()), Some(22));
}

#[tokio::test]
async fn metrics_append_the_background_runners_numbers() {
    let n = |v| NonZeroU32::new(v).unwrap_or(NonZeroU32::MIN);
    let service = ViewingService::new(Flaky::default());
    let relay = viewing_app::relay::Relay::new(&service);
    relay
        .refresh_backlog()
        .await
        .unwrap_or_else(|e| panic!("backlog: {e}"));
    let state = AppState::new(
        service,
        &HttpConfig {
            jwt_secret: JwtSecret::new(SECRET),
            rate_limit_per_min: n(600),
            rate_limit_burst: n(100),
            anon_rate_limit_per_min: n(60),
            anon_rate_limit_burst: n(20),
        },
    )
    .with_relay_metrics(relay.metrics());
    let response = router(state)
        .oneshot(
            Request::get("/metrics")
                .body(Body::empty())
                .unwrap_or_default(),
        )
        .await
        .unwrap_or_else(|e| match e {});
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        text.contains("# TYPE http_requests_total counter"),
        "{text}"
    );
    assert!(
        text.contains("# TYPE viewing_outbox_backlog gauge"),
        "{text}"
    );
    assert!(
        text.contains("viewing_outbox_backlog{channel=\"handlers\"} 0"),
        "{text}"
    );
    assert!(
        text.contains("# TYPE viewing_handler_lag_seconds gauge"),
        "{text}"
    );
}
