//! SPEC §3 over HTTP: tokens, roles, error format, body limit, text cleaning, rate limit.

use serde_json::json;
use uuid::Uuid;
use viewing_tests::{Api, Options, SECRET, Server, movie, server_bin, sign, unsigned_token};

#[tokio::test]
async fn bad_tokens_are_401_problems() {
    let server = Server::start(&server_bin!());
    let path = "/api/viewing/history";
    let user = Uuid::new_v4();
    let now = chrono::Utc::now().timestamp();

    server
        .anonymous()
        .get(path)
        .await
        .assert_problem(401, "unauthorized");

    let api = server.client(user);
    let expired = sign(SECRET, &json!({ "sub": user, "exp": now - 3600 }));
    let wrong_key = sign("another-secret", &json!({ "sub": user, "exp": now + 3600 }));
    let no_exp = sign(SECRET, &json!({ "sub": user }));
    let sub_not_uuid = sign(SECRET, &json!({ "sub": "alice", "exp": now + 3600 }));
    for (what, token) in [
        ("expired", expired.as_str()),
        ("wrongly signed", wrong_key.as_str()),
        ("without exp", no_exp.as_str()),
        ("sub not a UUID", sub_not_uuid.as_str()),
        ("alg none", unsigned_token(user).as_str()),
        ("malformed", "not-a-jwt"),
        ("empty", ""),
    ] {
        let r = api.with_token(token).get(path).await;
        assert_eq!(r.status, 401, "{what}: {}", r.text);
        r.assert_problem(401, "unauthorized");
    }
    // Another scheme than Bearer.
    let r = api
        .send(
            reqwest::Client::new()
                .get(server.url(path))
                .header("authorization", format!("Basic {SECRET}")),
        )
        .await;
    r.assert_problem(401, "unauthorized");
    // An `alg: none` admin token cannot write the catalog either.
    let m = movie("Heat", 170, &["crime"]);
    api.with_token(&unsigned_token(user))
        .put_movie(&m)
        .await
        .assert_problem(401, "unauthorized");
}

#[tokio::test]
async fn catalog_writes_need_the_admin_role() {
    let server = Server::start(&server_bin!());
    let m = movie("Heat", 170, &["crime"]);
    server
        .client(Uuid::new_v4())
        .put_movie(&m)
        .await
        .assert_problem(403, "forbidden");
    let show = viewing_tests::show("Lost", "ended", &[2], 40);
    server
        .client(Uuid::new_v4())
        .put_show(&show)
        .await
        .assert_problem(403, "forbidden");
    server.admin().put_movie(&m).await.assert_status(200);
}

