//! Catalog endpoints (SPEC §4): admin-only writes, reads for every authenticated user. The
//! writes take [`Admin`] before their path and body, so a non-admin is refused with 403 before
//! either is looked at (SPEC §9, order of checks).

use axum::Json;
use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use viewing_app::AppError;
use viewing_app::api::ViewingApi;
use viewing_app::domain::{ItemKind, MovieId, ShowId};

use crate::AppState;
use crate::dto::{
    LookupDto, LookupQueryDto, MovieBody, MovieDocument, RefreshedDocument, SearchQueryDto,
    SearchResultsDto, ShowBody, ShowDocument,
};
use crate::error::{ApiError, ApiResult, Problem, ReadErrors, WriteErrors};
use crate::extract::{Admin, ApiJson, ApiPath, ApiQuery, Caller};

/// The catalog's routes: a movie and a show, each read and written on one path.
pub(crate) fn routes<S: ViewingApi>() -> OpenApiRouter<AppState<S>> {
    OpenApiRouter::new()
        .routes(routes!(put_movie, get_movie))
        .routes(routes!(put_show, get_show))
        .routes(routes!(lookup))
        .routes(routes!(search))
        .routes(routes!(refresh))
}

/// What a refresh names: a movie or a show.
#[derive(Debug, Clone, Copy, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RefreshKind {
    /// A movie.
    Movie,
    /// A show.
    Show,
}

