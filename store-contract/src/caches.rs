//! The caches of SPEC §14 on every store: a catalog change is seen at once by the process that
//! made it and by every other process at its next version check; a cached show never hides
//! a change from a write or a read; a cached progress is never older than the user's last
//! acknowledged write, on any replica.

use std::time::Duration;

use viewing_app::ViewingService;
use viewing_app::catalog_cache::CatalogCache;
use viewing_app::relay::Relay;
use viewing_domain::ports::{CatalogRepository, Store, Transaction, UserRepository};
use viewing_domain::rules::abandon::Abandon;
use viewing_domain::rules::episode::WatchEpisode;
use viewing_domain::rules::movie::WatchMovie;
use viewing_domain::{Episode, EpisodeId, ShowStatus};

use crate::Probe;
use crate::fixtures::*;

/// Two services on one store, as two replicas: `a` checks the version row only hourly (so
/// what it sees after its own change comes from its own invalidation), `b` at every read
/// (standing in for "within 1 s" without a timed test).
fn replicas<S: Store>(store: &S) -> (ViewingService<S>, ViewingService<S>) {
    let a = ViewingService::new(store.clone())
        .with_catalog_cache(CatalogCache::default().with_check_every(Duration::from_secs(3600)));
    let b = ViewingService::new(store.clone())
        .with_catalog_cache(CatalogCache::default().with_check_every(Duration::ZERO));
    (a, b)
}

pub async fn cache_catalog_change_is_seen_by_every_replica<S: Store + Probe>(store: S) {
    let (a, b) = replicas(&store);
    let original = show("Slow Horses", ShowStatus::Returning, &[2], 0);
    a.upsert_show(original.clone()).await.expect("show");
    let m = movie("Tinker Tailor", 127);
    a.upsert_movie(m.clone()).await.expect("movie");
    // Both caches hold the first versions.
    assert_eq!(a.show(original.id).await.expect("a reads"), original);
    assert_eq!(b.show(original.id).await.expect("b reads"), original);
    assert_eq!(b.movie(m.id).await.expect("b reads"), m);

    // A new season through `a`: `a` sees it at once, `b` at its next check.
    let mut seasons = original.seasons().to_vec();
    seasons.push(viewing_domain::Season {
        id: viewing_domain::SeasonId::from(new_id()),
        number: 2,
        episodes: vec![Episode {
            id: EpisodeId::from(new_id()),
            number: 1,
            title: title("Returns"),
            runtime: minutes(50),
            air_date: None,
            external_ids: Default::default(),
        }],
        external_ids: Default::default(),
    });
    let renewed = viewing_domain::Show::new(
        original.id,
        title("Slow Horses (renewed)"),
        original.status,
        original.genres.clone(),
        seasons,
    )
    .expect("valid show");
    a.upsert_show(renewed.clone()).await.expect("renewed");
    assert_eq!(a.show(original.id).await.expect("a reads"), renewed);
    assert_eq!(b.show(original.id).await.expect("b reads"), renewed);

    // Writes through either replica resolve the new episode (no stale tree refuses it).
    let new_episode = episode(&renewed, 2, 1).id;
    let user = user();
    let first = episode(&renewed, 1, 1).id;
    b.watch_episode(user, first, WatchEpisode::default())
        .await
        .expect("S1E1 through b");
    let refused = b
        .watch_episode(user, new_episode, WatchEpisode::default())
        .await;
    assert!(
        matches!(refused, Err(viewing_app::AppError::EpisodeOutOfOrder(_))),
        "the new season is known, and out of order: {refused:?}"
    );

    // A movie changed behind both caches (straight through the store, as another process
    // would): only its version bump tells the caches.
    let mut recut = m.clone();
    recut.runtime = minutes(140);
    let mut uow = store.begin().await.expect("begin");
    uow.upsert_movie(&recut).await.expect("recut");
    uow.commit().await.expect("commit");
    assert_eq!(b.movie(m.id).await.expect("b reads"), recut);
    a.watch_movie(user, m.id, WatchMovie::default())
        .await
        .expect("a still finds the movie");
}

pub async fn cache_version_rises_with_every_catalog_write<S: Store + Probe>(store: S) {
    let mut uow = store.begin().await.expect("begin");
    let v0 = uow.catalog_version().await.expect("version");
    uow.upsert_movie(&movie("Heat", 170)).await.expect("movie");
    let v1 = uow.catalog_version().await.expect("version");
    uow.upsert_show(&show("Firefly", ShowStatus::Canceled, &[2], 0))
        .await
        .expect("show");
    let v2 = uow.catalog_version().await.expect("version");
    assert!(v0 < v1 && v1 < v2, "{v0} < {v1} < {v2}");
    drop(uow);
    // Rolled back with the unit of work.
    let mut uow = store.begin().await.expect("begin");
    assert_eq!(uow.catalog_version().await.expect("version"), v0);
}

