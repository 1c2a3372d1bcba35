//! The bare-SQLite side of `scripts/bench` (SPEC §14): the rows of a first-time episode watch
//! written straight to a SQLite file by the raw database (rusqlite over the same bundled SQLite
//! as the server, no HTTP, no domain, no async driver), so the server's rate can be read as a
//! ratio to it.
//!
//! ```sh
//! viewing-server migrate --database-url sqlite:///tmp/bare.db
//! viewing-bare-sqlite /tmp/bare.db --clients 16 --seconds 10
//! ```
//!
//! It loads a 250-episode show (5 seasons × 50) into the file, then `--clients` threads
//! (default 16) share `--users` users (default 100), each user's watches in episode order, one
//! at a time, until `--seconds` (default 15) have passed. One connection writes (SQLite has one
//! writer: the client threads hand their transactions to one writer thread, first come first
//! served, as the server's units of work queue for its writer gate),
//! with the store's pragmas: WAL, `synchronous = FULL`, a 5 s busy timeout, foreign keys on.
//!
//! The transaction is the server's for a first-time episode watch, statement for statement,
//! minus what only the domain needs: `BEGIN IMMEDIATE`; the show of the episode; the show's
//! seasons and episodes (250 rows); the user's progress in the show; the user's records of the
//! show; insert the user (if new), the record, its episode details, the progress (upsert) and
//! one outbox event; `COMMIT` — 11 statements (PostgreSQL adds the advisory lock: 12). Binge
//! sessions, season completions and the show's genres are left out.
//!
//! Prints `RESULT scenario=bare-episodes clients=N requests=N seconds=S rate=R p50_ms=P …`.

use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match parse(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("viewing-bare-sqlite: {e}");
            eprintln!("usage: viewing-bare-sqlite FILE [--clients N] [--users N] [--seconds N]");
            std::process::exit(2);
        }
    };
    if let Err(e) = run(&options) {
        eprintln!("viewing-bare-sqlite: {e}");
        std::process::exit(1);
    }
}

struct Options {
    file: String,
    clients: usize,
    users: usize,
    seconds: u64,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut file = None;
    let (mut clients, mut users, mut seconds) = (16, 100, 15);
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut number = |name: &str| {
            it.next()
                .and_then(|v| v.parse::<u64>().ok())
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("{name} needs a positive number"))
        };
        match arg.as_str() {
            "--clients" => clients = number(arg)? as usize,
            "--users" => users = number(arg)? as usize,
            "--seconds" => seconds = number(arg)?,
            flag if flag.starts_with("--") => return Err(format!("unknown option {flag}")),
            path => file = Some(path.to_owned()),
        }
    }
    Ok(Options {
        file: file.ok_or("the database file is missing")?,
        clients,
        users,
        seconds,
    })
}

type Result<T, E = Box<dyn std::error::Error + Send + Sync>> = std::result::Result<T, E>;

/// `YYYY-MM-DDTHH:MM:SS.ffffffZ`, the store's instants.
fn now() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}

fn new_id() -> String {
    Uuid::now_v7().hyphenated().to_string()
}

/// Opens the file with the store's pragmas (adapters-sqlite `SqliteStore::connect`).
fn open(file: &str) -> Result<Connection> {
    let conn = Connection::open(file)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(conn)
}

/// A 250-episode show; its episode ids in order.
fn load_show(conn: &mut Connection) -> Result<(String, Vec<String>)> {
    let tx = conn.transaction()?;
    let show = new_id();
    tx.execute(
        "INSERT INTO shows (id, title, status) VALUES (?, 'Bare Show', 'ended')",
        params![show],
    )?;
    for (position, genre) in ["drama", "crime"].iter().enumerate() {
        tx.execute(
            "INSERT INTO show_genres (show_id, position, genre) VALUES (?, ?, ?)",
            params![show, position as i64, genre],
        )?;
    }
    let mut episodes = Vec::new();
    for season in 1..=5i64 {
        let season_id = new_id();
        tx.execute(
            "INSERT INTO seasons (id, show_id, season_number) VALUES (?, ?, ?)",
            params![season_id, show, season],
        )?;
        for number in 1..=50i64 {
            let id = new_id();
            tx.execute(
                "INSERT INTO episodes (id, season_id, show_id, episode_number, title, \
                 runtime_minutes, air_date) VALUES (?, ?, ?, ?, ?, 45, '2015-01-01')",
                params![
                    id,
                    season_id,
                    show,
                    number,
                    format!("Bare Show S{season}E{number}")
                ],
            )?;
            episodes.push(id);
        }
    }
    tx.commit()?;
    Ok((show, episodes))
}

