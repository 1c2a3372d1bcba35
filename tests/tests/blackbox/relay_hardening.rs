//! The relay never stalls (SPEC §9), through the real binary on SQLite and PostgreSQL:
//!
//! - killed with SIGKILL in the middle of a write burst, while its relay holds a claim, the
//!   restarted server has delivered everything within 10 s (short leases, not 60 s);
//! - an outbox row whose payload cannot be read is parked as a dead letter: the same user's
//!   later events and other users' events flow, `GET /api/admin/dead-letters` lists it (admin
//!   only), `/metrics` counts it, and `POST …/retry` makes it due again — parked again while
//!   still bad, delivered once fixed in the database.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;
use viewing_tests::postgres::{Database, admin_url};
use viewing_tests::{Options, Server, movie, server_bin};

/// The server's database, opened by the test beside the server.
enum Db {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl Db {
    async fn open(url: &str) -> Self {
        if url.starts_with("sqlite:") {
            Db::Sqlite(
                sqlx::SqlitePool::connect(url)
                    .await
                    .unwrap_or_else(|e| panic!("open {url}: {e}")),
            )
        } else {
            Db::Postgres(
                sqlx::PgPool::connect(url)
                    .await
                    .unwrap_or_else(|e| panic!("open {url}: {e}")),
            )
        }
    }

    /// Outbox events not delivered to the handlers (dead letters included).
    async fn undelivered(&self) -> i64 {
        let sql = "SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL";
        match self {
            Db::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await,
            Db::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await,
        }
        .unwrap_or_else(|e| panic!("count undelivered: {e}"))
    }

    /// Undelivered events whose handlers' lease has not run out yet.
    async fn live_claims(&self) -> i64 {
        match self {
            Db::Sqlite(p) => {
                sqlx::query_scalar(
                    "SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL \
                 AND claimed_until > strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
                )
                .fetch_one(p)
                .await
            }
            Db::Postgres(p) => sqlx::query_scalar(
                "SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL AND claimed_until > now()",
            )
            .fetch_one(p)
            .await,
        }
        .unwrap_or_else(|e| panic!("count live claims: {e}"))
    }

    /// Appends an outbox row for `user` whose payload is `payload`, as a bug or another build
    /// could have written it.
    async fn insert_event(&self, event: Uuid, user: Uuid, payload: &str) {
        let now = chrono::Utc::now();
        match self {
            Db::Sqlite(p) => sqlx::query(
                "INSERT INTO outbox (event_id, user_id, event_type, occurred_at, payload, \
                 next_attempt_at) VALUES (?, ?, 'MovieWatched', ?, ?, ?)",
            )
            .bind(event.to_string())
            .bind(user.to_string())
            .bind(now.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string())
            .bind(payload)
            .bind(now.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string())
            .execute(p)
            .await
            .map(drop),
            Db::Postgres(p) => sqlx::query(
                "INSERT INTO outbox (event_id, user_id, event_type, occurred_at, payload, \
                 next_attempt_at) VALUES ($1, $2, 'MovieWatched', $3, $4, $3)",
            )
            .bind(event)
            .bind(user)
            .bind(now)
            .bind(payload)
            .execute(p)
            .await
            .map(drop),
        }
        .unwrap_or_else(|e| panic!("insert a poisoned outbox row: {e}"));
    }

    async fn set_payload(&self, event: Uuid, payload: &str) {
        match self {
            Db::Sqlite(p) => sqlx::query("UPDATE outbox SET payload = ? WHERE event_id = ?")
                .bind(payload)
                .bind(event.to_string())
                .execute(p)
                .await
                .map(drop),
            Db::Postgres(p) => sqlx::query("UPDATE outbox SET payload = $1 WHERE event_id = $2")
                .bind(payload)
                .bind(event)
                .execute(p)
                .await
                .map(drop),
        }
        .unwrap_or_else(|e| panic!("fix the outbox payload: {e}"));
    }
}

fn options(database_url: &str) -> Options {
    Options {
        database_url: Some(database_url.to_owned()),
        // No rate limit in the way of the writers.
        env: vec![
            ("VIEWING_RATE_LIMIT_PER_MIN".into(), "100000".into()),
            ("VIEWING_RATE_LIMIT_BURST".into(), "10000".into()),
        ],
        ..Options::default()
    }
}

/// `/metrics` value of `name` (with its labels), 0 when absent.
async fn metric(server: &Server, name: &str) -> f64 {
    let text = server.anonymous().get("/metrics").await.text;
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|v| v.trim().parse().ok()))
        .unwrap_or(0.0)
}

const WRITERS: usize = 6;
const WATCHES: usize = 40;

