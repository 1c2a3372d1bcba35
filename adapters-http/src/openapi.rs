//! The OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]` and the DTOs: the
//! routes of [`crate::routes`] give its paths, [`ApiDoc`] what is not a path.

use std::sync::Arc;

use serde_json::{Value, json};

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use viewing_app::api::ViewingApi;

use crate::AppState;
use crate::dto::*;
use crate::error::{FieldError, Problem};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Viewing activity service",
        description = "Records what people watch (movies, episodes), with binge sessions, \
            progress, completion and statistics, plus achievements, a watchlist, continuation reminders \
            and genre preferences. Every `/api/**` call (but this document) needs \
            `Authorization: Bearer <HS256 JWT>`; every error is `application/problem+json`."
    ),
    components(schemas(Problem, FieldError, MissingEpisodeDto, CatalogFile)),
    modifiers(&BearerAuth),
    tags(
        (name = "catalog", description = "Movies and shows viewing refers to (admin writes)"),
        (name = "viewing", description = "Recording viewing"),
        (name = "reading", description = "History, progress, statistics"),
        (name = "engagement", description = "Achievements, watchlist, continuation reminders and \
            genre preferences, kept by the event handlers (applied asynchronously)"),
        (name = "playback", description = "Players reporting start, pause and stop (SPEC §13)"),
        (name = "integrations", description = "Plex, Jellyfin and Emby webhooks (SPEC §13)"),
        (name = "imports", description = "Moving history in from Trakt and other services (SPEC §12)"),
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

/// Request bodies refuse unknown fields (422, SPEC §9): their schemas say
/// `additionalProperties: false`. (utoipa derives that only from serde's
/// `deny_unknown_fields`, which would stop at the first unknown field with a 400.) Applied to
/// the routes' document ([`complete`]), once their schemas are in.
struct ClosedBodies;

/// The schemas of request bodies, at every depth.
const REQUEST_SCHEMAS: &[&str] = &[
    "WatchMovieRequest",
    "WatchEpisodeRequest",
    "AbandonRequest",
    "EditRecordRequest",
    "MovieBody",
    "ShowBody",
    "SeasonBody",
    "EpisodeBody",
    "ExternalIdsDto",
];

impl Modify for ClosedBodies {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::RefOr;
        use utoipa::openapi::schema::{AdditionalProperties, Schema};
        let Some(components) = openapi.components.as_mut() else {
            return;
        };
        for name in REQUEST_SCHEMAS {
            if let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(*name) {
                object.additional_properties =
                    Some(Box::new(AdditionalProperties::FreeForm(false)));
            }
        }
    }
}

/// The document of the routes [`crate::router`] serves.
pub fn document<S: ViewingApi>(state: &AppState<S>) -> utoipa::openapi::OpenApi {
    complete(crate::routes(state).split_for_parts().1)
}

/// What the routes' document lacks until every route has added its schemas: closed request
/// bodies ([`ClosedBodies`]).
pub(crate) fn complete(mut doc: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    ClosedBodies.modify(&mut doc);
    doc
}

/// The document as JSON, with the constraints utoipa's attributes cannot state (see
/// [`refine`]).
pub fn document_json<S: ViewingApi>(state: &AppState<S>) -> String {
    Document::new(document(state)).json().to_owned()
}

/// The document as served at `/api/openapi.json`: rendered once, when the router is built.
#[derive(Debug, Clone)]
pub struct Document(Arc<str>);

impl Document {
    /// Renders `doc` with the constraints utoipa's attributes cannot state (see [`refine`]).
    pub fn new(doc: utoipa::openapi::OpenApi) -> Self {
        let mut doc = serde_json::to_value(doc).unwrap_or_default();
        refine(&mut doc);
        Self(
            serde_json::to_string_pretty(&doc)
                .unwrap_or_default()
                .into(),
        )
    }

    /// The JSON text.
    pub fn json(&self) -> &str {
        &self.0
    }
}

/// Years of the instants a client may send (SPEC §9: 1900-01-01 to 9999-12-31).
const INSTANT_YEARS: &str = "^(19[0-9]{2}|[2-9][0-9]{3})-";
/// Years of catalog dates (1800-01-01 to 9999-12-31).
const DATE_YEARS: &str = "^(1[89][0-9]{2}|[2-9][0-9]{3})-";

