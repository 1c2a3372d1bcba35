//! The event side (issue 5): relay channels, processed marks, the handlers' state, and the
//! five handlers end to end. Run by [`crate::event_contract_tests!`] for every store (the relay's
//! side, [`viewing_domain::event_ports::OutboxRelay`], is part of every `Store`).

use std::sync::Arc;

use chrono::Duration;
use viewing_app::relay::Relay;
use viewing_app::statistics::{Breakdown, Period, StatisticsRequest};
use viewing_app::{UuidV7, ViewingService};
use viewing_domain::engagement::{Achievement, Reminder, ReminderStatus, WatchlistItem};
use viewing_domain::event_ports::{ClaimToken, ProcessedEvents, RelayChannel};
use viewing_domain::handler_ports::{
    AchievementRepository, PreferenceRepository, ReminderRepository, StatisticsRepository,
    WatchlistRepository,
};
use viewing_domain::ports::{CatalogRepository, Store, Transaction};
use viewing_domain::rules::episode::WatchEpisode;
use viewing_domain::rules::movie::WatchMovie;
use viewing_domain::stats::{Dimension, StatsDelta, buckets_containing, cover, cover_everything};
use viewing_domain::{EventId, ItemType, RulesConfig, ShowId, ShowStatus};

use crate::Probe;
use crate::fixtures::*;

pub async fn relay_claims_in_order_per_user_with_retry_and_lease<S: Store + Probe>(store: S) {
    let (a, b) = (user(), user());
    let events = vec![unlock(a, 1), unlock(b, 2), unlock(a, 3), unlock(b, 4)];
    append(&store, &events).await;
    let h = RelayChannel::Handlers;
    let (t1, t2) = (ClaimToken(new_id()), ClaimToken(new_id()));
    let now = minute(10);
    let lease = Duration::seconds(60);
    let claimed = store
        .claim_events(h, t1, now, lease, 10)
        .await
        .expect("claim");
    let ids: Vec<_> = claimed.iter().map(|c| c.event_id).collect();
    assert_eq!(ids, events.iter().map(|e| e.event_id).collect::<Vec<_>>());
    assert!(
        store
            .claim_events(h, t2, now, lease, 10)
            .await
            .expect("claim")
            .is_empty(),
        "a live lease keeps others away"
    );
    // a's first event fails; b's are delivered; a's second is given back.
    store
        .schedule_retry(h, t1, claimed[0].seq, now + Duration::minutes(5), "boom")
        .await
        .expect("retry");
    store
        .mark_delivered(h, &[claimed[1].seq, claimed[3].seq], now)
        .await
        .expect("ack");
    store
        .release_events(h, t1, &[claimed[2].seq])
        .await
        .expect("release");
    let backlog = store.outbox_backlog(h).await.expect("backlog");
    assert_eq!(backlog.pending, 2);
    assert_eq!(backlog.oldest_occurred_at, Some(minute(1)));
    assert!(
        store
            .claim_events(h, t2, now, lease, 10)
            .await
            .expect("claim")
            .is_empty(),
        "a's second event waits behind its first"
    );
    let later = store
        .claim_events(h, t2, now + Duration::minutes(6), lease, 10)
        .await
        .expect("claim");
    assert_eq!(later.len(), 2);
    assert_eq!(later[0].attempts, 1);
    assert_eq!(later[0].envelope(), Some(&events[0]));
    // The broker channel is independent: nothing of it was delivered.
    let broker = store
        .outbox_backlog(RelayChannel::Broker)
        .await
        .expect("backlog");
    assert_eq!(broker.pending, 4);
    // An expired lease is claimable again (a crashed relay).
    let again = store
        .claim_events(h, t1, now + Duration::minutes(8), lease, 10)
        .await
        .expect("claim");
    assert_eq!(again.len(), 2);
}

