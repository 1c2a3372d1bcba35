//! Players' playbacks (SPEC §13): one per user and item, replaced in place (its id stays),
//! listed most recently reported first, each user's own.

use viewing_domain::ports::{PlaybackRepository, Store, Transaction};
use viewing_domain::rules::playback::{Playback, PlaybackState};
use viewing_domain::values::Percent;
use viewing_domain::{ItemKind, PlaybackId, ShowId};

use crate::Probe;
use crate::fixtures::*;

pub async fn playbacks_round_trip<S: Store + Probe>(store: S) {
    let (alice, bob) = (user(), user());
    let movie = new_id();
    let episode = new_id();
    let show = ShowId::from(new_id());
    let watching = Playback {
        id: PlaybackId::from(new_id()),
        user_id: alice,
        content_id: movie,
        kind: ItemKind::Movie,
        show_id: None,
        state: PlaybackState::Watching,
        progress: Percent::from_hundredths(1_234).expect("12.34 %"),
        started_at: at(1_700_000_000, 123_456),
        updated_at: at(1_700_000_000, 123_456),
        expires_at: at(1_700_007_000, 1),
    };
    let paused = Playback {
        id: PlaybackId::from(new_id()),
        content_id: episode,
        kind: ItemKind::Episode,
        show_id: Some(show),
        state: PlaybackState::Paused,
        progress: Percent::from_hundredths(4_000).expect("40 %"),
        updated_at: at(1_700_000_500, 0),
        ..watching.clone()
    };
    let mut uow = store.begin().await.expect("begin");
    uow.save_playback(&watching).await.expect("save");
    uow.save_playback(&paused).await.expect("save");
    uow.commit().await.expect("commit");

    let mut uow = store.begin().await.expect("begin");
    assert_eq!(
        uow.playback_of(alice, movie).await.expect("read"),
        Some(watching.clone())
    );
    assert_eq!(uow.playback_of(bob, movie).await.expect("read"), None);
    assert_eq!(
        uow.playbacks(alice).await.expect("list"),
        vec![paused.clone(), watching.clone()],
        "most recently reported first"
    );
    assert!(uow.playbacks(bob).await.expect("list").is_empty());

    // Saved again under another id: the item's playback is replaced, its id stays.
    let resumed = Playback {
        id: PlaybackId::from(new_id()),
        state: PlaybackState::Paused,
        progress: Percent::FULL,
        updated_at: at(1_700_001_000, 0),
        ..watching.clone()
    };
    uow.save_playback(&resumed).await.expect("replace");
    uow.commit().await.expect("commit");
    let mut uow = store.begin().await.expect("begin");
    let kept = uow
        .playback_of(alice, movie)
        .await
        .expect("read")
        .expect("kept");
    assert_eq!(
        kept,
        Playback {
            id: watching.id,
            ..resumed
        }
    );
    assert_eq!(uow.playbacks(alice).await.expect("list").len(), 2);

    // Deleted by its owner only.
    assert!(!uow.delete_playback(bob, paused.id).await.expect("delete"));
    assert!(uow.delete_playback(alice, paused.id).await.expect("delete"));
    assert!(!uow.delete_playback(alice, paused.id).await.expect("delete"));
    uow.commit().await.expect("commit");
    let mut uow = store.begin().await.expect("begin");
    assert_eq!(uow.playback_of(alice, episode).await.expect("read"), None);
    uow.commit().await.expect("commit");
}
