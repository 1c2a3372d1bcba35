//! The relay never stalls (SPEC §9), at the relay's level: a claim is renewed while its batch
//! is being delivered, and only failures of the event itself park it — an unreachable broker
//! never does.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration as StdDuration;

use adapters_memory::MemoryStore;
use async_trait::async_trait;
use chrono::{Duration, Utc};
use viewing_app::ViewingService;
use viewing_app::relay::{Relay, RelayConfig};
use viewing_domain::event_ports::{
    ClaimToken, EventPublisher, OutboxRelay, PublishError, RelayChannel,
};
use viewing_domain::events::{AchievementUnlocked, DomainEvent, EventEnvelope};
use viewing_domain::ports::{Begin, Outbox, Transaction, UserRepository};
use viewing_domain::{EventId, UserId};

const BROKER: RelayChannel = RelayChannel::Broker;

async fn one_event(store: &MemoryStore) -> EventEnvelope {
    let now = Utc::now();
    let e = EventEnvelope {
        event_id: EventId::from(uuid::Uuid::now_v7()),
        occurred_at: now,
        user_id: UserId::from(uuid::Uuid::now_v7()),
        event: DomainEvent::AchievementUnlocked(AchievementUnlocked {
            achievement: "a".into(),
            title: "t".into(),
            unlocked_at: now,
        }),
    };
    let mut uow = store.begin().await.expect("begin");
    uow.ensure_user(e.user_id, now).await.expect("user");
    uow.append_events(std::slice::from_ref(&e))
        .await
        .expect("append");
    uow.commit().await.expect("commit");
    e
}

/// Takes `delay` per publish, then answers `outcome`; counts the calls.
struct Broker {
    delay: StdDuration,
    outcome: fn() -> Result<(), PublishError>,
    calls: AtomicU32,
}

#[async_trait]
impl EventPublisher for Broker {
    async fn publish(&self, _: &EventEnvelope) -> Result<(), PublishError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(self.delay).await;
        (self.outcome)()
    }
}

fn relay(store: &MemoryStore, broker: Arc<Broker>, config: RelayConfig) -> Relay<MemoryStore> {
    Relay::new(&ViewingService::new(store.clone()))
        .with_publisher(broker)
        .with_config(config)
}

/// A publish slower than the lease: the relay renews its claim meanwhile, so another relay
/// claiming after the first lease ran out finds nothing, and the event goes out once.
#[tokio::test]
async fn a_claim_is_renewed_while_its_batch_is_delivered() {
    let store = MemoryStore::new();
    one_event(&store).await;
    let broker = Arc::new(Broker {
        delay: StdDuration::from_millis(900),
        outcome: || Ok(()),
        calls: AtomicU32::new(0),
    });
    let lease = Duration::milliseconds(150);
    let r = relay(
        &store,
        broker.clone(),
        RelayConfig {
            lease,
            ..RelayConfig::default()
        },
    );
    let other = async {
        tokio::time::sleep(StdDuration::from_millis(600)).await;
        store
            .claim_events(
                BROKER,
                ClaimToken(uuid::Uuid::now_v7()),
                Utc::now(),
                lease,
                10,
            )
            .await
            .expect("claim")
    };
    let (outcome, stolen) = tokio::join!(r.pass(BROKER), other);
    let outcome = outcome.expect("pass");
    assert_eq!((outcome.claimed, outcome.delivered), (1, 1));
    assert!(
        stolen.is_empty(),
        "four leases later the working relay still holds its event"
    );
    assert_eq!(broker.calls.load(Ordering::SeqCst), 1);
}

/// An unreachable broker says nothing about the event: it is retried (with backoff) however
/// often it fails and never parked. A broker that refuses the event parks it at the tenth
/// refusal.
#[tokio::test]
async fn an_outage_never_parks_a_refusal_parks_at_the_tenth() {
    let config = RelayConfig {
        retry_base: Duration::zero(),
        retry_max: Duration::zero(),
        ..RelayConfig::default()
    };
    let store = MemoryStore::new();
    one_event(&store).await;
    let down = Arc::new(Broker {
        delay: StdDuration::ZERO,
        outcome: || Err(PublishError::Unavailable("connection refused".into())),
        calls: AtomicU32::new(0),
    });
    let r = relay(&store, down.clone(), config);
    for _ in 0..15 {
        let o = r.pass(BROKER).await.expect("pass");
        assert_eq!((o.failed, o.parked, o.broker_down), (1, 0, true));
    }
    assert!(store.dead_letters(10).await.expect("list").is_empty());
    assert_eq!(store.outbox_backlog(BROKER).await.expect("b").pending, 1);

    let store = MemoryStore::new();
    let e = one_event(&store).await;
    let refusing = Arc::new(Broker {
        delay: StdDuration::ZERO,
        outcome: || Err(PublishError::Rejected("message too large".into())),
        calls: AtomicU32::new(0),
    });
    let r = relay(&store, refusing.clone(), config);
    for attempt in 1..=10 {
        let o = r.pass(BROKER).await.expect("pass");
        assert_eq!(o.parked, usize::from(attempt == 10), "attempt {attempt}");
    }
    let dead = store.dead_letters(10).await.expect("list");
    assert_eq!(dead.len(), 1);
    assert_eq!(
        (dead[0].event_id, dead[0].channel, dead[0].attempts),
        (e.event_id, BROKER, 10)
    );
    assert_eq!(r.pass(BROKER).await.expect("pass").claimed, 0);
    assert_eq!(refusing.calls.load(Ordering::SeqCst), 10);
    let backlog = store.outbox_backlog(BROKER).await.expect("b");
    assert_eq!((backlog.pending, backlog.dead_letters), (0, 1));
}
