//! The command line of SPEC §2: `token`, `migrate`, `catalog import`, dev-auth mode, settings
//! from the environment, graceful shutdown; and SPEC §9 "First run": the secret's length, the
//! help of each command, databases that cannot be opened (on SQLite and PostgreSQL), errors
//! printed once.

use std::process::{Command, Output};
use std::time::Duration;

use serde_json::json;
use uuid::Uuid;
use viewing_tests::postgres::{Database, admin_url};
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
            { "id": Uuid::new_v4(), "title": "   ", "runtimeMinutes": 90, "stars": 5 },
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
    assert!(err.contains("movies[0].stars: unknown field"), "{err}");
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

// ---- SPEC §9 "First run": the secret, the help, databases that cannot be opened. ----

/// A secret of exactly the shortest allowed length (32 bytes).
const SECRET_32: &str = "0123456789abcdef0123456789abcdef";

/// Runs the program and waits at most `limit`; a program still running then is killed and the
/// test fails (a server that should have refused to start would otherwise serve forever).
fn run_briefly(args: &[&str], env: &[(&str, &str)], limit: Duration) -> (Output, Duration) {
    let started = std::time::Instant::now();
    let mut cmd = Command::new(server_bin!());
    cmd.args(args)
        .env_remove("VIEWING_JWT_SECRET")
        .env_remove("DATABASE_URL")
        .env_remove("RUST_LOG")
        .env("VIEWING_LISTEN", "127.0.0.1:0")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("run {args:?}: {e}"));
    while started.elapsed() < limit {
        if let Ok(Some(_)) = child.try_wait() {
            let out = child
                .wait_with_output()
                .unwrap_or_else(|e| panic!("{args:?}: {e}"));
            return (out, started.elapsed());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let out = child.wait_with_output();
    panic!("{args:?} {env:?} still running after {limit:?}: {out:?}");
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The program failed with exactly one error line, `error: …` containing `needle`, said once.
fn assert_fails_once(out: &Output, needle: &str) {
    let err = stderr(out);
    assert!(!out.status.success(), "succeeded: {out:?}");
    assert_eq!(
        err.matches(needle).count(),
        1,
        "{needle:?} not exactly once in:\n{err}"
    );
    let error_lines: Vec<&str> = err.lines().filter(|l| l.contains("error")).collect();
    assert_eq!(error_lines.len(), 1, "one error line expected:\n{err}");
    assert!(error_lines[0].starts_with("error: "), "{err}");
    assert!(!stdout(out).contains("listening on"), "{out:?}");
}

/// A URL of the server `admin` names, on database `name`.
fn pg_url_with_database(admin: &str, name: &str) -> String {
    let (base, query) = admin.split_once('?').unwrap_or((admin, ""));
    let host_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[host_end..].find('/') {
        Some(slash) => &base[..host_end + slash],
        None => base,
    };
    if query.is_empty() {
        format!("{base}/{name}")
    } else {
        format!("{base}/{name}?{query}")
    }
}

/// A fresh SQLite URL, and a fresh PostgreSQL database when one is configured.
async fn database_urls(dir: &std::path::Path) -> (Vec<String>, Option<Database>) {
    let sqlite = format!("sqlite://{}", dir.join("fresh.db").display());
    match admin_url() {
        Some(admin) => {
            let db = Database::create(&admin).await;
            (vec![sqlite, db.url.clone()], Some(db))
        }
        None => (vec![sqlite], None),
    }
}

#[tokio::test]
async fn a_short_secret_is_refused_before_anything_starts() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (urls, _db) = database_urls(dir.path()).await;
    let ten = "0123456789";
    let thirty_one = &SECRET_32[1..];
    for url in &urls {
        for secret in [ten, thirty_one] {
            let (out, _) = run_briefly(
                &["serve"],
                &[("DATABASE_URL", url), ("VIEWING_JWT_SECRET", secret)],
                Duration::from_secs(30),
            );
            assert_fails_once(&out, "VIEWING_JWT_SECRET is too short");
            let err = stderr(&out);
            assert!(err.contains(&format!("{} bytes", secret.len())), "{err}");
            assert!(err.contains("32"), "{err}");
            assert!(!err.contains(secret), "the secret is printed: {err}");
        }
        // The flag is held to the same rule, and so is the default command.
        let (out, _) = run_briefly(
            &["--jwt-secret", ten],
            &[("DATABASE_URL", url)],
            Duration::from_secs(30),
        );
        assert_fails_once(&out, "VIEWING_JWT_SECRET is too short");
    }
    // The SQLite file was never created: the secret is checked before the store is opened.
    assert!(!dir.path().join("fresh.db").exists());

    // 32 bytes start, and answer tokens signed with them.
    for url in &urls {
        let server = Server::start_with(
            &server_bin!(),
            Options {
                secret: Some(SECRET_32.into()),
                database_url: Some(url.clone()),
                ..Options::default()
            },
        );
        let token = viewing_tests::sign(
            SECRET_32,
            &json!({ "sub": Uuid::new_v4(), "exp": chrono::Utc::now().timestamp() + 600 }),
        );
        Api::new(&server.base, Some(token))
            .get("/api/viewing/history")
            .await
            .assert_status(200);
    }
    // Blank is unset: dev-auth mode.
    let server = Server::start_with(
        &server_bin!(),
        Options {
            secret: Some("   ".into()),
            database_url: Some("memory:".into()),
            ..Options::default()
        },
    );
    let lines = server.stdout.lock().map(|l| l.clone()).unwrap_or_default();
    assert!(
        lines.iter().any(|l| l.contains("DEV AUTH MODE")),
        "{lines:?}"
    );
}

#[test]
fn token_refuses_a_short_secret() {
    let sub = Uuid::new_v4().to_string();
    let (out, _) = run_briefly(
        &["token", "--sub", &sub],
        &[("VIEWING_JWT_SECRET", "0123456789")],
        Duration::from_secs(30),
    );
    assert_fails_once(&out, "VIEWING_JWT_SECRET is too short");
    assert!(stdout(&out).is_empty(), "{out:?}");
    let (out, _) = run_briefly(
        &["token", "--sub", &sub, "--jwt-secret", &SECRET_32[1..]],
        &[],
        Duration::from_secs(30),
    );
    assert_fails_once(&out, "VIEWING_JWT_SECRET is too short");
    let (out, _) = run_briefly(
        &["token", "--sub", &sub, "--jwt-secret", SECRET_32],
        &[],
        Duration::from_secs(30),
    );
    assert!(out.status.success(), "{out:?}");
    assert_eq!(stdout(&out).split('.').count(), 3, "{out:?}");
}

/// Every option of `serve`, with its environment variable.
const SERVE_OPTIONS: [(&str, &str); 19] = [
    ("--listen", "VIEWING_LISTEN"),
    ("--database-url", "DATABASE_URL"),
    ("--jwt-secret", "VIEWING_JWT_SECRET"),
    ("--rate-limit-per-min", "VIEWING_RATE_LIMIT_PER_MIN"),
    ("--rate-limit-burst", "VIEWING_RATE_LIMIT_BURST"),
    (
        "--anon-rate-limit-per-min",
        "VIEWING_RATE_LIMIT_ANON_PER_MIN",
    ),
    ("--anon-rate-limit-burst", "VIEWING_RATE_LIMIT_ANON_BURST"),
    ("--binge-max-gap-minutes", "VIEWING_BINGE_MAX_GAP_MINUTES"),
    ("--inactivity-days", "VIEWING_INACTIVITY_DAYS"),
    (
        "--scrobble-threshold-movie",
        "VIEWING_SCROBBLE_THRESHOLD_MOVIE",
    ),
    (
        "--scrobble-threshold-episode",
        "VIEWING_SCROBBLE_THRESHOLD_EPISODE",
    ),
    ("--nats-url", "VIEWING_NATS_URL"),
    ("--notify-webhook-url", "VIEWING_NOTIFY_WEBHOOK_URL"),
    ("--reminder-delay-minutes", "VIEWING_REMINDER_DELAY_MINUTES"),
    (
        "--reminder-interval-seconds",
        "VIEWING_REMINDER_INTERVAL_SECONDS",
    ),
    ("--handler-workers", "VIEWING_HANDLER_WORKERS"),
    ("--log-format", "VIEWING_LOG_FORMAT"),
    ("--tmdb-token", "VIEWING_TMDB_TOKEN"),
    ("--tmdb-url", "VIEWING_TMDB_URL"),
];

fn help(args: &[&str]) -> String {
    let out = run(args, &[]);
    assert!(out.status.success(), "{args:?}: {out:?}");
    stdout(&out)
}

/// The `--long` options a help text lists (at the start of a line).
fn listed_options(help: &str) -> Vec<String> {
    help.lines()
        .filter_map(|l| {
            let l = l.trim_start();
            let l = l
                .strip_prefix("-h, ")
                .or(l.strip_prefix("-V, "))
                .unwrap_or(l);
            l.starts_with("--")
                .then(|| l.split([' ', '=']).next().unwrap_or_default().to_owned())
        })
        .collect()
}

#[test]
fn help_names_the_secret_and_each_command_lists_only_its_own_options() {
    let top = help(&["--help"]);
    assert!(top.contains("VIEWING_JWT_SECRET"), "{top}");
    assert!(top.contains("32 bytes"), "{top}");
    assert!(top.to_lowercase().contains("dev-auth mode"), "{top}");
    for command in ["serve", "token", "migrate", "catalog"] {
        assert!(top.contains(&format!("  {command} ")), "{command}: {top}");
    }

    let serve = help(&["serve", "--help"]);
    for (flag, env) in SERVE_OPTIONS {
        assert!(
            serve.contains(flag) && serve.contains(env),
            "{flag}: {serve}"
        );
    }
    assert!(serve.to_lowercase().contains("dev-auth mode"), "{serve}");
    let mut expected: Vec<String> = SERVE_OPTIONS.iter().map(|(f, _)| (*f).into()).collect();
    expected.push("--help".into());
    assert_eq!(listed_options(&serve), expected, "{serve}");

    for (args, own) in [
        (
            vec!["token", "--help"],
            vec!["--sub", "--admin", "--ttl", "--jwt-secret", "--help"],
        ),
        (vec!["migrate", "--help"], vec!["--database-url", "--help"]),
        (
            vec!["catalog", "import", "--help"],
            vec!["--database-url", "--help"],
        ),
    ] {
        let text = help(&args);
        assert_eq!(listed_options(&text), own, "{args:?}:\n{text}");
    }
    assert!(help(&["token", "--help"]).contains("VIEWING_JWT_SECRET"));
    assert!(help(&["catalog", "import", "--help"]).contains("<FILE>"));
}

#[tokio::test]
async fn options_before_the_command_belong_to_it() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (urls, _db) = database_urls(dir.path()).await;
    let file = dir.path().join("catalog.json");
    let movie = Uuid::new_v4();
    let catalog = json!({ "movies": [{ "id": movie, "title": "Heat", "runtimeMinutes": 170 }] });
    std::fs::write(&file, catalog.to_string()).unwrap_or_else(|e| panic!("{e}"));
    let file = file.display().to_string();
    for url in &urls {
        // Before or after the command, the flag wins over the (bad) environment.
        let env = [("DATABASE_URL", "mysql://not-used/x")];
        let out = run(&["--database-url", url, "migrate"], &env);
        assert!(out.status.success(), "{out:?}");
        assert!(stdout(&out).contains("migrations applied"), "{out:?}");
        let out = run(&["catalog", "import", &file, "--database-url", url], &env);
        assert_eq!(stdout(&out), "imported 1 movies and 0 shows", "{out:?}");
        let out = run(&["--database-url", url, "catalog", "import", &file], &env);
        assert_eq!(stdout(&out), "imported 1 movies and 0 shows", "{out:?}");
        let server = Server::start_with(
            &server_bin!(),
            Options {
                database_url: Some(url.clone()),
                ..Options::default()
            },
        );
        let m = server
            .client(Uuid::new_v4())
            .get(&format!("/api/catalog/movies/{movie}"))
            .await;
        assert_eq!(m.body["title"], "Heat", "{url}");
    }
    assert!(dir.path().join("fresh.db").exists());
    // An option the command does not take is an error, not quietly dropped.
    let sub = Uuid::new_v4().to_string();
    for args in [
        vec!["--listen", "127.0.0.1:1", "migrate"],
        vec!["token", "--sub", &sub, "--database-url", "memory:"],
        vec!["migrate", "--jwt-secret", SECRET_32],
    ] {
        let out = run(&args, &[("VIEWING_JWT_SECRET", SECRET_32)]);
        assert!(!out.status.success(), "{args:?}: {out:?}");
        assert!(stderr(&out).contains("unexpected argument"), "{out:?}");
    }
}

