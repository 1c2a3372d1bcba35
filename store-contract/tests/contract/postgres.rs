//! The contract suite on PostgreSQL: a new uuid-named database per test, created through
//! `VIEWING_TEST_POSTGRES_URL` and dropped afterwards.
store_contract::contract_tests!(store_contract::backends::Postgres);
store_contract::event_contract_tests!(store_contract::backends::Postgres);

use adapters_postgres::PgStore;
use viewing_domain::ports::StoreError;

/// A server that refuses connections is `Unavailable` (503), never `Unexpected` (500). Needs no
/// PostgreSQL: nothing listens on port 1.
#[tokio::test]
async fn a_server_that_refuses_connections_is_unavailable() {
    let err = PgStore::connect("postgres://postgres@127.0.0.1:1/postgres")
        .await
        .expect_err("nothing listens on port 1");
    assert!(matches!(err, StoreError::Unavailable(_)), "got {err:?}");
}

mod claims {
    //! What only PostgreSQL has: relays of several replicas claiming from one database at once.

    use std::collections::{HashMap, HashSet};
    use std::sync::{Arc, Mutex};

    use adapters_postgres::PgStore;
    use chrono::Duration;
    use store_contract::TestBackend;
    use store_contract::backends::Postgres;
    use store_contract::fixtures::{minute, new_id, user};
    use viewing_domain::event_ports::{ClaimToken, OutboxRelay, RelayChannel};
    use viewing_domain::events::{AchievementUnlocked, DomainEvent, EventEnvelope};
    use viewing_domain::ports::{Begin, Outbox, Transaction, UserRepository};
    use viewing_domain::{EventId, UserId};

    fn event(user: UserId, n: i64) -> EventEnvelope {
        EventEnvelope {
            event_id: EventId::from(new_id()),
            occurred_at: minute(n),
            user_id: user,
            event: DomainEvent::AchievementUnlocked(AchievementUnlocked {
                achievement: format!("a{n}"),
                title: "t".into(),
                unlocked_at: minute(n),
            }),
        }
    }

    async fn append(store: &PgStore, events: &[EventEnvelope]) {
        let mut uow = store.begin().await.expect("begin");
        for e in events {
            uow.ensure_user(e.user_id, e.occurred_at)
                .await
                .expect("user");
        }
        uow.append_events(events).await.expect("append");
        uow.commit().await.expect("commit");
    }

    fn ids(events: &[viewing_domain::event_ports::PendingEvent]) -> Vec<EventId> {
        events.iter().map(|e| e.event_id).collect()
    }

    /// A concurrent claim that has locked a user's first event but not leased it yet: this
    /// claim skips the row (never waits) and holds back the user's later events, which it
    /// does not lease either, so they are claimable as soon as that claim is gone.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn rows_a_concurrent_claim_holds_are_skipped_and_block_their_users_later_events() {
        let Some(backend) = Postgres::open().await else {
            return;
        };
        let store = backend.store();
        let (a, b) = (user(), user());
        let events = [event(a, 1), event(a, 2), event(b, 3), event(a, 4)];
        append(&store, &events).await;
        let h = RelayChannel::Handlers;
        let (now, lease) = (minute(10), Duration::seconds(60));

        let mut other = store.pool().begin().await.expect("begin");
        sqlx::query("SELECT seq FROM outbox WHERE event_id = $1 FOR UPDATE")
            .bind(events[0].event_id.as_uuid())
            .fetch_one(&mut *other)
            .await
            .expect("lock a's first event");
        let got = store
            .claim_events(h, ClaimToken(new_id()), now, lease, 10)
            .await
            .expect("claim");
        assert_eq!(ids(&got), vec![events[2].event_id], "only b's event");
        other.rollback().await.expect("rollback");

        let got = store
            .claim_events(h, ClaimToken(new_id()), now, lease, 10)
            .await
            .expect("claim");
        assert_eq!(
            ids(&got),
            vec![events[0].event_id, events[1].event_id, events[3].event_id],
            "a's events, in order, none of them leased by the first claim"
        );
    }

    /// Claimers on two pools (two replicas) and three tasks each, small batches: every event
    /// is delivered exactly once, and each user's events in outbox order.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_claimers_deliver_each_event_once_and_each_users_in_order() {
        let Some(backend) = Postgres::open().await else {
            return;
        };
        let first = backend.store();
        let second = PgStore::connect(&backend.url()).await.expect("second pool");
        let users: Vec<UserId> = (0..6).map(|_| user()).collect();
        let mut events = Vec::new();
        for n in 0..25 {
            for u in &users {
                events.push(event(*u, n));
            }
        }
        for chunk in events.chunks(30) {
            append(&first, chunk).await;
        }
        let log: Arc<Mutex<Vec<(UserId, i64)>>> = Arc::default();
        let claimers: Vec<_> = (0..6)
            .map(|i| {
                let store = if i % 2 == 0 {
                    first.clone()
                } else {
                    second.clone()
                };
                let log = log.clone();
                tokio::spawn(async move {
                    let h = RelayChannel::Handlers;
                    for _ in 0..100_000 {
                        let got = store
                            .claim_events(
                                h,
                                ClaimToken(new_id()),
                                minute(10_000),
                                Duration::seconds(600),
                                7,
                            )
                            .await
                            .expect("claim");
                        if got.is_empty() {
                            if store.outbox_backlog(h).await.expect("backlog").pending == 0 {
                                return;
                            }
                            tokio::task::yield_now().await;
                            continue;
                        }
                        {
                            let mut log = log.lock().unwrap_or_else(|p| p.into_inner());
                            log.extend(got.iter().map(|e| (e.user_id, e.seq)));
                        }
                        let seqs: Vec<i64> = got.iter().map(|e| e.seq).collect();
                        store
                            .mark_delivered(h, &seqs, minute(10_000))
                            .await
                            .expect("ack");
                    }
                    panic!("the outbox never emptied");
                })
            })
            .collect();
        for c in claimers {
            c.await.expect("claimer finished");
        }
        let log = log.lock().unwrap_or_else(|p| p.into_inner()).clone();
        assert_eq!(log.len(), events.len(), "each event delivered once");
        assert_eq!(
            log.iter().map(|(_, s)| *s).collect::<HashSet<_>>().len(),
            events.len()
        );
        let mut last: HashMap<UserId, i64> = HashMap::new();
        for (u, seq) in &log {
            let previous = last.insert(*u, *seq);
            assert!(
                previous.is_none_or(|p| p < *seq),
                "user {u}: {seq} delivered after {previous:?}"
            );
        }
        second.close().await;
    }
}