/// Fetches a movie or a show again from the metadata provider (TMDB), past its cache, and lays
/// the answer over it (SPEC §16): our ids stay, a returning show gains its new episodes, and
/// episodes the provider no longer lists stay. Admin only.
#[utoipa::path(
    put, path = "/api/catalog/refresh/{kind}/{id}", tag = "catalog",
    params(
        ("kind" = inline(RefreshKind), Path, description = "`movie` or `show`"),
        ("id" = Uuid, Path, description = "The movie's or show's id"),
    ),
    responses(
        (status = 200, description = "The item as stored after the refresh", body = RefreshedDocument),
        (status = 403, description = "`forbidden`: not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`content-not-found`: the catalog has no such item", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`conflict`: the item has no TMDB, IMDb or TheTVDB id, the provider knows nothing by it or calls it another kind, or the new tree clashes with the catalog (named in `detail`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation-failed`: what the provider answers is not a valid item (a field named in `errors`)", body = Problem, content_type = "application/problem+json"),
        ReadErrors,
        (status = 503, description = "`unavailable`: no metadata provider is configured, it cannot be reached, or the store cannot be", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn refresh<S: ViewingApi>(
    State(state): State<AppState<S>>,
    _admin: Admin,
    ApiPath((kind, id)): ApiPath<(RefreshKind, Uuid)>,
) -> ApiResult<Json<RefreshedDocument>> {
    let kind = match kind {
        RefreshKind::Movie => ItemKind::Movie,
        RefreshKind::Show => ItemKind::Show,
    };
    let refreshed = state.service().refresh(kind, id).await?;
    Ok(Json(RefreshedDocument::from(&refreshed)))
}

/// The catalog item an external id names (SPEC §10) — or an episode by its show's external id
/// and its numbers, as media servers often know only those.
#[utoipa::path(
    get, path = "/api/catalog/lookup", tag = "catalog",
    params(LookupQueryDto),
    responses(
        (status = 200, description = "What holds the id", body = LookupDto),
        (status = 404, description = "`not-found`: nothing holds it", body = Problem, content_type = "application/problem+json"),
        ReadErrors,
    ),
    security(("bearer" = []))
)]
pub async fn lookup<S: ViewingApi>(
    State(state): State<AppState<S>>,
    _caller: Caller,
    ApiQuery(query): ApiQuery<LookupQueryDto>,
) -> ApiResult<Json<LookupDto>> {
    // SPEC §10: a lookup answers `not-found` when nothing holds the id (the id is not
    // catalog content the caller named by our id).
    let found = match state.service().lookup(&query.parse()?).await {
        Err(AppError::ContentNotFound) => return Err(ApiError::NotFound),
        other => other?,
    };
    Ok(Json(LookupDto::from(&found)))
}

/// Movies and shows by title (SPEC §10): up to 20 whose title starts with `q` — case, accents,
/// punctuation and a leading article ignored — whole-title matches first.
#[utoipa::path(
    get, path = "/api/catalog/search", tag = "catalog",
    params(SearchQueryDto),
    responses(
        (status = 200, description = "The best matches first (none: an empty list)", body = SearchResultsDto),
        ReadErrors,
    ),
    security(("bearer" = []))
)]
pub async fn search<S: ViewingApi>(
    State(state): State<AppState<S>>,
    _caller: Caller,
    ApiQuery(query): ApiQuery<SearchQueryDto>,
) -> ApiResult<Json<SearchResultsDto>> {
    let (q, kind, year) = query.parse()?;
    let hits = state.service().search_titles(&q, kind, year).await?;
    Ok(Json(SearchResultsDto::from(hits.as_slice())))
}

/// Creates or replaces a movie.
#[utoipa::path(
    put, path = "/api/catalog/movies/{movieId}", tag = "catalog",
    params(("movieId" = Uuid, Path, description = "The movie's id")),
    request_body = MovieBody,
    responses(
        (status = 200, description = "The stored movie", body = MovieDocument),
        (status = 403, description = "`forbidden`: not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`conflict`: another movie holds one of its external ids (named in `detail`)", body = Problem, content_type = "application/problem+json"),
        WriteErrors,
    ),
    security(("bearer" = []))
)]
pub async fn put_movie<S: ViewingApi>(
    State(state): State<AppState<S>>,
    _admin: Admin,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<MovieBody>,
) -> ApiResult<Json<MovieDocument>> {
    let movie = state
        .service()
        .upsert_movie(body.try_into_domain(id)?)
        .await?;
    Ok(Json(MovieDocument::from(&movie)))
}

/// Creates or replaces a show with its whole tree of seasons and episodes.
#[utoipa::path(
    put, path = "/api/catalog/shows/{showId}", tag = "catalog",
    params(("showId" = Uuid, Path, description = "The show's id")),
    request_body = ShowBody,
    responses(
        (status = 200, description = "The stored show", body = ShowDocument),
        (status = 403, description = "`forbidden`: not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`conflict`: a season or episode id belongs to another show, or another show, season or episode holds one of the external ids (named in `detail`)", body = Problem, content_type = "application/problem+json"),
        WriteErrors,
    ),
    security(("bearer" = []))
)]
pub async fn put_show<S: ViewingApi>(
    State(state): State<AppState<S>>,
    _admin: Admin,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<ShowBody>,
) -> ApiResult<Json<ShowDocument>> {
    let show = state
        .service()
        .upsert_show(body.try_into_domain(id)?)
        .await?;
    Ok(Json(ShowDocument::from(&show)))
}

/// A movie of the catalog.
#[utoipa::path(
    get, path = "/api/catalog/movies/{movieId}", tag = "catalog",
    params(("movieId" = Uuid, Path, description = "The movie's id")),
    responses(
        (status = 200, description = "The movie", body = MovieDocument),
        (status = 404, description = "`content-not-found`", body = Problem, content_type = "application/problem+json"),
        ReadErrors,
    ),
    security(("bearer" = []))
)]
pub async fn get_movie<S: ViewingApi>(
    State(state): State<AppState<S>>,
    _caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<MovieDocument>> {
    let movie = state.service().movie(MovieId::from(id)).await?;
    Ok(Json(MovieDocument::from(&movie)))
}

/// A show of the catalog with its whole tree.
#[utoipa::path(
    get, path = "/api/catalog/shows/{showId}", tag = "catalog",
    params(("showId" = Uuid, Path, description = "The show's id")),
    responses(
        (status = 200, description = "The show", body = ShowDocument),
        (status = 404, description = "`content-not-found`", body = Problem, content_type = "application/problem+json"),
        ReadErrors,
    ),
    security(("bearer" = []))
)]
pub async fn get_show<S: ViewingApi>(
    State(state): State<AppState<S>>,
    _caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<ShowDocument>> {
    let show = state.service().show(ShowId::from(id)).await?;
    Ok(Json(ShowDocument::from(&show)))
}
