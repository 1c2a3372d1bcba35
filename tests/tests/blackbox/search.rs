//! `GET /api/catalog/search` (SPEC §10) through the binary, on SQLite and on PostgreSQL: titles
//! found by their start with case, accents, punctuation and a leading article ignored, whole
//! titles first, narrowed by type and a movie's year; bad queries are 400.

use serde_json::{Value, json};
use uuid::Uuid;
use viewing_tests::postgres::start_server;
use viewing_tests::{Server, movie, server_bin, show};

async fn searches(server: &Server) {
    let admin = server.admin();
    let mut movies = Vec::new();
    for (title, date) in [
        ("The Matrix", "1999-03-31"),
        ("Matrix Reloaded", "2003-05-15"),
        ("Amélie", "2001-04-25"),
        ("The Matrix", "2030-01-01"),
    ] {
        let mut m = movie(title, 120, &["drama"]);
        m.body["releaseDate"] = json!(date);
        m.body["externalIds"] = json!({ "tmdb": (movies.len() + 600).to_string() });
        admin.put_movie(&m).await.assert_status(200);
        movies.push(m);
    }
    let series = show("Matrix", "ended", &[1], 30);
    admin.put_show(&series).await.assert_status(200);

    let user = server.client(Uuid::new_v4());
    let titles = |r: &Value| -> Vec<(String, String)> {
        r["items"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|h| {
                        (
                            h["type"].as_str().unwrap_or_default().to_owned(),
                            h["title"].as_str().unwrap_or_default().to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let pair = |t: &str, n: &str| (t.to_owned(), n.to_owned());

    let found = user.get("/api/catalog/search?q=MATRIX!").await;
    found.assert_status(200);
    assert_eq!(
        titles(&found.body),
        [
            pair("show", "Matrix"),
            pair("movie", "The Matrix"),
            pair("movie", "The Matrix"),
            pair("movie", "Matrix Reloaded"),
        ],
        "{}",
        found.text
    );
    // Two movies share the title: they come by id, each with its year.
    let first = found.body["items"]
        .as_array()
        .and_then(|a| a.iter().find(|h| h["year"] == 1999))
        .unwrap_or_else(|| panic!("the 1999 one: {}", found.text));
    assert_eq!(first["id"], movies[0].id.to_string());
    assert_eq!(first["externalIds"], json!({ "tmdb": "600" }));
    assert!(
        found.body["items"][0].get("year").is_none(),
        "a show has no year"
    );

    let narrowed = user
        .get("/api/catalog/search?q=the%20matrix&type=movie&year=1999")
        .await;
    narrowed.assert_status(200);
    assert_eq!(titles(&narrowed.body), [pair("movie", "The Matrix")]);
    let shows = user.get("/api/catalog/search?q=matrix&type=show").await;
    assert_eq!(titles(&shows.body), [pair("show", "Matrix")]);
    let accents = user.get("/api/catalog/search?q=amelie").await;
    assert_eq!(titles(&accents.body), [pair("movie", "Amélie")]);
    let none = user.get("/api/catalog/search?q=heat").await;
    none.assert_status(200);
    assert_eq!(none.body, json!({ "items": [] }));

    for bad in [
        "/api/catalog/search",
        "/api/catalog/search?q=",
        "/api/catalog/search?q=%21%21%21",
        "/api/catalog/search?q=matrix&type=episode",
        "/api/catalog/search?q=matrix&year=99",
        "/api/catalog/search?q=matrix&year=soon",
    ] {
        user.get(bad).await.assert_problem(400, "malformed-request");
    }
    server
        .anonymous()
        .get("/api/catalog/search?q=matrix")
        .await
        .assert_problem(401, "unauthorized");
}

#[tokio::test]
async fn title_search_on_sqlite() {
    let server = Server::start(&server_bin!());
    searches(&server).await;
}

#[tokio::test]
async fn title_search_on_postgresql() {
    let Some((server, _db)) = start_server(&server_bin!()).await else {
        return;
    };
    searches(&server).await;
}
