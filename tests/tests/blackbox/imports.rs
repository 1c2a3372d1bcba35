//! Imports (SPEC §12) through the binary, on SQLite and on PostgreSQL, with Trakt's export as
//! its zip (fixtures of `viewing-app/tests/fixtures/imports/trakt`, in Trakt's shapes): a dry
//! run writes nothing; an applied import records the plays as imports with their own dates and
//! the statistics follow; a re-import gives only duplicates; the rows are listed by page and
//! outcome; another user can neither see nor undo it; an undo restores history and statistics;
//! bad requests and files get problem+json.

use std::io::Write;

use serde_json::{Value, json};
use uuid::Uuid;
use viewing_tests::postgres::start_server;
use viewing_tests::{Api, Resp, Server, movie, server_bin};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../viewing-app/tests/fixtures/imports/trakt/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn export_zip() -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    for name in [
        "watched-history.json",
        "lists-watchlist.json",
        "ratings-movies.json",
    ] {
        zip.start_file(format!("export/{name}"), options)
            .unwrap_or_else(|e| panic!("{e}"));
        zip.write_all(&fixture(name))
            .unwrap_or_else(|e| panic!("{e}"));
    }
    zip.finish().unwrap_or_else(|e| panic!("{e}")).into_inner()
}

async fn upload(api: &Api, query: &str, body: Vec<u8>, content_type: &str) -> Resp {
    api.send(
        api.request(reqwest::Method::POST, &format!("/api/imports{query}"))
            .header("content-type", content_type)
            .body(body),
    )
    .await
}

async fn upload_keyed(api: &Api, query: &str, body: Vec<u8>, key: &str) -> Resp {
    api.send(
        api.request(reqwest::Method::POST, &format!("/api/imports{query}"))
            .header("content-type", "application/json")
            .header("idempotency-key", key)
            .body(body),
    )
    .await
}

/// The catalog the fixtures name: The Matrix (IMDb id), Heat (1995, no ids), two movies called
/// Twin, and Dark (TheTVDB id; four episodes, the first with its IMDb id).
async fn catalog(admin: &Api) -> Uuid {
    for (title, date, ids) in [
        ("The Matrix", "1999-03-31", json!({"imdb": "tt0133093"})),
        ("Heat", "1995-12-15", json!({})),
        ("Twin", "2010-01-01", json!({})),
        ("Twin", "2010-06-01", json!({})),
    ] {
        let mut m = movie(title, 120, &["drama"]);
        m.body["releaseDate"] = json!(date);
        m.body["externalIds"] = ids;
        admin.put_movie(&m).await.assert_status(200);
    }
    let show = Uuid::new_v4();
    let episodes: Vec<Value> = (1..=4)
        .map(|n| {
            let mut e = json!({
                "episodeId": Uuid::new_v4(), "episodeNumber": n, "title": format!("E{n}"),
                "runtimeMinutes": 50, "airDate": "2017-12-01",
            });
            if n == 1 {
                e["externalIds"] = json!({"imdb": "tt5753858"});
            }
            e
        })
        .collect();
    admin
        .put(
            &format!("/api/catalog/shows/{show}"),
            &json!({
                "title": "Dark", "status": "ended", "genres": ["drama"],
                "externalIds": {"tvdb": "334824", "imdb": "tt5753856"},
                "seasons": [{"seasonId": Uuid::new_v4(), "seasonNumber": 1, "episodes": episodes}],
            }),
        )
        .await
        .assert_status(200);
    show
}

fn summary(r: &Resp) -> Value {
    r.body["summary"].clone()
}

