//! The endpoints. Each handler converts its request at the edge, calls one use case and
//! renders the answer; every failure is an [`crate::error::ApiError`].

pub mod admin;
pub mod catalog;
pub mod engagement;
pub mod ops;
pub mod reading;
pub mod viewing;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// 201 with a `Location` header naming the new resource.
pub(crate) fn created<T: Serialize>(location: String, body: T) -> Response {
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
}
