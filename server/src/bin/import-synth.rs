//! Writes a synthetic catalog and a Trakt history for the import benchmark (SPEC §12: a
//! 10,000-play Trakt history imports in ≤ 20 s on SQLite): `catalog.json` for
//! `viewing-server catalog import` and `watched-history.json` in Trakt's export shape. Shows
//! are named by TheTVDB id, movies by IMDb id, one play in ten only by its title and year (the
//! slower path). Deterministic.
//!
//!   import-synth DIR [--plays N]

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use clap::Parser;
use serde_json::{Value, json};

#[derive(Parser)]
#[command(about = "Write a catalog and a Trakt history for the import benchmark")]
struct Args {
    /// Where to write catalog.json and watched-history.json (created if missing).
    dir: PathBuf,
    /// Plays in the history: four in five episodes, one in five movies.
    #[arg(long, default_value_t = 10_000)]
    plays: u32,
}

const SEASONS: u32 = 4;
const EPISODES: u32 = 20;

fn uuid(kind: u64, n: u64) -> String {
    uuid::Uuid::from_u64_pair(kind, n).to_string()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    std::fs::create_dir_all(&args.dir)?;
    let episode_plays = args.plays / 5 * 4;
    let movie_plays = args.plays - episode_plays;
    let per_show = SEASONS * EPISODES;
    let shows = episode_plays.div_ceil(per_show);
    let movies = movie_plays;

    let catalog_movies: Vec<Value> = (0..movies)
        .map(|m| {
            json!({
                "id": uuid(0xA, u64::from(m)),
                "title": format!("Synthetic Film {m}"),
                "runtimeMinutes": 90 + m % 60,
                "genres": ["drama"],
                "releaseDate": format!("{}-06-01", 1970 + m % 50),
                "externalIds": { "imdb": format!("tt{:07}", 5_000_000 + m) },
            })
        })
        .collect();
    let catalog_shows: Vec<Value> = (0..shows)
        .map(|s| {
            let seasons: Vec<Value> = (1..=SEASONS)
                .map(|n| {
                    let episodes: Vec<Value> = (1..=EPISODES)
                        .map(|e| {
                            json!({
                                "episodeId": uuid(0xE, u64::from(s * per_show + (n - 1) * EPISODES + e)),
                                "episodeNumber": e,
                                "title": format!("Episode {e}"),
                                "runtimeMinutes": 45,
                                "airDate": "2010-01-01",
                            })
                        })
                        .collect();
                    json!({ "seasonId": uuid(0x6, u64::from(s * SEASONS + n)), "seasonNumber": n, "episodes": episodes })
                })
                .collect();
            json!({
                "id": uuid(0x5, u64::from(s)),
                "title": format!("Synthetic Show {s}"),
                "status": "ended",
                "genres": ["drama"],
                "externalIds": { "tvdb": (900_000 + s).to_string() },
                "seasons": seasons,
            })
        })
        .collect();
    let mut out = BufWriter::new(File::create(args.dir.join("catalog.json"))?);
    serde_json::to_writer(
        &mut out,
        &json!({ "movies": catalog_movies, "shows": catalog_shows }),
    )?;
    out.flush()?;

    // Evenings from 2015: each show watched in order, four episodes a night, nights a day
    // apart; movies between.
    let start = chrono::DateTime::parse_from_rfc3339("2015-01-01T19:00:00Z")?.to_utc();
    let mut history: Vec<Value> = Vec::with_capacity(args.plays as usize);
    let mut id = 1_000_000_000u64;
    for p in 0..episode_plays {
        let (show, k) = (p / per_show, p % per_show);
        let (season, episode) = (k / EPISODES + 1, k % EPISODES + 1);
        let at = start
            + chrono::Duration::days(i64::from(p / 4))
            + chrono::Duration::minutes(i64::from(p % 4) * 50);
        id += 1;
        let ids = if p % 10 == 9 {
            json!({ "trakt": null, "tvdb": null, "imdb": null, "tmdb": null })
        } else {
            json!({ "trakt": 10_000 + show, "tvdb": 900_000 + show, "imdb": null, "tmdb": null })
        };
        history.push(json!({
            "id": id, "watched_at": at.to_rfc3339(), "action": "watch", "type": "episode",
            "episode": { "season": season, "number": episode, "title": format!("Episode {episode}"), "ids": {} },
            "show": { "title": format!("Synthetic Show {show}"), "year": 2010, "ids": ids },
        }));
    }
    for m in 0..movie_plays {
        let at = start + chrono::Duration::days(i64::from(m)) + chrono::Duration::hours(3);
        id += 1;
        let ids = if m % 10 == 9 {
            json!({})
        } else {
            json!({ "imdb": format!("tt{:07}", 5_000_000 + m) })
        };
        history.push(json!({
            "id": id, "watched_at": at.to_rfc3339(), "action": "watch", "type": "movie",
            "movie": { "title": format!("Synthetic Film {m}"), "year": 1970 + m % 50, "ids": ids },
        }));
    }
    let mut out = BufWriter::new(File::create(args.dir.join("watched-history.json"))?);
    serde_json::to_writer(&mut out, &history)?;
    out.flush()?;
    println!(
        "{} plays ({episode_plays} episodes of {shows} shows, {movie_plays} movies) in {}",
        args.plays,
        args.dir.display()
    );
    Ok(())
}
