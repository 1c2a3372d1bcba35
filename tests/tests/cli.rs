//! The command line of SPEC §2: `token`, `migrate`, `catalog import`, dev-auth mode, settings
//! from the environment, graceful shutdown.

use std::process::{Command, Output};
use std::time::Duration;

use serde_json::json;
use uuid::Uuid;
use viewing_tests::{Api, Options, SECRET, Server, server_bin};

fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(server_bin!());
    cmd.args(args)
        .env_remove("VIEWING_JWT_SECRET")
        .env_remove("DATABASE_URL");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap_or_else(|e| panic!("run {args:?}: {e}"))
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).trim().to_owned()
}

#[tokio::test]
async fn token_prints_a_token_the_server_accepts() {
    let server = Server::start(&server_bin!());
    let sub = Uuid::new_v4();
    let out = run(
        &[
            "token",
            "--sub",
            &sub.to_string(),
            "--admin",
            "--ttl",
            "10m",
        ],
        &[("VIEWING_JWT_SECRET", SECRET)],
    );
    assert!(out.status.success(), "{out:?}");
    let token = stdout(&out);
    assert_eq!(token.split('.').count(), 3, "{token}");
    let admin = Api::new(&server.base, Some(token));
    let m = viewing_tests::movie("Heat", 170, &["crime"]);
    admin.put_movie(&m).await.assert_status(200);

    let out = run(
        &["token", "--sub", &sub.to_string()],
        &[("VIEWING_JWT_SECRET", SECRET)],
    );
    let user = Api::new(&server.base, Some(stdout(&out)));
    user.put_movie(&m).await.assert_problem(403, "forbidden");
    user.watch_movie(m.id, &json!({})).await.assert_status(201);

    // No secret, a bad sub or a bad ttl: a clear failure, no token.
    let out = run(&["token", "--sub", &sub.to_string()], &[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("VIEWING_JWT_SECRET"));
    for args in [
        vec!["token", "--sub", "alice"],
        vec![
            "token",
            "--sub",
            "6f1c1f0e-0000-4000-8000-000000000000",
            "--ttl",
            "soon",
        ],
    ] {
        let out = run(&args, &[("VIEWING_JWT_SECRET", SECRET)]);
        assert!(!out.status.success(), "{args:?}");
        assert!(stdout(&out).is_empty());
    }
}

#[tokio::test]
async fn migrate_then_import_a_catalog_then_serve_it() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let url = format!("sqlite://{}", dir.path().join("catalog.db").display());
    let out = run(&["migrate"], &[("DATABASE_URL", &url)]);
    assert!(out.status.success(), "{out:?}");
    assert!(stdout(&out).contains("migrations applied"));

    let movie = Uuid::new_v4();
    let show = Uuid::new_v4();
    let episode = Uuid::new_v4();
    let file = dir.path().join("catalog.json");
    let catalog = json!({
        "movies": [{ "id": movie, "title": "Heat", "runtimeMinutes": 170, "genres": ["crime"] }],
        "shows": [{ "id": show, "title": "Dark", "status": "ended", "genres": ["sci-fi"],
            "seasons": [{ "seasonId": Uuid::new_v4(), "seasonNumber": 1, "episodes": [
                { "episodeId": episode, "episodeNumber": 1, "title": "Secrets", "runtimeMinutes": 51 }
            ]}]
        }]
    });
    std::fs::write(&file, catalog.to_string()).unwrap_or_else(|e| panic!("{e}"));
    let file_arg = file.display().to_string();
    let out = run(&["catalog", "import", &file_arg], &[("DATABASE_URL", &url)]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(stdout(&out), "imported 1 movies and 1 shows");

    // A file with problems imports nothing and names every problem.
    let bad = dir.path().join("bad.json");
    let bad_catalog = json!({
        "movies": [
            { "id": Uuid::new_v4(), "title": "   ", "runtimeMinutes": 90 },
            { "id": Uuid::new_v4(), "title": "Fine", "runtimeMinutes": 5000 }
        ]
    });
    std::fs::write(&bad, bad_catalog.to_string()).unwrap_or_else(|e| panic!("{e}"));
    let out = run(
        &["catalog", "import", &bad.display().to_string()],
        &[("DATABASE_URL", &url)],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("movies[0].title"), "{err}");
    assert!(err.contains("movies[1].runtimeMinutes"), "{err}");
    let out = run(
        &["catalog", "import", "/no/such/file.json"],
        &[("DATABASE_URL", &url)],
    );
    assert!(!out.status.success());

    let server = Server::start_with(
        &server_bin!(),
        Options {
            database_url: Some(url),
            ..Options::default()
        },
    );
    let user = server.client(Uuid::new_v4());
    let m = user.get(&format!("/api/catalog/movies/{movie}")).await;
    m.assert_status(200);
    assert_eq!(m.body["title"], "Heat");
    let s = user.get(&format!("/api/catalog/shows/{show}")).await;
    assert_eq!(
        s.body["seasons"][0]["episodes"][0]["episodeId"],
        json!(episode)
    );
    let r = user.watch_episode(episode, &json!({})).await;
    r.assert_status(201);
    assert_eq!(r.body["viewingDuration"], 51);
}

#[tokio::test]
async fn dev_auth_mode_prints_working_tokens() {
    let server = Server::start_with(
        &server_bin!(),
        Options {
            secret: None,
            ..Options::default()
        },
    );
    let lines = server.stdout.lock().map(|l| l.clone()).unwrap_or_default();
    let token_after = |label: &str| {
        lines
            .iter()
            .position(|l| l.starts_with(label))
            .and_then(|i| lines.get(i + 1))
            .cloned()
            .unwrap_or_else(|| panic!("no {label} in {lines:?}"))
    };
    assert!(
        lines.iter().any(|l| l.contains("DEV AUTH MODE")),
        "{lines:?}"
    );
    assert!(server.stderr().contains("DEV AUTH MODE"));
    let user = Api::new(&server.base, Some(token_after("dev user token")));
    let admin = Api::new(&server.base, Some(token_after("dev admin token")));
    user.get("/api/viewing/history").await.assert_status(200);
    let m = viewing_tests::movie("Heat", 170, &["crime"]);
    user.put_movie(&m).await.assert_problem(403, "forbidden");
    admin.put_movie(&m).await.assert_status(200);
    // Tokens signed with any fixed secret are refused: the dev secret is random.
    server
        .client(Uuid::new_v4())
        .get("/api/viewing/history")
        .await
        .assert_problem(401, "unauthorized");
}

#[tokio::test]
async fn the_memory_store_and_json_logs() {
    let server = Server::start_with(
        &server_bin!(),
        Options {
            database_url: Some("memory:".into()),
            args: vec!["--log-format".into(), "json".into()],
            ..Options::default()
        },
    );
    let user = server.client(Uuid::new_v4());
    user.get("/api/viewing/history").await.assert_status(200);
    server
        .anonymous()
        .get("/health/ready")
        .await
        .assert_status(200);
    std::thread::sleep(Duration::from_millis(100));
    let log = server.stderr();
    let request_line = log
        .lines()
        .find(|l| l.contains("/api/viewing/history"))
        .unwrap_or_else(|| panic!("no request logged: {log}"));
    let parsed: serde_json::Value =
        serde_json::from_str(request_line).unwrap_or_else(|e| panic!("{e}: {request_line}"));
    assert!(parsed["span"]["request_id"].is_string(), "{parsed}");
}

#[test]
fn bad_settings_fail_at_start() {
    for (args, env) in [
        (vec!["serve"], vec![("DATABASE_URL", "mysql://localhost/x")]),
        (vec!["serve"], vec![("VIEWING_LISTEN", "not-an-address")]),
        (vec!["serve"], vec![("VIEWING_RATE_LIMIT_PER_MIN", "0")]),
    ] {
        let out = run(&args, &env);
        assert!(!out.status.success(), "{env:?}");
        assert!(!String::from_utf8_lossy(&out.stderr).is_empty());
    }
}

#[cfg(unix)]
#[tokio::test]
async fn sigterm_stops_the_server_gracefully() {
    let mut server = Server::start(&server_bin!());
    server
        .anonymous()
        .get("/health/live")
        .await
        .assert_status(200);
    let killed = Command::new("kill")
        .args(["-TERM", &server.pid().to_string()])
        .status()
        .unwrap_or_else(|e| panic!("kill: {e}"));
    assert!(killed.success());
    let status = server
        .wait_exit(Duration::from_secs(10))
        .unwrap_or_else(|| panic!("still running 10 s after SIGTERM"));
    assert!(status.success(), "{status:?}");
    assert!(server.stderr().contains("shutting down"));
}
