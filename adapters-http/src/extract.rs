//! Extractors whose every rejection is an [`ApiError`], so no plain-text axum rejection escapes.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use viewing_app::domain::UserId;

use crate::error::{ApiError, FieldError};

/// A JSON body. An empty body reads as `{}` (every field of the POST bodies is optional), and
/// the `Content-Type` is not checked: bearer-token auth leaves no CSRF to guard against.
///
/// Bad JSON or a wrong type is 400. A field the body type does not know, at any depth, is 422
/// `validation-failed` with one `errors[]` entry per unknown field (`message: "unknown field"`),
/// so a misspelt field is never dropped silently (SPEC §9).
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e: BytesRejection| {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::PayloadTooLarge
                } else {
                    ApiError::Malformed(format!("could not read the body: {e}"))
                }
            })?;
        let text: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            &bytes
        };
        parse_json(text).map(ApiJson)
    }
}

/// Parses a JSON document into `T`, refusing unknown fields (see [`ApiJson`]).
pub fn parse_json<T: DeserializeOwned>(text: &[u8]) -> Result<T, ApiError> {
    let mut unknown = Vec::new();
    let mut de = serde_json::Deserializer::from_slice(text);
    let value: T = serde_ignored::deserialize(&mut de, |path| unknown.push(field_name(&path)))
        .and_then(|v| de.end().map(|()| v))
        .map_err(|e| ApiError::Malformed(format!("invalid JSON body: {e}")))?;
    if unknown.is_empty() {
        Ok(value)
    } else {
        Err(ApiError::Validation(
            unknown
                .into_iter()
                .map(|field| FieldError {
                    field,
                    message: "unknown field".to_owned(),
                })
                .collect(),
        ))
    }
}

/// A field's path as the errors name it: `seasons[0].episodes[1].title`.
fn field_name(path: &serde_ignored::Path<'_>) -> String {
    use serde_ignored::Path;
    match path {
        Path::Root => String::new(),
        Path::Seq { parent, index } => format!("{}[{index}]", field_name(parent)),
        Path::Map { parent, key } => {
            let parent = field_name(parent);
            if parent.is_empty() {
                key.clone()
            } else {
                format!("{parent}.{key}")
            }
        }
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => field_name(parent),
    }
}

/// Path parameters; a non-UUID id is 400.
#[derive(Debug, Clone, Copy)]
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| ApiPath(v))
            .map_err(|e: PathRejection| {
                ApiError::Malformed(format!("invalid path parameter: {}", e.body_text()))
            })
    }
}

/// The query string; unknown parameters are ignored, unparsable values are 400.
#[derive(Debug, Clone, Copy)]
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| ApiQuery(v))
            .map_err(|e: QueryRejection| {
                ApiError::Malformed(format!("invalid query string: {}", e.body_text()))
            })
    }
}

/// The authenticated caller, put in the request by the auth middleware. The user is always the
/// token's `sub`, never a field of the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller {
    pub user: UserId,
    pub admin: bool,
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Caller>()
            .copied()
            .ok_or(ApiError::Unauthorized("missing bearer token"))
    }
}

/// The authenticated caller, who must hold the admin role: 403 otherwise. Put it before the
/// path and body extractors, so that a non-admin hears 403 whatever the path and the body
/// (SPEC §9: authorization comes before path and body checks; axum runs extractors in order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Admin(pub Caller);

impl<S: Send + Sync> FromRequestParts<S> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let caller = Caller::from_request_parts(parts, state).await?;
        if caller.admin {
            Ok(Admin(caller))
        } else {
            Err(ApiError::Forbidden("catalog writes need the admin role"))
        }
    }
}
