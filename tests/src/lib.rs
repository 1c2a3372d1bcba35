//! Helpers of the black-box tests: start the real `viewing-server` program on a free port with
//! a fresh SQLite file, mint tokens, call the API, build catalog fixtures.
//!
//! The tests live in `tests/`; each starts its own server, so they run in parallel.
#![forbid(unsafe_code)]

pub mod nats;
pub mod postgres;
mod signal;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use uuid::Uuid;

/// The secret every test server is started with.
pub const SECRET: &str = "black-box-tests-secret-0123456789abcdef";

/// The program under test: `VIEWING_SERVER_BIN` when set, else the build of this package.
#[macro_export]
macro_rules! server_bin {
    () => {
        std::env::var("VIEWING_SERVER_BIN")
            .unwrap_or_else(|_| env!("CARGO_BIN_EXE_viewing-server-blackbox").to_owned())
    };
}

/// How a test server is started.
#[derive(Debug, Clone)]
pub struct Options {
    /// `None`: dev-auth mode (no VIEWING_JWT_SECRET).
    pub secret: Option<String>,
    /// Extra environment.
    pub env: Vec<(String, String)>,
    /// Extra arguments (before any subcommand).
    pub args: Vec<String>,
    /// Default: a fresh SQLite file in a temporary folder.
    pub database_url: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            secret: Some(SECRET.to_owned()),
            env: Vec::new(),
            args: Vec::new(),
            database_url: None,
        }
    }
}

/// A running server; killed when dropped.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The server's stdout so far.
    pub stdout: Arc<Mutex<Vec<String>>>,
    pub database_url: String,
    dir: tempfile::TempDir,
}

impl Server {
    pub fn start(bin: &str) -> Self {
        Self::start_with(bin, Options::default())
    }

    pub fn start_with(bin: &str, options: Options) -> Self {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let database_url = options
            .database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("viewing.db").display()));
        let stderr_path = dir.path().join("stderr.log");
        let stderr = std::fs::File::create(&stderr_path)
            .unwrap_or_else(|e| panic!("{}: {e}", stderr_path.display()));
        let mut cmd = Command::new(bin);
        cmd.args(&options.args)
            .arg("serve")
            .env_remove("VIEWING_JWT_SECRET")
            .env_remove("RUST_LOG")
            .env("VIEWING_LISTEN", "127.0.0.1:0")
            .env("DATABASE_URL", &database_url)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr);
        if let Some(secret) = &options.secret {
            cmd.env("VIEWING_JWT_SECRET", secret);
        }
        for (k, v) in &options.env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("start {bin}: {e}"));
        let stdout = child
            .stdout
            .take()
            .unwrap_or_else(|| panic!("no stdout pipe"));
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        let seen = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(addr) = line.strip_prefix("listening on ") {
                    let _ = tx.send(addr.trim().to_owned());
                }
                if let Ok(mut s) = seen.lock() {
                    s.push(line);
                }
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(a) => a,
            Err(_) => {
                let _ = child.kill();
                let log = std::fs::read_to_string(&stderr_path).unwrap_or_default();
                panic!("the server did not start; its stderr:\n{log}");
            }
        };
        Server {
            child,
            base: format!("http://{addr}"),
            stdout: lines,
            database_url,
            dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A client acting as `user`.
    pub fn client(&self, user: Uuid) -> Api {
        Api::new(&self.base, Some(token(user, false)))
    }

    /// A client with the admin role.
    pub fn admin(&self) -> Api {
        Api::new(&self.base, Some(token(Uuid::new_v4(), true)))
    }

    /// A client sending no token.
    pub fn anonymous(&self) -> Api {
        Api::new(&self.base, None)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What the server logged so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("stderr.log")).unwrap_or_default()
    }

    pub fn dir(&self) -> PathBuf {
        self.dir.path().to_owned()
    }

    /// Waits for the process to end (after a signal), at most `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let deadline = std::time::Instant::now() + timeout;
        while std::time::Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A token for `user` signed with [`SECRET`], valid for an hour.
pub fn token(user: Uuid, admin: bool) -> String {
    let exp = chrono::Utc::now().timestamp() + 3600;
    let mut claims = json!({ "sub": user.to_string(), "exp": exp });
    if admin {
        claims["role"] = json!("admin");
    }
    sign(SECRET, &claims)
}

