//! A command is one unit of work: its events go into the same transaction as its records, and
//! a failure anywhere means no commit, so nothing is published. Mocks show the calls the memory
//! store cannot: what happens after a write fails. (The mock unit of work has every port of
//! `UnitOfWork`, the handlers' state included; the commands here touch none of the latter.)

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mockall::{Sequence, mock};
use viewing_app::{AppError, ViewingService};
use viewing_domain::engagement::{Achievement, GenreScore, Reminder, WatchlistItem};
use viewing_domain::event_ports::{
    ClaimToken, DeadLetter, OutboxBacklog, OutboxRelay, PendingEvent, ProcessedEvents, RelayChannel,
};
use viewing_domain::handler_ports::{
    AchievementRepository, PreferenceRepository, ReminderRepository, StatisticsRepository,
    WatchlistRepository,
};
use viewing_domain::idempotency::{
    Decision, IdempotencyKey, IdempotencyPolicy, RequestFingerprint,
};
use viewing_domain::ports::*;
use viewing_domain::rules::movie::WatchMovie;
use viewing_domain::stats::{BingeStat, BucketKey, BucketSpan, StatsDelta};
use viewing_domain::values::{Minutes, Title};
use viewing_domain::{
    AbandonId, AbandonRecord, BingeSession, BingeSessionId, EpisodeId, EventEnvelope, EventId,
    Movie, MovieId, RecordId, Show, ShowId, ShowProgress, UserId, ViewingRecord,
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
    }
    #[async_trait]
    impl UserRepository for Uow {
        async fn ensure_user(&mut self, user: UserId, now: DateTime<Utc>) -> StoreResult<()>;
    }
    #[async_trait]
    impl ViewingRecordRepository for Uow {
        async fn insert_record(&mut self, record: &ViewingRecord) -> StoreResult<()>;
        async fn set_binge_session(&mut self, record: RecordId, session: Option<BingeSessionId>) -> StoreResult<()>;
        async fn record(&mut self, user: UserId, id: RecordId) -> StoreResult<Option<ViewingRecord>>;
        async fn count_records_of(&mut self, user: UserId, content: uuid::Uuid) -> StoreResult<u64>;
        async fn episode_records(&mut self, user: UserId, show: ShowId) -> StoreResult<Vec<ViewingRecord>>;
        async fn history(&mut self, user: UserId, filter: &HistoryFilter, paging: HistoryPaging) -> StoreResult<HistorySlice>;
    }
    #[async_trait]
    impl ShowProgressRepository for Uow {
        async fn progress(&mut self, user: UserId, show: ShowId) -> StoreResult<Option<ShowProgress>>;
        async fn save_progress(&mut self, progress: &ShowProgress) -> StoreResult<()>;
        async fn progress_of_user(&mut self, user: UserId) -> StoreResult<Vec<ShowProgress>>;
        async fn idle_progress(&mut self, idle_since: DateTime<Utc>, limit: u32) -> StoreResult<Vec<ShowProgress>>;
    }
    #[async_trait]
    impl BingeSessionRepository for Uow {
        async fn binge_session(&mut self, id: BingeSessionId) -> StoreResult<Option<BingeSession>>;
        async fn binge_sessions_of_show(&mut self, user: UserId, show: ShowId) -> StoreResult<Vec<BingeSession>>;
        async fn save_binge_session(&mut self, session: &BingeSession) -> StoreResult<()>;
        async fn delete_binge_session(&mut self, id: BingeSessionId) -> StoreResult<()>;
    }
    #[async_trait]
    impl AbandonRepository for Uow {
        async fn insert_abandon(&mut self, record: &AbandonRecord) -> StoreResult<()>;
        async fn abandon_record(&mut self, user: UserId, id: AbandonId) -> StoreResult<Option<AbandonRecord>>;
        async fn latest_abandon(&mut self, user: UserId, item: uuid::Uuid) -> StoreResult<Option<AbandonRecord>>;
        async fn abandons_between(&mut self, user: UserId, from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> StoreResult<Vec<AbandonRecord>>;
    }
    #[async_trait]
    impl Outbox for Uow {
        async fn append_events(&mut self, events: &[EventEnvelope]) -> StoreResult<()>;
    }
    #[async_trait]
    impl ProcessedEvents for Uow {
        async fn mark_processed(&mut self, handler: &str, event: EventId, now: DateTime<Utc>) -> StoreResult<bool>;
    }
    #[async_trait]
    impl StatisticsRepository for Uow {
        async fn add_to_buckets(&mut self, user: UserId, keys: &[BucketKey], delta: &StatsDelta) -> StoreResult<()>;
        async fn read_buckets(&mut self, user: UserId, spans: &[BucketSpan]) -> StoreResult<StatsDelta>;
        async fn binge_stat(&mut self, session: BingeSessionId) -> StoreResult<Option<BingeStat>>;
        async fn save_binge_stat(&mut self, stat: &BingeStat) -> StoreResult<()>;
    }
    #[async_trait]
    impl AchievementRepository for Uow {
        async fn bump_counter(&mut self, user: UserId, counter: &str, by: i64) -> StoreResult<i64>;
        async fn unlock_achievement(&mut self, achievement: &Achievement) -> StoreResult<bool>;
        async fn achievements(&mut self, user: UserId) -> StoreResult<Vec<Achievement>>;
    }
    #[async_trait]
    impl WatchlistRepository for Uow {
        async fn add_to_watchlist(&mut self, item: &WatchlistItem) -> StoreResult<(WatchlistItem, bool)>;
        async fn remove_from_watchlist(&mut self, user: UserId, content: uuid::Uuid) -> StoreResult<bool>;
        async fn watchlist(&mut self, user: UserId) -> StoreResult<Vec<WatchlistItem>>;
    }
    #[async_trait]
    impl ReminderRepository for Uow {
        async fn reminder(&mut self, user: UserId, show: ShowId) -> StoreResult<Option<Reminder>>;
        async fn save_reminder(&mut self, reminder: &Reminder) -> StoreResult<()>;
        async fn reminders(&mut self, user: UserId) -> StoreResult<Vec<Reminder>>;
        async fn due_reminders(&mut self, now: DateTime<Utc>, limit: u32) -> StoreResult<Vec<Reminder>>;
    }
    #[async_trait]
    impl PreferenceRepository for Uow {
        async fn add_genre_points(&mut self, user: UserId, genre: &str, points: i64) -> StoreResult<()>;
        async fn genre_scores(&mut self, user: UserId) -> StoreResult<Vec<GenreScore>>;
    }
    #[async_trait]
    impl UnitOfWork for Uow {
        async fn lock_user_item(&mut self, user: UserId, item: uuid::Uuid) -> StoreResult<()>;
        async fn commit(self) -> StoreResult<()>;
    }
}

