//! Batched delivery (SPEC §14): the relay applies a claimed batch in one unit of work and falls
//! back to one event at a time when the batch fails. Whatever path an event takes, every
//! handler applies it exactly once, each user's events in order, and the numbers are those of
//! one-event-at-a-time delivery. Run by [`crate::event_contract_tests!`] for every store.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use viewing_app::handlers::{EventHandler, HandlerContext};
use viewing_app::relay::{Relay, RelayConfig};
use viewing_app::statistics::{Period, StatisticsRequest};
use viewing_app::{AppError, AppResult, UuidV7, ViewingService};
use viewing_domain::event_ports::{ClaimToken, RelayChannel};
use viewing_domain::events::EventEnvelope;
use viewing_domain::handler_ports::AchievementRepository;
use viewing_domain::ports::{Clock, Store, UnitOfWork};
use viewing_domain::rules::abandon::Abandon;
use viewing_domain::rules::episode::WatchEpisode;
use viewing_domain::rules::movie::WatchMovie;
use viewing_domain::{EventId, RulesConfig, ShowStatus, UserId};

use crate::Probe;
use crate::fixtures::*;

const H: RelayChannel = RelayChannel::Handlers;

/// The system clock moved by `ahead` (a relay that runs later).
struct Ahead(Duration);

impl Clock for Ahead {
    fn now(&self) -> DateTime<Utc> {
        viewing_app::SystemClock.now() + self.0
    }
}

fn service_at<S: Store>(store: &S, ahead: Duration) -> ViewingService<S> {
    ViewingService::with_parts(
        store.clone(),
        Arc::new(Ahead(ahead)),
        Arc::new(UuidV7),
        RulesConfig::default(),
    )
}

/// Counts, through the handlers' unit of work (so through the batch's buffers when there is a
/// batch), every event it applies (`{name}:seen`), and every event that comes after a later
/// one of its user (`{name}:disorder`); `{name}:last` is the minute of the user's latest
/// event. Fails `failing` while `fail` is set.
struct Counting {
    name: &'static str,
    failing: Option<EventId>,
    fail: Arc<AtomicBool>,
}

#[async_trait]
impl<U: UnitOfWork + 'static> EventHandler<U> for Counting {
    fn name(&self) -> &'static str {
        self.name
    }

    async fn handle(
        &self,
        uow: &mut U,
        event: &EventEnvelope,
        ctx: &HandlerContext<'_>,
    ) -> AppResult<()> {
        if self.failing == Some(event.event_id) && self.fail.load(Ordering::SeqCst) {
            return Err(AppError::Conflict(format!(
                "{} refuses this event",
                self.name
            )));
        }
        let u = event.user_id;
        let n = event.occurred_at.timestamp() / 60 - minute(0).timestamp() / 60;
        let last = ctx
            .bump_counter(uow, u, &format!("{}:last", self.name), 0)
            .await?;
        if n <= last {
            ctx.bump_counter(uow, u, &format!("{}:disorder", self.name), 1)
                .await?;
        }
        ctx.bump_counter(uow, u, &format!("{}:last", self.name), n - last)
            .await?;
        ctx.bump_counter(uow, u, &format!("{}:seen", self.name), 1)
            .await?;
        Ok(())
    }
}

/// The stored value of the user's counter `name` (0 when never bumped).
async fn counter<S: Store>(store: &S, user: UserId, name: &str) -> i64 {
    let mut uow = store.begin().await.expect("begin");
    uow.bump_counter(user, name, 0).await.expect("read counter")
}

/// `(seen, disorder)` of `handler` for `user`.
async fn seen<S: Store>(store: &S, handler: &str, user: UserId) -> (i64, i64) {
    (
        counter(store, user, &format!("{handler}:seen")).await,
        counter(store, user, &format!("{handler}:disorder")).await,
    )
}