/// Makes the document say exactly what the server accepts, where utoipa has no attribute for it:
/// the year range of instants and dates, `platform` and `viewingPlatform` never both, the time
/// zones `tz` takes, and `startDate`/`endDate` as an instant or a date.
pub fn refine(doc: &mut Value) {
    let Some(schemas) = doc.get_mut("components").and_then(|c| c.get_mut("schemas")) else {
        return;
    };
    for (schema, field, years) in [
        ("WatchMovieRequest", "watchDate", INSTANT_YEARS),
        ("WatchEpisodeRequest", "watchDate", INSTANT_YEARS),
        ("EditRecordRequest", "watchDate", INSTANT_YEARS),
        ("AbandonRequest", "abandonDate", INSTANT_YEARS),
        ("EpisodeBody", "airDate", DATE_YEARS),
        ("MovieBody", "releaseDate", DATE_YEARS),
    ] {
        if let Some(p) = schemas
            .get_mut(schema)
            .and_then(|s| s.get_mut("properties"))
            .and_then(|p| p.get_mut(field))
            .and_then(Value::as_object_mut)
        {
            p.insert("pattern".to_owned(), json!(years));
        }
    }
    // Every field of the viewing POST bodies is optional, and an empty body reads as `{}`.
    if let Some(paths) = doc.get_mut("paths") {
        for path in [
            "/api/viewing/movies/{movieId}/watched",
            "/api/viewing/episodes/{episodeId}/watched",
            "/api/viewing/{itemId}/abandon",
        ] {
            if let Some(body) = paths
                .get_mut(path)
                .and_then(|p| p.get_mut("post"))
                .and_then(|p| p.get_mut("requestBody"))
                .and_then(Value::as_object_mut)
            {
                body.insert("required".to_owned(), json!(false));
            }
        }
    }
    let Some(schemas) = doc.get_mut("components").and_then(|c| c.get_mut("schemas")) else {
        return;
    };
    // A new play reads `null` as absent: both names given is refused only when both are texts.
    // A correction's `null` clears the field, so there both names present is refused.
    let both_texts = json!({
        "required": ["platform", "viewingPlatform"],
        "properties": { "platform": { "type": "string" }, "viewingPlatform": { "type": "string" } }
    });
    for (schema, not) in [
        ("WatchMovieRequest", both_texts.clone()),
        ("WatchEpisodeRequest", both_texts),
        (
            "EditRecordRequest",
            json!({ "required": ["platform", "viewingPlatform"] }),
        ),
    ] {
        if let Some(s) = schemas.get_mut(schema).and_then(Value::as_object_mut) {
            s.insert("not".to_owned(), not);
        }
    }
    let instant_or_date = json!({ "anyOf": [
        { "type": "string", "format": "date-time", "pattern": INSTANT_YEARS },
        { "type": "string", "format": "date", "pattern": INSTANT_YEARS },
    ] });
    let zones: Vec<&str> = viewing_app::history::time_zone_names().collect();
    let Some(paths) = doc["paths"].as_object_mut() else {
        return;
    };
    for item in paths.values_mut() {
        let Some(operations) = item.as_object_mut() else {
            continue;
        };
        for param in operations
            .values_mut()
            .filter_map(|op| op.get_mut("parameters"))
            .filter_map(Value::as_array_mut)
            .flatten()
        {
            let schema = match param["name"].as_str() {
                Some("startDate" | "endDate") => instant_or_date.clone(),
                Some("date") => {
                    json!({ "type": "string", "format": "date", "pattern": INSTANT_YEARS })
                }
                Some("tz") => json!({ "type": "string", "enum": zones }),
                // What `nextCursor` holds: hex microseconds since 1970 (1961 to 2112 here;
                // the server also takes any other instant of 1900–9999), `.`, the record id.
                Some("cursor") => json!({
                    "type": "string",
                    "pattern": "^(-?[0-9a-f]{1,12}|[0-9a-f]{13})\\.[0-9a-f]{32}$",
                }),
                // 1–255 printable ASCII characters; HTTP drops spaces at either end.
                Some("Idempotency-Key") => json!({
                    "type": "string",
                    "pattern": "^[!-~]([ -~]{0,253}[!-~])?$",
                }),
                _ => continue,
            };
            param["schema"] = schema;
        }
    }
}
