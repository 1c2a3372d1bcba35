//! What the event handlers keep, through the API (SPEC §7): achievements, the watchlist,
//! continuation reminders, genre preferences. They follow the writes asynchronously, so every
//! check of a handler's effect polls (`Api::wait_get`) instead of reading once.

use serde_json::{Value, json};
use uuid::Uuid;
use viewing_tests::{Api, Server, at, movie, server_bin, show};

const T0: &str = "2026-01-10T20:00:00Z";

fn items(body: &Value) -> Vec<Value> {
    body["items"].as_array().cloned().unwrap_or_default()
}

fn has_code(body: &Value, code: &str) -> bool {
    items(body).iter().any(|a| a["code"] == code)
}

fn on_list(body: &Value, content: Uuid) -> bool {
    items(body).iter().any(|i| i["contentId"] == json!(content))
}

fn reminder_of(body: &Value, show: Uuid) -> Option<Value> {
    items(body).into_iter().find(|r| r["showId"] == json!(show))
}

fn instant(v: &Value) -> chrono::DateTime<chrono::Utc> {
    let s = v.as_str().unwrap_or_else(|| panic!("not a string: {v}"));
    chrono::DateTime::parse_from_rfc3339(s)
        .unwrap_or_else(|e| panic!("{s}: {e}"))
        .with_timezone(&chrono::Utc)
}

/// Waits until every handler has applied the user's latest event: the recommendation engine
/// runs last, so a user with no genres before reaching `min_genres` genres means all five
/// handlers applied the event that brought them.
async fn wait_all_handlers(api: &Api, min_genres: usize) {
    api.wait_get("/api/viewing/preferences", |b| {
        b["genres"]
            .as_array()
            .is_some_and(|g| g.len() >= min_genres)
    })
    .await;
}

#[tokio::test]
async fn watching_a_movie_unlocks_first_movie() {
    let server = Server::start(&server_bin!());
    let m = movie("Heat", 170, &["crime"]);
    server.admin().put_movie(&m).await.assert_status(200);
    let alice = server.client(Uuid::new_v4());
    let bob = server.client(Uuid::new_v4());

    let none = alice.get("/api/viewing/achievements").await;
    none.assert_status(200);
    assert_eq!(none.body, json!({ "items": [] }));

    alice
        .watch_movie(m.id, &json!({ "watchDate": at(T0, 0) }))
        .await
        .assert_status(201);
    let body = alice
        .wait_get("/api/viewing/achievements", |b| has_code(b, "first-movie"))
        .await;
    assert_eq!(
        body,
        json!({ "items": [
            { "code": "first-movie", "title": "First movie", "unlockedAt": "2026-01-10T20:00:00Z" }
        ]})
    );

    // A second movie unlocks nothing new (the next milestone is 10).
    let m2 = movie("Ronin", 122, &["crime"]);
    server.admin().put_movie(&m2).await.assert_status(200);
    alice
        .watch_movie(m2.id, &json!({ "watchDate": at(T0, 200) }))
        .await
        .assert_status(201);
    // Both movies are crime (1.0 each): the preferences handler, the last one, applied the
    // second watch, so the achievements handler has too.
    alice
        .wait_get("/api/viewing/preferences", |b| {
            b["genres"][0]["score"] == json!(2.0)
        })
        .await;
    assert_eq!(
        items(&alice.get("/api/viewing/achievements").await.body).len(),
        1
    );

    // Bob has none.
    let theirs = bob.get("/api/viewing/achievements").await;
    theirs.assert_status(200);
    assert_eq!(theirs.body, json!({ "items": [] }));
}

