//! SPEC §9 at the HTTP edge, through the real binary, on SQLite and on PostgreSQL: the order of
//! checks (401 → 403 → path → body), problem+json for every error (404, 405, 413, 414, 431,
//! and what the HTTP parser refuses by itself), token clock leeway and `nbf`, and the
//! per-address rate limit of requests without a valid token.
//!
//! Each scenario runs twice: `*_sqlite` on a fresh SQLite file, `*_postgres` on a fresh
//! PostgreSQL database (when VIEWING_TEST_POSTGRES_URL is set; always under CI=true).

use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use uuid::Uuid;
use viewing_tests::postgres::{Database, admin_url};
use viewing_tests::{Api, Options, Resp, SECRET, Server, movie, server_bin, show, sign};

/// Which store a scenario runs on.
#[derive(Debug, Clone, Copy)]
enum Store {
    Sqlite,
    Postgres,
}

/// A server on `store` (and the database it owns), or `None` when PostgreSQL is not
/// configured here (never under CI=true).
async fn start(store: Store, mut options: Options) -> Option<(Server, Option<Database>)> {
    let db = match store {
        Store::Sqlite => None,
        Store::Postgres => Some(Database::create(&admin_url()?).await),
    };
    options.database_url = db.as_ref().map(|d| d.url.clone());
    Some((Server::start_with(&server_bin!(), options), db))
}

/// Declares `NAME_sqlite` and `NAME_postgres` tests running `async fn NAME(Store)`.
macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[tokio::test] async fn $name() { super::$name(super::Store::Sqlite).await } )*
        }
        mod postgres {
            $( #[tokio::test] async fn $name() { super::$name(super::Store::Postgres).await } )*
        }
    };
}

on_both_stores!(
    authorization_comes_before_path_and_body,
    uris_over_8_kib_are_414_problems,
    too_many_headers_and_unparsable_requests_are_problems,
    unknown_routes_methods_and_big_bodies_are_problems,
    tokens_have_little_leeway_and_honour_nbf,
    requests_without_a_valid_token_are_limited_per_address,
);

/// A request sent byte for byte over TCP (what an HTTP client library would refuse to send),
/// and the answer read until the server closes the connection.
async fn raw(server: &Server, request: &[u8]) -> Resp {
    let addr = server.base.trim_start_matches("http://");
    let mut tcp = tokio::net::TcpStream::connect(addr)
        .await
        .unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    tcp.write_all(request)
        .await
        .unwrap_or_else(|e| panic!("write: {e}"));
    let mut bytes = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), tcp.read_to_end(&mut bytes))
        .await
        .unwrap_or_else(|_| panic!("the server kept the connection open"))
        .unwrap_or_else(|e| panic!("read: {e}"));
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no response head in {text:?}"));
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {head:?}"));
    let mut headers = reqwest::header::HeaderMap::new();
    for line in lines {
        let (name, value) = line
            .split_once(':')
            .unwrap_or_else(|| panic!("bad header {line:?}"));
        if let (Ok(n), Ok(v)) = (
            reqwest::header::HeaderName::from_bytes(name.trim().as_bytes()),
            reqwest::header::HeaderValue::from_str(value.trim()),
        ) {
            headers.append(n, v);
        }
    }
    let declared: Option<usize> = headers
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    assert_eq!(declared, Some(body.len()), "content-length of {text:?}");
    Resp {
        status,
        headers,
        text: body.to_owned(),
        body: serde_json::from_str(body).unwrap_or(Value::Null),
    }
}

/// A GET of `target` with a bearer token, over raw TCP.
fn get_request(target: &str, token: &str) -> Vec<u8> {
    format!(
        "GET {target} HTTP/1.1\r\nhost: localhost\r\nauthorization: Bearer {token}\r\nconnection: close\r\n\r\n"
    )
    .into_bytes()
}

/// `path?pad=xxx…` exactly `len` bytes long.
fn target_of_len(path: &str, len: usize) -> String {
    let prefix = format!("{path}?pad=");
    let target = format!("{prefix}{}", "x".repeat(len - prefix.len()));
    assert_eq!(target.len(), len);
    target
}

