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
