//! SPEC §3 "Idempotency" through the real binary, on SQLite and on PostgreSQL: a key is bound
//! to the user, the method, the path and the body; a repeat replays with
//! `Idempotent-Replayed: true` and records nothing; the key on another endpoint or with another
//! body is 422 `idempotency-key-reused`; only 2xx answers are kept, so a corrected retry runs;
//! a repeat while the first request runs is 409 `idempotency-in-flight` (PostgreSQL, where a
//! table lock can hold the first request); bad keys are 400.

use std::time::Duration;

use reqwest::header::HeaderValue;
use serde_json::{Value, json};
use sqlx::Connection as _;
use uuid::Uuid;
use viewing_tests::postgres::{Database, admin_url};
use viewing_tests::{Api, Options, Resp, Server, movie, server_bin, show};

fn start(database_url: Option<String>) -> Server {
    Server::start_with(
        &server_bin!(),
        Options {
            database_url,
            ..Options::default()
        },
    )
}

async fn keyed(api: &Api, path: &str, key: &str, body: &Value) -> Resp {
    api.send(
        api.request(reqwest::Method::POST, path)
            .header("idempotency-key", key)
            .json(body),
    )
    .await
}

async fn history_count(api: &Api) -> u64 {
    let h = api.get("/api/viewing/history").await;
    h.assert_status(200);
    h.body["totalItems"].as_u64().unwrap_or(u64::MAX)
}

/// Replays, and the two ways of reusing a key for another request.
async fn replays_and_reused_keys(server: &Server) {
    let m = movie("Heat", 170, &["crime"]);
    let other_movie = movie("Ronin", 122, &["crime"]);
    let s = show("Dark", "ended", &[3], 50);
    for fixture in [&m, &other_movie] {
        server.admin().put_movie(fixture).await.assert_status(200);
    }
    server.admin().put_show(&s).await.assert_status(200);
    let api = server.client(Uuid::new_v4());
    let watched = format!("/api/viewing/movies/{}/watched", m.id);
    let body = json!({ "viewingPlatform": "Netflix" });

    let first = keyed(&api, &watched, "replay-1", &body).await;
    first.assert_status(201);
    assert_eq!(first.header("idempotent-replayed"), None);
    let repeat = keyed(&api, &watched, "replay-1", &body).await;
    repeat.assert_status(201);
    assert_eq!(repeat.header("idempotent-replayed"), Some("true"));
    assert_eq!(repeat.body, first.body);
    assert_eq!(repeat.header("location"), first.header("location"));
    assert_eq!(
        repeat.header("content-type"),
        Some("application/json"),
        "{}",
        repeat.text
    );
    assert_eq!(history_count(&api).await, 1, "the repeat recorded nothing");

    // The same key on other endpoints: refused, never another endpoint's document.
    for path in [
        format!("/api/viewing/{}/abandon", m.id),
        format!("/api/viewing/movies/{}/watched", other_movie.id),
        format!("/api/viewing/episodes/{}/watched", s.episode(1, 1)),
    ] {
        let r = keyed(&api, &path, "replay-1", &body).await;
        assert_eq!(r.status, 422, "{path}: {}", r.text);
        r.assert_problem(422, "idempotency-key-reused");
        assert_eq!(r.header("idempotent-replayed"), None);
    }
    // The same endpoint with another body, even one that means almost the same.
    for other_body in [
        json!({ "viewingPlatform": "Hulu" }),
        json!({}),
        json!({ "viewingPlatform": "Netflix", "isRewatch": true }),
    ] {
        keyed(&api, &watched, "replay-1", &other_body)
            .await
            .assert_problem(422, "idempotency-key-reused");
    }
    assert_eq!(history_count(&api).await, 1, "no refused request recorded");
    let progress = api.progress(s.id).await;
    assert_ne!(
        progress.body["episodesWatched"], 1,
        "the episode was not recorded: {}",
        progress.text
    );
    // The refusals did not disturb the key: the first request still replays.
    let again = keyed(&api, &watched, "replay-1", &body).await;
    assert_eq!(again.body, first.body);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));

    // Another user's identical key is their own.
    let other = server.client(Uuid::new_v4());
    let theirs = keyed(&other, &watched, "replay-1", &body).await;
    theirs.assert_status(201);
    assert_eq!(theirs.header("idempotent-replayed"), None);
    assert_ne!(theirs.body["id"], first.body["id"]);
}