/// A store handing out prepared mock units of work, one per `begin`.
#[derive(Clone, Default)]
struct ScriptedStore(Arc<Mutex<Vec<MockUow>>>);

#[async_trait]
impl Store for ScriptedStore {
    type Uow = MockUow;
    async fn begin(&self) -> StoreResult<MockUow> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop()
            .ok_or_else(|| StoreError::Unexpected("no unit of work scripted".into()))
    }
    async fn ping(&self) -> StoreResult<()> {
        Ok(())
    }
}

#[async_trait]
impl IdempotencyStore for ScriptedStore {
    async fn claim_idempotency_key(
        &self,
        _: UserId,
        _: &IdempotencyKey,
        _: &RequestFingerprint,
        _: DateTime<Utc>,
        _: IdempotencyPolicy,
    ) -> StoreResult<Decision> {
        Ok(Decision::Fresh)
    }
    async fn complete_idempotency_key(
        &self,
        _: UserId,
        _: &IdempotencyKey,
        _: &StoredResponse,
        _: DateTime<Utc>,
    ) -> StoreResult<()> {
        Ok(())
    }
    async fn release_idempotency_key(&self, _: UserId, _: &IdempotencyKey) -> StoreResult<()> {
        Ok(())
    }
}

/// No relay runs in these tests: the outbox side of the store is empty.
#[async_trait]
impl OutboxRelay for ScriptedStore {
    async fn claim_events(
        &self,
        _: RelayChannel,
        _: ClaimToken,
        _: DateTime<Utc>,
        _: chrono::Duration,
        _: u32,
    ) -> StoreResult<Vec<PendingEvent>> {
        Ok(Vec::new())
    }
    async fn mark_delivered(
        &self,
        _: RelayChannel,
        _: &[i64],
        _: DateTime<Utc>,
    ) -> StoreResult<()> {
        Ok(())
    }
    async fn schedule_retry(
        &self,
        _: RelayChannel,
        _: ClaimToken,
        _: i64,
        _: DateTime<Utc>,
        _: &str,
    ) -> StoreResult<()> {
        Ok(())
    }
    async fn renew_claim(
        &self,
        _: RelayChannel,
        _: ClaimToken,
        _: DateTime<Utc>,
    ) -> StoreResult<u64> {
        Ok(0)
    }
    async fn park_event(
        &self,
        _: RelayChannel,
        _: ClaimToken,
        _: i64,
        _: DateTime<Utc>,
        _: &str,
    ) -> StoreResult<()> {
        Ok(())
    }
    async fn dead_letters(&self, _: u32) -> StoreResult<Vec<DeadLetter>> {
        Ok(Vec::new())
    }
    async fn retry_dead_letter(
        &self,
        _: EventId,
        _: DateTime<Utc>,
    ) -> StoreResult<Vec<DeadLetter>> {
        Ok(Vec::new())
    }
    async fn release_events(&self, _: RelayChannel, _: ClaimToken, _: &[i64]) -> StoreResult<()> {
        Ok(())
    }
    async fn outbox_backlog(&self, _: RelayChannel) -> StoreResult<OutboxBacklog> {
        Ok(OutboxBacklog::default())
    }
}

fn movie() -> Movie {
    Movie {
        id: MovieId::from(uuid::Uuid::from_u64_pair(3, 1)),
        title: Title::parse("Heat").ok().flatten().expect("title"),
        runtime: Minutes::from_u32_saturating(170),
        genres: vec![],
        release_date: None,
    }
}

fn reading_uow() -> MockUow {
    let mut uow = MockUow::new();
    uow.expect_movie().returning(|_| Ok(Some(movie())));
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
