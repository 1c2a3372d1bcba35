//! Two server replicas on one PostgreSQL (SPEC §7, issue 5): two background runners, each with
//! its own pool, relay and NATS connection, share one outbox while several tasks write through
//! both. Every event must reach JetStream exactly once (the stream's `Nats-Msg-Id` dedupe
//! window absorbs a redelivery) and every handler's effect must be applied exactly once.
//!
//! Needs `VIEWING_TEST_POSTGRES_URL` and `VIEWING_TEST_NATS_URL` (e.g.
//! `nats://127.0.0.1:4222`); without them the test says so and passes, except under `CI=true`.
//! The stream and subject prefix are the test's own and deleted at the end.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use adapters_nats::{NatsConfig, NatsPublisher};
use adapters_postgres::PgStore;
use chrono::{Duration, Utc};
use store_contract::TestBackend;
use store_contract::backends::Postgres;
use store_contract::fixtures::{episode, movie, show, user};
use viewing_app::engagement::RecordingNotifier;
use viewing_app::relay::{Relay, RelayConfig};
use viewing_app::runner::{Runner, RunnerConfig};
use viewing_app::statistics::StatisticsRequest;
use viewing_app::{SystemClock, UuidV7, ViewingService};
use viewing_domain::event_ports::{OutboxRelay, RelayChannel};
use viewing_domain::events::EventEnvelope;
use viewing_domain::rules::episode::WatchEpisode;
use viewing_domain::rules::movie::WatchMovie;
use viewing_domain::{Movie, RulesConfig, Show, ShowStatus, UserId};

/// The NATS server to test against; `None` (after saying so) when unset outside CI.
fn nats_url() -> Option<String> {
    match std::env::var("VIEWING_TEST_NATS_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ if std::env::var("CI").as_deref() == Ok("true") => panic!(
            "VIEWING_TEST_NATS_URL is not set: the two-replica test must run in CI \
             (e.g. VIEWING_TEST_NATS_URL=nats://127.0.0.1:4222)"
        ),
        _ => {
            // Straight to stderr: libtest captures `eprintln!` of passing tests.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "\n*** two-replica test did NOT run: set \
                 VIEWING_TEST_NATS_URL=nats://127.0.0.1:4222 ***\n"
            );
            None
        }
    }
}

const USERS: usize = 4;
const MOVIES: usize = 10;
const EPISODES: u32 = 6;
const RUNTIME: u32 = 100;
const HANDLERS: [&str; 5] = [
    "statistics",
    "achievements",
    "watchlist",
    "reminders",
    "preferences",
];

type Service = ViewingService<PgStore>;

fn service(store: PgStore) -> Service {
    ViewingService::with_parts(
        store,
        Arc::new(SystemClock),
        Arc::new(UuidV7),
        RulesConfig::default(),
    )
}

fn relay(service: &Service, nats: &NatsConfig) -> Relay<PgStore> {
    // Small batches, so the two relays take turns on one user's events.
    Relay::new(service)
        .with_publisher(Arc::new(NatsPublisher::lazy(nats.clone())))
        .with_config(RelayConfig {
            batch: 5,
            ..RelayConfig::default()
        })
}

