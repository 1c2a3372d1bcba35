//! Bearer tokens (HS256 JWT, SPEC §3 and §9) and the rate limits: one per user for
//! authenticated requests, one per client address for requests without a valid token.
//!
//! Clock leeway: `exp` and `nbf` are checked with [`CLOCK_LEEWAY_SECS`] (5 s) of tolerance for
//! clock skew between the token issuer and this server, no more. A token whose `exp` lies more
//! than 5 s in the past is expired; one whose `nbf` (optional) lies more than 5 s in the future
//! is not valid yet. Both answer 401.

use std::fmt;
use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use axum::extract::{ConnectInfo, Request, State};
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
/// catalog writes. An `nbf` claim, when present, is honoured by the validation (with the same
/// [`CLOCK_LEEWAY_SECS`] as `exp`).
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

/// Seconds of clock skew tolerated on `exp` and `nbf` (SPEC §9: at most 5 s, documented).
pub const CLOCK_LEEWAY_SECS: u64 = 5;

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
        validation.leeway = CLOCK_LEEWAY_SECS;
        validation.validate_exp = true;
        validation.validate_nbf = true;
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
                ErrorKind::ImmatureSignature => "the token is not yet valid (nbf)",
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

/// Requests per key (a user, a client address): a GCRA bucket refilled at `per_minute`,
/// holding at most `burst`.
pub struct KeyedRateLimiter<K: Hash + Eq + Clone> {
    limiter: DefaultKeyedRateLimiter<K>,
    clock: DefaultClock,
}

/// The per-user limit of authenticated requests (SPEC §3).
pub type UserRateLimiter = KeyedRateLimiter<UserId>;

impl<K: Hash + Eq + Clone> fmt::Debug for KeyedRateLimiter<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyedRateLimiter").finish_non_exhaustive()
    }
}

impl<K: Hash + Eq + Clone> KeyedRateLimiter<K> {
    pub fn new(per_minute: NonZeroU32, burst: NonZeroU32) -> Self {
        Self {
            limiter: governor::RateLimiter::keyed(Quota::per_minute(per_minute).allow_burst(burst)),
            clock: DefaultClock::default(),
        }
    }

    /// Takes one request from the key's bucket, or says how long to wait (whole seconds).
    pub fn check(&self, key: &K) -> Result<(), ApiError> {
        self.limiter.check_key(key).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            ApiError::RateLimited {
                retry_after_secs: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
            }
        })
    }

    /// Forgets keys whose bucket is full again (call periodically to bound memory).
    pub fn forget_idle(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

/// The per-address limit of requests that bring no valid token (SPEC §9), so that guessing
/// tokens or hammering the API without one costs the caller, not the server. Only requests
/// about to be answered 401 take from it; it forgets idle addresses by itself, every
/// [`AddressRateLimiter::SWEEP_EVERY`] checks, so a flood from many addresses stays bounded.
#[derive(Debug)]
pub struct AddressRateLimiter {
    limiter: KeyedRateLimiter<IpAddr>,
    checks: AtomicU32,
}

impl AddressRateLimiter {
    /// Checks between two sweeps of idle addresses.
    pub const SWEEP_EVERY: u32 = 1024;

    pub fn new(per_minute: NonZeroU32, burst: NonZeroU32) -> Self {
        Self {
            limiter: KeyedRateLimiter::new(per_minute, burst),
            checks: AtomicU32::new(0),
        }
    }

    /// Takes one request from the bucket of `peer`'s address (IPv6 addresses by their /64,
    /// which one client usually holds whole), or says how long to wait.
    pub fn check(&self, peer: IpAddr) -> Result<(), ApiError> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % Self::SWEEP_EVERY == Self::SWEEP_EVERY - 1
        {
            self.limiter.forget_idle();
        }
        self.limiter.check(&client_key(peer))
    }
}