async fn authorization_comes_before_path_and_body(store: Store) {
    let Some((server, _db)) = start(store, Options::default()).await else {
        return;
    };
    let user = server.client(Uuid::new_v4());
    let admin = server.admin();
    let movie_path = format!("/api/catalog/movies/{}", Uuid::new_v4());
    let show_path = format!("/api/catalog/shows/{}", Uuid::new_v4());
    let bad_body = json!({ "title": 42, "runtimeMinutes": "long" });
    let huge_body = json!({ "title": "x".repeat(70 * 1024) });

    // A user token is 403 on catalog writes whatever the path id and the body.
    for (path, body) in [
        (movie_path.as_str(), &bad_body),
        ("/api/catalog/movies/not-a-uuid", &bad_body),
        ("/api/catalog/movies/not-a-uuid", &huge_body),
        (show_path.as_str(), &bad_body),
        ("/api/catalog/shows/42", &json!({ "seasons": "none" })),
    ] {
        let r = user.put(path, body).await;
        assert_eq!(r.status, 403, "user PUT {path}: {}", r.text);
        r.assert_problem(403, "forbidden");
    }
    let r = user
        .send(
            user.request(reqwest::Method::PUT, "/api/catalog/movies/x")
                .header("content-type", "application/json")
                .body("{not json"),
        )
        .await;
    r.assert_problem(403, "forbidden");

    // 401 beats everything: no token, an expired one, an unsigned admin one.
    let now = chrono::Utc::now().timestamp();
    let expired_admin = sign(
        SECRET,
        &json!({ "sub": Uuid::new_v4(), "exp": now - 3600, "role": "admin" }),
    );
    for api in [
        server.anonymous(),
        server.anonymous().with_token(&expired_admin),
        server
            .anonymous()
            .with_token(&viewing_tests::unsigned_token(Uuid::new_v4())),
    ] {
        api.put("/api/catalog/movies/not-a-uuid", &bad_body)
            .await
            .assert_problem(401, "unauthorized");
    }

    // An admin: the path is checked before the body.
    let r = admin.put("/api/catalog/movies/not-a-uuid", &bad_body).await;
    r.assert_problem(400, "malformed-request");
    assert!(
        r.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("path")),
        "the path's 400, not the body's: {}",
        r.text
    );
    let r = admin
        .put("/api/catalog/movies/not-a-uuid", &huge_body)
        .await;
    r.assert_problem(400, "malformed-request");
    let r = admin.put(&movie_path, &bad_body).await;
    r.assert_problem(400, "malformed-request");
    assert!(
        r.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("body")),
        "the body's 400: {}",
        r.text
    );
    admin
        .put(&movie_path, &huge_body)
        .await
        .assert_problem(413, "payload-too-large");
    // And a good write still works, for an admin only.
    let m = movie("Heat", 170, &["crime"]);
    admin.put_movie(&m).await.assert_status(200);
    user.put_movie(&m).await.assert_problem(403, "forbidden");
    let s = show("Dark", "ended", &[2], 50);
    admin.put_show(&s).await.assert_status(200);
    user.get(&format!("/api/catalog/shows/{}", s.id))
        .await
        .assert_status(200);
}

async fn uris_over_8_kib_are_414_problems(store: Store) {
    let Some((server, _db)) = start(store, Options::default()).await else {
        return;
    };
    let user = Uuid::new_v4();
    let api = server.client(user);
    let token = viewing_tests::token(user, false);

    // Exactly 8 KiB of path and query is served.
    for path in ["/health/live", "/api/viewing/history"] {
        let target = target_of_len(path, 8192);
        let r = api.get(&target).await;
        assert_eq!(r.status, 200, "{path} at 8192 bytes: {}", r.text);
        let r = raw(&server, &get_request(&target, &token)).await;
        assert_eq!(r.status, 200, "{path} at 8192 bytes, raw: {}", r.text);
    }
    // One byte more is 414, before authentication.
    for path in ["/health/live", "/api/viewing/history", "/api/nothing-here"] {
        let target = target_of_len(path, 8193);
        api.get(&target).await.assert_problem(414, "uri-too-long");
        server
            .anonymous()
            .get(&target)
            .await
            .assert_problem(414, "uri-too-long");
    }
    // 20 KiB (served before) and 70 KiB (over what the HTTP parser itself reads, which used to
    // answer a bare 414 with no body) are 414 problems too.
    for len in [20 * 1024, 70 * 1024] {
        let target = target_of_len("/api/viewing/history", len);
        let r = raw(&server, &get_request(&target, &token)).await;
        assert_eq!(r.status, 414, "{len} bytes: {:?} {}", r.headers, r.text);
        r.assert_problem(414, "uri-too-long");
    }
    // The server still answers afterwards.
    api.get("/api/viewing/history").await.assert_status(200);
}

