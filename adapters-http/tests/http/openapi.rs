//! The OpenAPI document says what the server does (SPEC §9): closed request bodies, no `null`
//! body where one is refused, enumerations, ranges, the one-decimal rating rule.

use std::num::NonZeroU32;

use adapters_http::{AppState, HttpConfig, JwtSecret};
use adapters_memory::MemoryStore;
use serde_json::Value;
use viewing_app::ViewingService;

/// The document of the routes the router serves.
fn doc() -> Value {
    let n = |v| NonZeroU32::new(v).unwrap_or(NonZeroU32::MIN);
    let state = AppState::new(
        ViewingService::new(MemoryStore::new()),
        &HttpConfig {
            jwt_secret: JwtSecret::new("openapi-test-secret"),
            rate_limit_per_min: n(600),
            rate_limit_burst: n(100),
            anon_rate_limit_per_min: n(60),
            anon_rate_limit_burst: n(20),
        },
    );
    serde_json::from_str(&adapters_http::openapi::document_json(&state)).unwrap_or_default()
}

fn param<'a>(doc: &'a Value, path: &str, name: &str) -> &'a Value {
    doc["paths"][path]["get"]["parameters"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["name"] == name))
        .map_or(&Value::Null, |p| &p["schema"])
}

#[test]
fn request_bodies_are_closed_objects_never_null() {
    let doc = doc();
    for (path, schema) in [
        ("/api/viewing/movies/{movieId}/watched", "WatchMovieRequest"),
        (
            "/api/viewing/episodes/{episodeId}/watched",
            "WatchEpisodeRequest",
        ),
        ("/api/viewing/{itemId}/abandon", "AbandonRequest"),
    ] {
        let body =
            &doc["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"];
        assert_eq!(
            body["$ref"],
            format!("#/components/schemas/{schema}"),
            "{path}: {body}"
        );
        assert_eq!(
            doc["components"]["schemas"][schema]["additionalProperties"],
            false
        );
    }
    for schema in ["MovieBody", "ShowBody", "SeasonBody", "EpisodeBody"] {
        assert_eq!(
            doc["components"]["schemas"][schema]["additionalProperties"], false,
            "{schema}"
        );
    }
    for schema in ["WatchMovieRequest", "WatchEpisodeRequest"] {
        assert_eq!(
            doc["components"]["schemas"][schema]["not"]["required"],
            serde_json::json!(["platform", "viewingPlatform"])
        );
    }
}

#[test]
fn queries_state_their_values_and_ranges() {
    let doc = doc();
    let period = param(&doc, "/api/viewing/statistics", "period");
    assert_eq!(
        period["enum"],
        serde_json::json!(["week", "month", "year", "all"])
    );
    let tz = param(&doc, "/api/viewing/statistics", "tz");
    let zones = tz["enum"].as_array().map(Vec::len).unwrap_or_default();
    assert!(zones > 400, "{tz}");
    assert_eq!(
        param(&doc, "/api/viewing/statistics", "date")["format"],
        "date"
    );
    let content_type = param(&doc, "/api/viewing/history", "contentType");
    assert_eq!(
        content_type["enum"],
        serde_json::json!(["movie", "episode"])
    );
    let page = param(&doc, "/api/viewing/history", "page");
    assert_eq!(
        (page["minimum"].as_i64(), page["maximum"].as_i64()),
        (Some(1), Some(i64::from(i32::MAX)))
    );
    let start = param(&doc, "/api/viewing/history", "startDate");
    assert_eq!(start["anyOf"][0]["format"], "date-time");
    let rating =
        &doc["components"]["schemas"]["WatchEpisodeRequest"]["properties"]["overallRating"];
    assert_eq!(
        (rating["minimum"].as_f64(), rating["maximum"].as_f64()),
        (Some(0.0), Some(10.0))
    );
    assert_eq!(rating["multipleOf"].as_f64(), Some(0.1));
    let watch_date = &doc["components"]["schemas"]["WatchMovieRequest"]["properties"]["watchDate"];
    assert!(
        watch_date["pattern"]
            .as_str()
            .is_some_and(|p| p.contains("19")),
        "{watch_date}"
    );
}

/// SPEC §3: every POST and PATCH of `/api/**` takes an `Idempotency-Key` — all but
/// `POST /api/integrations`, whose answer holds a secret that is kept hashed only.
#[test]
fn every_post_and_patch_documents_the_idempotency_key() {
    let doc = doc();
    let paths = doc["paths"]
        .as_object()
        .map(|p| p.iter())
        .into_iter()
        .flatten();
    let mut checked = 0;
    for (path, item) in paths {
        for method in ["post", "patch"] {
            let Some(op) = item.get(method) else { continue };
            if !path.starts_with("/api/") || path == "/api/integrations" {
                continue;
            }
            checked += 1;
            let has_key = op["parameters"].as_array().is_some_and(|ps| {
                ps.iter()
                    .any(|p| p["name"] == "Idempotency-Key" && p["in"] == "header")
            });
            assert!(has_key, "{method} {path} documents no Idempotency-Key");
        }
    }
    assert!(checked >= 10, "only {checked} operations checked");
}
