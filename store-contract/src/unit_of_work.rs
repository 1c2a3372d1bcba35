//! Units of work: all or nothing.

use viewing_domain::ports::{
    AbandonRepository, BingeSessionRepository, CatalogRepository, HistoryFilter, HistoryPaging,
    ShowProgressRepository, Store, Transaction, UnitOfWork, ViewingRecordRepository,
};
use viewing_domain::{ItemType, ShowProgress, ShowStatus, UserId};

use crate::Probe;
use crate::fixtures::*;
use crate::progress::sample_events;

/// Everything one unit of work can write, for user `u`.
struct Writes {
    movie: viewing_domain::Movie,
    show: viewing_domain::Show,
    records: Vec<viewing_domain::ViewingRecord>,
    progress: ShowProgress,
    session: viewing_domain::BingeSession,
    abandon: viewing_domain::AbandonRecord,
    events: Vec<viewing_domain::EventEnvelope>,
}

fn writes(u: UserId) -> Writes {
    let movie = movie("Alien", 117);
    let show = show("Twin Peaks", ShowStatus::Ended, &[2], 0);
    let records = vec![
        full_movie_record(u, movie.id),
        episode_record(u, &show, 1, 1, minute(10)),
    ];
    let mut progress = ShowProgress::new(u, show.id, minute(10));
    progress.total_episodes_watched = 1;
    Writes {
        session: session(u, show.id, minute(0), 2),
        abandon: abandon(u, movie.id.as_uuid(), ItemType::Movie, minute(20)),
        events: sample_events(u),
        movie,
        show,
        records,
        progress,
    }
}

async fn write_all<U: UnitOfWork>(uow: &mut U, u: UserId, w: &Writes) {
    uow.upsert_movie(&w.movie).await.expect("movie");
    uow.upsert_show(&w.show).await.expect("show");
    uow.ensure_user(u, minute(0)).await.expect("user");
    for r in &w.records {
        uow.insert_record(r).await.expect("record");
    }
    uow.save_progress(&w.progress).await.expect("progress");
    uow.save_binge_session(&w.session).await.expect("session");
    uow.insert_abandon(&w.abandon).await.expect("abandon");
    uow.append_events(&w.events).await.expect("events");
}

pub async fn uow_drop_rolls_back_everything<S: Store + Probe>(store: S) {
    let u = user();
    let w = writes(u);
    {
        let mut uow = store.begin().await.expect("begin");
        write_all(&mut uow, u, &w).await;
        // Visible inside the unit of work itself.
        assert_eq!(
            uow.record(u, w.records[0].id).await.expect("read"),
            Some(w.records[0].clone())
        );
        // Dropped without commit.
    }
    let mut uow = store.begin().await.expect("begin");
    assert_eq!(uow.movie(w.movie.id).await.expect("movie"), None);
    assert_eq!(uow.show(w.show.id).await.expect("show"), None);
    for r in &w.records {
        assert_eq!(uow.record(u, r.id).await.expect("record"), None);
    }
    let history = uow
        .history(
            u,
            &HistoryFilter::default(),
            HistoryPaging::First { limit: 10 },
        )
        .await
        .expect("history");
    assert_eq!(history.total_items, 0);
    assert_eq!(uow.progress(u, w.show.id).await.expect("progress"), None);
    assert_eq!(
        uow.binge_session(w.session.id).await.expect("session"),
        None
    );
    assert_eq!(
        uow.abandon_record(u, w.abandon.id).await.expect("abandon"),
        None
    );
    drop(uow);
    assert_eq!(store.outbox_events().await, vec![]);

    // The store is still usable afterwards, and the same writes can commit.
    let mut uow = store.begin().await.expect("begin");
    write_all(&mut uow, u, &w).await;
    uow.commit().await.expect("commit");
}

pub async fn uow_commit_makes_writes_visible<S: Store + Probe>(store: S) {
    let u = user();
    let w = writes(u);
    let mut uow = store.begin().await.expect("begin");
    write_all(&mut uow, u, &w).await;
    uow.commit().await.expect("commit");

    // A query's read-only unit of work sees every committed write.
    let mut uow = store.begin_read().await.expect("begin_read");
    assert_eq!(
        uow.movie(w.movie.id).await.expect("movie"),
        Some(w.movie.clone())
    );
    assert_eq!(
        uow.show(w.show.id).await.expect("show"),
        Some(w.show.clone())
    );
    for r in &w.records {
        assert_eq!(uow.record(u, r.id).await.expect("record"), Some(r.clone()));
    }
    assert_eq!(
        uow.progress(u, w.show.id).await.expect("progress"),
        Some(w.progress.clone())
    );
    assert_eq!(
        uow.binge_session(w.session.id).await.expect("session"),
        Some(w.session.clone())
    );
    assert_eq!(
        uow.abandon_record(u, w.abandon.id).await.expect("abandon"),
        Some(w.abandon.clone())
    );
    drop(uow);
    assert_eq!(store.outbox_events().await, w.events);
    store.ping().await.expect("ping");
}