/// Any claims, HS256 with any secret.
pub fn sign(secret: &str, claims: &Value) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap_or_else(|e| panic!("sign: {e}"))
}

/// An unsigned token (`alg: none`), which must be refused.
pub fn unsigned_token(user: Uuid) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let exp = chrono::Utc::now().timestamp() + 3600;
    let claims = URL_SAFE_NO_PAD.encode(
        json!({ "sub": user.to_string(), "exp": exp, "role": "admin" })
            .to_string()
            .as_bytes(),
    );
    format!("{header}.{claims}.")
}

/// A response, read whole.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
    /// The body as JSON (`Null` when it is not JSON).
    pub body: Value,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts an `application/problem+json` answer with this status and code.
    #[track_caller]
    pub fn assert_problem(&self, status: u16, code: &str) -> &Self {
        assert_eq!(self.status, status, "status of {}", self.text);
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "content type of {}",
            self.text
        );
        assert_eq!(self.body["code"], code, "code of {}", self.text);
        assert_eq!(self.body["status"], status, "{}", self.text);
        for field in ["type", "title", "detail"] {
            assert!(self.body[field].is_string(), "{field} in {}", self.text);
        }
        self
    }

    #[track_caller]
    pub fn assert_status(&self, status: u16) -> &Self {
        assert_eq!(self.status, status, "body: {}", self.text);
        self
    }
}

/// An HTTP client acting as one caller.
#[derive(Debug, Clone)]
pub struct Api {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
}

impl Api {
    pub fn new(base: &str, token: Option<String>) -> Self {
        Self {
            http: reqwest::Client::new(),
            base: base.to_owned(),
            token,
        }
    }

