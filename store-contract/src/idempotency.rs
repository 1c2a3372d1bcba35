//! Idempotency keys: every store loads, decides (through the domain's `decide`) and claims
//! atomically; binding to the request, replay, release, expiry of answers and stale claims.

use chrono::{DateTime, Duration, Utc};
use viewing_domain::UserId;
use viewing_domain::idempotency::{
    Decision, IdempotencyKey, IdempotencyPolicy, RequestFingerprint, StoredResponse,
};
use viewing_domain::ports::Store;

use crate::Probe;
use crate::fixtures::*;

const POLICY: IdempotencyPolicy = IdempotencyPolicy {
    ttl: Duration::hours(24),
    stale_after: Duration::minutes(5),
};

fn response() -> StoredResponse {
    StoredResponse {
        status: 201,
        location: Some("/api/viewing/records/0190".to_owned()),
        body: b"{\"id\":\"x\",\"bytes\":\"\xff\x00\"}".to_vec(),
    }
}

fn key(k: &str) -> IdempotencyKey {
    IdempotencyKey::parse(k).expect("valid key")
}

fn request(method: &str, path: &str, body: &[u8]) -> RequestFingerprint {
    RequestFingerprint {
        method: method.to_owned(),
        path: path.to_owned(),
        // Stands for a SHA-256: any bytes, including NUL and high bytes, round-trip.
        body_digest: [body, b"\x00\xff"].concat(),
    }
}

fn watch() -> RequestFingerprint {
    request("POST", "/api/viewing/movies/1/watched", b"{}")
}

async fn claim<S: Store>(
    store: &S,
    who: UserId,
    k: &str,
    req: &RequestFingerprint,
    now: DateTime<Utc>,
) -> Decision {
    store
        .claim_idempotency_key(who, &key(k), req, now, POLICY)
        .await
        .expect("claim")
}

pub async fn idempotency_claim_complete_release<S: Store + Probe>(store: S) {
    let (u, other) = (user(), user());
    let t0 = minute(0);
    let s = |n| t0 + Duration::seconds(n);

    assert_eq!(claim(&store, u, "k1", &watch(), t0).await, Decision::Fresh);
    assert_eq!(
        claim(&store, u, "k1", &watch(), s(1)).await,
        Decision::InFlight
    );
    let elsewhere = request("POST", "/api/viewing/movies/2/watched", b"{}");
    assert_eq!(
        claim(&store, u, "k1", &elsewhere, s(1)).await,
        Decision::Reused,
        "another path while the first runs"
    );
    // Keys are per user.
    assert_eq!(
        claim(&store, other, "k1", &elsewhere, t0).await,
        Decision::Fresh
    );

    let r = response();
    store
        .complete_idempotency_key(u, &key("k1"), &r, s(2))
        .await
        .expect("complete");
    assert_eq!(
        claim(&store, u, "k1", &watch(), t0 + Duration::hours(1)).await,
        Decision::Replay(r.clone())
    );
    for (what, req) in [
        ("path", elsewhere.clone()),
        (
            "body",
            request("POST", "/api/viewing/movies/1/watched", b"{\"a\":1}"),
        ),
        (
            "method",
            request("PATCH", "/api/viewing/movies/1/watched", b"{}"),
        ),
    ] {
        assert_eq!(
            claim(&store, u, "k1", &req, s(3)).await,
            Decision::Reused,
            "another {what}"
        );
    }
    // Refusals change nothing: the first request still replays.
    assert_eq!(
        claim(&store, u, "k1", &watch(), s(4)).await,
        Decision::Replay(r.clone())
    );
    // A kept answer is never released.
    store
        .release_idempotency_key(u, &key("k1"))
        .await
        .expect("release");
    assert_eq!(
        claim(&store, u, "k1", &watch(), s(5)).await,
        Decision::Replay(r.clone())
    );

    let no_location = StoredResponse {
        status: 200,
        location: None,
        body: Vec::new(),
    };
    store
        .complete_idempotency_key(other, &key("k1"), &no_location, t0)
        .await
        .expect("complete");
    assert_eq!(
        claim(&store, other, "k1", &elsewhere, s(3)).await,
        Decision::Replay(no_location)
    );

    // A released claim is free at once, for any request: a corrected retry runs.
    assert_eq!(claim(&store, u, "k2", &watch(), t0).await, Decision::Fresh);
    store
        .release_idempotency_key(u, &key("k2"))
        .await
        .expect("release");
    let corrected = request("POST", "/api/viewing/movies/1/watched", b"{\"fixed\":true}");
    assert_eq!(
        claim(&store, u, "k2", &corrected, s(1)).await,
        Decision::Fresh
    );
    assert_eq!(
        claim(&store, u, "k2", &watch(), s(2)).await,
        Decision::Reused,
        "the key is now bound to the corrected request"
    );
    store
        .release_idempotency_key(u, &key("never-claimed"))
        .await
        .expect("release unknown");
    // Completing a key nobody holds keeps nothing.
    store
        .complete_idempotency_key(u, &key("never-claimed"), &response(), t0)
        .await
        .expect("complete unknown");
    assert_eq!(
        claim(&store, u, "never-claimed", &watch(), s(1)).await,
        Decision::Fresh
    );
}

