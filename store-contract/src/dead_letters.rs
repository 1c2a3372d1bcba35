//! The relay never stalls (SPEC §9): leases renewed while a batch is delivered, and dead
//! letters — an event whose payload cannot be read, or that failed too often, is parked out of
//! the way and can be retried. Run by [`crate::event_contract_tests!`] for every store.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use async_trait::async_trait;
use chrono::Duration;
use viewing_app::handlers::{EventHandler, HandlerContext};
use viewing_app::relay::{Relay, RelayConfig};
use viewing_app::{AppError, AppResult, UuidV7, ViewingService};
use viewing_domain::event_ports::{ClaimToken, PendingBody, RelayChannel};
use viewing_domain::events::{DomainEvent, EventEnvelope};
use viewing_domain::ports::{Store, UnitOfWork};
use viewing_domain::{EventId, RulesConfig, UserId};

use crate::Probe;
use crate::fixtures::*;

const H: RelayChannel = RelayChannel::Handlers;

/// The envelope of `e` as the build before `schemaVersion` wrote it (no version field).
fn legacy_json(e: &EventEnvelope) -> String {
    let DomainEvent::AchievementUnlocked(a) = &e.event else {
        panic!("legacy_json is for AchievementUnlocked");
    };
    let at =
        |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    format!(
        r#"{{"eventId":"{}","occurredAt":"{}","userId":"{}","eventType":"AchievementUnlocked","payload":{{"achievement":"{}","title":"{}","unlockedAt":"{}"}}}}"#,
        e.event_id,
        at(e.occurred_at),
        e.user_id,
        a.achievement,
        a.title,
        at(a.unlocked_at)
    )
}

fn service<S: Store>(store: &S) -> ViewingService<S> {
    ViewingService::with_parts(
        store.clone(),
        Arc::new(viewing_app::SystemClock),
        Arc::new(UuidV7),
        RulesConfig::default(),
    )
}

/// Counts what it applies, and fails every event of one user while `failing` is set.
struct Recorder {
    failing_user: UserId,
    failing: Arc<AtomicBool>,
    applied: Arc<AtomicU32>,
}

