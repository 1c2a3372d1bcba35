//! Every endpoint's success path and its 404/409 answers, idempotent repeats, and the
//! operations endpoints (health, metrics, OpenAPI).

use serde_json::{Value, json};
use uuid::Uuid;
use viewing_tests::{Server, at, movie, postgres, server_bin, show};

const T0: &str = "2026-01-10T20:00:00Z";

#[tokio::test]
async fn catalog_round_trip() {
    let server = Server::start(&server_bin!());
    let admin = server.admin();
    let reader = server.client(Uuid::new_v4());

    let m = movie("Heat", 170, &["crime", "thriller"]);
    let put = admin.put_movie(&m).await;
    put.assert_status(200);
    let got = reader.get(&format!("/api/catalog/movies/{}", m.id)).await;
    got.assert_status(200);
    assert_eq!(got.body, put.body);
    assert_eq!(
        got.body,
        json!({ "id": m.id, "title": "Heat", "runtimeMinutes": 170,
                "genres": ["crime", "thriller"], "releaseDate": "1995-12-15" })
    );

    let mut s = show("Lost", "returning", &[3, 2], 42);
    // Specials (season 0) and an episode that has not aired yet.
    s.body["seasons"].as_array_mut().map(|seasons| {
        seasons.push(json!({ "seasonId": Uuid::new_v4(), "seasonNumber": 0, "episodes": [
            { "episodeId": Uuid::new_v4(), "episodeNumber": 1, "title": "Special", "runtimeMinutes": 20 }
        ]}));
        seasons[1]["episodes"].as_array_mut().map(|e| {
            e.push(json!({ "episodeId": Uuid::new_v4(), "episodeNumber": 3, "title": "Soon",
                           "runtimeMinutes": 42, "airDate": "2099-01-01" }))
        })
    });
    admin.put_show(&s).await.assert_status(200);
    let got = reader.get(&format!("/api/catalog/shows/{}", s.id)).await;
    got.assert_status(200);
    assert_eq!(got.body["title"], "Lost");
    assert_eq!(got.body["status"], "returning");
    let numbers: Vec<u64> = got.body["seasons"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s["seasonNumber"].as_u64())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(numbers, [0, 1, 2], "seasons in order, specials first");
    assert_eq!(
        got.body["seasons"][2]["episodes"][2]["airDate"],
        "2099-01-01"
    );
    assert_eq!(
        got.body["seasons"][1]["episodes"][0]["airDate"],
        "2015-01-01"
    );

    // PUT replaces the whole tree.
    let mut smaller = s.clone();
    smaller.body["seasons"] = json!([s.body["seasons"][0].clone()]);
    smaller.body["status"] = json!("ended");
    admin.put_show(&smaller).await.assert_status(200);
    let got = reader.get(&format!("/api/catalog/shows/{}", s.id)).await;
    assert_eq!(got.body["seasons"].as_array().map(Vec::len), Some(1));
    assert_eq!(got.body["status"], "ended");

    for path in [
        format!("/api/catalog/movies/{}", Uuid::new_v4()),
        format!("/api/catalog/shows/{}", Uuid::new_v4()),
        format!("/api/catalog/movies/{}", s.id),
    ] {
        reader
            .get(&path)
            .await
            .assert_problem(404, "content-not-found");
    }
}

