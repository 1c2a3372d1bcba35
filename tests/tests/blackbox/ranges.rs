//! Time ranges through the real binary, on SQLite and on PostgreSQL: a history or statistics
//! range is half-open, `[from, to)`, to the microsecond. A `YYYY-MM-DD` end keeps its whole day
//! in the query's zone and nothing of the next; an instant end keeps that instant.

use serde_json::json;
use viewing_tests::postgres;
use viewing_tests::{Resp, Server, movie, server_bin};

/// Watch dates around the end of 2026-01-10 and of January 2026 in Paris (UTC+1).
const WATCHES: [&str; 5] = [
    "2026-01-10T20:10:00Z",
    "2026-01-10T22:59:59.999999Z", // the last microsecond of 2026-01-10 in Paris
    "2026-01-10T23:00:00Z",        // 2026-01-11 00:00 in Paris
    "2026-01-31T22:59:59.999999Z", // the last microsecond of January in Paris
    "2026-01-31T23:00:00Z",        // 2026-02-01 00:00 in Paris
];

fn total(r: &Resp) -> u64 {
    r.assert_status(200);
    r.body["totalItems"].as_u64().unwrap_or(u64::MAX)
}

async fn ranges_are_half_open(server: &Server) {
    let heat = movie("Heat", 170, &["Crime"]);
    server.admin().put_movie(&heat).await.assert_status(200);
    let user = server.client(uuid::Uuid::new_v4());
    for at in WATCHES {
        user.watch_movie(heat.id, &json!({ "watchDate": at }))
            .await
            .assert_status(201);
    }
    let history = |query: &'static str| {
        let user = user.clone();
        async move { total(&user.get(&format!("/api/viewing/history?{query}")).await) }
    };
    assert_eq!(history("endDate=2026-01-10&tz=Europe/Paris").await, 2);
    assert_eq!(history("startDate=2026-01-11&tz=Europe/Paris").await, 3);
    assert_eq!(
        history("startDate=2026-01-10&endDate=2026-01-10&tz=Europe/Paris").await,
        2
    );
    assert_eq!(history("endDate=2026-01-10T22:59:59.999999Z").await, 2);
    assert_eq!(history("endDate=2026-01-10T23:00:00Z").await, 3);
    assert_eq!(history("startDate=2026-01-10T23:00:00Z").await, 3);
    assert_eq!(history("endDate=9999-12-31&tz=America/New_York").await, 5);
    // An inverted range is empty, not an error.
    assert_eq!(history("startDate=2026-01-11&endDate=2026-01-10").await, 0);

    let january = user
        .wait_statistics("?period=month&date=2026-01-15&tz=Europe/Paris", |s| {
            s["totalWatched"] == 4
        })
        .await;
    assert_eq!(january["to"], "2026-01-31");
    let february = user
        .wait_statistics("?period=month&date=2026-02-01&tz=Europe/Paris", |s| {
            s["totalWatched"] == 1
        })
        .await;
    assert_eq!(february["from"], "2026-02-01");
}

#[tokio::test]
async fn ranges_on_sqlite() {
    let server = Server::start(&server_bin!());
    ranges_are_half_open(&server).await;
}

#[tokio::test]
async fn ranges_on_postgresql() {
    let Some((server, _db)) = postgres::start_server(&server_bin!()).await else {
        return;
    };
    ranges_are_half_open(&server).await;
}
