//! `Idempotency-Key` on POSTs (SPEC §3): claim the key, run the request, keep its answer.
//!
//! A repeat of a completed key by the same user within 24 h gets the first answer back (status,
//! body, `Location`) and runs nothing. A repeat while the first is still running is 409
//! `conflict`. Answers of 5xx are not kept: the key is released so a retry can run.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::Duration;
use viewing_app::domain::ports::{IdempotencyClaim, Store, StoredResponse};

use crate::AppState;
use crate::error::{ApiError, PROBLEM_JSON};
use crate::extract::Caller;

pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
pub const REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");
/// How long a completed key answers repeats.
pub const KEY_TTL: Duration = Duration::hours(24);
/// A claim left running this long belongs to a crashed request and may be taken over.
pub const STALE_AFTER: Duration = Duration::minutes(2);
const MAX_KEY_LEN: usize = 255;
/// Bodies the service answers are small; this bounds what is buffered to keep one.
const MAX_KEPT_BODY: usize = 1024 * 1024;

fn key_of(req: &Request) -> Result<Option<String>, ApiError> {
    let Some(raw) = req.headers().get(&IDEMPOTENCY_KEY) else {
        return Ok(None);
    };
    let key = raw
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= MAX_KEY_LEN)
        .filter(|k| k.chars().all(|c| c.is_ascii_graphic()))
        .ok_or_else(|| {
            ApiError::Malformed(format!(
                "Idempotency-Key: 1 to {MAX_KEY_LEN} visible ASCII characters"
            ))
        })?;
    Ok(Some(key.to_owned()))
}

fn replay(stored: StoredResponse) -> Response {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let mut response = (status, stored.body).into_response();
    let headers = response.headers_mut();
    let content_type = if status.is_success() {
        "application/json"
    } else {
        PROBLEM_JSON
    };
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Some(v) = stored.location.and_then(|l| HeaderValue::from_str(&l).ok()) {
        headers.insert(header::LOCATION, v);
    }
    headers.insert(REPLAYED, HeaderValue::from_static("true"));
    response
}

/// Runs after authentication, so the key is scoped to the caller.
pub async fn idempotent<S: Store>(
    State(state): State<AppState<S>>,
    req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    if req.method() != Method::POST {
        return Ok(next.run(req).await);
    }
    let Some(key) = key_of(&req)? else {
        return Ok(next.run(req).await);
    };
    let caller = req
        .extensions()
        .get::<Caller>()
        .copied()
        .ok_or(ApiError::Unauthorized("missing bearer token"))?;
    let store = state.service().store();
    let now = state.service().clock().now();
    match store
        .claim_idempotency_key(caller.user, &key, now, KEY_TTL, STALE_AFTER)
        .await
        .map_err(viewing_app::AppError::from)?
    {
        IdempotencyClaim::Completed(stored) => return Ok(replay(stored)),
        IdempotencyClaim::InProgress => {
            return Err(ApiError::Conflict(
                "a request with this Idempotency-Key is still being processed".to_owned(),
            ));
        }
        IdempotencyClaim::Claimed => {}
    }

    let response = next.run(req).await;
    let (parts, body) = response.into_parts();
    if parts.status.is_server_error() {
        release(store, caller, &key).await;
        return Ok(Response::from_parts(parts, body));
    }
    let bytes = match to_bytes(body, MAX_KEPT_BODY).await {
        Ok(b) => b,
        Err(e) => {
            release(store, caller, &key).await;
            return Err(ApiError::Internal(
                format!("buffering a response: {e}").into(),
            ));
        }
    };
    let stored = StoredResponse {
        status: parts.status.as_u16(),
        location: parts
            .headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        body: bytes.to_vec(),
    };
    let done = state.service().clock().now();
    if let Err(e) = store
        .complete_idempotency_key(caller.user, &key, &stored, done)
        .await
    {
        // The write happened; the answer stands even though a repeat may not find it.
        tracing::error!(error = %e, "could not keep the answer of an Idempotency-Key");
    }
    Ok(Response::from_parts(parts, Body::from(bytes)))
}

async fn release<S: Store>(store: &S, caller: Caller, key: &str) {
    if let Err(e) = store.release_idempotency_key(caller.user, key).await {
        tracing::warn!(error = %e, "could not release an Idempotency-Key");
    }
}