mod workers {
    //! A runner with two handler workers (`RunnerConfig::handler_workers`) on PostgreSQL: both
    //! drain at once, every event is applied once, each user's in order.

    use std::collections::HashMap;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    use async_trait::async_trait;
    use store_contract::TestBackend;
    use store_contract::backends::Postgres;
    use store_contract::fixtures::{minute, new_id, user};
    use viewing_app::engagement::RecordingNotifier;
    use viewing_app::handlers::{EventHandler, HandlerContext};
    use viewing_app::relay::{Relay, RelayConfig};
    use viewing_app::runner::{Runner, RunnerConfig};
    use viewing_app::{AppResult, ViewingService};
    use viewing_domain::event_ports::{OutboxRelay, RelayChannel};
    use viewing_domain::events::{AchievementUnlocked, DomainEvent, EventEnvelope};
    use viewing_domain::ports::{Begin, Outbox, Transaction, UnitOfWork, UserRepository};
    use viewing_domain::{EventId, UserId};

    type Log = Arc<Mutex<Vec<(UserId, i64)>>>;

    /// Appends (user, minute) of every event it sees, and the most events it ever saw being
    /// handled at once.
    struct Recording {
        log: Log,
        busy: Arc<AtomicUsize>,
        most_busy: Arc<AtomicUsize>,
    }

    #[async_trait]
    impl<U: UnitOfWork + 'static> EventHandler<U> for Recording {
        fn name(&self) -> &'static str {
            "Recording"
        }

        async fn handle(
            &self,
            _uow: &mut U,
            event: &EventEnvelope,
            _ctx: &HandlerContext<'_>,
        ) -> AppResult<()> {
            let now = self.busy.fetch_add(1, Ordering::SeqCst) + 1;
            self.most_busy.fetch_max(now, Ordering::SeqCst);
            // Long enough for the other worker to claim and start a batch meanwhile.
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
            let n = (event.occurred_at - minute(0)).num_minutes();
            self.log
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push((event.user_id, n));
            self.busy.fetch_sub(1, Ordering::SeqCst);
            Ok(())
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn two_handler_workers_apply_each_event_once_and_each_users_in_order() {
        let Some(backend) = Postgres::open().await else {
            return;
        };
        let store = backend.store();
        let users: Vec<UserId> = (0..8).map(|_| user()).collect();
        let mut events = Vec::new();
        for n in 0..20 {
            for u in &users {
                events.push(EventEnvelope {
                    event_id: EventId::from(new_id()),
                    occurred_at: minute(n),
                    user_id: *u,
                    event: DomainEvent::AchievementUnlocked(AchievementUnlocked {
                        achievement: format!("a{n}"),
                        title: "t".into(),
                        unlocked_at: minute(n),
                    }),
                });
            }
        }
        let mut uow = store.begin().await.expect("begin");
        for u in &users {
            uow.ensure_user(*u, minute(0)).await.expect("user");
        }
        uow.append_events(&events).await.expect("append");
        uow.commit().await.expect("commit");

        let log: Log = Arc::default();
        let most_busy = Arc::new(AtomicUsize::new(0));
        let service = ViewingService::new(store.clone());
        let relay = Relay::new(&service)
            .with_handlers(vec![Box::new(Recording {
                log: log.clone(),
                busy: Arc::default(),
                most_busy: most_busy.clone(),
            })])
            .with_config(RelayConfig {
                batch: 7,
                ..RelayConfig::default()
            });
        let runner = Runner::new(service, relay, Arc::new(RecordingNotifier::default()))
            .with_config(RunnerConfig {
                poll_interval: std::time::Duration::from_millis(10),
                handler_workers: 2,
                ..RunnerConfig::default()
            });
        let watched = store.clone();
        let drained = async move {
            loop {
                let b = watched
                    .outbox_backlog(RelayChannel::Handlers)
                    .await
                    .expect("backlog");
                if b.pending == 0 {
                    return;
                }
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        };
        tokio::time::timeout(std::time::Duration::from_secs(120), runner.run(drained))
            .await
            .expect("the runner drained the outbox");

        let log = log.lock().unwrap_or_else(|p| p.into_inner()).clone();
        assert_eq!(log.len(), events.len(), "each event applied once");
        let mut last: HashMap<UserId, i64> = HashMap::new();
        for (u, n) in &log {
            let previous = last.insert(*u, *n);
            assert!(
                previous.is_none_or(|p| p < *n),
                "user {u}: minute {n} applied after {previous:?}"
            );
        }
        assert_eq!(last.len(), users.len());
        assert_eq!(
            most_busy.load(Ordering::SeqCst),
            2,
            "the two workers applied batches at the same time"
        );
    }
}
