//! Health, readiness, metrics, the OpenAPI document and the fallback.

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use viewing_app::api::ViewingApi;

use crate::AppState;
use crate::error::{ApiError, ApiResult, Problem};
use crate::openapi::Document;

/// The open routes (no token): health, readiness, metrics, this document.
pub(crate) fn routes<S: ViewingApi>() -> OpenApiRouter<AppState<S>> {
    OpenApiRouter::new()
        .routes(routes!(live))
        .routes(routes!(ready))
        .routes(routes!(metrics))
        .routes(routes!(openapi))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HealthDto {
    /// `ok` (alive) or `ready` (the store answers).
    pub status: &'static str,
}

/// The process is up.
#[utoipa::path(get, path = "/health/live", tag = "operations",
    responses((status = 200, description = "Alive", body = HealthDto)))]
pub async fn live() -> Json<HealthDto> {
    Json(HealthDto { status: "ok" })
}

/// The store answers.
#[utoipa::path(get, path = "/health/ready", tag = "operations",
    responses(
        (status = 200, description = "Ready", body = HealthDto),
        (status = 503, description = "`unavailable`: the store does not answer", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn ready<S: ViewingApi>(State(state): State<AppState<S>>) -> ApiResult<Json<HealthDto>> {
    state.service().ping().await?;
    Ok(Json(HealthDto { status: "ready" }))
}

/// Prometheus metrics (text exposition format): HTTP requests and latency, and — from the
/// background runner — the outbox backlog and oldest pending age per channel, deliveries,
/// failures, per-handler lag, reminders sent.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text", body = String, content_type = "text/plain")))]
pub async fn metrics<S: ViewingApi>(State(state): State<AppState<S>>) -> Response {
    let text = state.metrics().render_with(state.relay_metrics());
    let mut response = text.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}

/// This document (OpenAPI 3.1, generated from the code).
#[utoipa::path(get, path = "/api/openapi.json", tag = "operations",
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json")))]
pub async fn openapi(Extension(document): Extension<Document>) -> Response {
    let mut response = document.json().to_owned().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// Unknown routes.
pub async fn not_found() -> ApiError {
    ApiError::NotFound
}
