//! The endpoints. Each handler converts its request at the edge, calls one use case and
//! renders the answer; every failure is an [`crate::error::ApiError`].
//!
//! Each module declares its routes next to its handlers (`routes`): the handler's
//! `#[utoipa::path]` gives both its place in the router and its operation in the OpenAPI
//! document (`routes!`); [`crate::routes`] merges them and adds authentication.

pub mod admin;
pub mod catalog;
pub mod engagement;
pub mod imports;
pub mod integrations;
pub mod ops;
pub mod playback;
pub mod reading;
pub mod viewing;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa_axum::router::{UtoipaMethodRouter, UtoipaMethodRouterExt};
use viewing_app::api::ViewingApi;

use crate::{AppState, idempotency};

/// What the `Idempotency-Key` header of every POST does (SPEC §3).
pub(crate) const IDEMPOTENCY_KEY_DOC: &str = "Optional, 1 to 255 printable ASCII characters (else 400 \
`malformed-request`). The key is bound to the caller, the method, the path with its query and the body: a \
repeat with the same path and body within 24 h returns the first response with \
`Idempotent-Replayed: true` and records nothing; the same key with another path or body is 422 \
`idempotency-key-reused`; while the first request still runs, 409 `idempotency-in-flight`. \
Only 2xx responses are kept: after an error the same key runs the corrected request.";

/// A POST route that reads the `Idempotency-Key` header (SPEC §3). A layer of that route's
/// handler only, so it runs after authentication, and a method the path does not have is 405
/// whatever key it carries.
pub(crate) fn idempotent<S: ViewingApi>(
    state: &AppState<S>,
    route: UtoipaMethodRouter<AppState<S>>,
) -> UtoipaMethodRouter<AppState<S>> {
    route.map(|method| {
        method.route_layer(from_fn_with_state(
            state.clone(),
            idempotency::idempotent::<S>,
        ))
    })
}

/// 201 with a `Location` header naming the new resource.
pub(crate) fn created<T: Serialize>(location: String, body: T) -> Response {
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
}
