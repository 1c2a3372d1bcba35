//! A command is one unit of work: its events go into the same transaction as its records, and
//! a failure anywhere means no commit, so nothing is published. Mocks show the calls the memory
//! store cannot: what happens after a write fails. `watch_movie` is bounded by the ports it
//! touches (catalog, records, users, outbox, the item lock and the commit), so the mock unit of
//! work has those and nothing else, and the scripted store only opens units of work.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mockall::{Sequence, mock};
use viewing_app::{AppError, ViewingService};
use viewing_domain::ports::*;
use viewing_domain::rules::movie::WatchMovie;
use viewing_domain::values::{Minutes, Title};
use viewing_domain::{
    BingeSessionId, EpisodeId, EventEnvelope, Movie, MovieId, RecordId, Show, ShowId, UserId,
    ViewingRecord,
};

mock! {
    pub Uow {}
    #[async_trait]
    impl CatalogRepository for Uow {
        async fn movie(&mut self, id: MovieId) -> StoreResult<Option<Movie>>;
        async fn show(&mut self, id: ShowId) -> StoreResult<Option<Show>>;
        async fn show_of_episode(&mut self, id: EpisodeId) -> StoreResult<Option<Show>>;
        async fn titles(&mut self, ids: &[uuid::Uuid]) -> StoreResult<HashMap<uuid::Uuid, String>>;
        async fn upsert_movie(&mut self, movie: &Movie) -> StoreResult<()>;
        async fn upsert_show(&mut self, show: &Show) -> StoreResult<()>;
        async fn find_by_external_id(&mut self, provider: viewing_domain::Provider, value: &str) -> StoreResult<Vec<viewing_domain::ExternalHit>>;
        async fn search_titles(&mut self, query: &viewing_domain::search::TitleQuery) -> StoreResult<Vec<viewing_domain::search::TitleHit>>;
        async fn catalog_version(&mut self) -> StoreResult<i64>;
    }
    #[async_trait]
    impl UserRepository for Uow {
        async fn ensure_user(&mut self, user: UserId, now: DateTime<Utc>) -> StoreResult<()>;
        async fn user_revision(&mut self, user: UserId) -> StoreResult<i64>;
    }
    #[async_trait]
    impl ViewingRecordRepository for Uow {
        async fn insert_record(&mut self, record: &ViewingRecord) -> StoreResult<()>;
        async fn set_binge_session(&mut self, record: RecordId, session: Option<BingeSessionId>) -> StoreResult<()>;
        async fn record(&mut self, user: UserId, id: RecordId) -> StoreResult<Option<ViewingRecord>>;
        async fn delete_record(&mut self, user: UserId, id: RecordId) -> StoreResult<bool>;
        async fn records_of_content(&mut self, user: UserId, content: uuid::Uuid) -> StoreResult<Vec<ViewingRecord>>;
        async fn count_records_of(&mut self, user: UserId, content: uuid::Uuid) -> StoreResult<u64>;
        async fn episode_records(&mut self, user: UserId, show: ShowId) -> StoreResult<Vec<ViewingRecord>>;
        async fn episode_records_of_shows(&mut self, user: UserId, shows: &[ShowId]) -> StoreResult<HashMap<ShowId, Vec<ViewingRecord>>>;
        async fn history(&mut self, user: UserId, filter: &HistoryFilter, paging: HistoryPaging) -> StoreResult<HistorySlice>;
    }
    #[async_trait]
    impl Outbox for Uow {
        async fn append_events(&mut self, events: &[EventEnvelope]) -> StoreResult<()>;
    }
    #[async_trait]
    impl UserItemLock for Uow {
        async fn lock_user_item(&mut self, user: UserId, item: uuid::Uuid) -> StoreResult<()>;
    }
    #[async_trait]
    impl Transaction for Uow {
        async fn commit(self) -> StoreResult<()>;
    }
}

/// A store handing out prepared mock units of work, one per `begin`.
#[derive(Clone, Default)]
struct ScriptedStore(Arc<Mutex<Vec<MockUow>>>);

#[async_trait]
impl Begin for ScriptedStore {
    type Uow = MockUow;
    async fn begin(&self) -> StoreResult<MockUow> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop()
            .ok_or_else(|| StoreError::Unexpected("no unit of work scripted".into()))
    }
}

fn movie() -> Movie {
    Movie {
        id: MovieId::from(uuid::Uuid::from_u64_pair(3, 1)),
        title: Title::parse("Heat").ok().flatten().expect("title"),
        runtime: Minutes::from_u32_saturating(170),
        genres: vec![],
        release_date: None,
        external_ids: Default::default(),
    }
}

fn reading_uow() -> MockUow {
    let mut uow = MockUow::new();
    uow.expect_movie().returning(|_| Ok(Some(movie())));
    uow.expect_catalog_version().returning(|| Ok(0));
    uow.expect_lock_user_item().returning(|_, _| Ok(()));
    uow.expect_count_records_of().returning(|_, _| Ok(0));
    uow.expect_ensure_user().returning(|_, _| Ok(()));
    uow
}

fn service(uow: MockUow) -> ViewingService<ScriptedStore> {
    ViewingService::new(ScriptedStore(Arc::new(Mutex::new(vec![uow]))))
}

fn user() -> UserId {
    UserId::from(uuid::Uuid::from_u64_pair(1, 1))
}

#[tokio::test]
async fn a_failed_record_write_publishes_nothing_and_commits_nothing() {
    let mut uow = reading_uow();
    uow.expect_insert_record()
        .times(1)
        .returning(|_| Err(StoreError::Unavailable("disk gone".into())));
    uow.expect_append_events().times(0);
    uow.expect_commit().times(0);
    let r = service(uow)
        .watch_movie(user(), movie().id, WatchMovie::default())
        .await;
    assert!(matches!(r, Err(AppError::Unavailable(_))), "{r:?}");
}

#[tokio::test]
async fn events_are_appended_inside_the_unit_of_work_before_its_commit() {
    let mut seq = Sequence::new();
    let mut uow = reading_uow();
    uow.expect_insert_record()
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_| Ok(()));
    uow.expect_append_events()
        .times(1)
        .in_sequence(&mut seq)
        .withf(|events| events.len() == 1 && events[0].event_type() == "MovieWatched")
        .returning(|_| Ok(()));
    uow.expect_commit()
        .times(1)
        .in_sequence(&mut seq)
        .returning(|| Err(StoreError::Unavailable("connection reset".into())));
    let r = service(uow)
        .watch_movie(user(), movie().id, WatchMovie::default())
        .await;
    assert!(
        matches!(r, Err(AppError::Unavailable(_))),
        "a failed commit is reported, not acknowledged: {r:?}"
    );
}

#[tokio::test]
async fn a_lost_race_is_retried_in_a_fresh_unit_of_work() {
    let mut loser = reading_uow();
    loser.expect_insert_record().returning(|_| Ok(()));
    loser.expect_append_events().returning(|_| Ok(()));
    loser
        .expect_commit()
        .times(1)
        .returning(|| Err(StoreError::Conflict("serialization failure".into())));
    let mut winner = reading_uow();
    winner.expect_insert_record().returning(|_| Ok(()));
    winner.expect_append_events().returning(|_| Ok(()));
    winner.expect_commit().times(1).returning(|| Ok(()));
    // `begin` pops from the back: the loser runs first.
    let svc = ViewingService::new(ScriptedStore(Arc::new(Mutex::new(vec![winner, loser]))));
    let r = svc
        .watch_movie(user(), movie().id, WatchMovie::default())
        .await;
    assert!(r.is_ok(), "{r:?}");
}