/// The user id the tests run as (the owner of a file they make).
#[cfg(unix)]
fn own_uid(dir: &std::path::Path) -> u32 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(dir)
        .map(|m| m.uid())
        .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn a_sqlite_database_that_cannot_be_opened_is_named_once_with_its_cause() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let missing = dir.path().join("nope").join("deeper");
    let plain = dir.path().join("plain");
    std::fs::write(&plain, b"not a directory").unwrap_or_else(|e| panic!("{e}"));
    let cases = [
        (
            missing.join("viewing.db"),
            format!("no such directory {}", missing.display()),
        ),
        (
            plain.join("viewing.db"),
            format!("{} is not a directory", plain.display()),
        ),
        (
            dir.path().to_owned(),
            format!("{} is a directory", dir.path().display()),
        ),
    ];
    let catalog = dir.path().join("c.json");
    std::fs::write(&catalog, "{}").unwrap_or_else(|e| panic!("{e}"));
    let catalog = catalog.display().to_string();
    for (file, cause) in &cases {
        let url = format!("sqlite://{}", file.display());
        let expected = format!("cannot open SQLite database {}: {cause}", file.display());
        for args in [
            vec!["serve"],
            vec!["migrate"],
            vec!["catalog", "import", &catalog],
        ] {
            let (out, took) = run_briefly(
                &args,
                &[("DATABASE_URL", &url), ("VIEWING_JWT_SECRET", SECRET_32)],
                Duration::from_secs(30),
            );
            assert_fails_once(&out, &expected);
            assert!(took < Duration::from_secs(5), "{args:?} took {took:?}");
        }
    }
    assert!(!missing.exists(), "a directory was made");
}

