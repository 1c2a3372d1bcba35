//! Invariants of the episode decision over random sequences of watches (SPEC §5).

mod support;

use std::collections::HashSet;

use chrono::Duration;
use proptest::prelude::*;
use support::*;
use viewing_domain::rules::episode::{WatchEpisode, WatchEpisodeError};
use viewing_domain::{DomainEvent, ShowStatus, Watched};

/// Two regular seasons and a specials season.
const SHAPE: [u32; 3] = [3, 2, 4];

/// One step: which episode (an index into the show's episodes, specials first), how long after
/// the previous step, and whether missing episodes are marked watched.
#[derive(Debug, Clone)]
struct Step {
    episode: usize,
    after_minutes: i64,
    mark_previous: bool,
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec(
        (0usize..11, 0i64..400, any::<bool>()).prop_map(|(episode, after_minutes, mark)| Step {
            episode,
            after_minutes,
            mark_previous: mark,
        }),
        1..25,
    )
}

fn status() -> impl Strategy<Value = ShowStatus> {
    prop_oneof![
        Just(ShowStatus::Returning),
        Just(ShowStatus::Ended),
        Just(ShowStatus::Canceled)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_decision_keeps_order_progress_sessions_and_completions_consistent(
        status in status(),
        steps in steps(),
    ) {
        let mut seasons = vec![season(0, 2, None)];
        seasons.extend(SHAPE.iter().zip(1..).map(|(&n, number)| season(number, n, None)));
        let show = show_of(status, seasons);
        let order: Vec<_> = show.aired_regular(now().date_naive()).map(|e| e.episode.id).collect();
        let all: Vec<_> = show.episodes().map(|e| (e.season.number, e.episode.number)).collect();
        let mut s = Scenario::of(show);
        let mut when = at(8, 0);
        let mut previous_total = 0;

        for step in steps {
            when += Duration::minutes(step.after_minutes);
            let (season, episode) = all[step.episode % all.len()];
            let cmd = WatchEpisode { mark_previous_watched: step.mark_previous, ..watch(when) };
            let outcome = s.when(season, episode, cmd);
            let d = match outcome.0 {
                Ok(d) => d,
                Err(WatchEpisodeError::OutOfOrder(m)) => {
                    // Refused only without markPreviousWatched, naming the first unwatched one.
                    prop_assert!(!step.mark_previous);
                    let watched: HashSet<_> = s.records.iter().filter_map(|r| match r.watched {
                        Watched::Episode { episode_id, .. } => Some(episode_id),
                        Watched::Movie(_) => None,
                    }).collect();
                    prop_assert_eq!(order.iter().find(|id| !watched.contains(id)), Some(&m.episode_id));
                    continue;
                }
                Err(e) => return Err(TestCaseError::fail(format!("unexpected refusal {e}"))),
            };

            // Every new record carries the requested watch date; only the last is the request.
            prop_assert!(d.new_records.iter().all(|r| r.watch_date == when));
            let n = d.new_records.len();
            prop_assert!(d.new_records[..n - 1].iter().all(|r| r.backfilled && !r.is_rewatch));
            prop_assert!(d.record().is_some_and(|r| !r.backfilled && position(r) == (season, episode)));
            // One TVEpisodeWatched per new record, before any completion.
            let names = event_names(&d.events);
            prop_assert!(names[..n].iter().all(|&e| e == "TVEpisodeWatched"));
            prop_assert!(names[n..].iter().all(|&e| e != "TVEpisodeWatched"));

            s.apply(&d);
            let p = s.progress.clone().unwrap_or_else(|| unreachable!("applied"));

            // Watched regular episodes are always a prefix of the watching order.
            let first_time: Vec<_> = s.records.iter().filter(|r| r.counts_for_progress()).filter_map(|r| match r.watched {
                Watched::Episode { episode_id, .. } => Some(episode_id),
                Watched::Movie(_) => None,
            }).collect();
            let distinct: HashSet<_> = first_time.iter().copied().collect();
            prop_assert_eq!(distinct.len(), first_time.len(), "an episode counted twice");
            prop_assert_eq!(&order[..distinct.len()].iter().copied().collect::<HashSet<_>>(), &distinct);
            // Progress counts them and never goes back.
            prop_assert_eq!(p.total_episodes_watched as usize, distinct.len());
            prop_assert!(p.total_episodes_watched >= previous_total);
            previous_total = p.total_episodes_watched;

            // Backfilled records and rewatches are never in a session; sessions match their
            // records and hold at least two.
            for r in &s.records {
                if r.backfilled || !r.counts_for_progress() {
                    prop_assert_eq!(r.binge_session_id, None);
                }
            }
            for session in &s.sessions {
                let members = s.records.iter().filter(|r| r.binge_session_id == Some(session.id)).count();
                prop_assert_eq!(session.episodes_watched as usize, members);
                prop_assert!(members >= 2);
            }
        }

        // Each season completes at most once, and the show only once and only when finished.
        let completed: Vec<u32> = s.events.iter().filter_map(|e| match e {
            DomainEvent::TvSeasonCompleted(c) => Some(c.season_number),
            _ => None,
        }).collect();
        let unique: HashSet<_> = completed.iter().collect();
        prop_assert_eq!(unique.len(), completed.len());
        prop_assert!(!completed.contains(&0), "specials never complete");
        let shows = s.events.iter().filter(|e| matches!(e, DomainEvent::TvShowCompleted(_))).count();
        prop_assert!(shows <= 1);
        if !status.is_finished() {
            prop_assert_eq!(shows, 0);
        }
        let everything = previous_total as usize == order.len();
        prop_assert_eq!(shows == 1, everything && status.is_finished());
        prop_assert_eq!(completed.len(), s.progress.as_ref().map_or(0, |p| p.completed_seasons.len()));
    }
}
