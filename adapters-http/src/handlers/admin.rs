//! Operator endpoints (SPEC §9), admin role only: the outbox's dead letters — events the relay
//! parked because their payload cannot be read or they failed ten times on a channel — and
//! retrying one.

use crate::handlers::{IDEMPOTENCY_KEY_DOC, idempotent};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use viewing_app::api::ViewingApi;
use viewing_app::domain::EventId;
use viewing_app::domain::event_ports::{DeadLetter, RelayChannel};

use crate::AppState;
use crate::error::{ApiError, ApiResult, Problem, ReadErrors};
use crate::extract::{ApiPath, Caller};

/// The operator routes: the dead letters and their (idempotent) retry.
pub(crate) fn routes<S: ViewingApi>(state: &AppState<S>) -> OpenApiRouter<AppState<S>> {
    OpenApiRouter::new()
        .routes(routes!(dead_letters))
        .routes(idempotent(state, routes!(retry_dead_letter)))
}

/// Authorization comes before the path and the body (SPEC §9, order of checks).
fn require_admin(caller: &Caller) -> ApiResult<()> {
    if caller.admin {
        Ok(())
    } else {
        Err(ApiError::Forbidden("dead letters need the admin role"))
    }
}

/// The delivery channel an event is parked on.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ChannelDto {
    /// The in-process event handlers.
    Handlers,
    /// NATS JetStream.
    Broker,
}

impl From<RelayChannel> for ChannelDto {
    fn from(c: RelayChannel) -> Self {
        match c {
            RelayChannel::Handlers => ChannelDto::Handlers,
            RelayChannel::Broker => ChannelDto::Broker,
        }
    }
}

/// An outbox event parked on one channel.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeadLetterDto {
    pub event_id: Uuid,
    pub channel: ChannelDto,
    /// As stored beside the payload.
    #[schema(example = "MovieWatched")]
    pub event_type: String,
    pub user_id: Uuid,
    /// Failed deliveries on this channel, the one that parked it included.
    pub attempts: u32,
    /// Why the last delivery failed (`undecodable payload: …` for a payload that cannot be
    /// read).
    pub last_error: Option<String>,
    pub parked_at: DateTime<Utc>,
    /// The stored envelope, exactly as text (it may not be valid JSON).
    pub payload: String,
}

impl From<&DeadLetter> for DeadLetterDto {
    fn from(d: &DeadLetter) -> Self {
        Self {
            event_id: d.event_id.as_uuid(),
            channel: d.channel.into(),
            event_type: d.event_type.clone(),
            user_id: d.user_id.as_uuid(),
            attempts: d.attempts,
            last_error: d.last_error.clone(),
            parked_at: d.parked_at,
            payload: d.payload.clone(),
        }
    }
}

/// `GET /api/admin/dead-letters`: oldest parked first (at most 1000).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeadLettersDto {
    pub items: Vec<DeadLetterDto>,
}

/// `POST /api/admin/dead-letters/{eventId}/retry`: the entries made due again, as they were.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeadLetterRetryDto {
    pub event_id: Uuid,
    /// One entry per channel the event was parked on; each is due again with its attempts
    /// reset to 0.
    pub retried: Vec<DeadLetterDto>,
}

/// The outbox's dead letters, every channel.
#[utoipa::path(
    get, path = "/api/admin/dead-letters", tag = "operations",
    responses(
        (status = 200, description = "Parked events, oldest first", body = DeadLettersDto),
        (status = 403, description = "`forbidden`: not an admin", body = Problem, content_type = "application/problem+json"),
        ReadErrors,
    ),
    security(("bearer" = []))
)]
pub async fn dead_letters<S: ViewingApi>(
    State(state): State<AppState<S>>,
    caller: Caller,
) -> ApiResult<Json<DeadLettersDto>> {
    require_admin(&caller)?;
    let parked = state.service().dead_letters().await?;
    Ok(Json(DeadLettersDto {
        items: parked.iter().map(DeadLetterDto::from).collect(),
    }))
}

/// Makes a parked event due again (attempts reset) on every channel it is parked on; the
/// relay delivers it on its next pass, or parks it again if it still cannot be delivered.
#[utoipa::path(
    post, path = "/api/admin/dead-letters/{eventId}/retry", tag = "operations",
    params(
        ("eventId" = Uuid, Path, description = "The parked event's id"),
        ("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = "^[ -~]+$", description = IDEMPOTENCY_KEY_DOC),
    ),
    responses(
        (status = 202, description = "Due again", body = DeadLetterRetryDto),
        (status = 403, description = "`forbidden`: not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not-found`: the event is not parked", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`idempotency-in-flight`: a request with the same Idempotency-Key is still being processed (retry after `Retry-After` seconds)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`idempotency-key-reused`: the Idempotency-Key was used for another path or body", body = Problem, content_type = "application/problem+json"),
        ReadErrors,
    ),
    security(("bearer" = []))
)]
pub async fn retry_dead_letter<S: ViewingApi>(
    State(state): State<AppState<S>>,
    caller: Caller,
    path: Result<ApiPath<Uuid>, ApiError>,
) -> ApiResult<Response> {
    require_admin(&caller)?;
    let ApiPath(id) = path?;
    let retried = state.service().retry_dead_letter(EventId::from(id)).await?;
    let body = DeadLetterRetryDto {
        event_id: id,
        retried: retried.iter().map(DeadLetterDto::from).collect(),
    };
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
}
