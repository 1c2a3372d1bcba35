//! Statistics read cost for one user with 100 up to 1,000,000 viewings (SPEC §6: a read costs
//! the same for 10 records or 1,000,000), on the memory store and on SQLite. The buckets are
//! filled by the real StatisticsCalculator handler, in one unit of work to keep the setup short;
//! the viewings are spread evenly over three years. A read sums at most seven spans of buckets,
//! so its cost is bounded by how many of those buckets hold data: sparse data (100 viewings in
//! three years leaves most quarter-hour buckets at a period's edges empty) reads faster, and
//! once the buckets are populated the cost stays flat however many viewings are added.
//!
//! Run: `cargo bench -p viewing-app --bench statistics`.

use std::sync::Arc;

use adapters_memory::{ManualClock, MemoryStore, SequentialIds};
use adapters_sqlite::SqliteStore;
use chrono::{DateTime, Duration, TimeZone, Utc};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use viewing_app::ViewingService;
use viewing_app::handlers::{EventHandler, HandlerContext, HandlersConfig, StatisticsCalculator};
use viewing_app::statistics::{Period, StatisticsRequest};
use viewing_domain::events::{IsoDuration, MovieWatched};
use viewing_domain::ports::{Clock, Store, Transaction};
use viewing_domain::values::{Genre, Minutes, Title};
use viewing_domain::{
    DomainEvent, EventEnvelope, EventId, Movie, MovieId, RecordId, RulesConfig, UserId,
};

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or_default()
}

fn setup<S: Store>(
    rt: &tokio::runtime::Runtime,
    store: S,
    records: u64,
) -> (ViewingService<S>, UserId) {
    let end = start() + Duration::days(3 * 365);
    let clock = Arc::new(ManualClock::new(end));
    let ids = Arc::new(SequentialIds::default());
    let user = UserId::from(uuid::Uuid::from_u128(1));
    rt.block_on(async {
        let svc = ViewingService::with_parts(
            store.clone(),
            clock.clone(),
            ids.clone(),
            RulesConfig::default(),
        );
        let genre = |g: &str| Genre::parse(g).ok().flatten().expect("genre");
        let movies: Vec<MovieId> = (0..20u128)
            .map(|n| MovieId::from(uuid::Uuid::from_u128(1000 + n)))
            .collect();
        for (n, id) in movies.iter().enumerate() {
            svc.upsert_movie(Movie {
                id: *id,
                title: Title::parse("Film").ok().flatten().expect("title"),
                runtime: Minutes::from_u32_saturating(90 + n as u32),
                genres: vec![
                    genre(["Drama", "Crime", "Comedy"][n % 3]),
                    genre("Thriller"),
                ],
                release_date: None,
                external_ids: Default::default(),
            })
            .await
            .expect("movie");
        }
        let config = HandlersConfig::default();
        let ctx = HandlerContext {
            clock: clock.as_ref(),
            ids: ids.as_ref(),
            config: &config,
            catalog: &viewing_app::catalog_cache::CatalogCache::default(),
            batch: None,
        };
        let handler = StatisticsCalculator;
        let platforms = [None, Some("Netflix"), Some("Hulu"), Some("Disney+")];
        let span = (end - start()).num_minutes();
        let mut uow = store.begin().await.expect("begin");
        for i in 0..records {
            let minute = (i as i64 * span) / records as i64;
            let event = EventEnvelope {
                event_id: EventId::from(uuid::Uuid::from_u128(u128::from(i) + 1_000_000)),
                occurred_at: clock.now(),
                user_id: user,
                event: DomainEvent::MovieWatched(MovieWatched {
                    movie_id: movies[i as usize % movies.len()],
                    record_id: RecordId::from(uuid::Uuid::from_u128(u128::from(i) + 9_000_000)),
                    watch_date: start() + Duration::minutes(minute),
                    viewing_location: None,
                    viewing_platform: platforms[i as usize % 4].map(str::to_owned),
                    watched_with: vec![],
                    viewing_context: None,
                    is_rewatch: i % 7 == 0,
                    viewing_duration: (i % 3 == 0).then(|| IsoDuration::from_minutes(42)),
                    imported: false,
                }),
            };
            handler
                .handle(&mut uow, &event, &ctx)
                .await
                .expect("handled");
        }
        uow.commit().await.expect("commit");
        (svc, user)
    })
}

fn bench_store<S: Store>(
    c: &mut Criterion,
    rt: &tokio::runtime::Runtime,
    name: &str,
    counts: &[u64],
    store: impl Fn(u64) -> S,
) {
    let mut group = c.benchmark_group(format!("statistics_read_{name}"));
    for &records in counts {
        let (svc, user) = setup(rt, store(records), records);
        for (period, tz) in [
            ("all", "UTC"),
            ("year", "America/New_York"),
            ("month", "Asia/Kathmandu"),
            ("week", "Pacific/Chatham"),
        ] {
            let params = StatisticsRequest {
                period: Period::parse(period).expect("period"),
                tz: tz.parse().expect("time zone"),
                date: chrono::NaiveDate::from_ymd_opt(2025, 6, 15),
            };
            let check = rt.block_on(svc.statistics(user, &params)).expect("stats");
            assert!(check.total_watched > 0, "{period}: data present");
            group.bench_with_input(
                BenchmarkId::new(format!("{period}_{tz}"), records),
                &params,
                |b, p| b.iter(|| rt.block_on(svc.statistics(user, p)).expect("stats")),
            );
        }
    }
    group.finish();
}

fn statistics_read(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    bench_store(c, &rt, "memory", &[100, 10_000, 100_000, 1_000_000], |_| {
        MemoryStore::new()
    });
    let dir = tempfile::tempdir().expect("temp dir");
    bench_store(c, &rt, "sqlite", &[100, 100_000], |records| {
        let url = format!(
            "sqlite://{}",
            dir.path().join(format!("stats-{records}.db")).display()
        );
        rt.block_on(SqliteStore::connect(&url)).expect("connect")
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(3));
    targets = statistics_read
}
criterion_main!(benches);
