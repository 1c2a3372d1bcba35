//! Playback (SPEC §13) through the use cases on the memory store: now watching, paused items
//! with their resume points, the per-kind thresholds, a repeated stop that records nothing, the
//! order check skipped, and items named by their ids at other services.

use crate::support::*;
use viewing_app::AppError;
use viewing_app::playback::{PlaybackReport, PlaybackTarget, Stopped};
use viewing_domain::rules::playback::PlaybackState;
use viewing_domain::values::{Minutes, Percent};
use viewing_domain::{
    ExternalIds, Movie, MovieId, Origin, PlaybackId, Provider, ShowStatus, UserId,
};

fn pct(v: f64) -> Percent {
    Percent::new("progress", v).expect("a percent")
}

fn report(target: PlaybackTarget, progress: f64, minutes_after_t0: i64) -> PlaybackReport {
    PlaybackReport {
        target,
        progress: pct(progress),
        at: Some(t0() + minutes(minutes_after_t0)),
    }
}

fn episode(e: u32) -> PlaybackTarget {
    PlaybackTarget::Content(episode_id(1, 1, e).as_uuid())
}

async fn world() -> (World, MovieId) {
    let w = World::new();
    let mut dark = show(1, ShowStatus::Ended, &[4]);
    dark.external_ids = ExternalIds::new()
        .with(Provider::Tvdb, "334824")
        .expect("id");
    w.given_show(dark).await;
    let movie = Movie {
        id: MovieId::from(uuid(1, 0xA)),
        title: title("Heat"),
        runtime: Minutes::new("runtime", 170).expect("minutes"),
        genres: Vec::new(),
        release_date: None,
        external_ids: ExternalIds::new()
            .with(Provider::Imdb, "tt0113277")
            .expect("id"),
    };
    w.svc.upsert_movie(movie.clone()).await.expect("movie");
    w.clock.set(t0() + minutes(24 * 60));
    (w, movie.id)
}

#[tokio::test]
async fn a_start_is_now_watching_and_a_new_start_pauses_it() {
    let (w, heat) = world().await;
    let started = w
        .svc
        .playback_start(
            w.user,
            report(PlaybackTarget::Content(heat.as_uuid()), 10.0, 24 * 60),
        )
        .await
        .expect("started");
    assert_eq!(started.state, PlaybackState::Watching);
    // Until the remaining 90 % of 170 minutes have passed.
    assert_eq!(started.expires_at, t0() + minutes(24 * 60 + 153));
    let now = w.svc.now_watching(w.user).await.expect("now");
    assert_eq!(now.map(|p| p.content_id), Some(heat.as_uuid()));

    let other = w
        .svc
        .playback_start(w.user, report(episode(1), 0.0, 24 * 60 + 1))
        .await
        .expect("started");
    assert_eq!(
        w.svc.now_watching(w.user).await.expect("now").map(|p| p.id),
        Some(other.id)
    );
    let paused = w.svc.paused_playbacks(w.user).await.expect("paused");
    assert_eq!(
        paused
            .iter()
            .map(|p| (p.content_id, p.progress))
            .collect::<Vec<_>>(),
        [(heat.as_uuid(), pct(10.0))]
    );
    // Past its runtime, nothing is watched now.
    w.clock.set(t0() + minutes(24 * 60 + 200));
    assert_eq!(w.svc.now_watching(w.user).await.expect("now"), None);
}