/// Permission denied: as an ordinary user on a read-only directory. Root writes anywhere, so
/// as root the program is run as `nobody` (with `setpriv`, when there is one).
#[cfg(unix)]
#[test]
fn a_sqlite_database_in_a_read_only_directory_is_permission_denied() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let locked = dir.path().join("locked");
    std::fs::create_dir(&locked).unwrap_or_else(|e| panic!("{e}"));
    let set_mode = |path: &std::path::Path, mode: u32| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .unwrap_or_else(|e| panic!("{e}"));
    };
    set_mode(dir.path(), 0o755);
    set_mode(&locked, 0o555);
    let file = locked.join("viewing.db");
    let url = format!("sqlite://{}", file.display());
    let bin = server_bin!();
    let mut cmd = if own_uid(dir.path()) != 0 {
        Command::new(&bin)
    } else if Command::new("setpriv").arg("--version").output().is_ok() {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", &bin]);
        c
    } else {
        eprintln!("*** running as root without setpriv: permission denied NOT checked ***");
        return;
    };
    let out = cmd
        .arg("migrate")
        .env_remove("VIEWING_JWT_SECRET")
        .env("DATABASE_URL", &url)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    set_mode(&locked, 0o755);
    assert_fails_once(
        &out,
        &format!(
            "cannot open SQLite database {}: permission denied",
            file.display()
        ),
    );
}

