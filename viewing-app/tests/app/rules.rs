//! The viewing rules of SPEC §5, given/when/then, through the use cases on the memory store.

use crate::support::*;
use chrono::{Duration, NaiveDate};
use viewing_app::AppError;
use viewing_app::history::{HistoryPageRequest, decode_cursor};
use viewing_app::statistics::{Period, StatisticsRequest};
use viewing_domain::ContentType;
use viewing_domain::ports::HistoryFilter;
use viewing_domain::rules::abandon::Abandon;
use viewing_domain::rules::episode::WatchEpisode;
use viewing_domain::rules::movie::WatchMovie;
use viewing_domain::rules::progress::ProgressStatus;
use viewing_domain::values::{Minutes, Rating};
use viewing_domain::{
    BingeSessionId, DomainEvent, Movie, MovieId, RulesConfig, ShowStatus, UserId,
};

const SHAPE: [u32; 5] = [7, 13, 13, 13, 16];

#[tokio::test]
async fn seven_of_sixty_two_episodes_is_11_29_percent_and_s1e7_completes_season_1() {
    let w = World::new();
    w.given_show(show(1, ShowStatus::Ended, &SHAPE)).await;
    for e in 1..=6 {
        let r = w
            .watch_at(1, 1, e, t0() + Duration::days(i64::from(e)))
            .await;
        assert!(
            !r.expect("watch").season_completed,
            "S1E{e} completes nothing"
        );
    }
    let last = w
        .watch_at(1, 1, 7, t0() + Duration::days(7))
        .await
        .expect("S1E7");
    assert!(last.season_completed);
    assert!(!last.show_completed);

    let p = w.progress(1).await;
    assert_eq!(p.episodes_watched, 7);
    assert_eq!(p.total_episodes, 62);
    assert_eq!(p.completion_percent.value(), 11.29);
    assert_eq!(p.completed_seasons, 1);
    assert_eq!(p.status, ProgressStatus::Watching);
    let next = p.next_episode.expect("next episode");
    assert_eq!((next.season_number, next.episode_number), (2, 1));
    let last = p.last_watched.expect("last watched");
    assert_eq!((last.season_number, last.episode_number), (1, 7));
    assert!(p.seasons[0].completed);
    assert_eq!(p.seasons[0].completion_date, Some(t0() + Duration::days(7)));
    assert_eq!(p.total_viewing_minutes, 7 * 45);

    let completed: Vec<_> = w
        .events()
        .await
        .into_iter()
        .filter_map(|e| match e.event {
            DomainEvent::TvSeasonCompleted(c) => Some(c),
            _ => None,
        })
        .collect();
    assert_eq!(completed.len(), 1);
    assert_eq!(completed[0].season_number, 1);
    assert_eq!(completed[0].episodes_watched, 7);
    assert_eq!(completed[0].binge_duration.to_duration(), Duration::days(6));
}

#[tokio::test]
async fn second_episode_within_three_hours_creates_the_session_and_both_records_carry_it() {
    let w = World::new();
    w.given_show(show(1, ShowStatus::Ended, &SHAPE)).await;
    let first = w.watch_at(1, 1, 1, t0()).await.expect("E1");
    assert_eq!(first.record.binge_session_id, None);
    let second = w.watch_at(1, 1, 2, t0() + minutes(50)).await.expect("E2");
    let session = second.record.binge_session_id.expect("session created");

    let records = w.records(1).await;
    assert!(records.iter().all(|r| r.binge_session_id == Some(session)));
    let sessions = w.sessions(1).await;
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0].episodes_watched, 2);
    assert_eq!(sessions[0].start_time, t0());
    assert_eq!(sessions[0].end_time, t0() + minutes(50));
}

#[tokio::test]
async fn given_e1_to_e3_at_20_00_20_50_21_40_when_e4_at_22_30_then_the_session_has_4_episodes() {
    let w = World::new();
    w.given_show(show(1, ShowStatus::Ended, &SHAPE)).await;
    for (e, m) in [(1, 0), (2, 50), (3, 100)] {
        w.watch_at(1, 1, e, t0() + minutes(m)).await.expect("watch");
    }
    w.watch_at(1, 1, 4, t0() + minutes(150)).await.expect("E4");
    let sessions = w.sessions(1).await;
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0].episodes_watched, 4);
    assert_eq!(sessions[0].end_time, t0() + minutes(150));

    // More than three hours later: a new viewing, no longer the same binge.
    let late = w
        .watch_at(1, 1, 5, t0() + minutes(150 + 181))
        .await
        .expect("E5");
    assert_eq!(late.record.binge_session_id, None);
    assert_eq!(w.sessions(1).await[0].episodes_watched, 4);
}

