//! Correcting history through the binary (SPEC §11), on SQLite and on PostgreSQL:
//! `DELETE` and `PATCH /api/viewing/records/{id}`, `DELETE /api/viewing/abandoned/{id}`,
//! `POST` and `DELETE /api/viewing/progress/{showId}/reset`. After
//! each correction the progress, the binge sessions and the statistics read as if the history
//! had always been the corrected one. Another user's ids are 404, bad input problem+json.

use serde_json::{Value, json};
use uuid::Uuid;
use viewing_tests::postgres;
use viewing_tests::{Api, Resp, Server, at, movie, server_bin, show};

const T0: &str = "2026-01-10T20:00:00Z";

fn record_path(id: &Value) -> String {
    format!("/api/viewing/records/{}", id.as_str().unwrap_or_default())
}

async fn patch(api: &Api, path: &str, body: &Value, key: Option<&str>) -> Resp {
    let mut rb = api.request(reqwest::Method::PATCH, path).json(body);
    if let Some(k) = key {
        rb = rb.header("Idempotency-Key", k);
    }
    api.send(rb).await
}

/// Waits until the all-time statistics show `field` = `want`.
async fn stat(api: &Api, field: &str, want: i64) -> Value {
    api.wait_statistics("?period=all", |b| b[field] == json!(want))
        .await
}

