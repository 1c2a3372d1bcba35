//! The storage-touching rules, driven through the use cases of `viewing-app` so every store is
//! proven to give them what they need (order check, rewatch, completion once, binge sessions,
//! progress, abandon, history through the service).

use std::sync::Arc;

use adapters_memory::ManualClock;
use chrono::{DateTime, Utc};
use viewing_app::history::{HistoryPageRequest, decode_cursor};
use viewing_app::{AppError, UuidV7, ViewingService};
use viewing_domain::ports::{
    BingeSessionRepository, CatalogRepository, HistoryFilter, HistoryPaging,
    ShowProgressRepository, Store, Transaction, ViewingRecordRepository,
};
use viewing_domain::rules::abandon::Abandon;
use viewing_domain::rules::episode::WatchEpisode;
use viewing_domain::rules::movie::WatchMovie;
use viewing_domain::rules::progress::ProgressStatus;
use viewing_domain::{
    BingeSessionId, DomainEvent, ItemType, Movie, RulesConfig, Show, ShowStatus, UserId,
};

use crate::Probe;
use crate::fixtures::*;

/// "Now" for the use-case tests: well after every fixture watch date.
pub(crate) fn now() -> DateTime<Utc> {
    minute(100_000)
}

pub(crate) fn service<S: Store>(store: S) -> ViewingService<S> {
    ViewingService::with_parts(
        store,
        Arc::new(ManualClock::new(now())),
        Arc::new(UuidV7),
        RulesConfig::default(),
    )
}

pub(crate) async fn add_show<S: Store>(store: &S, show: &Show) {
    let mut uow = store.begin().await.expect("begin");
    uow.upsert_show(show).await.expect("show");
    uow.commit().await.expect("commit");
}

async fn add_movie<S: Store>(store: &S, movie: &Movie) {
    let mut uow = store.begin().await.expect("begin");
    uow.upsert_movie(movie).await.expect("movie");
    uow.commit().await.expect("commit");
}

pub(crate) fn at_minute(m: i64) -> WatchEpisode {
    WatchEpisode {
        watch_date: Some(minute(m)),
        ..Default::default()
    }
}

pub(crate) fn of_type(events: &[viewing_domain::EventEnvelope], kind: &str) -> usize {
    events.iter().filter(|e| e.event_type() == kind).count()
}

async fn stored_progress<S: Store>(
    store: &S,
    u: UserId,
    show: &Show,
) -> Option<viewing_domain::ShowProgress> {
    let mut uow = store.begin().await.expect("begin");
    uow.progress(u, show.id).await.expect("progress")
}

pub async fn app_order_check_rejects_and_writes_nothing<S: Store + Probe>(store: S) {
    let svc = service(store.clone());
    let s = show("Breaking Bad", ShowStatus::Ended, &[3], 1);
    add_show(&store, &s).await;
    let u = user();
    let (e1, e2) = (episode(&s, 1, 1).id, episode(&s, 1, 2).id);

    let err = svc
        .watch_episode(u, e2, at_minute(10))
        .await
        .expect_err("S1E2 before S1E1");
    let AppError::EpisodeOutOfOrder(missing) = err else {
        panic!("expected episode-out-of-order, got {err:?}");
    };
    assert_eq!(
        (
            missing.episode_id,
            missing.season_number,
            missing.episode_number
        ),
        (e1, 1, 1)
    );
    let mut uow = store.begin().await.expect("begin");
    let h = uow
        .history(
            u,
            &HistoryFilter::default(),
            HistoryPaging::First { limit: 10 },
        )
        .await
        .expect("history");
    assert_eq!(h.total_items, 0, "a refused watch writes nothing");
    assert_eq!(uow.progress(u, s.id).await.expect("progress"), None);
    drop(uow);
    assert!(store.outbox_events().await.is_empty());

    // Specials are never order-checked.
    svc.watch_episode(u, episode(&s, 0, 1).id, at_minute(5))
        .await
        .expect("a special at any time");

    // markPreviousWatched records the missing episode first, backfilled, same watch date.
    let done = svc
        .watch_episode(
            u,
            e2,
            WatchEpisode {
                mark_previous_watched: true,
                ..at_minute(20)
            },
        )
        .await
        .expect("S1E2 with markPreviousWatched");
    assert!(!done.record.backfilled && !done.record.is_rewatch);
    let mut uow = store.begin().await.expect("begin");
    let records = uow.episode_records(u, s.id).await.expect("records");
    let backfilled: Vec<_> = records.iter().filter(|r| r.backfilled).collect();
    assert_eq!(backfilled.len(), 1);
    assert_eq!(backfilled[0].watched.content_id(), e1.as_uuid());
    assert_eq!(backfilled[0].watch_date, minute(20));
    assert_eq!(backfilled[0].binge_session_id, None);
    let p = uow.progress(u, s.id).await.expect("progress").expect("row");
    assert_eq!(p.total_episodes_watched, 2);
    assert_eq!(
        (p.last_watched_season, p.last_watched_episode),
        (Some(1), Some(2))
    );
}

