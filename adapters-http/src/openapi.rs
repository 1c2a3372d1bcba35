//! The OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]` and the DTOs.

use std::sync::LazyLock;

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::dto::*;
use crate::error::{FieldError, Problem};
use crate::handlers::{admin, catalog, engagement, ops, reading, viewing};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Viewing activity service",
        description = "Records what people watch (movies, episodes), with binge sessions, \
            progress, completion and statistics, plus achievements, a watchlist, continuation reminders \
            and genre preferences. Every `/api/**` call (but this document) needs \
            `Authorization: Bearer <HS256 JWT>`; every error is `application/problem+json`."
    ),
    paths(
        catalog::put_movie, catalog::get_movie, catalog::put_show, catalog::get_show,
        viewing::watch_movie, viewing::watch_episode, viewing::abandon,
        viewing::get_record, viewing::get_abandoned,
        reading::history, reading::progress, reading::up_next, reading::statistics,
        engagement::achievements, engagement::watchlist, engagement::add_to_watchlist,
        engagement::remove_from_watchlist, engagement::reminders, engagement::preferences,
        ops::live, ops::ready, ops::metrics, ops::openapi,
        admin::dead_letters, admin::retry_dead_letter,
    ),
    components(schemas(Problem, FieldError, MissingEpisodeDto, CatalogFile)),
    modifiers(&BearerAuth),
    tags(
        (name = "catalog", description = "Movies and shows viewing refers to (admin writes)"),
        (name = "viewing", description = "Recording viewing"),
        (name = "reading", description = "History, progress, statistics"),
        (name = "engagement", description = "Achievements, watchlist, continuation reminders and \
            genre preferences, kept by the event handlers (applied asynchronously)"),
        (name = "operations", description = "Health, metrics, this document"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut http = Http::new(HttpAuthScheme::Bearer);
        http.bearer_format = Some("JWT".to_owned());
        components.add_security_scheme("bearer", SecurityScheme::Http(http));
    }
}

/// The document.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// The document as JSON, rendered once.
pub fn document_json() -> String {
    static JSON: LazyLock<String> =
        LazyLock::new(|| document().to_pretty_json().unwrap_or_default());
    JSON.clone()
}