#[tokio::test]
async fn the_watchlist_is_added_to_listed_and_removed_from() {
    let server = Server::start(&server_bin!());
    let m = movie("Heat", 170, &["crime"]);
    let s = show("Dark", "ended", &[2], 50);
    server.admin().put_movie(&m).await.assert_status(200);
    server.admin().put_show(&s).await.assert_status(200);
    let alice = server.client(Uuid::new_v4());
    let bob = server.client(Uuid::new_v4());

    let empty = alice.get("/api/watchlist").await;
    empty.assert_status(200);
    assert_eq!(empty.body, json!({ "items": [] }));

    // Added now: 201 with the item; again: 200 with the item as first added.
    let added = alice.put_empty(&format!("/api/watchlist/{}", m.id)).await;
    added.assert_status(201);
    assert_eq!(added.body["contentId"], json!(m.id));
    assert_eq!(added.body["itemType"], "movie");
    assert!(added.body["addedAt"].is_string(), "{}", added.text);
    let again = alice.put_empty(&format!("/api/watchlist/{}", m.id)).await;
    again.assert_status(200);
    assert_eq!(again.body, added.body);
    let show_added = alice.put_empty(&format!("/api/watchlist/{}", s.id)).await;
    show_added.assert_status(201);
    assert_eq!(show_added.body["itemType"], "show");

    // Newest first, each once.
    let list = alice.get("/api/watchlist").await;
    list.assert_status(200);
    assert_eq!(list.body, json!({ "items": [show_added.body, added.body] }));

    // Only movies and shows of the catalog: an unknown id or an episode is content-not-found.
    alice
        .put_empty(&format!("/api/watchlist/{}", Uuid::new_v4()))
        .await
        .assert_problem(404, "content-not-found");
    alice
        .put_empty(&format!("/api/watchlist/{}", s.episode(1, 1)))
        .await
        .assert_problem(404, "content-not-found");

    // Bob sees none of it and cannot remove Alice's items: 404 like an id never added.
    let theirs = bob.get("/api/watchlist").await;
    theirs.assert_status(200);
    assert_eq!(theirs.body, json!({ "items": [] }));
    let not_theirs = bob.delete(&format!("/api/watchlist/{}", m.id)).await;
    not_theirs.assert_problem(404, "not-found");
    let never = bob
        .delete(&format!("/api/watchlist/{}", Uuid::new_v4()))
        .await;
    never.assert_problem(404, "not-found");
    assert_eq!(not_theirs.body["detail"], never.body["detail"]);
    // Bob's own entry is his alone.
    bob.put_empty(&format!("/api/watchlist/{}", s.id))
        .await
        .assert_status(201);
    assert_eq!(items(&bob.get("/api/watchlist").await.body).len(), 1);

    // Removed: 204 without a body; removing again is 404.
    let removed = alice.delete(&format!("/api/watchlist/{}", m.id)).await;
    removed.assert_status(204);
    assert!(removed.text.is_empty(), "{}", removed.text);
    alice
        .delete(&format!("/api/watchlist/{}", m.id))
        .await
        .assert_problem(404, "not-found");
    let list = alice.get("/api/watchlist").await;
    assert_eq!(list.body, json!({ "items": [show_added.body] }));
    assert!(on_list(&bob.get("/api/watchlist").await.body, s.id));
}

#[tokio::test]
async fn watched_movies_and_completed_shows_leave_the_watchlist() {
    let server = Server::start(&server_bin!());
    let watched = movie("Heat", 170, &["crime"]);
    let kept = movie("Ronin", 122, &["thriller"]);
    let s = show("Dark", "ended", &[2], 50);
    for m in [&watched, &kept] {
        server.admin().put_movie(m).await.assert_status(200);
    }
    server.admin().put_show(&s).await.assert_status(200);
    let alice = server.client(Uuid::new_v4());
    let bob = server.client(Uuid::new_v4());
    for id in [watched.id, kept.id, s.id] {
        alice
            .put_empty(&format!("/api/watchlist/{id}"))
            .await
            .assert_status(201);
    }

    // Bob watching Alice's kept movie changes nothing on her list.
    bob.watch_movie(kept.id, &json!({}))
        .await
        .assert_status(201);
    wait_all_handlers(&bob, 1).await;

    alice
        .watch_movie(watched.id, &json!({ "watchDate": at(T0, 0) }))
        .await
        .assert_status(201);
    alice
        .wait_get("/api/watchlist", |b| !on_list(b, watched.id))
        .await;

    // An episode alone leaves the show on the list; completing the show takes it off.
    alice
        .watch_episode(s.episode(1, 1), &json!({ "watchDate": at(T0, 200) }))
        .await
        .assert_status(201);
    let last = alice
        .watch_episode(s.episode(1, 2), &json!({ "watchDate": at(T0, 250) }))
        .await;
    last.assert_status(201);
    assert_eq!(last.body["showCompleted"], true, "{}", last.text);
    let list = alice
        .wait_get("/api/watchlist", |b| !on_list(b, s.id))
        .await;
    assert_eq!(items(&list).len(), 1, "{list}");
    assert_eq!(list["items"][0]["contentId"], json!(kept.id));
}

