//! The `Idempotency-Key` middleware in process, on the memory store, around a test route that
//! counts its runs: PATCH is treated like POST, other methods are left alone, and a repeat while
//! the first request is held is 409 `idempotency-in-flight` with `Retry-After: 1`.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use adapters_http::idempotency::idempotent;
use adapters_http::{AppState, Caller, HttpConfig, JwtSecret};
use adapters_memory::MemoryStore;
use axum::Router;
use axum::body::{Body, Bytes, to_bytes};
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use tokio::sync::Semaphore;
use tower::ServiceExt;
use viewing_app::ViewingService;
use viewing_app::domain::UserId;

/// Counts runs; a body of `fail` answers 422, a body of `wait` waits for one permit.
#[derive(Clone)]
struct Route {
    runs: Arc<AtomicUsize>,
    gate: Arc<Semaphore>,
}

fn app() -> (Router, Route) {
    let n = |v| NonZeroU32::new(v).unwrap_or(NonZeroU32::MIN);
    let state = AppState::new(
        ViewingService::new(MemoryStore::new()),
        &HttpConfig {
            jwt_secret: JwtSecret::new("idempotency-test-secret"),
            rate_limit_per_min: n(600),
            rate_limit_burst: n(100),
            anon_rate_limit_per_min: n(60),
            anon_rate_limit_burst: n(20),
        },
    );
    let route = Route {
        runs: Arc::new(AtomicUsize::new(0)),
        gate: Arc::new(Semaphore::new(0)),
    };
    let r = route.clone();
    let handler = move |body: Bytes| {
        let r = r.clone();
        async move {
            let run = r.runs.fetch_add(1, Ordering::SeqCst) + 1;
            if body.as_ref() == b"wait" {
                let _permit = r.gate.acquire().await;
            }
            if body.as_ref() == b"fail" {
                return StatusCode::UNPROCESSABLE_ENTITY.into_response();
            }
            (StatusCode::CREATED, format!("{{\"run\":{run}}}")).into_response()
        }
    };
    let user = UserId::from(uuid::Uuid::new_v4());
    let app = Router::new()
        .route(
            "/things/{id}",
            post(handler.clone())
                .patch(handler.clone())
                .put(handler.clone())
                .delete(handler),
        )
        .route_layer(from_fn_with_state(
            state,
            idempotent::<ViewingService<MemoryStore>>,
        ))
        .layer(from_fn(move |mut req: Request, next: Next| async move {
            req.extensions_mut().insert(Caller { user, admin: false });
            next.run(req).await
        }));
    (app, route)
}

async fn call(app: &Router, method: &str, path: &str, key: &str, body: &'static str) -> Response {
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header("idempotency-key", key)
        .body(Body::from(body))
        .unwrap_or_default();
    app.clone()
        .oneshot(req)
        .await
        .unwrap_or_else(|e| match e {})
}

async fn text(r: Response) -> String {
    let bytes = to_bytes(r.into_body(), 1 << 20).await.unwrap_or_default();
    String::from_utf8_lossy(&bytes).into_owned()
}

fn replayed(r: &Response) -> bool {
    r.headers()
        .get("idempotent-replayed")
        .is_some_and(|v| v == "true")
}

#[tokio::test]
async fn patch_is_bound_and_replayed_like_post() {
    let (app, route) = app();
    let first = call(&app, "PATCH", "/things/1", "p-1", "a").await;
    assert_eq!(first.status(), StatusCode::CREATED);
    assert!(!replayed(&first));
    let repeat = call(&app, "PATCH", "/things/1", "p-1", "a").await;
    assert_eq!(repeat.status(), StatusCode::CREATED);
    assert!(replayed(&repeat));
    assert_eq!(text(repeat).await, "{\"run\":1}");
    assert_eq!(route.runs.load(Ordering::SeqCst), 1);

    // The same key with POST, another path or another body is refused.
    for (method, path, body) in [
        ("POST", "/things/1", "a"),
        ("PATCH", "/things/2", "a"),
        ("PATCH", "/things/1", "b"),
    ] {
        let r = call(&app, method, path, "p-1", body).await;
        assert_eq!(
            r.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{method} {path}"
        );
        assert!(
            text(r)
                .await
                .contains("\"code\":\"idempotency-key-reused\"")
        );
    }
    assert_eq!(route.runs.load(Ordering::SeqCst), 1);

    // A failed PATCH releases its key.
    let failed = call(&app, "PATCH", "/things/3", "p-2", "fail").await;
    assert_eq!(failed.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let corrected = call(&app, "PATCH", "/things/3", "p-2", "ok").await;
    assert_eq!(corrected.status(), StatusCode::CREATED);
    assert!(!replayed(&corrected));
    assert_eq!(route.runs.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn other_methods_ignore_the_key() {
    let (app, route) = app();
    for method in ["PUT", "PUT", "DELETE", "DELETE"] {
        let r = call(&app, method, "/things/1", "same-key", "a").await;
        assert_eq!(r.status(), StatusCode::CREATED);
        assert!(!replayed(&r));
    }
    assert_eq!(route.runs.load(Ordering::SeqCst), 4);
}

#[tokio::test]
async fn a_repeat_while_the_first_runs_is_409_with_retry_after() {
    let (app, route) = app();
    let first = tokio::spawn({
        let app = app.clone();
        async move { call(&app, "POST", "/things/1", "held", "wait").await }
    });
    // Wait until the first request runs (it holds its claim and waits for a permit).
    for _ in 0..1000 {
        if route.runs.load(Ordering::SeqCst) == 1 {
            break;
        }
        tokio::task::yield_now().await;
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    assert_eq!(
        route.runs.load(Ordering::SeqCst),
        1,
        "the first request runs"
    );

    let repeat = call(&app, "POST", "/things/1", "held", "wait").await;
    assert_eq!(repeat.status(), StatusCode::CONFLICT);
    assert_eq!(
        repeat
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("1")
    );
    assert_eq!(
        repeat
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/problem+json")
    );
    assert!(
        text(repeat)
            .await
            .contains("\"code\":\"idempotency-in-flight\"")
    );
    assert_eq!(
        route.runs.load(Ordering::SeqCst),
        1,
        "the repeat did not run"
    );

    route.gate.add_permits(1);
    let first = first.await.unwrap_or_else(|e| panic!("first request: {e}"));
    assert_eq!(first.status(), StatusCode::CREATED);
    let after = call(&app, "POST", "/things/1", "held", "wait").await;
    assert!(replayed(&after));
    assert_eq!(text(after).await, "{\"run\":1}");
}