/// A 404, a 422 or a 409 is not kept: the corrected retry with the same key runs.
async fn errors_release_the_key(server: &Server) {
    let api = server.client(Uuid::new_v4());

    // 404: the movie is not in the catalog yet; once it is, the same request runs.
    let m = movie("Heat", 170, &["crime"]);
    let watched = format!("/api/viewing/movies/{}/watched", m.id);
    keyed(&api, &watched, "after-404", &json!({}))
        .await
        .assert_problem(404, "content-not-found");
    server.admin().put_movie(&m).await.assert_status(200);
    let ran = keyed(&api, &watched, "after-404", &json!({})).await;
    ran.assert_status(201);
    assert_eq!(ran.header("idempotent-replayed"), None);
    assert_eq!(history_count(&api).await, 1);
    let replayed = keyed(&api, &watched, "after-404", &json!({})).await;
    assert_eq!(replayed.header("idempotent-replayed"), Some("true"));
    assert_eq!(replayed.body, ran.body);

    // 422: a watch date far in the future; corrected (another body), the same key runs.
    let future = (chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339();
    keyed(&api, &watched, "after-422", &json!({ "watchDate": future }))
        .await
        .assert_problem(422, "validation-failed");
    let corrected = json!({ "watchDate": "2026-01-10T20:00:00Z" });
    let ran = keyed(&api, &watched, "after-422", &corrected).await;
    ran.assert_status(201);
    assert_eq!(ran.body["watchDate"], "2026-01-10T20:00:00Z");
    assert_eq!(history_count(&api).await, 2);
    // Now bound to the corrected request.
    keyed(&api, &watched, "after-422", &json!({ "watchDate": future }))
        .await
        .assert_problem(422, "idempotency-key-reused");

    // 409: an episode out of order; with markPreviousWatched the same key runs.
    let s = show("Dark", "ended", &[3], 50);
    server.admin().put_show(&s).await.assert_status(200);
    let ep = format!("/api/viewing/episodes/{}/watched", s.episode(1, 3));
    keyed(&api, &ep, "after-409", &json!({}))
        .await
        .assert_problem(409, "episode-out-of-order");
    keyed(
        &api,
        &ep,
        "after-409",
        &json!({ "markPreviousWatched": true }),
    )
    .await
    .assert_status(201);
    assert_eq!(api.progress(s.id).await.body["episodesWatched"], 3);
    assert_eq!(
        history_count(&api).await,
        5,
        "2 movies + E1, E2 backfilled + E3"
    );
}

/// 1 to 255 printable ASCII characters, else 400 and nothing runs; a keyed body over 64 KiB
/// is 413 as any other.
async fn bad_keys_and_oversized_bodies(server: &Server) {
    let m = movie("Heat", 170, &["crime"]);
    server.admin().put_movie(&m).await.assert_status(200);
    let api = server.client(Uuid::new_v4());
    let watched = format!("/api/viewing/movies/{}/watched", m.id);
    let header = |bytes: &[u8]| {
        HeaderValue::from_bytes(bytes).unwrap_or_else(|e| panic!("header {bytes:?}: {e}"))
    };
    let bad = [
        ("256 characters", header("k".repeat(256).as_bytes())),
        ("non-ASCII (UTF-8)", header("clé-1".as_bytes())),
        ("non-ASCII (Latin-1)", header(b"cl\xe9-1")),
        ("empty", header(b"")),
        ("a tab", header(b"a\tb")),
    ];
    for (what, value) in bad {
        let r = api
            .send(
                api.request(reqwest::Method::POST, &watched)
                    .header("idempotency-key", value)
                    .json(&json!({})),
            )
            .await;
        assert_eq!(r.status, 400, "{what}: {}", r.text);
        r.assert_problem(400, "malformed-request");
    }
    assert_eq!(history_count(&api).await, 0, "a bad key runs nothing");
    // The key's body is read to digest it, under the same 64 KiB limit as everywhere.
    let huge = format!("{{\"viewingLocation\": \"{}\"}}", "x".repeat(70 * 1024));
    let r = api
        .send(
            api.request(reqwest::Method::POST, &watched)
                .header("idempotency-key", "huge-1")
                .header("content-type", "application/json")
                .body(huge),
        )
        .await;
    r.assert_problem(413, "payload-too-large");
    // The limits themselves are fine: 255 characters, any printable ASCII, spaces inside.
    let longest = "k".repeat(255);
    keyed(&api, &watched, &longest, &json!({}))
        .await
        .assert_status(201);
    keyed(&api, &watched, "a key ~!@#$%^&*()", &json!({}))
        .await
        .assert_status(201);
    assert_eq!(history_count(&api).await, 2);
}

/// One `#[tokio::test]` per store for each scenario: a fresh SQLite file, and a fresh
/// PostgreSQL database (when `VIEWING_TEST_POSTGRES_URL` is set; always under `CI=true`).
macro_rules! on_both_stores {
    ($($scenario:ident => $sqlite:ident, $postgres:ident;)*) => {$(
        #[tokio::test]
        async fn $sqlite() {
            $scenario(&start(None)).await;
        }

        #[tokio::test]
        async fn $postgres() {
            let Some(admin) = admin_url() else {
                return;
            };
            let db = Database::create(&admin).await;
            $scenario(&start(Some(db.url.clone()))).await;
        }
    )*};
}

on_both_stores! {
    replays_and_reused_keys => replays_and_reused_keys_on_sqlite,
        replays_and_reused_keys_on_postgresql;
    errors_release_the_key => errors_release_the_key_on_sqlite,
        errors_release_the_key_on_postgresql;
    bad_keys_and_oversized_bodies => bad_keys_and_oversized_bodies_on_sqlite, bad_keys_and_oversized_bodies_on_postgresql;
}

/// While a first request is held inside its unit of work (the catalog table is locked from
/// outside), a repeat with its key is 409 `idempotency-in-flight` with `Retry-After`, another
/// request with it 422; once the first answers, the repeat replays it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeat_while_the_first_runs_is_409_on_postgresql() {
    let Some(admin) = admin_url() else {
        return;
    };
    let db = Database::create(&admin).await;
    let server = start(Some(db.url.clone()));
    let m = movie("Heat", 170, &["crime"]);
    server.admin().put_movie(&m).await.assert_status(200);
    let api = server.client(Uuid::new_v4());
    let watched = format!("/api/viewing/movies/{}/watched", m.id);
    let body = json!({ "viewingPlatform": "Netflix" });

    let mut blocker = sqlx::PgConnection::connect(&db.url)
        .await
        .unwrap_or_else(|e| panic!("connect: {e}"));
    sqlx::query("BEGIN")
        .execute(&mut blocker)
        .await
        .unwrap_or_else(|e| panic!("begin: {e}"));
    sqlx::query("LOCK TABLE movies IN ACCESS EXCLUSIVE MODE")
        .execute(&mut blocker)
        .await
        .unwrap_or_else(|e| panic!("lock: {e}"));

    let first = tokio::spawn({
        let (api, watched, body) = (api.clone(), watched.clone(), body.clone());
        async move { keyed(&api, &watched, "held", &body).await }
    });
    // Wait until the first request holds its claim (it then blocks on the catalog).
    let mut watcher = sqlx::PgConnection::connect(&db.url)
        .await
        .unwrap_or_else(|e| panic!("connect: {e}"));
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (claims,): (i64,) = sqlx::query_as(
            "SELECT count(*) FROM idempotency_keys \
             WHERE idempotency_key = 'held' AND completed_at IS NULL",
        )
        .fetch_one(&mut watcher)
        .await
        .unwrap_or_else(|e| panic!("count claims: {e}"));
        if claims == 1 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the first request never claimed its key"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let repeat = keyed(&api, &watched, "held", &body).await;
    repeat.assert_problem(409, "idempotency-in-flight");
    assert_eq!(repeat.header("retry-after"), Some("1"));
    keyed(&api, &watched, "held", &json!({}))
        .await
        .assert_problem(422, "idempotency-key-reused");
    assert!(!first.is_finished(), "the first request is still held");

    sqlx::query("ROLLBACK")
        .execute(&mut blocker)
        .await
        .unwrap_or_else(|e| panic!("unlock: {e}"));
    let first = tokio::time::timeout(Duration::from_secs(20), first)
        .await
        .unwrap_or_else(|_| panic!("the first request never finished"))
        .unwrap_or_else(|e| panic!("first request task: {e}"));
    first.assert_status(201);
    let replay = keyed(&api, &watched, "held", &body).await;
    replay.assert_status(201);
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    assert_eq!(replay.body, first.body);
    assert_eq!(history_count(&api).await, 1);
}