#[tokio::test]
async fn skipping_an_episode_is_refused_with_the_first_missing_one() {
    let w = World::new();
    w.given_show(show(1, ShowStatus::Ended, &SHAPE)).await;
    w.watch_at(1, 1, 1, t0()).await.expect("E1");
    let r = w.watch_at(1, 1, 4, t0() + minutes(60)).await;
    match r {
        Err(AppError::EpisodeOutOfOrder(m)) => {
            assert_eq!((m.season_number, m.episode_number), (1, 2));
            assert_eq!(m.episode_id, episode_id(1, 1, 2));
        }
        other => panic!("expected out of order, got {other:?}"),
    }
    assert_eq!(w.records(1).await.len(), 1, "nothing recorded");
    assert_eq!(w.events().await.len(), 1, "nothing published");
}

#[tokio::test]
async fn mark_previous_watched_backfills_without_binging_and_completes_seasons_once() {
    let w = World::new();
    w.given_show(show(1, ShowStatus::Ended, &SHAPE)).await;
    let at = t0() + minutes(10);
    let r = w
        .watch_with(
            1,
            3,
            2,
            at,
            WatchEpisode {
                watch_date: Some(at),
                mark_previous_watched: true,
                ..WatchEpisode::default()
            },
        )
        .await
        .expect("backfill");
    assert!(
        r.season_completed,
        "seasons 1 and 2 completed by the backfill"
    );
    let records = w.records(1).await;
    assert_eq!(records.len(), 7 + 13 + 2);
    assert_eq!(records.iter().filter(|r| r.backfilled).count(), 7 + 13 + 1);
    assert!(
        records
            .iter()
            .all(|r| r.watch_date == at && r.binge_session_id.is_none())
    );
    assert!(w.sessions(1).await.is_empty());
    let p = w.progress(1).await;
    assert_eq!(p.episodes_watched, 22);
    assert_eq!(p.completed_seasons, 2);
    let seasons_done = w
        .count_events(|e| matches!(e, DomainEvent::TvSeasonCompleted(_)))
        .await;
    assert_eq!(seasons_done, 2);
    let watched_events = w
        .count_events(|e| matches!(e, DomainEvent::TvEpisodeWatched(_)))
        .await;
    assert_eq!(watched_events, 22);
}

#[tokio::test]
async fn a_rewatch_is_its_own_record_and_leaves_progress_unchanged() {
    let w = World::new();
    w.given_show(show(1, ShowStatus::Ended, &SHAPE)).await;
    w.watch_at(1, 1, 1, t0()).await.expect("E1");
    w.watch_at(1, 1, 2, t0() + minutes(45)).await.expect("E2");
    let before = w.progress(1).await;
    let again = w
        .watch_at(1, 1, 1, t0() + Duration::days(3))
        .await
        .expect("rewatch");
    assert!(again.record.is_rewatch);
    assert_eq!(again.record.binge_session_id, None);
    let after = w.progress(1).await;
    assert_eq!(after.episodes_watched, before.episodes_watched);
    assert_eq!(after.completion_percent, before.completion_percent);
    assert_eq!(after.next_episode, before.next_episode);
    assert_eq!(after.last_watched, before.last_watched);
    assert_eq!(w.records(1).await.len(), 3);
}

#[tokio::test]
async fn specials_are_never_order_checked_and_never_count() {
    let w = World::new();
    let mut seasons = vec![season(1, 0, 2, None)];
    seasons.extend((1..=2).map(|n| season(1, n, 3, None)));
    let s = viewing_domain::Show::new(
        viewing_domain::ShowId::from(uuid(1, 0x5)),
        title("Specials"),
        ShowStatus::Ended,
        vec![],
        seasons,
    )
    .expect("show");
    w.given_show(s).await;
    let special = w
        .watch_at(1, 0, 2, t0())
        .await
        .expect("special at any time");
    assert!(!special.season_completed && !special.record.is_rewatch);
    let p = w.progress(1).await;
    assert_eq!((p.episodes_watched, p.total_episodes), (0, 6));
    assert_eq!(p.status, ProgressStatus::NotStarted);
    assert_eq!(p.seasons.len(), 2, "season 0 is not a progress season");
}

