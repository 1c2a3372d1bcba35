//! Viewing records: round trips, counts, a show's episode records, binge session moves.

use viewing_domain::ports::{
    CatalogRepository, Store, StoreError, Transaction, UserRepository, ViewingRecordRepository,
};
use viewing_domain::{BingeSessionId, MovieId, RecordId, ShowStatus, UserId, ViewingRecord};

use crate::Probe;
use crate::fixtures::*;

/// Stores `records` (creating their users) in one committed unit of work.
pub(crate) async fn insert_all<S: Store>(store: &S, records: &[ViewingRecord]) {
    let mut uow = store.begin().await.expect("begin");
    for r in records {
        uow.ensure_user(r.user_id, r.created_at)
            .await
            .expect("ensure user");
        uow.insert_record(r).await.expect("insert record");
    }
    uow.commit().await.expect("commit");
}

async fn read<S: Store>(store: &S, user: UserId, id: RecordId) -> Option<ViewingRecord> {
    let mut uow = store.begin().await.expect("begin");
    uow.record(user, id).await.expect("read record")
}

pub async fn record_movie_round_trip<S: Store + Probe>(store: S) {
    let u = user();
    let m = movie("Amélie", 122);
    let mut uow = store.begin().await.expect("begin");
    uow.upsert_movie(&m).await.expect("movie");
    uow.commit().await.expect("commit");

    let full = full_movie_record(u, m.id);
    let bare = movie_record(u, m.id, at(5_000, 1));
    insert_all(&store, &[full.clone(), bare.clone()]).await;
    assert_eq!(read(&store, u, full.id).await, Some(full));
    assert_eq!(read(&store, u, bare.id).await, Some(bare));
}

pub async fn record_episode_round_trip<S: Store + Probe>(store: S) {
    let u = user();
    let s = show("Dark", ShowStatus::Ended, &[3], 1);
    let session = BingeSessionId::from(new_id());
    let pinned = ViewingRecord {
        binge_session_id: Some(session),
        binge_session_pinned: true,
        platform: Some(platform("Netflix")),
        viewing_duration: None,
        ..episode_record(u, &s, 1, 2, at(60, 999_999))
    };
    let backfilled = ViewingRecord {
        backfilled: true,
        ..episode_record(u, &s, 1, 1, at(60, 999_999))
    };
    let special = ViewingRecord {
        is_rewatch: true,
        viewing_duration: Some(minutes(0)),
        ..episode_record(u, &s, 0, 1, at(-86_400 * 400, 7))
    };
    insert_all(
        &store,
        &[pinned.clone(), backfilled.clone(), special.clone()],
    )
    .await;
    for r in [pinned, backfilled, special] {
        assert_eq!(read(&store, u, r.id).await, Some(r));
    }
}

pub async fn record_of_another_user_is_none<S: Store + Probe>(store: S) {
    let (owner, stranger) = (user(), user());
    let r = movie_record(owner, MovieId::from(new_id()), minute(1));
    insert_all(&store, std::slice::from_ref(&r)).await;
    assert_eq!(read(&store, stranger, r.id).await, None);
    assert_eq!(read(&store, owner, RecordId::from(new_id())).await, None);
    assert_eq!(read(&store, owner, r.id).await, Some(r));
}

pub async fn record_duplicate_id_conflicts<S: Store + Probe>(store: S) {
    let u = user();
    let r = movie_record(u, MovieId::from(new_id()), minute(1));
    insert_all(&store, std::slice::from_ref(&r)).await;
    let mut uow = store.begin().await.expect("begin");
    let again = ViewingRecord {
        watch_date: minute(2),
        ..r.clone()
    };
    let err = uow.insert_record(&again).await.expect_err("duplicate id");
    assert!(matches!(err, StoreError::Conflict(_)), "got {err:?}");
    drop(uow);
    assert_eq!(read(&store, u, r.id).await, Some(r));
}

