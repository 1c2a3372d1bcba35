//! The episode rules of SPEC §5, given/when/then, on the domain alone (no store, no runtime).

mod support;

use chrono::{Duration, NaiveDate};
use support::*;
use viewing_domain::rules::episode::{WatchEpisode, WatchEpisodeError};
use viewing_domain::rules::order::MissingEpisode;
use viewing_domain::rules::progress::{ProgressStatus, status, tally};
use viewing_domain::values::{FinaleReaction, Minutes, Rating};
use viewing_domain::{DomainEvent, EpisodeId, IsoDuration, RulesConfig, ShowStatus};

const SHAPE: [u32; 5] = [7, 13, 13, 13, 16];

fn rating(tenths: u8) -> Rating {
    Rating::from_tenths(tenths).expect("valid rating")
}

// --- the episode and the order check ---

#[test]
fn an_episode_of_another_show_is_not_found() {
    let s = Scenario::of(show(ShowStatus::Ended, &SHAPE));
    let err = s
        .when_episode(EpisodeId::from(uuid::Uuid::nil()), watch(at(20, 0)))
        .refused();
    assert_eq!(err, WatchEpisodeError::EpisodeNotFound);
}

#[test]
fn given_s1e1_when_s1e4_then_409_names_s1e2() {
    let err = Scenario::of(show(ShowStatus::Ended, &SHAPE))
        .given_watched(1, 1, at(20, 0))
        .when_watched(1, 4, at(21, 0))
        .refused();
    assert_eq!(
        err,
        WatchEpisodeError::OutOfOrder(MissingEpisode {
            episode_id: episode_id(1, 2),
            season_number: 1,
            episode_number: 2,
        })
    );
}

#[test]
fn a_new_season_waits_for_the_last_episode_of_the_one_before() {
    let mut s = Scenario::of(show(ShowStatus::Ended, &SHAPE));
    for e in 1..=6 {
        s = s.given_watched(1, e, at(12, i64::from(e) * 50));
    }
    let err = s.when_watched(2, 1, at(20, 0)).refused();
    assert!(
        matches!(err, WatchEpisodeError::OutOfOrder(m) if (m.season_number, m.episode_number) == (1, 7)),
        "{err:?}"
    );
    let s = s.given_watched(1, 7, at(19, 0));
    assert!(s.when_watched(2, 1, at(20, 0)).0.is_ok());
}

#[test]
fn the_first_episode_needs_nothing_before_it() {
    let d = Scenario::of(show(ShowStatus::Ended, &SHAPE))
        .when_watched(1, 1, at(20, 0))
        .decided();
    assert_eq!(d.new_records.len(), 1);
    assert_eq!(d.record().map(position), Some((1, 1)));
    assert_eq!(event_names(&d.events), ["TVEpisodeWatched"]);
}

#[test]
fn an_unaired_regular_episode_is_never_missing() {
    let future = NaiveDate::from_ymd_opt(2026, 12, 1);
    let s = Scenario::of(show_of(
        ShowStatus::Returning,
        vec![season(1, 2, None), season(2, 1, future), season(3, 1, None)],
    ))
    .given_watched(1, 1, at(20, 0))
    .given_watched(1, 2, at(20, 50));
    // S2E1 has not aired, so S3E1 may come right after S1E2.
    assert!(s.when_watched(3, 1, at(21, 40)).0.is_ok());
}

// --- backfill ---

#[test]
fn mark_previous_watched_backfills_the_missing_ones_first_at_the_same_date() {
    let cmd = WatchEpisode {
        mark_previous_watched: true,
        platform: viewing_domain::values::Platform::parse("Netflix")
            .ok()
            .flatten(),
        ..watch(at(22, 0))
    };
    let d = Scenario::of(show(ShowStatus::Ended, &SHAPE))
        .given_watched(1, 1, at(20, 0))
        .when(1, 4, cmd.clone())
        .decided();
    let positions: Vec<_> = d.new_records.iter().map(position).collect();
    assert_eq!(positions, [(1, 2), (1, 3), (1, 4)]);
    assert!(d.new_records.iter().all(|r| r.watch_date == at(22, 0)));
    assert!(d.new_records.iter().all(|r| r.platform == cmd.platform));
    let backfilled: Vec<_> = d.new_records.iter().map(|r| r.backfilled).collect();
    assert_eq!(backfilled, [true, true, false]);
    assert_eq!(
        event_names(&d.events),
        ["TVEpisodeWatched", "TVEpisodeWatched", "TVEpisodeWatched"]
    );
    assert_eq!(d.progress.total_episodes_watched, 4);
}

