//! History, progress, up next and statistics (SPEC §6), always of the caller.

use axum::Json;
use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use viewing_app::api::ViewingApi;
use viewing_app::domain::ShowId;

use crate::AppState;
use crate::dto::{
    HistoryPageDto, HistoryQuery, ProgressDto, StatisticsDto, StatisticsQuery, UpNextDto,
};
use crate::error::{ApiResult, Problem, ReadErrors};
use crate::extract::{ApiPath, ApiQuery, Caller};

/// The reading routes: history, up next, progress, statistics.
pub(crate) fn routes<S: ViewingApi>() -> OpenApiRouter<AppState<S>> {
    OpenApiRouter::new()
        .routes(routes!(history))
        .routes(routes!(up_next))
        .routes(routes!(progress))
        .routes(routes!(statistics))
}

/// The caller's viewing history, newest first.
#[utoipa::path(
    get, path = "/api/viewing/history", tag = "reading",
    params(HistoryQuery),
    responses(
        (status = 200, description = "One page of history", body = HistoryPageDto),
        ReadErrors,
    ),
    security(("bearer" = []))
)]
pub async fn history<S: ViewingApi>(
    State(state): State<AppState<S>>,
    caller: Caller,
    ApiQuery(query): ApiQuery<HistoryQuery>,
) -> ApiResult<Json<HistoryPageDto>> {
    let (filter, page) = query.parse()?;
    let page = state.service().history(caller.user, &filter, page).await?;
    Ok(Json(HistoryPageDto::from(&page)))
}

/// The caller's progress in one show.
#[utoipa::path(
    get, path = "/api/viewing/progress/{showId}", tag = "reading",
    params(("showId" = Uuid, Path, description = "The show's id")),
    responses(
        (status = 200, description = "Progress in the show", body = ProgressDto),
        (status = 404, description = "`content-not-found`: the show is not in the catalog", body = Problem, content_type = "application/problem+json"),
        ReadErrors,
    ),
    security(("bearer" = []))
)]
pub async fn progress<S: ViewingApi>(
    State(state): State<AppState<S>>,
    caller: Caller,
    ApiPath(show_id): ApiPath<Uuid>,
) -> ApiResult<Json<ProgressDto>> {
    let view = state
        .service()
        .progress(caller.user, ShowId::from(show_id))
        .await?;
    Ok(Json(ProgressDto::from(&view)))
}

/// "Up next": the caller's shows in progress, most recent activity first.
#[utoipa::path(
    get, path = "/api/viewing/progress", tag = "reading",
    responses(
        (status = 200, description = "Shows in progress with their next episode", body = UpNextDto),
        ReadErrors,
    ),
    security(("bearer" = []))
)]
pub async fn up_next<S: ViewingApi>(
    State(state): State<AppState<S>>,
    caller: Caller,
) -> ApiResult<Json<UpNextDto>> {
    let views = state.service().up_next(caller.user).await?;
    Ok(Json(UpNextDto {
        items: views.iter().map(ProgressDto::from).collect(),
    }))
}

/// The caller's statistics for a calendar period.
#[utoipa::path(
    get, path = "/api/viewing/statistics", tag = "reading",
    params(StatisticsQuery),
    responses(
        (status = 200, description = "Statistics of the period", body = StatisticsDto),
        ReadErrors,
    ),
    security(("bearer" = []))
)]
pub async fn statistics<S: ViewingApi>(
    State(state): State<AppState<S>>,
    caller: Caller,
    ApiQuery(query): ApiQuery<StatisticsQuery>,
) -> ApiResult<Json<StatisticsDto>> {
    let request = query.parse()?;
    let stats = state.service().statistics(caller.user, &request).await?;
    Ok(Json(StatisticsDto::from(&stats)))
}
