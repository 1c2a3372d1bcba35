//! The handler-state writes a relay batch makes at its end (SPEC §14): many processed marks in
//! one call, many statistics buckets in one call — each the same as the one-at-a-time form.

use viewing_domain::event_ports::ProcessedEvents;
use viewing_domain::handler_ports::StatisticsRepository;
use viewing_domain::ports::{Store, Transaction};
use viewing_domain::stats::{
    BucketKey, Dimension, StatsDelta, buckets_containing, cover, cover_everything,
};
use viewing_domain::{EventId, UserId};

use crate::Probe;
use crate::fixtures::*;

pub async fn batch_marks_answer_per_event_and_roll_back<S: Store + Probe>(store: S) {
    let events: Vec<EventId> = (0..5).map(|_| EventId::from(new_id())).collect();
    let mut uow = store.begin().await.expect("begin");
    assert!(
        uow.mark_processed("stats", events[1], minute(0))
            .await
            .expect("mark one")
    );
    let fresh = uow
        .mark_processed_many("stats", &events, minute(1))
        .await
        .expect("mark many");
    assert_eq!(fresh, vec![true, false, true, true, true]);
    // Marks are per handler; asking again finds every mark.
    assert_eq!(
        uow.mark_processed_many("reminders", &events[..2], minute(1))
            .await
            .expect("other handler"),
        vec![true, true]
    );
    assert_eq!(
        uow.mark_processed_many("stats", &events, minute(2))
            .await
            .expect("again"),
        vec![false; 5]
    );
    assert_eq!(
        uow.mark_processed_many("stats", &[], minute(2))
            .await
            .expect("none"),
        Vec::<bool>::new()
    );
    drop(uow);
    // Dropped with its unit of work: the marks are new again.
    let mut uow = store.begin().await.expect("begin");
    assert_eq!(
        uow.mark_processed_many("stats", &events, minute(3))
            .await
            .expect("after rollback"),
        vec![true; 5]
    );
    uow.commit().await.expect("commit");
    let mut uow = store.begin().await.expect("begin");
    assert!(
        !uow.mark_processed("stats", events[4], minute(4))
            .await
            .expect("committed mark")
    );
}

fn delta(watched: i64, minutes: i64, longest: i64, genre: &str) -> StatsDelta {
    let mut d = StatsDelta::default();
    d.counters.watched = watched;
    d.counters.episodes = watched;
    d.counters.minutes = minutes;
    d.counters.longest_binge = longest;
    d.tally(Dimension::Genre, genre, watched, minutes);
    d.tally(Dimension::Platform, "Netflix", watched, minutes);
    d
}

/// The rows of two users over two instants, sorted and distinct as a batch gives them.
fn rows(a: UserId, b: UserId) -> Vec<(UserId, BucketKey, StatsDelta)> {
    let mut out = Vec::new();
    for (user, at, d) in [
        (a, minute(30), delta(2, 90, 2, "Drama")),
        (a, minute(60 * 24 * 40), delta(1, 45, 0, "Crime")),
        (b, minute(30), delta(3, 120, 3, "Sci-Fi")),
    ] {
        for key in buckets_containing(at) {
            out.push((user, key, d.clone()));
        }
    }
    out.sort_by_key(|x| (x.0, x.1));
    // Two instants share the year and "all" buckets: combine those, as a batch does.
    let mut combined: Vec<(UserId, BucketKey, StatsDelta)> = Vec::new();
    for (user, key, d) in out {
        match combined.last_mut() {
            Some((u, k, c)) if *u == user && *k == key => c.combine(&d),
            _ => combined.push((user, key, d)),
        }
    }
    combined
}

pub async fn batch_bucket_rows_equal_one_bucket_at_a_time<S: Store + Probe>(store: S) {
    let (a, b) = (user(), user());
    let (one_a, one_b) = (user(), user());
    let batch = rows(a, b);
    let single = rows(one_a, one_b);
    let mut uow = store.begin().await.expect("begin");
    // Twice: the second time every row exists, so both the insert and the update path run.
    for _ in 0..2 {
        uow.add_to_bucket_rows(&batch).await.expect("rows");
        for (user, key, d) in &single {
            uow.add_to_buckets(*user, std::slice::from_ref(key), d)
                .await
                .expect("one bucket");
        }
    }
    uow.commit().await.expect("commit");

    let mut uow = store.begin().await.expect("begin");
    for (batched, one_by_one) in [(a, one_a), (b, one_b)] {
        for spans in [
            cover_everything(),
            cover(minute(0), minute(60)),
            cover(minute(60 * 24 * 30), minute(60 * 24 * 50)),
        ] {
            let got = uow.read_buckets(batched, &spans).await.expect("read");
            let want = uow.read_buckets(one_by_one, &spans).await.expect("read");
            assert_eq!(got, want, "{spans:?}");
        }
    }
    let all = uow
        .read_buckets(a, &cover_everything())
        .await
        .expect("read");
    assert_eq!(all.counters.watched, 6, "(2 + 1) × 2");
    assert_eq!(all.counters.longest_binge, 2, "a maximum, not a sum");
    assert_eq!(
        all.dimensions[&(Dimension::Genre, "Drama".into())].minutes,
        180
    );
    assert_eq!(
        uow.read_buckets(b, &cover_everything())
            .await
            .expect("read")
            .counters
            .minutes,
        240
    );
}
