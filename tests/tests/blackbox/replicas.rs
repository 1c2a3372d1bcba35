//! Two `viewing-server` processes on one PostgreSQL database, each relaying the shared outbox
//! to NATS JetStream and to its handlers, while the same users write through both at once:
//! every event reaches the stream exactly once and every handler effect is applied once; and
//! one process's cached reads see a write made through the other at once.
//! Runs when VIEWING_TEST_POSTGRES_URL (and, for the first, VIEWING_TEST_NATS_URL) is set
//! (always under CI=true).

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use serde_json::{Value, json};
use sqlx::Connection as _;
use uuid::Uuid;
use viewing_tests::postgres::{Database, admin_url};
use viewing_tests::{Options, Server, movie, server_bin, show};

const USERS: usize = 4;
const EPISODES: usize = 10;
const MOVIE_WATCHES: usize = 3;

fn replica(database_url: &str, nats_url: &str) -> Server {
    Server::start_with(
        &server_bin!(),
        Options {
            database_url: Some(database_url.to_owned()),
            env: vec![("VIEWING_NATS_URL".into(), nats_url.to_owned())],
            ..Options::default()
        },
    )
}

/// Waits until the shared outbox has nothing left for either channel, twice in a row (the
/// handlers append `AchievementUnlocked` events of their own while they work).
async fn wait_drained(conn: &mut sqlx::PgConnection) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let mut quiet = 0;
    while quiet < 2 {
        let (pending,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL OR broker_delivered_at IS NULL",
        )
        .fetch_one(&mut *conn)
        .await
        .unwrap_or_else(|e| panic!("outbox backlog: {e}"));
        quiet = if pending == 0 { quiet + 1 } else { 0 };
        assert!(
            std::time::Instant::now() < deadline,
            "the outbox never drained: {pending} pending"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_share_the_outbox_and_apply_every_event_once() {
    let Some(admin) = admin_url() else {
        return;
    };
    let Some(nats_url) = viewing_tests::nats::test_url() else {
        return;
    };
    let js = async_nats::jetstream::new(
        async_nats::connect(nats_url.as_str())
            .await
            .unwrap_or_else(|e| panic!("VIEWING_TEST_NATS_URL={nats_url}: {e}")),
    );
    let after = match js.get_stream("VIEWING_EVENTS").await {
        Ok(stream) => stream
            .get_info()
            .await
            .map(|i| i.state.last_sequence)
            .unwrap_or(0),
        Err(_) => 0,
    };
    let db = Database::create(&admin).await;
    let a = replica(&db.url, &nats_url);
    let b = replica(&db.url, &nats_url);

    let m = movie("Heat", 170, &["crime"]);
    let s = show("Dark", "ended", &[EPISODES], 50);
    a.admin().put_movie(&m).await.assert_status(200);
    b.admin().put_show(&s).await.assert_status(200);

    // Each user alternates between the replicas, and every user writes at the same time.
    let users: Vec<Uuid> = (0..USERS).map(|_| Uuid::new_v4()).collect();
    let mut writers = Vec::new();
    for (i, &user) in users.iter().enumerate() {
        let apis = [a.client(user), b.client(user)];
        let episodes: Vec<Uuid> = (1..=EPISODES).map(|e| s.episode(1, e)).collect();
        let movie_id = m.id;
        writers.push(tokio::spawn(async move {
            for (n, episode) in episodes.into_iter().enumerate() {
                let api = &apis[(n + i) % 2];
                api.watch_episode(episode, &json!({}))
                    .await
                    .assert_status(201);
                if n < MOVIE_WATCHES {
                    apis[(n + i + 1) % 2]
                        .watch_movie(movie_id, &json!({}))
                        .await
                        .assert_status(201);
                }
            }
        }));
    }
    for w in writers {
        w.await.unwrap_or_else(|e| panic!("writer: {e}"));
    }
    // The outbox of these users, from the database both replicas share.
    let mut conn = sqlx::PgConnection::connect(&db.url)
        .await
        .unwrap_or_else(|e| panic!("connect: {e}"));
    wait_drained(&mut conn).await;
    let rows: Vec<(Uuid, Uuid, String)> =
        sqlx::query_as("SELECT event_id, user_id, event_type FROM outbox ORDER BY seq")
            .fetch_all(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("outbox: {e}"));
    let outbox: HashSet<Uuid> = rows.iter().map(|r| r.0).collect();
    assert_eq!(outbox.len(), rows.len());
    let per_user_episode_events = rows.iter().filter(|r| r.2 == "TVEpisodeWatched").count();
    assert_eq!(per_user_episode_events, USERS * EPISODES);

    // Every one of them is in the stream exactly once (and nothing else of these users).
    let stream = js
        .get_stream("VIEWING_EVENTS")
        .await
        .unwrap_or_else(|e| panic!("stream VIEWING_EVENTS: {e}"));
    let last = stream
        .get_info()
        .await
        .map(|i| i.state.last_sequence)
        .unwrap_or_else(|e| panic!("stream info: {e}"));
    let ours: HashSet<String> = users.iter().map(Uuid::to_string).collect();
    let mut seen: HashMap<Uuid, usize> = HashMap::new();
    for seq in after + 1..=last {
        let Ok(msg) = stream.get_raw_message(seq).await else {
            continue;
        };
        let envelope: Value = serde_json::from_slice(&msg.payload).unwrap_or_default();
        if envelope["userId"]
            .as_str()
            .is_some_and(|u| ours.contains(u))
        {
            let id = envelope["eventId"]
                .as_str()
                .and_then(|s| Uuid::parse_str(s).ok())
                .unwrap_or_else(|| panic!("no eventId in {envelope}"));
            *seen.entry(id).or_default() += 1;
        }
    }
    assert!(
        seen.values().all(|&n| n == 1),
        "an event reached the stream twice"
    );
    let published: HashSet<Uuid> = seen.keys().copied().collect();
    assert_eq!(published, outbox, "the stream holds exactly the outbox");

    // Each handler applied each event once: statistics equal the records, achievements once.
    for &user in &users {
        let stats = a.client(user).statistics("?period=all").await;
        stats.assert_status(200);
        let st = &stats.body;
        assert_eq!(st["episodes"], EPISODES, "{st}");
        assert_eq!(st["movies"], MOVIE_WATCHES, "{st}");
        assert_eq!(st["rewatches"], MOVIE_WATCHES - 1, "{st}");
        assert_eq!(
            st["totalMinutes"],
            EPISODES * 50 + MOVIE_WATCHES * 170,
            "{st}"
        );
        assert_eq!(st["seasonsCompleted"], 1, "{st}");
        assert_eq!(st["showsCompleted"], 1, "{st}");
        let unlocked = rows
            .iter()
            .filter(|r| r.1 == user && r.2 == "AchievementUnlocked")
            .count();
        let listed = b.client(user).get("/api/viewing/achievements").await;
        let codes: Vec<Value> = listed.body["items"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .map(|i| i["code"].clone())
            .collect();
        assert_eq!(
            codes.len(),
            unlocked,
            "one AchievementUnlocked per achievement"
        );
        assert!(codes.contains(&json!("first-movie")), "{codes:?}");
        assert!(codes.contains(&json!("first-show-completed")), "{codes:?}");
    }
    let _ = conn.close().await;
    drop((a, b));
}

/// Two `viewing-server` processes on one PostgreSQL database, without a broker: progress, the
/// up-next list and history read (and cached) through `a` show a watch or an abandon made
/// through `b` at the very next read (SPEC §14: a cache never serves a progress older than the
/// user's last acknowledged write).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replicas_cached_reads_see_a_write_made_through_the_other() {
    let Some(admin) = admin_url() else {
        return;
    };
    let db = Database::create(&admin).await;
    let start = || {
        Server::start_with(
            &server_bin!(),
            Options {
                database_url: Some(db.url.clone()),
                ..Options::default()
            },
        )
    };
    let (a, b) = (start(), start());
    let s = show("Dark", "ended", &[EPISODES], 50);
    a.admin().put_show(&s).await.assert_status(200);
    let user = Uuid::new_v4();
    let (on_a, on_b) = (a.client(user), b.client(user));
    on_a.watch_episode(s.episode(1, 1), &json!({}))
        .await
        .assert_status(201);
    let reads = |expected: u64, next: u64| {
        let on_a = &on_a;
        async move {
            // Twice: the second read is served from a's cache.
            for _ in 0..2 {
                let p = on_a.progress(s.id).await;
                p.assert_status(200);
                assert_eq!(p.body["episodesWatched"], expected);
                let up = on_a.get("/api/viewing/progress").await;
                assert_eq!(up.body["items"][0]["nextEpisode"]["episodeNumber"], next);
                let h = on_a.get("/api/viewing/history").await;
                assert_eq!(h.body["totalItems"], expected);
            }
        }
    };
    reads(1, 2).await;
    on_b.watch_episode(s.episode(1, 2), &json!({}))
        .await
        .assert_status(201);
    reads(2, 3).await;
    on_b.post(&format!("/api/viewing/{}/abandon", s.id), &json!({}))
        .await
        .assert_status(201);
    assert_eq!(on_a.progress(s.id).await.body["status"], "dropped");
    assert_eq!(
        on_a.get("/api/viewing/progress").await.body["items"],
        json!([])
    );
}
