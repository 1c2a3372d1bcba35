//! Media servers' integrations (SPEC §13): the caller's integrations and inboxes, and the
//! webhook URL the server posts to — its secret is the credential, as media servers cannot send
//! a bearer token.

use axum::Json;
use axum::extract::multipart::MultipartError;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use viewing_app::AppError;
use viewing_app::api::ViewingApi;
use viewing_app::domain::{DeliveryId, IntegrationId};

use crate::dto::{
    DeliveriesQueryDto, DeliveryDto, DeliveryListDto, IntegrationBody, IntegrationDto,
    IntegrationListDto,
};
use crate::error::{ApiError, ApiResult, Problem, ReadErrors, WriteErrors};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use crate::handlers::{IDEMPOTENCY_KEY_DOC, created, idempotent};
use crate::{AppState, auth};

/// The largest delivery a media server may post (Plex adds a thumbnail to some events).
pub const WEBHOOK_LIMIT: usize = 10 * 1024 * 1024;

/// The integration routes under `/api` (authenticated).
pub(crate) fn routes<S: ViewingApi>(state: &AppState<S>) -> OpenApiRouter<AppState<S>> {
    OpenApiRouter::new()
        .routes(routes!(create_integration, list_integrations))
        .routes(routes!(revoke_integration))
        .routes(routes!(deliveries))
        .routes(idempotent(state, routes!(replay_delivery)))
}

/// The webhook route: outside `/api`, no bearer token.
pub(crate) fn webhook_routes<S: ViewingApi>() -> OpenApiRouter<AppState<S>> {
    OpenApiRouter::new().routes(routes!(webhook))
}

/// Makes an integration with a media server: its `url` (`/webhooks/{secret}`) is shown in this
/// answer only; the secret is kept as its SHA-256. The one POST that keeps no answer for an
/// `Idempotency-Key` (SPEC §3): the answer holds the secret, which is kept hashed only, so a
/// retry makes a second integration (revoke the one not used).
#[utoipa::path(
    post, path = "/api/integrations", tag = "integrations",
    request_body = IntegrationBody,
    responses(
        (status = 201, description = "Made; `url` shown this once", body = IntegrationDto),
        WriteErrors,
    ),
    security(("bearer" = []))
)]
pub async fn create_integration<S: ViewingApi>(
    State(state): State<AppState<S>>,
    caller: Caller,
    ApiJson(body): ApiJson<IntegrationBody>,
) -> ApiResult<Response> {
    let kind = body.kind()?;
    let made = state
        .service()
        .create_integration(caller.user, kind, body.accounts)
        .await?;
    Ok(created(
        format!("/api/integrations/{}", made.integration.id),
        IntegrationDto::of(&made.integration, Some(&made.secret)),
    ))
}

/// The caller's integrations, newest first (revoked ones with `revokedAt`).
#[utoipa::path(
    get, path = "/api/integrations", tag = "integrations",
    responses((status = 200, description = "Integrations", body = IntegrationListDto), ReadErrors),
    security(("bearer" = []))
)]
pub async fn list_integrations<S: ViewingApi>(
    State(state): State<AppState<S>>,
    caller: Caller,
) -> ApiResult<Json<IntegrationListDto>> {
    let items = state.service().integrations(caller.user).await?;
    Ok(Json(IntegrationListDto {
        items: items.iter().map(|i| IntegrationDto::of(i, None)).collect(),
    }))
}