pub async fn app_rewatch_leaves_progress<S: Store + Probe>(store: S) {
    let svc = service(store.clone());
    let s = show("The Office", ShowStatus::Ended, &[4], 0);
    add_show(&store, &s).await;
    let u = user();
    let e1 = episode(&s, 1, 1).id;
    let first = svc.watch_episode(u, e1, at_minute(0)).await.expect("first");
    assert!(!first.record.is_rewatch);
    let before = stored_progress(&store, u, &s).await.expect("progress");
    let again = svc
        .watch_episode(u, e1, at_minute(600))
        .await
        .expect("rewatch");
    assert!(again.record.is_rewatch);
    assert_ne!(
        again.record.id, first.record.id,
        "rewatches never overwrite"
    );
    let after = stored_progress(&store, u, &s).await.expect("progress");
    assert_eq!(after.total_episodes_watched, before.total_episodes_watched);
    assert_eq!(after.total_episodes_watched, 1);
    assert_eq!(after.last_activity_at, Some(minute(600)));
    let view = svc.progress(u, s.id).await.expect("progress view");
    assert_eq!(view.episodes_watched, 1);
    let mut uow = store.begin().await.expect("begin");
    assert_eq!(
        uow.count_records_of(u, e1.as_uuid()).await.expect("count"),
        2
    );
}

pub async fn app_season_completed_once<S: Store + Probe>(store: S) {
    let svc = service(store.clone());
    let s = show("Fleabag", ShowStatus::Ended, &[2, 2], 0);
    add_show(&store, &s).await;
    let u = user();
    let ep = |season, n| episode(&s, season, n).id;

    assert!(
        !svc.watch_episode(u, ep(1, 1), at_minute(0))
            .await
            .expect("S1E1")
            .season_completed
    );
    let done = svc
        .watch_episode(u, ep(1, 2), at_minute(30))
        .await
        .expect("S1E2");
    assert!(done.season_completed && !done.show_completed);
    let again = svc
        .watch_episode(u, ep(1, 2), at_minute(60))
        .await
        .expect("rewatch S1E2");
    assert!(!again.season_completed);
    let events = store.outbox_events().await;
    assert_eq!(of_type(&events, "TVSeasonCompleted"), 1);

    svc.watch_episode(u, ep(2, 1), at_minute(100))
        .await
        .expect("S2E1");
    let last = svc
        .watch_episode(u, ep(2, 2), at_minute(130))
        .await
        .expect("S2E2");
    assert!(last.season_completed && last.show_completed);
    svc.watch_episode(u, ep(2, 2), at_minute(200))
        .await
        .expect("rewatch finale");
    svc.watch_episode(u, ep(1, 1), at_minute(210))
        .await
        .expect("rewatch pilot");

    let events = store.outbox_events().await;
    assert_eq!(of_type(&events, "TVSeasonCompleted"), 2);
    assert_eq!(of_type(&events, "TVShowCompleted"), 1);
    assert_eq!(of_type(&events, "TVEpisodeWatched"), 7);
    let seasons: Vec<u32> = events
        .iter()
        .filter_map(|e| match &e.event {
            DomainEvent::TvSeasonCompleted(c) => Some(c.season_number),
            _ => None,
        })
        .collect();
    assert_eq!(seasons, vec![1, 2]);
    let p = stored_progress(&store, u, &s).await.expect("progress");
    assert!(p.is_completed);
    assert_eq!(p.completion_date, Some(minute(130)));
    assert_eq!(
        p.completed_seasons
            .iter()
            .map(|c| (c.season_number, c.completed_at))
            .collect::<Vec<_>>(),
        vec![(1, minute(30)), (2, minute(130))]
    );
}

