//! Recording viewing (SPEC §5) and reading single records back.

use crate::handlers::{IDEMPOTENCY_KEY_DOC, idempotent};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use viewing_app::api::ViewingApi;
use viewing_app::domain::{AbandonId, BingeSessionId, EpisodeId, MovieId, RecordId, ShowId};

use crate::AppState;
use crate::dto::{
    AbandonRecordDto, AbandonRequest, BingeSessionDto, EditRecordRequest, EpisodeWatchedDto,
    ProgressDto, ViewingRecordDto, WatchEpisodeRequest, WatchMovieRequest,
};
use crate::error::{ApiResult, Problem, ReadErrors, WriteErrors};
use crate::extract::{ApiJson, ApiPath, Caller};
use crate::handlers::created;

/// The routes that record viewing (idempotent POSTs) and read single records back.
pub(crate) fn routes<S: ViewingApi>(state: &AppState<S>) -> OpenApiRouter<AppState<S>> {
    OpenApiRouter::new()
        .routes(idempotent(state, routes!(watch_movie)))
        .routes(idempotent(state, routes!(watch_episode)))
        .routes(idempotent(state, routes!(abandon)))
        .routes(routes!(get_record, delete_record))
        .routes(idempotent(state, routes!(edit_record)))
        .routes(routes!(get_abandoned, undo_abandon))
        .routes(idempotent(state, routes!(reset_progress, undo_reset)))
        .routes(routes!(get_binge_session))
}

pub fn record_location(id: RecordId) -> String {
    format!("/api/viewing/records/{id}")
}

pub fn abandon_location(id: AbandonId) -> String {
    format!("/api/viewing/abandoned/{id}")
}

