//! The history query: order, filters, offset paging and keyset (cursor) paging.

use viewing_domain::ports::{
    HistoryCursor, HistoryFilter, HistoryPaging, HistorySlice, Store, ViewingRecordRepository,
};
use viewing_domain::{ContentType, MovieId, RecordId, ShowStatus, UserId, ViewingRecord};

use crate::Probe;
use crate::fixtures::*;
use crate::records::insert_all;

async fn history<S: Store>(
    store: &S,
    user: UserId,
    filter: &HistoryFilter,
    paging: HistoryPaging,
) -> HistorySlice {
    let mut uow = store.begin().await.expect("begin");
    uow.history(user, filter, paging).await.expect("history")
}

fn ids(records: &[ViewingRecord]) -> Vec<RecordId> {
    records.iter().map(|r| r.id).collect()
}

/// Newest first by `(watch_date, id)`, as every store must answer.
fn newest_first(mut records: Vec<ViewingRecord>) -> Vec<ViewingRecord> {
    records.sort_by_key(|r| std::cmp::Reverse((r.watch_date, r.id)));
    records
}

/// A user's 13 records: movies and episodes, several platforms, three sharing one instant and
/// two a microsecond apart.
fn sample(u: UserId) -> Vec<ViewingRecord> {
    let s = show("Succession", ShowStatus::Ended, &[10], 0);
    let m = MovieId::from(new_id());
    let mut out = Vec::new();
    for i in 0..6u32 {
        let mut r = episode_record(u, &s, 1, i + 1, minute(i64::from(i) * 60));
        r.platform = Some(platform(if i % 2 == 0 { "Netflix" } else { "HBO Max" }));
        out.push(r);
    }
    for i in 0..3 {
        let mut r = movie_record(u, m, minute(1_000));
        r.platform = Some(platform(["NETFLIX", "netflix", "Prime"][i]));
        out.push(r);
    }
    out.push(movie_record(u, m, at(70_000, 1)));
    out.push(movie_record(u, m, at(70_000, 2)));
    out.push(movie_record(u, m, minute(-10)));
    let mut r = movie_record(u, m, minute(5_000));
    r.platform = Some(platform("Nétflix"));
    out.push(r);
    out
}

pub async fn history_newest_first_with_ties<S: Store + Probe>(store: S) {
    let u = user();
    let records = sample(u);
    let mut noise = sample(user());
    noise.truncate(3);
    insert_all(&store, &records).await;
    insert_all(&store, &noise).await;

    let got = history(
        &store,
        u,
        &HistoryFilter::default(),
        HistoryPaging::Page {
            page: 1,
            limit: 100,
        },
    )
    .await;
    assert_eq!(got.total_items, records.len() as u64);
    assert_eq!(got.items, newest_first(records));
}

pub async fn history_filters<S: Store + Probe>(store: S) {
    let u = user();
    let records = sample(u);
    insert_all(&store, &records).await;
    let all = HistoryPaging::Page {
        page: 1,
        limit: 100,
    };
    let check = |filter: HistoryFilter, keep: &dyn Fn(&ViewingRecord) -> bool| {
        let want: Vec<ViewingRecord> =
            newest_first(records.iter().filter(|r| keep(r)).cloned().collect());
        let store = store.clone();
        async move {
            let got = history(&store, u, &filter, all).await;
            assert_eq!(ids(&got.items), ids(&want), "filter {filter:?}");
            assert_eq!(got.total_items, want.len() as u64, "filter {filter:?}");
        }
    };

    // Half-open bounds, `[from, to)`, to the microsecond.
    let (from, to) = (minute(60), at(70_000, 1));
    check(
        HistoryFilter {
            from: Some(from),
            to: Some(to),
            ..Default::default()
        },
        &|r| r.watch_date >= from && r.watch_date < to,
    )
    .await;
    check(
        HistoryFilter {
            from: Some(at(70_000, 2)),
            ..Default::default()
        },
        &|r| r.watch_date >= at(70_000, 2),
    )
    .await;
    check(
        HistoryFilter {
            to: Some(minute(0)),
            ..Default::default()
        },
        &|r| r.watch_date < minute(0),
    )
    .await;
    check(
        HistoryFilter {
            content_type: Some(ContentType::Episode),
            ..Default::default()
        },
        &|r| r.watched.content_type() == ContentType::Episode,
    )
    .await;
    check(
        HistoryFilter {
            content_type: Some(ContentType::Movie),
            ..Default::default()
        },
        &|r| r.watched.content_type() == ContentType::Movie,
    )
    .await;
    // ASCII-case-insensitive: NETFLIX and netflix match, Nétflix does not.
    let is = |p: &str, r: &ViewingRecord| {
        r.platform
            .as_ref()
            .is_some_and(|x| x.as_str().eq_ignore_ascii_case(p))
    };
    check(
        HistoryFilter {
            platform: Some("nEtFlIx".to_owned()),
            ..Default::default()
        },
        &|r| is("netflix", r),
    )
    .await;
    check(
        HistoryFilter {
            platform: Some("NÉTFLIX".to_owned()),
            ..Default::default()
        },
        &|_| false,
    )
    .await;
    check(
        HistoryFilter {
            from: Some(minute(0)),
            to: Some(minute(2_000)),
            content_type: Some(ContentType::Movie),
            platform: Some("netflix".to_owned()),
        },
        &|r| {
            r.watch_date >= minute(0)
                && r.watch_date <= minute(2_000)
                && r.watched.content_type() == ContentType::Movie
                && is("netflix", r)
        },
    )
    .await;
}

