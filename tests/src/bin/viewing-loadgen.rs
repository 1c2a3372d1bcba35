//! A load generator for a running viewing-server: many users recording and reading at once.
//!
//! ```sh
//! VIEWING_JWT_SECRET=load-test-secret-0123456789abcdef-0123 cargo run --release -p viewing-server -- --rate-limit-per-min 1000000 &
//! VIEWING_JWT_SECRET=load-test-secret-0123456789abcdef-0123 cargo run --release -p viewing-tests --bin viewing-loadgen -- \
//!     http://127.0.0.1:8080 64 20
//! ```
//! Arguments: base URL, concurrent users (default 32), seconds (default 15). It loads a catalog
//! (one movie, one ended show of 5 seasons × 20 episodes), then each user loops: watch the next
//! episode (a rewatch after the finale), watch the movie every fifth turn, read progress every
//! third, history every seventh. It prints requests per second and latency percentiles per
//! kind of request, and fails if any answer is not the expected status.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::json;
use uuid::Uuid;
use viewing_tests::{Api, movie, show, sign};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let base = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| "http://127.0.0.1:8080".into());
    let users: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(32);
    let seconds: u64 = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(15);
    let Ok(secret) = std::env::var("VIEWING_JWT_SECRET") else {
        eprintln!("set VIEWING_JWT_SECRET to the server's secret");
        std::process::exit(2);
    };
    let token = |sub: Uuid, admin: bool| {
        let exp = chrono::Utc::now().timestamp() + 3600;
        let mut claims = json!({ "sub": sub.to_string(), "exp": exp });
        if admin {
            claims["role"] = json!("admin");
        }
        sign(&secret, &claims)
    };

    let admin = Api::new(&base, Some(token(Uuid::new_v4(), true)));
    let m = movie("Load Movie", 120, &["drama"]);
    let s = show("Load Show", "ended", &[20, 20, 20, 20, 20], 45);
    admin.put_movie(&m).await.assert_status(200);
    admin.put_show(&s).await.assert_status(200);
    let episodes: Vec<Uuid> = (1..=5)
        .flat_map(|season| (1..=20).map(move |e| (season, e)))
        .map(|(season, e)| s.episode(season, e))
        .collect();

    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..users {
        let api = Api::new(&base, Some(token(Uuid::new_v4(), false)));
        let episodes = episodes.clone();
        let (movie_id, show_id) = (m.id, s.id);
        tasks.push(tokio::spawn(async move {
            let mut samples: BTreeMap<&'static str, Vec<Duration>> = BTreeMap::new();
            let mut turn = 0usize;
            let mut next_episode = 0usize;
            while Instant::now() < deadline {
                let (kind, path, expect, post) = match turn {
                    t if t % 5 == 4 => (
                        "POST movie watched",
                        format!("/api/viewing/movies/{movie_id}/watched"),
                        201,
                        true,
                    ),
                    t if t % 3 == 2 => (
                        "GET progress",
                        format!("/api/viewing/progress/{show_id}"),
                        200,
                        false,
                    ),
                    t if t % 7 == 6 => (
                        "GET history",
                        "/api/viewing/history?limit=20".to_owned(),
                        200,
                        false,
                    ),
                    _ => {
                        next_episode += 1;
                        (
                            "POST episode watched",
                            format!(
                                "/api/viewing/episodes/{}/watched",
                                episodes[(next_episode - 1) % episodes.len()]
                            ),
                            201,
                            true,
                        )
                    }
                };
                let t0 = Instant::now();
                let r = if post {
                    api.post(&path, &json!({})).await
                } else {
                    api.get(&path).await
                };
                samples.entry(kind).or_default().push(t0.elapsed());
                if r.status != expect {
                    panic!("{kind} {path}: {} {}", r.status, r.text);
                }
                turn += 1;
            }
            samples
        }));
    }
    let mut all: BTreeMap<&'static str, Vec<Duration>> = BTreeMap::new();
    for t in tasks {
        match t.await {
            Ok(samples) => {
                for (k, v) in samples {
                    all.entry(k).or_default().extend(v);
                }
            }
            Err(e) => {
                eprintln!("a user failed: {e}");
                std::process::exit(1);
            }
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let total: usize = all.values().map(Vec::len).sum();
    println!(
        "{users} users, {elapsed:.1} s: {total} requests, {:.0} requests/s",
        total as f64 / elapsed
    );
    for (kind, mut v) in all {
        v.sort();
        let p = |q: f64| v[((v.len() as f64 - 1.0) * q).round() as usize].as_secs_f64() * 1000.0;
        println!(
            "  {kind:<22} {:>7} requests  p50 {:>7.2} ms  p95 {:>7.2} ms  p99 {:>7.2} ms",
            v.len(),
            p(0.5),
            p(0.95),
            p(0.99)
        );
    }
}