/// External ids (SPEC §10) on every catalog level: kept and read back, checked for shape and
/// provider (422), unique per kind (409 naming the holder).
async fn external_ids(server: &Server) {
    let admin = server.admin();
    let reader = server.client(Uuid::new_v4());
    let mut m = movie("The Matrix", 136, &["sci-fi"]);
    m.body["externalIds"] = json!({ "imdb": "tt0133093", "tmdb": "603" });
    admin.put_movie(&m).await.assert_status(200);
    let got = reader.get(&format!("/api/catalog/movies/{}", m.id)).await;
    assert_eq!(
        got.body["externalIds"],
        json!({ "imdb": "tt0133093", "tmdb": "603" }),
        "{}",
        got.text
    );

    let mut s = show("Dark", "ended", &[2], 50);
    s.body["externalIds"] = json!({ "tvdb": "334824", "imdb": "tt5753856" });
    s.body["seasons"][0]["externalIds"] = json!({ "tmdb": "81234" });
    s.body["seasons"][0]["episodes"][1]["externalIds"] = json!({ "imdb": "tt5993780" });
    admin.put_show(&s).await.assert_status(200);
    let got = reader.get(&format!("/api/catalog/shows/{}", s.id)).await;
    assert_eq!(got.body["externalIds"]["tvdb"], "334824", "{}", got.text);
    assert_eq!(got.body["seasons"][0]["externalIds"]["tmdb"], "81234");
    assert_eq!(
        got.body["seasons"][0]["episodes"][1]["externalIds"]["imdb"],
        "tt5993780"
    );
    assert_eq!(
        got.body["seasons"][0]["episodes"][0]["externalIds"],
        Value::Null
    );

    // Shape and provider are checked.
    for (ids, field) in [
        (json!({ "imdb": "0133093" }), "externalIds.imdb"),
        (json!({ "tmdb": "12a" }), "externalIds.tmdb"),
        (json!({ "netflix": "1" }), "externalIds.netflix"),
    ] {
        let mut bad = movie("Bad", 90, &[]);
        bad.body["externalIds"] = ids.clone();
        let r = admin
            .put(&format!("/api/catalog/movies/{}", bad.id), &bad.body)
            .await;
        r.assert_status(422);
        assert!(r.text.contains(field), "{ids}: {}", r.text);
    }
    // Not an object: 400.
    let mut bad = movie("Bad", 90, &[]);
    bad.body["externalIds"] = json!([null, null]);
    admin
        .put(&format!("/api/catalog/movies/{}", bad.id), &bad.body)
        .await
        .assert_problem(400, "malformed-request");
    // Another movie with the first one's IMDb id: 409 naming the holder; a show may hold it.
    let mut thief = movie("Not The Matrix", 90, &[]);
    thief.body["externalIds"] = json!({ "imdb": "tt0133093" });
    let r = admin.put_movie(&thief).await;
    r.assert_problem(409, "conflict");
    assert!(r.text.contains(&m.id.to_string()), "{}", r.text);
    reader
        .get(&format!("/api/catalog/movies/{}", thief.id))
        .await
        .assert_problem(404, "content-not-found");
    let mut series = show("The Matrix (series)", "returning", &[1], 30);
    series.body["externalIds"] = json!({ "imdb": "tt0133093" });
    admin.put_show(&series).await.assert_status(200);

    // Lookup: a movie before a show holding the same id; a show; an episode by its own id and
    // by its show's id and numbers.
    let found = reader
        .get("/api/catalog/lookup?provider=imdb&id=tt0133093")
        .await;
    found.assert_status(200);
    assert_eq!(
        found.body,
        json!({ "type": "movie", "id": m.id, "title": "The Matrix" })
    );
    let found = reader
        .get("/api/catalog/lookup?provider=tvdb&id=334824")
        .await;
    assert_eq!(found.body["type"], "show", "{}", found.text);
    assert_eq!(found.body["id"], json!(s.id));
    let episode_id = s.body["seasons"][0]["episodes"][1]["episodeId"].clone();
    let found = reader
        .get("/api/catalog/lookup?provider=imdb&id=tt5993780")
        .await;
    assert_eq!(
        (
            found.body["type"].clone(),
            found.body["id"].clone(),
            found.body["showId"].clone(),
            found.body["seasonNumber"].clone(),
            found.body["episodeNumber"].clone()
        ),
        (
            json!("episode"),
            episode_id.clone(),
            json!(s.id),
            json!(1),
            json!(2)
        ),
        "{}",
        found.text
    );
    let by_numbers = reader
        .get("/api/catalog/lookup?provider=tvdb&show=334824&season=1&episode=2")
        .await;
    assert_eq!(by_numbers.body, found.body, "{}", by_numbers.text);
    let season = reader
        .get("/api/catalog/lookup?provider=tmdb&id=81234")
        .await;
    assert_eq!(season.body["type"], "season", "{}", season.text);
    assert_eq!(season.body["seasonNumber"], 1);
    for path in [
        "/api/catalog/lookup?provider=imdb&id=tt0000001",
        "/api/catalog/lookup?provider=tvdb&show=334824&season=1&episode=9",
        "/api/catalog/lookup?provider=tvdb&show=1&season=1&episode=1",
    ] {
        reader.get(path).await.assert_problem(404, "not-found");
    }
    for path in [
        "/api/catalog/lookup?provider=netflix&id=1",
        "/api/catalog/lookup?provider=imdb&id=603",
        "/api/catalog/lookup?provider=imdb",
        "/api/catalog/lookup?id=tt0133093",
        "/api/catalog/lookup?provider=tvdb&show=334824&season=1",
        "/api/catalog/lookup?provider=tvdb&id=1&show=334824&season=1&episode=1",
    ] {
        reader
            .get(path)
            .await
            .assert_problem(400, "malformed-request");
    }
}

