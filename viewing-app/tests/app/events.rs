//! The event side on the memory store: the relay, the five handlers, their idempotency, the
//! reminder scheduler and the background runner.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::support::*;
use adapters_memory::MemoryStore;
use async_trait::async_trait;
use chrono::Duration;
use viewing_app::engagement::RecordingNotifier;
use viewing_app::handlers::{EventHandler, HandlerContext, default_handlers};
use viewing_app::relay::Relay;
use viewing_app::statistics::{Period, StatisticsRequest};
use viewing_app::{AppError, AppResult};
use viewing_domain::engagement::{Reminder, ReminderStatus};
use viewing_domain::event_ports::{Notifier, OutboxRelay, RelayChannel};
use viewing_domain::ports::{Begin, BoxError, UnitOfWork};
use viewing_domain::rules::abandon::Abandon;
use viewing_domain::rules::movie::WatchMovie;
use viewing_domain::values::{Minutes, Rating};
use viewing_domain::{DomainEvent, EventEnvelope, Movie, MovieId, ShowId, ShowStatus, UserId};

fn movie(n: u64, genres: &[&str]) -> Movie {
    Movie {
        id: MovieId::from(uuid(n, 0x3)),
        title: title(&format!("Movie {n}")),
        runtime: Minutes::from_u32_saturating(100),
        genres: genres.iter().map(|g| genre(g)).collect(),
        release_date: None,
        external_ids: Default::default(),
    }
}

async fn watch_movie(w: &World, n: u64) {
    w.svc
        .watch_movie(w.user, MovieId::from(uuid(n, 0x3)), WatchMovie::default())
        .await
        .expect("movie watched");
}

fn relay(w: &World) -> Relay<MemoryStore> {
    Relay::new(&w.svc)
}

async fn drain(w: &World) -> usize {
    relay(w).drain().await.expect("drain")
}

fn all_time() -> StatisticsRequest {
    StatisticsRequest {
        period: Period::All,
        ..StatisticsRequest::default()
    }
}
/// A statistics request from the query's words (`period`, IANA zone, `YYYY-MM-DD`).
fn stats_request(period: &str, tz: &str, date: Option<&str>) -> StatisticsRequest {
    StatisticsRequest {
        period: Period::parse(period).expect("period"),
        tz: tz.parse().expect("time zone"),
        date: date.map(|d| d.parse().expect("date")),
    }
}

/// Everything the handlers keep for a user, to compare before and after.
async fn handler_state(w: &World) -> String {
    let s = w.svc.statistics(w.user, &all_time()).await;
    let a = w.svc.achievements(w.user).await;
    let l = w.svc.watchlist(w.user).await;
    let r = w.svc.reminders(w.user).await;
    let p = w.svc.preferences(w.user).await;
    let outbox = w.events().await.len();
    format!("{s:?}\n{a:?}\n{l:?}\n{r:?}\n{p:?}\noutbox={outbox}")
}

#[tokio::test]
async fn buckets_give_the_same_statistics_as_the_records() {
    let w = World::new();
    w.svc
        .upsert_movie(movie(9, &["Crime", "Thriller"]))
        .await
        .expect("movie");
    w.given_show(show(1, ShowStatus::Ended, &[2])).await;
    watch_movie(&w, 9).await;
    w.watch_at(1, 1, 1, t0() + minutes(60)).await.expect("E1");
    w.watch_at(1, 1, 2, t0() + minutes(110)).await.expect("E2");
    // Movie, two episodes, season and show completed, then two unlocks (first movie, first
    // show completed) that the achievement handler appends while the relay runs.
    assert_eq!(drain(&w).await, 7, "every event delivered once");
    for period in ["week", "month", "year", "all"] {
        for tz in [
            "UTC",
            "America/New_York",
            "Asia/Kathmandu",
            "Pacific/Chatham",
        ] {
            let p = stats_request(period, tz, None);
            let from_records = oracle::statistics_from_records(&w.svc, w.user, &p)
                .await
                .expect("records");
            let from_buckets = w.svc.statistics(w.user, &p).await.expect("buckets");
            assert_eq!(from_buckets, from_records, "{period} in {tz}");
        }
    }
    let s = w.svc.statistics(w.user, &all_time()).await.expect("stats");
    assert_eq!((s.total_watched, s.total_minutes), (3, 190));
    assert_eq!((s.binge_sessions, s.longest_binge_episodes), (1, 2));
}

