//! The playback API (SPEC §13) through the binary, on SQLite and on PostgreSQL: start is now
//! watching, pause keeps the resume point, stop below the threshold is a pause and at it a play
//! with `origin: playback`, a chatty player's second stop is 409 with that play, a play an
//! episode's player reports skips the order check, items named by ids at other services, bad
//! bodies, another user's playback.

use serde_json::{Value, json};
use uuid::Uuid;
use viewing_tests::postgres::start_server;
use viewing_tests::{Api, Resp, Server, movie, server_bin, show};

async fn report(api: &Api, action: &str, body: Value) -> Resp {
    api.post(&format!("/api/playback/{action}"), &body).await
}

async fn plays(server: &Server) {
    let admin = server.admin();
    let mut dark = show("Dark", "ended", &[4], 50);
    dark.body["externalIds"] = json!({"tvdb": "334824"});
    admin.put_show(&dark).await.assert_status(200);
    let user = server.client(Uuid::new_v4());
    let e1 = dark.episode(1, 1);

    // Start: now watching; pause: listed with its resume point.
    let started = report(&user, "start", json!({"contentId": e1, "progress": 10})).await;
    started.assert_status(200);
    assert_eq!(started.body["state"], "watching");
    let now = user.get("/api/playback/now").await;
    assert_eq!(
        now.body["item"]["contentId"],
        e1.to_string(),
        "{}",
        now.text
    );
    let paused = report(&user, "pause", json!({"contentId": e1, "progress": 42.5})).await;
    paused.assert_status(200);
    assert_eq!(
        paused.body["id"], started.body["id"],
        "one playback per item"
    );
    let list = user.get("/api/playback").await;
    assert_eq!(list.body["items"][0]["progress"], 42.5, "{}", list.text);
    assert_eq!(
        user.get("/api/playback/now").await.body["item"],
        Value::Null
    );

    // Stop below the threshold: a pause; at it: a play, the paused entry gone.
    let below = report(&user, "stop", json!({"contentId": e1, "progress": 79.9})).await;
    below.assert_status(200);
    assert_eq!(below.body["action"], "pause");
    let stop_at_80 = || {
        user.request(reqwest::Method::POST, "/api/playback/stop")
            .header("idempotency-key", "stop-e1")
            .json(&json!({"contentId": e1, "progress": 80}))
    };
    let played = user.send(stop_at_80()).await;
    played.assert_status(201);
    // The player's retry with its Idempotency-Key gets the same answer, not a 409.
    let retried = user.send(stop_at_80()).await;
    retried.assert_status(201);
    assert_eq!(retried.header("idempotent-replayed"), Some("true"));
    assert_eq!(retried.body, played.body);
    assert_eq!(played.body["action"], "scrobble");
    assert_eq!(played.body["record"]["origin"], "playback");
    assert_eq!(user.get("/api/playback").await.body["items"], json!([]));
    // A second stop within the runtime: 409 with that play.
    let again = report(&user, "stop", json!({"contentId": e1, "progress": 100})).await;
    again.assert_problem(409, "duplicate-play");
    assert_eq!(again.body["record"]["id"], played.body["record"]["id"]);
    let history = user.get("/api/viewing/history").await;
    assert_eq!(history.body["items"].as_array().map(Vec::len), Some(1));

    // Episode 4 by the show's TheTVDB id and numbers: the player saw it, no order check.
    let by_numbers = report(
        &user,
        "stop",
        json!({"show": {"externalIds": {"tvdb": "334824"}}, "season": 1, "episode": 4, "progress": 95}),
    )
    .await;
    by_numbers.assert_status(201);
    assert_eq!(
        by_numbers.body["record"]["contentId"],
        dark.episode(1, 4).to_string()
    );

    // A movie's threshold is its own (90 % by default): 89.9 is a pause, 90 a play; 1 % is the
    // least a stop may say.
    let mut heat = movie("Heat", 170, &["crime"]);
    heat.body["externalIds"] = json!({"imdb": "tt0113277"});
    admin.put_movie(&heat).await.assert_status(200);
    let by_imdb =
        |progress: f64| json!({"externalIds": {"imdb": "tt0113277"}, "progress": progress});
    let least = report(&user, "stop", by_imdb(1.0)).await;
    least.assert_status(200);
    assert_eq!(least.body["action"], "pause");
    let below = report(&user, "stop", by_imdb(89.9)).await;
    below.assert_status(200);
    assert_eq!(below.body["action"], "pause");
    let played = report(&user, "stop", by_imdb(90.0)).await;
    played.assert_status(201);
    assert_eq!(played.body["record"]["contentId"], heat.id.to_string());
    assert_eq!(played.body["record"]["origin"], "playback");

    // Bad bodies and unknown items.
    for (body, status, code) in [
        (
            json!({"contentId": e1, "progress": 0.5}),
            422,
            "validation-failed",
        ),
        (
            json!({"contentId": e1, "progress": 101}),
            422,
            "validation-failed",
        ),
        (json!({"progress": 50}), 422, "validation-failed"),
        (
            json!({"contentId": e1, "externalIds": {"imdb": "tt0133093"}, "progress": 50}),
            422,
            "validation-failed",
        ),
        (
            json!({"externalIds": {"imdb": "nope"}, "progress": 50}),
            422,
            "validation-failed",
        ),
        (
            json!({"contentId": Uuid::new_v4(), "progress": 50}),
            404,
            "content-not-found",
        ),
        (
            json!({"contentId": e1, "progress": "half"}),
            400,
            "malformed-request",
        ),
    ] {
        report(&user, "stop", body)
            .await
            .assert_problem(status, code);
    }

    // Another user cannot drop it; its owner can.
    let kept = report(
        &user,
        "pause",
        json!({"contentId": dark.episode(1, 2), "progress": 30}),
    )
    .await;
    let id = kept.body["id"].as_str().unwrap_or_default().to_owned();
    let bob = server.client(Uuid::new_v4());
    bob.delete(&format!("/api/playback/{id}"))
        .await
        .assert_problem(404, "not-found");
    assert_eq!(bob.get("/api/playback").await.body["items"], json!([]));
    user.delete(&format!("/api/playback/{id}"))
        .await
        .assert_status(204);
    server
        .anonymous()
        .get("/api/playback/now")
        .await
        .assert_problem(401, "unauthorized");
}

#[tokio::test]
async fn playback_on_sqlite() {
    let server = Server::start(&server_bin!());
    plays(&server).await;
}

#[tokio::test]
async fn playback_on_postgresql() {
    let Some((server, _db)) = start_server(&server_bin!()).await else {
        return;
    };
    plays(&server).await;
}