/// One user's writes: ten different movies in one task and a whole six-episode binge of an
/// ended show (completing it) in another, each write through either replica.
async fn user_writes(replicas: [Service; 2], u: UserId, movies: Arc<Vec<Movie>>, show: Arc<Show>) {
    let films = {
        let replicas = replicas.clone();
        tokio::spawn(async move {
            for (i, m) in movies.iter().enumerate() {
                replicas[i % 2]
                    .watch_movie(u, m.id, WatchMovie::default())
                    .await
                    .expect("movie watched");
            }
        })
    };
    let binge = tokio::spawn(async move {
        let start = Utc::now() - Duration::hours(12);
        for n in 1..=EPISODES {
            let cmd = WatchEpisode {
                watch_date: Some(start + Duration::minutes(50 * i64::from(n))),
                ..WatchEpisode::default()
            };
            replicas[n as usize % 2]
                .watch_episode(u, episode(&show, 1, n).id, cmd)
                .await
                .expect("episode watched");
        }
    });
    films.await.expect("movie task");
    binge.await.expect("episode task");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_relays_on_one_database_deliver_each_event_once_to_nats_and_the_handlers() {
    let Some(url) = nats_url() else { return };
    let Some(backend) = Postgres::open().await else {
        return;
    };
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let mut nats = NatsConfig::new(&url);
    nats.stream = format!("VIEWING_EVENTS_REPLICAS_{}", tag.to_uppercase());
    nats.subject_prefix = format!("test.{tag}.viewing.events");
    // Create the stream once, so the two replicas' first publishes do not race to create it.
    drop(
        NatsPublisher::connect(nats.clone())
            .await
            .expect("NATS answers"),
    );

    let stores = [
        backend.store(),
        PgStore::connect(&backend.url()).await.expect("second pool"),
    ];
    let replicas = [service(stores[0].clone()), service(stores[1].clone())];
    let movies: Arc<Vec<Movie>> = Arc::new(
        (0..MOVIES)
            .map(|i| movie(&format!("Film {i}"), RUNTIME))
            .collect(),
    );
    let show = Arc::new(show("Marathon", ShowStatus::Ended, &[EPISODES], 0));
    for m in movies.iter() {
        replicas[0]
            .upsert_movie(m.clone())
            .await
            .expect("movie stored");
    }
    replicas[1]
        .upsert_show(show.as_ref().clone())
        .await
        .expect("show stored");

    // Both replicas' background runners run while the users write.
    let mut stops = Vec::new();
    let mut runners = Vec::new();
    let mut metrics = Vec::new();
    for r in &replicas {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let runner = Runner::new(
            r.clone(),
            relay(r, &nats),
            Arc::new(RecordingNotifier::default()),
        )
        .with_config(RunnerConfig {
            poll_interval: std::time::Duration::from_millis(10),
            ..RunnerConfig::default()
        });
        metrics.push(runner.metrics());
        stops.push(stop);
        runners.push(tokio::spawn(runner.run(async move {
            let _ = stopped.await;
        })));
    }
    let users: Vec<UserId> = (0..USERS).map(|_| user()).collect();
    let writers: Vec<_> = users
        .iter()
        .map(|u| {
            tokio::spawn(user_writes(
                replicas.clone(),
                *u,
                movies.clone(),
                show.clone(),
            ))
        })
        .collect();
    for w in writers {
        w.await.expect("writer");
    }
    // The runners carry on until neither channel has a backlog left (a failed broker pass
    // waits for its retry time, hence polling), then stop, each finishing its pass.
    let mut drained = false;
    for _ in 0..1200 {
        let mut left = 0;
        for channel in RelayChannel::EVERY {
            left += stores[0]
                .outbox_backlog(channel)
                .await
                .expect("backlog")
                .pending;
        }
        if left == 0 {
            drained = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    for s in stops {
        let _ = s.send(());
    }
    for r in runners {
        r.await.expect("runner stopped cleanly");
    }
    assert!(
        drained,
        "the two runners emptied both channels of the outbox"
    );
    let shares: Vec<[u64; 2]> = metrics
        .iter()
        .map(|m| {
            let snap = m.snapshot();
            RelayChannel::EVERY.map(|c| snap.channels.get(&c).map_or(0, |c| c.delivered))
        })
        .collect();
    eprintln!("deliveries [handlers, broker] by runner: {shares:?}");
    for (i, channel) in RelayChannel::EVERY.iter().enumerate() {
        assert!(
            shares.iter().all(|s| s[i] > 0),
            "both replicas took part on {channel:?}: {shares:?}"
        );
    }

    let outbox: Vec<EventEnvelope> = stores[0].outbox_events().await.expect("outbox");
    let per_user = MOVIES + EPISODES as usize + 2 + 4; // + season/show completed + 4 unlocks
    assert_eq!(outbox.len(), USERS * per_user, "events written");
    for (i, channel) in RelayChannel::EVERY.iter().enumerate() {
        assert_eq!(
            shares.iter().map(|s| s[i]).sum::<u64>(),
            outbox.len() as u64,
            "{channel:?}: no event delivered twice by the two relays"
        );
    }

    // NATS: each outbox event in the stream exactly once, and each user's movie watches and
    // episode watches (each written one after the other) in outbox order.
    let client = async_nats::connect(url.as_str())
        .await
        .expect("NATS answers");
    let js = async_nats::jetstream::new(client);
    let stream = js.get_stream(&nats.stream).await.expect("stream");
    let count = stream.get_info().await.expect("info").state.messages;
    assert_eq!(
        count,
        outbox.len() as u64,
        "stream messages == outbox events"
    );
    let mut in_stream = Vec::new();
    for seq in 1..=count {
        let m = stream.get_raw_message(seq).await.expect("message");
        let id = m.headers.get("Nats-Msg-Id").map(|v| v.as_str().to_owned());
        in_stream.push(id.expect("Nats-Msg-Id"));
    }
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for id in &in_stream {
        *seen.entry(id.as_str()).or_default() += 1;
    }
    for e in &outbox {
        assert_eq!(seen.get(e.event_id.to_string().as_str()), Some(&1), "{e:?}");
    }
    let position: HashMap<String, usize> = in_stream
        .iter()
        .enumerate()
        .map(|(i, id)| (id.clone(), i))
        .collect();
    for u in &users {
        for kind in ["MovieWatched", "TVEpisodeWatched"] {
            let order: Vec<usize> = outbox
                .iter()
                .filter(|e| e.user_id == *u && e.event_type() == kind)
                .map(|e| position[&e.event_id.to_string()])
                .collect();
            assert!(order.is_sorted(), "{u} {kind}: stream order {order:?}");
        }
    }
    let _ = js.delete_stream(&nats.stream).await;

    // Handlers: every handler marked every event once.
    let pool = stores[0].pool();
    let marks: Vec<(String, i64)> = sqlx::query_as(
        "SELECT handler, COUNT(*) FROM processed_events GROUP BY handler ORDER BY handler",
    )
    .fetch_all(pool)
    .await
    .expect("marks");
    let mut expected_marks: Vec<(String, i64)> = HANDLERS
        .iter()
        .map(|h| (h.to_string(), outbox.len() as i64))
        .collect();
    expected_marks.sort();
    assert_eq!(
        marks, expected_marks,
        "each handler applied each event once"
    );

    for u in &users {
        // Statistics: the totals are the records, counted once.
        let records: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM viewing_records WHERE user_id = $1")
                .bind(u.as_uuid())
                .fetch_one(pool)
                .await
                .expect("records");
        let s = replicas[1]
            .statistics(*u, &StatisticsRequest::default())
            .await
            .expect("statistics");
        assert_eq!(s.total_watched, records as u64);
        assert_eq!(
            (s.total_watched, s.movies, s.episodes, s.rewatches),
            (16, MOVIES as u64, u64::from(EPISODES), 0)
        );
        assert_eq!(
            s.total_minutes,
            u64::from(MOVIES as u32 * RUNTIME + EPISODES * 45)
        );
        assert_eq!(
            (s.shows_completed, s.seasons_completed, s.abandoned),
            (1, 1, 0)
        );
        assert_eq!(
            (s.binge_sessions, s.longest_binge_episodes),
            (1, u64::from(EPISODES))
        );
        // Achievements: each unlocked once, with one event each; the counters counted once.
        let codes: BTreeSet<String> = replicas[0]
            .achievements(*u)
            .await
            .expect("achievements")
            .into_iter()
            .map(|a| a.code)
            .collect();
        let expected: BTreeSet<String> = [
            "first-movie",
            "movies-10",
            "first-show-completed",
            "marathon",
        ]
        .into_iter()
        .map(String::from)
        .collect();
        assert_eq!(codes, expected, "{u}");
        let unlocked = outbox
            .iter()
            .filter(|e| e.user_id == *u && e.event_type() == "AchievementUnlocked")
            .count();
        assert_eq!(
            unlocked,
            expected.len(),
            "{u}: one AchievementUnlocked each"
        );
        let movies_counted: i64 = sqlx::query_scalar(
            "SELECT value FROM achievement_counters WHERE user_id = $1 AND counter = 'movies'",
        )
        .bind(u.as_uuid())
        .fetch_one(pool)
        .await
        .expect("counter");
        assert_eq!(movies_counted, MOVIES as i64, "{u}");
    }
    stores[1].close().await;
}
