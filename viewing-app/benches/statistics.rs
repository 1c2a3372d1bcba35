//! Statistics read cost for one user with 100, 10,000, 100,000 and 1,000,000 records (SPEC §6:
//! the read must not grow with the records). The buckets are fed through the
//! StatisticsCalculator, as the relay does; the records are spread evenly over three years.
//! A read sums at most seven spans of buckets, so its cost is bounded by how many of those
//! buckets hold data: sparse data (100 records in three years leaves most quarter-hour buckets
//! at a period's edges empty) reads a little faster, and from the point where the buckets are
//! populated (10,000 records here) the cost stays flat however many records are added.
//!
//! Run: `cargo bench -p viewing-app --bench statistics`

use std::sync::Arc;

use adapters_memory::{ManualClock, MemoryStore, SequentialIds};
use chrono::{DateTime, Duration, TimeZone, Utc};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use viewing_app::ViewingService;
use viewing_app::handlers::StatisticsCalculator;
use viewing_app::relay::Relay;
use viewing_app::statistics::StatisticsParams;
use viewing_domain::events::{IsoDuration, MovieWatched};
use viewing_domain::values::{Genre, Minutes, Title};
use viewing_domain::{
    DomainEvent, EventEnvelope, EventId, Movie, MovieId, RecordId, RulesConfig, UserId,
};

const PLATFORMS: [Option<&str>; 4] = [None, Some("Netflix"), Some("Hulu"), Some("Disney+")];

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or_default()
}

fn setup(rt: &tokio::runtime::Runtime, records: u64) -> (ViewingService<MemoryStore>, UserId) {
    let store = MemoryStore::new();
    let end = start() + Duration::days(3 * 365);
    let svc = ViewingService::with_parts(
        store,
        Arc::new(ManualClock::new(end)),
        Arc::new(SequentialIds::default()),
        RulesConfig::default(),
    );
    let user = UserId::from(uuid::Uuid::from_u128(1));
    let relay = Relay::new(&svc).with_handlers(vec![Box::new(StatisticsCalculator)]);
    rt.block_on(async {
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
            })
            .await
            .expect("movie");
        }
        let span = (end - start()).num_minutes();
        for i in 0..records {
            let minute = (i as i64 * span) / records as i64;
            let event = EventEnvelope {
                event_id: EventId::from(uuid::Uuid::from_u128(u128::from(i) + 1_000_000)),
                occurred_at: end,
                user_id: user,
                event: DomainEvent::MovieWatched(MovieWatched {
                    movie_id: movies[i as usize % movies.len()],
                    record_id: RecordId::from(uuid::Uuid::from_u128(u128::from(i) + 9_000_000)),
                    watch_date: start() + Duration::minutes(minute),
                    viewing_location: None,
                    viewing_platform: PLATFORMS[i as usize % 4].map(str::to_owned),
                    watched_with: vec![],
                    viewing_context: None,
                    is_rewatch: i % 7 == 0,
                    viewing_duration: (i % 3 == 0).then(|| IsoDuration::from_minutes(42)),
                }),
            };
            relay.deliver_to_handlers(&event).await.expect("applied");
        }
    });
    (svc, user)
}

fn statistics_read(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let mut group = c.benchmark_group("statistics_read");
    for records in [100u64, 10_000, 100_000, 1_000_000] {
        let (svc, user) = setup(&rt, records);
        for (period, tz, date) in [
            ("all", "UTC", "2025-06-15"),
            ("year", "America/New_York", "2025-06-15"),
            ("month", "Asia/Kathmandu", "2025-06-15"),
            ("week", "Pacific/Chatham", "2025-06-15"),
        ] {
            let params = StatisticsParams {
                period: Some(period.into()),
                tz: Some(tz.into()),
                date: Some(date.into()),
            };
            let check = rt.block_on(svc.statistics(user, &params)).expect("stats");
            assert!(
                records < 1000 || check.total_watched > 0,
                "{period}: data present"
            );
            group.bench_with_input(
                BenchmarkId::new(format!("{period}_{tz}"), records),
                &params,
                |b, p| b.iter(|| rt.block_on(svc.statistics(user, p)).expect("stats")),
            );
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(3));
    targets = statistics_read
}
criterion_main!(benches);