/// A long queue of one user held back by its first event (waiting for a retry, or leased to
/// another relay) neither fills a claim nor hides another user's events behind it.
pub async fn relay_a_blocked_queue_does_not_starve_others<S: Store + Probe>(store: S) {
    let (a, b) = (user(), user());
    let mut events: Vec<_> = (0..30).map(|i| unlock(a, i)).collect();
    events.extend((30..33).map(|i| unlock(b, i)));
    append(&store, &events).await;
    let h = RelayChannel::Handlers;
    let (t1, t2) = (ClaimToken(new_id()), ClaimToken(new_id()));
    let now = minute(40);
    let lease = Duration::seconds(60);
    let first = store
        .claim_events(h, t1, now, lease, 1)
        .await
        .expect("claim");
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].event_id, events[0].event_id);
    // a's first event is leased: a claim of 5 gets b's three events, none of a's.
    let leased = store
        .claim_events(h, t2, now, lease, 5)
        .await
        .expect("claim");
    let ids: Vec<_> = leased.iter().map(|c| c.event_id).collect();
    let want: Vec<_> = events[30..].iter().map(|e| e.event_id).collect();
    assert_eq!(ids, want, "b's events, past a's leased queue");
    store
        .release_events(h, t2, &leased.iter().map(|c| c.seq).collect::<Vec<_>>())
        .await
        .expect("release");
    // a's first event now waits for its retry: the same holds.
    store
        .schedule_retry(h, t1, first[0].seq, now + Duration::minutes(5), "boom")
        .await
        .expect("retry");
    let waiting = store
        .claim_events(h, t2, now, lease, 5)
        .await
        .expect("claim");
    let ids: Vec<_> = waiting.iter().map(|c| c.event_id).collect();
    assert_eq!(ids, want, "b's events, past a's queue waiting for a retry");
}

pub async fn handler_state_round_trips_and_rolls_back<S: Store + Probe>(store: S) {
    let u = user();
    let mut delta = StatsDelta::default();
    delta.counters.watched = 1;
    delta.counters.minutes = 45;
    delta.counters.longest_binge = 3;
    delta.tally(Dimension::Genre, "Drama", 1, 45);
    let mut uow = store.begin().await.expect("begin");
    assert!(
        uow.mark_processed("h", EventId::from(new_id()), minute(0))
            .await
            .expect("mark")
    );
    let e = EventId::from(new_id());
    assert!(uow.mark_processed("h", e, minute(0)).await.expect("mark"));
    assert!(!uow.mark_processed("h", e, minute(0)).await.expect("mark"));
    assert!(
        uow.mark_processed("other", e, minute(0))
            .await
            .expect("mark")
    );
    uow.add_to_buckets(u, &buckets_containing(minute(30)), &delta)
        .await
        .expect("add");
    uow.add_to_buckets(u, &buckets_containing(minute(90)), &delta)
        .await
        .expect("add");
    assert_eq!(uow.bump_counter(u, "movies", 1).await.expect("bump"), 1);
    assert_eq!(uow.bump_counter(u, "movies", 1).await.expect("bump"), 2);
    let a = Achievement {
        user_id: u,
        code: "first-movie".into(),
        title: "First".into(),
        unlocked_at: minute(5),
    };
    assert!(uow.unlock_achievement(&a).await.expect("unlock"));
    assert!(!uow.unlock_achievement(&a).await.expect("unlock"));
    let item = WatchlistItem {
        user_id: u,
        content_id: new_id(),
        item_type: ItemType::Movie,
        added_at: minute(1),
    };
    assert!(uow.add_to_watchlist(&item).await.expect("add").1);
    let (kept, added) = uow
        .add_to_watchlist(&WatchlistItem {
            added_at: minute(9),
            ..item.clone()
        })
        .await
        .expect("add");
    assert_eq!((kept, added), (item.clone(), false));
    let r = Reminder {
        id: new_id(),
        user_id: u,
        show_id: ShowId::from(new_id()),
        episode_id: new_id().into(),
        season_number: 1,
        episode_number: 2,
        last_watch_at: minute(0),
        due_at: minute(100),
        status: ReminderStatus::Scheduled,
        attempts: 0,
        sent_at: None,
        updated_at: minute(0),
    };
    uow.save_reminder(&r).await.expect("save");
    uow.add_genre_points(u, "Drama", 10).await.expect("points");
    uow.add_genre_points(u, "Drama", -3).await.expect("points");
    uow.commit().await.expect("commit");

    let mut uow = store.begin().await.expect("begin");
    let all = uow
        .read_buckets(u, &cover_everything())
        .await
        .expect("read");
    assert_eq!(
        (
            all.counters.watched,
            all.counters.minutes,
            all.counters.longest_binge
        ),
        (2, 90, 3)
    );
    let first_hour = uow
        .read_buckets(u, &cover(minute(0), minute(60)))
        .await
        .expect("read");
    assert_eq!(first_hour.counters.watched, 1);
    assert_eq!(
        first_hour.dimensions[&(Dimension::Genre, "Drama".to_owned())].minutes,
        45
    );
    assert_eq!(uow.achievements(u).await.expect("list"), vec![a]);
    assert_eq!(uow.watchlist(u).await.expect("list"), vec![item.clone()]);
    assert_eq!(
        uow.reminder(u, r.show_id).await.expect("get"),
        Some(r.clone())
    );
    assert!(
        uow.due_reminders(minute(99), 10)
            .await
            .expect("due")
            .is_empty()
    );
    assert_eq!(
        uow.due_reminders(minute(100), 10).await.expect("due"),
        vec![r.clone()]
    );
    let scores = uow.genre_scores(u).await.expect("scores");
    assert_eq!((scores[0].genre.as_str(), scores[0].points), ("Drama", 7));
    // Everything of a dropped unit of work is gone.
    uow.add_to_buckets(u, &buckets_containing(minute(30)), &delta)
        .await
        .expect("add");
    assert!(
        uow.remove_from_watchlist(u, item.content_id)
            .await
            .expect("remove")
    );
    assert!(
        uow.mark_processed("h", EventId::from(new_id()), minute(0))
            .await
            .expect("mark")
    );
    drop(uow);
    let mut uow = store.begin().await.expect("begin");
    let all = uow
        .read_buckets(u, &cover_everything())
        .await
        .expect("read");
    assert_eq!(all.counters.watched, 2);
    assert_eq!(uow.watchlist(u).await.expect("list").len(), 1);
}