#[tokio::test]
async fn a_postgresql_that_cannot_be_reached_is_named_once_and_fast() {
    // Nothing listens on port 1: refused at once, not after the pool's timeout.
    for args in [vec!["serve"], vec!["migrate"]] {
        let (out, took) = run_briefly(
            &args,
            &[
                ("DATABASE_URL", "postgres://postgres@127.0.0.1:1/viewing"),
                ("VIEWING_JWT_SECRET", SECRET_32),
            ],
            Duration::from_secs(30),
        );
        assert_fails_once(
            &out,
            "cannot connect to PostgreSQL at 127.0.0.1:1: connection refused",
        );
        assert!(took < Duration::from_secs(3), "{args:?} took {took:?}");
    }
    // A database that does not exist on the local server. (A wrong password cannot be shown
    // here: the test server trusts local connections; PostgreSQL's own message, "password
    // authentication failed for user …", is passed on the same way.)
    let Some(admin) = admin_url() else {
        return;
    };
    let name = format!("viewing_nope_{}", Uuid::new_v4().simple());
    let url = pg_url_with_database(&admin, &name);
    let (out, took) = run_briefly(
        &["migrate"],
        &[("DATABASE_URL", &url)],
        Duration::from_secs(30),
    );
    assert_fails_once(&out, &format!("database \"{name}\" does not exist"));
    assert!(
        stderr(&out).contains("error: cannot connect to PostgreSQL at "),
        "{out:?}"
    );
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

/// The catalog file is parsed by the app crate (SPEC §15): a file with problems imports nothing
/// and names every problem by its path, unknown fields at any depth included, on either store.
#[tokio::test]
async fn a_catalog_file_with_problems_names_each_and_imports_nothing() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (urls, _db) = database_urls(dir.path()).await;
    let good_movie = Uuid::new_v4();
    let bad = dir.path().join("bad.json");
    let catalog = json!({
        "movies": [{ "id": good_movie, "title": "Heat", "runtimeMinutes": 170.0 }],
        "shows": [{ "id": Uuid::new_v4(), "title": "<b></b>", "status": "ended", "network": "x",
            "seasons": [{ "seasonId": Uuid::new_v4(), "seasonNumber": 1, "episodes": [
                { "episodeId": Uuid::new_v4(), "episodeNumber": 1, "title": "Pilot",
                  "runtimeMinutes": 2000, "rating": 9 }
            ]}]
        }]
    });
    std::fs::write(&bad, catalog.to_string()).unwrap_or_else(|e| panic!("{e}"));
    let bad = bad.display().to_string();
    for url in &urls {
        let out = run(&["migrate", "--database-url", url], &[]);
        assert!(out.status.success(), "{out:?}");
        let out = run(&["catalog", "import", &bad, "--database-url", url], &[]);
        assert!(!out.status.success(), "{url}: {out:?}");
        let err = stderr(&out);
        for needle in [
            "nothing imported",
            "shows[0].network: unknown field",
            "shows[0].seasons[0].episodes[0].rating: unknown field",
            "shows[0].title: must not be blank",
            "shows[0].seasons[0].episodes[0].runtimeMinutes:",
        ] {
            assert!(err.contains(needle), "{url}: {needle} missing from {err}");
        }
        let server = Server::start_with(
            &server_bin!(),
            Options {
                database_url: Some(url.clone()),
                ..Options::default()
            },
        );
        let m = server
            .client(Uuid::new_v4())
            .get(&format!("/api/catalog/movies/{good_movie}"))
            .await;
        assert_eq!(
            m.status, 404,
            "{url}: the valid movie of a refused file was imported"
        );
    }
}