async fn imports_end_to_end(server: &Server) {
    let show = catalog(&server.admin()).await;
    let user = server.client(Uuid::new_v4());

    // Dry run: counted, nothing recorded.
    let dry = upload(
        &user,
        "?source=trakt&dryRun=true",
        export_zip(),
        "application/zip",
    )
    .await;
    dry.assert_status(201);
    assert_eq!(dry.body["status"], "dry-run");
    assert_eq!(
        summary(&dry),
        json!({"rows": 13, "imported": 6, "duplicates": 1, "unmatched": 3, "skipped": 1, "invalid": 2})
    );
    let id = dry.body["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(
        dry.header("location"),
        Some(format!("/api/imports/{id}").as_str())
    );
    let history = user.get("/api/viewing/history").await;
    assert_eq!(history.body["items"], json!([]), "{}", history.text);

    // With an Idempotency-Key (SPEC §3) the repeat answers the first import and makes none;
    // the key reads the whole upload, past the API's usual 64 KiB; the same key on the applied
    // import (another query) is another request.
    let mut padded = fixture("watched-history.json");
    padded.extend(std::iter::repeat_n(b' ', 100 * 1024));
    let first = upload_keyed(&user, "?source=trakt&dryRun=true", padded.clone(), "dry-1").await;
    first.assert_status(201);
    let repeat = upload_keyed(&user, "?source=trakt&dryRun=true", padded.clone(), "dry-1").await;
    repeat.assert_status(201);
    assert_eq!(repeat.header("idempotent-replayed"), Some("true"));
    assert_eq!(repeat.body["id"], first.body["id"], "{}", repeat.text);
    upload_keyed(&user, "?source=trakt", padded, "dry-1")
        .await
        .assert_problem(422, "idempotency-key-reused");
    let listed = user.get("/api/imports").await;
    assert_eq!(
        listed.body["items"].as_array().map(Vec::len),
        Some(2),
        "the plain dry run and the keyed one, once: {}",
        listed.text
    );

    // Applied.
    let applied = upload(&user, "?source=trakt", export_zip(), "application/zip").await;
    applied.assert_status(201);
    assert_eq!(applied.body["status"], "applied");
    assert_eq!(summary(&applied)["imported"], 6);
    let import = applied.body["id"].as_str().unwrap_or_default().to_owned();
    let history = user.get("/api/viewing/history?limit=50").await;
    let items = history.body["items"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(items.len(), 5, "{}", history.text);
    assert!(
        items.iter().all(|r| r["origin"] == "import"),
        "{}",
        history.text
    );
    let progress = user.progress(show).await;
    assert_eq!(progress.body["episodesWatched"], 3, "{}", progress.text);
    user.wait_statistics("?period=all", |s| s["movies"] == 2 && s["episodes"] == 3)
        .await;

    // The rows, by page and by outcome.
    let page = user
        .get(&format!("/api/imports/{import}/items?page=2&limit=5"))
        .await;
    page.assert_status(200);
    let rows: Vec<u64> = page.body["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|i| i["row"].as_u64()).collect())
        .unwrap_or_default();
    assert_eq!(rows, [6, 7, 8, 9, 10]);
    let unmatched = user
        .get(&format!("/api/imports/{import}/items?outcome=unmatched"))
        .await;
    let reasons: Vec<&str> = unmatched.body["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|i| i["reason"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        reasons,
        [
            "not in the catalog",
            "ambiguous: 2 candidates",
            "Dark has no season 4 episode 1 in the catalog"
        ]
    );
    let first = &page.body["items"][0];
    assert_eq!(first["matchedBy"], "coordinates", "{}", page.text);
    assert!(first["contentId"].is_string());

    // Again: only duplicates.
    let again = upload(&user, "?source=trakt", export_zip(), "application/zip").await;
    assert_eq!(
        (
            summary(&again)["imported"].clone(),
            summary(&again)["duplicates"].clone()
        ),
        (json!(0), json!(7))
    );

    // Another user: nothing to see, nothing to undo.
    let bob = server.client(Uuid::new_v4());
    for path in [
        format!("/api/imports/{import}"),
        format!("/api/imports/{import}/items"),
    ] {
        bob.get(&path).await.assert_problem(404, "not-found");
    }
    bob.delete(&format!("/api/imports/{import}"))
        .await
        .assert_problem(404, "not-found");
    assert_eq!(bob.get("/api/imports").await.body["items"], json!([]));
    let listed = user.get("/api/imports").await;
    assert_eq!(
        listed.body["items"].as_array().map(Vec::len),
        Some(4),
        "{}",
        listed.text
    );

    // Undo: the plays go, the statistics follow; again changes nothing.
    let undone = user.delete(&format!("/api/imports/{import}")).await;
    undone.assert_status(200);
    assert_eq!(undone.body["status"], "undone");
    let history = user.get("/api/viewing/history").await;
    assert_eq!(history.body["items"], json!([]), "{}", history.text);
    assert_eq!(user.progress(show).await.body["episodesWatched"], 0);
    user.wait_statistics("?period=all", |s| s["movies"] == 0 && s["episodes"] == 0)
        .await;
    let twice = user.delete(&format!("/api/imports/{import}")).await;
    assert_eq!(twice.body["status"], "undone");

    // Bad requests and files.
    let json_file = fixture("watched-history.json");
    upload(&user, "", json_file.clone(), "application/json")
        .await
        .assert_problem(400, "malformed-request");
    upload(&user, "?source=plex", json_file.clone(), "application/json")
        .await
        .assert_problem(400, "malformed-request");
    let not_json = upload(&user, "?source=trakt", b"Date,Name\n".to_vec(), "text/csv").await;
    not_json.assert_problem(422, "validation-failed");
    upload(
        &user,
        "?source=trakt",
        b"PK\x03\x04 not really".to_vec(),
        "application/zip",
    )
    .await
    .assert_problem(422, "validation-failed");
    upload(&user, "?source=letterboxd", json_file, "text/csv")
        .await
        .assert_problem(422, "validation-failed");
    let huge = vec![b' '; 50 * 1024 * 1024 + 1];
    upload(&user, "?source=trakt", huge, "application/json")
        .await
        .assert_problem(413, "payload-too-large");
    user.get(&format!("/api/imports/{import}/items?outcome=lost"))
        .await
        .assert_problem(400, "malformed-request");
    user.get("/api/imports/not-a-uuid")
        .await
        .assert_problem(400, "malformed-request");
    server
        .anonymous()
        .get("/api/imports")
        .await
        .assert_problem(401, "unauthorized");
}

#[tokio::test]
async fn trakt_import_on_sqlite() {
    let server = Server::start(&server_bin!());
    imports_end_to_end(&server).await;
}

#[tokio::test]
async fn trakt_import_on_postgresql() {
    let Some((server, _db)) = start_server(&server_bin!()).await else {
        return;
    };
    imports_end_to_end(&server).await;
}

fn run(args: &[&str], database_url: &str) -> std::process::Output {
    std::process::Command::new(server_bin!())
        .args(args)
        .env("DATABASE_URL", database_url)
        .env_remove("VIEWING_JWT_SECRET")
        .output()
        .unwrap_or_else(|e| panic!("run: {e}"))
}

fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

#[tokio::test]
async fn the_import_command_imports_from_a_file() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let url = format!("sqlite://{}", dir.path().join("viewing.db").display());
    let catalog = dir.path().join("catalog.json");
    let show = Uuid::new_v4();
    let episodes: Vec<Value> = (1..=4)
        .map(|n| {
            json!({"episodeId": Uuid::new_v4(), "episodeNumber": n, "title": format!("E{n}"),
                        "runtimeMinutes": 50, "airDate": "2017-12-01"})
        })
        .collect();
    let file = json!({
        "movies": [
            {"id": Uuid::new_v4(), "title": "The Matrix", "runtimeMinutes": 136,
             "releaseDate": "1999-03-31", "externalIds": {"imdb": "tt0133093"}},
            {"id": Uuid::new_v4(), "title": "Heat", "runtimeMinutes": 170, "releaseDate": "1995-12-15"},
        ],
        "shows": [{"id": show, "title": "Dark", "status": "ended", "externalIds": {"tvdb": "334824"},
                   "seasons": [{"seasonId": Uuid::new_v4(), "seasonNumber": 1, "episodes": episodes}]}],
    });
    std::fs::write(&catalog, file.to_string()).unwrap_or_else(|e| panic!("{e}"));
    let out = run(&["catalog", "import", &catalog.display().to_string()], &url);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let export = dir.path().join("trakt.zip");
    std::fs::write(&export, export_zip()).unwrap_or_else(|e| panic!("{e}"));
    let user = Uuid::new_v4();
    let user_arg = user.to_string();
    let path = export.display().to_string();

    let dry = run(
        &["import", "trakt", &path, "--user", &user_arg, "--dry-run"],
        &url,
    );
    let said = text(&dry.stdout);
    assert!(dry.status.success(), "{said}{}", text(&dry.stderr));
    assert!(said.contains("(trakt, dry-run)"), "{said}");
    assert!(said.contains("  imported           6"), "{said}");
    assert!(
        said.contains("unmatched row      9  Twin: not in the catalog"),
        "{said}"
    );

    let applied = run(&["import", "trakt", &path, "--user", &user_arg], &url);
    let said = text(&applied.stdout);
    assert!(applied.status.success(), "{said}{}", text(&applied.stderr));
    assert!(said.contains("(trakt, applied)"), "{said}");
    assert!(said.contains("  events applied"), "{said}");

    // A bad source or file: a clear message, a failure status.
    let bad = run(&["import", "plex", &path, "--user", &user_arg], &url);
    assert!(!bad.status.success());
    assert!(text(&bad.stderr).contains("trakt"), "{}", text(&bad.stderr));
    let missing = run(
        &["import", "trakt", "/nonexistent.zip", "--user", &user_arg],
        &url,
    );
    assert!(!missing.status.success());
    assert!(text(&missing.stderr).contains("/nonexistent.zip"));

    // The server serves the imported history, statistics already applied.
    let server = Server::start_with(
        &server_bin!(),
        viewing_tests::Options {
            database_url: Some(url),
            ..viewing_tests::Options::default()
        },
    );
    let api = server.client(user);
    let history = api.get("/api/viewing/history?limit=50").await;
    assert_eq!(
        history.body["items"].as_array().map(Vec::len),
        Some(5),
        "{}",
        history.text
    );
    let stats = api.statistics("?period=all").await;
    assert_eq!(
        (&stats.body["movies"], &stats.body["episodes"]),
        (&json!(2), &json!(3)),
        "{}",
        stats.text
    );
    assert_eq!(api.progress(show).await.body["episodesWatched"], 3);
}

/// The import command takes the server's TMDB settings: a row naming a movie only TMDB knows
/// is matched with them, `unmatched` without them. (Multi-threaded: the command blocks this
/// thread while the fake TMDB answers on another.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_import_command_fills_from_tmdb_when_configured() {
    use adapters_tmdb::fake::{FakeTmdb, TOKEN};
    let fake = FakeTmdb::start()
        .await
        .unwrap_or_else(|e| panic!("fake TMDB: {e}"));
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let url = format!("sqlite://{}", dir.path().join("viewing.db").display());
    let history = dir.path().join("watched-history.json");
    let rows = json!([{
        "id": 1, "watched_at": "2019-03-02T20:31:00.000Z", "action": "watch", "type": "movie",
        "movie": {"title": "The Matrix", "year": 1999, "ids": {"imdb": "tt0133093"}},
    }]);
    std::fs::write(&history, rows.to_string()).unwrap_or_else(|e| panic!("{e}"));
    let (path, user) = (history.display().to_string(), Uuid::new_v4().to_string());
    let args = ["import", "trakt", &path, "--user", &user, "--dry-run"];

    let offline = run(&args, &url);
    let said = text(&offline.stdout);
    assert!(offline.status.success(), "{said}{}", text(&offline.stderr));
    assert!(said.contains("  unmatched          1"), "{said}");

    let fake_url = fake.url();
    let with_tmdb: Vec<&str> = args
        .iter()
        .copied()
        .chain(["--tmdb-token", TOKEN, "--tmdb-url", &fake_url])
        .collect();
    let filled = run(&with_tmdb, &url);
    let said = text(&filled.stdout);
    assert!(filled.status.success(), "{said}{}", text(&filled.stderr));
    assert!(said.contains("  imported           1"), "{said}");
    assert!(fake.calls() > 0);
}

