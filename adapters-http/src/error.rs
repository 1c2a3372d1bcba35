//! The one place where failures become `application/problem+json` (RFC 9457).
//!
//! Every handler, extractor and middleware returns [`ApiError`]; the translation from the use
//! cases' [`AppError`] lives in its `From` impl, and the rendering in its `IntoResponse` impl.
//! Unexpected errors are logged here, once, inside the request's span (so with its request id).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::{IntoResponses, ToSchema};
use viewing_app::AppError;
use viewing_app::domain::ports::BoxError;
use viewing_app::domain::rules::order::MissingEpisode;
use viewing_app::domain::values::ValidationError;

use crate::dto::MissingEpisodeDto;

pub const PROBLEM_JSON: &str = "application/problem+json";
/// `Retry-After` of 409 `idempotency-in-flight`, in seconds.
pub const IN_FLIGHT_RETRY_SECS: u64 = 1;

/// One refused field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// The request field, in camelCase (nested fields as `seasons[0].episodes[2].title`).
    pub field: String,
    pub message: String,
}

impl From<ValidationError> for FieldError {
    fn from(e: ValidationError) -> Self {
        Self {
            field: e.field.to_owned(),
            message: e.message,
        }
    }
}

/// An RFC 9457 problem document. `code` is stable and machine-readable.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    /// A URI reference naming the problem type (`/problems/{code}`).
    #[serde(rename = "type")]
    #[schema(example = "/problems/validation-failed")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// One of `malformed-request`, `unauthorized`, `forbidden`, `content-not-found`,
    /// `not-found`, `episode-out-of-order`, `duplicate-play`, `conflict`, `idempotency-in-flight`,
    /// `idempotency-key-reused`, `payload-too-large`,
    /// `validation-failed`, `rate-limited`, `unavailable`, `method-not-allowed`,
    /// `uri-too-long`, `headers-too-large`, `internal-error`.
    #[schema(example = "validation-failed")]
    pub code: String,
    /// The refused fields (422 only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
    /// The first episode still to watch (409 `episode-out-of-order` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing_episode: Option<MissingEpisodeDto>,
    /// The play already recorded (409 `duplicate-play` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<crate::dto::ViewingRecordDto>,
}