#[tokio::test]
async fn a_period_edge_in_a_time_zone_splits_the_utc_day() {
    // 2026-03-08 23:30 UTC is Monday 2026-03-09 in Asia/Kathmandu (+05:45) but Sunday in UTC.
    let w = World::new();
    w.svc
        .upsert_movie(movie(9, &["Drama"]))
        .await
        .expect("movie");
    let at = t0() + Duration::days(6) + Duration::hours(3) + minutes(30);
    w.clock.set(at);
    watch_movie(&w, 9).await;
    drain(&w).await;
    let week = |tz: &str, date: &str| stats_request("week", tz, Some(date));
    let utc = w.svc.statistics(w.user, &week("UTC", "2026-03-02")).await;
    let ktm = w
        .svc
        .statistics(w.user, &week("Asia/Kathmandu", "2026-03-09"))
        .await;
    assert_eq!(utc.expect("utc").total_watched, 1);
    assert_eq!(ktm.expect("ktm").total_watched, 1);
    let ktm_before = w
        .svc
        .statistics(w.user, &week("Asia/Kathmandu", "2026-03-02"))
        .await;
    assert_eq!(ktm_before.expect("ktm").total_watched, 0);
}

#[tokio::test]
async fn every_handler_given_the_same_event_twice_changes_nothing_the_second_time() {
    let w = World::new();
    w.svc
        .upsert_movie(movie(9, &["Crime"]))
        .await
        .expect("movie");
    w.given_show(show(1, ShowStatus::Ended, &[2])).await;
    watch_movie(&w, 9).await;
    w.watch_at(1, 1, 1, t0() + minutes(60)).await.expect("E1");
    w.watch_at(1, 1, 2, t0() + minutes(110)).await.expect("E2");
    w.svc
        .abandon(w.user, uuid(1, 0x5), Abandon::default())
        .await
        .expect("abandon");
    let events = w.events().await;
    let r = relay(&w);
    for e in &events {
        r.deliver_to_handlers(e).await.expect("first delivery");
    }
    let once = handler_state(&w).await;
    for e in &events {
        r.deliver_to_handlers(e).await.expect("second delivery");
    }
    assert_eq!(handler_state(&w).await, once);
    let skipped: u64 = r
        .metrics()
        .snapshot()
        .handlers
        .values()
        .map(|h| h.skipped)
        .sum();
    assert_eq!(skipped, events.len() as u64 * 5);
}

#[tokio::test]
async fn milestones_unlock_once_and_emit_achievement_unlocked() {
    let w = World::new();
    for n in 1..=10 {
        w.svc
            .upsert_movie(movie(n, &["Drama"]))
            .await
            .expect("movie");
    }
    for n in 1..=10 {
        watch_movie(&w, n).await;
    }
    watch_movie(&w, 1).await; // a rewatch counts for nothing
    w.given_show(show(1, ShowStatus::Ended, &[6])).await;
    for e in 1..=6 {
        w.watch_at(1, 1, e, t0() + minutes(50 * i64::from(e)))
            .await
            .expect("episode");
    }
    drain(&w).await;
    let codes: Vec<String> = w
        .svc
        .achievements(w.user)
        .await
        .expect("achievements")
        .into_iter()
        .map(|a| a.code)
        .collect();
    for code in [
        "first-movie",
        "movies-10",
        "marathon",
        "first-show-completed",
    ] {
        assert!(codes.contains(&code.to_owned()), "{code} in {codes:?}");
    }
    assert_eq!(codes.len(), 4);
    let unlocked = w
        .count_events(|e| matches!(e, DomainEvent::AchievementUnlocked(_)))
        .await;
    assert_eq!(unlocked, 4);
}