/// A movie and a two-episode binge that completes an ended show, relayed to the five handlers:
/// statistics of every period read the numbers from the buckets, and delivering every event
/// again changes nothing.
pub async fn handlers_end_to_end_statistics_and_redelivery<S: Store + Probe>(store: S) {
    let service = ViewingService::with_parts(
        store.clone(),
        Arc::new(viewing_app::SystemClock),
        Arc::new(UuidV7),
        RulesConfig::default(),
    );
    let u = user();
    let movie = movie("Heat", 170);
    let show = show("Dark", ShowStatus::Ended, &[2], 0);
    let mut uow = store.begin().await.expect("begin");
    uow.upsert_movie(&movie).await.expect("movie");
    uow.upsert_show(&show).await.expect("show");
    uow.commit().await.expect("commit");
    // Fixed instants, all on 2024-06-14 in Asia/Kathmandu (+05:45), so that every period
    // read below contains all of them whenever the test runs.
    let day = chrono::DateTime::from_timestamp(1_718_352_000, 0).expect("2024-06-14T08:00:00Z");
    service
        .watch_movie(
            u,
            movie.id,
            WatchMovie {
                watch_date: Some(day),
                ..WatchMovie::default()
            },
        )
        .await
        .expect("movie");
    for n in 1..=2 {
        let cmd = WatchEpisode {
            watch_date: Some(day + Duration::minutes(60 * i64::from(n))),
            ..WatchEpisode::default()
        };
        service
            .watch_episode(u, episode(&show, 1, n).id, cmd)
            .await
            .expect("episode");
    }
    let stale = service
        .statistics(u, &StatisticsRequest::default())
        .await
        .expect("stats");
    assert_eq!(
        stale.total_watched, 0,
        "nothing counted before the relay runs"
    );
    let relay = Relay::new(&service);
    // Movie, two episodes, season and show completed, first movie and first show unlocked.
    assert_eq!(relay.drain().await.expect("drain"), 7);
    for period in ["week", "month", "year", "all"] {
        let p = stats_request(period, "Asia/Kathmandu", Some("2024-06-14"));
        let s = service.statistics(u, &p).await.expect("stats");
        let c = |key: &str, count, minutes| Breakdown {
            key: key.into(),
            count,
            minutes,
        };
        assert_eq!(
            (s.total_watched, s.movies, s.episodes, s.rewatches),
            (3, 1, 2, 0),
            "{period}"
        );
        assert_eq!((s.total_minutes, s.total_hours), (260, 4.33), "{period}");
        assert_eq!(
            s.by_type,
            vec![c("episode", 2, 90), c("movie", 1, 170)],
            "{period}"
        );
        assert_eq!(
            s.by_genre,
            vec![c("Sci-Fi", 2, 90), c("Crime", 1, 170), c("Drama", 1, 170)],
            "{period}"
        );
        assert_eq!(s.by_platform, vec![c("unknown", 3, 260)], "{period}");
        assert_eq!(
            (s.shows_completed, s.seasons_completed, s.abandoned),
            (1, 1, 0),
            "{period}"
        );
        assert_eq!(
            (s.binge_sessions, s.longest_binge_episodes),
            (1, 2),
            "{period}"
        );
    }
    let next_week = stats_request("week", "Asia/Kathmandu", Some("2024-06-21"));
    assert_eq!(
        service
            .statistics(u, &next_week)
            .await
            .expect("stats")
            .total_watched,
        0
    );
    let codes: Vec<String> = service
        .achievements(u)
        .await
        .expect("a")
        .into_iter()
        .map(|a| a.code)
        .collect();
    assert_eq!(codes.len(), 2, "{codes:?}");
    assert!(!service.preferences(u).await.expect("p").is_empty());
    // Redelivering everything changes nothing.
    let before = format!(
        "{:?}",
        service
            .statistics(u, &StatisticsRequest::default())
            .await
            .expect("s")
    );
    for e in store.outbox_events().await {
        relay.deliver_to_handlers(&e).await.expect("redeliver");
    }
    let after = format!(
        "{:?}",
        service
            .statistics(u, &StatisticsRequest::default())
            .await
            .expect("s")
    );
    assert_eq!(before, after);
    assert_eq!(
        store
            .outbox_backlog(RelayChannel::Handlers)
            .await
            .expect("b")
            .pending,
        0
    );
}