#[tokio::test]
async fn malformed_requests_are_400_problems() {
    let server = Server::start(&server_bin!());
    let admin = server.admin();
    let m = movie("Heat", 170, &["crime"]);
    admin.put_movie(&m).await.assert_status(200);
    let api = server.client(Uuid::new_v4());
    let watched = format!("/api/viewing/movies/{}/watched", m.id);

    api.post_raw(&watched, "{\"watchDate\": ")
        .await
        .assert_problem(400, "malformed-request");
    api.post_raw(&watched, "[1, 2]")
        .await
        .assert_problem(400, "malformed-request");
    api.post(&watched, &json!({ "isRewatch": "yes" }))
        .await
        .assert_problem(400, "malformed-request");
    api.post(&watched, &json!({ "watchedWith": "Sam" }))
        .await
        .assert_problem(400, "malformed-request");
    api.post(&watched, &json!({ "watchDate": "yesterday" }))
        .await
        .assert_problem(400, "malformed-request");
    admin
        .put(
            &format!("/api/catalog/movies/{}", Uuid::new_v4()),
            &json!({ "title": "x", "runtimeMinutes": "long" }),
        )
        .await
        .assert_problem(400, "malformed-request");
    let mut bad_status = viewing_tests::show("Lost", "ended", &[1], 40);
    bad_status.body["status"] = json!("paused");
    admin
        .put_show(&bad_status)
        .await
        .assert_problem(400, "malformed-request");

    // Ids in paths must be UUIDs.
    for path in [
        "/api/viewing/movies/42/watched",
        "/api/viewing/episodes/not-a-uuid/watched",
        "/api/viewing/abc/abandon",
    ] {
        api.post(path, &json!({}))
            .await
            .assert_problem(400, "malformed-request");
    }
    for path in [
        "/api/viewing/records/42",
        "/api/viewing/abandoned/xyz",
        "/api/viewing/progress/1234",
        "/api/catalog/movies/heat",
        "/api/catalog/shows/lost",
    ] {
        api.get(path).await.assert_problem(400, "malformed-request");
    }
    admin
        .put("/api/catalog/movies/heat", &m.body)
        .await
        .assert_problem(400, "malformed-request");

    // Unparsable queries.
    for query in [
        "page=abc",
        "page=0",
        "limit=0",
        "limit=101",
        "limit=-1",
        "contentType=book",
        "startDate=last-week",
        "tz=Mars/Olympus",
        "cursor=garbage",
        "cursor=",
        "tz=",
        "contentType=",
        "startDate=",
    ] {
        let r = api.get(&format!("/api/viewing/history?{query}")).await;
        assert_eq!(r.status, 400, "{query}: {}", r.text);
        r.assert_problem(400, "malformed-request");
    }
    // A start after the end is a valid range that holds nothing.
    let inverted = api
        .get("/api/viewing/history?startDate=2026-02-01&endDate=2026-01-01")
        .await;
    inverted.assert_status(200);
    assert_eq!(inverted.body["totalItems"], 0);
    for query in [
        "period=decade",
        "date=31/12/2026",
        "tz=Nowhere",
        "period=",
        "date=",
    ] {
        let r = api.statistics(&format!("?{query}")).await;
        assert_eq!(r.status, 400, "{query}: {}", r.text);
        r.assert_problem(400, "malformed-request");
    }
    // A bad Idempotency-Key header.
    let r = api
        .send(
            api.request(reqwest::Method::POST, &watched)
                .header("idempotency-key", "x".repeat(300))
                .json(&json!({})),
        )
        .await;
    r.assert_problem(400, "malformed-request");
}

#[tokio::test]
async fn unknown_routes_and_methods_are_problems_too() {
    let server = Server::start(&server_bin!());
    let api = server.client(Uuid::new_v4());
    api.get("/api/nothing-here")
        .await
        .assert_problem(404, "not-found");
    api.get("/nope").await.assert_problem(404, "not-found");
    let r = api
        .send(api.request(reqwest::Method::DELETE, "/api/viewing/history"))
        .await;
    assert_eq!(r.status, 405, "{}", r.text);
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
}

#[tokio::test]
async fn bodies_over_64_kib_are_413() {
    let server = Server::start(&server_bin!());
    let admin = server.admin();
    let m = movie("Heat", 170, &["crime"]);
    admin.put_movie(&m).await.assert_status(200);
    let api = server.client(Uuid::new_v4());
    let huge = json!({ "viewingLocation": "x".repeat(70 * 1024) }).to_string();
    api.post_raw(&format!("/api/viewing/movies/{}/watched", m.id), huge)
        .await
        .assert_problem(413, "payload-too-large");
    let mut big_show = m.body.clone();
    big_show["genres"] = json!(vec!["g".repeat(1000); 80]);
    admin
        .put(&format!("/api/catalog/movies/{}", m.id), &big_show)
        .await
        .assert_problem(413, "payload-too-large");
    // Just under the limit is read (and then refused for its content).
    let under = json!({ "viewingLocation": "x".repeat(60 * 1024) }).to_string();
    api.post_raw(&format!("/api/viewing/movies/{}/watched", m.id), under)
        .await
        .assert_problem(422, "validation-failed");
}