pub async fn app_binge_session_on_second_episode<S: Store + Probe>(store: S) {
    let svc = service(store.clone());
    let s = show("Stranger Things", ShowStatus::Returning, &[5], 0);
    add_show(&store, &s).await;
    let u = user();
    let ep = |n| episode(&s, 1, n).id;

    let r1 = svc.watch_episode(u, ep(1), at_minute(0)).await.expect("E1");
    assert_eq!(r1.record.binge_session_id, None, "one episode is no binge");
    let r2 = svc
        .watch_episode(u, ep(2), at_minute(50))
        .await
        .expect("E2");
    let sid = r2.record.binge_session_id.expect("E2 starts a session");

    let mut uow = store.begin().await.expect("begin");
    let first = uow
        .record(u, r1.record.id)
        .await
        .expect("read")
        .expect("E1 record");
    assert_eq!(
        first.binge_session_id,
        Some(sid),
        "E1 joins the new session"
    );
    let session = uow
        .binge_session(sid)
        .await
        .expect("read")
        .expect("session");
    assert_eq!(
        (
            session.start_time,
            session.end_time,
            session.episodes_watched
        ),
        (minute(0), minute(50), 2)
    );
    drop(uow);

    let r3 = svc
        .watch_episode(u, ep(3), at_minute(100))
        .await
        .expect("E3");
    assert_eq!(r3.record.binge_session_id, Some(sid));
    // Four hours later: too long a pause for the same binge.
    let r4 = svc
        .watch_episode(u, ep(4), at_minute(340))
        .await
        .expect("E4");
    assert_eq!(r4.record.binge_session_id, None);

    let mut uow = store.begin().await.expect("begin");
    let sessions = uow.binge_sessions_of_show(u, s.id).await.expect("sessions");
    assert_eq!(sessions.len(), 1);
    assert_eq!(
        (
            sessions[0].id,
            sessions[0].end_time,
            sessions[0].episodes_watched
        ),
        (sid, minute(100), 3)
    );
    let expected = sessions[0].clone();
    drop(uow);

    // The query for one session (SPEC §15): the user's own, nobody else's.
    assert_eq!(
        svc.binge_session(u, sid).await.expect("own session"),
        expected
    );
    assert!(matches!(
        svc.binge_session(user(), sid).await,
        Err(AppError::NotFound)
    ));
    assert!(matches!(
        svc.binge_session(u, BingeSessionId::from(new_id())).await,
        Err(AppError::NotFound)
    ));
}

pub async fn app_progress_numbers<S: Store + Probe>(store: S) {
    let svc = service(store.clone());
    let s = show("Mad Men", ShowStatus::Returning, &[3, 2], 1);
    add_show(&store, &s).await;
    let u = user();
    for (i, n) in (1..=3).enumerate() {
        svc.watch_episode(u, episode(&s, 1, n).id, at_minute(i as i64 * 1_000))
            .await
            .expect("season 1");
    }
    svc.watch_episode(u, episode(&s, 0, 1).id, at_minute(5_000))
        .await
        .expect("special");

    let view = svc.progress(u, s.id).await.expect("progress");
    assert_eq!(view.status, ProgressStatus::Watching);
    assert_eq!((view.episodes_watched, view.total_episodes), (3, 5));
    assert_eq!(view.completion_percent, percent(60.0));
    assert_eq!(view.completed_seasons, 1);
    let last = view.last_watched.expect("last watched");
    assert_eq!((last.season_number, last.episode_number), (1, 3));
    assert_eq!(last.watch_date, minute(2_000));
    let next = view.next_episode.expect("up next");
    assert_eq!(
        (next.episode_id, next.season_number, next.episode_number),
        (episode(&s, 2, 1).id, 2, 1)
    );
    assert_eq!(view.seasons.len(), 2);
    assert!(view.seasons[0].completed);
    assert_eq!(view.seasons[0].completion_date, Some(minute(2_000)));
    assert_eq!(view.last_activity_at, Some(minute(5_000)));
    let up_next = svc.up_next(u).await.expect("up next");
    assert_eq!(up_next.len(), 1);
    assert_eq!(up_next[0].show_id, s.id);

    let p = stored_progress(&store, u, &s).await.expect("progress row");
    assert_eq!(p.total_episodes_watched, 3);
    assert_eq!(p.completed_seasons.len(), 1);
    assert_eq!(p.last_activity_at, Some(minute(5_000)));
}