#[tokio::test]
async fn external_ids_on_sqlite() {
    let server = Server::start(&server_bin!());
    external_ids(&server).await;
}

#[tokio::test]
async fn external_ids_on_postgresql() {
    let Some((server, _db)) = postgres::start_server(&server_bin!()).await else {
        return;
    };
    external_ids(&server).await;
}

#[tokio::test]
async fn movies_are_recorded_and_read_back() {
    let server = Server::start(&server_bin!());
    let m = movie("Heat", 170, &["crime"]);
    server.admin().put_movie(&m).await.assert_status(200);
    let user = server.client(Uuid::new_v4());

    let first = user
        .watch_movie(
            m.id,
            &json!({ "watchDate": at(T0, 0), "viewingPlatform": "Netflix",
                     "viewingLocation": "home", "viewingContext": "solo", "watchedWith": [] }),
        )
        .await;
    first.assert_status(201);
    let location = first.header("location").unwrap_or_default().to_owned();
    let id = first.body["id"].as_str().unwrap_or_default();
    assert_eq!(location, format!("/api/viewing/records/{id}"));
    assert_eq!(first.body["contentId"], json!(m.id));
    assert_eq!(first.body["contentType"], "movie");
    assert_eq!(first.body["isRewatch"], false);
    assert_eq!(first.body["platform"], "Netflix");
    for absent in [
        "viewingDuration",
        "bingeSessionId",
        "showId",
        "seasonNumber",
        "episodeNumber",
    ] {
        assert_eq!(first.body[absent], Value::Null, "{absent} is null");
        assert!(first.body.get(absent).is_some(), "{absent} is present");
    }
    let read = user.get(&location).await;
    read.assert_status(200);
    assert_eq!(read.body, first.body);

    // An empty body is fine; the second viewing is a rewatch of its own.
    let again = user
        .send(user.request(
            reqwest::Method::POST,
            &format!("/api/viewing/movies/{}/watched", m.id),
        ))
        .await;
    again.assert_status(201);
    assert_eq!(again.body["isRewatch"], true);
    assert_ne!(again.body["id"], first.body["id"]);
    let explicit = user
        .watch_movie(m.id, &json!({ "isRewatch": false, "viewingDuration": 95 }))
        .await;
    explicit.assert_status(201);
    assert_eq!(explicit.body["isRewatch"], false);
    assert_eq!(explicit.body["viewingDuration"], 95);

    user.watch_movie(Uuid::new_v4(), &json!({}))
        .await
        .assert_problem(404, "content-not-found");
    user.get(&format!("/api/viewing/records/{}", Uuid::new_v4()))
        .await
        .assert_problem(404, "not-found");
}

