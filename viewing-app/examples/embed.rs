//! Embedding the viewing service in a Rust program (SPEC §15): load a catalog, record watches,
//! drain the relay, print progress and statistics. Run with
//! `cargo run -p viewing-app --example embed`.
//!
//! The store is `adapters-memory`; for data that must survive a restart use
//! `adapters_sqlite::SqliteStore` (or `adapters_postgres::PgStore`) instead: the service and
//! relay are generic over the store and the code below does not change.

use adapters_memory::MemoryStore;
use uuid::Uuid;
use viewing_app::domain::rules::episode::WatchEpisode;
use viewing_app::domain::rules::movie::WatchMovie;
use viewing_app::domain::{EpisodeId, MovieId, ShowId, UserId};
use viewing_app::relay::Relay;
use viewing_app::statistics::StatisticsRequest;
use viewing_app::{ViewingService, catalog_file};

const CATALOG: &str = r#"{
  "movies": [{ "id": "0191b2c4-0000-7000-8000-00000000000a", "title": "Heat",
               "runtimeMinutes": 170, "genres": ["crime"] }],
  "shows": [{ "id": "0191b2c4-0000-7000-8000-00000000000b", "title": "Dark",
    "status": "ended", "genres": ["sci-fi"],
    "seasons": [{ "seasonId": "0191b2c4-0000-7000-8000-00000000000c", "seasonNumber": 1,
      "episodes": [
        { "episodeId": "0191b2c4-0000-7000-8000-000000000001", "episodeNumber": 1,
          "title": "Secrets", "runtimeMinutes": 51 },
        { "episodeId": "0191b2c4-0000-7000-8000-000000000002", "episodeNumber": 2,
          "title": "Lies", "runtimeMinutes": 44 },
        { "episodeId": "0191b2c4-0000-7000-8000-000000000003", "episodeNumber": 3,
          "title": "Past and Present", "runtimeMinutes": 45 }] }] }]
}"#;

type Fallible<T> = Result<T, Box<dyn std::error::Error>>;

fn id(s: &str) -> Fallible<Uuid> {
    Ok(Uuid::parse_str(s)?)
}

fn main() -> Fallible<()> {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()?
        .block_on(run())
}

async fn run() -> Fallible<()> {
    let service = ViewingService::new(MemoryStore::new());

    // The catalog file is checked as a whole before anything is written.
    let imported = service
        .import_catalog(catalog_file::parse(CATALOG)?)
        .await?;
    println!(
        "catalog: {} movies, {} shows",
        imported.movies, imported.shows
    );

    let user = UserId::from(Uuid::now_v7());
    let heat = MovieId::from(id("0191b2c4-0000-7000-8000-00000000000a")?);
    service
        .watch_movie(user, heat, WatchMovie::default())
        .await?;
    for (title, episode) in [
        ("Secrets", "0191b2c4-0000-7000-8000-000000000001"),
        ("Lies", "0191b2c4-0000-7000-8000-000000000002"),
    ] {
        let watched = service
            .watch_episode(user, EpisodeId::from(id(episode)?), WatchEpisode::default())
            .await?;
        println!(
            "watched {title} (binge session: {})",
            watched
                .record
                .binge_session_id
                .map_or_else(|| "none yet".to_owned(), |s| s.to_string())
        );
    }

    let dark = ShowId::from(id("0191b2c4-0000-7000-8000-00000000000b")?);
    let progress = service.progress(user, dark).await?;
    println!(
        "progress on {}: {}/{} episodes, next: {}",
        progress.title,
        progress.episodes_watched,
        progress.total_episodes,
        progress
            .next_episode
            .map_or_else(|| "nothing".to_owned(), |n| n.title)
    );

    // Statistics are a read model: the relay delivers the watches' events to the
    // StatisticsCalculator. The server runs it in the background; here it is drained once.
    let delivered = Relay::new(&service).drain().await?;
    let stats = service
        .statistics(user, &StatisticsRequest::default())
        .await?;
    println!(
        "statistics ({delivered} events relayed): {} watched ({} movies, {} episodes), \
         {} minutes, {} binge sessions",
        stats.total_watched,
        stats.movies,
        stats.episodes,
        stats.total_minutes,
        stats.binge_sessions
    );
    Ok(())
}
