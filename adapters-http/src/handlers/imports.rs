//! Imports of other services' history (SPEC §12): the file as the body of a POST, the import
//! and its rows, and its undo. Each caller sees only their own imports.

use axum::Json;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, State};
use axum::response::Response;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;
use uuid::Uuid;
use viewing_app::api::ViewingApi;
use viewing_app::domain::ImportId;
use viewing_app::imports::{ImportRequest, MAX_FILE_BYTES};

use crate::AppState;
use crate::dto::{
    ImportDto, ImportItemDto, ImportItemsDto, ImportItemsQueryDto, ImportListDto, ImportQueryDto,
};
use crate::error::{ApiError, ApiResult, Problem, ReadErrors};
use crate::extract::{ApiPath, ApiQuery, Caller};
use crate::handlers::{IDEMPOTENCY_KEY_DOC, created, idempotent};

/// The import routes.
pub(crate) fn routes<S: ViewingApi>(state: &AppState<S>) -> OpenApiRouter<AppState<S>> {
    OpenApiRouter::new()
        // The upload may be 50 MiB, also for the Idempotency-Key's digest of it (the limit is
        // set outside the key's layer, which reads the body first).
        .routes(
            idempotent(state, routes!(create_import))
                .map(|method| method.layer(DefaultBodyLimit::max(MAX_FILE_BYTES))),
        )
        .routes(routes!(list_imports))
        .routes(routes!(get_import, undo_import))
        .routes(routes!(import_items))
        .routes(routes!(export))
}

/// The query of `GET /api/export`.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQueryDto {
    /// `json` (default): the whole history, which `POST /api/imports?source=viewing` reads back;
    /// `letterboxd`: the movie plays as Letterboxd's import CSV.
    #[param(inline, value_type = Option<String>, pattern = "^(json|letterboxd)$")]
    pub format: Option<String>,
}

/// The caller's whole history (SPEC §12): every record with its companions and origin, the
/// abandons, the watchlist, the rewatch resets and the imports, as one versioned document
/// (`format: "viewing-export"`, `version: 1`) — or, with `format=letterboxd`, the movie plays
/// as `Title,Year,WatchedDate,imdbID,tmdbID,Rewatch`.
#[utoipa::path(
    get, path = "/api/export", tag = "imports",
    params(ExportQueryDto),
    responses(
        (status = 200, description = "The document (`application/json`) or the CSV (`text/csv`)", content(
            (serde_json::Value = "application/json"),
            (String = "text/csv"),
        )),
        ReadErrors,
    ),
    security(("bearer" = []))
)]
pub async fn export<S: ViewingApi>(
    State(state): State<AppState<S>>,
    caller: Caller,
    ApiQuery(query): ApiQuery<ExportQueryDto>,
) -> ApiResult<Response> {
    use axum::http::{HeaderValue, header};
    use axum::response::IntoResponse;
    let (body, content_type, file) = match query.format.as_deref() {
        None | Some("json") => {
            let doc = state.service().export(caller.user).await?;
            let body = serde_json::to_vec(&doc).map_err(|e| ApiError::Internal(e.into()))?;
            (body, "application/json", "viewing-export.json")
        }
        Some("letterboxd") => {
            let csv = state.service().export_letterboxd(caller.user).await?;
            (
                csv.into_bytes(),
                "text/csv; charset=utf-8",
                "letterboxd-import.csv",
            )
        }
        Some(_) => return Err(ApiError::Malformed("format: json or letterboxd".to_owned())),
    };
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

/// Imports a file of another service's history: matched rows become plays with `origin:
/// import` and their own dates (none in a dry run); every row gets its outcome. The body is the
/// export's zip (its files at any folder depth) or one of its files, at most 50 MiB.
#[utoipa::path(
    post, path = "/api/imports", tag = "imports",
    params(
        ImportQueryDto,
        ("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = "^[ -~]+$", description = IDEMPOTENCY_KEY_DOC),
    ),
    request_body(
        description = "The export's zip, or one of its files (`watched-history.json`, `diary.csv`, …)",
        content(
            (String = "application/zip"),
            (String = "application/json"),
            (String = "text/csv"),
        ),
    ),
    responses(
        (status = 201, description = "Imported (or, with `dryRun=true`, counted only)", body = ImportDto),
        (status = 409, description = "`idempotency-in-flight`: a request with the same Idempotency-Key is still being processed (retry after `Retry-After` seconds); or `conflict`: another import of the same plays ran at the same time (send it again: what it imported is then a duplicate)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload-too-large`: over 50 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation-failed`: not the source's export (no file it writes, not JSON, a zip that cannot be read)", body = Problem, content_type = "application/problem+json"),
        ReadErrors,
    ),
    security(("bearer" = []))
)]
pub async fn create_import<S: ViewingApi>(
    State(state): State<AppState<S>>,
    caller: Caller,
    ApiQuery(query): ApiQuery<ImportQueryDto>,
    body: Body,
) -> ApiResult<Response> {
    let (source, dry_run) = query.parse()?;
    let upload = axum::body::to_bytes(body, MAX_FILE_BYTES)
        .await
        .map_err(|_| ApiError::UploadTooLarge)?;
    let import = state
        .service()
        .import_history(
            caller.user,
            ImportRequest {
                source,
                dry_run,
                upload: upload.to_vec(),
                progress: None,
                profile: query.profile.clone(),
            },
        )
        .await?;
    Ok(created(
        format!("/api/imports/{}", import.id),
        ImportDto::from(&import),
    ))
}

