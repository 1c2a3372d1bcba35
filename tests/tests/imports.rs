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
        json!({"rows": 13, "imported": 5, "duplicates": 1, "unmatched": 3, "skipped": 2, "invalid": 2})
    );
    let id = dry.body["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(
        dry.header("location"),
        Some(format!("/api/imports/{id}").as_str())
    );
    let history = user.get("/api/viewing/history").await;
    assert_eq!(history.body["items"], json!([]), "{}", history.text);

    // Applied.
    let applied = upload(&user, "?source=trakt", export_zip(), "application/zip").await;
    applied.assert_status(201);
    assert_eq!(applied.body["status"], "applied");
    assert_eq!(summary(&applied)["imported"], 5);
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
        (json!(0), json!(6))
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
        Some(3),
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
    assert!(said.contains("  imported           5"), "{said}");
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