/// A history item without what a round trip may change: its id, when it was recorded, and its
/// binge session's id (the sessions are rebuilt with new ids).
fn comparable(item: &Value) -> Value {
    let mut v = item.clone();
    if let Some(o) = v.as_object_mut() {
        for k in ["id", "createdAt", "bingeSessionId"] {
            o.remove(k);
        }
    }
    v
}

async fn history_of(api: &Api) -> Vec<Value> {
    let r = api.get("/api/viewing/history?limit=100").await;
    r.assert_status(200);
    r.body["items"]
        .as_array()
        .map(|a| a.iter().map(comparable).collect())
        .unwrap_or_default()
}

async fn export_and_import_back(source: &Server, target: &Server) {
    let show = catalog(&source.admin()).await;
    assert_eq!(
        catalog_same_ids(&source.admin(), &target.admin(), show).await,
        show
    );
    let user_id = Uuid::new_v4();
    let user = source.client(user_id);
    // Plays of every origin and shape: two manual episodes (a binge), a manual movie with
    // companions, place, context, platform and duration, and a Trakt import.
    let dark = source
        .admin()
        .get(&format!("/api/catalog/shows/{show}"))
        .await;
    let episode = |n: usize| {
        dark.body["seasons"][0]["episodes"][n]["episodeId"]
            .as_str()
            .and_then(|s| s.parse::<Uuid>().ok())
            .unwrap_or_else(|| panic!("episode {n}: {}", dark.text))
    };
    upload(&user, "?source=trakt", export_zip(), "application/zip")
        .await
        .assert_status(201);
    for (n, at) in [(3, "2026-01-10T20:00:00Z")] {
        let watched = user
            .watch_episode(episode(n), &json!({"watchDate": at, "platform": "Netflix"}))
            .await;
        watched.assert_status(201);
        // An episode's place, context and companions come only from an edit; they travel too.
        let record = watched.body["id"].as_str().unwrap_or_default().to_owned();
        user.patch(
            &format!("/api/viewing/records/{record}"),
            &json!({"viewingLocation": "home", "viewingContext": "rainy sunday",
                    "watchedWith": ["Cleo"]}),
        )
        .await
        .assert_status(200);
    }
    let heat = user.get("/api/catalog/search?q=heat&type=movie").await;
    let heat = heat.body["items"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    user.post(
        &format!("/api/viewing/movies/{heat}/watched"),
        &json!({"watchDate": "2026-01-11T21:00:00Z", "viewingLocation": "cinema",
                "viewingPlatform": "IMAX", "watchedWith": ["Ana", "Ben"],
                "viewingContext": "date night", "viewingDuration": 170}),
    )
    .await
    .assert_status(201);
    // An abandon and a rewatch reset travel too.
    let twin = user.get("/api/catalog/search?q=twin&type=movie").await;
    let twin = twin.body["items"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    user.post(
        &format!("/api/viewing/{twin}/abandon"),
        &json!({"abandonDate": "2026-01-12T10:00:00Z", "abandonReason": "too slow"}),
    )
    .await
    .assert_status(201);
    user.send(user.request(
        reqwest::Method::POST,
        &format!("/api/viewing/progress/{show}/reset"),
    ))
    .await
    .assert_status(201);
    let before = history_of(&user).await;
    assert_eq!(before.len(), 7, "{before:?}");
    let stats_before = user
        .wait_statistics("?period=all", |s| s["totalWatched"] == 7)
        .await;

    // The export: one document; and Letterboxd's CSV of the movie plays.
    let doc = user.get("/api/export").await;
    doc.assert_status(200);
    assert_eq!(
        (&doc.body["format"], &doc.body["version"]),
        (&json!("viewing-export"), &json!(1))
    );
    assert_eq!(doc.body["records"].as_array().map(Vec::len), Some(7));
    let csv = user.get("/api/export?format=letterboxd").await;
    csv.assert_status(200);
    assert!(
        csv.header("content-type")
            .is_some_and(|c| c.starts_with("text/csv"))
    );
    let lines: Vec<&str> = csv.text.lines().collect();
    assert_eq!(lines[0], "Title,Year,WatchedDate,imdbID,tmdbID,Rewatch");
    assert!(
        lines.contains(&"The Matrix,1999,2019-03-02,tt0133093,,false"),
        "{}",
        csv.text
    );
    assert!(
        lines.contains(&"Heat,1995,2026-01-11,,,true"),
        "{}",
        csv.text
    );
    user.get("/api/export?format=xml")
        .await
        .assert_problem(400, "malformed-request");

    // Into another database with the same catalog: the same history, progress and statistics.
    let moved = target.client(user_id);
    let listed = doc.body["watchlist"].as_array().map_or(0, Vec::len);
    assert_eq!(doc.body["abandons"].as_array().map(Vec::len), Some(1));
    assert_eq!(doc.body["resets"].as_array().map(Vec::len), Some(1));
    let back = upload(
        &moved,
        "?source=viewing",
        doc.text.into_bytes(),
        "application/json",
    )
    .await;
    back.assert_status(201);
    assert_eq!(
        summary(&back)["imported"],
        json!(7 + 1 + 1 + listed),
        "{}",
        back.text
    );
    assert_eq!(history_of(&moved).await, before);
    let progress = |api: &Api| {
        let api = api.clone();
        async move {
            let mut p = api.progress(show).await.body;
            if let Some(o) = p.as_object_mut() {
                o.remove("lastActivityAt");
            }
            p
        }
    };
    assert_eq!(progress(&moved).await, progress(&user).await);
    moved
        .wait_statistics("?period=all", |s| *s == stats_before)
        .await;
    // Read back again: nothing new.
    let again = upload(
        &moved,
        "?source=viewing",
        user.get("/api/export").await.text.into_bytes(),
        "application/json",
    )
    .await;
    assert_eq!(summary(&again)["imported"], 0, "{}", again.text);
}

/// Puts the source's catalog into the target with the same ids.
async fn catalog_same_ids(source: &Api, target: &Api, show: Uuid) -> Uuid {
    let dark = source.get(&format!("/api/catalog/shows/{show}")).await;
    let mut body = dark.body.clone();
    if let Some(o) = body.as_object_mut() {
        o.remove("id");
    }
    target
        .put(&format!("/api/catalog/shows/{show}"), &body)
        .await
        .assert_status(200);
    let movies = source.get("/api/catalog/search?q=the&type=movie").await;
    let mut found: Vec<Value> = movies.body["items"].as_array().cloned().unwrap_or_default();
    for q in ["heat", "twin", "matrix"] {
        let r = source
            .get(&format!("/api/catalog/search?q={q}&type=movie"))
            .await;
        found.extend(r.body["items"].as_array().cloned().unwrap_or_default());
    }
    for m in found {
        let id = m["id"].as_str().unwrap_or_default();
        let mut body = source.get(&format!("/api/catalog/movies/{id}")).await.body;
        if let Some(o) = body.as_object_mut() {
            o.remove("id");
        }
        target
            .put(&format!("/api/catalog/movies/{id}"), &body)
            .await
            .assert_status(200);
    }
    show
}

#[tokio::test]
async fn export_then_import_into_another_database_gives_the_same_history() {
    let source = Server::start(&server_bin!());
    match start_server(&server_bin!()).await {
        // SQLite to PostgreSQL when PostgreSQL is here.
        Some((target, _db)) => export_and_import_back(&source, &target).await,
        None => export_and_import_back(&source, &Server::start(&server_bin!())).await,
    }
}

fn fixture_of(source: &str, name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../viewing-app/tests/fixtures/imports/{source}/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Letterboxd's, Netflix's and TV Time's exports through `POST /api/imports` (each reader is
/// tested row by row in `viewing-app/tests/imports.rs`): what each records, and its duplicates.
async fn every_source(server: &Server) {
    let admin = server.admin();
    let show = catalog(&admin).await;
    // The Netflix fixture names Dark's episodes by their titles.
    let mut dark = admin.get(&format!("/api/catalog/shows/{show}")).await.body;
    for (i, name) in ["Secrets", "Lies", "Past and Present", "Double Lives"]
        .iter()
        .enumerate()
    {
        dark["seasons"][0]["episodes"][i]["title"] = json!(name);
    }
    if let Some(o) = dark.as_object_mut() {
        o.remove("id");
    }
    admin
        .put(&format!("/api/catalog/shows/{show}"), &dark)
        .await
        .assert_status(200);
    let mut amelie = movie("Amelie", 122, &["comedy"]);
    amelie.body["releaseDate"] = json!("2001-04-25");
    admin.put_movie(&amelie).await.assert_status(200);

    let zip = |source: &str, names: &[&str]| {
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for n in names {
            w.start_file(
                format!("export/{n}"),
                zip::write::SimpleFileOptions::default(),
            )
            .unwrap_or_else(|e| panic!("{e}"));
            w.write_all(&fixture_of(source, n))
                .unwrap_or_else(|e| panic!("{e}"));
        }
        w.finish().unwrap_or_else(|e| panic!("{e}")).into_inner()
    };
    let cases = [
        (
            "letterboxd",
            "",
            zip("letterboxd", &["diary.csv", "watched.csv", "watchlist.csv"]),
            "application/zip",
            4,
        ),
        (
            "netflix",
            "",
            fixture_of("netflix", "NetflixViewingHistory.csv"),
            "text/csv",
            3,
        ),
        (
            "netflix",
            "&profile=Ana",
            zip("netflix", &["ViewingActivity.csv"]),
            "application/zip",
            3,
        ),
        (
            "tvtime",
            "",
            zip(
                "tvtime",
                &["tracking-prod-records-v2.csv", "tracking-prod-records.csv"],
            ),
            "application/zip",
            5,
        ),
    ];
    for (source, extra, body, content_type, imported) in cases {
        let user = server.client(Uuid::new_v4());
        let query = format!("?source={source}{extra}");
        let first = upload(&user, &query, body.clone(), content_type).await;
        first.assert_status(201);
        assert_eq!(
            summary(&first)["imported"],
            imported,
            "{source}{extra}: {}",
            first.text
        );
        let again = upload(&user, &query, body, content_type).await;
        assert_eq!(summary(&again)["imported"], 0, "{source}: {}", again.text);
        // What it imported, and what the file repeated, are duplicates now.
        let was = |k: &str| summary(&first)[k].as_u64().unwrap_or_default();
        assert_eq!(
            summary(&again)["duplicates"],
            was("imported") + was("duplicates"),
            "{source}: {}",
            again.text
        );
    }
}

#[tokio::test]
async fn every_source_on_sqlite() {
    let server = Server::start(&server_bin!());
    every_source(&server).await;
}

#[tokio::test]
async fn every_source_on_postgresql() {
    let Some((server, _db)) = start_server(&server_bin!()).await else {
        return;
    };
    every_source(&server).await;
}

/// What a file may hold that a store must not keep as given: a NUL in a title or a history id
/// (PostgreSQL's text refuses it) and a date outside 1900–9999 on a row no viewing rule checks
/// (a watchlist entry). The import answers 201, the title is kept as plain text, the date's row
/// is `invalid` with why, and everything reads back.
async fn hostile_texts_and_dates(server: &Server) {
    catalog(&server.admin()).await;
    let user = server.client(Uuid::new_v4());
    let history = json!([{
        "id": 7, "watched_at": "2019-03-02T20:31:00.000Z", "action": "watch", "type": "movie",
        "movie": {"title": "The Matrix\u{0}<b>!</b>", "year": 1999, "ids": {"imdb": "tt0133093"}},
    }]);
    let watchlist = json!([{
        "rank": 1, "id": 8, "listed_at": "1800-01-05T10:00:00.000Z", "type": "movie",
        "movie": {"title": "Heat", "year": 1995, "ids": {}},
    }]);
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, doc) in [
        ("watched-history.json", &history),
        ("lists-watchlist.json", &watchlist),
    ] {
        zip.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap_or_else(|e| panic!("{e}"));
        zip.write_all(doc.to_string().as_bytes())
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let upload_zip = zip.finish().unwrap_or_else(|e| panic!("{e}")).into_inner();
    let r = upload(&user, "?source=trakt", upload_zip, "application/zip").await;
    r.assert_status(201);
    assert_eq!(
        (
            summary(&r)["imported"].as_u64(),
            summary(&r)["invalid"].as_u64()
        ),
        (Some(1), Some(1)),
        "{}",
        r.text
    );
    let id = r.body["id"].as_str().unwrap_or_default().to_owned();
    let items = user.get(&format!("/api/imports/{id}/items")).await;
    items.assert_status(200);
    assert_eq!(
        items.body["items"][1]["title"], "The Matrix!",
        "{}",
        items.text
    );
    let reason = items.body["items"][0]["reason"]
        .as_str()
        .unwrap_or_default();
    assert!(reason.contains("1900"), "{}", items.text);
    user.get("/api/watchlist").await.assert_status(200);
    user.get("/api/viewing/history").await.assert_status(200);
}

#[tokio::test]
async fn hostile_texts_and_dates_on_sqlite() {
    let server = Server::start(&server_bin!());
    hostile_texts_and_dates(&server).await;
}

#[tokio::test]
async fn hostile_texts_and_dates_on_postgresql() {
    let Some((server, _db)) = start_server(&server_bin!()).await else {
        return;
    };
    hostile_texts_and_dates(&server).await;
}
