//! `/metrics`: request counts by route and status and latency by route, recorded through the
//! [`metrics`] facade into a Prometheus recorder this router owns (never a process-wide one, so
//! several routers in one process keep their own numbers), and rendered by
//! `metrics-exporter-prometheus` with the runner's numbers ([`RelayMetrics`]) when a runner
//! works in this process.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use metrics::{counter, describe_counter, describe_histogram, histogram, with_local_recorder};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};
use viewing_app::metrics::RelayMetrics;

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

const REQUESTS: &str = "http_requests_total";
const LATENCY: &str = "http_request_duration_seconds";

/// Latency samples wait in the recorder until they are folded into the histogram's buckets;
/// every this many requests they are, whether or not anyone reads `/metrics`.
const UPKEEP_EVERY: u64 = 1024;

/// The HTTP adapter's metrics registry.
pub struct Metrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    observed: AtomicU64,
}

impl fmt::Debug for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Metrics")
            .field("observed", &self.observed)
            .finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// An empty registry with its own recorder.
    pub fn new() -> Self {
        let builder = PrometheusBuilder::new();
        // The buckets are a non-empty constant, so this cannot fail; were it to, latency would
        // be a summary rather than no metrics at all.
        let builder = match builder.set_buckets_for_metric(Matcher::Full(LATENCY.into()), &BUCKETS)
        {
            Ok(builder) => builder,
            Err(_) => PrometheusBuilder::new(),
        };
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        with_local_recorder(&recorder, || {
            describe_counter!(REQUESTS, "HTTP requests by method, route and status.");
            describe_histogram!(LATENCY, "HTTP request latency by method and route.");
            // The first scrape already shows the family: the scrapes' own count, at 0 until
            // the first one is answered.
            counter!(REQUESTS, "method" => "GET", "route" => "/metrics", "status" => "200")
                .increment(0);
        });
        Self {
            recorder,
            handle,
            observed: AtomicU64::new(0),
        }
    }

    /// Counts one request and its latency.
    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        with_local_recorder(&self.recorder, || {
            counter!(
                REQUESTS,
                "method" => method.to_owned(),
                "route" => route.to_owned(),
                "status" => status.to_string(),
            )
            .increment(1);
            histogram!(LATENCY, "method" => method.to_owned(), "route" => route.to_owned())
                .record(seconds);
        });
        if self.observed.fetch_add(1, Ordering::Relaxed) % UPKEEP_EVERY == UPKEEP_EVERY - 1 {
            self.handle.run_upkeep();
        }
    }

    /// The Prometheus text exposition format (0.0.4) of the HTTP metrics.
    pub fn render(&self) -> String {
        self.render_with(None)
    }

    /// The Prometheus text exposition format (0.0.4) of the HTTP metrics and, when given, the
    /// runner's.
    pub fn render_with(&self, relay: Option<&RelayMetrics>) -> String {
        if let Some(relay) = relay {
            let snapshot = relay.snapshot();
            with_local_recorder(&self.recorder, || snapshot.record());
        }
        self.handle.render()
    }
}

/// Times every request and counts it under its route template (never the raw path, so ids do
/// not explode the label set).
pub async fn track(State(metrics): State<Arc<Metrics>>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    // Only the standard methods become label values: a client cannot grow the label set.
    let method = match *req.method() {
        Method::GET
        | Method::POST
        | Method::PUT
        | Method::DELETE
        | Method::PATCH
        | Method::HEAD
        | Method::OPTIONS => req.method().as_str().to_owned(),
        _ => "OTHER".to_owned(),
    };
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(req).await;
    metrics.observe(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}