/// Starts the server, has writers hammer it and kills it with SIGKILL at a moment its relay
/// holds a claim. Returns the users and the watches acknowledged, or `None` when the relay
/// held no claim any more once the process was dead (the caller tries again).
async fn burst_and_kill_while_claimed(database_url: &str) -> Option<(Vec<Uuid>, Vec<Uuid>)> {
    let mut server = Server::start_with(&server_bin!(), options(database_url));
    let db = Db::open(database_url).await;
    let m = movie("Heat", 170, &["crime"]);
    server.admin().put_movie(&m).await.assert_status(200);
    let acked: Arc<Mutex<Vec<Uuid>>> = Arc::default();
    let users: Vec<Uuid> = (0..WRITERS).map(|_| Uuid::new_v4()).collect();
    let mut writers = Vec::new();
    for user in &users {
        let (api, acked, user, movie_id) = (server.client(*user), acked.clone(), *user, m.id);
        writers.push(tokio::spawn(async move {
            for _ in 0..WATCHES {
                let path = format!("/api/viewing/movies/{movie_id}/watched");
                let Ok(r) = api
                    .request(Method::POST, &path)
                    .json(&json!({}))
                    .send()
                    .await
                else {
                    break;
                };
                if r.status() != StatusCode::CREATED {
                    break;
                }
                acked.lock().unwrap_or_else(|p| p.into_inner()).push(user);
            }
        }));
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while db.live_claims().await == 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    server.kill_9();
    for w in writers {
        let _ = w.await;
    }
    let claimed = db.live_claims().await;
    eprintln!(
        "killed with {} events undelivered, {claimed} of them leased",
        db.undelivered().await
    );
    let acked = acked.lock().unwrap_or_else(|p| p.into_inner()).clone();
    (claimed > 0).then_some((users, acked))
}

async fn delivery_resumes_within_10_s_after_sigkill(database_url: &str) {
    let mut killed = None;
    for _ in 0..5 {
        killed = burst_and_kill_while_claimed(database_url).await;
        if killed.is_some() {
            break;
        }
    }
    let (users, acked) = killed.expect("the server was never killed while its relay held a claim");
    let db = Db::open(database_url).await;

    let restarted = Instant::now();
    let server = Server::start_with(&server_bin!(), options(database_url));
    loop {
        let left = db.undelivered().await;
        if left == 0 {
            break;
        }
        assert!(
            restarted.elapsed() < Duration::from_secs(10),
            "{left} events still undelivered 10 s after the restart"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The statistics count every watch that was recorded, acknowledged or not.
    for user in &users {
        let api = server.client(*user);
        let history = api.get("/api/viewing/history?limit=100").await;
        history.assert_status(200);
        let recorded = history.body["items"].as_array().map_or(0, Vec::len);
        let acknowledged = acked.iter().filter(|u| *u == user).count();
        assert!(recorded >= acknowledged, "{recorded} < {acknowledged}");
        let stats = api.statistics("?period=all").await;
        stats.assert_status(200);
        assert_eq!(
            stats.body["totalWatched"].as_u64(),
            Some(recorded as u64),
            "statistics caught up with the history of {user}"
        );
    }
    assert!(
        restarted.elapsed() < Duration::from_secs(10),
        "caught up, but only after {:?}",
        restarted.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn delivery_resumes_within_10_s_after_sigkill_on_sqlite() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let url = format!("sqlite://{}", dir.path().join("relay.db").display());
    delivery_resumes_within_10_s_after_sigkill(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn delivery_resumes_within_10_s_after_sigkill_on_postgresql() {
    let Some(admin) = admin_url() else {
        return;
    };
    let db = Database::create(&admin).await;
    delivery_resumes_within_10_s_after_sigkill(&db.url).await;
}

/// Polls `GET /api/admin/dead-letters` until `check` holds, at most 10 s.
async fn wait_dead_letters(server: &Server, check: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let r = server.admin().get("/api/admin/dead-letters").await;
        r.assert_status(200);
        let items = r.body["items"].as_array().cloned().unwrap_or_default();
        if check(&items) {
            return items;
        }
        assert!(
            Instant::now() < deadline,
            "dead letters never matched: {}",
            r.text
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn wait_metric(server: &Server, name: &str, value: f64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while metric(server, name).await != value {
        assert!(
            Instant::now() < deadline,
            "{name} never became {value}: {}",
            server.anonymous().get("/metrics").await.text
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn a_poisoned_event_is_parked_listed_counted_and_retried(database_url: &str) {
    let server = Server::start_with(&server_bin!(), options(database_url));
    let db = Db::open(database_url).await;
    let m = movie("Heat", 170, &["crime"]);
    server.admin().put_movie(&m).await.assert_status(200);
    let (alice, bob) = (Uuid::new_v4(), Uuid::new_v4());
    let (a, b) = (server.client(alice), server.client(bob));
    a.watch_movie(m.id, &json!({})).await.assert_status(201);
    a.wait_statistics("?period=all", |s| s["totalWatched"] == 1)
        .await;

    // Alice's next event in the outbox cannot be read; her later watch and Bob's still count.
    let poisoned = Uuid::now_v7();
    let garbage = "{\"eventId\": this is not an envelope";
    db.insert_event(poisoned, alice, garbage).await;
    a.watch_movie(m.id, &json!({})).await.assert_status(201);
    b.watch_movie(m.id, &json!({})).await.assert_status(201);
    a.wait_statistics("?period=all", |s| s["totalWatched"] == 2)
        .await;
    b.wait_statistics("?period=all", |s| s["totalWatched"] == 1)
        .await;

    let items = wait_dead_letters(&server, |items| items.len() == 1).await;
    let d = &items[0];
    assert_eq!(d["eventId"], poisoned.to_string());
    assert_eq!(d["channel"], "handlers");
    assert_eq!(d["userId"], alice.to_string());
    assert_eq!(d["eventType"], "MovieWatched");
    assert_eq!(d["attempts"], 1);
    assert_eq!(d["payload"], garbage);
    assert!(
        d["lastError"]
            .as_str()
            .is_some_and(|e| e.starts_with("undecodable payload")),
        "{d}"
    );
    assert!(d["parkedAt"].is_string());
    wait_metric(
        &server,
        "viewing_outbox_dead_letters{channel=\"handlers\"}",
        1.0,
    )
    .await;

    // Admin only, and authorization comes before the path.
    let retry = |id: &str| format!("/api/admin/dead-letters/{id}/retry");
    a.get("/api/admin/dead-letters")
        .await
        .assert_problem(403, "forbidden");
    a.post(&retry(&poisoned.to_string()), &json!({}))
        .await
        .assert_problem(403, "forbidden");
    a.post(&retry("not-a-uuid"), &json!({}))
        .await
        .assert_problem(403, "forbidden");
    server
        .anonymous()
        .get("/api/admin/dead-letters")
        .await
        .assert_problem(401, "unauthorized");
    let admin = server.admin();
    admin
        .post(&retry("not-a-uuid"), &json!({}))
        .await
        .assert_problem(400, "malformed-request");
    admin
        .post(&retry(&Uuid::now_v7().to_string()), &json!({}))
        .await
        .assert_problem(404, "not-found");

    // A retry of a payload still bad: due again, parked again.
    let r = admin.post(&retry(&poisoned.to_string()), &json!({})).await;
    r.assert_status(202);
    assert_eq!(r.body["eventId"], poisoned.to_string());
    assert_eq!(r.body["retried"][0]["attempts"], 1);
    assert_eq!(r.body["retried"][0]["channel"], "handlers");
    wait_dead_letters(&server, |items| {
        items.len() == 1 && items[0]["parkedAt"] != d["parkedAt"]
    })
    .await;

    // Fixed in the database (an envelope of the build before schemaVersion), then retried:
    // delivered, counted, off the list.
    let fixed = json!({
        "eventId": poisoned,
        "occurredAt": chrono::Utc::now().to_rfc3339(),
        "userId": alice,
        "eventType": "MovieWatched",
        "payload": {
            "movieId": m.id, "recordId": Uuid::now_v7(),
            "watchDate": chrono::Utc::now().to_rfc3339(),
            "viewingLocation": null, "viewingPlatform": null, "watchedWith": [],
            "viewingContext": null, "isRewatch": true, "viewingDuration": null
        }
    });
    db.set_payload(poisoned, &fixed.to_string()).await;
    admin
        .post(&retry(&poisoned.to_string()), &json!({}))
        .await
        .assert_status(202);
    a.wait_statistics("?period=all", |s| s["totalWatched"] == 3)
        .await;
    wait_dead_letters(&server, <[Value]>::is_empty).await;
    wait_metric(
        &server,
        "viewing_outbox_dead_letters{channel=\"handlers\"}",
        0.0,
    )
    .await;
    admin
        .post(&retry(&poisoned.to_string()), &json!({}))
        .await
        .assert_problem(404, "not-found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poisoned_event_is_parked_listed_counted_and_retried_on_sqlite() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let url = format!("sqlite://{}", dir.path().join("poison.db").display());
    a_poisoned_event_is_parked_listed_counted_and_retried(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poisoned_event_is_parked_listed_counted_and_retried_on_postgresql() {
    let Some(admin) = admin_url() else {
        return;
    };
    let db = Database::create(&admin).await;
    a_poisoned_event_is_parked_listed_counted_and_retried(&db.url).await;
}