pub async fn idempotency_expiry<S: Store + Probe>(store: S) {
    let u = user();
    let t0 = minute(0);
    let stale = POLICY.stale_after;
    // A claim left running longer than `stale_after` (a crashed request) is taken over, by any
    // request.
    assert_eq!(
        claim(&store, u, "crashed", &watch(), t0).await,
        Decision::Fresh
    );
    assert_eq!(
        claim(
            &store,
            u,
            "crashed",
            &watch(),
            t0 + stale - Duration::seconds(1)
        )
        .await,
        Decision::InFlight
    );
    let another = request("POST", "/api/viewing/7/abandon", b"{}");
    assert_eq!(
        claim(&store, u, "crashed", &another, t0 + stale).await,
        Decision::TakeOverStale
    );
    assert_eq!(
        claim(
            &store,
            u,
            "crashed",
            &another,
            t0 + stale + Duration::seconds(1)
        )
        .await,
        Decision::InFlight,
        "the takeover is a fresh claim"
    );
    assert_eq!(
        claim(
            &store,
            u,
            "crashed",
            &watch(),
            t0 + stale + Duration::seconds(1)
        )
        .await,
        Decision::Reused,
        "bound to the request that took it over"
    );

    // A kept answer replays for `ttl` after completion, then the key is claimable again.
    let done = t0 + Duration::minutes(1);
    assert_eq!(
        claim(&store, u, "done", &watch(), t0).await,
        Decision::Fresh
    );
    store
        .complete_idempotency_key(u, &key("done"), &response(), done)
        .await
        .expect("complete");
    assert_eq!(
        claim(
            &store,
            u,
            "done",
            &watch(),
            done + POLICY.ttl - Duration::seconds(1)
        )
        .await,
        Decision::Replay(response())
    );
    assert_eq!(
        claim(&store, u, "done", &another, done + POLICY.ttl).await,
        Decision::Expired
    );
    assert_eq!(
        claim(
            &store,
            u,
            "done",
            &another,
            done + POLICY.ttl + Duration::seconds(1)
        )
        .await,
        Decision::InFlight
    );
}

/// Requests racing with one key decide one after the other: exactly one claims it, the others
/// see it in flight (same request) or bound to another request.
pub async fn idempotency_concurrent_claims<S: Store + Probe>(store: S) {
    const RACERS: usize = 8;
    let u = user();
    let now = minute(0);
    for (k, vary) in [("same", false), ("different", true)] {
        let mut tasks = Vec::new();
        for i in 0..RACERS {
            let store = store.clone();
            let req = if vary {
                request("POST", "/p", format!("{i}").as_bytes())
            } else {
                watch()
            };
            tasks.push(tokio::spawn(async move {
                store
                    .claim_idempotency_key(u, &key(k), &req, now, POLICY)
                    .await
                    .expect("claim")
            }));
        }
        let mut decisions = Vec::new();
        for t in tasks {
            decisions.push(t.await.expect("task"));
        }
        let claimed = decisions.iter().filter(|d| d.claims()).count();
        assert_eq!(claimed, 1, "{k}: {decisions:?}");
        let expected_other = if vary {
            Decision::Reused
        } else {
            Decision::InFlight
        };
        assert!(
            decisions
                .iter()
                .all(|d| *d == Decision::Fresh || *d == expected_other),
            "{k}: {decisions:?}"
        );
    }
}