pub async fn record_counts<S: Store + Probe>(store: S) {
    let (a, b) = (user(), user());
    let m = MovieId::from(new_id());
    let s = show("Fargo", ShowStatus::Returning, &[2], 0);
    let e1 = episode(&s, 1, 1).id;
    insert_all(
        &store,
        &[
            movie_record(a, m, minute(1)),
            movie_record(a, m, minute(2)),
            movie_record(b, m, minute(3)),
            episode_record(a, &s, 1, 1, minute(4)),
        ],
    )
    .await;
    let mut uow = store.begin().await.expect("begin");
    assert_eq!(
        uow.count_records_of(a, m.as_uuid()).await.expect("count"),
        2
    );
    assert_eq!(
        uow.count_records_of(b, m.as_uuid()).await.expect("count"),
        1
    );
    assert_eq!(
        uow.count_records_of(a, e1.as_uuid()).await.expect("count"),
        1
    );
    assert_eq!(
        uow.count_records_of(b, e1.as_uuid()).await.expect("count"),
        0
    );
    assert_eq!(uow.count_records_of(a, new_id()).await.expect("count"), 0);
}

pub async fn record_episode_records_of_show<S: Store + Probe>(store: S) {
    let (u, other) = (user(), user());
    let s = show("Severance", ShowStatus::Returning, &[3], 1);
    let t = show("Andor", ShowStatus::Ended, &[3], 0);
    let mine = vec![
        episode_record(u, &s, 1, 1, minute(10)),
        episode_record(u, &s, 1, 2, minute(60)),
        ViewingRecord {
            is_rewatch: true,
            ..episode_record(u, &s, 1, 1, minute(120))
        },
        episode_record(u, &s, 0, 1, minute(5)),
    ];
    let mut all = mine.clone();
    all.push(episode_record(other, &s, 1, 1, minute(10)));
    all.push(episode_record(u, &t, 1, 1, minute(10)));
    all.push(movie_record(u, MovieId::from(new_id()), minute(10)));
    insert_all(&store, &all).await;

    let mut uow = store.begin().await.expect("begin");
    let mut got = uow.episode_records(u, s.id).await.expect("episode records");
    got.sort_by_key(|r| r.id);
    let mut want = mine;
    want.sort_by_key(|r| r.id);
    assert_eq!(got, want);
    assert!(
        uow.episode_records(user(), s.id)
            .await
            .expect("none")
            .is_empty()
    );
}