#[tokio::test]
async fn episodes_follow_order_binge_and_completion() {
    let server = Server::start(&server_bin!());
    let s = show("Dark", "ended", &[3, 2], 50);
    server.admin().put_show(&s).await.assert_status(200);
    let user = server.client(Uuid::new_v4());

    // Skipping E1 is refused with the first missing episode named.
    let r = user
        .watch_episode(s.episode(1, 2), &json!({ "watchDate": at(T0, 0) }))
        .await;
    r.assert_problem(409, "episode-out-of-order");
    assert_eq!(
        r.body["missingEpisode"],
        json!({ "episodeId": s.episode(1, 1), "seasonNumber": 1, "episodeNumber": 1 })
    );

    let e1 = user
        .watch_episode(
            s.episode(1, 1),
            &json!({ "watchDate": at(T0, 0), "platform": "Netflix" }),
        )
        .await;
    e1.assert_status(201);
    assert_eq!(e1.body["contentType"], "episode");
    assert_eq!(e1.body["showId"], json!(s.id));
    assert_eq!(e1.body["seasonNumber"], 1);
    assert_eq!(e1.body["episodeNumber"], 1);
    assert_eq!(e1.body["viewingDuration"], 50);
    assert_eq!(e1.body["bingeSessionId"], Value::Null);
    assert_eq!(e1.body["seasonCompleted"], false);
    assert_eq!(e1.body["showCompleted"], false);

    // The next episode 50 minutes later starts a binge session holding both.
    let e2 = user
        .watch_episode(s.episode(1, 2), &json!({ "watchDate": at(T0, 50) }))
        .await;
    e2.assert_status(201);
    let session = e2.body["bingeSessionId"].clone();
    assert!(session.is_string(), "{}", e2.text);
    let e1_now = user.get(e1.header("location").unwrap_or_default()).await;
    assert_eq!(e1_now.body["bingeSessionId"], session);

    // Season 1 completes with E3; a rewatch changes nothing.
    let e3 = user
        .watch_episode(
            s.episode(1, 3),
            &json!({ "watchDate": at(T0, 100), "seasonRating": 8.5, "nextSeasonIntent": true }),
        )
        .await;
    e3.assert_status(201);
    assert_eq!(e3.body["seasonCompleted"], true);
    assert_eq!(e3.body["bingeSessionId"], session);
    let rewatch = user
        .watch_episode(s.episode(1, 1), &json!({ "watchDate": at(T0, 200) }))
        .await;
    rewatch.assert_status(201);
    assert_eq!(rewatch.body["isRewatch"], true);
    assert_eq!(rewatch.body["seasonCompleted"], false);

    // Ratings must have one decimal and be in range.
    user.watch_episode(s.episode(2, 1), &json!({ "seasonRating": 8.55 }))
        .await
        .assert_problem(422, "validation-failed");

    // markPreviousWatched fills the gap; the finale completes the show.
    let last = user
        .watch_episode(
            s.episode(2, 2),
            &json!({ "watchDate": at(T0, 2000), "markPreviousWatched": true,
                     "overallRating": 9.0, "rewatchInterest": true,
                     "seriesFinaleReaction": "<b>wow</b>" }),
        )
        .await;
    last.assert_status(201);
    assert_eq!(last.body["seasonCompleted"], true);
    assert_eq!(last.body["showCompleted"], true);
    assert_eq!(
        last.body["bingeSessionId"],
        Value::Null,
        "backfill never binges"
    );

    let p = user.progress(s.id).await;
    p.assert_status(200);
    assert_eq!(p.body["status"], "completed");
    assert_eq!(p.body["episodesWatched"], 5);
    assert_eq!(p.body["completionPercent"], 100.0);

    user.watch_episode(Uuid::new_v4(), &json!({}))
        .await
        .assert_problem(404, "content-not-found");
    // A binge session that does not exist is created with the client's id.
    let other = show("Other", "returning", &[2], 30);
    server.admin().put_show(&other).await.assert_status(200);
    let own = Uuid::new_v4();
    let r = user
        .watch_episode(other.episode(1, 1), &json!({ "bingeSessionId": own }))
        .await;
    r.assert_status(201);
    assert_eq!(r.body["bingeSessionId"], json!(own));
    // …but one of another show is 422.
    let r = user
        .watch_episode(other.episode(1, 2), &json!({ "bingeSessionId": session }))
        .await;
    r.assert_problem(422, "validation-failed");
}

#[tokio::test]
async fn abandon_movies_and_shows() {
    let server = Server::start(&server_bin!());
    let m = movie("Tenet", 150, &["sci-fi"]);
    let s = show("Lost", "ended", &[4], 40);
    server.admin().put_movie(&m).await.assert_status(200);
    server.admin().put_show(&s).await.assert_status(200);
    let user = server.client(Uuid::new_v4());

    let r = user
        .post(
            &format!("/api/viewing/{}/abandon", m.id),
            &json!({ "progressPercent": 35.5, "abandonReason": " too <i>loud</i> ",
                     "qualityRating": 3.5, "wouldRetry": true }),
        )
        .await;
    r.assert_status(201);
    let location = r.header("location").unwrap_or_default().to_owned();
    assert_eq!(
        location,
        format!(
            "/api/viewing/abandoned/{}",
            r.body["id"].as_str().unwrap_or_default()
        )
    );
    assert_eq!(r.body["itemId"], json!(m.id));
    assert_eq!(r.body["itemType"], "movie");
    assert_eq!(r.body["progressPercent"], 35.5);
    assert_eq!(r.body["abandonReason"], "too loud");
    assert_eq!(r.body["qualityRating"], 3.5);
    assert_eq!(r.body["wouldRetry"], true);
    let read = user.get(&location).await;
    read.assert_status(200);
    assert_eq!(read.body, r.body);

    // A show defaults to its completion percent, and reads as dropped afterwards.
    user.watch_episode(s.episode(1, 1), &json!({}))
        .await
        .assert_status(201);
    let r = user
        .post(&format!("/api/viewing/{}/abandon", s.id), &json!({}))
        .await;
    r.assert_status(201);
    assert_eq!(r.body["itemType"], "show");
    assert_eq!(r.body["progressPercent"], 25.0);
    assert_eq!(r.body["abandonReason"], Value::Null);
    assert_eq!(r.body["qualityRating"], Value::Null);
    assert_eq!(r.body["wouldRetry"], false);
    assert_eq!(user.progress(s.id).await.body["status"], "dropped");
    let up_next = user.get("/api/viewing/progress").await;
    assert_eq!(
        up_next.body["items"],
        json!([]),
        "a dropped show leaves up next"
    );
    // Watching again resumes it.
    user.watch_episode(s.episode(1, 2), &json!({}))
        .await
        .assert_status(201);
    assert_eq!(user.progress(s.id).await.body["status"], "watching");

    user.post(
        &format!("/api/viewing/{}/abandon", Uuid::new_v4()),
        &json!({}),
    )
    .await
    .assert_problem(404, "content-not-found");
    user.get(&format!("/api/viewing/abandoned/{}", Uuid::new_v4()))
        .await
        .assert_problem(404, "not-found");
}