#[tokio::test]
async fn watchlist_items_leave_when_watched_or_completed() {
    let w = World::new();
    w.svc
        .upsert_movie(movie(9, &["Crime"]))
        .await
        .expect("movie");
    w.given_show(show(1, ShowStatus::Ended, &[1])).await;
    w.given_show(show(2, ShowStatus::Ended, &[1])).await;
    let (_, added) = w
        .svc
        .add_to_watchlist(w.user, uuid(9, 0x3))
        .await
        .expect("add");
    assert!(added);
    let (_, again) = w
        .svc
        .add_to_watchlist(w.user, uuid(9, 0x3))
        .await
        .expect("add twice");
    assert!(!again, "adding twice keeps one item");
    w.svc
        .add_to_watchlist(w.user, uuid(1, 0x5))
        .await
        .expect("show 1");
    w.svc
        .add_to_watchlist(w.user, uuid(2, 0x5))
        .await
        .expect("show 2");
    assert!(matches!(
        w.svc.add_to_watchlist(w.user, uuid(77, 0x3)).await,
        Err(AppError::ContentNotFound)
    ));
    watch_movie(&w, 9).await;
    w.watch_at(1, 1, 1, t0() + minutes(60))
        .await
        .expect("completes show 1");
    drain(&w).await;
    let left: Vec<_> = w
        .svc
        .watchlist(w.user)
        .await
        .expect("list")
        .into_iter()
        .map(|i| i.content_id)
        .collect();
    assert_eq!(left, vec![uuid(2, 0x5)]);
    w.svc
        .remove_from_watchlist(w.user, uuid(2, 0x5))
        .await
        .expect("remove");
    assert!(matches!(
        w.svc.remove_from_watchlist(w.user, uuid(2, 0x5)).await,
        Err(AppError::NotFound)
    ));
}

async fn reminder_of(w: &World, show: u64) -> Reminder {
    w.svc
        .reminders(w.user)
        .await
        .expect("reminders")
        .into_iter()
        .find(|r| r.show_id == ShowId::from(uuid(show, 0x5)))
        .expect("a reminder for the show")
}

#[tokio::test]
async fn reminders_are_scheduled_rescheduled_cancelled_and_sent() {
    let w = World::new();
    w.given_show(show(1, ShowStatus::Ended, &[3])).await;
    w.given_show(show(2, ShowStatus::Ended, &[3])).await;
    w.watch_at(1, 1, 1, t0()).await.expect("E1");
    drain(&w).await;
    let r = reminder_of(&w, 1).await;
    assert_eq!((r.season_number, r.episode_number), (1, 2));
    assert_eq!(r.due_at, t0() + Duration::days(7));
    assert_eq!(r.status, ReminderStatus::Scheduled);

    w.watch_at(1, 1, 2, t0() + Duration::days(1))
        .await
        .expect("E2");
    drain(&w).await;
    let r = reminder_of(&w, 1).await;
    assert_eq!(r.episode_number, 3, "a newer watch reschedules");
    assert_eq!(r.due_at, t0() + Duration::days(8));

    w.watch_at(2, 1, 1, t0() + Duration::days(1))
        .await
        .expect("show 2");
    w.svc
        .abandon(w.user, uuid(2, 0x5), Abandon::default())
        .await
        .expect("abandon");
    drain(&w).await;
    assert_eq!(reminder_of(&w, 2).await.status, ReminderStatus::Cancelled);

    let notifier = RecordingNotifier::default();
    let early = w.svc.fire_due_reminders(&notifier, 10).await.expect("fire");
    assert_eq!(early.sent, 0, "nothing is due yet");
    w.clock.set(t0() + Duration::days(8));
    let fired = w.svc.fire_due_reminders(&notifier, 10).await.expect("fire");
    assert_eq!(fired.sent, 1);
    assert_eq!(notifier.sent().len(), 1);
    let r = reminder_of(&w, 1).await;
    assert_eq!(r.status, ReminderStatus::Sent);
    let again = w.svc.fire_due_reminders(&notifier, 10).await.expect("fire");
    assert_eq!(again.sent, 0, "a sent reminder is not sent again");

    w.watch_at(1, 1, 3, t0() + Duration::days(8))
        .await
        .expect("E3 completes");
    drain(&w).await;
    assert_eq!(reminder_of(&w, 1).await.status, ReminderStatus::Sent);
}