/// Revokes an integration: its URL answers 404 from now on.
#[utoipa::path(
    delete, path = "/api/integrations/{integrationId}", tag = "integrations",
    params(("integrationId" = Uuid, Path, description = "The integration's id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 404, description = "`not-found`: no such integration of the caller's", body = Problem, content_type = "application/problem+json"),
        ReadErrors,
    ),
    security(("bearer" = []))
)]
pub async fn revoke_integration<S: ViewingApi>(
    State(state): State<AppState<S>>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<StatusCode> {
    state
        .service()
        .revoke_integration(caller.user, IntegrationId::from(id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The integration's inbox: every delivery with what became of it, newest first.
#[utoipa::path(
    get, path = "/api/integrations/{integrationId}/deliveries", tag = "integrations",
    params(("integrationId" = Uuid, Path, description = "The integration's id"), DeliveriesQueryDto),
    responses(
        (status = 200, description = "A page of deliveries", body = DeliveryListDto),
        (status = 404, description = "`not-found`: no such integration of the caller's", body = Problem, content_type = "application/problem+json"),
        ReadErrors,
    ),
    security(("bearer" = []))
)]
pub async fn deliveries<S: ViewingApi>(
    State(state): State<AppState<S>>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<DeliveriesQueryDto>,
) -> ApiResult<Json<DeliveryListDto>> {
    let (page, limit) = query.parse()?;
    let items = state
        .service()
        .deliveries(
            caller.user,
            IntegrationId::from(id),
            (page - 1).saturating_mul(limit),
            limit,
        )
        .await?;
    Ok(Json(DeliveryListDto {
        items: items.iter().map(DeliveryDto::from).collect(),
        page,
        limit,
    }))
}

/// Runs a kept delivery again (after the catalog gained what it lacked).
#[utoipa::path(
    post, path = "/api/integrations/{integrationId}/deliveries/{deliveryId}/replay", tag = "integrations",
    params(
        ("integrationId" = Uuid, Path, description = "The integration's id"),
        ("deliveryId" = Uuid, Path, description = "The delivery's id"),
        ("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = "^[ -~]+$", description = IDEMPOTENCY_KEY_DOC),
    ),
    responses(
        (status = 200, description = "The delivery with its new outcome", body = DeliveryDto),
        (status = 404, description = "`not-found`: no such integration or delivery of the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`idempotency-in-flight`: a request with the same Idempotency-Key is still being processed (retry after `Retry-After` seconds)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`idempotency-key-reused`: the Idempotency-Key was used for another path or body", body = Problem, content_type = "application/problem+json"),
        ReadErrors,
    ),
    security(("bearer" = []))
)]
pub async fn replay_delivery<S: ViewingApi>(
    State(state): State<AppState<S>>,
    caller: Caller,
    ApiPath((id, delivery)): ApiPath<(Uuid, Uuid)>,
) -> ApiResult<Json<DeliveryDto>> {
    let replayed = state
        .service()
        .replay_delivery(
            caller.user,
            IntegrationId::from(id),
            DeliveryId::from(delivery),
        )
        .await?;
    Ok(Json(DeliveryDto::from(&replayed)))
}

/// A delivery's payload: Plex's `payload` part of a `multipart/form-data` body (empty when it
/// has none), else the whole body; over [`WEBHOOK_LIMIT`] it is 413.
async fn webhook_payload(request: Request) -> ApiResult<Vec<u8>> {
    let multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("multipart/form-data"));
    if !multipart {
        return axum::body::to_bytes(request.into_body(), WEBHOOK_LIMIT)
            .await
            .map(|b| b.to_vec())
            .map_err(|_| ApiError::PayloadTooLarge);
    }
    let refused = |what: &str, e: MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge
        } else {
            ApiError::Malformed(format!("{what}: {}", e.body_text()))
        }
    };
    let mut form = Multipart::from_request(request, &())
        .await
        .map_err(|e| ApiError::Malformed(format!("not a multipart body: {}", e.body_text())))?;
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| refused("not a multipart body", e))?
    {
        if field.name() == Some("payload") {
            let bytes = field
                .bytes()
                .await
                .map_err(|e| refused("the payload part", e))?;
            return Ok(bytes.to_vec());
        }
    }
    Ok(Vec::new())
}

/// A media server's delivery: Plex posts `multipart/form-data` with a `payload` part; Jellyfin
/// and Emby post JSON. A well-formed delivery answers 200 whatever became of it (see the inbox);
/// one that cannot be read 400 (and is kept as `invalid`); an unknown or revoked secret 404.
#[utoipa::path(
    post, path = "/webhooks/{secret}", tag = "integrations",
    params(("secret" = String, Path, description = "The integration's secret")),
    request_body(
        description = "Plex: `multipart/form-data` with a `payload` part; Jellyfin, Emby: the JSON payload",
        content(
            (serde_json::Value = "application/json"),
            (String = "multipart/form-data"),
        ),
    ),
    responses(
        (status = 200, description = "Kept in the inbox with its outcome", body = DeliveryDto),
        (status = 400, description = "`malformed-request`: not a payload of this server (kept as `invalid`), or a multipart body that cannot be read (not kept)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not-found`: no integration has this secret", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`conflict`: a concurrent write kept winning; send it again", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload-too-large`: over 10 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate-limited`: too many unknown secrets from this client address; see `Retry-After`", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`unavailable`: the store cannot be reached; nothing is kept, the server should send it again", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn webhook<S: ViewingApi>(
    State(state): State<AppState<S>>,
    ApiPath(secret): ApiPath<String>,
    request: Request,
) -> ApiResult<Json<DeliveryDto>> {
    let peer = auth::peer_ip(&request);
    let payload = webhook_payload(request).await?;
    let received = match state.service().receive_webhook(&secret, payload).await {
        // Guessing secrets costs the guesser: an unknown secret takes from the client
        // address's bucket, as a missing token does on `/api/**` (429 once it is spent).
        Err(AppError::NotFound) => {
            state.anonymous_limiter().check(peer)?;
            return Err(AppError::NotFound.into());
        }
        other => other?,
    };
    if received.malformed {
        return Err(ApiError::Malformed(format!(
            "{} (kept in the inbox as delivery {})",
            received.delivery.reason.unwrap_or_default(),
            received.delivery.id
        )));
    }
    Ok(Json(DeliveryDto::from(&received.delivery)))
}
