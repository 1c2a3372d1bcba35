//! Idempotency keys: claim, complete, release, expiry of completed and stale claims.

use chrono::Duration;
use viewing_domain::ports::{IdempotencyClaim, Store, StoredResponse};

use crate::Probe;
use crate::fixtures::*;

const TTL: Duration = Duration::hours(24);
const STALE: Duration = Duration::minutes(5);

fn response() -> StoredResponse {
    StoredResponse {
        status: 201,
        location: Some("/api/viewing/records/0190".to_owned()),
        body: b"{\"id\":\"x\",\"bytes\":\"\xff\x00\"}".to_vec(),
    }
}

pub async fn idempotency_claim_complete_release<S: Store + Probe>(store: S) {
    let (u, other) = (user(), user());
    let t0 = minute(0);
    let claim = |who, key: &'static str, now| {
        let store = store.clone();
        async move {
            store
                .claim_idempotency_key(who, key, now, TTL, STALE)
                .await
                .expect("claim")
        }
    };
    assert_eq!(claim(u, "k1", t0).await, IdempotencyClaim::Claimed);
    assert_eq!(
        claim(u, "k1", t0 + Duration::seconds(1)).await,
        IdempotencyClaim::InProgress
    );
    // Keys are per user.
    assert_eq!(claim(other, "k1", t0).await, IdempotencyClaim::Claimed);

    let r = response();
    store
        .complete_idempotency_key(u, "k1", &r, t0 + Duration::seconds(2))
        .await
        .expect("complete");
    assert_eq!(
        claim(u, "k1", t0 + Duration::hours(1)).await,
        IdempotencyClaim::Completed(r.clone())
    );
    let no_location = StoredResponse {
        status: 200,
        location: None,
        body: Vec::new(),
    };
    store
        .complete_idempotency_key(other, "k1", &no_location, t0)
        .await
        .expect("complete");
    assert_eq!(
        claim(other, "k1", t0 + Duration::seconds(3)).await,
        IdempotencyClaim::Completed(no_location)
    );

    // A released claim can be claimed again at once.
    assert_eq!(claim(u, "k2", t0).await, IdempotencyClaim::Claimed);
    store
        .release_idempotency_key(u, "k2")
        .await
        .expect("release");
    assert_eq!(
        claim(u, "k2", t0 + Duration::seconds(1)).await,
        IdempotencyClaim::Claimed
    );
    store
        .release_idempotency_key(u, "never-claimed")
        .await
        .expect("release unknown");
}

pub async fn idempotency_expiry<S: Store + Probe>(store: S) {
    let u = user();
    let t0 = minute(0);
    let claim = |key: &'static str, now| {
        let store = store.clone();
        async move {
            store
                .claim_idempotency_key(u, key, now, TTL, STALE)
                .await
                .expect("claim")
        }
    };
    // A claim left running longer than `stale_after` (a crashed request) is taken over.
    assert_eq!(claim("crashed", t0).await, IdempotencyClaim::Claimed);
    assert_eq!(
        claim("crashed", t0 + STALE - Duration::seconds(1)).await,
        IdempotencyClaim::InProgress
    );
    assert_eq!(
        claim("crashed", t0 + STALE).await,
        IdempotencyClaim::Claimed
    );
    assert_eq!(
        claim("crashed", t0 + STALE + Duration::seconds(1)).await,
        IdempotencyClaim::InProgress,
        "the takeover is a fresh claim"
    );

    // A completed key answers for `ttl` after completion, then is claimable again.
    let done = t0 + Duration::minutes(1);
    assert_eq!(claim("done", t0).await, IdempotencyClaim::Claimed);
    store
        .complete_idempotency_key(u, "done", &response(), done)
        .await
        .expect("complete");
    assert_eq!(
        claim("done", done + TTL - Duration::seconds(1)).await,
        IdempotencyClaim::Completed(response())
    );
    assert_eq!(claim("done", done + TTL).await, IdempotencyClaim::Claimed);
    assert_eq!(
        claim("done", done + TTL + Duration::seconds(1)).await,
        IdempotencyClaim::InProgress
    );
}
