//! Show progress, binge sessions, abandons and the outbox.

use chrono::Duration;
use viewing_domain::events::{
    CompletionChanges, DomainEvent, IsoDuration, ShowProgressReset, TvEpisodeWatched,
    TvSeasonCompleted, ViewingAbandoned,
};
use viewing_domain::ports::{
    AbandonRepository, BingeSessionRepository, Outbox, ShowProgressRepository, Store, Transaction,
    UserRepository,
};
use viewing_domain::{
    AbandonId, AbandonRecord, BingeSessionId, EpisodeId, EventEnvelope, EventId, ItemType,
    PassSummary, RecordId, SeasonCompletion, SeasonId, ShowId, ShowProgress, UserId,
};

use crate::Probe;
use crate::fixtures::*;

async fn save<S: Store>(store: &S, progress: &[ShowProgress]) {
    let mut uow = store.begin().await.expect("begin");
    for p in progress {
        uow.ensure_user(p.user_id, p.updated_at)
            .await
            .expect("ensure user");
        uow.save_progress(p).await.expect("save progress");
    }
    uow.commit().await.expect("commit");
}

fn progress(u: UserId, last_activity: Option<i64>) -> ShowProgress {
    let mut p = ShowProgress::new(u, ShowId::from(new_id()), minute(0));
    if let Some(m) = last_activity {
        p.last_watched_season = Some(1);
        p.last_watched_episode = Some(3);
        p.last_watched_episode_id = Some(EpisodeId::from(new_id()));
        p.last_watch_date = Some(minute(m));
        p.total_episodes_watched = 3;
        p.last_activity_at = Some(minute(m));
        p.updated_at = minute(m);
    }
    p
}

pub async fn progress_round_trip<S: Store + Probe>(store: S) {
    let u = user();
    let mut p = progress(u, Some(100));
    p.last_activity_at = Some(at(7_000, 42));
    p.completed_seasons = vec![
        SeasonCompletion {
            season_id: SeasonId::from(new_id()),
            season_number: 1,
            completed_at: at(3_000, 1),
        },
        SeasonCompletion {
            season_id: SeasonId::from(new_id()),
            season_number: 2,
            completed_at: at(6_000, 2),
        },
    ];
    let fresh = ShowProgress::new(u, ShowId::from(new_id()), at(1, 999_999));
    save(&store, &[p.clone(), fresh.clone()]).await;

    let mut uow = store.begin().await.expect("begin");
    assert_eq!(
        uow.progress(u, p.show_id).await.expect("read"),
        Some(p.clone())
    );
    assert_eq!(
        uow.progress(u, fresh.show_id).await.expect("read"),
        Some(fresh.clone())
    );
    assert_eq!(uow.progress(user(), p.show_id).await.expect("read"), None);
    drop(uow);

    // Saving again replaces the row and its completions.
    p.completed_seasons.push(SeasonCompletion {
        season_id: SeasonId::from(new_id()),
        season_number: 3,
        completed_at: at(9_000, 3),
    });
    p.total_episodes_watched = 30;
    p.is_completed = true;
    p.completion_date = Some(at(9_000, 3));
    p.inactivity_reported_at = Some(at(9_500, 0));
    p.updated_at = at(9_600, 0);
    // A reset closed the first pass: its completions are kept with it.
    p.reset_at = Some(at(8_000, 654_321));
    p.earlier_passes = vec![PassSummary {
        started_at: None,
        completed_seasons: vec![SeasonCompletion {
            season_id: SeasonId::from(new_id()),
            season_number: 1,
            completed_at: at(2_000, 123_457),
        }],
        completion_date: Some(at(2_500, 7)),
    }];
    save(&store, &[p.clone()]).await;
    let mut uow = store.begin().await.expect("begin");
    assert_eq!(uow.progress(u, p.show_id).await.expect("read"), Some(p));
}