/// The event contract functions, for every backend.
#[macro_export]
macro_rules! event_contract_tests {
    ($backend:ty) => {
        $crate::contract_tests!(@each $backend;
            relay_claims_in_order_per_user_with_retry_and_lease,
            relay_a_blocked_queue_does_not_starve_others,
            handler_state_round_trips_and_rolls_back,
            handlers_end_to_end_statistics_and_redelivery,
            relay_renews_only_its_own_live_claims,
            dead_letter_undecodable_payload_is_parked_and_others_flow,
            dead_letter_after_ten_failures,
            batch_marks_answer_per_event_and_roll_back,
            batch_bucket_rows_equal_one_bucket_at_a_time,
            batch_reads_and_sums_equal_one_key_at_a_time,
            batch_failure_in_the_middle_loses_and_duplicates_nothing,
            batch_statistics_equal_one_event_at_a_time,
            redelivered_batch_changes_nothing,
        );
    };
}

/// A statistics request from the query's words (`period`, IANA zone, `YYYY-MM-DD`).
fn stats_request(period: &str, tz: &str, date: Option<&str>) -> StatisticsRequest {
    StatisticsRequest {
        period: Period::parse(period).expect("period"),
        tz: tz.parse().expect("time zone"),
        date: date.map(|d| d.parse().expect("date")),
    }
}