struct BrokenNotifier(AtomicUsize);

#[async_trait]
impl Notifier for BrokenNotifier {
    async fn notify(&self, _: &Reminder) -> Result<(), BoxError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Err("webhook down".into())
    }
}

#[tokio::test]
async fn a_reminder_the_notifier_keeps_refusing_ends_failed_after_five_attempts() {
    let w = World::new();
    w.given_show(show(1, ShowStatus::Ended, &[3])).await;
    w.watch_at(1, 1, 1, t0()).await.expect("E1");
    drain(&w).await;
    let broken = BrokenNotifier(AtomicUsize::new(0));
    for day in 7..20 {
        w.clock.set(t0() + Duration::days(day));
        w.svc.fire_due_reminders(&broken, 10).await.expect("fire");
    }
    assert_eq!(broken.0.load(Ordering::SeqCst), 5);
    let r = reminder_of(&w, 1).await;
    assert_eq!((r.status, r.attempts), (ReminderStatus::Failed, 5));
}

#[tokio::test]
async fn preferences_rank_genres_and_a_poorly_rated_abandon_lowers_them() {
    let w = World::new();
    w.svc
        .upsert_movie(movie(9, &["Crime", "Thriller"]))
        .await
        .expect("movie");
    w.svc
        .upsert_movie(movie(8, &["Comedy"]))
        .await
        .expect("movie");
    w.given_show(show(1, ShowStatus::Ended, &[3])).await; // Drama, Crime
    watch_movie(&w, 9).await;
    w.watch_at(1, 1, 1, t0() + minutes(60)).await.expect("E1");
    w.svc
        .abandon(
            w.user,
            uuid(8, 0x3),
            Abandon {
                quality_rating: Some(Rating::new("qualityRating", 2.0).expect("rating")),
                ..Abandon::default()
            },
        )
        .await
        .expect("abandon");
    drain(&w).await;
    let ranked: Vec<(String, f64)> = w
        .svc
        .preferences(w.user)
        .await
        .expect("preferences")
        .into_iter()
        .map(|p| (p.genre, p.score))
        .collect();
    assert_eq!(
        ranked,
        vec![
            ("Crime".to_owned(), 1.1),
            ("Thriller".to_owned(), 1.0),
            ("Drama".to_owned(), 0.1),
            ("Comedy".to_owned(), -2.0),
        ]
    );
}

/// Fails on every event of one user until told otherwise; records the order it saw.
struct Flaky {
    failing: UserId,
    healed: Arc<std::sync::atomic::AtomicBool>,
    seen: Arc<std::sync::Mutex<Vec<(UserId, viewing_domain::EventId)>>>,
}

#[async_trait]
impl<U: UnitOfWork> EventHandler<U> for Flaky {
    fn name(&self) -> &'static str {
        "flaky"
    }
    async fn handle(&self, _: &mut U, e: &EventEnvelope, _: &HandlerContext<'_>) -> AppResult<()> {
        if e.user_id == self.failing && !self.healed.load(Ordering::SeqCst) {
            return Err(AppError::Unexpected("not today".into()));
        }
        self.seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((e.user_id, e.event_id));
        Ok(())
    }
}