pub async fn cache_user_revision_rises_with_every_viewing_write<S: Store + Probe>(store: S) {
    let svc = ViewingService::new(store.clone());
    let s = show("Severance", ShowStatus::Returning, &[3], 0);
    svc.upsert_show(s.clone()).await.expect("show");
    let u = user();
    let revision = |store: S| async move {
        let mut uow = store.begin_read().await.expect("begin");
        uow.user_revision(u).await.expect("revision")
    };
    assert_eq!(revision(store.clone()).await, 0, "no write yet");
    svc.watch_episode(u, episode(&s, 1, 1).id, WatchEpisode::default())
        .await
        .expect("watch");
    let r1 = revision(store.clone()).await;
    svc.abandon(u, s.id.as_uuid(), Abandon::default())
        .await
        .expect("abandon");
    let r2 = revision(store.clone()).await;
    assert!(0 < r1 && r1 < r2, "0 < {r1} < {r2}");
    // Rolled back with its unit of work.
    let mut uow = store.begin().await.expect("begin");
    uow.ensure_user(u, minute(1)).await.expect("user");
    drop(uow);
    assert_eq!(revision(store.clone()).await, r2);
    // Another user's writes leave it alone.
    svc.watch_episode(user(), episode(&s, 1, 1).id, WatchEpisode::default())
        .await
        .expect("other user");
    assert_eq!(revision(store).await, r2);
}

/// A replica that cached a user's progress and up-next list serves the user's newer write at
/// once, whichever replica made it (SPEC §14: never older than the last acknowledged write).
pub async fn cache_progress_never_older_than_the_last_write<S: Store + Probe>(store: S) {
    let (a, b) = replicas(&store);
    let s = show("Andor", ShowStatus::Ended, &[4], 0);
    a.upsert_show(s.clone()).await.expect("show");
    let u = user();
    a.watch_episode(u, episode(&s, 1, 1).id, WatchEpisode::default())
        .await
        .expect("S1E1");
    let history_total = |svc: ViewingService<S>| async move {
        svc.history(u, &Default::default(), Default::default())
            .await
            .expect("history")
            .total_items
    };
    // `a` reads twice (the second from its cache), then `b` writes.
    for _ in 0..2 {
        assert_eq!(history_total(a.clone()).await, 1);
        let p = a.progress(u, s.id).await.expect("progress");
        assert_eq!(p.episodes_watched, 1);
        let up = a.up_next(u).await.expect("up next");
        assert_eq!(up.len(), 1);
        assert_eq!(
            up[0].next_episode.as_ref().map(|n| n.episode_number),
            Some(2)
        );
    }
    b.watch_episode(u, episode(&s, 1, 2).id, WatchEpisode::default())
        .await
        .expect("S1E2 through b");
    let p = a.progress(u, s.id).await.expect("progress");
    assert_eq!(p.episodes_watched, 2, "a sees b's write at once");
    assert_eq!(history_total(a.clone()).await, 2, "and in its history");
    let up = a.up_next(u).await.expect("up next");
    assert_eq!(
        up[0].next_episode.as_ref().map(|n| n.episode_number),
        Some(3)
    );
    // An abandon (which writes no progress row) through `b` takes the show off a's up-next.
    b.abandon(u, s.id.as_uuid(), Abandon::default())
        .await
        .expect("abandon");
    assert!(a.up_next(u).await.expect("up next").is_empty());
    assert_eq!(
        a.progress(u, s.id).await.expect("progress").status,
        viewing_domain::rules::progress::ProgressStatus::Dropped
    );
}

/// The relay's handlers read episode records through the progress cache, per user revision:
/// a backlog reads them once, and a newer watch is always seen (the reminder moves on).
pub async fn cache_handlers_see_every_new_watch<S: Store + Probe>(store: S) {
    let svc = ViewingService::new(store.clone());
    let relay = Relay::new(&svc);
    let s = show("Pluribus", ShowStatus::Ended, &[5], 0);
    svc.upsert_show(s.clone()).await.expect("show");
    let (u, v) = (user(), user());
    let mut uow = store.begin_read().await.expect("begin");
    let both = uow
        .user_revisions(&[u, v, user()])
        .await
        .expect("revisions");
    assert!(both.values().all(|r| *r == 0), "no write yet: {both:?}");
    drop(uow);
    for n in 1..=3 {
        // Two users per step, so the relay applies a batch (not one event alone).
        for who in [u, v] {
            svc.watch_episode(who, episode(&s, 1, n).id, WatchEpisode::default())
                .await
                .expect("watch");
        }
        relay.drain().await.expect("drain");
        for who in [u, v] {
            let reminders = svc.reminders(who).await.expect("reminders");
            assert_eq!(
                reminders
                    .iter()
                    .map(|r| r.episode_number)
                    .collect::<Vec<_>>(),
                vec![n + 1],
                "after episode {n}, the reminder names the next one"
            );
        }
    }
    let mut uow = store.begin_read().await.expect("begin");
    let revisions = uow.user_revisions(&[u, v]).await.expect("revisions");
    assert_eq!(
        revisions.get(&u),
        Some(&uow.user_revision(u).await.expect("one"))
    );
    assert_eq!(revisions.len(), 2);
}