#[tokio::test]
async fn text_is_cleaned_and_over_long_text_is_422() {
    let server = Server::start(&server_bin!());
    let admin = server.admin();
    let mut m = movie("<b>Heat</b>", 170, &["crime", "<i>thriller</i>"]);
    let stored = admin.put_movie(&m).await;
    stored.assert_status(200);
    assert_eq!(stored.body["title"], "Heat");
    assert_eq!(stored.body["genres"], json!(["crime", "thriller"]));
    let api = server.client(Uuid::new_v4());

    let r = api
        .watch_movie(
            m.id,
            &json!({
                "viewingLocation": "  <script>alert(1)</script>Living <b>room</b>\u{0007} ",
                "viewingPlatform": "Net&flix",
                "viewingContext": "<img src=x onerror=alert(1)>date night",
                "watchedWith": ["<a href='x'>Sam</a>", "  ", "Alex"],
            }),
        )
        .await;
    r.assert_status(201);
    assert_eq!(r.body["viewingLocation"], "Living room");
    assert_eq!(r.body["platform"], "Net&flix");
    assert_eq!(r.body["viewingContext"], "date night");
    assert_eq!(r.body["watchedWith"], json!(["Sam", "Alex"]));

    // Limits are counted after cleaning, and over-long input is refused, never cut.
    let r = api
        .watch_movie(
            m.id,
            &json!({
                "viewingLocation": "x".repeat(201),
                "viewingPlatform": "p".repeat(101),
                "viewingContext": format!("<b>{}</b>", "c".repeat(51)),
                "watchedWith": vec!["n"; 21],
            }),
        )
        .await;
    r.assert_problem(422, "validation-failed");
    let fields: Vec<&str> = r.body["errors"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["field"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        fields,
        [
            "viewingLocation",
            "viewingPlatform",
            "viewingContext",
            "watchedWith"
        ],
        "{}",
        r.text
    );
    // Exactly at the limit is fine, tags do not count.
    api.watch_movie(
        m.id,
        &json!({ "viewingLocation": format!("<p>{}</p>", "x".repeat(200)) }),
    )
    .await
    .assert_status(201);
    let r = api
        .watch_movie(m.id, &json!({ "watchedWith": ["y".repeat(201)] }))
        .await;
    r.assert_problem(422, "validation-failed");
    assert_eq!(r.body["errors"][0]["field"], "watchedWith");

    // Other 422s: a watch date too far ahead, a rating out of range, a blank title.
    let ahead = (chrono::Utc::now() + chrono::Duration::minutes(30)).to_rfc3339();
    api.watch_movie(m.id, &json!({ "watchDate": ahead }))
        .await
        .assert_problem(422, "validation-failed");
    api.post(
        &format!("/api/viewing/{}/abandon", m.id),
        &json!({ "qualityRating": 11.0, "progressPercent": 120, "abandonReason": "r".repeat(501) }),
    )
    .await
    .assert_problem(422, "validation-failed");
    m.body["title"] = json!("<b></b>  ");
    let r = admin.put_movie(&m).await;
    r.assert_problem(422, "validation-failed");
    assert_eq!(r.body["errors"][0]["field"], "title");
}

#[tokio::test]
async fn each_user_has_a_rate_limit_answered_with_429_and_retry_after() {
    let server = Server::start_with(
        &server_bin!(),
        Options {
            env: vec![
                ("VIEWING_RATE_LIMIT_PER_MIN".into(), "1".into()),
                ("VIEWING_RATE_LIMIT_BURST".into(), "3".into()),
            ],
            ..Options::default()
        },
    );
    let alice = server.client(Uuid::new_v4());
    for _ in 0..3 {
        alice.get("/api/viewing/history").await.assert_status(200);
    }
    let r = alice.get("/api/viewing/history").await;
    r.assert_problem(429, "rate-limited");
    let retry: u64 = r
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("Retry-After missing: {:?}", r.headers));
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    // Another user has a bucket of their own; health checks are not limited.
    let bob = server.client(Uuid::new_v4());
    bob.get("/api/viewing/history").await.assert_status(200);
    Api::new(&server.base, None)
        .get("/health/live")
        .await
        .assert_status(200);
}