#[tokio::test]
async fn an_unaired_episode_cannot_be_recorded_and_does_not_count() {
    let w = World::new();
    let future = NaiveDate::from_ymd_opt(2026, 12, 24);
    let s = viewing_domain::Show::new(
        viewing_domain::ShowId::from(uuid(1, 0x5)),
        title("Airing"),
        ShowStatus::Returning,
        vec![],
        vec![season(1, 1, 2, None), season(1, 2, 3, future)],
    )
    .expect("show");
    w.given_show(s).await;
    let r = w.watch_at(1, 2, 1, t0()).await;
    assert!(matches!(r, Err(AppError::Invalid(_))), "got {r:?}");
    w.watch_at(1, 1, 1, t0()).await.expect("E1");
    let done = w.watch_at(1, 1, 2, t0() + minutes(40)).await.expect("E2");
    assert!(done.season_completed && !done.show_completed);
    let p = w.progress(1).await;
    assert_eq!((p.episodes_watched, p.total_episodes), (2, 2));
    assert_eq!(
        p.status,
        ProgressStatus::CaughtUp,
        "returning: caught up, not completed"
    );
    assert_eq!(p.next_episode, None);
}

#[tokio::test]
async fn an_ended_show_completes_once_with_its_totals() {
    let w = World::new();
    w.given_show(show(1, ShowStatus::Ended, &[2, 2])).await;
    for (i, (s, e)) in [(1, 1), (1, 2), (2, 1)].into_iter().enumerate() {
        w.watch_at(1, s, e, t0() + minutes(50 * i as i64))
            .await
            .expect("watch");
    }
    let finale = w
        .watch_with(
            1,
            2,
            2,
            t0() + minutes(150),
            WatchEpisode {
                watch_date: Some(t0() + minutes(150)),
                overall_rating: Some(Rating::new("overallRating", 9.5).expect("rating")),
                rewatch_interest: Some(true),
                viewing_duration: Some(Minutes::new("viewingDuration", 60).expect("minutes")),
                ..WatchEpisode::default()
            },
        )
        .await
        .expect("finale");
    assert!(finale.season_completed && finale.show_completed);
    // A rewatch of the finale completes nothing again.
    let again = w
        .watch_at(1, 2, 2, t0() + Duration::days(30))
        .await
        .expect("rewatch");
    assert!(!again.season_completed && !again.show_completed);

    let shows: Vec<_> = w
        .events()
        .await
        .into_iter()
        .filter_map(|e| match e.event {
            DomainEvent::TvShowCompleted(c) => Some(c),
            _ => None,
        })
        .collect();
    assert_eq!(shows.len(), 1);
    assert_eq!(shows[0].total_episodes, 4);
    assert_eq!(shows[0].total_viewing_time.to_string(), "PT3H15M");
    assert_eq!(shows[0].overall_rating.map(Rating::value), Some(9.5));
    assert!(shows[0].rewatch_interest);
    assert_eq!(w.progress(1).await.status, ProgressStatus::Completed);
}

#[tokio::test]
async fn abandoning_drops_the_show_and_a_later_watch_resumes_it() {
    let w = World::new();
    w.given_show(show(1, ShowStatus::Ended, &SHAPE)).await;
    w.watch_at(1, 1, 1, t0()).await.expect("E1");
    let abandon = w
        .svc
        .abandon(w.user, uuid(1, 0x5), Abandon::default())
        .await
        .expect("abandon");
    assert_eq!(abandon.progress_percent.value(), 1.61, "1 of 62 by default");
    assert_eq!(w.progress(1).await.status, ProgressStatus::Dropped);
    assert!(w.svc.up_next(w.user).await.expect("up next").is_empty());
    w.watch_at(1, 1, 2, t0() + Duration::days(1))
        .await
        .expect("E2");
    assert_eq!(w.progress(1).await.status, ProgressStatus::Watching);
    assert_eq!(w.svc.up_next(w.user).await.expect("up next").len(), 1);
}

#[tokio::test]
async fn ninety_idle_days_stall_a_show_and_the_job_reports_it_once() {
    let w = World::new();
    w.given_show(show(1, ShowStatus::Ended, &SHAPE)).await;
    w.watch_at(1, 1, 1, t0()).await.expect("E1");
    w.clock.set(t0() + Duration::days(89));
    assert_eq!(w.progress(1).await.status, ProgressStatus::Watching);
    assert_eq!(w.svc.report_inactive_shows(100).await.expect("job"), 0);
    w.clock.set(t0() + Duration::days(91));
    assert_eq!(w.progress(1).await.status, ProgressStatus::Stalled);
    assert_eq!(w.svc.report_inactive_shows(100).await.expect("job"), 1);
    assert_eq!(w.svc.report_inactive_shows(100).await.expect("job"), 0);
    let reported: Vec<_> = w
        .events()
        .await
        .into_iter()
        .filter_map(|e| match e.event {
            DomainEvent::ViewingAbandoned(a) => Some(a),
            _ => None,
        })
        .collect();
    assert_eq!(reported.len(), 1);
    assert_eq!(
        reported[0].abandon_reason.as_deref(),
        Some("no activity for 90 days")
    );
}

