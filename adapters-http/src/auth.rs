//! Bearer tokens (HS256 JWT, SPEC §3) and the per-user rate limit.

use std::fmt;
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::Response;
use chrono::{DateTime, Utc};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use viewing_app::domain::UserId;

use crate::error::ApiError;
use crate::extract::Caller;

/// The HS256 signing secret. Never printed: its `Debug` is redacted.
#[derive(Clone)]
pub struct JwtSecret(Vec<u8>);

impl JwtSecret {
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Self(bytes.into())
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for JwtSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JwtSecret(<redacted>)")
    }
}

impl std::str::FromStr for JwtSecret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self::new(s.as_bytes()))
    }
}

/// The claims of a token: `sub` (a user UUID) and `exp` are required, `role: "admin"` allows
/// catalog writes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

pub const ADMIN_ROLE: &str = "admin";

/// Signs and verifies tokens with one secret.
pub struct Authenticator {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authenticator").finish_non_exhaustive()
    }
}

impl Authenticator {
    pub fn new(secret: &JwtSecret) -> Self {
        // Only HS256 is accepted: `alg: none` and every other algorithm are refused before the
        // signature is looked at.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "sub"]);
        validation.leeway = 30;
        Self {
            encoding: EncodingKey::from_secret(&secret.0),
            decoding: DecodingKey::from_secret(&secret.0),
            validation,
        }
    }

    /// A token for `user`, valid until `expires`.
    pub fn mint(
        &self,
        user: UserId,
        admin: bool,
        now: DateTime<Utc>,
        expires: DateTime<Utc>,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let claims = Claims {
            sub: user.to_string(),
            exp: expires.timestamp(),
            iat: Some(now.timestamp()),
            role: admin.then(|| ADMIN_ROLE.to_owned()),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
    }

    /// The caller named by the `Authorization: Bearer` header.
    pub fn verify(&self, headers: &HeaderMap) -> Result<Caller, ApiError> {
        let value = headers
            .get(header::AUTHORIZATION)
            .ok_or(ApiError::Unauthorized("missing bearer token"))?
            .to_str()
            .map_err(|_| ApiError::Unauthorized("malformed Authorization header"))?;
        let (scheme, token) = value
            .trim()
            .split_once(' ')
            .ok_or(ApiError::Unauthorized("malformed Authorization header"))?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(ApiError::Unauthorized("expected a Bearer token"));
        }
        let data = jsonwebtoken::decode::<Claims>(token.trim(), &self.decoding, &self.validation)
            .map_err(|e| {
            use jsonwebtoken::errors::ErrorKind;
            ApiError::Unauthorized(match e.kind() {
                ErrorKind::ExpiredSignature => "the token has expired",
                ErrorKind::InvalidSignature => "the token signature is invalid",
                ErrorKind::InvalidAlgorithm => "the token must be signed with HS256",
                ErrorKind::MissingRequiredClaim(_) => "the token lacks a required claim",
                _ => "the token is malformed",
            })
        })?;
        let user = uuid::Uuid::parse_str(&data.claims.sub)
            .map_err(|_| ApiError::Unauthorized("the token's sub is not a UUID"))?;
        Ok(Caller {
            user: UserId::from(user),
            admin: data.claims.role.as_deref() == Some(ADMIN_ROLE),
        })
    }
}

/// Requests per user: a GCRA bucket refilled at `per_minute`, holding at most `burst`.
pub struct UserRateLimiter {
    limiter: DefaultKeyedRateLimiter<UserId>,
    clock: DefaultClock,
}

impl fmt::Debug for UserRateLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserRateLimiter").finish_non_exhaustive()
    }
}

impl UserRateLimiter {
    pub fn new(per_minute: NonZeroU32, burst: NonZeroU32) -> Self {
        Self {
            limiter: governor::RateLimiter::keyed(Quota::per_minute(per_minute).allow_burst(burst)),
            clock: DefaultClock::default(),
        }
    }

    /// Takes one request from the user's bucket, or says how long to wait (whole seconds).
    pub fn check(&self, user: UserId) -> Result<(), ApiError> {
        self.limiter.check_key(&user).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            ApiError::RateLimited {
                retry_after_secs: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
            }
        })
    }

    /// Forgets users whose bucket is full again (call periodically to bound memory).
    pub fn forget_idle(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

/// What the auth middleware needs.
#[derive(Debug, Clone)]
pub struct Guard {
    pub auth: Arc<Authenticator>,
    pub limiter: Arc<UserRateLimiter>,
}

/// Authenticates every `/api/**` request (401), then applies the caller's rate limit (429),
/// and hands the [`Caller`] to the handler.
pub async fn authenticate(
    State(guard): State<Guard>,
    mut req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let caller = guard.auth.verify(req.headers())?;
    guard.limiter.check(caller.user)?;
    tracing::Span::current().record("user", tracing::field::display(caller.user));
    req.extensions_mut().insert(caller);
    Ok(next.run(req).await)
}