pub async fn app_movie_rewatch_and_history<S: Store + Probe>(store: S) {
    let svc = service(store.clone());
    let m = movie("Paprika", 90);
    add_movie(&store, &m).await;
    let u = user();
    let first = svc
        .watch_movie(
            u,
            m.id,
            WatchMovie {
                watch_date: Some(minute(10)),
                watched_with: companions(&["Kei", "Ada"]),
                viewing_platform: Some(platform("Criterion")),
                ..Default::default()
            },
        )
        .await
        .expect("first viewing");
    assert!(!first.is_rewatch);
    let mut ids = vec![first.id];
    for i in 0..4 {
        let r = svc
            .watch_movie(
                u,
                m.id,
                WatchMovie {
                    watch_date: Some(minute(20 + i)),
                    ..Default::default()
                },
            )
            .await
            .expect("rewatch");
        assert!(
            r.is_rewatch,
            "omitted isRewatch is true after a first viewing"
        );
        ids.push(r.id);
    }
    let stored = svc.viewing_record(u, first.id).await.expect("record");
    assert_eq!(stored, first);
    assert!(matches!(
        svc.viewing_record(user(), first.id).await,
        Err(AppError::NotFound)
    ));

    // Cursor paging through the service: every record once, newest first.
    ids.reverse();
    let mut seen = Vec::new();
    let mut request = HistoryPageRequest::new(None, Some(2), None).expect("paging");
    loop {
        let page = svc
            .history(u, &HistoryFilter::default(), request)
            .await
            .expect("history");
        assert_eq!(page.total_items, 5);
        seen.extend(page.items.iter().map(|i| i.record.id));
        assert!(
            page.items
                .iter()
                .all(|i| i.title.as_deref() == Some("Paprika"))
        );
        match page.next_cursor {
            Some(c) => {
                let cursor = decode_cursor(&c).expect("a cursor the service issued");
                request = HistoryPageRequest::new(None, Some(2), Some(cursor)).expect("paging");
            }
            None => break,
        }
    }
    assert_eq!(seen, ids);
    assert_eq!(of_type(&store.outbox_events().await, "MovieWatched"), 5);
}

pub async fn app_abandon_show<S: Store + Probe>(store: S) {
    let svc = service(store.clone());
    let s = show("Westworld", ShowStatus::Canceled, &[4], 0);
    add_show(&store, &s).await;
    let u = user();
    svc.watch_episode(u, episode(&s, 1, 1).id, at_minute(0))
        .await
        .expect("S1E1");
    let a = svc
        .abandon(
            u,
            s.id.as_uuid(),
            Abandon {
                abandon_date: Some(minute(60)),
                quality_rating: Some(rating(3.5)),
                ..Default::default()
            },
        )
        .await
        .expect("abandon");
    assert_eq!(a.item_type, ItemType::Show);
    assert_eq!(
        a.progress_percent,
        percent(25.0),
        "default: completion percent"
    );
    assert_eq!(svc.abandon_record(u, a.id).await.expect("read"), a);
    let view = svc.progress(u, s.id).await.expect("progress");
    assert_eq!(view.status, ProgressStatus::Dropped);
    assert_eq!(of_type(&store.outbox_events().await, "ViewingAbandoned"), 1);
    assert!(matches!(
        svc.abandon(u, new_id(), Abandon::default()).await,
        Err(AppError::ContentNotFound)
    ));

    // Watching again resumes the show.
    svc.watch_episode(u, episode(&s, 1, 2).id, at_minute(120))
        .await
        .expect("S1E2");
    let view = svc.progress(u, s.id).await.expect("progress");
    assert_eq!(view.status, ProgressStatus::Watching);
}
