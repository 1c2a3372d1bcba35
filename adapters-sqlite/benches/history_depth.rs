//! History paging cost against depth, on one user with 50,000 records in SQLite.
//!
//! Keyset paging (`cursor`) walks the `(user_id, watch_date, id)` index from the cursor, so the
//! first and the 2,000th page of 20 cost the same; offset paging (`page`) reads and drops every
//! earlier row, so its cost grows with depth. Run: `cargo bench -p adapters-sqlite`.

use adapters_sqlite::SqliteStore;
use chrono::{Duration, TimeZone, Utc};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use viewing_domain::ports::{
    Begin, HistoryCursor, HistoryFilter, HistoryPaging, Transaction, UserRepository,
    ViewingRecordRepository,
};
use viewing_domain::{MovieId, RecordId, UserId, ViewingRecord, Watched};

const RECORDS: u32 = 50_000;
const LIMIT: u32 = 20;

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let user = UserId::from(uuid::Uuid::now_v7());
    let store = rt.block_on(async {
        let store = SqliteStore::connect(&url).await.expect("connect");
        let t0 = Utc
            .with_ymd_and_hms(2020, 1, 1, 0, 0, 0)
            .single()
            .expect("t0");
        let mut uow = store.begin().await.expect("begin");
        uow.ensure_user(user, t0).await.expect("user");
        let movie = MovieId::from(uuid::Uuid::now_v7());
        for i in 0..RECORDS {
            let at = t0 + Duration::minutes(i64::from(i) * 30);
            let record = ViewingRecord {
                id: RecordId::from(uuid::Uuid::now_v7()),
                user_id: user,
                watched: Watched::Movie(movie),
                watch_date: at,
                platform: None,
                viewing_location: None,
                viewing_context: None,
                watched_with: Default::default(),
                is_rewatch: i > 0,
                viewing_duration: None,
                binge_session_id: None,
                binge_session_pinned: false,
                backfilled: false,
                created_at: at,
                origin: viewing_domain::Origin::Manual,
            };
            uow.insert_record(&record).await.expect("insert");
        }
        uow.commit().await.expect("commit");
        store
    });

    // The cursor of the item just before each depth.
    let cursor_at = |depth: u32| {
        rt.block_on(async {
            let mut uow = store.begin().await.expect("begin");
            let page = uow
                .history(
                    user,
                    &HistoryFilter::default(),
                    HistoryPaging::Page {
                        page: depth / LIMIT,
                        limit: LIMIT,
                    },
                )
                .await
                .expect("page");
            let last = page.items.last().expect("a full page");
            HistoryCursor {
                watch_date: last.watch_date,
                id: last.id,
            }
        })
    };

    let mut group = c.benchmark_group("history_page_of_20");
    for depth in [40_000, 20] {
        let cursor = cursor_at(depth);
        group.bench_with_input(BenchmarkId::new("cursor", depth), &cursor, |b, &cursor| {
            b.iter(|| {
                rt.block_on(async {
                    let mut uow = store.begin().await.expect("begin");
                    uow.history(
                        user,
                        &HistoryFilter::default(),
                        HistoryPaging::After {
                            cursor,
                            limit: LIMIT,
                        },
                    )
                    .await
                    .expect("history")
                })
            })
        });
        group.bench_with_input(BenchmarkId::new("page", depth), &depth, |b, &depth| {
            b.iter(|| {
                rt.block_on(async {
                    let mut uow = store.begin().await.expect("begin");
                    uow.history(
                        user,
                        &HistoryFilter::default(),
                        HistoryPaging::Page {
                            page: depth / LIMIT + 1,
                            limit: LIMIT,
                        },
                    )
                    .await
                    .expect("history")
                })
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
