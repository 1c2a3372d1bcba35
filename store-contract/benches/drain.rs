//! How fast the relay's handlers drain a backlog (SPEC §14: at least 1,500 events/s on 20,000
//! events), in process, without HTTP.
//!
//! Users watch a 250-episode show in order through the real use case, with no relay running,
//! 16 writers each taking their users in turn episode by episode (so the backlog interleaves
//! every user, as a busy server's does), which leaves an outbox of episode, season and binge
//! events; then one relay drains it to the
//! five handlers and the rate is printed. The setup is timed apart. With WORKERS above 1, that
//! many relays drain the one store at once (like the runner's `handler_workers`).
//!
//! Run: `cargo bench -p store-contract --bench drain -- [sqlite|postgres|memory] [USERS]
//! [EPISODES] [WORKERS] [BATCH]` (defaults: sqlite, 100 users, 200 episodes each, so about
//! 20,000 events, 1 worker, the relay's default batch).
//! PostgreSQL uses `VIEWING_TEST_POSTGRES_URL` and a scratch database.

use std::sync::Arc;
use std::time::Instant;

use store_contract::TestBackend;
use store_contract::backends::{Memory, Postgres, Sqlite};
use store_contract::fixtures;
use viewing_app::ViewingService;
use viewing_app::relay::{Relay, RelayConfig};
use viewing_domain::event_ports::{OutboxRelay, RelayChannel};
use viewing_domain::rules::episode::WatchEpisode;
use viewing_domain::{ShowStatus, UserId};

async fn run<B: TestBackend>(users: usize, episodes: usize, workers: usize, batch: Option<u32>) {
    let Some(backend) = B::open().await else {
        eprintln!("backend not available (set VIEWING_TEST_POSTGRES_URL for postgres)");
        std::process::exit(2);
    };
    let store = backend.store();
    let svc = ViewingService::new(store.clone());
    let show = fixtures::show("Drain Show", ShowStatus::Ended, &[25; 10], 0);
    svc.upsert_show(show.clone()).await.expect("show");
    let order: Vec<_> = (1..=10u32)
        .flat_map(|s| (1..=25u32).map(move |e| (s, e)))
        .take(episodes)
        .map(|(s, e)| fixtures::episode(&show, s, e).id)
        .collect();

    let t0 = Instant::now();
    let writers = 16.min(users.max(1));
    let mut tasks = Vec::new();
    for w in 0..writers {
        let svc = svc.clone();
        let order = order.clone();
        let mine: Vec<UserId> = (0..users)
            .filter(|u| u % writers == w)
            .map(|_| fixtures::user())
            .collect();
        tasks.push(tokio::spawn(async move {
            for ep in &order {
                for user in &mine {
                    svc.watch_episode(*user, *ep, WatchEpisode::default())
                        .await
                        .expect("watch");
                }
            }
        }));
    }
    for t in tasks {
        t.await.expect("writer");
    }
    let backlog = store
        .outbox_backlog(RelayChannel::Handlers)
        .await
        .expect("backlog")
        .pending;
    println!(
        "setup: {} users x {} episodes written in {:.1} s; backlog {backlog} events",
        users,
        order.len(),
        t0.elapsed().as_secs_f64()
    );

    let mut relay = Relay::new(&svc);
    if let Some(batch) = batch {
        let config = RelayConfig {
            batch,
            ..*relay.config()
        };
        relay = relay.with_config(config);
    }
    let relay = Arc::new(relay);
    let t1 = Instant::now();
    let mut drains = Vec::new();
    for _ in 0..workers.max(1) {
        let relay = relay.clone();
        let store = store.clone();
        drains.push(tokio::spawn(async move {
            // A drain ends when its pass finds nothing to claim, which happens while the other
            // workers hold every user that is left: go on until the outbox is empty.
            let mut delivered = 0;
            loop {
                let n = relay.drain().await.expect("drain");
                delivered += n;
                let pending = store
                    .outbox_backlog(RelayChannel::Handlers)
                    .await
                    .expect("backlog")
                    .pending;
                if pending == 0 {
                    return delivered;
                }
                if n == 0 {
                    tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                }
            }
        }));
    }
    let mut delivered = 0;
    for d in drains {
        delivered += d.await.expect("worker");
    }
    let secs = t1.elapsed().as_secs_f64();
    let left = store
        .outbox_backlog(RelayChannel::Handlers)
        .await
        .expect("backlog")
        .pending;
    println!(
        "drain: {delivered} events in {secs:.2} s = {:.0} events/s (batch {}, {} workers), \
         {left} left",
        delivered as f64 / secs,
        relay.config().batch,
        workers.max(1)
    );
    drop(backend);
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let kind = args.first().map_or("sqlite", String::as_str).to_owned();
    let users = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(100);
    let episodes = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(200);
    let workers = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(1);
    let batch = args.get(4).and_then(|a| a.parse().ok());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        match kind.as_str() {
            "memory" => run::<Memory>(users, episodes, workers, batch).await,
            "postgres" => run::<Postgres>(users, episodes, workers, batch).await,
            _ => run::<Sqlite>(users, episodes, workers, batch).await,
        }
    });
}
