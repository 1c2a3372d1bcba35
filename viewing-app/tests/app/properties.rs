//! Properties of the viewing rules over random sequences of watches on random show shapes,
//! through the use cases on the memory store.

use std::collections::{HashMap, HashSet};

use crate::support::*;
use chrono::{Duration, NaiveDate};
use proptest::prelude::*;
use viewing_app::AppError;
use viewing_domain::rules::episode::WatchEpisode;
use viewing_domain::values::Percent;
use viewing_domain::{DomainEvent, EpisodeId, RulesConfig, Show, ShowId, ShowStatus, Watched};

#[derive(Debug, Clone)]
struct Shape {
    status: ShowStatus,
    specials: u32,
    /// Per regular season: (episodes, how many of the last ones are unaired).
    seasons: Vec<(u32, u32)>,
}

#[derive(Debug, Clone)]
struct Op {
    /// Index into every episode of the show (specials included), modulo their count.
    episode: usize,
    mark_previous: bool,
    /// Minutes the clock moves before this watch.
    gap_minutes: i64,
    /// How long before "now" the viewing finished (arrival order differs from watch order).
    backdate_minutes: i64,
}

fn shape() -> impl Strategy<Value = Shape> {
    (
        prop_oneof![
            Just(ShowStatus::Returning),
            Just(ShowStatus::Ended),
            Just(ShowStatus::Canceled)
        ],
        0u32..3,
        prop::collection::vec((1u32..6, 0u32..3), 1..4),
    )
        .prop_map(|(status, specials, seasons)| Shape {
            status,
            specials,
            seasons: seasons
                .into_iter()
                .map(|(n, unaired)| (n, unaired.min(n - 1)))
                .collect(),
        })
}

fn op() -> impl Strategy<Value = Op> {
    (
        0usize..64,
        prop::bool::weighted(0.3),
        prop_oneof![0i64..240, 170i64..200, 0i64..3000],
        prop_oneof![Just(0i64), 0i64..400],
    )
        .prop_map(
            |(episode, mark_previous, gap_minutes, backdate_minutes)| Op {
                episode,
                mark_previous,
                gap_minutes,
                backdate_minutes,
            },
        )
}

fn build(shape: &Shape) -> Show {
    let future = NaiveDate::from_ymd_opt(2030, 1, 1);
    let mut seasons = Vec::new();
    if shape.specials > 0 {
        seasons.push(season(1, 0, shape.specials, None));
    }
    for (i, &(n, unaired)) in shape.seasons.iter().enumerate() {
        let mut s = season(1, (i + 1) as u32, n, None);
        for e in s.episodes.iter_mut().skip((n - unaired) as usize) {
            e.air_date = future;
        }
        seasons.push(s);
    }
    Show::new(
        ShowId::from(uuid(1, 0x5)),
        title("Random"),
        shape.status,
        vec![],
        seasons,
    )
    .expect("valid random show")
}