/// The caller's imports, newest first.
#[utoipa::path(
    get, path = "/api/imports", tag = "imports",
    responses(
        (status = 200, description = "The caller's imports", body = ImportListDto),
        ReadErrors,
    ),
    security(("bearer" = []))
)]
pub async fn list_imports<S: ViewingApi>(
    State(state): State<AppState<S>>,
    caller: Caller,
) -> ApiResult<Json<ImportListDto>> {
    let imports = state.service().imports(caller.user).await?;
    Ok(Json(ImportListDto {
        items: imports.iter().map(ImportDto::from).collect(),
    }))
}

/// One of the caller's imports.
#[utoipa::path(
    get, path = "/api/imports/{importId}", tag = "imports",
    params(("importId" = Uuid, Path, description = "The import's id")),
    responses(
        (status = 200, description = "The import", body = ImportDto),
        (status = 404, description = "`not-found`: no such import of the caller's", body = Problem, content_type = "application/problem+json"),
        ReadErrors,
    ),
    security(("bearer" = []))
)]
pub async fn get_import<S: ViewingApi>(
    State(state): State<AppState<S>>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<ImportDto>> {
    let import = state
        .service()
        .import(caller.user, ImportId::from(id))
        .await?;
    Ok(Json(ImportDto::from(&import)))
}

/// Undoes an import: exactly the plays it recorded are removed (through the history
/// correction), and the statistics follow. Repeating it, or undoing a dry run, changes nothing.
#[utoipa::path(
    delete, path = "/api/imports/{importId}", tag = "imports",
    params(("importId" = Uuid, Path, description = "The import's id")),
    responses(
        (status = 200, description = "The import, `undone` (a dry run stays as it was)", body = ImportDto),
        (status = 404, description = "`not-found`: no such import of the caller's", body = Problem, content_type = "application/problem+json"),
        ReadErrors,
    ),
    security(("bearer" = []))
)]
pub async fn undo_import<S: ViewingApi>(
    State(state): State<AppState<S>>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<ImportDto>> {
    let import = state
        .service()
        .undo_import(caller.user, ImportId::from(id))
        .await?;
    Ok(Json(ImportDto::from(&import)))
}

/// What became of each row of an import, in file order.
#[utoipa::path(
    get, path = "/api/imports/{importId}/items", tag = "imports",
    params(("importId" = Uuid, Path, description = "The import's id"), ImportItemsQueryDto),
    responses(
        (status = 200, description = "A page of rows", body = ImportItemsDto),
        (status = 404, description = "`not-found`: no such import of the caller's", body = Problem, content_type = "application/problem+json"),
        ReadErrors,
    ),
    security(("bearer" = []))
)]
pub async fn import_items<S: ViewingApi>(
    State(state): State<AppState<S>>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<ImportItemsQueryDto>,
) -> ApiResult<Json<ImportItemsDto>> {
    let (outcome, page, limit) = query.parse()?;
    let items = state
        .service()
        .import_items(
            caller.user,
            ImportId::from(id),
            outcome,
            (page - 1).saturating_mul(limit),
            limit,
        )
        .await?;
    Ok(Json(ImportItemsDto {
        items: items.iter().map(ImportItemDto::from).collect(),
        page,
        limit,
    }))
}