/// Everything a request can end in besides success.
#[derive(Debug)]
pub enum ApiError {
    /// Bad JSON, wrong types, non-UUID ids, unparsable query values, bad headers.
    Malformed(String),
    Unauthorized(&'static str),
    Forbidden(&'static str),
    ContentNotFound,
    NotFound,
    OutOfOrder(MissingEpisode),
    Conflict(String),
    /// A player's second stop of an item within its runtime (SPEC §13): the play it repeats.
    DuplicatePlay(Box<crate::dto::ViewingRecordDto>),
    /// The `Idempotency-Key` is bound to another method, path or body (422).
    IdempotencyKeyReused,
    /// A request with the same `Idempotency-Key` is still running (409, `Retry-After: 1`).
    IdempotencyInFlight,
    PayloadTooLarge,
    /// An import's upload over its own limit (50 MiB).
    UploadTooLarge,
    Validation(Vec<FieldError>),
    RateLimited {
        retry_after_secs: u64,
    },
    MethodNotAllowed,
    /// The request target (path and query) is over [`crate::MAX_URI_LEN`] bytes.
    UriTooLong,
    /// Too many request headers, or a header section too large to read.
    HeadersTooLarge,
    Unavailable(BoxError),
    /// The metadata provider (TMDB) could not be reached, or none is configured.
    ProviderUnavailable(String),
    Internal(BoxError),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Malformed(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::ContentNotFound | ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::OutOfOrder(_)
            | ApiError::Conflict(_)
            | ApiError::DuplicatePlay(_)
            | ApiError::IdempotencyInFlight => StatusCode::CONFLICT,
            ApiError::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::PayloadTooLarge | ApiError::UploadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::UriTooLong => StatusCode::URI_TOO_LONG,
            ApiError::HeadersTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            ApiError::Unavailable(_) | ApiError::ProviderUnavailable(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Malformed(_) => "malformed-request",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::ContentNotFound => "content-not-found",
            ApiError::NotFound => "not-found",
            ApiError::OutOfOrder(_) => "episode-out-of-order",
            ApiError::DuplicatePlay(_) => "duplicate-play",
            ApiError::Conflict(_) => "conflict",
            ApiError::IdempotencyKeyReused => "idempotency-key-reused",
            ApiError::IdempotencyInFlight => "idempotency-in-flight",
            ApiError::PayloadTooLarge | ApiError::UploadTooLarge => "payload-too-large",
            ApiError::Validation(_) => "validation-failed",
            ApiError::RateLimited { .. } => "rate-limited",
            ApiError::MethodNotAllowed => "method-not-allowed",
            ApiError::UriTooLong => "uri-too-long",
            ApiError::HeadersTooLarge => "headers-too-large",
            ApiError::Unavailable(_) | ApiError::ProviderUnavailable(_) => "unavailable",
            ApiError::Internal(_) => "internal-error",
        }
    }

    fn title(&self) -> &'static str {
        match self {
            ApiError::Malformed(_) => "Malformed request",
            ApiError::Unauthorized(_) => "Unauthorized",
            ApiError::Forbidden(_) => "Forbidden",
            ApiError::ContentNotFound => "Content not found",
            ApiError::NotFound => "Not found",
            ApiError::OutOfOrder(_) => "Episode out of order",
            ApiError::DuplicatePlay(_) => "Duplicate play",
            ApiError::Conflict(_) => "Conflict",
            ApiError::IdempotencyKeyReused => "Idempotency key reused",
            ApiError::IdempotencyInFlight => "Idempotent request in flight",
            ApiError::PayloadTooLarge | ApiError::UploadTooLarge => "Payload too large",
            ApiError::Validation(_) => "Validation failed",
            ApiError::RateLimited { .. } => "Too many requests",
            ApiError::MethodNotAllowed => "Method not allowed",
            ApiError::UriTooLong => "URI too long",
            ApiError::HeadersTooLarge => "Request header fields too large",
            ApiError::Unavailable(_) | ApiError::ProviderUnavailable(_) => "Service unavailable",
            ApiError::Internal(_) => "Internal error",
        }
    }

    fn detail(&self) -> String {
        match self {
            ApiError::Malformed(d) | ApiError::Conflict(d) => d.clone(),
            ApiError::Unauthorized(d) | ApiError::Forbidden(d) => (*d).to_owned(),
            ApiError::ContentNotFound => "the content is not in the catalog".to_owned(),
            ApiError::NotFound => "no such resource for this user".to_owned(),
            ApiError::OutOfOrder(m) => format!(
                "season {} episode {} is not watched yet (or send markPreviousWatched: true)",
                m.season_number, m.episode_number
            ),
            ApiError::DuplicatePlay(r) => format!(
                "this item's play of {} (record {}) is within its runtime: a second stop records \
                 nothing",
                r.watch_date.to_rfc3339(),
                r.id
            ),
            ApiError::IdempotencyKeyReused => "this Idempotency-Key was used for another request \
                 (method, path or body); use a new key for a new request"
                .to_owned(),
            ApiError::IdempotencyInFlight => {
                "a request with this Idempotency-Key is still being processed; retry later"
                    .to_owned()
            }
            ApiError::UploadTooLarge => format!(
                "an import's file is limited to {} MiB",
                viewing_app::imports::MAX_FILE_BYTES / (1024 * 1024)
            ),
            ApiError::PayloadTooLarge => {
                format!("request bodies are limited to {} bytes", crate::BODY_LIMIT)
            }
            ApiError::Validation(errors) => errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; "),
            ApiError::RateLimited { retry_after_secs } => {
                format!("rate limit exceeded; retry in {retry_after_secs} s")
            }
            ApiError::MethodNotAllowed => "this method is not allowed on this path".to_owned(),
            ApiError::UriTooLong => format!(
                "the path and query are limited to {} bytes",
                crate::MAX_URI_LEN
            ),
            ApiError::HeadersTooLarge => format!(
                "too many request header fields (at most {}) or a header section too large",
                crate::serve::MAX_HEADERS
            ),
            ApiError::Unavailable(_) => "the store is unavailable; retry later".to_owned(),
            ApiError::ProviderUnavailable(m) => format!("{m}; retry later"),
            ApiError::Internal(_) => "an unexpected error occurred".to_owned(),
        }
    }

    pub fn problem(&self) -> Problem {
        let code = self.code();
        Problem {
            problem_type: format!("/problems/{code}"),
            title: self.title().to_owned(),
            status: self.status().as_u16(),
            detail: self.detail(),
            code: code.to_owned(),
            errors: match self {
                ApiError::Validation(e) => Some(e.clone()),
                _ => None,
            },
            missing_episode: match self {
                ApiError::OutOfOrder(m) => Some(MissingEpisodeDto::from(*m)),
                _ => None,
            },
            record: match self {
                ApiError::DuplicatePlay(r) => Some(r.as_ref().clone()),
                _ => None,
            },
        }
    }

    /// The problem document for a bare status produced outside the handlers (axum's own 404,
    /// 405, 413…), so that no plain-text response ever leaves the service.
    pub fn for_status(status: StatusCode) -> Self {
        match status.as_u16() {
            401 => ApiError::Unauthorized("missing or invalid bearer token"),
            403 => ApiError::Forbidden("forbidden"),
            404 => ApiError::NotFound,
            405 => ApiError::MethodNotAllowed,
            409 => ApiError::Conflict("conflict".to_owned()),
            413 => ApiError::PayloadTooLarge,
            414 => ApiError::UriTooLong,
            422 => ApiError::Validation(Vec::new()),
            429 => ApiError::RateLimited {
                retry_after_secs: 1,
            },
            431 => ApiError::HeadersTooLarge,
            503 => ApiError::Unavailable("unavailable".into()),
            s if (400..500).contains(&s) => ApiError::Malformed(
                status
                    .canonical_reason()
                    .unwrap_or("malformed request")
                    .to_owned(),
            ),
            _ => ApiError::Internal(format!("status {status}").into()),
        }
    }

    pub fn validation(e: ValidationError) -> Self {
        ApiError::Validation(vec![e.into()])
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::ContentNotFound => ApiError::ContentNotFound,
            AppError::NotFound => ApiError::NotFound,
            AppError::EpisodeOutOfOrder(m) => ApiError::OutOfOrder(m),
            AppError::Invalid(v) => ApiError::validation(v),
            AppError::Malformed(m) => ApiError::Malformed(m),
            AppError::Conflict(m) => ApiError::Conflict(m),
            AppError::Unavailable(s) => ApiError::Unavailable(s),
            AppError::MetadataUnavailable(m) => ApiError::ProviderUnavailable(m),
            AppError::Unexpected(s) => ApiError::Internal(s),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            ApiError::Unavailable(source) => {
                tracing::error!(error = %source, code = "unavailable", "store unavailable");
            }
            ApiError::ProviderUnavailable(message) => {
                tracing::warn!(error = %message, code = "unavailable", "metadata provider");
            }
            ApiError::Internal(source) => {
                tracing::error!(error = %source, code = "internal-error", "unexpected error");
            }
            _ => {}
        }
        let status = self.status();
        let body = serde_json::to_vec(&self.problem()).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let ApiError::RateLimited { retry_after_secs } = self {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        }
        if let ApiError::IdempotencyInFlight = self {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(IN_FLIGHT_RETRY_SECS));
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// Error responses every authenticated read can give (for the OpenAPI document).
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum ReadErrors {
    /// `malformed-request`: a path id that is not a UUID, or an unparsable query.
    #[response(status = 400, content_type = "application/problem+json")]
    Malformed(#[to_schema] Problem),
    /// `unauthorized`: missing, malformed, expired or wrongly signed bearer token.
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthorized(#[to_schema] Problem),
    /// `rate-limited`, with a `Retry-After` header.
    #[response(status = 429, content_type = "application/problem+json",
        headers(("Retry-After" = u64, description = "Seconds to wait")))]
    RateLimited(#[to_schema] Problem),
    /// `unavailable`: the store cannot be reached, or the metadata provider when an item the
    /// catalog lacks is fetched on demand.
    #[response(status = 503, content_type = "application/problem+json")]
    Unavailable(#[to_schema] Problem),
}

/// Error responses every write can give, besides [`ReadErrors`].
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum WriteErrors {
    /// `malformed-request`: bad JSON, wrong types, a path id that is not a UUID.
    #[response(status = 400, content_type = "application/problem+json")]
    Malformed(#[to_schema] Problem),
    /// `unauthorized`: missing, malformed, expired or wrongly signed bearer token.
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthorized(#[to_schema] Problem),
    /// `payload-too-large`: the body is over 64 KiB.
    #[response(status = 413, content_type = "application/problem+json")]
    PayloadTooLarge(#[to_schema] Problem),
    /// `validation-failed`, with `errors: [{ field, message }]`; on a POST with an
    /// `Idempotency-Key` already used for another path or body, `idempotency-key-reused`.
    #[response(status = 422, content_type = "application/problem+json")]
    Validation(#[to_schema] Problem),
    /// `rate-limited`, with a `Retry-After` header.
    #[response(status = 429, content_type = "application/problem+json",
        headers(("Retry-After" = u64, description = "Seconds to wait")))]
    RateLimited(#[to_schema] Problem),
    /// `unavailable`: the store cannot be reached, or the metadata provider when an item the
    /// catalog lacks is fetched on demand.
    #[response(status = 503, content_type = "application/problem+json")]
    Unavailable(#[to_schema] Problem),
}
