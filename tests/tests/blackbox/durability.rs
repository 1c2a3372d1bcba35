//! An acknowledged write survives `kill -9`: writers hammer the real server, it is killed with
//! SIGKILL mid-flight, restarted on the same database, and every record it answered 201 for is
//! there, unchanged — on the SQLite file and on PostgreSQL.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;
use viewing_tests::postgres::{Database, admin_url};
use viewing_tests::{Options, Server, movie, server_bin, show};

const WRITERS: usize = 6;
const KILL_AFTER_ACKS: usize = 60;

fn start(database_url: &str) -> Server {
    Server::start_with(
        &server_bin!(),
        Options {
            database_url: Some(database_url.to_owned()),
            // No rate limit in the way of the writers.
            env: vec![
                ("VIEWING_RATE_LIMIT_PER_MIN".into(), "100000".into()),
                ("VIEWING_RATE_LIMIT_BURST".into(), "10000".into()),
            ],
            ..Options::default()
        },
    )
}

async fn acknowledged_writes_survive_sigkill(database_url: &str) {
    let mut server = start(database_url);
    let m = movie("Heat", 170, &["crime"]);
    let s = show("Dark", "ended", &[10, 10, 10], 50);
    server.admin().put_movie(&m).await.assert_status(200);
    server.admin().put_show(&s).await.assert_status(200);

    // (user, acknowledged body) of every 201.
    let acked: Arc<Mutex<Vec<(Uuid, Value)>>> = Arc::new(Mutex::new(Vec::new()));
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let user = Uuid::new_v4();
        let api = server.client(user);
        let acked = acked.clone();
        let episodes: Vec<Uuid> = (1..=3)
            .flat_map(|season| (1..=10).map(move |e| (season, e)))
            .map(|(season, e)| s.episode(season, e))
            .collect();
        let movie_id = m.id;
        writers.push(tokio::spawn(async move {
            for (i, episode) in episodes.into_iter().enumerate() {
                let (path, body) = if (i + w) % 3 == 0 {
                    (
                        format!("/api/viewing/movies/{movie_id}/watched"),
                        json!({ "viewingPlatform": "Netflix" }),
                    )
                } else {
                    (
                        format!("/api/viewing/episodes/{episode}/watched"),
                        json!({ "markPreviousWatched": true }),
                    )
                };
                // After the kill, requests fail: what was not acknowledged may be lost.
                let Ok(r) = api.request(Method::POST, &path).json(&body).send().await else {
                    break;
                };
                if r.status() != StatusCode::CREATED {
                    break;
                }
                let Ok(body) = r.json::<Value>().await else {
                    break;
                };
                acked
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push((user, body));
            }
        }));
    }
    for _ in 0..600 {
        if acked.lock().unwrap_or_else(|p| p.into_inner()).len() >= KILL_AFTER_ACKS {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server.kill_9();
    for w in writers {
        let _ = w.await;
    }
    let acked = acked.lock().unwrap_or_else(|p| p.into_inner()).clone();
    assert!(
        acked.len() >= KILL_AFTER_ACKS,
        "only {} writes were acknowledged before the kill",
        acked.len()
    );

    let server = start(database_url);
    for (user, body) in &acked {
        let id = body["id"].as_str().unwrap_or_default();
        let read = server
            .client(*user)
            .get(&format!("/api/viewing/records/{id}"))
            .await;
        read.assert_status(200);
        for field in [
            "id",
            "contentId",
            "watchDate",
            "isRewatch",
            "platform",
            "createdAt",
        ] {
            assert_eq!(read.body[field], body[field], "{field} of record {id}");
        }
    }
    // Progress is consistent with what survived: each user's first-time episodes are counted.
    for user in acked
        .iter()
        .map(|(u, _)| *u)
        .collect::<std::collections::HashSet<_>>()
    {
        let p = server.client(user).progress(s.id).await;
        p.assert_status(200);
        let acked_episodes = acked
            .iter()
            .filter(|(u, b)| *u == user && b["contentType"] == "episode")
            .count() as u64;
        let watched = p.body["episodesWatched"].as_u64().unwrap_or_default();
        assert!(
            watched >= acked_episodes,
            "progress lost acknowledged episodes: {watched} < {acked_episodes}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_writes_survive_sigkill_on_sqlite() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let url = format!("sqlite://{}", dir.path().join("durable.db").display());
    acknowledged_writes_survive_sigkill(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_writes_survive_sigkill_on_postgresql() {
    let Some(admin) = admin_url() else {
        return;
    };
    let db = Database::create(&admin).await;
    acknowledged_writes_survive_sigkill(&db.url).await;
}