#[async_trait]
impl<U: UnitOfWork + 'static> EventHandler<U> for Recorder {
    fn name(&self) -> &'static str {
        "Recorder"
    }

    async fn handle(
        &self,
        _uow: &mut U,
        event: &EventEnvelope,
        _ctx: &HandlerContext<'_>,
    ) -> AppResult<()> {
        if event.user_id == self.failing_user && self.failing.load(Ordering::SeqCst) {
            return Err(AppError::Conflict("the recorder refuses this user".into()));
        }
        self.applied.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

/// A payload that cannot be read is parked at once, on the claim that found it: the claim
/// itself does not fail, the user's later events and other users' events are delivered, the
/// dead letter shows the stored text, and a retry makes it due again (parked again while still
/// bad, delivered once fixed). A payload of an unknown future `schemaVersion` is parked too;
/// one without `schemaVersion` (an older build's) reads as version 1.
pub async fn dead_letter_undecodable_payload_is_parked_and_others_flow<S: Store + Probe>(store: S) {
    let (a, b) = (user(), user());
    let events = vec![unlock(a, 1), unlock(a, 2), unlock(b, 3), unlock(b, 4)];
    append(&store, &events).await;
    let garbage = "{\"eventId\": not json at all";
    store
        .replace_outbox_payload(events[0].event_id, garbage)
        .await;
    let future = legacy_json(&events[2]).replacen('{', "{\"schemaVersion\":2,", 1);
    store
        .replace_outbox_payload(events[2].event_id, &future)
        .await;
    let legacy = legacy_json(&events[3]);
    store
        .replace_outbox_payload(events[3].event_id, &legacy)
        .await;

    let claimed = store
        .claim_events(
            H,
            ClaimToken(new_id()),
            minute(10),
            Duration::seconds(5),
            10,
        )
        .await
        .expect("a claim never fails on one unreadable row");
    assert_eq!(claimed.len(), 4);
    assert!(matches!(claimed[0].body, PendingBody::Undecodable { .. }));
    assert_eq!(
        (claimed[0].event_id, claimed[0].user_id),
        (events[0].event_id, a)
    );
    assert_eq!(claimed[1].envelope(), Some(&events[1]));
    match &claimed[2].body {
        PendingBody::Undecodable { reason } => {
            assert!(reason.contains("schemaVersion 2"), "{reason}")
        }
        other => panic!("schemaVersion 2 was read: {other:?}"),
    }
    assert_eq!(
        claimed[3].envelope(),
        Some(&events[3]),
        "no schemaVersion reads as version 1"
    );

    // The claim above (long ago, by the system clock) has expired; the relay parks both
    // unreadable events and delivers the rest.
    let applied = Arc::new(AtomicU32::new(0));
    let relay = Relay::new(&service(&store)).with_handlers(vec![Box::new(Recorder {
        failing_user: user(),
        failing: Arc::default(),
        applied: applied.clone(),
    })]);
    assert_eq!(
        relay.drain().await.expect("drain"),
        2,
        "a's second, b's second"
    );
    assert_eq!(applied.load(Ordering::SeqCst), 2);
    let backlog = store.outbox_backlog(H).await.expect("backlog");
    assert_eq!((backlog.pending, backlog.dead_letters), (0, 2));
    let dead = store.dead_letters(100).await.expect("dead letters");
    assert_eq!(dead.len(), 2, "{dead:?}");
    let first = dead
        .iter()
        .find(|d| d.event_id == events[0].event_id)
        .expect("a's first event is parked");
    assert_eq!(first.channel, H);
    assert_eq!(first.user_id, a);
    assert_eq!(first.event_type, "AchievementUnlocked");
    assert_eq!(first.attempts, 1);
    assert_eq!(first.payload, garbage);
    assert!(
        first
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("undecodable")),
        "{first:?}"
    );
    assert!(dead.iter().any(|d| d.event_id == events[2].event_id));
    assert_eq!(
        store
            .outbox_backlog(RelayChannel::Broker)
            .await
            .expect("backlog")
            .dead_letters,
        0,
        "parked on the handlers channel only"
    );

    // Retrying a still-bad payload: due again, parked again at once.
    let retried = store
        .retry_dead_letter(events[0].event_id, minute(11))
        .await
        .expect("retry");
    assert_eq!(retried, vec![first.clone()]);
    assert_eq!(store.dead_letters(100).await.expect("list").len(), 1);
    assert_eq!(
        store.outbox_backlog(H).await.expect("backlog").pending,
        1,
        "due again"
    );
    assert!(
        store
            .retry_dead_letter(events[0].event_id, minute(11))
            .await
            .expect("retry")
            .is_empty(),
        "not parked any more"
    );
    assert!(
        store
            .retry_dead_letter(events[1].event_id, minute(11))
            .await
            .expect("retry")
            .is_empty(),
        "a delivered event is not a dead letter"
    );
    assert!(
        store
            .retry_dead_letter(EventId::from(new_id()), minute(11))
            .await
            .expect("retry")
            .is_empty()
    );
    assert_eq!(relay.drain().await.expect("drain"), 0);
    let again = store.dead_letters(100).await.expect("list");
    assert_eq!(again.len(), 2);
    assert!(
        again
            .iter()
            .any(|d| d.event_id == events[0].event_id && d.attempts == 1),
        "attempts were reset by the retry: {again:?}"
    );

    // Fixed in the database, then retried: delivered.
    store
        .replace_outbox_payload(events[0].event_id, &legacy_json(&events[0]))
        .await;
    store
        .retry_dead_letter(events[0].event_id, minute(12))
        .await
        .expect("retry");
    assert_eq!(relay.drain().await.expect("drain"), 1);
    assert_eq!(applied.load(Ordering::SeqCst), 3);
    let backlog = store.outbox_backlog(H).await.expect("backlog");
    assert_eq!((backlog.pending, backlog.dead_letters), (0, 1));
}