#[test]
fn backfilled_records_never_start_or_join_a_binge_session() {
    let marked = WatchEpisode {
        mark_previous_watched: true,
        ..watch(at(20, 0))
    };
    // E1..E3 backfilled at 20:00 with E4; E5 half an hour later binges with E4 only.
    let s = Scenario::of(show(ShowStatus::Ended, &SHAPE))
        .given(1, 4, marked)
        .given_watched(1, 5, at(20, 30));
    let session = s.session_of(1, 5).expect("E4 and E5 binge");
    assert_eq!(session.episodes_watched, 2);
    assert_eq!(session.start_time, at(20, 0));
    for e in 1..=3 {
        assert!(
            s.session_of(1, e).is_none(),
            "backfilled E{e} joined a session"
        );
    }
    assert_eq!(s.session_of(1, 4).map(|x| x.id), Some(session.id));
}

#[test]
fn a_backfill_that_fills_a_season_completes_it_once() {
    let marked = WatchEpisode {
        mark_previous_watched: true,
        ..watch(at(20, 0))
    };
    let s = Scenario::of(show(ShowStatus::Ended, &SHAPE)).given(2, 1, marked);
    let seasons: Vec<_> = s
        .events
        .iter()
        .filter_map(|e| match e {
            DomainEvent::TvSeasonCompleted(c) => Some(c.season_number),
            _ => None,
        })
        .collect();
    assert_eq!(seasons, [1]);
    let p = s.progress.as_ref().expect("progress");
    assert_eq!(p.total_episodes_watched, 8);
    assert_eq!(p.completed_seasons.len(), 1);
}

// --- not aired ---

#[test]
fn a_regular_episode_airing_after_today_is_refused_with_422() {
    let tomorrow = (now() + Duration::days(1)).date_naive();
    let err = Scenario::of(show_of(
        ShowStatus::Returning,
        vec![season(1, 3, Some(tomorrow))],
    ))
    .when_watched(1, 1, at(20, 0))
    .refused();
    assert_eq!(err, WatchEpisodeError::NotAired);
}

#[test]
fn an_episode_airing_today_has_aired() {
    let today = now().date_naive();
    let d = Scenario::of(show_of(
        ShowStatus::Returning,
        vec![season(1, 3, Some(today))],
    ))
    .when_watched(1, 1, at(20, 0))
    .decided();
    assert_eq!(d.progress.total_episodes_watched, 1);
}

// --- rewatch ---

#[test]
fn a_rewatch_is_its_own_record_and_leaves_progress_unchanged() {
    let s = Scenario::of(show(ShowStatus::Ended, &SHAPE))
        .given_watched(1, 1, at(20, 0))
        .given_watched(1, 2, at(20, 50));
    let before = s.progress.clone().expect("progress");
    let d = s.when_watched(1, 1, at(23, 0)).decided();
    let record = d.record().expect("record");
    assert!(record.is_rewatch);
    assert_eq!(d.new_records.len(), 1);
    assert_eq!(d.progress.total_episodes_watched, 2);
    assert_eq!(d.progress.last_watched_episode, before.last_watched_episode);
    assert_eq!(d.progress.last_watch_date, before.last_watch_date);
    assert_eq!(d.progress.completed_seasons, before.completed_seasons);
    // The rewatch is still activity, and never a binge episode.
    assert_eq!(d.progress.last_activity_at, Some(at(23, 0)));
    assert_eq!(record.binge_session_id, None);
}

#[test]
fn a_rewatch_is_never_order_checked() {
    // S1E2 was watched while S1E1 had not aired; S1E1 has aired since, unwatched. Rewatching
    // S1E2 needs nothing and backfills nothing.
    let later = (now() + Duration::days(10)).date_naive();
    let mut first_unaired = season(1, 2, None);
    first_unaired.episodes[0].air_date = Some(later);
    let mut s = Scenario::of(show_of(ShowStatus::Ended, vec![first_unaired])).given_watched(
        1,
        2,
        at(20, 0),
    );
    s.show = show(ShowStatus::Ended, &[2]);
    assert!(matches!(
        s.when_watched(1, 2, at(22, 0)).0,
        Ok(ref d) if d.new_records.len() == 1 && d.record().is_some_and(|r| r.is_rewatch)
    ));
    let first_time = WatchEpisode {
        mark_previous_watched: false,
        ..watch(at(22, 0))
    };
    assert!(
        s.when(1, 1, first_time).0.is_ok(),
        "S1E1 itself is first in order"
    );
}

// --- binge sessions ---