/// Records that the caller watched a movie.
#[utoipa::path(
    post, path = "/api/viewing/movies/{movieId}/watched", tag = "viewing",
    params(
        ("movieId" = Uuid, Path, description = "The movie's id"),
        ("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = "^[ -~]+$", description = IDEMPOTENCY_KEY_DOC),
    ),
    request_body(content = WatchMovieRequest, description = "Every field is optional; an empty body reads as `{}`. Unknown fields are refused (422)."),
    responses(
        (status = 201, description = "The new record", body = ViewingRecordDto,
            headers(("Location" = String, description = "`/api/viewing/records/{id}`"))),
        (status = 404, description = "`content-not-found`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`idempotency-in-flight`: a request with the same Idempotency-Key is still being processed (retry after `Retry-After` seconds), or `conflict`: a concurrent write won a race", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait (`idempotency-in-flight`)"))),
        WriteErrors,
    ),
    security(("bearer" = []))
)]
pub async fn watch_movie<S: ViewingApi>(
    State(state): State<AppState<S>>,
    caller: Caller,
    ApiPath(movie_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<WatchMovieRequest>,
) -> ApiResult<Response> {
    let cmd = body.try_into_domain()?;
    let record = state
        .service()
        .watch_movie(caller.user, MovieId::from(movie_id), cmd)
        .await?;
    Ok(created(
        record_location(record.id),
        ViewingRecordDto::from(&record),
    ))
}

/// Records that the caller watched an episode (order, backfill, binge, completion).
#[utoipa::path(
    post, path = "/api/viewing/episodes/{episodeId}/watched", tag = "viewing",
    params(
        ("episodeId" = Uuid, Path, description = "The episode's id"),
        ("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = "^[ -~]+$", description = IDEMPOTENCY_KEY_DOC),
    ),
    request_body(content = WatchEpisodeRequest, description = "Every field is optional; an empty body reads as `{}`. Unknown fields are refused (422)."),
    responses(
        (status = 201, description = "The new record and what it completed", body = EpisodeWatchedDto,
            headers(("Location" = String, description = "`/api/viewing/records/{id}`"))),
        (status = 404, description = "`content-not-found` (episode), or `not-found` (another user's binge session)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`episode-out-of-order` with `missingEpisode`; `idempotency-in-flight`: a request with the same Idempotency-Key is still being processed (retry after `Retry-After` seconds); or `conflict`: a concurrent write won a race", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait (`idempotency-in-flight`)"))),
        WriteErrors,
    ),
    security(("bearer" = []))
)]
pub async fn watch_episode<S: ViewingApi>(
    State(state): State<AppState<S>>,
    caller: Caller,
    ApiPath(episode_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<WatchEpisodeRequest>,
) -> ApiResult<Response> {
    let cmd = body.try_into_domain()?;
    let watched = state
        .service()
        .watch_episode(caller.user, EpisodeId::from(episode_id), cmd)
        .await?;
    Ok(created(
        record_location(watched.record.id),
        EpisodeWatchedDto::from(&watched),
    ))
}

/// Records that the caller stopped watching a movie or a show.
#[utoipa::path(
    post, path = "/api/viewing/{itemId}/abandon", tag = "viewing",
    params(
        ("itemId" = Uuid, Path, description = "A movie's or a show's id"),
        ("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = "^[ -~]+$", description = IDEMPOTENCY_KEY_DOC),
    ),
    request_body(content = AbandonRequest, description = "Every field is optional; an empty body reads as `{}`. Unknown fields are refused (422)."),
    responses(
        (status = 201, description = "The abandon record", body = AbandonRecordDto,
            headers(("Location" = String, description = "`/api/viewing/abandoned/{id}`"))),
        (status = 404, description = "`content-not-found`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`idempotency-in-flight`: a request with the same Idempotency-Key is still being processed (retry after `Retry-After` seconds), or `conflict`: a concurrent write won a race", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait (`idempotency-in-flight`)"))),
        WriteErrors,
    ),
    security(("bearer" = []))
)]
pub async fn abandon<S: ViewingApi>(
    State(state): State<AppState<S>>,
    caller: Caller,
    ApiPath(item_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<AbandonRequest>,
) -> ApiResult<Response> {
    let cmd = body.try_into_domain()?;
    let record = state.service().abandon(caller.user, item_id, cmd).await?;
    Ok(created(
        abandon_location(record.id),
        AbandonRecordDto::from(&record),
    ))
}

/// One of the caller's viewing records (another user's is 404, like a missing one).
#[utoipa::path(
    get, path = "/api/viewing/records/{recordId}", tag = "viewing",
    params(("recordId" = Uuid, Path, description = "The record's id")),
    responses(
        (status = 200, description = "The record", body = ViewingRecordDto),
        (status = 404, description = "`not-found`", body = Problem, content_type = "application/problem+json"),
        ReadErrors,
    ),
    security(("bearer" = []))
)]
pub async fn get_record<S: ViewingApi>(
    State(state): State<AppState<S>>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<ViewingRecordDto>> {
    let record = state
        .service()
        .viewing_record(caller.user, RecordId::from(id))
        .await?;
    Ok(Json(ViewingRecordDto::from(&record)))
}

/// Deletes one of the caller's plays (SPEC §11). Its companions go with it; the earliest
/// remaining play of the item becomes its first watch; the show's progress, completed seasons
/// and binge sessions are recomputed from the plays that remain, and the statistics follow
/// (`ViewingRecordDeleted`). Achievements once unlocked stay.
#[utoipa::path(
    delete, path = "/api/viewing/records/{recordId}", tag = "viewing",
    params(("recordId" = Uuid, Path, description = "The record's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "`not-found`: no such record of the caller's", body = Problem, content_type = "application/problem+json"),
        ReadErrors,
    ),
    security(("bearer" = []))
)]
pub async fn delete_record<S: ViewingApi>(
    State(state): State<AppState<S>>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<StatusCode> {
    state
        .service()
        .delete_record(caller.user, RecordId::from(id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Corrects one of the caller's plays (SPEC §11): a field left out stays, `null` clears it.
/// Validated as a new play is. The binge sessions follow the new date, the show's progress and
/// completions are recomputed, and the statistics move the play (`ViewingRecordEdited`).
#[utoipa::path(
    patch, path = "/api/viewing/records/{recordId}", tag = "viewing",
    params(
        ("recordId" = Uuid, Path, description = "The record's id"),
        ("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = "^[ -~]+$", description = IDEMPOTENCY_KEY_DOC),
    ),
    request_body(content = EditRecordRequest, description = "Any of the fields; unknown fields are refused (422)."),
    responses(
        (status = 200, description = "The corrected record", body = ViewingRecordDto),
        (status = 404, description = "`not-found`: no such record of the caller's", body = Problem, content_type = "application/problem+json"),
        WriteErrors,
    ),
    security(("bearer" = []))
)]
pub async fn edit_record<S: ViewingApi>(
    State(state): State<AppState<S>>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<EditRecordRequest>,
) -> ApiResult<Json<ViewingRecordDto>> {
    let edit = body.try_into_domain()?;
    let record = state
        .service()
        .edit_record(caller.user, RecordId::from(id), edit)
        .await?;
    Ok(Json(ViewingRecordDto::from(&record)))
}

/// One of the caller's abandon records.
#[utoipa::path(
    get, path = "/api/viewing/abandoned/{abandonId}", tag = "viewing",
    params(("abandonId" = Uuid, Path, description = "The abandon record's id")),
    responses(
        (status = 200, description = "The abandon record", body = AbandonRecordDto),
        (status = 404, description = "`not-found`", body = Problem, content_type = "application/problem+json"),
        ReadErrors,
    ),
    security(("bearer" = []))
)]
pub async fn get_abandoned<S: ViewingApi>(
    State(state): State<AppState<S>>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<AbandonRecordDto>> {
    let record = state
        .service()
        .abandon_record(caller.user, AbandonId::from(id))
        .await?;
    Ok(Json(AbandonRecordDto::from(&record)))
}

/// Takes back one of the caller's abandons (SPEC §11): the item is no longer abandoned by
/// it, and the statistics stop counting it (`ViewingAbandonUndone`).
#[utoipa::path(
    delete, path = "/api/viewing/abandoned/{abandonId}", tag = "viewing",
    params(("abandonId" = Uuid, Path, description = "The abandon record's id")),
    responses(
        (status = 204, description = "Undone"),
        (status = 404, description = "`not-found`: no such abandon record of the caller's", body = Problem, content_type = "application/problem+json"),
        ReadErrors,
    ),
    security(("bearer" = []))
)]
pub async fn undo_abandon<S: ViewingApi>(
    State(state): State<AppState<S>>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<StatusCode> {
    state
        .service()
        .undo_abandon(caller.user, AbandonId::from(id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Resets the caller's progress in a show: a rewatch pass starts (SPEC §11). From now on the
/// show's progress, next episode and season and show completion count only plays dated after
/// the reset; history keeps every play, and completions of earlier passes stay counted.
#[utoipa::path(
    post, path = "/api/viewing/progress/{showId}/reset", tag = "viewing",
    params(
        ("showId" = Uuid, Path, description = "The show's id"),
        ("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = "^[ -~]+$", description = IDEMPOTENCY_KEY_DOC),
    ),
    responses(
        (status = 201, description = "Progress in the new pass (`pass`, `resetAt`)", body = ProgressDto,
            headers(("Location" = String, description = "`/api/viewing/progress/{showId}`"))),
        (status = 404, description = "`content-not-found`: the show is not in the catalog", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`conflict`: nothing of the show is watched in the current pass; or `idempotency-in-flight`", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait (`idempotency-in-flight`)"))),
        (status = 422, description = "`idempotency-key-reused`", body = Problem, content_type = "application/problem+json"),
        ReadErrors,
    ),
    security(("bearer" = []))
)]
pub async fn reset_progress<S: ViewingApi>(
    State(state): State<AppState<S>>,
    caller: Caller,
    ApiPath(show_id): ApiPath<Uuid>,
) -> ApiResult<Response> {
    let view = state
        .service()
        .reset_progress(caller.user, ShowId::from(show_id))
        .await?;
    Ok(created(
        format!("/api/viewing/progress/{show_id}"),
        ProgressDto::from(&view),
    ))
}

/// Undoes the latest reset of the caller's progress in a show (SPEC §11): its pass merges into
/// the one before.
#[utoipa::path(
    delete, path = "/api/viewing/progress/{showId}/reset", tag = "viewing",
    params(("showId" = Uuid, Path, description = "The show's id")),
    responses(
        (status = 204, description = "Undone"),
        (status = 404, description = "`content-not-found`: the show is not in the catalog; `not-found`: the caller's progress in it has no reset", body = Problem, content_type = "application/problem+json"),
        ReadErrors,
    ),
    security(("bearer" = []))
)]
pub async fn undo_reset<S: ViewingApi>(
    State(state): State<AppState<S>>,
    caller: Caller,
    ApiPath(show_id): ApiPath<Uuid>,
) -> ApiResult<StatusCode> {
    state
        .service()
        .undo_reset(caller.user, ShowId::from(show_id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// One of the caller's binge sessions (another user's is 404, like a missing one).
#[utoipa::path(
    get, path = "/api/viewing/binge-sessions/{sessionId}", tag = "viewing",
    params(("sessionId" = Uuid, Path, description = "The binge session's id (a record's `bingeSessionId`)")),
    responses(
        (status = 200, description = "The binge session", body = BingeSessionDto),
        (status = 404, description = "`not-found`", body = Problem, content_type = "application/problem+json"),
        ReadErrors,
    ),
    security(("bearer" = []))
)]
pub async fn get_binge_session<S: ViewingApi>(
    State(state): State<AppState<S>>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<BingeSessionDto>> {
    let session = state
        .service()
        .binge_session(caller.user, BingeSessionId::from(id))
        .await?;
    Ok(Json(BingeSessionDto::from(&session)))
}