/// `episode_records_of_shows`: per show exactly what `episode_records` returns (same records,
/// same order, companions in order), other users' and other shows' records left out, shows
/// without records absent.
pub async fn record_episode_records_of_shows<S: Store + Probe>(store: S) {
    let (u, other) = (user(), user());
    let s = show("Severance", ShowStatus::Returning, &[3], 1);
    let t = show("Andor", ShowStatus::Ended, &[3], 0);
    let not_asked = show("Dark", ShowStatus::Ended, &[2], 0);
    let unwatched = show("Shogun", ShowStatus::Ended, &[2], 0);
    let mut all = vec![
        episode_record(u, &s, 1, 2, minute(60)),
        ViewingRecord {
            watched_with: companions(&["Zoe", "Adam", "Mia"]),
            ..episode_record(u, &s, 1, 1, minute(10))
        },
        ViewingRecord {
            is_rewatch: true,
            ..episode_record(u, &s, 1, 1, minute(120))
        },
        episode_record(u, &s, 0, 1, minute(5)),
        // Same watch date: ordered by id, as `episode_records` orders them.
        episode_record(u, &t, 1, 2, minute(30)),
        episode_record(u, &t, 1, 1, minute(30)),
        episode_record(u, &not_asked, 1, 1, minute(10)),
        episode_record(other, &s, 1, 1, minute(10)),
        episode_record(other, &unwatched, 1, 1, minute(10)),
        movie_record(u, MovieId::from(new_id()), minute(10)),
    ];
    all.rotate_left(3);
    insert_all(&store, &all).await;

    let mut uow = store.begin().await.expect("begin");
    let got = uow
        .episode_records_of_shows(u, &[s.id, t.id, unwatched.id])
        .await
        .expect("episode records of shows");
    let mut shows: Vec<_> = got.keys().copied().collect();
    shows.sort();
    let mut want_shows = vec![s.id, t.id];
    want_shows.sort();
    assert_eq!(
        shows, want_shows,
        "only the shows asked for that the user watched"
    );
    for show in [s.id, t.id] {
        let one = uow.episode_records(u, show).await.expect("episode records");
        assert_eq!(got.get(&show), Some(&one), "as episode_records reads them");
    }
    assert_eq!(got.get(&s.id).map(Vec::len), Some(4));
    assert_eq!(got.get(&t.id).map(Vec::len), Some(2));
    assert!(
        got.values()
            .flatten()
            .all(|r| all.contains(r) && r.user_id == u),
        "every record read back as stored"
    );
    assert!(
        uow.episode_records_of_shows(u, &[])
            .await
            .expect("no shows")
            .is_empty()
    );
    assert!(
        uow.episode_records_of_shows(user(), &[s.id, t.id])
            .await
            .expect("unknown user")
            .is_empty()
    );
    // Across users, by (user, show) key: each as `episode_records` reads it.
    let keys = [
        (u, s.id),
        (other, s.id),
        (u, t.id),
        (other, t.id),
        (u, unwatched.id),
    ];
    let many = uow
        .episode_records_of_user_shows(&keys)
        .await
        .expect("records of user shows");
    let mut got_keys: Vec<_> = many.keys().copied().collect();
    got_keys.sort();
    let mut want_keys = vec![(u, s.id), (other, s.id), (u, t.id)];
    want_keys.sort();
    assert_eq!(got_keys, want_keys, "keys without records are absent");
    for (user, show) in want_keys {
        let one = uow.episode_records(user, show).await.expect("one");
        assert_eq!(
            many.get(&(user, show)),
            Some(&one),
            "as episode_records reads them"
        );
    }
    assert_eq!(many.get(&(u, s.id)).map(Vec::len), Some(4));
    assert!(
        uow.episode_records_of_user_shows(&[])
            .await
            .expect("no keys")
            .is_empty()
    );
}

pub async fn record_set_binge_session<S: Store + Probe>(store: S) {
    let u = user();
    let s = show("Chernobyl", ShowStatus::Ended, &[5], 0);
    let r1 = episode_record(u, &s, 1, 1, minute(0));
    let r2 = episode_record(u, &s, 1, 2, minute(50));
    insert_all(&store, &[r1.clone(), r2.clone()]).await;
    let session = BingeSessionId::from(new_id());

    let mut uow = store.begin().await.expect("begin");
    uow.set_binge_session(r1.id, Some(session))
        .await
        .expect("move");
    uow.set_binge_session(r2.id, Some(session))
        .await
        .expect("move");
    // Unknown records are ignored.
    uow.set_binge_session(RecordId::from(new_id()), Some(session))
        .await
        .expect("unknown record");
    uow.commit().await.expect("commit");

    let mut uow = store.begin().await.expect("begin");
    let records = uow.episode_records(u, s.id).await.expect("read");
    assert!(
        records
            .iter()
            .all(|r| r.binge_session_id == Some(session) && !r.binge_session_pinned)
    );
    uow.set_binge_session(r1.id, None).await.expect("clear");
    uow.commit().await.expect("commit");

    let cleared = read(&store, u, r1.id).await.expect("record");
    assert_eq!(cleared.binge_session_id, None);
    assert_eq!(
        read(&store, u, r2.id)
            .await
            .expect("record")
            .binge_session_id,
        Some(session)
    );
    assert_eq!(cleared, r1);
}