#[tokio::test]
async fn a_stop_records_from_the_threshold_of_its_kind_once() {
    let (w, heat) = world().await;
    let t = 24 * 60;
    w.clock.set(t0() + minutes(t + 120));
    // An episode at 79.99 % is a pause, at 80 % a play; its paused entry goes.
    let below = w
        .svc
        .playback_stop(w.user, report(episode(1), 79.99, t))
        .await
        .expect("paused");
    assert!(
        matches!(&below, Stopped::Paused(p) if p.progress == pct(79.99)),
        "{below:?}"
    );
    assert_eq!(
        w.svc.paused_playbacks(w.user).await.expect("paused").len(),
        1
    );
    let Stopped::Scrobbled(record) = w
        .svc
        .playback_stop(w.user, report(episode(1), 80.0, t + 1))
        .await
        .expect("recorded")
    else {
        panic!("a play");
    };
    assert_eq!(record.origin, Origin::Playback);
    assert!(
        w.svc
            .paused_playbacks(w.user)
            .await
            .expect("paused")
            .is_empty()
    );
    // A chatty player's second stop within the runtime: the same play, nothing new.
    let again = w
        .svc
        .playback_stop(w.user, report(episode(1), 100.0, t + 20))
        .await
        .expect("answered");
    assert_eq!(again, Stopped::Repeated(record.clone()));
    assert_eq!(w.records(1).await.len(), 1);
    // After the runtime it is a rewatch.
    let later = w
        .svc
        .playback_stop(w.user, report(episode(1), 100.0, t + 60))
        .await
        .expect("recorded");
    assert!(
        matches!(&later, Stopped::Scrobbled(r) if r.is_rewatch),
        "{later:?}"
    );

    // A movie needs 90 %.
    let movie = PlaybackTarget::Content(heat.as_uuid());
    assert!(matches!(
        w.svc
            .playback_stop(w.user, report(movie.clone(), 89.0, t))
            .await,
        Ok(Stopped::Paused(_))
    ));
    assert!(matches!(
        w.svc
            .playback_stop(w.user, report(movie, 90.0, t + 1))
            .await,
        Ok(Stopped::Scrobbled(_))
    ));
    // Under 1 %: refused.
    let noise = w
        .svc
        .playback_stop(w.user, report(episode(2), 0.99, t))
        .await;
    assert!(
        matches!(&noise, Err(AppError::Invalid(e)) if e.field == "progress"),
        "{noise:?}"
    );
}

#[tokio::test]
async fn a_player_skips_the_order_check_and_names_items_by_other_ids() {
    let (w, heat) = world().await;
    let t = 24 * 60;
    // Episode 3 first: the player saw it happen.
    let by_numbers = PlaybackTarget::Episode {
        show: ExternalIds::new()
            .with(Provider::Tvdb, "334824")
            .expect("id"),
        season: 1,
        episode: 3,
    };
    let Stopped::Scrobbled(record) = w
        .svc
        .playback_stop(w.user, report(by_numbers, 95.0, t))
        .await
        .expect("recorded")
    else {
        panic!("a play");
    };
    assert_eq!(record.watched.content_id(), episode_id(1, 1, 3).as_uuid());
    let by_imdb = PlaybackTarget::ExternalIds(
        ExternalIds::new()
            .with(Provider::Imdb, "tt0113277")
            .expect("id"),
    );
    let started = w
        .svc
        .playback_start(w.user, report(by_imdb, 5.0, t))
        .await
        .expect("started");
    assert_eq!(started.content_id, heat.as_uuid());
    let unknown = PlaybackTarget::ExternalIds(
        ExternalIds::new()
            .with(Provider::Imdb, "tt0000001")
            .expect("id"),
    );
    assert!(matches!(
        w.svc.playback_start(w.user, report(unknown, 5.0, t)).await,
        Err(AppError::ContentNotFound)
    ));
    // Another user cannot drop it; its owner can.
    let bob = UserId::from(uuid(2, 0x1));
    assert!(matches!(
        w.svc.drop_playback(bob, started.id).await,
        Err(AppError::NotFound)
    ));
    w.svc
        .drop_playback(w.user, started.id)
        .await
        .expect("dropped");
    assert!(matches!(
        w.svc
            .drop_playback(w.user, PlaybackId::from(uuid(9, 0x9)))
            .await,
        Err(AppError::NotFound)
    ));
}