#[test]
fn given_e1_to_e3_at_20_00_20_50_21_40_when_e4_at_22_30_then_the_session_has_4_episodes() {
    let s = Scenario::of(show(ShowStatus::Ended, &SHAPE))
        .given_watched(1, 1, at(20, 0))
        .given_watched(1, 2, at(20, 50))
        .given_watched(1, 3, at(21, 40));
    let session = s.session_of(1, 1).expect("E1..E3 binge").clone();
    assert_eq!(session.episodes_watched, 3);
    let d = s.when_watched(1, 4, at(22, 30)).decided();
    assert_eq!(
        d.record().and_then(|r| r.binge_session_id),
        Some(session.id)
    );
    assert_eq!(d.sessions.save.len(), 1);
    let saved = &d.sessions.save[0];
    assert_eq!(saved.id, session.id);
    assert_eq!(saved.episodes_watched, 4);
    assert_eq!((saved.start_time, saved.end_time), (at(20, 0), at(22, 30)));
    assert!(d.sessions.delete.is_empty());
}

#[test]
fn the_session_is_created_by_its_second_episode_and_both_records_carry_it() {
    let s = Scenario::of(show(ShowStatus::Ended, &SHAPE)).given_watched(1, 1, at(20, 0));
    assert!(s.sessions.is_empty(), "one episode is no session");
    let first = s.records[0].id;
    let d = s.when_watched(1, 2, at(20, 50)).decided();
    let sid = d
        .record()
        .and_then(|r| r.binge_session_id)
        .expect("session");
    assert_eq!(d.sessions.moves, [(first, Some(sid))]);
    assert_eq!(d.sessions.save.len(), 1);
    assert_eq!(d.sessions.save[0].episodes_watched, 2);
}

#[test]
fn exactly_three_hours_later_still_binges_and_a_minute_more_does_not() {
    let s = Scenario::of(show(ShowStatus::Ended, &SHAPE)).given_watched(1, 1, at(20, 0));
    let joined = s.when_watched(1, 2, at(23, 0)).decided();
    assert!(
        joined
            .record()
            .is_some_and(|r| r.binge_session_id.is_some())
    );
    let apart = s.when_watched(1, 2, at(23, 1)).decided();
    assert_eq!(apart.record().and_then(|r| r.binge_session_id), None);
    assert!(apart.sessions.save.is_empty());
}

#[test]
fn the_gap_is_configurable() {
    let s = Scenario::of(show(ShowStatus::Ended, &SHAPE))
        .with_rules(RulesConfig {
            binge_max_gap: Duration::hours(1),
            ..RulesConfig::default()
        })
        .given_watched(1, 1, at(20, 0));
    let within = s.when_watched(1, 2, at(21, 0)).decided();
    assert!(
        within
            .record()
            .is_some_and(|r| r.binge_session_id.is_some())
    );
    let beyond = s.when_watched(1, 2, at(21, 1)).decided();
    assert_eq!(beyond.record().and_then(|r| r.binge_session_id), None);
}

#[test]
fn binge_detection_follows_watch_dates_not_arrival() {
    // The E1 rewatch at 20:30 is the latest watch before E2, yet E2 links to the first-time
    // E1 at 20:00: a rewatch never starts or joins a session.
    let s = Scenario::of(show(ShowStatus::Ended, &SHAPE))
        .given_watched(1, 1, at(20, 0))
        .given_watched(1, 1, at(20, 30));
    let d = s.when_watched(1, 2, at(21, 0)).decided();
    let sid = d
        .record()
        .and_then(|r| r.binge_session_id)
        .expect("E1 → E2");
    let rewatch = &s.records[1];
    assert!(rewatch.is_rewatch);
    assert!(!d.sessions.moves.contains(&(rewatch.id, Some(sid))));
    assert_eq!(d.sessions.save[0].start_time, at(20, 0));
}

#[test]
fn a_client_session_of_another_show_is_422_and_of_another_user_404() {
    let other_show = session(7, me(), show_id(2));
    let other_user = session(8, someone_else(), show_id(1));
    let s = Scenario::of(show(ShowStatus::Ended, &SHAPE))
        .given_session_elsewhere(other_show.clone())
        .given_session_elsewhere(other_user.clone());
    let named = |id| WatchEpisode {
        binge_session_id: Some(id),
        ..watch(at(20, 0))
    };
    assert_eq!(
        s.when(1, 1, named(other_show.id)).refused(),
        WatchEpisodeError::BingeSessionOfAnotherShow
    );
    assert_eq!(
        s.when(1, 1, named(other_user.id)).refused(),
        WatchEpisodeError::BingeSessionNotFound
    );
}

