//! TMDB on demand (SPEC §16) through the binary, on SQLite and on PostgreSQL, against the
//! local fake TMDB (`adapters_tmdb::fake`, TMDB's response shapes; nothing reaches the
//! internet): `VIEWING_TMDB_TOKEN` and `VIEWING_TMDB_URL` point the server at it, a lookup of
//! an id the catalog lacks fills it, viewing works on what was filled, a refresh brings new
//! episodes, an unreachable TMDB is a 503 naming the metadata provider, and without a token
//! the server never calls out.

use adapters_tmdb::fake::{FakeTmdb, TOKEN};
use adapters_tmdb::{TmdbKind, tmdb_uuid};
use serde_json::json;
use uuid::Uuid;
use viewing_tests::postgres::{Database, admin_url};
use viewing_tests::{Options, Server, server_bin};

fn with_tmdb(fake: &FakeTmdb, database_url: Option<String>) -> Server {
    Server::start_with(
        &server_bin!(),
        Options {
            env: vec![
                ("VIEWING_TMDB_TOKEN".to_owned(), TOKEN.to_owned()),
                ("VIEWING_TMDB_URL".to_owned(), fake.url()),
            ],
            database_url,
            ..Options::default()
        },
    )
}

async fn fills_and_refreshes(server: &Server, fake: &FakeTmdb) {
    let user = server.client(Uuid::new_v4());
    let admin = server.admin();

    // A movie by its IMDb id: fetched, stored under TMDB's derived id, then found without TMDB.
    let matrix = user
        .get("/api/catalog/lookup?provider=imdb&id=tt0133093")
        .await;
    matrix.assert_status(200);
    let movie_id = tmdb_uuid(TmdbKind::Movie, 603).to_string();
    assert_eq!(
        (
            &matrix.body["type"],
            &matrix.body["id"],
            &matrix.body["title"]
        ),
        (&json!("movie"), &json!(movie_id), &json!("The Matrix"))
    );
    let calls = fake.calls();
    user.get("/api/catalog/lookup?provider=tmdb&id=603&type=movie")
        .await
        .assert_status(200);
    let stored = user.get(&format!("/api/catalog/movies/{movie_id}")).await;
    stored.assert_status(200);
    assert_eq!(
        stored.body["externalIds"],
        json!({"tmdb": "603", "imdb": "tt0133093"})
    );
    assert_eq!(fake.calls(), calls, "found in the catalog");

    // An episode by its show's TheTVDB id and numbers: the show is fetched; it can be watched.
    let secrets = user
        .get("/api/catalog/lookup?provider=tvdb&show=334824&season=1&episode=1")
        .await;
    secrets.assert_status(200);
    assert_eq!(secrets.body["title"], "Secrets");
    let show_id = tmdb_uuid(TmdbKind::Tv, 70523);
    assert_eq!(secrets.body["showId"], show_id.to_string());
    let episode: Uuid = secrets.body["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("an id: {}", secrets.text));
    user.watch_episode(episode, &json!({}))
        .await
        .assert_status(201);

    // TMDB knows nothing: 404; a TMDB id without its kind is not fetched.
    user.get("/api/catalog/lookup?provider=imdb&id=tt0000001")
        .await
        .assert_problem(404, "not-found");
    user.get("/api/catalog/lookup?provider=tmdb&id=1399")
        .await
        .assert_problem(404, "not-found");
    user.get("/api/catalog/lookup?provider=tmdb&id=1399&type=season")
        .await
        .assert_problem(400, "malformed-request");

    // Refresh: admins only; TMDB announces episode 3, the refresh brings it, ours stay.
    let path = format!("/api/catalog/refresh/show/{show_id}");
    user.put_empty(&path).await.assert_problem(403, "forbidden");
    let season_1 = FakeTmdb::fixture("/tv/70523/season/1")
        .unwrap_or_else(|| panic!("fixture"))
        .replace(
            r#""air_date": null, "episode_number": 3"#,
            r#""air_date": "2017-12-01", "episode_number": 3"#,
        );
    fake.replace("/tv/70523/season/1", season_1);
    let refreshed = admin.put_empty(&path).await;
    refreshed.assert_status(200);
    let season = &refreshed.body["seasons"][1];
    assert_eq!(season["seasonNumber"], 1, "{}", refreshed.text);
    let numbers: Vec<u64> = season["episodes"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e["episodeNumber"].as_u64())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(numbers, [1, 2, 3]);
    assert_eq!(season["episodes"][0]["episodeId"], episode.to_string());
    let progress = user.progress(show_id).await;
    progress.assert_status(200);
    assert_eq!(
        (
            &progress.body["episodesWatched"],
            &progress.body["totalEpisodes"]
        ),
        (&json!(1), &json!(3)),
        "{}",
        progress.text
    );
    admin
        .put_empty(&format!("/api/catalog/refresh/movie/{movie_id}"))
        .await
        .assert_status(200);
    admin
        .put_empty(&format!("/api/catalog/refresh/season/{show_id}"))
        .await
        .assert_problem(400, "malformed-request");
    admin
        .put_empty(&format!("/api/catalog/refresh/show/{}", Uuid::new_v4()))
        .await
        .assert_problem(404, "content-not-found");

    // TMDB down: 503 naming the metadata provider, for a lookup and for a refresh; the catalog
    // still answers what it holds.
    fake.fail_next(usize::MAX);
    let down = user
        .get("/api/catalog/lookup?provider=imdb&id=tt0944947")
        .await;
    down.assert_problem(503, "unavailable");
    assert!(
        down.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("metadata provider unavailable")),
        "{}",
        down.text
    );
    admin
        .put_empty(&path)
        .await
        .assert_problem(503, "unavailable");
    user.get("/api/catalog/lookup?provider=imdb&id=tt0133093")
        .await
        .assert_status(200);
    fake.fail_next(0);
}

#[tokio::test]
async fn tmdb_fills_the_catalog_on_sqlite() {
    let fake = FakeTmdb::start()
        .await
        .unwrap_or_else(|e| panic!("fake: {e}"));
    let server = with_tmdb(&fake, None);
    fills_and_refreshes(&server, &fake).await;
}

#[tokio::test]
async fn tmdb_fills_the_catalog_on_postgresql() {
    let Some(admin) = admin_url() else { return };
    let db = Database::create(&admin).await;
    let fake = FakeTmdb::start()
        .await
        .unwrap_or_else(|e| panic!("fake: {e}"));
    let server = with_tmdb(&fake, Some(db.url.clone()));
    fills_and_refreshes(&server, &fake).await;
}

#[tokio::test]
async fn without_a_token_the_server_never_calls_out() {
    let fake = FakeTmdb::start()
        .await
        .unwrap_or_else(|e| panic!("fake: {e}"));
    let server = Server::start_with(
        &server_bin!(),
        Options {
            env: vec![("VIEWING_TMDB_URL".to_owned(), fake.url())],
            ..Options::default()
        },
    );
    let user = server.client(Uuid::new_v4());
    user.get("/api/catalog/lookup?provider=imdb&id=tt0133093")
        .await
        .assert_problem(404, "not-found");
    let movie = tests_movie();
    server.admin().put_movie(&movie).await.assert_status(200);
    let refresh = server
        .admin()
        .put_empty(&format!("/api/catalog/refresh/movie/{}", movie.id))
        .await;
    refresh.assert_problem(503, "unavailable");
    assert!(
        refresh.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("none is configured")),
        "{}",
        refresh.text
    );
    assert_eq!(fake.calls(), 0);
}

fn tests_movie() -> viewing_tests::MovieFixture {
    viewing_tests::movie("Heat", 170, &["crime"])
}