pub async fn progress_of_user_most_recent_first<S: Store + Probe>(store: S) {
    let u = user();
    let old = progress(u, Some(10));
    let new = progress(u, Some(500));
    let middle = progress(u, Some(100));
    let never = progress(u, None);
    let someone_else = progress(user(), Some(1_000));
    save(
        &store,
        &[
            never.clone(),
            old.clone(),
            new.clone(),
            middle.clone(),
            someone_else,
        ],
    )
    .await;
    let mut uow = store.begin().await.expect("begin");
    let got = uow.progress_of_user(u).await.expect("list");
    assert_eq!(got, vec![new, middle, old, never]);
    assert!(uow.progress_of_user(user()).await.expect("list").is_empty());
}

pub async fn progress_idle<S: Store + Probe>(store: S) {
    let (a, b) = (user(), user());
    let idle_a = progress(a, Some(10));
    let idle_b = progress(b, Some(20));
    let idle_b_older = progress(b, Some(5));
    let recent = progress(a, Some(1_000));
    let mut completed = progress(a, Some(1));
    completed.is_completed = true;
    completed.completion_date = Some(minute(1));
    let mut reported = progress(b, Some(1));
    reported.inactivity_reported_at = Some(minute(900));
    let mut nothing_watched = progress(a, Some(1));
    nothing_watched.total_episodes_watched = 0;
    let boundary = progress(a, Some(100));
    save(
        &store,
        &[
            idle_a.clone(),
            idle_b.clone(),
            idle_b_older.clone(),
            recent,
            completed,
            reported,
            nothing_watched,
            boundary,
        ],
    )
    .await;
    let mut uow = store.begin().await.expect("begin");
    // Strictly before `idle_since`; oldest activity first.
    let got = uow.idle_progress(minute(100), 10).await.expect("idle");
    assert_eq!(got, vec![idle_b_older.clone(), idle_a, idle_b]);
    let got = uow.idle_progress(minute(100), 1).await.expect("idle");
    assert_eq!(got, vec![idle_b_older]);
}

pub async fn binge_sessions_crud<S: Store + Probe>(store: S) {
    let u = user();
    let s = ShowId::from(new_id());
    let later = session(u, s, at(10_000, 5), 3);
    let earlier = session(u, s, at(5_000, 7), 2);
    let other_show = session(u, ShowId::from(new_id()), at(1, 0), 2);
    let other_user = session(user(), s, at(2, 0), 2);
    let mut uow = store.begin().await.expect("begin");
    for x in [&later, &earlier, &other_show, &other_user] {
        uow.ensure_user(x.user_id, x.created_at)
            .await
            .expect("user");
        uow.save_binge_session(x).await.expect("save session");
    }
    uow.commit().await.expect("commit");

    let mut uow = store.begin().await.expect("begin");
    assert_eq!(
        uow.binge_session(later.id).await.expect("read"),
        Some(later.clone())
    );
    assert_eq!(
        uow.binge_session(other_user.id).await.expect("read"),
        Some(other_user.clone()),
        "any user's session is returned; the caller checks ownership"
    );
    assert_eq!(
        uow.binge_session(BingeSessionId::from(new_id()))
            .await
            .expect("read"),
        None
    );
    assert_eq!(
        uow.user_binge_session(u, later.id).await.expect("read"),
        Some(later.clone()),
        "the user's own session"
    );
    assert_eq!(
        uow.user_binge_session(u, other_user.id)
            .await
            .expect("read"),
        None,
        "another user's session is not the user's"
    );
    assert_eq!(
        uow.user_binge_session(other_user.user_id, other_user.id)
            .await
            .expect("read"),
        Some(other_user.clone())
    );
    assert_eq!(
        uow.user_binge_session(u, BingeSessionId::from(new_id()))
            .await
            .expect("read"),
        None
    );
    assert_eq!(
        uow.binge_sessions_of_show(u, s).await.expect("list"),
        vec![earlier.clone(), later.clone()]
    );

    let mut extended = later.clone();
    extended.end_time += Duration::minutes(45);
    extended.episodes_watched += 1;
    uow.save_binge_session(&extended).await.expect("update");
    uow.delete_binge_session(earlier.id).await.expect("delete");
    uow.delete_binge_session(BingeSessionId::from(new_id()))
        .await
        .expect("delete unknown");
    uow.commit().await.expect("commit");

    let mut uow = store.begin().await.expect("begin");
    assert_eq!(
        uow.binge_sessions_of_show(u, s).await.expect("list"),
        vec![extended]
    );
    assert_eq!(uow.binge_session(earlier.id).await.expect("read"), None);
}

