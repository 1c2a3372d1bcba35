//! Use cases of the viewing service: commands and queries that orchestrate the domain through
//! its ports, one unit of work per command.
//!
//! A Rust service can embed the viewing rules without the HTTP server (SPEC §15): depend on
//! `viewing-app` (which re-exports `viewing-domain` as [`domain`]) and one store —
//! `adapters-memory` for tests, `adapters-sqlite` or `adapters-postgres` for data that must
//! survive. [`ViewingService`] holds the use cases; [`relay::Relay`] delivers the events the
//! commands wrote to the handlers that keep the read models (statistics, achievements,
//! reminders...). Reads that come from read models see a command only after the relay has
//! passed over its events, so an embedder drains the relay ([`relay::Relay::drain`]) after
//! writing, or runs it in the background as the server does ([`runner`]).
//!
//! # A tour on the memory store
//!
//! Load a [catalog file](catalog_file), record watches, read progress, see the binge session
//! the episodes formed, and read statistics once the relay is drained:
//!
//! ```
//! use adapters_memory::MemoryStore;
//! use uuid::Uuid;
//! use viewing_app::domain::rules::episode::WatchEpisode;
//! use viewing_app::domain::rules::movie::WatchMovie;
//! use viewing_app::domain::{EpisodeId, MovieId, ShowId, UserId};
//! use viewing_app::relay::Relay;
//! use viewing_app::statistics::StatisticsRequest;
//! use viewing_app::{ViewingService, catalog_file};
//!
//! const CATALOG: &str = r#"{
//!   "movies": [{ "id": "0191b2c4-0000-7000-8000-00000000000a", "title": "Heat",
//!                "runtimeMinutes": 170, "genres": ["crime"] }],
//!   "shows": [{ "id": "0191b2c4-0000-7000-8000-00000000000b", "title": "Dark",
//!     "status": "ended", "genres": ["sci-fi"],
//!     "seasons": [{ "seasonId": "0191b2c4-0000-7000-8000-00000000000c", "seasonNumber": 1,
//!       "episodes": [
//!         { "episodeId": "0191b2c4-0000-7000-8000-000000000001", "episodeNumber": 1,
//!           "title": "Secrets", "runtimeMinutes": 51 },
//!         { "episodeId": "0191b2c4-0000-7000-8000-000000000002", "episodeNumber": 2,
//!           "title": "Lies", "runtimeMinutes": 44 },
//!         { "episodeId": "0191b2c4-0000-7000-8000-000000000003", "episodeNumber": 3,
//!           "title": "Past and Present", "runtimeMinutes": 45 }] }] }]
//! }"#;
//! let id = |s: &str| Uuid::parse_str(s).expect("a uuid");
//!
//! # tokio::runtime::Builder::new_current_thread().enable_time().build()?.block_on(async {
//! let service = ViewingService::new(MemoryStore::new());
//! let imported = service.import_catalog(catalog_file::parse(CATALOG)?).await?;
//! assert_eq!((imported.movies, imported.shows), (1, 1));
//!
//! let user = UserId::from(Uuid::now_v7());
//! let heat = MovieId::from(id("0191b2c4-0000-7000-8000-00000000000a"));
//! service.watch_movie(user, heat, WatchMovie::default()).await?;
//!
//! // Two episodes in a row (both "now"): the second joins the first in a binge session.
//! let first = EpisodeId::from(id("0191b2c4-0000-7000-8000-000000000001"));
//! let second = EpisodeId::from(id("0191b2c4-0000-7000-8000-000000000002"));
//! service.watch_episode(user, first, WatchEpisode::default()).await?;
//! let watched = service.watch_episode(user, second, WatchEpisode::default()).await?;
//! let session = watched.record.binge_session_id.expect("a binge session");
//!
//! // Progress is read straight from the records.
//! let dark = ShowId::from(id("0191b2c4-0000-7000-8000-00000000000b"));
//! let progress = service.progress(user, dark).await?;
//! assert_eq!((progress.episodes_watched, progress.total_episodes), (2, 3));
//! assert_eq!(progress.next_episode.map(|n| n.title).as_deref(), Some("Past and Present"));
//!
//! // Statistics come from the StatisticsCalculator's buckets: drain the relay first.
//! assert_eq!(service.statistics(user, &StatisticsRequest::default()).await?.total_watched, 0);
//! Relay::new(&service).drain().await?;
//! let stats = service.statistics(user, &StatisticsRequest::default()).await?;
//! assert_eq!((stats.movies, stats.episodes, stats.binge_sessions), (1, 2, 1));
//! assert_eq!(stats.total_minutes, 170 + 51 + 44);
//! # let _ = session;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Property tests on the memory store
//!
//! `adapters-memory` passes the same contract suite as the SQL stores and needs no set-up, so
//! the rules can be property-tested through the real use cases. Here: however many times, and
//! in whatever order, a user watches a show's episodes, progress never counts more episodes
//! than the show has, nor more than were watched.
//!
//! ```
//! use adapters_memory::MemoryStore;
//! use proptest::prelude::*;
//! use uuid::Uuid;
//! use viewing_app::domain::rules::episode::WatchEpisode;
//! use viewing_app::domain::values::{Minutes, Title};
//! use viewing_app::domain::{Episode, EpisodeId, Season, SeasonId, Show, ShowId, ShowStatus, UserId};
//! use viewing_app::ViewingService;
//!
//! fn show(episodes: u32) -> Show {
//!     let title = |t: &str| Title::parse(t).ok().flatten().expect("a title");
//!     let season = Season {
//!         id: SeasonId::from(Uuid::now_v7()),
//!         number: 1,
//!         episodes: (1..=episodes)
//!             .map(|number| Episode {
//!                 id: EpisodeId::from(Uuid::now_v7()),
//!                 number,
//!                 title: title(&format!("Episode {number}")),
//!                 runtime: Minutes::new("runtimeMinutes", 30).expect("minutes"),
//!                 air_date: None,
//!                 external_ids: Default::default(),
//!             })
//!             .collect(),
//!         external_ids: Default::default(),
//!     };
//!     Show::new(ShowId::from(Uuid::now_v7()), title("Show"), ShowStatus::Ended, vec![], vec![season])
//!         .expect("a valid show")
//! }
//!
//! proptest! {
//!     #![proptest_config(ProptestConfig::with_cases(16))]
//!     // In a crate's tests/ this gets `#[test]`; a doc test calls it from `main`.
//!     fn progress_counts_each_watched_episode_once(order in prop::collection::vec(0usize..5, 0..8)) {
//!         let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build()?;
//!         let watched = runtime.block_on(async {
//!             let service = ViewingService::new(MemoryStore::new());
//!             let show = service.upsert_show(show(5)).await.expect("stored");
//!             let episodes: Vec<EpisodeId> =
//!                 show.seasons()[0].episodes.iter().map(|e| e.id).collect();
//!             let user = UserId::from(Uuid::now_v7());
//!             for &i in &order {
//!                 let cmd = WatchEpisode { mark_previous_watched: false, ..Default::default() };
//!                 // Out of order is refused (SPEC §5), which is part of what is tested.
//!                 let _ = service.watch_episode(user, episodes[i], cmd).await;
//!             }
//!             service.progress(user, show.id).await.map(|p| p.episodes_watched)
//!         });
//!         // A user who watched nothing has no progress to read.
//!         if let Ok(watched) = watched {
//!             let distinct = order.iter().collect::<std::collections::HashSet<_>>().len();
//!             prop_assert!(watched as usize <= distinct);
//!             prop_assert!(watched <= 5);
//!         }
//!     }
//! }
//! # fn main() { progress_counts_each_watched_episode_once(); }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod api;
pub mod catalog;
pub mod catalog_cache;
pub mod catalog_file;
pub mod dead_letters;
pub mod engagement;
pub mod error;
pub mod export;
pub mod handlers;
pub mod history;
pub mod imdb;
pub mod imports;
pub mod integrations;
pub mod metrics;
pub mod playback;
pub mod progress;
pub mod progress_cache;
pub mod relay;
pub mod runner;
pub mod service;
pub mod statistics;
pub mod system;
pub mod text;
pub mod viewing;
pub mod webhooks;

pub use error::{AppError, AppResult};
pub use service::ViewingService;
pub use system::{SystemClock, UuidV7};
pub use viewing_domain as domain;