#[test]
fn a_new_client_session_is_created_with_its_id_and_pins_the_record() {
    let sid = session(9, me(), show_id(1)).id;
    let cmd = WatchEpisode {
        binge_session_id: Some(sid),
        ..watch(at(20, 0))
    };
    let d = Scenario::of(show(ShowStatus::Ended, &SHAPE))
        .when(1, 1, cmd)
        .decided();
    let record = d.record().expect("record");
    assert!(record.binge_session_pinned);
    assert_eq!(record.binge_session_id, Some(sid));
    assert_eq!(d.sessions.save.len(), 1);
    assert_eq!(d.sessions.save[0].id, sid);
    assert_eq!(d.sessions.save[0].episodes_watched, 1);
}

// --- season completion ---

#[test]
fn the_last_episode_of_a_season_completes_it_with_the_binge_duration() {
    let mut s = Scenario::of(show(ShowStatus::Ended, &SHAPE));
    for e in 1..=6 {
        s = s.given_watched(1, e, at(24 * i64::from(e), 0));
    }
    let cmd = WatchEpisode {
        season_rating: Some(rating(85)),
        next_season_intent: Some(true),
        ..watch(at(24 * 7, 0))
    };
    let d = s.when(1, 7, cmd).decided();
    assert!(d.season_completed);
    assert!(!d.show_completed);
    assert_eq!(
        event_names(&d.events),
        ["TVEpisodeWatched", "TVSeasonCompleted"]
    );
    let DomainEvent::TvSeasonCompleted(c) = &d.events[1] else {
        unreachable!("checked above")
    };
    assert_eq!(c.season_number, 1);
    assert_eq!(c.episodes_watched, 7);
    assert_eq!(c.completion_date, at(24 * 7, 0));
    assert_eq!(c.binge_duration.to_duration(), Duration::days(6));
    assert_eq!(c.season_rating, Some(rating(85)));
    assert!(c.next_season_intent);
    assert_eq!(d.progress.completed_seasons.len(), 1);
    assert_eq!(d.progress.completed_seasons[0].completed_at, at(24 * 7, 0));
}

#[test]
fn a_season_completes_only_once() {
    let mut s = Scenario::of(show(ShowStatus::Ended, &[2, 2]));
    s = s
        .given_watched(1, 1, at(20, 0))
        .given_watched(1, 2, at(20, 50));
    assert!(s.progress.as_ref().is_some_and(|p| p.season_completed(1)));
    let again = s.when_watched(1, 2, at(22, 0)).decided();
    assert!(!again.season_completed);
    assert_eq!(event_names(&again.events), ["TVEpisodeWatched"]);
    let next = s.when_watched(2, 1, at(22, 0)).decided();
    assert!(!next.season_completed);
    assert_eq!(next.progress.completed_seasons.len(), 1);
}

#[test]
fn a_season_rating_belongs_to_the_requested_episodes_season_only() {
    // S2E1 with a backfill completes season 1; the rating given with S2E1 is not season 1's.
    let cmd = WatchEpisode {
        mark_previous_watched: true,
        season_rating: Some(rating(90)),
        next_season_intent: Some(true),
        ..watch(at(20, 0))
    };
    let d = Scenario::of(show(ShowStatus::Ended, &[2, 2]))
        .when(2, 1, cmd)
        .decided();
    let DomainEvent::TvSeasonCompleted(c) = &d.events[3] else {
        panic!("{:?}", event_names(&d.events))
    };
    assert_eq!(c.season_number, 1);
    assert_eq!(c.season_rating, None);
    assert!(!c.next_season_intent);
}

// --- show completion ---

fn finish(status: ShowStatus) -> viewing_domain::rules::episode::EpisodeWatchDecision {
    let cmd = WatchEpisode {
        overall_rating: Some(rating(92)),
        rewatch_interest: Some(true),
        series_finale_reaction: FinaleReaction::parse("wow").ok().flatten(),
        viewing_duration: Some(Minutes::from_u32_saturating(50)),
        ..watch(at(22, 0))
    };
    Scenario::of(show(status, &[2, 1]))
        .given_watched(1, 1, at(20, 0))
        .given_watched(1, 2, at(21, 0))
        .when(2, 1, cmd)
        .decided()
}

