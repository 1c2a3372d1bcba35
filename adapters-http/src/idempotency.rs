//! `Idempotency-Key` on POST and PATCH (SPEC §3): bind the key to the request, run it once,
//! keep its successful answer.
//!
//! The key is bound to the caller, the method, the path with its query and the SHA-256 of the raw body
//! ([`RequestFingerprint`]); what a request with a key does is the domain's
//! [`viewing_app::domain::idempotency::decide`], taken by the store atomically. This middleware
//! only translates: a repeat of the same request within 24 h gets the first answer back (status,
//! body, `Location`, `Idempotent-Replayed: true`) and runs nothing; the key on another path or
//! body is 422 `idempotency-key-reused`; a repeat while the first still runs is 409
//! `idempotency-in-flight`. Only 2xx answers are kept: any other releases the key, so a
//! corrected retry runs.

use axum::body::{Body, Bytes, to_bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use viewing_app::api::ViewingApi;
use viewing_app::domain::idempotency::{
    self, Decision, IdempotencyKey, RequestFingerprint, StoredResponse,
};

use crate::AppState;
use crate::error::ApiError;
use crate::extract::Caller;

pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
pub const REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");
/// Bodies the service answers are small; this bounds what is buffered to keep one.
const MAX_KEPT_BODY: usize = 1024 * 1024;

fn key_of(req: &Request) -> Result<Option<IdempotencyKey>, ApiError> {
    let Some(raw) = req.headers().get(&IDEMPOTENCY_KEY) else {
        return Ok(None);
    };
    let invalid = |e: idempotency::InvalidIdempotencyKey| ApiError::Malformed(e.to_string());
    let text = raw
        .to_str()
        .map_err(|_| invalid(idempotency::InvalidIdempotencyKey))?;
    IdempotencyKey::parse(text).map(Some).map_err(invalid)
}

/// The request's body, whole (it is at most [`crate::BODY_LIMIT`] bytes: the limit set by
/// `DefaultBodyLimit` applies here as in the handlers' extractors).
async fn body_of(req: Request) -> Result<(axum::http::request::Parts, Bytes), ApiError> {
    let (parts, body) = req.into_parts();
    let bytes = Bytes::from_request(Request::from_parts(parts.clone(), body), &())
        .await
        .map_err(|e: BytesRejection| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge
            } else {
                ApiError::Malformed(format!("could not read the body: {e}"))
            }
        })?;
    Ok((parts, bytes))
}

fn fingerprint(parts: &axum::http::request::Parts, body: &[u8]) -> RequestFingerprint {
    RequestFingerprint {
        method: parts.method.as_str().to_owned(),
        // The query is part of what was asked (`?dryRun=true` is another request).
        path: parts
            .uri
            .path_and_query()
            .map_or_else(|| parts.uri.path().to_owned(), |pq| pq.as_str().to_owned()),
        body_digest: Sha256::digest(body).to_vec(),
    }
}

fn replay(stored: StoredResponse) -> Response {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let mut response = (status, stored.body).into_response();
    let headers = response.headers_mut();
    // Only successful answers are kept, and every one of them is JSON.
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Some(v) = stored.location.and_then(|l| HeaderValue::from_str(&l).ok()) {
        headers.insert(header::LOCATION, v);
    }
    headers.insert(REPLAYED, HeaderValue::from_static("true"));
    response
}

/// Runs after authentication, so the key is scoped to the caller.
pub async fn idempotent<S: ViewingApi>(
    State(state): State<AppState<S>>,
    req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    if !matches!(*req.method(), Method::POST | Method::PATCH) {
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
    let (parts, body) = body_of(req).await?;
    let request = fingerprint(&parts, &body);
    let service = state.service();
    let decision = service
        .claim_idempotency_key(caller.user, &key, &request)
        .await?;
    match decision {
        Decision::Replay(stored) => return Ok(replay(stored)),
        Decision::Reused => return Err(ApiError::IdempotencyKeyReused),
        Decision::InFlight => return Err(ApiError::IdempotencyInFlight),
        Decision::Fresh | Decision::TakeOverStale | Decision::Expired => {}
    }

    let response = next.run(Request::from_parts(parts, Body::from(body))).await;
    let (parts, body) = response.into_parts();
    if !idempotency::worth_keeping(parts.status.as_u16()) {
        release(service, caller, &key).await;
        return Ok(Response::from_parts(parts, body));
    }
    let bytes = match to_bytes(body, MAX_KEPT_BODY).await {
        Ok(b) => b,
        Err(e) => {
            release(service, caller, &key).await;
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
    if let Err(e) = service
        .complete_idempotency_key(caller.user, &key, &stored)
        .await
    {
        // The write happened; the answer stands even though a repeat may not find it.
        tracing::error!(error = %e, "could not keep the answer of an Idempotency-Key");
    }
    Ok(Response::from_parts(parts, Body::from(bytes)))
}

async fn release<S: ViewingApi>(service: &S, caller: Caller, key: &IdempotencyKey) {
    if let Err(e) = service.release_idempotency_key(caller.user, key).await {
        tracing::warn!(error = %e, "could not release an Idempotency-Key");
    }
}
