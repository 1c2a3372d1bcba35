//! A user only ever reads and writes their own records: for every endpoint, another user's
//! data is invisible, and another user's ids answer 404 exactly like ids that do not exist.

use serde_json::json;
use uuid::Uuid;
use viewing_tests::{Server, at, movie, server_bin, show};

const T0: &str = "2026-01-10T20:00:00Z";

#[tokio::test]
async fn another_users_records_are_invisible_everywhere() {
    let server = Server::start(&server_bin!());
    let m = movie("Heat", 170, &["crime"]);
    let s = show("Dark", "ended", &[3], 50);
    server.admin().put_movie(&m).await.assert_status(200);
    server.admin().put_show(&s).await.assert_status(200);

    let alice = server.client(Uuid::new_v4());
    let bob = server.client(Uuid::new_v4());

    let movie_record = alice
        .watch_movie(m.id, &json!({ "watchDate": at(T0, 0) }))
        .await;
    movie_record.assert_status(201);
    alice
        .watch_episode(s.episode(1, 1), &json!({ "watchDate": at(T0, 200) }))
        .await
        .assert_status(201);
    let e2 = alice
        .watch_episode(s.episode(1, 2), &json!({ "watchDate": at(T0, 250) }))
        .await;
    e2.assert_status(201);
    let session = e2.body["bingeSessionId"].clone();
    assert!(session.is_string());
    let abandon = alice
        .post(
            &format!("/api/viewing/{}/abandon", m.id),
            &json!({ "abandonReason": "x" }),
        )
        .await;
    abandon.assert_status(201);

    // Single records: 404 `not-found`, the same answer as for an id nobody has.
    for location in [
        movie_record.header("location").unwrap_or_default(),
        e2.header("location").unwrap_or_default(),
        abandon.header("location").unwrap_or_default(),
    ] {
        let theirs = bob.get(location).await;
        theirs.assert_problem(404, "not-found");
        alice.get(location).await.assert_status(200);
    }
    let none = bob
        .get(&format!("/api/viewing/records/{}", Uuid::new_v4()))
        .await;
    none.assert_problem(404, "not-found");
    let theirs = bob
        .get(movie_record.header("location").unwrap_or_default())
        .await;
    assert_eq!(
        (theirs.body["title"].clone(), theirs.body["detail"].clone()),
        (none.body["title"].clone(), none.body["detail"].clone())
    );

    // Lists and aggregates are empty for Bob.
    let history = bob.get("/api/viewing/history").await;
    history.assert_status(200);
    assert_eq!(history.body["totalItems"], 0);
    assert_eq!(history.body["items"], json!([]));
    let progress = bob.progress(s.id).await;
    progress.assert_status(200);
    assert_eq!(progress.body["status"], "not_started");
    assert_eq!(progress.body["episodesWatched"], 0);
    assert_eq!(progress.body["lastWatched"], serde_json::Value::Null);
    assert_eq!(
        progress.body["nextEpisode"]["episodeId"],
        json!(s.episode(1, 1))
    );
    assert_eq!(
        bob.get("/api/viewing/progress").await.body["items"],
        json!([])
    );
    let stats = bob.statistics("?period=all").await;
    stats.assert_status(200);
    for field in [
        "totalWatched",
        "movies",
        "episodes",
        "abandoned",
        "bingeSessions",
    ] {
        assert_eq!(stats.body[field], 0, "{field}: {}", stats.text);
    }

    // Alice's binge session cannot be joined by Bob: 404, as if it did not exist.
    bob.watch_episode(s.episode(1, 1), &json!({ "bingeSessionId": session }))
        .await
        .assert_problem(404, "not-found");

    // Bob's own writes do not touch Alice's: his first viewing of the movie is not a rewatch,
    // and his order check only looks at his records.
    let his = bob.watch_movie(m.id, &json!({})).await;
    his.assert_status(201);
    assert_eq!(his.body["isRewatch"], false);
    bob.watch_episode(s.episode(1, 3), &json!({}))
        .await
        .assert_problem(409, "episode-out-of-order");

    // Alice still sees exactly her own.
    assert_eq!(
        alice.get("/api/viewing/history").await.body["totalItems"],
        3
    );
    let stats = alice
        .wait_statistics("?period=all", |s| {
            s["totalWatched"] == 3 && s["abandoned"] == 1
        })
        .await;
    assert_eq!(stats["abandoned"], 1);
    assert_eq!(alice.progress(s.id).await.body["episodesWatched"], 2);
    let up_next = alice.get("/api/viewing/progress").await;
    assert_eq!(up_next.body["items"][0]["showId"], json!(s.id));
}

#[tokio::test]
async fn the_user_is_always_the_tokens_subject() {
    let server = Server::start(&server_bin!());
    let m = movie("Heat", 170, &["crime"]);
    server.admin().put_movie(&m).await.assert_status(200);
    let alice_id = Uuid::new_v4();
    let alice = server.client(alice_id);
    let bob = server.client(Uuid::new_v4());
    // A user field in the body is an unknown field (422, SPEC §9): nobody's viewing is
    // recorded; one in the query is ignored.
    bob.watch_movie(m.id, &json!({ "userId": alice_id, "user": alice_id }))
        .await
        .assert_problem(422, "validation-failed");
    assert_eq!(bob.get("/api/viewing/history").await.body["totalItems"], 0);
    bob.watch_movie(m.id, &json!({})).await.assert_status(201);
    assert_eq!(
        alice.get("/api/viewing/history").await.body["totalItems"],
        0
    );
    let r = bob
        .get(&format!("/api/viewing/history?userId={alice_id}"))
        .await;
    assert_eq!(r.body["totalItems"], 1, "Bob's own history");
}
