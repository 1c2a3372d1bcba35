//! The HTTP adapter: the axum router of the JSON API (SPEC §2–§6) with bearer-token auth, a
//! per-user rate limit, problem+json errors, idempotency keys, OpenAPI, health and metrics.
//!
//! [`router`] is generic over the inbound port [`viewing_app::api::ViewingApi`] (the server
//! passes a `ViewingService` over the store it picked at start-up; tests may pass a fake).
#![forbid(unsafe_code)]

pub mod auth;
pub mod dto;
pub mod error;
pub mod extract;
pub mod handlers;
pub mod idempotency;
pub mod metrics;
pub mod openapi;
pub mod sanitize;
pub mod serve;

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Request};
use axum::http::header;
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Router};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;
use viewing_app::api::ViewingApi;
use viewing_app::metrics::RelayMetrics;

pub use auth::{AddressRateLimiter, Authenticator, JwtSecret, UserRateLimiter};
pub use error::{ApiError, Problem};
pub use extract::Caller;
pub use metrics::Metrics;
pub use serve::{MAX_URI_LEN, serve};

/// Request bodies over this many bytes are refused with 413.
pub const BODY_LIMIT: usize = 64 * 1024;

/// Settings of the HTTP adapter.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    pub jwt_secret: JwtSecret,
    /// Requests per minute and user (sustained).
    pub rate_limit_per_min: NonZeroU32,
    /// Requests a user may make at once before the rate applies.
    pub rate_limit_burst: NonZeroU32,
    /// Requests per minute and client address that bring no valid token (sustained).
    pub anon_rate_limit_per_min: NonZeroU32,
    /// Such requests an address may make at once before that rate applies.
    pub anon_rate_limit_burst: NonZeroU32,
}

/// Everything the handlers share. Cheap to clone.
pub struct AppState<S: ViewingApi> {
    /// The inbound port every handler calls.
    service: S,
    guard: auth::Guard,
    metrics: Arc<Metrics>,
    /// The background runner's numbers (outbox backlog, deliveries, handler lag), appended to
    /// `/metrics` when a runner works in this process.
    relay_metrics: Option<Arc<RelayMetrics>>,
}

impl<S: ViewingApi> Clone for AppState<S> {
    fn clone(&self) -> Self {
        Self {
            service: self.service.clone(),
            guard: self.guard.clone(),
            metrics: self.metrics.clone(),
            relay_metrics: self.relay_metrics.clone(),
        }
    }
}

impl<S: ViewingApi> AppState<S> {
    pub fn new(service: S, config: &HttpConfig) -> Self {
        Self {
            service,
            guard: auth::Guard {
                auth: Arc::new(Authenticator::new(&config.jwt_secret)),
                limiter: Arc::new(UserRateLimiter::new(
                    config.rate_limit_per_min,
                    config.rate_limit_burst,
                )),
                anonymous: Arc::new(AddressRateLimiter::new(
                    config.anon_rate_limit_per_min,
                    config.anon_rate_limit_burst,
                )),
            },
            metrics: Arc::new(Metrics::new()),
            relay_metrics: None,
        }
    }

    /// Appends the background runner's metrics (`Runner::metrics`) to `/metrics`.
    pub fn with_relay_metrics(mut self, metrics: Arc<RelayMetrics>) -> Self {
        self.relay_metrics = Some(metrics);
        self
    }

    pub fn service(&self) -> &S {
        &self.service
    }

    pub fn authenticator(&self) -> &Authenticator {
        &self.guard.auth
    }

    pub fn rate_limiter(&self) -> &Arc<UserRateLimiter> {
        &self.guard.limiter
    }

    /// The per-address limit of requests without a valid credential (a token on `/api/**`, a
    /// known secret on `/webhooks/{secret}`).
    pub fn anonymous_limiter(&self) -> &AddressRateLimiter {
        &self.guard.anonymous
    }

    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    pub fn relay_metrics(&self) -> Option<&RelayMetrics> {
        self.relay_metrics.as_deref()
    }
}

/// The whole service: `/api/**` (authenticated, rate-limited), `/health/*`, `/metrics`,
/// `/api/openapi.json`; request ids, tracing, URI and body limits, panic catching, and a last
/// guard that turns any bare error status into problem+json.
///
/// Serve it with [`serve()`], which also answers what the HTTP parser refuses before the router
/// sees it (over-long URIs and header sections) with problem+json, and gives the router the
/// client address (`ConnectInfo<SocketAddr>`) for the per-address rate limit.
pub fn router<S: ViewingApi>(state: AppState<S>) -> Router {
    let (routes, document) = routes(&state).split_for_parts();
    let document = openapi::Document::new(openapi::complete(document));
    let metrics = state.metrics.clone();
    routes
        .fallback(handlers::ops::not_found)
        .with_state(state)
        .layer(Extension(document))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(from_fn(serve::limit_uri))
        .layer(from_fn_with_state(metrics, metrics::track))
        .layer(from_fn(problem_guard))
        .layer(from_fn(serve::close_after_error))
        .layer(CatchPanicLayer::custom(
            |_: Box<dyn std::any::Any + Send>| {
                ApiError::Internal("a handler panicked".into()).into_response()
            },
        ))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request| {
                    let id = req
                        .headers()
                        .get("x-request-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("-");
                    tracing::info_span!(
                        "request",
                        request_id = %id,
                        method = %req.method(),
                        path = %req.uri().path(),
                        user = tracing::field::Empty,
                    )
                })
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

/// Every route, each declared once next to its handler (`handlers::*::routes`): the handler's
/// `#[utoipa::path]` gives both its place in the router and its operation in the OpenAPI
/// document. `/api/**` is authenticated (401, 429) on every matched route; the idempotency key
/// is read on the POST handlers only ([`handlers::idempotent`]), so a method a path does not
/// have is 405 whatever key it carries.
pub fn routes<S: ViewingApi>(state: &AppState<S>) -> OpenApiRouter<AppState<S>> {
    use handlers::{
        admin, catalog, engagement, imports, integrations, ops, playback, reading, viewing,
    };

    // Layers run outside-in: authenticate every matched route, then, on the POST handlers
    // only, the idempotency key.
    let api = OpenApiRouter::new()
        .merge(catalog::routes())
        .merge(viewing::routes(state))
        .merge(reading::routes())
        .merge(engagement::routes())
        .merge(imports::routes(state))
        .merge(playback::routes(state))
        .merge(integrations::routes(state))
        .merge(admin::routes(state))
        .route_layer(from_fn_with_state(state.guard.clone(), auth::authenticate));

    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(api)
        .merge(ops::routes())
        .merge(
            integrations::webhook_routes()
                .layer(DefaultBodyLimit::max(integrations::WEBHOOK_LIMIT)),
        )
}

/// Any error response that is not problem+json yet (axum's own 405, a framework rejection)
/// becomes one, so clients only ever see one error format.
async fn problem_guard(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(error::PROBLEM_JSON.as_bytes()));
    if is_problem {
        return response;
    }
    let mut replaced = ApiError::for_status(status).into_response();
    *replaced.status_mut() = status;
    if let Some(v) = response.headers().get(header::RETRY_AFTER) {
        replaced
            .headers_mut()
            .insert(header::RETRY_AFTER, v.clone());
    }
    replaced
}

/// Forgets idle users of the rate limiter every `every` (bounded memory), until the runtime
/// stops.
pub fn spawn_rate_limiter_sweeper(limiter: Arc<UserRateLimiter>, every: Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            limiter.forget_idle();
        }
    });
}
