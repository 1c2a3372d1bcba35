//! `Idempotency-Key` (SPEC §3): what a key is, what it is bound to, and the one decision every
//! store takes when a request arrives with one.
//!
//! A key belongs to a user and is bound to the request that first used it — method, path and a
//! digest of the body ([`RequestFingerprint`]). The stores only load and write the key's row
//! atomically; whether the request runs, replays, or is refused is [`decide`], here, once.

use chrono::{DateTime, Duration, Utc};
use thiserror::Error;

/// Longest key accepted, in characters.
pub const MAX_KEY_LEN: usize = 255;

/// A client's `Idempotency-Key`: 1 to 255 printable ASCII characters (`' '`..=`'~'`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IdempotencyKey(String);

/// Why a header value is not an [`IdempotencyKey`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("Idempotency-Key must be 1 to {MAX_KEY_LEN} printable ASCII characters")]
pub struct InvalidIdempotencyKey;

impl IdempotencyKey {
    /// A key as sent in the `Idempotency-Key` header: 1 to 255 printable ASCII characters.
    pub fn parse(raw: &str) -> Result<Self, InvalidIdempotencyKey> {
        let printable = raw.bytes().all(|b| (b' '..=b'~').contains(&b));
        if raw.is_empty() || raw.len() > MAX_KEY_LEN || !printable {
            return Err(InvalidIdempotencyKey);
        }
        Ok(Self(raw.to_owned()))
    }

    /// The key as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a key is bound to: the request's method, path and a digest of its body (the HTTP
/// adapter hashes the raw bytes; the domain only compares). Two requests are "the same" exactly
/// when their fingerprints are equal.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RequestFingerprint {
    /// The HTTP method.
    pub method: String,
    /// The request target: the path, with its query when it has one (`/api/imports?dryRun=true`
    /// is another request than `/api/imports`).
    pub path: String,
    /// A digest of the raw body; equal bodies give equal digests.
    pub body_digest: Vec<u8>,
}

/// The answer a request produced, kept so a repeat of its key gets it again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    /// The HTTP status.
    pub status: u16,
    /// The `Location` header, if the answer had one.
    pub location: Option<String>,
    /// The body, byte for byte.
    pub body: Vec<u8>,
}

/// A kept answer and when it was kept (the lifetime counts from then).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completed {
    /// When the answer was kept.
    pub at: DateTime<Utc>,
    /// The answer.
    pub response: StoredResponse,
}

/// What a store holds for one user's key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRow {
    /// The request the key is bound to.
    pub request: RequestFingerprint,
    /// When the running (or last) request claimed the key.
    pub claimed_at: DateTime<Utc>,
    /// `None` while the request runs.
    pub completed: Option<Completed>,
}

impl KeyRow {
    /// The row a store writes when a [`Decision`] claims the key.
    pub fn claim(request: RequestFingerprint, now: DateTime<Utc>) -> Self {
        Self {
            request,
            claimed_at: now,
            completed: None,
        }
    }
}

/// How long keys live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdempotencyPolicy {
    /// How long a kept answer is replayed (SPEC: 24 h).
    pub ttl: Duration,
    /// A claim running this long belongs to a crashed request and may be taken over.
    pub stale_after: Duration,
}

impl Default for IdempotencyPolicy {
    fn default() -> Self {
        Self {
            ttl: Duration::hours(24),
            stale_after: Duration::minutes(2),
        }
    }
}

/// What to do with a request that carries a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The key was unknown: the request owns it now.
    Fresh,
    /// The key's request stopped without an answer long ago (crashed): this request owns it now.
    TakeOverStale,
    /// The key's answer is older than the lifetime: this request owns it now.
    Expired,
    /// The same request was answered within the lifetime: answer this again, run nothing.
    Replay(StoredResponse),
    /// The key is bound to another method, path or body: 422 `idempotency-key-reused`.
    Reused,
    /// The same request is still running: 409 `idempotency-in-flight`.
    InFlight,
}

impl Decision {
    /// True when the request now owns the key: the store writes [`KeyRow::claim`], and the caller
    /// runs the request, then completes or releases the key.
    pub fn claims(&self) -> bool {
        matches!(
            self,
            Decision::Fresh | Decision::TakeOverStale | Decision::Expired
        )
    }
}