/// One first-time episode watch (see the module docs).
fn watch(conn: &mut Connection, user: &str, episode: &str, number: i64) -> Result<()> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let (show, _title, _status): (String, String, String) = tx
        .prepare_cached(
            "SELECT s.id, s.title, s.status FROM episodes e JOIN shows s ON s.id = e.show_id \
             WHERE e.id = ?",
        )?
        .query_row(params![episode], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    let tree = tx
        .prepare_cached(
            "SELECT e.id, e.season_id, s.season_number, e.episode_number, e.title, \
             e.runtime_minutes, e.air_date FROM episodes e JOIN seasons s ON s.id = e.season_id \
             WHERE e.show_id = ? ORDER BY s.season_number, e.episode_number",
        )?
        .query_map(params![show], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, i64>(5)?,
                r.get::<_, Option<String>>(6)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let season = (number - 1) / 50 + 1;
    let in_season = (number - 1) % 50 + 1;
    let total: Option<i64> = tx
        .prepare_cached(
            "SELECT user_id, show_id, last_watched_season, last_watched_episode, \
             last_watched_episode_id, last_watch_date, total_episodes_watched, is_completed, \
             completion_date, last_activity_at, inactivity_reported_at, updated_at \
             FROM show_progress WHERE user_id = ? AND show_id = ?",
        )?
        .query_row(params![user, show], |r| r.get(6))
        .optional()?;
    let records = tx
        .prepare_cached(
            "SELECT r.id, r.user_id, r.content_id, r.content_type, r.watch_date, \
             r.viewing_platform, r.viewing_location, r.viewing_context, r.is_rewatch, \
             r.viewing_duration, r.binge_session_id, r.binge_session_pinned, r.backfilled, \
             r.created_at, e.show_id, e.season_number, e.episode_number \
             FROM episode_viewing_records e JOIN viewing_records r ON r.id = e.id \
             WHERE e.user_id = ? AND e.show_id = ? ORDER BY r.watch_date, r.id",
        )?
        .query_map(params![user, show], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(4)?,
                r.get::<_, i64>(15)?,
                r.get::<_, i64>(16)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let stamp = now();
    let record = new_id();
    tx.prepare_cached(
        "INSERT INTO users (id, created_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING",
    )?
    .execute(params![user, stamp])?;
    tx.prepare_cached(
        "INSERT INTO viewing_records (id, user_id, content_id, content_type, watch_date, \
         viewing_platform, viewing_location, viewing_context, is_rewatch, viewing_duration, \
         binge_session_id, binge_session_pinned, backfilled, created_at) \
         VALUES (?, ?, ?, 'episode', ?, NULL, NULL, NULL, 0, NULL, NULL, 0, 0, ?)",
    )?
    .execute(params![record, user, episode, stamp, stamp])?;
    tx.prepare_cached(
        "INSERT INTO episode_viewing_records (id, user_id, episode_id, show_id, \
         season_number, episode_number, watch_date, platform, binge_session_id, \
         viewing_duration, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL, ?)",
    )?
    .execute(params![
        record, user, episode, show, season, in_season, stamp, stamp
    ])?;
    tx.prepare_cached(
        "INSERT INTO show_progress (id, user_id, show_id, last_watched_season, \
         last_watched_episode, last_watched_episode_id, last_watch_date, \
         total_episodes_watched, completed_seasons, is_completed, completion_date, \
         last_activity_at, inactivity_reported_at, updated_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, 0, NULL, ?, NULL, ?) \
         ON CONFLICT (user_id, show_id) DO UPDATE SET \
         last_watched_season = excluded.last_watched_season, \
         last_watched_episode = excluded.last_watched_episode, \
         last_watched_episode_id = excluded.last_watched_episode_id, \
         last_watch_date = excluded.last_watch_date, \
         total_episodes_watched = excluded.total_episodes_watched, \
         completed_seasons = excluded.completed_seasons, \
         is_completed = excluded.is_completed, completion_date = excluded.completion_date, \
         last_activity_at = excluded.last_activity_at, \
         inactivity_reported_at = excluded.inactivity_reported_at, \
         updated_at = excluded.updated_at",
    )?
    .execute(params![
        new_id(),
        user,
        show,
        season,
        in_season,
        episode,
        stamp,
        total.unwrap_or(0) + 1,
        stamp,
        stamp
    ])?;
    let event = new_id();
    let payload = serde_json::json!({
        "eventId": event, "eventType": "EpisodeWatched", "schemaVersion": 1,
        "userId": user, "occurredAt": stamp,
        "payload": {
            "recordId": record, "episodeId": episode, "showId": show,
            "seasonNumber": season, "episodeNumber": in_season, "watchDate": stamp,
            "isRewatch": false, "viewingDuration": 45, "runtimeMinutes": 45,
            "genres": ["drama", "crime"], "platform": null, "bingeSessionId": null,
            "episodesWatched": records.len() + 1, "totalEpisodes": tree.len()
        }
    })
    .to_string();
    tx.prepare_cached(
        "INSERT INTO outbox (event_id, user_id, event_type, occurred_at, payload, \
         next_attempt_at) VALUES (?, ?, 'EpisodeWatched', ?, ?, ?)",
    )?
    .execute(params![event, user, stamp, payload, stamp])?;
    tx.commit()?;
    Ok(())
}

/// One watch for the writer: the client's user and episode, and where to answer.
struct Job {
    user: String,
    episode: String,
    number: i64,
    done: mpsc::Sender<Result<(), String>>,
}

fn run(options: &Options) -> Result<()> {
    let mut conn = open(&options.file)?;
    let (_show, episodes) = load_show(&mut conn)?;
    // The one writer: clients hand it their transactions in turn, first come first served.
    let (jobs, queue) = mpsc::channel::<Job>();
    let writer = std::thread::spawn(move || {
        for job in queue {
            let outcome = watch(&mut conn, &job.user, &job.episode, job.number);
            let _ = job.done.send(outcome.map_err(|e| e.to_string()));
        }
    });
    let episodes = Arc::new(episodes);
    let clients = options.clients.min(options.users).max(1);
    let deadline = Instant::now() + Duration::from_secs(options.seconds);
    let started = Instant::now();
    let mut threads = Vec::new();
    for c in 0..clients {
        let users: Vec<String> = (0..options.users)
            .filter(|u| u % clients == c)
            .map(|_| Uuid::new_v4().hyphenated().to_string())
            .collect();
        let (jobs, episodes) = (jobs.clone(), episodes.clone());
        threads.push(std::thread::spawn(move || -> Result<Vec<Duration>> {
            let (done, answer) = mpsc::channel();
            let mut samples = Vec::new();
            let mut next = vec![0usize; users.len()];
            let mut turn = 0usize;
            while Instant::now() < deadline {
                let u = turn % users.len();
                let i = next[u] % episodes.len();
                next[u] += 1;
                turn += 1;
                let t0 = Instant::now();
                jobs.send(Job {
                    user: users[u].clone(),
                    episode: episodes[i].clone(),
                    number: i as i64 + 1,
                    done: done.clone(),
                })
                .map_err(|_| "the writer stopped")?;
                answer.recv().map_err(|_| "the writer stopped")??;
                samples.push(t0.elapsed());
            }
            Ok(samples)
        }));
    }
    drop(jobs);
    let mut all = Vec::new();
    for t in threads {
        all.extend(t.join().map_err(|_| "a client thread panicked")??);
    }
    writer.join().map_err(|_| "the writer thread panicked")?;
    let elapsed = started.elapsed().as_secs_f64();
    all.sort();
    let p = |q: f64| {
        all.get(((all.len().max(1) as f64 - 1.0) * q).round() as usize)
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    println!(
        "RESULT scenario=bare-episodes clients={clients} requests={} seconds={elapsed:.2} \
         rate={:.1} p50_ms={:.3} p95_ms={:.3} p99_ms={:.3}",
        all.len(),
        all.len() as f64 / elapsed,
        p(0.5),
        p(0.95),
        p(0.99)
    );
    Ok(())
}