    pub fn with_token(&self, token: &str) -> Self {
        Self {
            token: Some(token.to_owned()),
            ..self.clone()
        }
    }

    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let rb = self.http.request(method, format!("{}{path}", self.base));
        match &self.token {
            Some(t) => rb.bearer_auth(t),
            None => rb,
        }
    }

    pub async fn send(&self, rb: reqwest::RequestBuilder) -> Resp {
        let response = rb.send().await.unwrap_or_else(|e| panic!("request: {e}"));
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp {
            status,
            headers,
            text,
            body,
        }
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send(self.request(reqwest::Method::GET, path)).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Resp {
        self.send(self.request(reqwest::Method::POST, path).json(body))
            .await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Resp {
        self.send(self.request(reqwest::Method::PUT, path).json(body))
            .await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Resp {
        self.send(self.request(reqwest::Method::PATCH, path).json(body))
            .await
    }

    pub async fn delete(&self, path: &str) -> Resp {
        self.send(self.request(reqwest::Method::DELETE, path)).await
    }

    /// A PUT without a body (`PUT /api/watchlist/{contentId}`).
    pub async fn put_empty(&self, path: &str) -> Resp {
        self.send(self.request(reqwest::Method::PUT, path)).await
    }

    /// Polls `GET path` until it answers 200 with a body `check` accepts, at most 10 s: what
    /// the event handlers keep (achievements, watchlist, reminders, preferences) follows the
    /// writes asynchronously.
    #[track_caller]
    pub fn wait_get<'a>(
        &'a self,
        path: &'a str,
        check: impl Fn(&Value) -> bool + 'a,
    ) -> impl Future<Output = Value> + 'a {
        let caller = std::panic::Location::caller();
        async move {
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            loop {
                let r = self.get(path).await;
                r.assert_status(200);
                if check(&r.body) {
                    return r.body;
                }
                if std::time::Instant::now() > deadline {
                    panic!("GET {path} never matched (checked at {caller}): {}", r.text);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }

    /// A POST with a raw body (malformed JSON, huge bodies).
    pub async fn post_raw(&self, path: &str, body: impl Into<reqwest::Body>) -> Resp {
        self.send(
            self.request(reqwest::Method::POST, path)
                .header("content-type", "application/json")
                .body(body),
        )
        .await
    }

    pub async fn watch_movie(&self, movie: Uuid, body: &Value) -> Resp {
        self.post(&format!("/api/viewing/movies/{movie}/watched"), body)
            .await
    }

    pub async fn watch_episode(&self, episode: Uuid, body: &Value) -> Resp {
        self.post(&format!("/api/viewing/episodes/{episode}/watched"), body)
            .await
    }

    pub async fn put_movie(&self, movie: &MovieFixture) -> Resp {
        self.put(&format!("/api/catalog/movies/{}", movie.id), &movie.body)
            .await
    }

    pub async fn put_show(&self, show: &ShowFixture) -> Resp {
        self.put(&format!("/api/catalog/shows/{}", show.id), &show.body)
            .await
    }

    pub async fn progress(&self, show: Uuid) -> Resp {
        self.get(&format!("/api/viewing/progress/{show}")).await
    }

    pub async fn statistics(&self, query: &str) -> Resp {
        self.get(&format!("/api/viewing/statistics{query}")).await
    }

    /// Polls the statistics until `check` holds (they may lag writes by ~2 s), at most 5 s.
    #[track_caller]
    pub fn wait_statistics<'a>(
        &'a self,
        query: &'a str,
        check: impl Fn(&Value) -> bool + 'a,
    ) -> impl Future<Output = Value> + 'a {
        let caller = std::panic::Location::caller();
        async move {
            let deadline = std::time::Instant::now() + Duration::from_secs(5);
            loop {
                let r = self.statistics(query).await;
                r.assert_status(200);
                if check(&r.body) {
                    return r.body;
                }
                if std::time::Instant::now() > deadline {
                    panic!("statistics never matched (checked at {caller}): {}", r.text);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// A movie of the catalog.
#[derive(Debug, Clone)]
pub struct MovieFixture {
    pub id: Uuid,
    pub body: Value,
}

pub fn movie(title: &str, runtime: u32, genres: &[&str]) -> MovieFixture {
    MovieFixture {
        id: Uuid::new_v4(),
        body: json!({
            "title": title,
            "runtimeMinutes": runtime,
            "genres": genres,
            "releaseDate": "1995-12-15",
        }),
    }
}

/// A show of the catalog, with its ids at hand.
#[derive(Debug, Clone)]
pub struct ShowFixture {
    pub id: Uuid,
    /// `episodes[s][e]`: the id of season `s + 1`, episode `e + 1`.
    pub episodes: Vec<Vec<Uuid>>,
    pub season_ids: Vec<Uuid>,
    pub body: Value,
}

impl ShowFixture {
    /// Season and episode numbers are 1-based.
    #[track_caller]
    pub fn episode(&self, season: usize, episode: usize) -> Uuid {
        self.episodes[season - 1][episode - 1]
    }
}

/// A show whose seasons have these numbers of episodes (all aired), each `runtime` minutes.
pub fn show(title: &str, status: &str, seasons: &[usize], runtime: u32) -> ShowFixture {
    let id = Uuid::new_v4();
    let mut episodes = Vec::new();
    let mut season_ids = Vec::new();
    let mut season_bodies = Vec::new();
    for (s, count) in seasons.iter().enumerate() {
        let season_id = Uuid::new_v4();
        let ids: Vec<Uuid> = (0..*count).map(|_| Uuid::new_v4()).collect();
        let eps: Vec<Value> = ids
            .iter()
            .enumerate()
            .map(|(e, eid)| {
                json!({
                    "episodeId": eid,
                    "episodeNumber": e + 1,
                    "title": format!("{title} S{}E{}", s + 1, e + 1),
                    "runtimeMinutes": runtime,
                    "airDate": "2015-01-01",
                })
            })
            .collect();
        season_bodies.push(json!({
            "seasonId": season_id,
            "seasonNumber": s + 1,
            "episodes": eps,
        }));
        season_ids.push(season_id);
        episodes.push(ids);
    }
    ShowFixture {
        id,
        episodes,
        season_ids,
        body: json!({
            "title": title,
            "status": status,
            "genres": ["drama", "crime"],
            "seasons": season_bodies,
        }),
    }
}

/// `2026-01-10T20:00:00Z` plus `minutes`: fixed watch dates make binge gaps exact.
pub fn at(base: &str, minutes: i64) -> String {
    let base = chrono::DateTime::parse_from_rfc3339(base)
        .unwrap_or_else(|e| panic!("{base}: {e}"))
        .with_timezone(&chrono::Utc);
    (base + chrono::Duration::minutes(minutes)).to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}