#[test]
fn an_ended_show_completes_with_its_totals() {
    let d = finish(ShowStatus::Ended);
    assert!(d.show_completed);
    assert!(d.season_completed);
    assert_eq!(
        event_names(&d.events),
        ["TVEpisodeWatched", "TVSeasonCompleted", "TVShowCompleted"]
    );
    let Some(DomainEvent::TvShowCompleted(c)) = d.events.last() else {
        unreachable!("checked above")
    };
    assert_eq!(c.total_episodes, 3);
    assert_eq!(c.completion_date, at(22, 0));
    assert_eq!(
        c.total_viewing_time,
        IsoDuration::from_duration(Duration::minutes(2 * i64::from(RUNTIME) + 50))
    );
    assert_eq!(c.overall_rating, Some(rating(92)));
    assert!(c.rewatch_interest);
    assert_eq!(c.series_finale_reaction.as_deref(), Some("wow"));
    assert!(d.progress.is_completed);
    assert_eq!(d.progress.completion_date, Some(at(22, 0)));
}

#[test]
fn a_canceled_show_completes_too() {
    assert!(finish(ShowStatus::Canceled).show_completed);
}

#[test]
fn a_returning_show_with_everything_aired_watched_is_caught_up_not_completed() {
    let d = finish(ShowStatus::Returning);
    assert!(!d.show_completed);
    assert!(!d.progress.is_completed);
    assert_eq!(d.progress.completion_date, None);
    assert!(!event_names(&d.events).contains(&"TVShowCompleted"));
    let show = show(ShowStatus::Returning, &[2, 1]);
    let caught_up = Scenario::of(show.clone())
        .given_watched(1, 1, at(20, 0))
        .given_watched(1, 2, at(21, 0))
        .given_watched(2, 1, at(22, 0));
    let t = tally(&show, &caught_up.records, now().date_naive());
    let st = status(
        &show,
        &t,
        caught_up.progress.as_ref(),
        Some(at(22, 0)),
        None,
        now(),
        &RulesConfig::default(),
    );
    assert_eq!(st, ProgressStatus::CaughtUp);
}

#[test]
fn a_show_completes_only_once() {
    let s = Scenario::of(show(ShowStatus::Ended, &[1])).given_watched(1, 1, at(20, 0));
    assert!(s.progress.as_ref().is_some_and(|p| p.is_completed));
    let again = s.when_watched(1, 1, at(23, 0)).decided();
    assert!(!again.show_completed);
    assert_eq!(again.progress.completion_date, Some(at(20, 0)));
    assert_eq!(event_names(&again.events), ["TVEpisodeWatched"]);
}

// --- specials ---

#[test]
fn specials_are_never_order_checked_and_never_count() {
    let shape = show_of(
        ShowStatus::Ended,
        vec![season(0, 2, None), season(1, 3, None)],
    );
    let s = Scenario::of(shape).given_watched(1, 1, at(19, 0));
    let d = s.when_watched(0, 2, at(20, 0)).decided();
    assert_eq!(
        d.new_records.len(),
        1,
        "nothing backfilled before a special"
    );
    assert_eq!(d.progress.total_episodes_watched, 1);
    assert_eq!(d.progress.last_watched_episode, Some(1));
    assert!(!d.season_completed);
}

#[test]
fn an_unaired_special_may_be_recorded() {
    let later = NaiveDate::from_ymd_opt(2027, 1, 1);
    let d = Scenario::of(show_of(
        ShowStatus::Returning,
        vec![season(0, 1, later), season(1, 1, None)],
    ))
    .when_watched(0, 1, at(20, 0))
    .decided();
    assert_eq!(d.record().map(position), Some((0, 1)));
}

#[test]
fn a_watch_date_more_than_five_minutes_ahead_is_invalid() {
    let err = Scenario::of(show(ShowStatus::Ended, &SHAPE))
        .when_watched(1, 1, now() + Duration::minutes(6))
        .refused();
    assert!(matches!(err, WatchEpisodeError::Invalid(_)), "{err:?}");
}

// --- progress ---

#[test]
fn a_new_watch_clears_the_inactivity_report_and_moves_activity_forward() {
    let mut s = Scenario::of(show(ShowStatus::Ended, &SHAPE)).given_watched(1, 1, at(20, 0));
    if let Some(p) = s.progress.as_mut() {
        p.inactivity_reported_at = Some(at(21, 0));
    }
    let d = s.when_watched(1, 2, at(22, 0)).decided();
    assert_eq!(d.progress.inactivity_reported_at, None);
    assert_eq!(d.progress.last_activity_at, Some(at(22, 0)));
    assert_eq!(d.progress.last_watched_episode_id, Some(episode_id(1, 2)));
    assert_eq!(d.progress.updated_at, now());
    // An older watch recorded later never moves activity back.
    let older = s.when_watched(1, 1, at(19, 0)).decided();
    assert_eq!(older.progress.last_activity_at, Some(at(20, 0)));
}