fn counting_handlers<U: UnitOfWork + 'static>(
    failing: EventId,
    fail: &Arc<AtomicBool>,
) -> Vec<Box<dyn EventHandler<U>>> {
    ["before", "failer", "after"]
        .into_iter()
        .map(|name| {
            Box::new(Counting {
                name,
                failing: (name == "failer").then_some(failing),
                fail: fail.clone(),
            }) as Box<dyn EventHandler<U>>
        })
        .collect()
}

/// A batch of 20 events of four users whose middle event fails in one handler: the batch is
/// rolled back and delivered one event at a time, so every other user's events are applied
/// exactly once by every handler, the failing user's later events wait behind it, and the
/// handler before the failing one keeps the failing event applied (its own unit of work). At
/// its second failure (`max_attempts` 2) the event is parked and the user's later events flow;
/// retried and fixed, it is applied by the handlers that had not applied it, and only by them.
pub async fn batch_failure_in_the_middle_loses_and_duplicates_nothing<S: Store + Probe>(store: S) {
    let users: Vec<UserId> = (0..4).map(|_| user()).collect();
    let mut events = Vec::new();
    for n in 1..=5 {
        for u in &users {
            events.push(unlock(*u, n * 10 + events.len() as i64));
        }
    }
    append(&store, &events).await;
    let a = users[1];
    // a's second event, in the middle of the batch.
    let failing = events[5].clone();
    assert_eq!(failing.user_id, a);
    let fail = Arc::new(AtomicBool::new(true));
    let config = RelayConfig {
        retry_base: Duration::hours(1),
        retry_max: Duration::hours(1),
        max_attempts: 2,
        ..RelayConfig::default()
    };
    let relay = Relay::new(&service_at(&store, Duration::zero()))
        .with_handlers(counting_handlers(failing.event_id, &fail))
        .with_config(config);
    assert!(relay.config().batch >= 20, "one batch holds all 20 events");

    assert_eq!(
        relay.drain().await.expect("drain"),
        16,
        "all but a's last four"
    );
    for u in &users {
        for handler in ["before", "failer", "after"] {
            let (seen, disorder) = seen(&store, handler, *u).await;
            let want = match (*u == a, handler) {
                (false, _) => 5,
                // a's first event, and the failing one, applied before the failing handler
                // in a unit of work of its own.
                (true, "before") => 2,
                (true, _) => 1,
            };
            assert_eq!((seen, disorder), (want, 0), "{handler} for user {u}");
        }
    }
    let backlog = store.outbox_backlog(H).await.expect("backlog");
    assert_eq!(
        (backlog.pending, backlog.dead_letters),
        (4, 0),
        "the failing event is due in an hour, a's later events wait behind it"
    );

    // Two hours later, still failing: the second failure parks it; a's later events flow.
    let later = Relay::new(&service_at(&store, Duration::hours(2)))
        .with_handlers(counting_handlers(failing.event_id, &fail))
        .with_config(config);
    assert_eq!(later.drain().await.expect("drain"), 3);
    let dead = store.dead_letters(10).await.expect("dead letters");
    assert_eq!(
        dead.iter()
            .map(|d| (d.event_id, d.attempts))
            .collect::<Vec<_>>(),
        vec![(failing.event_id, 2)]
    );
    for (handler, want) in [("before", 5), ("failer", 4), ("after", 4)] {
        assert_eq!(seen(&store, handler, a).await, (want, 0), "{handler}");
    }

    // Fixed and retried: applied by the two handlers that lacked it, not again by the first.
    fail.store(false, Ordering::SeqCst);
    store
        .retry_dead_letter(failing.event_id, minute(0))
        .await
        .expect("retry");
    assert_eq!(later.drain().await.expect("drain"), 1);
    for u in &users {
        for handler in ["before", "failer", "after"] {
            assert_eq!(
                seen(&store, handler, *u).await.0,
                5,
                "{handler} for user {u}: every event exactly once"
            );
        }
    }
    // A second round of 20, nothing failing: one batch, applied whole.
    let round: Vec<EventEnvelope> = (1..=5)
        .flat_map(|n| users.iter().map(move |u| unlock(*u, 1000 + n)))
        .collect();
    append(&store, &round).await;
    assert_eq!(later.drain().await.expect("drain"), 20);
    for u in &users {
        for handler in ["before", "failer", "after"] {
            // Only the parked event came after its user's later ones.
            let disorder = i64::from(*u == a && handler != "before");
            assert_eq!(
                seen(&store, handler, *u).await,
                (10, disorder),
                "{handler} for user {u}"
            );
        }
    }
    let backlog = store.outbox_backlog(H).await.expect("backlog");
    assert_eq!((backlog.pending, backlog.dead_letters), (0, 0));
}

