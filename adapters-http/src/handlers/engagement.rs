//! What the event handlers keep for the caller (SPEC §7): achievements, the watchlist,
//! continuation reminders, genre preferences. The handlers apply events asynchronously, so
//! these may lag the writes that cause them by a moment.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use viewing_app::api::ViewingApi;

use crate::AppState;
use crate::dto::{
    AchievementDto, AchievementsDto, GenrePreferenceDto, PreferencesDto, ReminderDto, RemindersDto,
    WatchlistDto, WatchlistItemDto,
};
use crate::error::{ApiResult, Problem, ReadErrors};
use crate::extract::{ApiPath, Caller};

/// The engagement routes: achievements, reminders, preferences, the watchlist.
pub(crate) fn routes<S: ViewingApi>() -> OpenApiRouter<AppState<S>> {
    OpenApiRouter::new()
        .routes(routes!(achievements))
        .routes(routes!(reminders))
        .routes(routes!(preferences))
        .routes(routes!(watchlist))
        .routes(routes!(add_to_watchlist, remove_from_watchlist))
}

/// The caller's unlocked achievements, oldest first.
#[utoipa::path(
    get, path = "/api/viewing/achievements", tag = "engagement",
    responses(
        (status = 200, description = "Unlocked achievements with their dates", body = AchievementsDto),
        ReadErrors,
    ),
    security(("bearer" = []))
)]
pub async fn achievements<S: ViewingApi>(
    State(state): State<AppState<S>>,
    caller: Caller,
) -> ApiResult<Json<AchievementsDto>> {
    let unlocked = state.service().achievements(caller.user).await?;
    Ok(Json(AchievementsDto {
        items: unlocked.iter().map(AchievementDto::from).collect(),
    }))
}

/// The caller's watchlist, newest first.
#[utoipa::path(
    get, path = "/api/watchlist", tag = "engagement",
    responses(
        (status = 200, description = "The watchlist", body = WatchlistDto),
        ReadErrors,
    ),
    security(("bearer" = []))
)]
pub async fn watchlist<S: ViewingApi>(
    State(state): State<AppState<S>>,
    caller: Caller,
) -> ApiResult<Json<WatchlistDto>> {
    let items = state.service().watchlist(caller.user).await?;
    Ok(Json(WatchlistDto {
        items: items.iter().map(WatchlistItemDto::from).collect(),
    }))
}

/// Puts a movie or a show of the catalog on the caller's watchlist (idempotent: a repeat
/// changes nothing and answers 200 with the item as first added).
#[utoipa::path(
    put, path = "/api/watchlist/{contentId}", tag = "engagement",
    params(("contentId" = Uuid, Path, description = "A movie's or a show's id")),
    responses(
        (status = 201, description = "Added now", body = WatchlistItemDto),
        (status = 200, description = "Already on the watchlist", body = WatchlistItemDto),
        (status = 404, description = "`content-not-found`: no such movie or show in the catalog", body = Problem, content_type = "application/problem+json"),
        ReadErrors,
    ),
    security(("bearer" = []))
)]
pub async fn add_to_watchlist<S: ViewingApi>(
    State(state): State<AppState<S>>,
    caller: Caller,
    ApiPath(content_id): ApiPath<Uuid>,
) -> ApiResult<Response> {
    let (item, added) = state
        .service()
        .add_to_watchlist(caller.user, content_id)
        .await?;
    let status = if added {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(WatchlistItemDto::from(&item))).into_response())
}

/// Takes a movie or a show off the caller's watchlist.
#[utoipa::path(
    delete, path = "/api/watchlist/{contentId}", tag = "engagement",
    params(("contentId" = Uuid, Path, description = "A movie's or a show's id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "`not-found`: it is not on the caller's watchlist", body = Problem, content_type = "application/problem+json"),
        ReadErrors,
    ),
    security(("bearer" = []))
)]
pub async fn remove_from_watchlist<S: ViewingApi>(
    State(state): State<AppState<S>>,
    caller: Caller,
    ApiPath(content_id): ApiPath<Uuid>,
) -> ApiResult<StatusCode> {
    state
        .service()
        .remove_from_watchlist(caller.user, content_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's continuation reminders (scheduled, sent, cancelled, failed), by due date.
#[utoipa::path(
    get, path = "/api/viewing/reminders", tag = "engagement",
    responses(
        (status = 200, description = "Every reminder of the caller", body = RemindersDto),
        ReadErrors,
    ),
    security(("bearer" = []))
)]
pub async fn reminders<S: ViewingApi>(
    State(state): State<AppState<S>>,
    caller: Caller,
) -> ApiResult<Json<RemindersDto>> {
    let reminders = state.service().reminders(caller.user).await?;
    Ok(Json(RemindersDto {
        items: reminders.iter().map(ReminderDto::from).collect(),
    }))
}

/// The caller's genres ranked by affinity.
#[utoipa::path(
    get, path = "/api/viewing/preferences", tag = "engagement",
    responses(
        (status = 200, description = "Ranked genres", body = PreferencesDto),
        ReadErrors,
    ),
    security(("bearer" = []))
)]
pub async fn preferences<S: ViewingApi>(
    State(state): State<AppState<S>>,
    caller: Caller,
) -> ApiResult<Json<PreferencesDto>> {
    let genres = state.service().preferences(caller.user).await?;
    Ok(Json(PreferencesDto {
        genres: genres.iter().map(GenrePreferenceDto::from).collect(),
    }))
}