/// The rate-limit key of an address: IPv4 (and IPv4-mapped IPv6) as is, IPv6 by its /64.
fn client_key(peer: IpAddr) -> IpAddr {
    match peer {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

/// What the auth middleware needs.
#[derive(Debug, Clone)]
pub struct Guard {
    pub auth: Arc<Authenticator>,
    pub limiter: Arc<UserRateLimiter>,
    pub anonymous: Arc<AddressRateLimiter>,
}

/// Authenticates every `/api/**` request, then applies the caller's rate limit (429), and
/// hands the [`Caller`] to the handler. A request without a valid token takes from its client
/// address's bucket first: 429 once that is empty, else 401.
pub async fn authenticate(
    State(guard): State<Guard>,
    mut req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let caller = match guard.auth.verify(req.headers()) {
        Ok(caller) => caller,
        Err(refused) => {
            guard.anonymous.check(peer_ip(&req))?;
            return Err(refused);
        }
    };
    guard.limiter.check(&caller.user)?;
    tracing::Span::current().record("user", tracing::field::display(caller.user));
    req.extensions_mut().insert(caller);
    Ok(next.run(req).await)
}

/// The client's address, as the listener saw it (`ConnectInfo<SocketAddr>`). A router served
/// without connect info (in-process tests) puts every caller behind one unspecified address.
pub(crate) fn peer_ip(req: &Request) -> IpAddr {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V6(Ipv6Addr::UNSPECIFIED), |ConnectInfo(addr)| {
            addr.ip()
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use serde_json::json;

    const SECRET: &[u8] = b"unit-test-secret-0123456789abcdef";

    fn verify(claims: &serde_json::Value) -> Result<Caller, ApiError> {
        let token = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            claims,
            &EncodingKey::from_secret(SECRET),
        )
        .unwrap_or_else(|e| panic!("sign: {e}"));
        let mut headers = HeaderMap::new();
        let value = HeaderValue::from_str(&format!("Bearer {token}"))
            .unwrap_or_else(|e| panic!("header: {e}"));
        headers.insert(header::AUTHORIZATION, value);
        Authenticator::new(&JwtSecret::new(SECRET)).verify(&headers)
    }

    fn detail(result: Result<Caller, ApiError>) -> &'static str {
        match result {
            Err(ApiError::Unauthorized(detail)) => detail,
            other => panic!("expected 401, got {other:?}"),
        }
    }

    #[test]
    fn expiry_has_at_most_five_seconds_of_leeway() {
        let sub = uuid::Uuid::new_v4().to_string();
        let now = Utc::now().timestamp();
        assert!(verify(&json!({ "sub": sub, "exp": now + 60 })).is_ok());
        // Within the leeway: clock skew is forgiven.
        assert!(verify(&json!({ "sub": sub, "exp": now - 2 })).is_ok());
        // Beyond it: expired (the old 30 s leeway accepted these).
        for ago in [7, 10, 29] {
            assert_eq!(
                detail(verify(&json!({ "sub": sub, "exp": now - ago }))),
                "the token has expired",
                "exp {ago} s ago"
            );
        }
    }

    #[test]
    fn nbf_is_honoured_when_present() {
        let sub = uuid::Uuid::new_v4().to_string();
        let now = Utc::now().timestamp();
        let exp = now + 3600;
        assert!(verify(&json!({ "sub": sub, "exp": exp, "nbf": now - 60 })).is_ok());
        assert!(verify(&json!({ "sub": sub, "exp": exp, "nbf": now + 2 })).is_ok());
        for ahead in [10, 60, 3600] {
            assert_eq!(
                detail(verify(
                    &json!({ "sub": sub, "exp": exp, "nbf": now + ahead })
                )),
                "the token is not yet valid (nbf)",
                "nbf in {ahead} s"
            );
        }
        assert_eq!(
            detail(verify(&json!({ "sub": sub, "exp": exp, "nbf": "soon" }))),
            "the token is malformed"
        );
    }

    #[test]
    fn each_address_has_its_own_bucket() {
        let n = |v| NonZeroU32::new(v).unwrap_or(NonZeroU32::MIN);
        let limiter = AddressRateLimiter::new(n(1), n(2));
        let a: IpAddr = [192, 0, 2, 1].into();
        let b: IpAddr = [192, 0, 2, 2].into();
        assert!(limiter.check(a).is_ok());
        assert!(limiter.check(a).is_ok());
        match limiter.check(a) {
            Err(ApiError::RateLimited { retry_after_secs }) => {
                assert!((1..=60).contains(&retry_after_secs), "{retry_after_secs}");
            }
            other => panic!("expected 429, got {other:?}"),
        }
        assert!(limiter.check(b).is_ok());
        // IPv4-mapped IPv6 is the same client as the IPv4 address.
        let mapped = IpAddr::V6(std::net::Ipv4Addr::new(192, 0, 2, 1).to_ipv6_mapped());
        assert!(limiter.check(mapped).is_err());
    }

    #[test]
    fn ipv6_clients_are_keyed_by_their_64_prefix() {
        let ip = |s: &str| -> IpAddr { s.parse().unwrap_or_else(|e| panic!("{s}: {e}")) };
        let (one, same, other) = (
            ip("2001:db8:1:2::1"),
            ip("2001:db8:1:2:ffff::9"),
            ip("2001:db8:1:3::1"),
        );
        assert_eq!(client_key(one), client_key(same));
        assert_ne!(client_key(one), client_key(other));
    }
}