/// The one idempotency decision, given the key's stored row (if any).
///
/// A row past its lifetime (an answer older than `ttl`, a claim older than `stale_after`) no
/// longer binds the key, whatever request it was for. A live row binds it: another fingerprint
/// is [`Decision::Reused`] (checked first: waiting would not help), the same one replays the
/// answer or, while it runs, is [`Decision::InFlight`].
pub fn decide(
    existing: Option<&KeyRow>,
    request: &RequestFingerprint,
    now: DateTime<Utc>,
    policy: IdempotencyPolicy,
) -> Decision {
    let Some(row) = existing else {
        return Decision::Fresh;
    };
    let live = match &row.completed {
        Some(done) => now - done.at < policy.ttl,
        None => now - row.claimed_at < policy.stale_after,
    };
    if !live {
        return match row.completed {
            Some(_) => Decision::Expired,
            None => Decision::TakeOverStale,
        };
    }
    if row.request != *request {
        return Decision::Reused;
    }
    match &row.completed {
        Some(done) => Decision::Replay(done.response.clone()),
        None => Decision::InFlight,
    }
}

/// Only successful answers are kept: a 4xx or 5xx releases the key, so a corrected retry runs.
pub fn worth_keeping(status: u16) -> bool {
    (200..300).contains(&status)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 10, 20, 0, 0)
            .single()
            .expect("valid instant")
    }

    fn post(path: &str, body: &[u8]) -> RequestFingerprint {
        RequestFingerprint {
            method: "POST".to_owned(),
            path: path.to_owned(),
            body_digest: body.to_vec(),
        }
    }

    fn answer() -> StoredResponse {
        StoredResponse {
            status: 201,
            location: Some("/api/viewing/records/1".to_owned()),
            body: b"{}".to_vec(),
        }
    }

    fn running(request: RequestFingerprint, since: DateTime<Utc>) -> KeyRow {
        KeyRow::claim(request, since)
    }

    fn done(request: RequestFingerprint, at: DateTime<Utc>) -> KeyRow {
        KeyRow {
            request,
            claimed_at: at - Duration::seconds(1),
            completed: Some(Completed {
                at,
                response: answer(),
            }),
        }
    }

    const P: IdempotencyPolicy = IdempotencyPolicy {
        ttl: Duration::hours(24),
        stale_after: Duration::minutes(2),
    };

    #[test]
    fn given_an_unknown_key_when_a_request_comes_then_it_claims_the_key() {
        let d = decide(None, &post("/a", b"x"), t0(), P);
        assert_eq!(d, Decision::Fresh);
        assert!(d.claims());
    }

    #[test]
    fn given_an_answered_key_when_the_same_request_comes_within_24h_then_it_replays() {
        let row = done(post("/a", b"x"), t0());
        let later = t0() + P.ttl - Duration::seconds(1);
        let d = decide(Some(&row), &post("/a", b"x"), later, P);
        assert_eq!(d, Decision::Replay(answer()));
        assert!(!d.claims());
    }

    #[test]
    fn given_an_answered_key_when_24h_have_passed_then_it_is_claimed_again() {
        let row = done(post("/a", b"x"), t0());
        let d = decide(Some(&row), &post("/a", b"x"), t0() + P.ttl, P);
        assert_eq!(d, Decision::Expired);
        assert!(d.claims());
        // Whatever request it is for: the old binding is gone.
        let d = decide(Some(&row), &post("/b", b"y"), t0() + P.ttl, P);
        assert_eq!(d, Decision::Expired);
    }

    #[test]
    fn given_an_answered_key_when_another_path_or_body_or_method_comes_then_it_is_reused() {
        let row = done(post("/a", b"x"), t0());
        let now = t0() + Duration::minutes(1);
        assert_eq!(
            decide(Some(&row), &post("/b", b"x"), now, P),
            Decision::Reused
        );
        assert_eq!(
            decide(Some(&row), &post("/a", b"y"), now, P),
            Decision::Reused
        );
        let patch = RequestFingerprint {
            method: "PATCH".to_owned(),
            ..post("/a", b"x")
        };
        assert_eq!(decide(Some(&row), &patch, now, P), Decision::Reused);
    }

    #[test]
    fn given_a_running_key_when_the_same_request_comes_then_it_is_in_flight() {
        let row = running(post("/a", b"x"), t0());
        let d = decide(
            Some(&row),
            &post("/a", b"x"),
            t0() + P.stale_after - Duration::seconds(1),
            P,
        );
        assert_eq!(d, Decision::InFlight);
        assert!(!d.claims());
    }

    #[test]
    fn given_a_running_key_when_another_request_comes_then_it_is_reused_not_in_flight() {
        let row = running(post("/a", b"x"), t0());
        let d = decide(Some(&row), &post("/a", b"z"), t0(), P);
        assert_eq!(d, Decision::Reused);
    }

    #[test]
    fn given_a_claim_left_running_too_long_when_a_request_comes_then_it_takes_over() {
        let row = running(post("/a", b"x"), t0());
        let d = decide(Some(&row), &post("/a", b"x"), t0() + P.stale_after, P);
        assert_eq!(d, Decision::TakeOverStale);
        assert!(d.claims());
    }

    #[test]
    fn only_2xx_answers_are_kept() {
        for s in [200, 201, 204, 299] {
            assert!(worth_keeping(s), "{s}");
        }
        for s in [100, 199, 300, 304, 400, 404, 409, 422, 429, 500, 503] {
            assert!(!worth_keeping(s), "{s}");
        }
    }

    #[test]
    fn keys_are_1_to_255_printable_ascii_characters() {
        for ok in [
            "a",
            "k-1",
            "walk through 1",
            "~!@#$%^&*()",
            &"x".repeat(255),
        ] {
            assert_eq!(
                IdempotencyKey::parse(ok).map(|k| k.as_str().to_owned()),
                Ok(ok.to_owned())
            );
        }
        for bad in [
            "",
            &"x".repeat(256),
            "clé",
            "tab\there",
            "nul\0",
            "del\u{7f}",
            "😀",
        ] {
            assert_eq!(
                IdempotencyKey::parse(bad),
                Err(InvalidIdempotencyKey),
                "{bad:?}"
            );
        }
    }

    fn fingerprint() -> impl Strategy<Value = RequestFingerprint> {
        (
            prop_oneof![Just("POST"), Just("PATCH")],
            prop_oneof![Just("/a"), Just("/b")],
            proptest::collection::vec(0u8..3, 0..2),
        )
            .prop_map(|(m, p, b)| RequestFingerprint {
                method: m.to_owned(),
                path: p.to_owned(),
                body_digest: b,
            })
    }

    fn row() -> impl Strategy<Value = KeyRow> {
        (
            fingerprint(),
            -300i64..300,
            proptest::option::of(-200_000i64..200_000),
        )
            .prop_map(|(request, claimed, completed)| KeyRow {
                request,
                claimed_at: t0() + Duration::seconds(claimed),
                completed: completed.map(|c| Completed {
                    at: t0() + Duration::seconds(c),
                    response: answer(),
                }),
            })
    }

    proptest! {
        /// Whatever is stored: a live binding is never claimed over and never answers another
        /// request's document; a request only replays its own answer; a dead row always yields.
        #[test]
        fn a_live_key_only_ever_answers_its_own_request(
            existing in row(),
            request in fingerprint(),
            ttl in 1i64..100_000,
            stale in 1i64..300,
        ) {
            let policy = IdempotencyPolicy {
                ttl: Duration::seconds(ttl),
                stale_after: Duration::seconds(stale),
            };
            let now = t0();
            let d = decide(Some(&existing), &request, now, policy);
            let live = match &existing.completed {
                Some(c) => now - c.at < policy.ttl,
                None => now - existing.claimed_at < policy.stale_after,
            };
            prop_assert_eq!(d.claims(), !live);
            match &d {
                Decision::Replay(r) => {
                    prop_assert_eq!(&existing.request, &request);
                    prop_assert_eq!(Some(r), existing.completed.as_ref().map(|c| &c.response));
                }
                Decision::InFlight => {
                    prop_assert_eq!(&existing.request, &request);
                    prop_assert!(existing.completed.is_none());
                }
                Decision::Reused => prop_assert_ne!(&existing.request, &request),
                Decision::Fresh => prop_assert!(false, "a stored row is never fresh"),
                Decision::TakeOverStale => prop_assert!(existing.completed.is_none()),
                Decision::Expired => prop_assert!(existing.completed.is_some()),
            }
            // The decision depends on the request only through equality with the binding.
            let same = decide(Some(&existing), &existing.request, now, policy);
            prop_assert!(!matches!(same, Decision::Reused | Decision::Fresh));
        }

        /// Claiming and then completing makes the same request replay until the lifetime ends,
        /// and any other request is refused meanwhile.
        #[test]
        fn a_claimed_then_completed_key_replays_for_its_lifetime(
            request in fingerprint(),
            other in fingerprint(),
            after in 0i64..200_000,
        ) {
            prop_assert_eq!(decide(None, &request, t0(), P), Decision::Fresh);
            let row = KeyRow {
                completed: Some(Completed { at: t0(), response: answer() }),
                ..KeyRow::claim(request.clone(), t0())
            };
            let now = t0() + Duration::seconds(after);
            let expected = if Duration::seconds(after) < P.ttl {
                Decision::Replay(answer())
            } else {
                Decision::Expired
            };
            prop_assert_eq!(decide(Some(&row), &request, now, P), expected.clone());
            let for_other = decide(Some(&row), &other, now, P);
            if other == request || expected == Decision::Expired {
                prop_assert_eq!(for_other, expected);
            } else {
                prop_assert_eq!(for_other, Decision::Reused);
            }
        }
    }
}