/// The catalog [`watch_everything`] watches.
struct Titles {
    heat: viewing_domain::Movie,
    dark: viewing_domain::Show,
    lost: viewing_domain::Show,
    gone: viewing_domain::Show,
}

async fn titles<S: Store>(service: &ViewingService<S>) -> Titles {
    let t = Titles {
        heat: movie("Heat", 170),
        dark: show("Dark", ShowStatus::Ended, &[3, 2], 0),
        lost: show("Lost", ShowStatus::Returning, &[6], 0),
        gone: show("Gone", ShowStatus::Returning, &[4], 0),
    };
    service.upsert_movie(t.heat.clone()).await.expect("movie");
    for s in [&t.dark, &t.lost, &t.gone] {
        service.upsert_show(s.clone()).await.expect("show");
    }
    t
}

/// Two users' viewing (a movie and its rewatch, a binge that completes an ended show, a show
/// left half-way, an abandoned show) on fixed instants, all on 2024-06-14..16.
async fn watch_everything<S: Store>(service: &ViewingService<S>, t: &Titles, users: [UserId; 2]) {
    let day = DateTime::from_timestamp(1_718_352_000, 0).expect("2024-06-14T08:00:00Z");
    let at = |m: i64| day + Duration::minutes(m);
    for u in users {
        for (m, rewatch) in [(0, None), (1440, Some(true))] {
            let cmd = WatchMovie {
                watch_date: Some(at(m)),
                is_rewatch: rewatch,
                viewing_platform: Some(platform("Netflix")),
                ..WatchMovie::default()
            };
            service.watch_movie(u, t.heat.id, cmd).await.expect("movie");
        }
        let episodes = [
            (&t.dark, 1, 1, 200),
            (&t.dark, 1, 2, 250),
            (&t.dark, 1, 3, 300),
            (&t.lost, 1, 1, 400),
            (&t.dark, 2, 1, 1500),
            (&t.dark, 2, 2, 1550),
            (&t.lost, 1, 2, 1600),
            (&t.gone, 1, 1, 1700),
            (&t.lost, 1, 3, 2900),
        ];
        for (s, season, number, m) in episodes {
            let cmd = WatchEpisode {
                watch_date: Some(at(m)),
                platform: Some(platform("Hulu")),
                ..WatchEpisode::default()
            };
            service
                .watch_episode(u, episode(s, season, number).id, cmd)
                .await
                .expect("episode");
        }
        let cmd = Abandon {
            abandon_date: Some(at(3000)),
            ..Abandon::default()
        };
        service
            .abandon(u, t.gone.id.into(), cmd)
            .await
            .expect("abandon");
    }
}

/// What the handlers made of a user's viewing, without ids and write times: statistics of
/// every period (UTC and a +05:45 zone), achievements, reminders, genre scores.
async fn outcome<S: Store>(service: &ViewingService<S>, u: UserId) -> Vec<String> {
    let mut out = Vec::new();
    for period in ["week", "month", "year", "all"] {
        for tz in ["UTC", "Asia/Kathmandu"] {
            let request = StatisticsRequest {
                period: Period::parse(period).expect("period"),
                tz: tz.parse().expect("time zone"),
                date: Some("2024-06-15".parse().expect("date")),
            };
            let s = service.statistics(u, &request).await.expect("statistics");
            out.push(format!("{period} {tz}: {s:?}"));
        }
    }
    for a in service.achievements(u).await.expect("achievements") {
        out.push(format!(
            "achievement {} {} {}",
            a.code, a.title, a.unlocked_at
        ));
    }
    for r in service.reminders(u).await.expect("reminders") {
        out.push(format!(
            "reminder {} S{}E{} {} {} {:?} {}",
            r.show_id,
            r.season_number,
            r.episode_number,
            r.last_watch_at,
            r.due_at,
            r.status,
            r.attempts
        ));
    }
    out.push(format!(
        "preferences {:?}",
        service.preferences(u).await.expect("preferences")
    ));
    out
}