async fn run(shape: Shape, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let gap = Duration::hours(3);
    let w = World::new();
    let show = w.given_show(build(&shape)).await;
    let today = t0().date_naive();
    let all: Vec<_> = show
        .episodes()
        .map(|e| {
            (
                e.episode.id,
                e.order_key(),
                e.is_special(),
                e.episode.has_aired(today),
            )
        })
        .collect();
    let aired_regular: Vec<EpisodeId> = all.iter().filter(|e| !e.2 && e.3).map(|e| e.0).collect();
    let mut watched: HashSet<EpisodeId> = HashSet::new();
    let mut season_events: HashMap<u32, usize> = HashMap::new();

    for op in ops {
        let (id, (s, e), special, aired) = all[op.episode % all.len()];
        w.clock.advance(Duration::minutes(op.gap_minutes));
        let at = w.clock_now() - Duration::minutes(op.backdate_minutes);
        let before = w.progress(1).await;
        let events_before = w.events().await.len();
        let result = w
            .svc
            .watch_episode(
                w.user,
                id,
                WatchEpisode {
                    watch_date: Some(at),
                    mark_previous_watched: op.mark_previous,
                    ..WatchEpisode::default()
                },
            )
            .await;
        let was_rewatch = watched.contains(&id);
        match result {
            Ok(r) => {
                prop_assert!(special || aired, "unaired S{s}E{e} was recorded");
                prop_assert_eq!(r.record.is_rewatch, was_rewatch);
                if !special && !was_rewatch {
                    // Everything before it is watched now.
                    for prev in all.iter().filter(|p| !p.2 && p.3 && p.1 < (s, e)) {
                        watched.insert(prev.0);
                    }
                }
                watched.insert(id);
                if was_rewatch || special {
                    let after = w.progress(1).await;
                    prop_assert_eq!(after.episodes_watched, before.episodes_watched);
                    prop_assert_eq!(after.completion_percent, before.completion_percent);
                    prop_assert_eq!(&after.next_episode, &before.next_episode);
                    prop_assert!(!r.season_completed && !r.show_completed);
                }
            }
            Err(AppError::EpisodeOutOfOrder(missing)) => {
                prop_assert!(!op.mark_previous && !special && !was_rewatch);
                let first_missing = all
                    .iter()
                    .find(|p| !p.2 && p.3 && !watched.contains(&p.0))
                    .map(|p| p.0);
                prop_assert_eq!(Some(missing.episode_id), first_missing);
                prop_assert_eq!(
                    w.events().await.len(),
                    events_before,
                    "a refusal publishes nothing"
                );
            }
            Err(AppError::Invalid(_)) => prop_assert!(!special && !aired),
            Err(other) => return Err(TestCaseError::fail(format!("unexpected {other:?}"))),
        }

        let p = w.progress(1).await;
        let expected = aired_regular
            .iter()
            .filter(|id| watched.contains(id))
            .count() as u32;
        prop_assert_eq!(p.episodes_watched, expected);
        prop_assert_eq!(p.total_episodes, aired_regular.len() as u32);
        prop_assert!(p.completion_percent <= Percent::FULL);
        prop_assert_eq!(
            p.completion_percent,
            Percent::of(expected, aired_regular.len() as u32)
        );
        let next = aired_regular
            .iter()
            .find(|id| !watched.contains(id))
            .copied();
        prop_assert_eq!(p.next_episode.map(|n| n.episode_id), next);

        // Season completions of this op: only for seasons watched in full now.
        for ev in w.events().await.iter().skip(events_before) {
            if let DomainEvent::TvSeasonCompleted(c) = &ev.event {
                let season = show.season(c.season_number).expect("season exists");
                prop_assert!(
                    season
                        .episodes
                        .iter()
                        .filter(|e| e.has_aired(today))
                        .all(|e| watched.contains(&e.id))
                );
                *season_events.entry(c.season_number).or_default() += 1;
            }
        }
    }

    prop_assert!(season_events.values().all(|&n| n == 1), "{season_events:?}");
    let shows_completed = w
        .count_events(|e| matches!(e, DomainEvent::TvShowCompleted(_)))
        .await;
    let all_watched =
        !aired_regular.is_empty() && aired_regular.iter().all(|id| watched.contains(id));
    prop_assert_eq!(
        shows_completed,
        usize::from(shape.status.is_finished() && all_watched)
    );

    // Binge sessions: ≥ 2 episodes, consecutive in order, gaps within the limit, and records
    // agree with the sessions table.
    let records = w.records(1).await;
    let sessions = w.sessions(1).await;
    for s in &sessions {
        let mut members: Vec<_> = records
            .iter()
            .filter(|r| r.binge_session_id == Some(s.id))
            .collect();
        members.sort_by_key(|r| r.watch_date);
        prop_assert!(members.len() >= 2);
        prop_assert_eq!(members.len() as u32, s.episodes_watched);
        for pair in members.windows(2) {
            let (a, b) = (&pair[0], &pair[1]);
            prop_assert!(!a.is_rewatch && !b.is_rewatch && !a.backfilled && !b.backfilled);
            prop_assert!(b.watch_date - a.watch_date <= gap);
            let (Watched::Episode { episode_id: ea, .. }, Watched::Episode { episode_id: eb, .. }) =
                (a.watched, b.watched)
            else {
                return Err(TestCaseError::fail("movie in a binge"));
            };
            let next = show.next_regular_after(ea).map(|n| n.episode.id);
            prop_assert_eq!(next, Some(eb), "consecutive in order");
        }
    }
    let in_sessions: HashSet<_> = sessions.iter().map(|s| s.id).collect();
    prop_assert!(
        records
            .iter()
            .filter_map(|r| r.binge_session_id)
            .all(|id| in_sessions.contains(&id))
    );

    // Sessions follow watch dates, not arrival order: rebuilding changes nothing.
    let rebuilt = w.svc.rebuild_binge_sessions(w.user).await.expect("rebuild");
    prop_assert_eq!(rebuilt, sessions.len());
    prop_assert_eq!(&w.sessions(1).await, &sessions);
    prop_assert_eq!(&w.records(1).await, &records);
    let _ = RulesConfig::default();
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_watch_sequences_keep_every_invariant(shape in shape(), ops in prop::collection::vec(op(), 1..40)) {
        let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
        rt.block_on(run(shape, ops))?;
    }
}