#[tokio::test]
async fn a_reminder_follows_an_unfinished_show_until_completion_or_abandon() {
    let server = Server::start(&server_bin!());
    let finished = show("Dark", "ended", &[3], 50);
    let dropped = show("Lost", "ended", &[3], 45);
    server.admin().put_show(&finished).await.assert_status(200);
    server.admin().put_show(&dropped).await.assert_status(200);
    let alice = server.client(Uuid::new_v4());
    let bob = server.client(Uuid::new_v4());
    // Watched now: due in 7 days, so the scheduler leaves them scheduled.
    let e1 = alice
        .watch_episode(finished.episode(1, 1), &json!({}))
        .await;
    e1.assert_status(201);

    let body = alice
        .wait_get("/api/viewing/reminders", |b| {
            reminder_of(b, finished.id).is_some()
        })
        .await;
    let r1 = reminder_of(&body, finished.id).unwrap_or_default();
    assert_eq!(r1["status"], "scheduled", "{r1}");
    assert_eq!(r1["episodeId"], json!(finished.episode(1, 2)));
    assert_eq!(
        (r1["seasonNumber"].clone(), r1["episodeNumber"].clone()),
        (json!(1), json!(2))
    );
    assert_eq!(instant(&r1["lastWatchAt"]), instant(&e1.body["watchDate"]));
    assert_eq!(
        instant(&r1["dueAt"]) - instant(&r1["lastWatchAt"]),
        chrono::Duration::days(7)
    );
    assert_eq!(r1["attempts"], 0);
    assert_eq!(r1["sentAt"], Value::Null);

    // A newer watch reschedules it, for the next episode, under a new id.
    alice
        .watch_episode(finished.episode(1, 2), &json!({}))
        .await
        .assert_status(201);
    let body = alice
        .wait_get("/api/viewing/reminders", |b| {
            reminder_of(b, finished.id)
                .is_some_and(|r| r["episodeId"] == json!(finished.episode(1, 3)))
        })
        .await;
    let r2 = reminder_of(&body, finished.id).unwrap_or_default();
    assert_eq!(r2["status"], "scheduled");
    assert_ne!(r2["id"], r1["id"]);

    // Completing the show cancels it.
    alice
        .watch_episode(finished.episode(1, 3), &json!({}))
        .await
        .assert_status(201);
    alice
        .wait_get("/api/viewing/reminders", |b| {
            reminder_of(b, finished.id).is_some_and(|r| r["status"] == "cancelled")
        })
        .await;

    // Abandoning a show cancels its reminder too.
    alice
        .watch_episode(dropped.episode(1, 1), &json!({}))
        .await
        .assert_status(201);
    alice
        .wait_get("/api/viewing/reminders", |b| {
            reminder_of(b, dropped.id).is_some_and(|r| r["status"] == "scheduled")
        })
        .await;
    alice
        .post(
            &format!("/api/viewing/{}/abandon", dropped.id),
            &json!({ "abandonReason": "lost the thread" }),
        )
        .await
        .assert_status(201);
    let body = alice
        .wait_get("/api/viewing/reminders", |b| {
            reminder_of(b, dropped.id).is_some_and(|r| r["status"] == "cancelled")
        })
        .await;
    assert_eq!(items(&body).len(), 2, "one reminder per show: {body}");

    // Bob has none.
    let theirs = bob.get("/api/viewing/reminders").await;
    theirs.assert_status(200);
    assert_eq!(theirs.body, json!({ "items": [] }));
}

#[tokio::test]
async fn preferences_rank_genres_after_watches() {
    let server = Server::start(&server_bin!());
    let heat = movie("Heat", 170, &["crime", "thriller"]);
    let godfather = movie("The Godfather", 175, &["crime", "drama"]);
    for m in [&heat, &godfather] {
        server.admin().put_movie(m).await.assert_status(200);
    }
    let alice = server.client(Uuid::new_v4());
    let bob = server.client(Uuid::new_v4());

    let none = alice.get("/api/viewing/preferences").await;
    none.assert_status(200);
    assert_eq!(none.body, json!({ "genres": [] }));

    for m in [&heat, &godfather] {
        alice.watch_movie(m.id, &json!({})).await.assert_status(201);
    }
    // Crime is in both; drama and thriller tie and rank by name.
    let body = alice
        .wait_get("/api/viewing/preferences", |b| {
            b["genres"][0]["genre"] == "crime" && b["genres"][0]["score"] == json!(2.0)
        })
        .await;
    assert_eq!(
        body,
        json!({ "genres": [
            { "rank": 1, "genre": "crime", "score": 2.0 },
            { "rank": 2, "genre": "drama", "score": 1.0 },
            { "rank": 3, "genre": "thriller", "score": 1.0 },
        ]})
    );

    // A rewatch raises the score more than a first watch.
    alice
        .watch_movie(heat.id, &json!({}))
        .await
        .assert_status(201);
    let body = alice
        .wait_get("/api/viewing/preferences", |b| {
            b["genres"][0]["score"] == json!(3.5)
        })
        .await;
    assert_eq!(body["genres"][1]["genre"], "thriller");
    assert_eq!(body["genres"][1]["score"], json!(2.5));

    let theirs = bob.get("/api/viewing/preferences").await;
    theirs.assert_status(200);
    assert_eq!(theirs.body, json!({ "genres": [] }));
}

