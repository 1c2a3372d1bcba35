//! The caches of SPEC §14 on every store: a catalog change is seen at once by the process that
//! made it and by every other process at its next version check; a cached show never hides
//! a change from a write or a read.

use std::time::Duration;

use viewing_app::ViewingService;
use viewing_app::catalog_cache::CatalogCache;
use viewing_domain::ports::{CatalogRepository, Store, Transaction};
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
        }],
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