#[tokio::test]
async fn a_failing_event_holds_back_its_user_only_and_is_retried_in_order() {
    let w = World::new();
    for n in 1..=3 {
        w.svc
            .upsert_movie(movie(n, &["Drama"]))
            .await
            .expect("movie");
    }
    let other = UserId::from(uuid(2, 0x1));
    for n in 1..=3 {
        watch_movie(&w, n).await;
        w.svc
            .watch_movie(other, MovieId::from(uuid(n, 0x3)), WatchMovie::default())
            .await
            .expect("other user");
    }
    let healed = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut handlers = default_handlers();
    handlers.push(Box::new(Flaky {
        failing: w.user,
        healed: healed.clone(),
        seen: seen.clone(),
    }));
    let r = relay(&w).with_handlers(handlers);
    let first = r.pass(RelayChannel::Handlers).await.expect("pass");
    assert_eq!((first.claimed, first.delivered, first.failed), (6, 3, 1));
    let backlog = w
        .store
        .outbox_backlog(RelayChannel::Handlers)
        .await
        .expect("backlog");
    // The user's three movies, plus the two `first-movie` unlocks appended during the pass
    // (the user's waits behind its movies).
    assert_eq!(backlog.pending, 5, "the user's events wait");
    let held = r.pass(RelayChannel::Handlers).await.expect("pass");
    assert_eq!(
        (held.claimed, held.delivered),
        (1, 1),
        "only the other user's unlock: the user's events wait for the retry time"
    );
    healed.store(true, Ordering::SeqCst);
    w.clock.advance(Duration::seconds(2));
    assert_eq!(r.drain().await.expect("drain"), 4);
    let order: Vec<_> = seen
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .filter(|(u, _)| *u == w.user)
        .map(|(_, id)| *id)
        .collect();
    let expected: Vec<_> = w
        .events()
        .await
        .iter()
        .filter(|e| e.user_id == w.user && !matches!(e.event, DomainEvent::AchievementUnlocked(_)))
        .map(|e| e.event_id)
        .collect();
    assert_eq!(
        order[..3],
        expected[..3],
        "the user's events in outbox order"
    );
    // The statistics handler ran before the flaky one failed and was not applied twice.
    let s = w.svc.statistics(w.user, &all_time()).await.expect("stats");
    assert_eq!(s.movies, 3);
}

#[tokio::test]
async fn a_handler_error_rolls_back_its_unit_of_work_and_its_mark() {
    let w = World::new();
    w.svc
        .upsert_movie(movie(9, &["Drama"]))
        .await
        .expect("movie");
    watch_movie(&w, 9).await;
    let event = w.events().await.remove(0);
    let healed = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flaky = Flaky {
        failing: w.user,
        healed: healed.clone(),
        seen: Arc::new(std::sync::Mutex::new(Vec::new())),
    };
    let r = relay(&w).with_handlers(vec![Box::new(flaky)]);
    assert!(r.deliver_to_handlers(&event).await.is_err());
    healed.store(true, Ordering::SeqCst);
    r.deliver_to_handlers(&event).await.expect("retry");
    let snap = r.metrics().snapshot();
    let h = snap.handlers.get("flaky").expect("flaky counters");
    assert_eq!((h.failed, h.applied, h.skipped), (1, 1, 0));
    let mut uow = w.store.begin().await.expect("begin");
    use viewing_domain::event_ports::ProcessedEvents;
    let fresh = uow
        .mark_processed("flaky", event.event_id, t0())
        .await
        .expect("mark");
    assert!(!fresh, "the successful retry left its mark");
}