async fn too_many_headers_and_unparsable_requests_are_problems(store: Store) {
    let Some((server, _db)) = start(store, Options::default()).await else {
        return;
    };
    let user = Uuid::new_v4();
    let api = server.client(user);
    let token = viewing_tests::token(user, false);

    // 150 request headers (over hyper's 100): 431 problem+json, through an ordinary client…
    let mut rb = api.request(reqwest::Method::GET, "/api/viewing/history");
    for i in 0..150 {
        rb = rb.header(format!("x-extra-{i}"), "1");
    }
    api.send(rb).await.assert_problem(431, "headers-too-large");
    // …and byte for byte.
    let mut request = String::from("GET /api/viewing/history HTTP/1.1\r\nhost: localhost\r\n");
    request.push_str(&format!("authorization: Bearer {token}\r\n"));
    for i in 0..150 {
        request.push_str(&format!("x-extra-{i}: 1\r\n"));
    }
    request.push_str("\r\n");
    let r = raw(&server, request.as_bytes()).await;
    r.assert_problem(431, "headers-too-large");
    assert_eq!(r.header("connection"), Some("close"));
    // 90 headers are fine.
    let mut rb = api.request(reqwest::Method::GET, "/api/viewing/history");
    for i in 0..90 {
        rb = rb.header(format!("x-extra-{i}"), "1");
    }
    api.send(rb).await.assert_status(200);

    // A request line the parser cannot read: 400 problem+json, not a bare 400.
    for garbage in [
        &b"NOT HTTP AT ALL\r\n\r\n"[..],
        b"GET /api/viewing/history HTTP/9.9\r\nhost: x\r\n\r\n",
        b"GET /api/viewing/history HTTP/1.1\r\nbad header line\r\n\r\n",
    ] {
        let r = raw(&server, garbage).await;
        assert_eq!(
            r.status,
            400,
            "{}: {}",
            String::from_utf8_lossy(garbage),
            r.text
        );
        r.assert_problem(400, "malformed-request");
    }
    api.get("/api/viewing/history").await.assert_status(200);
}

async fn unknown_routes_methods_and_big_bodies_are_problems(store: Store) {
    let Some((server, _db)) = start(store, Options::default()).await else {
        return;
    };
    let api = server.client(Uuid::new_v4());
    for path in ["/api/nothing-here", "/nope", "/api/viewing/history/extra"] {
        api.get(path).await.assert_problem(404, "not-found");
        server
            .anonymous()
            .get(path)
            .await
            .assert_problem(404, "not-found");
    }
    for (method, path) in [
        (reqwest::Method::DELETE, "/api/viewing/history"),
        (reqwest::Method::POST, "/api/viewing/statistics"),
        (reqwest::Method::PATCH, "/health/live"),
    ] {
        api.send(api.request(method, path))
            .await
            .assert_problem(405, "method-not-allowed");
    }
    let admin = server.admin();
    let m = movie("Heat", 170, &["crime"]);
    admin.put_movie(&m).await.assert_status(200);
    let huge = json!({ "viewingLocation": "x".repeat(70 * 1024) }).to_string();
    api.post_raw(&format!("/api/viewing/movies/{}/watched", m.id), huge)
        .await
        .assert_problem(413, "payload-too-large");
}

