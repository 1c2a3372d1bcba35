//! Playback (SPEC §13): a player's start, pause and stop; the caller's *now watching* item and
//! paused items.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use viewing_app::api::ViewingApi;
use viewing_app::domain::PlaybackId;
use viewing_app::playback::Stopped;

use crate::AppState;
use crate::dto::{
    NowWatchingDto, PlaybackBody, PlaybackDto, PlaybackListDto, StopDto, ViewingRecordDto,
};
use crate::error::{ApiError, ApiResult, Problem, ReadErrors, WriteErrors};
use crate::extract::{ApiJson, ApiPath, Caller};
use crate::handlers::{IDEMPOTENCY_KEY_DOC, idempotent};

/// The playback routes.
pub(crate) fn routes<S: ViewingApi>(state: &AppState<S>) -> OpenApiRouter<AppState<S>> {
    OpenApiRouter::new()
        .routes(idempotent(state, routes!(start)))
        .routes(idempotent(state, routes!(pause)))
        .routes(idempotent(state, routes!(stop)))
        .routes(routes!(now))
        .routes(routes!(paused))
        .routes(routes!(drop_playback))
}

/// A player started (or resumed) an item: it is the caller's *now watching* one until its
/// remaining runtime has passed; one playing before is paused where it was.
#[utoipa::path(
    post, path = "/api/playback/start", tag = "playback",
    params(
        ("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = "^[ -~]+$", description = IDEMPOTENCY_KEY_DOC),
    ),
    request_body = PlaybackBody,
    responses(
        (status = 200, description = "Now watching", body = PlaybackDto),
        (status = 409, description = "`idempotency-in-flight`: a request with the same Idempotency-Key is still being processed (retry after `Retry-After` seconds)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`content-not-found`: no such movie or episode", body = Problem, content_type = "application/problem+json"),
        WriteErrors,
    ),
    security(("bearer" = []))
)]
pub async fn start<S: ViewingApi>(
    State(state): State<AppState<S>>,
    caller: Caller,
    ApiJson(body): ApiJson<PlaybackBody>,
) -> ApiResult<Json<PlaybackDto>> {
    let playback = state
        .service()
        .playback_start(caller.user, body.try_into_report()?)
        .await?;
    Ok(Json(PlaybackDto::from(&playback)))
}

/// A player paused an item: it is kept with its resume point.
#[utoipa::path(
    post, path = "/api/playback/pause", tag = "playback",
    params(
        ("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = "^[ -~]+$", description = IDEMPOTENCY_KEY_DOC),
    ),
    request_body = PlaybackBody,
    responses(
        (status = 200, description = "Paused", body = PlaybackDto),
        (status = 409, description = "`idempotency-in-flight`: a request with the same Idempotency-Key is still being processed (retry after `Retry-After` seconds)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`content-not-found`: no such movie or episode", body = Problem, content_type = "application/problem+json"),
        WriteErrors,
    ),
    security(("bearer" = []))
)]
pub async fn pause<S: ViewingApi>(
    State(state): State<AppState<S>>,
    caller: Caller,
    ApiJson(body): ApiJson<PlaybackBody>,
) -> ApiResult<Json<PlaybackDto>> {
    let playback = state
        .service()
        .playback_pause(caller.user, body.try_into_report()?)
        .await?;
    Ok(Json(PlaybackDto::from(&playback)))
}

/// A player stopped an item: at or above the threshold of its kind (movies 90 %, episodes 80 %
/// by default) the play is recorded with `origin: playback` (201 `scrobble`); below it, it is
/// a pause (200 `pause`); under 1 % it is refused (422). A second stop within the runtime of a
/// play of the item is 409 `duplicate-play` with that play.
#[utoipa::path(
    post, path = "/api/playback/stop", tag = "playback",
    params(
        ("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = "^[ -~]+$", description = IDEMPOTENCY_KEY_DOC),
    ),
    request_body = PlaybackBody,
    responses(
        (status = 201, description = "`scrobble`: the play recorded", body = StopDto),
        (status = 200, description = "`pause`: below the threshold", body = StopDto),
        (status = 404, description = "`content-not-found`: no such movie or episode", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`duplicate-play`: the play of this item within its runtime, in `record`; or `idempotency-in-flight`: a request with the same Idempotency-Key is still being processed", body = Problem, content_type = "application/problem+json"),
        WriteErrors,
    ),
    security(("bearer" = []))
)]
pub async fn stop<S: ViewingApi>(
    State(state): State<AppState<S>>,
    caller: Caller,
    ApiJson(body): ApiJson<PlaybackBody>,
) -> ApiResult<Response> {
    let stopped = state
        .service()
        .playback_stop(caller.user, body.try_into_report()?)
        .await?;
    Ok(match stopped {
        Stopped::Scrobbled(record) => (
            StatusCode::CREATED,
            Json(StopDto {
                action: "scrobble".to_owned(),
                record: Some(ViewingRecordDto::from(&record)),
                progress: None,
                playback: None,
            }),
        )
            .into_response(),
        Stopped::Paused(p) => Json(StopDto {
            action: "pause".to_owned(),
            record: None,
            progress: Some(p.progress.value()),
            playback: Some(PlaybackDto::from(&p)),
        })
        .into_response(),
        Stopped::Repeated(record) => {
            return Err(ApiError::DuplicatePlay(Box::new(ViewingRecordDto::from(
                &record,
            ))));
        }
    })
}

/// What the caller is watching now (`item: null` when nothing).
#[utoipa::path(
    get, path = "/api/playback/now", tag = "playback",
    responses(
        (status = 200, description = "The item watched now, or null", body = NowWatchingDto),
        ReadErrors,
    ),
    security(("bearer" = []))
)]
pub async fn now<S: ViewingApi>(
    State(state): State<AppState<S>>,
    caller: Caller,
) -> ApiResult<Json<NowWatchingDto>> {
    let now = state.service().now_watching(caller.user).await?;
    Ok(Json(NowWatchingDto {
        item: now.as_ref().map(PlaybackDto::from),
    }))
}

/// The caller's paused items with their resume points, the latest first.
#[utoipa::path(
    get, path = "/api/playback", tag = "playback",
    responses(
        (status = 200, description = "Paused items", body = PlaybackListDto),
        ReadErrors,
    ),
    security(("bearer" = []))
)]
pub async fn paused<S: ViewingApi>(
    State(state): State<AppState<S>>,
    caller: Caller,
) -> ApiResult<Json<PlaybackListDto>> {
    let items = state.service().paused_playbacks(caller.user).await?;
    Ok(Json(PlaybackListDto {
        items: items.iter().map(PlaybackDto::from).collect(),
    }))
}

/// Drops one of the caller's playbacks.
#[utoipa::path(
    delete, path = "/api/playback/{playbackId}", tag = "playback",
    params(("playbackId" = Uuid, Path, description = "The playback's id")),
    responses(
        (status = 204, description = "Dropped"),
        (status = 404, description = "`not-found`: no such playback of the caller's", body = Problem, content_type = "application/problem+json"),
        ReadErrors,
    ),
    security(("bearer" = []))
)]
pub async fn drop_playback<S: ViewingApi>(
    State(state): State<AppState<S>>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<StatusCode> {
    state
        .service()
        .drop_playback(caller.user, PlaybackId::from(id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