#[tokio::test]
async fn the_runner_feeds_the_handlers_in_the_background_and_stops_on_signal() {
    use viewing_app::runner::{Runner, RunnerConfig};
    let w = World::new();
    w.svc
        .upsert_movie(movie(9, &["Drama"]))
        .await
        .expect("movie");
    let runner = Runner::new(
        w.svc.clone(),
        relay(&w),
        Arc::new(RecordingNotifier::default()),
    )
    .with_config(RunnerConfig {
        poll_interval: std::time::Duration::from_millis(10),
        ..RunnerConfig::default()
    });
    let metrics = runner.metrics();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(runner.run(async move {
        let _ = stop_rx.await;
    }));
    watch_movie(&w, 9).await;
    let mut seen = 0;
    for _ in 0..1000 {
        seen = w
            .svc
            .statistics(w.user, &all_time())
            .await
            .expect("stats")
            .movies;
        if seen == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(seen, 1, "the runner applied the event");
    let _ = stop_tx.send(());
    tokio::time::timeout(std::time::Duration::from_secs(30), running)
        .await
        .expect("the runner stops")
        .expect("no panic");
    let snap = metrics.snapshot();
    assert!(snap.channels[&RelayChannel::Handlers].delivered >= 1);
    // Recorded through the `metrics` facade into a recorder of this test only.
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    metrics::with_local_recorder(&recorder, || snap.record());
    let text = recorder.handle().render();
    assert!(
        text.contains("viewing_outbox_backlog{channel=\"handlers\"} "),
        "{text}"
    );
    assert!(
        text.contains("viewing_outbox_delivered_total{channel=\"handlers\"} 1"),
        "{text}"
    );
}

mod equivalence {
    use super::*;
    use proptest::prelude::*;
    use viewing_domain::rules::episode::WatchEpisode;
    use viewing_domain::values::Platform;

    const ZONES: [&str; 5] = [
        "UTC",
        "America/New_York",
        "Asia/Kathmandu",
        "Pacific/Chatham",
        "Australia/Lord_Howe",
    ];
    const PLATFORMS: [Option<&str>; 3] = [None, Some("Netflix"), Some("Hulu")];

    fn platform(i: usize) -> Option<Platform> {
        PLATFORMS[i].and_then(|p| Platform::parse(p).ok().flatten())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        /// Whatever was watched when, every period in every zone reads the same from the
        /// buckets as from the records (binge fields aside: the buckets count a session in the
        /// period of its start, the records in every period one of its episodes is in).
        #[test]
        fn bucket_statistics_equal_the_record_oracle(
            movies in prop::collection::vec((0i64..120 * 24 * 4, 0usize..3, any::<bool>()), 0..12),
            episodes in prop::collection::vec((0i64..12 * 24 * 4, 0usize..3), 0..8),
            zone in 0usize..5,
            day in 0i64..120,
            period in 0usize..4,
        ) {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("rt");
            rt.block_on(async {
                let w = World::new();
                let start = t0() - Duration::days(60);
                w.clock.set(start + Duration::days(121));
                w.svc.upsert_movie(movie(9, &["Crime", "Thriller"])).await.expect("movie");
                w.given_show(show(1, ShowStatus::Ended, &[8])).await;
                for (quarter, p, rewatch) in &movies {
                    let cmd = WatchMovie {
                        watch_date: Some(start + Duration::minutes(quarter * 15 + 7)),
                        viewing_platform: platform(*p),
                        is_rewatch: Some(*rewatch),
                        ..WatchMovie::default()
                    };
                    w.svc.watch_movie(w.user, MovieId::from(uuid(9, 0x3)), cmd).await.expect("movie");
                }
                let mut at = start;
                for (i, (gap, p)) in episodes.iter().enumerate() {
                    at += Duration::minutes(gap * 15 + 1);
                    let cmd = WatchEpisode {
                        watch_date: Some(at),
                        platform: platform(*p),
                        ..WatchEpisode::default()
                    };
                    w.svc
                        .watch_episode(w.user, episode_id(1, 1, i as u32 + 1), cmd)
                        .await
                        .expect("episode");
                }
                drain(&w).await;
                let params = StatisticsRequest {
                    period: [Period::Week, Period::Month, Period::Year, Period::All][period],
                    tz: ZONES[zone].parse().expect("time zone"),
                    date: Some((start + Duration::days(day)).date_naive()),
                };
                let mut a = oracle::statistics_from_records(&w.svc, w.user, &params)
                    .await
                    .expect("records");
                let mut b = w.svc.statistics(w.user, &params).await.expect("buckets");
                for s in [&mut a, &mut b] {
                    s.binge_sessions = 0;
                    s.longest_binge_episodes = 0;
                }
                assert_eq!(b, a, "{params:?}");
            });
        }
    }
}