pub async fn history_page_paging<S: Store + Probe>(store: S) {
    let u = user();
    let records = sample(u);
    insert_all(&store, &records).await;
    let want = newest_first(records);
    let mut seen = Vec::new();
    for page in 1..=5u32 {
        let got = history(
            &store,
            u,
            &HistoryFilter::default(),
            HistoryPaging::Page { page, limit: 4 },
        )
        .await;
        assert_eq!(got.total_items, want.len() as u64);
        let expected = want.iter().skip((page as usize - 1) * 4).take(4);
        assert_eq!(ids(&got.items), expected.map(|r| r.id).collect::<Vec<_>>());
        seen.extend(got.items);
    }
    assert_eq!(seen, want);
}

/// Walks the whole history with `First` then `After`, `limit` at a time.
async fn walk<S: Store>(
    store: &S,
    u: UserId,
    filter: &HistoryFilter,
    limit: u32,
) -> Vec<ViewingRecord> {
    let mut out: Vec<ViewingRecord> = Vec::new();
    let mut paging = HistoryPaging::First { limit };
    loop {
        let got = history(store, u, filter, paging).await;
        assert!(got.items.len() <= limit as usize);
        let Some(last) = got.items.last() else {
            break;
        };
        paging = HistoryPaging::After {
            cursor: HistoryCursor {
                watch_date: last.watch_date,
                id: last.id,
            },
            limit,
        };
        out.extend(got.items);
    }
    out
}

pub async fn history_keyset_paging<S: Store + Probe>(store: S) {
    let u = user();
    let records = sample(u);
    insert_all(&store, &records).await;
    let want = newest_first(records.clone());
    for limit in [1, 2, 3, 5, 100] {
        assert_eq!(
            ids(&walk(&store, u, &HistoryFilter::default(), limit).await),
            ids(&want),
            "limit {limit}"
        );
    }
    let filter = HistoryFilter {
        content_type: Some(ContentType::Movie),
        platform: Some("NETFLIX".to_owned()),
        ..Default::default()
    };
    let filtered: Vec<ViewingRecord> = want
        .iter()
        .filter(|r| {
            r.watched.content_type() == ContentType::Movie
                && r.platform
                    .as_ref()
                    .is_some_and(|p| p.as_str().eq_ignore_ascii_case("netflix"))
        })
        .cloned()
        .collect();
    assert_eq!(ids(&walk(&store, u, &filter, 1).await), ids(&filtered));

    // total_items counts the filter's matches, whatever the cursor.
    let first = history(&store, u, &filter, HistoryPaging::First { limit: 1 }).await;
    assert_eq!(first.total_items, filtered.len() as u64);
    let last = want.last().expect("records");
    let after_last = history(
        &store,
        u,
        &HistoryFilter::default(),
        HistoryPaging::After {
            cursor: HistoryCursor {
                watch_date: last.watch_date,
                id: last.id,
            },
            limit: 10,
        },
    )
    .await;
    assert!(after_last.items.is_empty());
    assert_eq!(after_last.total_items, want.len() as u64);
}

pub async fn history_keyset_is_stable_under_inserts<S: Store + Probe>(store: S) {
    let u = user();
    let records = sample(u);
    insert_all(&store, &records).await;
    let want = newest_first(records);

    let first = history(
        &store,
        u,
        &HistoryFilter::default(),
        HistoryPaging::First { limit: 4 },
    )
    .await;
    // New viewings arrive, newer than everything: offset paging would shift, a cursor must not.
    let m = MovieId::from(new_id());
    insert_all(
        &store,
        &[
            movie_record(u, m, minute(90_000)),
            movie_record(u, m, minute(90_001)),
        ],
    )
    .await;
    let last = first.items.last().expect("a first page");
    let rest = history(
        &store,
        u,
        &HistoryFilter::default(),
        HistoryPaging::After {
            cursor: HistoryCursor {
                watch_date: last.watch_date,
                id: last.id,
            },
            limit: 100,
        },
    )
    .await;
    let mut seen = first.items.clone();
    seen.extend(rest.items);
    assert_eq!(ids(&seen), ids(&want));
    assert_eq!(rest.total_items, want.len() as u64 + 2);
}