/// An event that fails `max_attempts` (10) times on a channel is parked at its tenth failure;
/// until then it holds back its user's later events, afterwards it no longer does. Other
/// users' events flow all along. A retry resets the attempts, and a delivery that now succeeds
/// takes it off the list.
pub async fn dead_letter_after_ten_failures<S: Store + Probe>(store: S) {
    let (a, b) = (user(), user());
    let first = vec![unlock(a, 1), unlock(a, 2), unlock(b, 3)];
    append(&store, &first).await;
    let failing = Arc::new(AtomicBool::new(true));
    let applied = Arc::new(AtomicU32::new(0));
    let relay = Relay::new(&service(&store))
        .with_handlers(vec![Box::new(Recorder {
            failing_user: a,
            failing: failing.clone(),
            applied: applied.clone(),
        })])
        .with_config(RelayConfig {
            retry_base: Duration::zero(),
            retry_max: Duration::zero(),
            ..RelayConfig::default()
        });
    assert_eq!(RelayConfig::default().max_attempts, 10);
    for failure in 1..=9 {
        let o = relay.pass(H).await.expect("pass");
        assert_eq!((o.failed, o.parked), (1, 0), "failure {failure}");
        assert!(store.dead_letters(10).await.expect("list").is_empty());
        append(&store, &[unlock(b, 100 + failure)]).await;
    }
    assert_eq!(
        applied.load(Ordering::SeqCst),
        9,
        "b's events flowed while a's first failed; a's second waited"
    );
    let o = relay.pass(H).await.expect("pass");
    assert_eq!(o.parked, 1, "the tenth failure parks");
    // Out of the way at once: a's second event was attempted in the same pass (and failed on
    // its own), b's latest was delivered.
    assert_eq!((o.failed, o.delivered), (2, 1));
    assert_eq!(applied.load(Ordering::SeqCst), 10);
    let dead = store.dead_letters(10).await.expect("list");
    assert_eq!(dead.len(), 1);
    assert_eq!(
        (dead[0].event_id, dead[0].attempts),
        (first[0].event_id, 10)
    );
    assert!(
        dead[0]
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("refuses")),
        "{dead:?}"
    );
    assert!(dead[0].payload.contains(&first[0].event_id.to_string()));

    failing.store(false, Ordering::SeqCst);
    assert_eq!(relay.drain().await.expect("drain"), 1);
    assert_eq!(applied.load(Ordering::SeqCst), 11);

    let retried = store
        .retry_dead_letter(first[0].event_id, chrono::Utc::now())
        .await
        .expect("retry");
    assert_eq!(retried.len(), 1);
    let claimed = store
        .claim_events(
            H,
            ClaimToken(new_id()),
            chrono::Utc::now(),
            Duration::milliseconds(1),
            10,
        )
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 1);
    assert_eq!(
        (claimed[0].event_id, claimed[0].attempts),
        (first[0].event_id, 0),
        "attempts reset"
    );
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    assert_eq!(relay.drain().await.expect("drain"), 1);
    assert!(store.dead_letters(10).await.expect("list").is_empty());
    assert_eq!(applied.load(Ordering::SeqCst), 12);
    let backlog = store.outbox_backlog(H).await.expect("backlog");
    assert_eq!((backlog.pending, backlog.dead_letters), (0, 0));
}

/// A renewed claim keeps other claimers away past its first lease; only the holder's token
/// renews, and nothing delivered or given back is renewed.
pub async fn relay_renews_only_its_own_live_claims<S: Store + Probe>(store: S) {
    let (a, b) = (user(), user());
    let events = vec![unlock(a, 1), unlock(b, 2), unlock(b, 3)];
    append(&store, &events).await;
    let (mine, other) = (ClaimToken(new_id()), ClaimToken(new_id()));
    let now = minute(10);
    let lease = Duration::seconds(5);
    let claimed = store
        .claim_events(H, mine, now, lease, 10)
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 3);
    store
        .mark_delivered(H, &[claimed[0].seq], now)
        .await
        .expect("ack");
    store
        .release_events(H, mine, &[claimed[2].seq])
        .await
        .expect("release");
    assert_eq!(
        store
            .renew_claim(H, other, now + Duration::minutes(5))
            .await
            .expect("renew"),
        0,
        "another token renews nothing"
    );
    assert_eq!(
        store
            .renew_claim(RelayChannel::Broker, mine, now + Duration::minutes(5))
            .await
            .expect("renew"),
        0,
        "nothing of the broker channel is held"
    );
    assert_eq!(
        store
            .renew_claim(H, mine, now + Duration::minutes(5))
            .await
            .expect("renew"),
        1,
        "only b's first event is still held"
    );
    // Past the first lease the renewed event stays away; the given-back one is claimable but
    // waits behind it (b's order).
    let later = now + Duration::seconds(30);
    assert!(
        store
            .claim_events(H, other, later, lease, 10)
            .await
            .expect("claim")
            .is_empty()
    );
    let after = store
        .claim_events(H, other, now + Duration::minutes(6), lease, 10)
        .await
        .expect("claim");
    assert_eq!(
        after.iter().map(|e| e.event_id).collect::<Vec<_>>(),
        vec![events[1].event_id, events[2].event_id]
    );
}
