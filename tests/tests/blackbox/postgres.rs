//! The same server on PostgreSQL (`DATABASE_URL=postgres://…`): the main paths end to end.
//! Runs when VIEWING_TEST_POSTGRES_URL is set (always under CI=true).

use serde_json::json;
use uuid::Uuid;
use viewing_tests::postgres::{Database, admin_url};
use viewing_tests::{Options, Server, movie, server_bin, show};

#[tokio::test]
async fn the_api_on_postgresql() {
    let Some(admin) = admin_url() else {
        return;
    };
    let db = Database::create(&admin).await;
    let server = Server::start_with(
        &server_bin!(),
        Options {
            database_url: Some(db.url.clone()),
            ..Options::default()
        },
    );
    server
        .anonymous()
        .get("/health/ready")
        .await
        .assert_status(200);
    let m = movie("Heat", 170, &["crime"]);
    let s = show("Dark", "ended", &[3, 2], 50);
    server.admin().put_movie(&m).await.assert_status(200);
    server.admin().put_show(&s).await.assert_status(200);
    let alice = server.client(Uuid::new_v4());
    let bob = server.client(Uuid::new_v4());

    let keyed = |key: &str| {
        alice
            .request(
                reqwest::Method::POST,
                &format!("/api/viewing/movies/{}/watched", m.id),
            )
            .header("idempotency-key", key)
            .json(&json!({ "viewingPlatform": "Netflix" }))
    };
    let first = alice.send(keyed("pg-1")).await;
    first.assert_status(201);
    let repeat = alice.send(keyed("pg-1")).await;
    assert_eq!(repeat.body, first.body);
    let location = first.header("location").unwrap_or_default().to_owned();
    let read = alice.get(&location).await;
    read.assert_status(200);
    assert_eq!(read.body, first.body);
    bob.get(&location).await.assert_problem(404, "not-found");

    alice
        .watch_episode(s.episode(1, 3), &json!({}))
        .await
        .assert_problem(409, "episode-out-of-order");
    let r = alice
        .watch_episode(
            s.episode(2, 2),
            &json!({ "markPreviousWatched": true, "overallRating": 8.0 }),
        )
        .await;
    r.assert_status(201);
    assert_eq!(r.body["showCompleted"], true);
    let p = alice.progress(s.id).await;
    assert_eq!(p.body["status"], "completed");
    assert_eq!(p.body["episodesWatched"], 5);

    alice
        .post(&format!("/api/viewing/{}/abandon", m.id), &json!({}))
        .await
        .assert_status(201);
    let h = alice.get("/api/viewing/history?limit=2").await;
    assert_eq!(h.body["totalItems"], 6);
    let cursor = h.body["nextCursor"].as_str().unwrap_or_default().to_owned();
    let next = alice
        .get(&format!("/api/viewing/history?limit=2&cursor={cursor}"))
        .await;
    next.assert_status(200);
    assert_eq!(next.body["items"].as_array().map(Vec::len), Some(2));
    let stats = alice
        .wait_statistics("?period=all", |st| {
            st["totalWatched"] == 6 && st["showsCompleted"] == 1 && st["abandoned"] == 1
        })
        .await;
    assert_eq!(stats["showsCompleted"], 1);
    assert_eq!(stats["abandoned"], 1);
    assert_eq!(bob.get("/api/viewing/history").await.body["totalItems"], 0);
    drop(server);
}