#[tokio::test]
async fn another_users_engagement_is_invisible() {
    let server = Server::start(&server_bin!());
    let m = movie("Heat", 170, &["crime"]);
    let s = show("Dark", "ended", &[3], 50);
    server.admin().put_movie(&m).await.assert_status(200);
    server.admin().put_show(&s).await.assert_status(200);
    let alice = server.client(Uuid::new_v4());
    let bob = server.client(Uuid::new_v4());

    alice
        .put_empty(&format!("/api/watchlist/{}", s.id))
        .await
        .assert_status(201);
    alice.watch_movie(m.id, &json!({})).await.assert_status(201);
    alice
        .watch_episode(s.episode(1, 1), &json!({}))
        .await
        .assert_status(201);
    alice
        .wait_get("/api/viewing/achievements", |b| has_code(b, "first-movie"))
        .await;
    alice
        .wait_get("/api/viewing/reminders", |b| reminder_of(b, s.id).is_some())
        .await;
    wait_all_handlers(&alice, 2).await;

    for (path, key) in [
        ("/api/viewing/achievements", "items"),
        ("/api/watchlist", "items"),
        ("/api/viewing/reminders", "items"),
        ("/api/viewing/preferences", "genres"),
    ] {
        let mine = alice.get(path).await;
        mine.assert_status(200);
        assert!(
            mine.body[key].as_array().is_some_and(|a| !a.is_empty()),
            "{path}: {}",
            mine.text
        );
        let theirs = bob.get(path).await;
        theirs.assert_status(200);
        assert_eq!(theirs.body, json!({ key: [] }), "{path}");
    }
    bob.delete(&format!("/api/watchlist/{}", s.id))
        .await
        .assert_problem(404, "not-found");
    assert!(on_list(&alice.get("/api/watchlist").await.body, s.id));
}

#[tokio::test]
async fn engagement_endpoints_need_a_token_and_uuid_ids() {
    let server = Server::start(&server_bin!());
    let anon = server.anonymous();
    let id = Uuid::new_v4();
    for path in [
        "/api/viewing/achievements",
        "/api/viewing/reminders",
        "/api/viewing/preferences",
        "/api/watchlist",
    ] {
        anon.get(path).await.assert_problem(401, "unauthorized");
    }
    anon.put_empty(&format!("/api/watchlist/{id}"))
        .await
        .assert_problem(401, "unauthorized");
    anon.delete(&format!("/api/watchlist/{id}"))
        .await
        .assert_problem(401, "unauthorized");
    let expired = server
        .client(Uuid::new_v4())
        .with_token(&viewing_tests::sign(
            viewing_tests::SECRET,
            &json!({ "sub": Uuid::new_v4().to_string(), "exp": 1_000_000 }),
        ));
    expired
        .get("/api/watchlist")
        .await
        .assert_problem(401, "unauthorized");

    let alice = server.client(Uuid::new_v4());
    for bad in ["not-a-uuid", "123", "%20"] {
        alice
            .put_empty(&format!("/api/watchlist/{bad}"))
            .await
            .assert_problem(400, "malformed-request");
        alice
            .delete(&format!("/api/watchlist/{bad}"))
            .await
            .assert_problem(400, "malformed-request");
    }
}

#[tokio::test]
async fn the_openapi_document_describes_the_engagement_endpoints() {
    let server = Server::start(&server_bin!());
    let doc = server.anonymous().get("/api/openapi.json").await;
    doc.assert_status(200);
    let paths = &doc.body["paths"];
    for (path, method, statuses) in [
        ("/api/viewing/achievements", "get", &["200", "401"][..]),
        ("/api/viewing/reminders", "get", &["200", "401"][..]),
        ("/api/viewing/preferences", "get", &["200", "401"][..]),
        ("/api/watchlist", "get", &["200", "401"][..]),
        (
            "/api/watchlist/{contentId}",
            "put",
            &["200", "201", "400", "404"][..],
        ),
        (
            "/api/watchlist/{contentId}",
            "delete",
            &["204", "400", "404"][..],
        ),
    ] {
        let op = &paths[path][method];
        assert!(op.is_object(), "{method} {path} missing");
        assert_eq!(op["tags"], json!(["engagement"]), "{method} {path}");
        assert!(op["security"].is_array(), "{method} {path} security");
        for status in statuses {
            assert!(
                op["responses"][*status].is_object(),
                "{method} {path} {status}"
            );
        }
    }
    let schemas = &doc.body["components"]["schemas"];
    for schema in [
        "AchievementsDto",
        "AchievementDto",
        "WatchlistDto",
        "WatchlistItemDto",
        "RemindersDto",
        "ReminderDto",
        "PreferencesDto",
        "GenrePreferenceDto",
    ] {
        assert!(schemas[schema].is_object(), "schema {schema}");
    }
}
