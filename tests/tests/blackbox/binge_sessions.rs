//! `GET /api/viewing/binge-sessions/{sessionId}` (SPEC §5, §15): the caller's own binge
//! session as its records built it, on SQLite and on PostgreSQL. Another user's session and an
//! unknown id are 404, an id that is not a UUID is 400, both problem+json.

use serde_json::{Value, json};
use uuid::Uuid;
use viewing_tests::postgres;
use viewing_tests::{Server, at, server_bin, show};

const T0: &str = "2026-01-10T20:00:00Z";

fn session_path(id: &Value) -> String {
    format!(
        "/api/viewing/binge-sessions/{}",
        id.as_str().unwrap_or_default()
    )
}

async fn binge_session_is_read_back(server: &Server) {
    let s = show("Dark", "ended", &[4], 50);
    server.admin().put_show(&s).await.assert_status(200);
    let alice = server.client(Uuid::new_v4());
    let bob = server.client(Uuid::new_v4());

    alice
        .watch_episode(s.episode(1, 1), &json!({ "watchDate": at(T0, 0) }))
        .await
        .assert_status(201);
    let e2 = alice
        .watch_episode(s.episode(1, 2), &json!({ "watchDate": at(T0, 50) }))
        .await;
    e2.assert_status(201);
    let id = e2.body["bingeSessionId"].clone();
    assert!(id.is_string(), "{}", e2.text);

    let read = alice.get(&session_path(&id)).await;
    read.assert_status(200);
    let created_at = read.body["createdAt"].clone();
    assert!(created_at.is_string(), "{}", read.text);
    assert_eq!(
        read.body,
        json!({
            "id": id,
            "showId": s.id,
            "startTime": T0,
            "endTime": at(T0, 50),
            "episodesWatched": 2,
            "createdAt": created_at,
        })
    );

    // A third episode extends it.
    alice
        .watch_episode(s.episode(1, 3), &json!({ "watchDate": at(T0, 100) }))
        .await
        .assert_status(201);
    let read = alice.get(&session_path(&id)).await;
    read.assert_status(200);
    assert_eq!(read.body["endTime"], at(T0, 100));
    assert_eq!(read.body["episodesWatched"], 3);
    assert_eq!(read.body["createdAt"], created_at);

    // Only the caller's own: another user's session is 404, like one that does not exist.
    bob.get(&session_path(&id))
        .await
        .assert_problem(404, "not-found");
    alice
        .get(&format!("/api/viewing/binge-sessions/{}", Uuid::new_v4()))
        .await
        .assert_problem(404, "not-found");
    alice
        .get("/api/viewing/binge-sessions/not-a-uuid")
        .await
        .assert_problem(400, "malformed-request");
    server
        .anonymous()
        .get(&session_path(&id))
        .await
        .assert_problem(401, "unauthorized");
}

#[tokio::test]
async fn binge_session_on_sqlite() {
    let server = Server::start(&server_bin!());
    binge_session_is_read_back(&server).await;
}

#[tokio::test]
async fn binge_session_on_postgresql() {
    let Some((server, _db)) = postgres::start_server(&server_bin!()).await else {
        return;
    };
    binge_session_is_read_back(&server).await;
}