pub async fn abandon_round_trip_and_queries<S: Store + Probe>(store: S) {
    let (u, other) = (user(), user());
    let item = new_id();
    let first = abandon(u, item, ItemType::Show, minute(100));
    let mut second = abandon(u, item, ItemType::Show, minute(200));
    second.progress_percent = percent(100.0);
    second.quality_rating = Some(rating(0.0));
    second.abandon_reason = None;
    second.would_retry = false;
    let mut movie = abandon(u, new_id(), ItemType::Movie, minute(150));
    movie.progress_percent = percent(0.0);
    movie.quality_rating = Some(rating(10.0));
    let mut odd = abandon(u, new_id(), ItemType::Movie, at(50, 3));
    odd.progress_percent = percent(33.33);
    odd.quality_rating = None;
    let foreign = abandon(other, item, ItemType::Show, minute(300));

    let mut uow = store.begin().await.expect("begin");
    for a in [&first, &second, &movie, &odd, &foreign] {
        uow.ensure_user(a.user_id, a.created_at)
            .await
            .expect("user");
        uow.insert_abandon(a).await.expect("insert abandon");
    }
    uow.commit().await.expect("commit");

    let mut uow = store.begin().await.expect("begin");
    for a in [&first, &second, &movie, &odd] {
        assert_eq!(
            uow.abandon_record(u, a.id).await.expect("read").as_ref(),
            Some(a)
        );
    }
    assert_eq!(
        uow.abandon_record(other, first.id).await.expect("read"),
        None
    );
    assert_eq!(
        uow.abandon_record(u, AbandonId::from(new_id()))
            .await
            .expect("read"),
        None
    );
    assert_eq!(
        uow.latest_abandon(u, item).await.expect("latest"),
        Some(second.clone())
    );
    assert_eq!(uow.latest_abandon(u, new_id()).await.expect("latest"), None);
    assert_eq!(
        uow.abandons_between(u, None, None).await.expect("all"),
        vec![second.clone(), movie.clone(), first.clone(), odd.clone()]
    );
    assert_eq!(
        uow.abandons_between(u, Some(minute(100)), Some(minute(150)))
            .await
            .expect("half-open"),
        vec![first.clone()]
    );
    assert_eq!(
        uow.abandons_between(u, Some(at(100 * 60, 1)), None)
            .await
            .expect("open end"),
        vec![second, movie]
    );
    assert_eq!(
        uow.abandons_between(u, None, Some(at(50, 2)))
            .await
            .expect("open start"),
        vec![]
    );
}