/// The same viewing by two pairs of users, one pair's events delivered one at a time (batch 1),
/// the other's in batches of 100: statistics, achievements, reminders and genre scores are
/// the same.
pub async fn batch_statistics_equal_one_event_at_a_time<S: Store + Probe>(store: S) {
    let service = service_at(&store, Duration::zero());
    let single = [user(), user()];
    let batched = [user(), user()];
    let t = titles(&service).await;
    watch_everything(&service, &t, single).await;
    let one = Relay::new(&service).with_config(RelayConfig {
        batch: 1,
        ..RelayConfig::default()
    });
    let delivered = one.drain().await.expect("drain");
    watch_everything(&service, &t, batched).await;
    let many = Relay::new(&service).with_config(RelayConfig {
        batch: 100,
        ..RelayConfig::default()
    });
    assert_eq!(many.drain().await.expect("drain"), delivered);
    for (s, b) in single.into_iter().zip(batched) {
        let (s, b) = (outcome(&service, s).await, outcome(&service, b).await);
        assert!(
            s.iter().any(|line| line.starts_with("achievement")),
            "the scenario unlocks achievements: {s:#?}"
        );
        assert!(s.iter().any(|line| line.starts_with("reminder")), "{s:#?}");
        assert_eq!(s, b);
    }
}

/// A batch whose events were already applied, all or some of them (a relay that committed
/// the effects and died before acknowledging, its lease lapsed), claimed again and applied as
/// one batch: nothing changes; the events not applied before are applied once.
pub async fn redelivered_batch_changes_nothing<S: Store + Probe>(store: S) {
    let service = service_at(&store, Duration::zero());
    let t = titles(&service).await;
    let (reference, redelivered) = ([user(), user()], [user(), user()]);
    watch_everything(&service, &t, reference).await;
    let relay = Relay::new(&service);
    relay.drain().await.expect("drain");
    let want = [
        outcome(&service, reference[0]).await,
        outcome(&service, reference[1]).await,
    ];
    assert!(want[0].iter().any(|l| l.starts_with("achievement")));

    // The second pair: a relay claimed every event, applied every other one and died (no
    // acknowledgement); its lease lapses, and the whole batch is claimed again and applied.
    watch_everything(&service, &t, redelivered).await;
    let fresh: Vec<EventEnvelope> = store
        .outbox_events()
        .await
        .into_iter()
        .filter(|e| redelivered.contains(&e.user_id))
        .collect();
    let crashed = store
        .claim_events(
            H,
            ClaimToken(new_id()),
            Utc::now(),
            Duration::milliseconds(1),
            1000,
        )
        .await
        .expect("claim");
    assert_eq!(crashed.len(), fresh.len(), "the dead relay held them all");
    for e in fresh.iter().step_by(2) {
        relay.deliver_to_handlers(e).await.expect("apply");
    }
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let one_batch = Relay::new(&service).with_config(RelayConfig {
        batch: 1000,
        ..RelayConfig::default()
    });
    let delivered = one_batch.drain().await.expect("drain");
    assert!(delivered >= fresh.len(), "{delivered} < {}", fresh.len());
    for (u, want) in redelivered.iter().zip(&want) {
        assert_eq!(&outcome(&service, *u).await, want);
    }

    // Delivered once more, one at a time, they change nothing either.
    for e in &fresh {
        relay.deliver_to_handlers(e).await.expect("redeliver");
    }
    for (u, want) in redelivered.iter().zip(&want) {
        assert_eq!(&outcome(&service, *u).await, want, "one at a time");
    }
}
