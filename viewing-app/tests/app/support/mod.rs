//! A small given/when/then world for the use cases, on the in-memory store.
#![allow(dead_code)]

pub mod oracle;

use std::sync::Arc;

use adapters_memory::{ManualClock, MemoryStore, SequentialIds};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use viewing_app::ViewingService;
use viewing_app::relay::Relay;
use viewing_app::viewing::EpisodeWatched;
use viewing_app::{AppError, AppResult};
use viewing_domain::ports::{Begin, BingeSessionRepository, ViewingRecordRepository};
use viewing_domain::rules::episode::WatchEpisode;
use viewing_domain::rules::progress::ProgressView;
use viewing_domain::values::{Genre, Minutes, Title};
use viewing_domain::{
    BingeSession, DomainEvent, Episode, EpisodeId, EventEnvelope, RulesConfig, Season, SeasonId,
    Show, ShowId, ShowStatus, UserId, ViewingRecord,
};

pub fn title(s: &str) -> Title {
    Title::parse(s)
        .ok()
        .flatten()
        .expect("test titles are valid")
}

pub fn genre(s: &str) -> Genre {
    Genre::parse(s)
        .ok()
        .flatten()
        .expect("test genres are valid")
}

pub fn uuid(n: u64, kind: u64) -> uuid::Uuid {
    uuid::Uuid::from_u64_pair(kind, n)
}

/// The instant tests start at: 2026-03-02 20:00 UTC (a Monday).
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 20, 0, 0)
        .single()
        .expect("valid")
}

/// A show with `episodes[i]` regular episodes in season i+1 (ids derived from the show number),
/// 45-minute episodes, all aired, genres Drama and Crime.
pub fn show(n: u64, status: ShowStatus, episodes: &[u32]) -> Show {
    let seasons = episodes
        .iter()
        .enumerate()
        .map(|(i, &count)| season(n, (i + 1) as u32, count, None))
        .collect();
    Show::new(
        ShowId::from(uuid(n, 0x5)),
        title(&format!("Show {n}")),
        status,
        vec![genre("Drama"), genre("Crime")],
        seasons,
    )
    .expect("valid show")
}

pub fn season(show: u64, number: u32, count: u32, air: Option<NaiveDate>) -> Season {
    Season {
        id: SeasonId::from(uuid(show * 1000 + u64::from(number), 0x6)),
        number,
        episodes: (1..=count)
            .map(|e| Episode {
                id: episode_id(show, number, e),
                number: e,
                title: title(&format!("S{number}E{e}")),
                runtime: Minutes::from_u32_saturating(45),
                air_date: air,
                external_ids: Default::default(),
            })
            .collect(),
        external_ids: Default::default(),
    }
}

pub fn episode_id(show: u64, season: u32, episode: u32) -> EpisodeId {
    EpisodeId::from(uuid(
        show * 1_000_000 + u64::from(season) * 1000 + u64::from(episode),
        0xE,
    ))
}

pub struct World {
    pub store: MemoryStore,
    pub clock: Arc<ManualClock>,
    pub svc: ViewingService<MemoryStore>,
    pub user: UserId,
}

impl World {
    pub fn new() -> Self {
        Self::with_rules(RulesConfig::default())
    }

    pub fn with_rules(rules: RulesConfig) -> Self {
        let store = MemoryStore::new();
        let clock = Arc::new(ManualClock::new(t0()));
        let svc = ViewingService::with_parts(
            store.clone(),
            clock.clone(),
            Arc::new(SequentialIds::default()),
            rules,
        );
        Self {
            store,
            clock,
            svc,
            user: UserId::from(uuid(1, 0x1)),
        }
    }

    pub async fn given_show(&self, show: Show) -> Show {
        self.svc.upsert_show(show).await.expect("show stored")
    }

    /// Watches an episode at `at` (the clock is moved there first).
    pub async fn watch_at(
        &self,
        show: u64,
        season: u32,
        episode: u32,
        at: DateTime<Utc>,
    ) -> AppResult<EpisodeWatched> {
        self.watch_with(
            show,
            season,
            episode,
            at,
            WatchEpisode {
                watch_date: Some(at),
                ..WatchEpisode::default()
            },
        )
        .await
    }

    pub async fn watch_with(
        &self,
        show: u64,
        season: u32,
        episode: u32,
        at: DateTime<Utc>,
        cmd: WatchEpisode,
    ) -> AppResult<EpisodeWatched> {
        if self.clock_now() < at {
            self.clock.set(at);
        }
        self.svc
            .watch_episode(self.user, episode_id(show, season, episode), cmd)
            .await
    }

    pub fn clock_now(&self) -> DateTime<Utc> {
        use viewing_domain::ports::Clock;
        self.clock.now()
    }

    pub async fn progress(&self, show: u64) -> ProgressView {
        self.svc
            .progress(self.user, ShowId::from(uuid(show, 0x5)))
            .await
            .expect("progress")
    }

    /// Runs the relay until the outbox is empty (the server's background runner does this
    /// continuously): the handlers' state, statistics included, is then up to date.
    pub async fn drain(&self) -> usize {
        Relay::new(&self.svc).drain().await.expect("relay drained")
    }

    pub async fn events(&self) -> Vec<EventEnvelope> {
        self.store.outbox_events().await
    }

    pub async fn count_events(&self, pred: impl Fn(&DomainEvent) -> bool) -> usize {
        self.events()
            .await
            .iter()
            .filter(|e| pred(&e.event))
            .count()
    }

    pub async fn sessions(&self, show: u64) -> Vec<BingeSession> {
        let mut uow = self.store.begin().await.expect("begin");
        uow.binge_sessions_of_show(self.user, ShowId::from(uuid(show, 0x5)))
            .await
            .expect("sessions")
    }

    pub async fn records(&self, show: u64) -> Vec<ViewingRecord> {
        let mut uow = self.store.begin().await.expect("begin");
        let mut r = uow
            .episode_records(self.user, ShowId::from(uuid(show, 0x5)))
            .await
            .expect("records");
        r.sort_by_key(|r| (r.watch_date, r.id));
        r
    }
}

pub fn minutes(m: i64) -> Duration {
    Duration::minutes(m)
}

pub fn is_out_of_order(r: &AppResult<EpisodeWatched>) -> bool {
    matches!(r, Err(AppError::EpisodeOutOfOrder(_)))
}