#[tokio::test]
async fn history_filters_pages_and_cursors() {
    let server = Server::start(&server_bin!());
    let m = movie("Heat", 170, &["crime"]);
    let s = show("Dark", "ended", &[6], 50);
    server.admin().put_movie(&m).await.assert_status(200);
    server.admin().put_show(&s).await.assert_status(200);
    let user = server.client(Uuid::new_v4());
    // Day 1 (2026-01-10): two movies. Days 2–4: two episodes a day on Netflix, then Hulu.
    for minutes in [0, 30] {
        user.watch_movie(
            m.id,
            &json!({ "watchDate": at(T0, minutes), "viewingPlatform": "Cinema" }),
        )
        .await
        .assert_status(201);
    }
    for e in 1..=6 {
        let day = ((e - 1) / 2 + 1) as i64;
        let platform = if e <= 4 { "Netflix" } else { "Hulu" };
        user.watch_episode(
            s.episode(1, e),
            &json!({ "watchDate": at(T0, day * 1440 + e as i64), "platform": platform }),
        )
        .await
        .assert_status(201);
    }

    let all = user.get("/api/viewing/history").await;
    all.assert_status(200);
    assert_eq!(all.body["totalItems"], 8);
    assert_eq!(all.body["totalPages"], 1);
    assert_eq!(all.body["page"], 1);
    assert_eq!(all.body["limit"], 20);
    assert_eq!(all.body["nextCursor"], Value::Null);
    let first = &all.body["items"][0];
    assert_eq!(first["contentId"], json!(s.episode(1, 6)), "newest first");
    assert_eq!(first["title"], "Dark S1E6");
    assert_eq!(first["showTitle"], "Dark");
    assert_eq!(first["seasonNumber"], 1);
    assert_eq!(first["episodeNumber"], 6);
    assert_eq!(all.body["items"][7]["title"], "Heat");
    assert_eq!(all.body["items"][7]["showTitle"], Value::Null);

    let count = |r: &viewing_tests::Resp| r.body["totalItems"].as_u64().unwrap_or(u64::MAX);
    assert_eq!(
        count(&user.get("/api/viewing/history?contentType=movie").await),
        2
    );
    assert_eq!(
        count(&user.get("/api/viewing/history?contentType=episode").await),
        6
    );
    assert_eq!(
        count(&user.get("/api/viewing/history?platform=netflix").await),
        4
    );
    assert_eq!(
        count(
            &user
                .get("/api/viewing/history?startDate=2026-01-11&endDate=2026-01-12")
                .await
        ),
        4
    );
    assert_eq!(
        count(
            &user
                .get("/api/viewing/history?endDate=2026-01-10T20:10:00Z")
                .await
        ),
        1
    );
    // A date in another zone: 2026-01-10 in Tokyo ends at 15:00 UTC, before everything.
    assert_eq!(
        count(
            &user
                .get("/api/viewing/history?endDate=2026-01-10&tz=Asia/Tokyo")
                .await
        ),
        0
    );

    let page2 = user.get("/api/viewing/history?page=2&limit=3").await;
    page2.assert_status(200);
    assert_eq!(page2.body["totalPages"], 3);
    assert_eq!(page2.body["items"].as_array().map(Vec::len), Some(3));
    assert_eq!(page2.body["items"][0], all.body["items"][3]);

    // Keyset paging walks the same order.
    let mut seen = Vec::new();
    let mut query = "/api/viewing/history?limit=3".to_owned();
    loop {
        let r = user.get(&query).await;
        r.assert_status(200);
        seen.extend(r.body["items"].as_array().cloned().unwrap_or_default());
        match r.body["nextCursor"].as_str() {
            Some(c) => query = format!("/api/viewing/history?limit=3&cursor={c}"),
            None => break,
        }
        assert!(seen.len() <= 8, "cursor paging does not end");
    }
    assert_eq!(Value::Array(seen), all.body["items"]);
}