#[tokio::test]
async fn the_inactivity_limit_is_configurable_and_named_in_the_reason() {
    let w = World::with_rules(RulesConfig {
        inactivity: Duration::days(30),
        ..RulesConfig::default()
    });
    w.given_show(show(1, ShowStatus::Ended, &SHAPE)).await;
    w.watch_at(1, 1, 1, t0()).await.expect("E1");
    w.clock.set(t0() + Duration::days(31));
    assert_eq!(w.progress(1).await.status, ProgressStatus::Stalled);
    assert_eq!(w.svc.report_inactive_shows(100).await.expect("job"), 1);
    let reasons: Vec<_> = w
        .events()
        .await
        .into_iter()
        .filter_map(|e| match e.event {
            DomainEvent::ViewingAbandoned(a) => a.abandon_reason,
            _ => None,
        })
        .collect();
    assert_eq!(reasons, vec!["no activity for 30 days".to_owned()]);
}

#[tokio::test]
async fn a_client_binge_session_is_joined_but_never_another_users_or_another_shows() {
    let w = World::new();
    w.given_show(show(1, ShowStatus::Ended, &SHAPE)).await;
    w.given_show(show(2, ShowStatus::Ended, &SHAPE)).await;
    let sid = BingeSessionId::from(uuid(77, 0xB));
    let with_session = |at| WatchEpisode {
        watch_date: Some(at),
        binge_session_id: Some(sid),
        ..WatchEpisode::default()
    };
    let r = w
        .watch_with(1, 1, 1, t0(), with_session(t0()))
        .await
        .expect("E1");
    assert_eq!(r.record.binge_session_id, Some(sid), "created with that id");
    let later = t0() + Duration::hours(10);
    let r = w
        .watch_with(1, 1, 2, later, with_session(later))
        .await
        .expect("E2");
    assert_eq!(
        r.record.binge_session_id,
        Some(sid),
        "joined despite the gap"
    );
    assert_eq!(w.sessions(1).await[0].episodes_watched, 2);

    let other_show = w.watch_with(2, 1, 1, later, with_session(later)).await;
    assert!(
        matches!(other_show, Err(AppError::Invalid(_))),
        "{other_show:?}"
    );
    let other_user = w
        .svc
        .watch_episode(
            UserId::from(uuid(2, 0x1)),
            episode_id(1, 1, 3),
            with_session(later),
        )
        .await;
    assert!(
        matches!(other_user, Err(AppError::NotFound)),
        "{other_user:?}"
    );
}

#[tokio::test]
async fn the_batch_rebuild_recomputes_sessions_with_the_current_gap() {
    let w = World::new();
    w.given_show(show(1, ShowStatus::Ended, &SHAPE)).await;
    for (e, m) in [(1, 0), (2, 50), (3, 170), (4, 220)] {
        w.watch_at(1, 1, e, t0() + minutes(m)).await.expect("watch");
    }
    assert_eq!(w.sessions(1).await.len(), 1);
    let strict = viewing_app::ViewingService::with_parts(
        w.store.clone(),
        w.clock.clone(),
        std::sync::Arc::new(adapters_memory::SequentialIds::default()),
        RulesConfig {
            binge_max_gap: Duration::hours(1),
            ..RulesConfig::default()
        },
    );
    assert_eq!(
        strict
            .rebuild_binge_sessions(w.user)
            .await
            .expect("rebuild"),
        2
    );
    let mut sizes: Vec<u32> = w
        .sessions(1)
        .await
        .iter()
        .map(|s| s.episodes_watched)
        .collect();
    sizes.sort_unstable();
    assert_eq!(sizes, vec![2, 2]);
    let records = w.records(1).await;
    assert_ne!(records[0].binge_session_id, records[2].binge_session_id);
}