async fn tokens_have_little_leeway_and_honour_nbf(store: Store) {
    let Some((server, _db)) = start(store, Options::default()).await else {
        return;
    };
    let user = Uuid::new_v4();
    let api = server.anonymous();
    let path = "/api/viewing/history";
    let now = chrono::Utc::now().timestamp();
    let with = |claims: Value| api.with_token(&sign(SECRET, &claims));

    // Expired 7 s and 10 s ago: refused (the leeway is at most 5 s; it was 30 s).
    for ago in [7, 10, 25] {
        let r = with(json!({ "sub": user, "exp": now - ago }))
            .get(path)
            .await;
        assert_eq!(r.status, 401, "exp {ago} s ago: {}", r.text);
        r.assert_problem(401, "unauthorized");
    }
    // `nbf` in the future beyond the leeway: not yet valid.
    for ahead in [10, 60, 3600] {
        let r = with(json!({ "sub": user, "exp": now + 7200, "nbf": now + ahead }))
            .get(path)
            .await;
        r.assert_problem(401, "unauthorized");
        assert!(
            r.body["detail"]
                .as_str()
                .is_some_and(|d| d.contains("not yet valid")),
            "nbf in {ahead} s: {}",
            r.text
        );
    }
    // `nbf` passed, or within the leeway: accepted.
    for nbf in [now - 60, now + 1] {
        with(json!({ "sub": user, "exp": now + 3600, "nbf": nbf }))
            .get(path)
            .await
            .assert_status(200);
    }
}

async fn requests_without_a_valid_token_are_limited_per_address(store: Store) {
    let options = Options {
        env: vec![
            ("VIEWING_RATE_LIMIT_ANON_PER_MIN".into(), "1".into()),
            ("VIEWING_RATE_LIMIT_ANON_BURST".into(), "4".into()),
        ],
        ..Options::default()
    };
    let Some((server, _db)) = start(store, options).await else {
        return;
    };
    let path = "/api/viewing/history";
    let user = Uuid::new_v4();
    let good = server.client(user);
    let wrong_key = sign(
        "guessed-secret",
        &json!({ "sub": user, "exp": 4102444800_i64 }),
    );
    let anonymous = server.anonymous();
    let guessing = anonymous.with_token(&wrong_key);

    // Valid tokens do not take from the address's bucket.
    for _ in 0..6 {
        good.get(path).await.assert_status(200);
    }
    // Nor do deliveries to a known webhook secret.
    let made = good
        .post("/api/integrations", &json!({"kind": "jellyfin"}))
        .await;
    made.assert_status(201);
    let hook = made.body["url"].as_str().unwrap_or_default().to_owned();
    for _ in 0..6 {
        anonymous
            .post(&hook, &json!({"NotificationType": "Unknown"}))
            .await
            .assert_status(200);
    }
    // Missing and bad tokens and unknown webhook secrets share it: 4 are answered 401 (404),
    // then 429 with Retry-After.
    let guessed_hook = "/webhooks/0123456789abcdef0123456789abcdef";
    for api in [&anonymous, &guessing, &anonymous] {
        api.get(path).await.assert_problem(401, "unauthorized");
    }
    anonymous
        .post(guessed_hook, &json!({}))
        .await
        .assert_problem(404, "not-found");
    for api in [&anonymous, &guessing] {
        let r = api.get(path).await;
        r.assert_problem(429, "rate-limited");
        let retry: u64 = r
            .header("retry-after")
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("Retry-After missing: {:?}", r.headers));
        assert!((1..=60).contains(&retry), "Retry-After {retry}");
    }
    // A catalog PUT with a bad token is limited too, before its path or body are looked at.
    anonymous
        .put("/api/catalog/movies/x", &json!({}))
        .await
        .assert_problem(429, "rate-limited");
    let r = anonymous.post(guessed_hook, &json!({})).await;
    r.assert_problem(429, "rate-limited");
    assert!(r.header("retry-after").is_some(), "{:?}", r.headers);
    // The address is limited, not the server: a valid token and a known secret still work
    // from it.
    good.get(path).await.assert_status(200);
    anonymous
        .post(&hook, &json!({"NotificationType": "Unknown"}))
        .await
        .assert_status(200);
    Api::new(&server.base, None)
        .get("/health/live")
        .await
        .assert_status(200);
}