async fn history_is_corrected(server: &Server) {
    let s = show("Dark", "ended", &[3], 50);
    let heat = movie("Heat", 170, &["Crime"]);
    server.admin().put_show(&s).await.assert_status(200);
    server.admin().put_movie(&heat).await.assert_status(200);
    let alice = server.client(Uuid::new_v4());
    let bob = server.client(Uuid::new_v4());

    // Three episodes in one sitting: one session, the season and the show completed.
    let mut ids = Vec::new();
    for (e, minutes) in [(1, 0), (2, 50), (3, 100)] {
        let r = alice
            .watch_episode(s.episode(1, e), &json!({ "watchDate": at(T0, minutes) }))
            .await;
        r.assert_status(201);
        ids.push(r.body["id"].clone());
    }
    let session = alice.get(&record_path(&ids[2])).await.body["bingeSessionId"].clone();
    assert!(session.is_string());
    let p = alice.progress(s.id).await;
    assert_eq!(p.body["status"], "completed", "{}", p.text);
    stat(&alice, "showsCompleted", 1).await;

    // DELETE the middle episode: the session breaks up, nothing is completed any more.
    alice.delete(&record_path(&ids[1])).await.assert_status(204);
    alice
        .get(&record_path(&ids[1]))
        .await
        .assert_problem(404, "not-found");
    let p = alice.progress(s.id).await;
    p.assert_status(200);
    assert_eq!(p.body["episodesWatched"], 2, "{}", p.text);
    assert_eq!(p.body["completedSeasons"], 0);
    // Not completed any more (T0 is months ago: `stalled` rather than `watching`).
    assert_eq!(p.body["status"], "stalled", "{}", p.text);
    // Episode 3 is the last watched: nothing is next after it, and episode 2 is a gap.
    assert_eq!(p.body["nextEpisode"], Value::Null, "{}", p.text);
    assert_eq!(
        p.body["gaps"],
        json!([{ "seasonNumber": 1, "episodeNumber": 2 }])
    );
    assert_eq!(
        alice.get(&record_path(&ids[0])).await.body["origin"],
        "manual"
    );
    alice
        .get(&format!(
            "/api/viewing/binge-sessions/{}",
            session.as_str().unwrap_or_default()
        ))
        .await
        .assert_problem(404, "not-found");
    for id in [&ids[0], &ids[2]] {
        assert_eq!(
            alice.get(&record_path(id)).await.body["bingeSessionId"],
            Value::Null
        );
    }
    let stats = stat(&alice, "episodes", 2).await;
    assert_eq!(stats["showsCompleted"], 0, "{stats}");
    assert_eq!(stats["seasonsCompleted"], 0, "{stats}");
    assert_eq!(stats["bingeSessions"], 0, "{stats}");
    assert_eq!(stats["totalMinutes"], 100, "{stats}");

    // Not twice, not someone else's, not a bad id.
    alice
        .delete(&record_path(&ids[1]))
        .await
        .assert_problem(404, "not-found");
    bob.delete(&record_path(&ids[0]))
        .await
        .assert_problem(404, "not-found");
    alice
        .delete("/api/viewing/records/not-a-uuid")
        .await
        .assert_problem(400, "malformed-request");
    assert_eq!(alice.progress(s.id).await.body["episodesWatched"], 2);

    // The movie's first watch goes: the second play becomes the first watch.
    let first = alice
        .watch_movie(heat.id, &json!({ "watchDate": at(T0, -600) }))
        .await;
    first.assert_status(201);
    let second = alice
        .watch_movie(heat.id, &json!({ "watchDate": at(T0, -300) }))
        .await;
    second.assert_status(201);
    assert_eq!(second.body["isRewatch"], true);
    stat(&alice, "rewatches", 1).await;
    alice
        .delete(&record_path(&first.body["id"]))
        .await
        .assert_status(204);
    let promoted = alice.get(&record_path(&second.body["id"])).await;
    assert_eq!(promoted.body["isRewatch"], false, "{}", promoted.text);
    let stats = stat(&alice, "rewatches", 0).await;
    assert_eq!(stats["movies"], 1, "{stats}");

    // PATCH: watch episode 2 again, then move episode 3 ten days later.
    let e2 = alice
        .watch_episode(s.episode(1, 2), &json!({ "watchDate": at(T0, 25) }))
        .await;
    e2.assert_status(201);
    assert!(e2.body["bingeSessionId"].is_string(), "{}", e2.text);
    assert_eq!(alice.progress(s.id).await.body["gaps"], json!([]));
    stat(&alice, "showsCompleted", 1).await;
    let later = at(T0, 10 * 24 * 60);
    let edited = patch(
        &alice,
        &record_path(&ids[2]),
        &json!({ "watchDate": later, "platform": "Netflix", "watchedWith": ["Sam"] }),
        Some("edit-1"),
    )
    .await;
    edited.assert_status(200);
    assert_eq!(edited.body["watchDate"], later);
    assert_eq!(edited.body["platform"], "Netflix");
    assert_eq!(edited.body["watchedWith"], json!(["Sam"]));
    assert_eq!(
        edited.body["bingeSessionId"],
        Value::Null,
        "{}",
        edited.text
    );
    // The same key and body replays the answer; nothing is corrected twice.
    let replay = patch(
        &alice,
        &record_path(&ids[2]),
        &json!({ "watchDate": later, "platform": "Netflix", "watchedWith": ["Sam"] }),
        Some("edit-1"),
    )
    .await;
    replay.assert_status(200);
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    // The session is episodes 1 and 2 now; the show was completed at the later date.
    let session = alice
        .get(&format!(
            "/api/viewing/binge-sessions/{}",
            e2.body["bingeSessionId"].as_str().unwrap_or_default()
        ))
        .await;
    session.assert_status(200);
    assert_eq!(session.body["episodesWatched"], 2, "{}", session.text);
    let p = alice.progress(s.id).await;
    assert_eq!(p.body["seasons"][0]["completionDate"], later, "{}", p.text);
    let stats = alice
        .wait_statistics("?period=all", |b| {
            b["byPlatform"]
                .as_array()
                .is_some_and(|a| a.iter().any(|p| p["platform"] == "Netflix"))
        })
        .await;
    assert_eq!(stats["showsCompleted"], 1, "{stats}");
    // `null` clears; the duration goes back to the runtime.
    let cleared = patch(
        &alice,
        &record_path(&ids[2]),
        &json!({ "platform": null, "viewingDuration": 20 }),
        None,
    )
    .await;
    cleared.assert_status(200);
    assert_eq!(cleared.body["platform"], Value::Null);
    assert_eq!(cleared.body["viewingDuration"], 20);
    let back = patch(
        &alice,
        &record_path(&ids[2]),
        &json!({ "viewingDuration": null }),
        None,
    )
    .await;
    assert_eq!(back.body["viewingDuration"], 50, "{}", back.text);

    // Bad input is problem+json and changes nothing.
    for (body, status) in [
        (json!({ "watchDate": "2999-01-01T00:00:00Z" }), 422),
        (json!({ "viewingDuration": -1 }), 422),
        (json!({ "viewingDuration": 1.5 }), 400),
        (json!({ "platform": "a", "viewingPlatform": "b" }), 422),
        (json!({ "isRewatch": true }), 422),
        (json!({ "watchDate": null }), 422),
        (json!({ "watchDate": "yesterday" }), 400),
    ] {
        let r = patch(&alice, &record_path(&ids[2]), &body, None).await;
        assert_eq!(r.status, status, "{body}: {}", r.text);
        assert_eq!(
            r.header("content-type"),
            Some("application/problem+json"),
            "{body}"
        );
    }
    assert_eq!(
        alice.get(&record_path(&ids[2])).await.body["watchDate"],
        later
    );
    patch(
        &bob,
        &record_path(&ids[2]),
        &json!({ "platform": "Hulu" }),
        None,
    )
    .await
    .assert_problem(404, "not-found");

    // DELETE an abandon: the statistics stop counting it.
    let abandon = alice
        .post(&format!("/api/viewing/{}/abandon", heat.id), &json!({}))
        .await;
    abandon.assert_status(201);
    stat(&alice, "abandoned", 1).await;
    let path = format!(
        "/api/viewing/abandoned/{}",
        abandon.body["id"].as_str().unwrap_or_default()
    );
    bob.delete(&path).await.assert_problem(404, "not-found");
    alice.delete(&path).await.assert_status(204);
    alice.get(&path).await.assert_problem(404, "not-found");
    alice.delete(&path).await.assert_problem(404, "not-found");
    stat(&alice, "abandoned", 0).await;
}

