//! Many requests for one user's show (or movie) at once: two tabs, retries, a player and a
//! phone. No lost update, no season or show completed twice, no split binge session.

use std::collections::{HashMap, HashSet};

use viewing_domain::ports::{
    BingeSessionRepository, ShowProgressRepository, Store, Transaction, ViewingRecordRepository,
};
use viewing_domain::rules::episode::WatchEpisode;
use viewing_domain::rules::movie::WatchMovie;
use viewing_domain::{DomainEvent, EpisodeId, ShowStatus, Watched};

use crate::Probe;
use crate::fixtures::*;
use crate::use_cases::{add_show, at_minute, of_type, service};

/// 16 episodes (2 seasons of 8) of an ended show, each marked by its own task, plus the first
/// and the last episode marked a second time: 18 tasks at once, every one with
/// `markPreviousWatched`, so whichever runs first backfills what the others then rewatch.
pub async fn concurrent_episode_watches<S: Store + Probe>(store: S) {
    let svc = service(store.clone());
    let s = show("Band of Brothers", ShowStatus::Ended, &[8, 8], 0);
    add_show(&store, &s).await;
    let u = user();
    let mut targets: Vec<EpisodeId> = s.episodes().map(|e| e.episode.id).collect();
    targets.push(episode(&s, 1, 1).id);
    targets.push(episode(&s, 2, 8).id);
    assert!(targets.len() >= 16);

    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(targets.len()));
    let tasks: Vec<_> = targets
        .iter()
        .enumerate()
        .map(|(i, &episode_id)| {
            let svc = svc.clone();
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                svc.watch_episode(
                    u,
                    episode_id,
                    WatchEpisode {
                        mark_previous_watched: true,
                        ..at_minute(i as i64)
                    },
                )
                .await
            })
        })
        .collect();
    let mut season_completions = 0;
    let mut show_completions = 0;
    for t in tasks {
        let done = t
            .await
            .expect("task ran")
            .unwrap_or_else(|e| panic!("a concurrent watch failed: {e:?}"));
        season_completions += usize::from(done.season_completed);
        show_completions += usize::from(done.show_completed);
    }

    let mut uow = store.begin().await.expect("begin");
    let records = uow.episode_records(u, s.id).await.expect("records");
    let progress = uow.progress(u, s.id).await.expect("progress").expect("row");
    let sessions = uow.binge_sessions_of_show(u, s.id).await.expect("sessions");
    drop(uow);
    let events = store.outbox_events().await;

    // Every episode recorded exactly once for the first time; the rest are rewatches.
    let mut first_time: HashMap<EpisodeId, usize> = HashMap::new();
    for r in records.iter().filter(|r| !r.is_rewatch) {
        if let Watched::Episode { episode_id, .. } = r.watched {
            *first_time.entry(episode_id).or_default() += 1;
        }
    }
    assert_eq!(
        first_time.len(),
        16,
        "every episode has a first-time record"
    );
    assert!(
        first_time.values().all(|&n| n == 1),
        "an episode was recorded for the first time twice: {first_time:?}"
    );
    assert_eq!(of_type(&events, "TVEpisodeWatched"), records.len());

    // Progress is exact.
    assert_eq!(progress.total_episodes_watched, 16);
    assert!(progress.is_completed);
    let completed: Vec<u32> = progress
        .completed_seasons
        .iter()
        .map(|c| c.season_number)
        .collect();
    assert_eq!(completed, vec![1, 2]);

    // Each completion exactly once, in the responses and in the outbox.
    // One response can complete both seasons (it backfilled them), so responses count 1 or 2.
    assert!(
        (1..=2).contains(&season_completions),
        "seasonCompleted answered {season_completions} times"
    );
    assert_eq!(show_completions, 1);
    let mut seasons: Vec<u32> = events
        .iter()
        .filter_map(|e| match &e.event {
            DomainEvent::TvSeasonCompleted(c) => Some(c.season_number),
            _ => None,
        })
        .collect();
    seasons.sort_unstable();
    assert_eq!(
        seasons,
        vec![1, 2],
        "TVSeasonCompleted exactly once per season"
    );
    assert_eq!(of_type(&events, "TVShowCompleted"), 1);

    // Binge sessions are consistent: every referenced session exists and counts its records.
    let ids: HashSet<_> = sessions.iter().map(|x| x.id).collect();
    for session in &sessions {
        let members = records
            .iter()
            .filter(|r| r.binge_session_id == Some(session.id))
            .count();
        assert_eq!(members as u32, session.episodes_watched, "{session:?}");
    }
    assert!(
        records
            .iter()
            .filter_map(|r| r.binge_session_id)
            .all(|id| ids.contains(&id)),
        "a record points at a session that does not exist"
    );
}

/// 16 viewings of one movie at once with `isRewatch` omitted: exactly one is the first.
pub async fn concurrent_movie_watches<S: Store + Probe>(store: S) {
    let svc = service(store.clone());
    let m = movie("Memento", 113);
    let mut uow = store.begin().await.expect("begin");
    viewing_domain::ports::CatalogRepository::upsert_movie(&mut uow, &m)
        .await
        .expect("movie");
    uow.commit().await.expect("commit");
    let u = user();
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(16));
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let svc = svc.clone();
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                svc.watch_movie(
                    u,
                    m.id,
                    WatchMovie {
                        watch_date: Some(minute(i)),
                        ..Default::default()
                    },
                )
                .await
            })
        })
        .collect();
    let mut firsts = 0;
    for t in tasks {
        let r = t
            .await
            .expect("task ran")
            .unwrap_or_else(|e| panic!("a concurrent watch failed: {e:?}"));
        firsts += usize::from(!r.is_rewatch);
    }
    assert_eq!(firsts, 1, "exactly one viewing is the first");
    let mut uow = store.begin().await.expect("begin");
    assert_eq!(
        uow.count_records_of(u, m.id.as_uuid())
            .await
            .expect("count"),
        16
    );
    drop(uow);
    assert_eq!(of_type(&store.outbox_events().await, "MovieWatched"), 16);
}