#[tokio::test]
async fn a_movie_rewatch_is_inferred_and_history_pages_by_cursor() {
    let w = World::new();
    let movie = Movie {
        id: MovieId::from(uuid(9, 0x3)),
        title: title("Heat"),
        runtime: Minutes::from_u32_saturating(170),
        genres: vec![genre("Crime")],
        release_date: None,
        external_ids: Default::default(),
    };
    w.svc.upsert_movie(movie.clone()).await.expect("movie");
    w.given_show(show(1, ShowStatus::Ended, &SHAPE)).await;
    let first = w
        .svc
        .watch_movie(w.user, movie.id, WatchMovie::default())
        .await
        .expect("watch");
    assert!(!first.is_rewatch);
    w.clock.advance(minutes(200));
    let second = w
        .svc
        .watch_movie(w.user, movie.id, WatchMovie::default())
        .await
        .expect("again");
    assert!(second.is_rewatch);
    for e in 1..=3 {
        w.watch_at(1, 1, e, w.clock_now() + minutes(50))
            .await
            .expect("episode");
    }
    let page1 = w
        .svc
        .history(
            w.user,
            &HistoryFilter::default(),
            HistoryPageRequest::new(None, Some(2), None).expect("paging"),
        )
        .await
        .expect("history");
    assert_eq!((page1.total_items, page1.total_pages), (5, 3));
    assert_eq!(page1.items[0].title.as_deref(), Some("S1E3"));
    assert_eq!(page1.items[0].show_title.as_deref(), Some("Show 1"));
    let mut seen: Vec<_> = page1.items.iter().map(|i| i.record.id).collect();
    let mut cursor = page1.next_cursor;
    while let Some(c) = cursor {
        let page = w
            .svc
            .history(
                w.user,
                &HistoryFilter::default(),
                HistoryPageRequest::new(None, Some(2), Some(decode_cursor(&c).expect("cursor")))
                    .expect("paging"),
            )
            .await
            .expect("next page");
        seen.extend(page.items.iter().map(|i| i.record.id));
        cursor = page.next_cursor;
    }
    assert_eq!(seen.len(), 5);
    seen.dedup();
    assert_eq!(seen.len(), 5, "no duplicates across pages");
    let movies = w
        .svc
        .history(
            w.user,
            &HistoryFilter {
                content_type: Some(ContentType::Movie),
                ..Default::default()
            },
            HistoryPageRequest::default(),
        )
        .await
        .expect("movies only");
    assert_eq!(movies.total_items, 2);
    assert_eq!(movies.items[0].title.as_deref(), Some("Heat"));
    let other = w
        .svc
        .history(
            UserId::from(uuid(2, 0x1)),
            &HistoryFilter::default(),
            HistoryPageRequest::default(),
        )
        .await
        .expect("other user");
    assert_eq!(other.total_items, 0);
}

#[tokio::test]
async fn statistics_count_records_minutes_genres_platforms_and_completions() {
    let w = World::new();
    let movie = Movie {
        id: MovieId::from(uuid(9, 0x3)),
        title: title("Heat"),
        runtime: Minutes::from_u32_saturating(170),
        genres: vec![genre("Crime"), genre("Thriller")],
        release_date: None,
        external_ids: Default::default(),
    };
    w.svc.upsert_movie(movie.clone()).await.expect("movie");
    w.given_show(show(1, ShowStatus::Ended, &[2])).await;
    w.svc
        .watch_movie(w.user, movie.id, WatchMovie::default())
        .await
        .expect("movie");
    w.watch_at(1, 1, 1, t0() + minutes(60)).await.expect("E1");
    w.watch_at(1, 1, 2, t0() + minutes(110)).await.expect("E2");
    // Statistics are aggregated from the events: the relay delivers them first.
    w.drain().await;
    let s = w
        .svc
        .statistics(
            w.user,
            &StatisticsRequest {
                period: Period::Week,
                ..Default::default()
            },
        )
        .await
        .expect("stats");
    assert_eq!(
        (s.total_watched, s.movies, s.episodes, s.rewatches),
        (3, 1, 2, 0)
    );
    assert_eq!(s.total_minutes, 170 + 90);
    assert_eq!(s.total_hours, 4.33);
    let crime = s.by_genre.iter().find(|g| g.key == "Crime").expect("crime");
    assert_eq!(
        (crime.count, crime.minutes),
        (3, 260),
        "an item counts in each of its genres"
    );
    assert_eq!(s.by_platform[0].key, "unknown");
    assert_eq!((s.shows_completed, s.seasons_completed), (1, 1));
    assert_eq!((s.binge_sessions, s.longest_binge_episodes), (1, 2));
    let next_week = w
        .svc
        .statistics(
            w.user,
            &StatisticsRequest {
                period: Period::Week,
                date: chrono::NaiveDate::from_ymd_opt(2026, 3, 9),
                ..Default::default()
            },
        )
        .await
        .expect("stats");
    assert_eq!(next_week.total_watched, 0);
}