/// `latest_abandons`: per item exactly what `latest_abandon` returns (newest abandon date, then
/// newest creation), other users' abandons and items not asked for left out, items without
/// an abandon absent.
pub async fn abandon_latest_of_items<S: Store + Probe>(store: S) {
    let (u, other) = (user(), user());
    let (show, movie, not_asked, never) = (new_id(), new_id(), new_id(), new_id());
    let oldest = abandon(u, show, ItemType::Show, minute(100));
    let newest = abandon(u, show, ItemType::Show, minute(300));
    let same_date_older = AbandonRecord {
        created_at: minute(299),
        ..abandon(u, show, ItemType::Show, minute(300))
    };
    let middle = abandon(u, show, ItemType::Show, minute(200));
    let only = abandon(u, movie, ItemType::Movie, minute(50));
    let later_elsewhere = abandon(u, not_asked, ItemType::Movie, minute(900));
    let foreign = abandon(other, show, ItemType::Show, minute(999));
    let foreign_never = abandon(other, never, ItemType::Show, minute(999));

    let mut uow = store.begin().await.expect("begin");
    for a in [
        &oldest,
        &newest,
        &same_date_older,
        &middle,
        &only,
        &later_elsewhere,
        &foreign,
        &foreign_never,
    ] {
        uow.ensure_user(a.user_id, a.created_at)
            .await
            .expect("user");
        uow.insert_abandon(a).await.expect("insert abandon");
    }
    uow.commit().await.expect("commit");

    let mut uow = store.begin().await.expect("begin");
    let got = uow
        .latest_abandons(u, &[show, movie, never])
        .await
        .expect("latest abandons");
    assert_eq!(
        got.len(),
        2,
        "only the items asked for that the user abandoned"
    );
    assert_eq!(got.get(&show), Some(&newest));
    assert_eq!(got.get(&movie), Some(&only));
    for item in [show, movie] {
        assert_eq!(
            got.get(&item),
            uow.latest_abandon(u, item).await.expect("latest").as_ref(),
            "as latest_abandon picks it"
        );
    }
    assert!(uow.latest_abandons(u, &[]).await.expect("none").is_empty());
    assert!(
        uow.latest_abandons(user(), &[show, movie])
            .await
            .expect("unknown user")
            .is_empty()
    );
}

pub(crate) fn sample_events(u: UserId) -> Vec<EventEnvelope> {
    let show = ShowId::from(new_id());
    let events = vec![
        DomainEvent::TvEpisodeWatched(Box::new(TvEpisodeWatched {
            episode_id: EpisodeId::from(new_id()),
            record_id: RecordId::from(new_id()),
            show_id: show,
            season_number: 1,
            episode_number: 3,
            watch_date: at(100, 123_456),
            platform: Some("Netflix".to_owned()),
            binge_session_id: Some(BingeSessionId::from(new_id())),
            viewing_duration: IsoDuration::from_minutes(45),
            is_rewatch: false,
            backfilled: false,
            binge_sessions_changed: Vec::new(),
            completions: CompletionChanges {
                seasons_added: vec![at(90, 5)],
                ..CompletionChanges::default()
            },
            imported: true,
        })),
        DomainEvent::TvSeasonCompleted(TvSeasonCompleted {
            season_id: SeasonId::from(new_id()),
            show_id: show,
            season_number: 1,
            completion_date: at(100, 123_456),
            binge_duration: IsoDuration::from_minutes(135),
            episodes_watched: 3,
            season_rating: Some(rating(8.5)),
            next_season_intent: true,
            pass: 2,
        }),
        DomainEvent::ShowProgressReset(ShowProgressReset {
            show_id: show,
            pass: 2,
            reset_at: at(150, 42),
            completions: CompletionChanges::default(),
        }),
        DomainEvent::ViewingAbandoned(ViewingAbandoned {
            item_id: show.as_uuid(),
            item_type: ItemType::Show,
            abandon_date: at(200, 0),
            progress_percent: percent(42.5),
            abandon_reason: Some("meh \"quoted\" \\ text".to_owned()),
            quality_rating: None,
            would_retry: false,
        }),
    ];
    events
        .into_iter()
        .enumerate()
        .map(|(i, event)| EventEnvelope {
            event_id: EventId::from(new_id()),
            // Nanoseconds: the payload keeps them even where a timestamp column would not.
            occurred_at: at(300 + i as i64, 0) + Duration::nanoseconds(789),
            user_id: u,
            event,
        })
        .collect()
}

pub async fn outbox_append_in_order<S: Store + Probe>(store: S) {
    let u = user();
    let events = sample_events(u);
    let mut uow = store.begin().await.expect("begin");
    uow.append_events(&events[..2]).await.expect("append");
    uow.append_events(&[]).await.expect("append nothing");
    uow.append_events(&events[2..]).await.expect("append");
    uow.commit().await.expect("commit");
    let more = sample_events(user());
    let mut uow = store.begin().await.expect("begin");
    uow.append_events(&more).await.expect("append");
    uow.commit().await.expect("commit");

    let mut want = events;
    want.extend(more);
    assert_eq!(store.outbox_events().await, want);
}