async fn post_reset(api: &Api, show: Uuid, key: Option<&str>) -> Resp {
    let mut rb = api.request(
        reqwest::Method::POST,
        &format!("/api/viewing/progress/{show}/reset"),
    );
    if let Some(k) = key {
        rb = rb.header("Idempotency-Key", k);
    }
    api.send(rb).await
}

/// Rewatch passes: a reset starts a new pass that counts only the plays after it, history
/// keeps every play, completions of both passes count, and undoing the reset merges them.
async fn rewatch_passes(server: &Server) {
    let s = show("Dark", "ended", &[2], 50);
    server.admin().put_show(&s).await.assert_status(200);
    let alice = server.client(Uuid::new_v4());
    let bob = server.client(Uuid::new_v4());
    for (e, minutes) in [(1, 0), (2, 50)] {
        alice
            .watch_episode(s.episode(1, e), &json!({ "watchDate": at(T0, minutes) }))
            .await
            .assert_status(201);
    }
    let p = alice.progress(s.id).await;
    assert_eq!(p.body["status"], "completed", "{}", p.text);
    assert_eq!(
        (p.body["pass"].clone(), p.body["resetAt"].clone()),
        (json!(1), Value::Null)
    );
    stat(&alice, "showsCompleted", 1).await;

    // Nothing watched (Bob), an unknown show, a path that is not a UUID.
    post_reset(&bob, s.id, None)
        .await
        .assert_problem(409, "conflict");
    post_reset(&alice, Uuid::new_v4(), None)
        .await
        .assert_problem(404, "content-not-found");
    let r = alice
        .send(alice.request(reqwest::Method::POST, "/api/viewing/progress/nope/reset"))
        .await;
    r.assert_status(400);
    assert_eq!(r.header("content-type"), Some("application/problem+json"));

    // Reset: pass 2 starts from the first episode; a replay with the same key resets once.
    let reset = post_reset(&alice, s.id, Some("reset-1")).await;
    reset.assert_status(201);
    assert_eq!(reset.body["pass"], 2, "{}", reset.text);
    assert!(reset.body["resetAt"].is_string());
    assert_eq!(reset.body["episodesWatched"], 0);
    assert_eq!(reset.body["status"], "not_started");
    assert_eq!(reset.body["nextEpisode"]["episodeNumber"], 1);
    assert_eq!(
        reset.header("location"),
        Some(format!("/api/viewing/progress/{}", s.id).as_str())
    );
    let replay = post_reset(&alice, s.id, Some("reset-1")).await;
    replay.assert_status(201);
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    assert_eq!(alice.progress(s.id).await.body["pass"], 2);
    // A second reset with nothing watched in the new pass is refused.
    post_reset(&alice, s.id, None)
        .await
        .assert_problem(409, "conflict");
    // Bob has no reset to undo; Alice's stays.
    bob.delete(&format!("/api/viewing/progress/{}/reset", s.id))
        .await
        .assert_problem(404, "not-found");

    // The rewatch: progress counts the new plays only, history keeps all four.
    let first = alice.watch_episode(s.episode(1, 1), &json!({})).await;
    first.assert_status(201);
    assert_eq!(first.body["isRewatch"], true, "{}", first.text);
    let p = alice.progress(s.id).await;
    assert_eq!(p.body["pass"], 2);
    assert_eq!(p.body["episodesWatched"], 1, "{}", p.text);
    assert_eq!(p.body["nextEpisode"]["episodeNumber"], 2);
    alice
        .watch_episode(s.episode(1, 2), &json!({}))
        .await
        .assert_status(201);
    let p = alice.progress(s.id).await;
    assert_eq!(p.body["status"], "completed", "{}", p.text);
    assert_eq!(p.body["pass"], 2);
    stat(&alice, "showsCompleted", 2).await;
    stat(&alice, "seasonsCompleted", 2).await;
    let history = alice.get("/api/viewing/history").await;
    assert_eq!(history.body["totalItems"], 4, "{}", history.text);

    // Undo: the passes merge; the second pass's completions stop counting.
    let undo = format!("/api/viewing/progress/{}/reset", s.id);
    alice.delete(&undo).await.assert_status(204);
    let p = alice.progress(s.id).await;
    assert_eq!(
        (p.body["pass"].clone(), p.body["resetAt"].clone()),
        (json!(1), Value::Null)
    );
    assert_eq!(p.body["status"], "completed");
    stat(&alice, "showsCompleted", 1).await;
    stat(&alice, "seasonsCompleted", 1).await;
    assert_eq!(
        alice.get("/api/viewing/history").await.body["totalItems"],
        4
    );
    alice.delete(&undo).await.assert_problem(404, "not-found");
}

#[tokio::test]
async fn corrections_on_sqlite() {
    let server = Server::start(&server_bin!());
    history_is_corrected(&server).await;
    rewatch_passes(&server).await;
}

#[tokio::test]
async fn corrections_on_postgresql() {
    let Some((server, _db)) = postgres::start_server(&server_bin!()).await else {
        return;
    };
    history_is_corrected(&server).await;
    rewatch_passes(&server).await;
}
