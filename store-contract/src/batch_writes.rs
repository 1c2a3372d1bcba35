//! The handler-state reads and writes of a relay batch (SPEC §14): many processed marks in one
//! call, many statistics buckets in one call, the state read ahead for many users in one call
//! — each the same as the one-at-a-time form.

use std::collections::BTreeMap;

use viewing_domain::engagement::{Achievement, Reminder, ReminderStatus};
use viewing_domain::event_ports::ProcessedEvents;
use viewing_domain::handler_ports::{
    AchievementRepository, PreferenceRepository, ReminderRepository, StatisticsRepository,
};
use viewing_domain::ports::{BingeSessionRepository, Store, Transaction, UserRepository};
use viewing_domain::stats::{
    BingeStat, BucketKey, Dimension, StatsDelta, buckets_containing, cover, cover_everything,
};
use viewing_domain::{BingeSessionId, EventId, ShowId, UserId};

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

/// What a relay batch reads ahead (counters, achievements, reminders, binge sessions and their
/// counts of many users in one call) and the sums it writes at its end (counters, genre
/// points) equal the one-key-at-a-time forms.
pub async fn batch_reads_and_sums_equal_one_key_at_a_time<S: Store + Probe>(store: S) {
    let (a, b, c) = (user(), user(), user());
    let (show_a, show_b) = (ShowId::from(new_id()), ShowId::from(new_id()));
    let reminder = |user: UserId, show: ShowId, n: u32| Reminder {
        id: new_id(),
        user_id: user,
        show_id: show,
        episode_id: new_id().into(),
        season_number: 1,
        episode_number: n,
        last_watch_at: minute(i64::from(n)),
        due_at: minute(100),
        status: ReminderStatus::Scheduled,
        attempts: 0,
        sent_at: None,
        updated_at: minute(0),
    };
    let achievement = |user: UserId, code: &str| Achievement {
        user_id: user,
        code: code.into(),
        title: code.to_uppercase(),
        unlocked_at: minute(5),
    };
    let sessions = [
        session(a, show_a, minute(10), 3),
        session(b, show_b, minute(20), 7),
    ];
    let mut uow = store.begin().await.expect("begin");
    for (u, name, by) in [(a, "movies", 3), (a, "episodes", 7), (b, "movies", 1)] {
        uow.bump_counter(u, name, by).await.expect("bump");
    }
    for x in [
        achievement(a, "first-movie"),
        achievement(a, "marathon"),
        achievement(b, "first-movie"),
    ] {
        assert!(uow.unlock_achievement(&x).await.expect("unlock"));
    }
    for r in [reminder(a, show_a, 2), reminder(b, show_b, 4)] {
        uow.save_reminder(&r).await.expect("reminder");
    }
    for s in &sessions {
        uow.ensure_user(s.user_id, s.created_at)
            .await
            .expect("user");
        uow.save_binge_session(s).await.expect("session");
        let stat = BingeStat {
            session_id: s.id,
            user_id: s.user_id,
            start: s.start_time,
            episodes: s.episodes_watched,
        };
        uow.save_binge_stat(&stat).await.expect("stat");
    }
    uow.add_genre_points(a, "Drama", 1).await.expect("points");
    uow.commit().await.expect("commit");

    let mut uow = store.begin().await.expect("begin");
    // Counters: a missing one may be left out or answered as zero.
    let keys: Vec<(UserId, String)> = [
        (a, "movies"),
        (a, "episodes"),
        (a, "shows-completed"),
        (b, "movies"),
        (c, "movies"),
    ]
    .into_iter()
    .map(|(u, n)| (u, n.to_owned()))
    .collect();
    let read: BTreeMap<_, _> = uow
        .counters(&keys)
        .await
        .expect("counters")
        .into_iter()
        .filter(|(_, _, v)| *v != 0)
        .map(|(u, n, v)| ((u, n), v))
        .collect();
    let want: BTreeMap<_, _> = [((a, "movies"), 3), ((a, "episodes"), 7), ((b, "movies"), 1)]
        .into_iter()
        .map(|((u, n), v)| ((u, n.to_owned()), v))
        .collect();
    assert_eq!(read, want);
    // Achievements of several users, each as the one-user read says.
    let mut many = uow.achievements_of(&[a, b, c]).await.expect("achievements");
    many.sort_by(|x, y| (x.user_id, &x.code).cmp(&(y.user_id, &y.code)));
    let mut one = Vec::new();
    for u in [a, b, c] {
        one.extend(uow.achievements(u).await.expect("one"));
    }
    one.sort_by(|x, y| (x.user_id, &x.code).cmp(&(y.user_id, &y.code)));
    assert_eq!(many.len(), 3);
    assert_eq!(many, one);
    // Reminders of (user, show) keys; a key of another user's show finds nothing.
    let mut many = uow
        .reminders_of(&[(a, show_a), (a, show_b), (b, show_b), (c, show_a)])
        .await
        .expect("reminders");
    many.sort_by_key(|r| r.user_id);
    let mut one = vec![
        uow.reminder(a, show_a).await.expect("one").expect("a's"),
        uow.reminder(b, show_b).await.expect("one").expect("b's"),
    ];
    one.sort_by_key(|r| r.user_id);
    assert_eq!(many, one);
    // Binge sessions and their counts by id; an unknown id finds nothing.
    let ids = [
        sessions[0].id,
        sessions[1].id,
        BingeSessionId::from(new_id()),
    ];
    let mut found = uow.binge_sessions_by_id(&ids).await.expect("sessions");
    found.sort_by_key(|s| s.start_time);
    assert_eq!(found, sessions.to_vec());
    let mut stats = uow.binge_stats(&ids).await.expect("stats");
    stats.sort_by_key(|s| s.start);
    let mut one = Vec::new();
    for id in &ids {
        one.extend(uow.binge_stat(*id).await.expect("one"));
    }
    assert_eq!(stats, one);
    assert_eq!(stats.len(), 2);
    // Sums: added to what is stored, a missing key starting at zero.
    uow.bump_counters(&[(a, "movies".into(), 2), (c, "episodes".into(), 5)])
        .await
        .expect("bump many");
    assert_eq!(uow.bump_counter(a, "movies", 0).await.expect("read"), 5);
    assert_eq!(uow.bump_counter(c, "episodes", 0).await.expect("read"), 5);
    assert_eq!(uow.bump_counter(a, "episodes", 0).await.expect("read"), 7);
    uow.add_genre_points_many(&[
        (a, "Comedy".into(), -1),
        (a, "Drama".into(), 3),
        (b, "Drama".into(), 2),
    ])
    .await
    .expect("points many");
    let mut scores: Vec<_> = uow
        .genre_scores(a)
        .await
        .expect("scores")
        .into_iter()
        .map(|g| (g.genre, g.points))
        .collect();
    scores.sort();
    assert_eq!(
        scores,
        vec![("Comedy".to_owned(), -1), ("Drama".to_owned(), 4)]
    );
    let b_scores = uow.genre_scores(b).await.expect("scores");
    assert_eq!(b_scores.len(), 1);
    assert_eq!(b_scores[0].points, 2);
}