#[tokio::test]
async fn up_next_and_statistics_shapes() {
    let server = Server::start(&server_bin!());
    let m = movie("Heat", 170, &["crime", "thriller"]);
    let a = show("Alpha", "returning", &[3], 30);
    let b = show("Beta", "ended", &[2], 45);
    for r in [
        server.admin().put_movie(&m).await,
        server.admin().put_show(&a).await,
        server.admin().put_show(&b).await,
    ] {
        r.assert_status(200);
    }
    let user = server.client(Uuid::new_v4());
    user.progress(Uuid::new_v4())
        .await
        .assert_problem(404, "content-not-found");
    assert_eq!(
        user.get("/api/viewing/progress").await.body,
        json!({ "items": [] })
    );
    user.watch_episode(a.episode(1, 1), &json!({ "watchDate": at(T0, 0) }))
        .await
        .assert_status(201);
    user.watch_episode(
        b.episode(1, 1),
        &json!({ "watchDate": at(T0, 60), "platform": "Hulu" }),
    )
    .await
    .assert_status(201);
    user.watch_movie(m.id, &json!({ "watchDate": at(T0, 300) }))
        .await
        .assert_status(201);

    let up = user.get("/api/viewing/progress").await;
    up.assert_status(200);
    let items = up.body["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 2, "{}", up.text);
    assert_eq!(
        items[0]["showId"],
        json!(b.id),
        "most recent activity first"
    );
    assert_eq!(items[0]["nextEpisode"]["episodeId"], json!(b.episode(1, 2)));
    assert_eq!(items[1]["nextEpisode"]["title"], "Alpha S1E2");

    let stats = user
        .wait_statistics("?period=all", |s| s["totalWatched"] == 3)
        .await;
    assert_eq!(stats["period"], "all");
    assert_eq!(stats["from"], Value::Null);
    assert_eq!(stats["movies"], 1);
    assert_eq!(stats["episodes"], 2);
    assert_eq!(stats["totalMinutes"], 170 + 30 + 45);
    let by_type = stats["byType"].as_array().cloned().unwrap_or_default();
    assert!(
        by_type.contains(&json!({ "type": "movie", "count": 1, "minutes": 170 })),
        "{stats}"
    );
    assert!(
        by_type.contains(&json!({ "type": "episode", "count": 2, "minutes": 75 })),
        "{stats}"
    );
    let by_genre = stats["byGenre"].as_array().cloned().unwrap_or_default();
    assert!(
        by_genre.contains(&json!({ "genre": "crime", "count": 3, "minutes": 245 })),
        "{stats}"
    );
    let by_platform = stats["byPlatform"].as_array().cloned().unwrap_or_default();
    assert!(
        by_platform.contains(&json!({ "platform": "unknown", "count": 2, "minutes": 200 })),
        "{stats}"
    );
    assert!(
        by_platform.contains(&json!({ "platform": "Hulu", "count": 1, "minutes": 45 })),
        "{stats}"
    );

    let week = user
        .wait_statistics("?period=week&date=2026-01-10&tz=Europe/Paris", |s| {
            s["totalWatched"] == 3
        })
        .await;
    assert_eq!(week["from"], "2026-01-05");
    assert_eq!(week["to"], "2026-01-11");
    let month = user
        .wait_statistics("?period=month&date=2025-12-31", |s| s["period"] == "month")
        .await;
    assert_eq!(month["totalWatched"], 0);
}

#[tokio::test]
async fn idempotent_repeats_return_the_first_answer_and_record_nothing() {
    let server = Server::start(&server_bin!());
    let m = movie("Heat", 170, &["crime"]);
    let s = show("Dark", "ended", &[3], 50);
    server.admin().put_movie(&m).await.assert_status(200);
    server.admin().put_show(&s).await.assert_status(200);
    let user = server.client(Uuid::new_v4());
    let post = |path: String, key: &str, body: Value| {
        user.request(reqwest::Method::POST, &path)
            .header("idempotency-key", key)
            .json(&body)
    };
    let movie_path = format!("/api/viewing/movies/{}/watched", m.id);

    let first = user.send(post(movie_path.clone(), "k-1", json!({}))).await;
    first.assert_status(201);
    let repeat = user.send(post(movie_path.clone(), "k-1", json!({}))).await;
    repeat.assert_status(201);
    assert_eq!(repeat.body, first.body);
    assert_eq!(repeat.header("location"), first.header("location"));
    assert_eq!(repeat.header("idempotent-replayed"), Some("true"));
    let history = user.get("/api/viewing/history").await;
    assert_eq!(history.body["totalItems"], 1);

    // Episodes and abandons too. A refused request is not kept: corrected, the same key runs.
    let ep = format!("/api/viewing/episodes/{}/watched", s.episode(1, 2));
    let refused = user.send(post(ep.clone(), "k-2", json!({}))).await;
    refused.assert_problem(409, "episode-out-of-order");
    let fresh = user
        .send(post(
            ep.clone(),
            "k-2",
            json!({ "markPreviousWatched": true }),
        ))
        .await;
    fresh.assert_status(201);
    assert_eq!(fresh.header("idempotent-replayed"), None);
    let fresh_again = user
        .send(post(ep, "k-2", json!({ "markPreviousWatched": true })))
        .await;
    assert_eq!(fresh_again.body, fresh.body);
    assert_eq!(fresh_again.header("idempotent-replayed"), Some("true"));

    let abandon = format!("/api/viewing/{}/abandon", s.id);
    let a1 = user
        .send(post(
            abandon.clone(),
            "k-4",
            json!({ "abandonReason": "meh" }),
        ))
        .await;
    a1.assert_status(201);
    let a2 = user
        .send(post(abandon, "k-4", json!({ "abandonReason": "meh" })))
        .await;
    assert_eq!(a2.status, 201);
    assert_eq!(a2.body, a1.body);
    assert_eq!(a2.header("location"), a1.header("location"));
    let history = user.get("/api/viewing/history").await;
    assert_eq!(
        history.body["totalItems"], 3,
        "1 movie + E1 (backfilled) + E2"
    );

    // Keys are per user: another user's identical key runs on its own.
    let other = server.client(Uuid::new_v4());
    let theirs = other
        .send(
            other
                .request(reqwest::Method::POST, &movie_path)
                .header("idempotency-key", "k-1")
                .json(&json!({})),
        )
        .await;
    theirs.assert_status(201);
    assert_ne!(theirs.body["id"], first.body["id"]);
    assert_eq!(
        other.get("/api/viewing/history").await.body["totalItems"],
        1
    );
}

#[tokio::test]
async fn operations_endpoints() {
    let server = Server::start(&server_bin!());
    let anon = server.anonymous();
    let live = anon.get("/health/live").await;
    live.assert_status(200);
    assert_eq!(live.body["status"], "ok");
    let ready = anon.get("/health/ready").await;
    ready.assert_status(200);
    assert_eq!(ready.body["status"], "ready");
    assert!(live.header("x-request-id").is_some_and(|v| !v.is_empty()));
    let echoed = anon
        .send(
            reqwest::Client::new()
                .get(server.url("/health/live"))
                .header("x-request-id", "my-request-42"),
        )
        .await;
    assert_eq!(echoed.header("x-request-id"), Some("my-request-42"));

    server
        .client(Uuid::new_v4())
        .get("/api/viewing/history")
        .await
        .assert_status(200);
    let metrics = anon.get("/metrics").await;
    metrics.assert_status(200);
    assert!(
        metrics
            .header("content-type")
            .is_some_and(|c| c.starts_with("text/plain"))
    );
    assert!(
        metrics.text.contains(
            "http_requests_total{method=\"GET\",route=\"/api/viewing/history\",status=\"200\"} 1"
        ),
        "{}",
        metrics.text
    );
    assert!(metrics.text.contains("http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/viewing/history\",le=\"+Inf\"} 1"));

    let doc = anon.get("/api/openapi.json").await;
    doc.assert_status(200);
    assert!(
        doc.body["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1"))
    );
    let paths = doc.body["paths"].as_object().cloned().unwrap_or_default();
    let expected = [
        ("/api/catalog/movies/{movieId}", vec!["get", "put"]),
        ("/api/catalog/shows/{showId}", vec!["get", "put"]),
        ("/api/catalog/lookup", vec!["get"]),
        ("/api/catalog/search", vec!["get"]),
        ("/api/imports", vec!["get", "post"]),
        ("/api/export", vec!["get"]),
        ("/api/playback/start", vec!["post"]),
        ("/api/playback/pause", vec!["post"]),
        ("/api/playback/stop", vec!["post"]),
        ("/api/playback/now", vec!["get"]),
        ("/api/playback", vec!["get"]),
        ("/api/playback/{playbackId}", vec!["delete"]),
        ("/api/integrations", vec!["get", "post"]),
        ("/api/integrations/{integrationId}", vec!["delete"]),
        ("/api/integrations/{integrationId}/deliveries", vec!["get"]),
        (
            "/api/integrations/{integrationId}/deliveries/{deliveryId}/replay",
            vec!["post"],
        ),
        ("/webhooks/{secret}", vec!["post"]),
        ("/api/imports/{importId}", vec!["get", "delete"]),
        ("/api/imports/{importId}/items", vec!["get"]),
        ("/api/viewing/movies/{movieId}/watched", vec!["post"]),
        ("/api/viewing/episodes/{episodeId}/watched", vec!["post"]),
        ("/api/viewing/{itemId}/abandon", vec!["post"]),
        ("/api/viewing/records/{recordId}", vec!["get"]),
        ("/api/viewing/abandoned/{abandonId}", vec!["get"]),
        ("/api/viewing/binge-sessions/{sessionId}", vec!["get"]),
        ("/api/viewing/history", vec!["get"]),
        ("/api/viewing/progress", vec!["get"]),
        ("/api/viewing/progress/{showId}", vec!["get"]),
        (
            "/api/viewing/progress/{showId}/reset",
            vec!["post", "delete"],
        ),
        ("/api/viewing/statistics", vec!["get"]),
        ("/api/viewing/achievements", vec!["get"]),
        ("/api/viewing/reminders", vec!["get"]),
        ("/api/viewing/preferences", vec!["get"]),
        ("/api/watchlist", vec!["get"]),
        ("/api/watchlist/{contentId}", vec!["put", "delete"]),
        ("/api/admin/dead-letters", vec!["get"]),
        ("/api/admin/dead-letters/{eventId}/retry", vec!["post"]),
        ("/api/catalog/refresh/{kind}/{id}", vec!["put"]),
        ("/health/live", vec!["get"]),
        ("/health/ready", vec!["get"]),
        ("/metrics", vec!["get"]),
        ("/api/openapi.json", vec!["get"]),
    ];
    for (path, methods) in &expected {
        for method in methods {
            let op = &paths.get(*path).cloned().unwrap_or_default()[method];
            assert!(op.is_object(), "{method} {path} missing from the document");
            if path.starts_with("/api/") && *path != "/api/openapi.json" {
                for status in ["400", "401", "429", "503"] {
                    assert!(
                        op["responses"][status].is_object(),
                        "{method} {path} {status}"
                    );
                }
                assert!(op["security"].is_array(), "{method} {path} security");
            }
            // The watchlist PUT, the dead-letter retry, the reset and the refresh have no body:
            // the path says everything.
            let bodyless = *path == "/api/watchlist/{contentId}"
                || *path == "/api/catalog/refresh/{kind}/{id}"
                || *path == "/api/integrations/{integrationId}/deliveries/{deliveryId}/replay"
                || *path == "/api/admin/dead-letters/{eventId}/retry"
                || *path == "/api/viewing/progress/{showId}/reset";
            if (*method == "post" || *method == "put") && !bodyless {
                assert!(op["requestBody"].is_object(), "{method} {path} body");
                // A media server's delivery is never 422: what cannot be read is 400.
                let statuses: &[&str] = if path.starts_with("/webhooks/") {
                    &["413", "400"]
                } else {
                    &["413", "422"]
                };
                for status in statuses {
                    assert!(
                        op["responses"][status].is_object(),
                        "{method} {path} {status}"
                    );
                }
            }
        }
    }
    assert_eq!(
        paths.len(),
        expected.len(),
        "no undocumented extras: {:?}",
        paths.keys()
    );
    let schemas = &doc.body["components"]["schemas"];
    for schema in [
        "Problem",
        "ViewingRecordDto",
        "EpisodeWatchedDto",
        "AbandonRecordDto",
        "BingeSessionDto",
        "StatisticsDto",
        "ProgressDto",
        "HistoryPageDto",
        "MissingEpisodeDto",
    ] {
        assert!(schemas[schema].is_object(), "schema {schema}");
    }
    assert!(doc.body["components"]["securitySchemes"]["bearer"].is_object());
}
