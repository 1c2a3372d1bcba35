//! A local stand-in for TMDB's v3 API, for tests (feature `fake`): it serves the committed
//! fixtures (`tests/fixtures`, written for this project in TMDB's real response shapes) on
//! `127.0.0.1`, checks the bearer token as TMDB does, counts the calls, and fails on request,
//! so nothing in the tests reaches the internet.
//!
//! It knows The Matrix (`/movie/603`, `/find/tt0133093`) and Dark (`/tv/70523`, seasons 0
//! and 1, `/find/tt5753856`, `/find/tt5753858` for its first episode and `/find/334824` by TheTVDB
//! id). Any other
//! `/find` finds nothing; any other path is TMDB's 404.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

/// The token the fake takes.
pub const TOKEN: &str = "fake-tmdb-token";

const FIXTURES: &[(&str, &str)] = &[
    (
        "/movie/603",
        include_str!("../tests/fixtures/movie_603.json"),
    ),
    ("/tv/70523", include_str!("../tests/fixtures/tv_70523.json")),
    (
        "/tv/70523/season/0",
        include_str!("../tests/fixtures/tv_70523_season_0.json"),
    ),
    (
        "/tv/70523/season/1",
        include_str!("../tests/fixtures/tv_70523_season_1.json"),
    ),
    (
        "/find/tt0133093",
        include_str!("../tests/fixtures/find_tt0133093.json"),
    ),
    (
        "/find/tt5753858",
        include_str!("../tests/fixtures/find_tt5753858.json"),
    ),
    (
        "/find/tt5753856",
        include_str!("../tests/fixtures/find_tt5753856.json"),
    ),
    (
        "/find/334824",
        include_str!("../tests/fixtures/find_tvdb_334824.json"),
    ),
];

const NOTHING_FOUND: &str = include_str!("../tests/fixtures/find_nothing.json");
const NOT_FOUND: &str = r#"{"success":false,"status_code":34,"status_message":"The resource you requested could not be found."}"#;
const BAD_TOKEN: &str = r#"{"status_code":7,"status_message":"Invalid API key: You must be granted a valid key.","success":false}"#;
const UNAVAILABLE: &str =
    r#"{"status_code":9,"status_message":"Service offline - Try again later.","success":false}"#;

#[derive(Default)]
struct State {
    calls: AtomicUsize,
    /// The next this many calls answer 503.
    failing: AtomicUsize,
    /// The next this many calls answer 429 with `Retry-After: 1`.
    limiting: AtomicUsize,
    /// Answers that replace a fixture, by path.
    replaced: Mutex<HashMap<String, String>>,
}

/// A running fake; it stops when dropped.
pub struct FakeTmdb {
    addr: SocketAddr,
    state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
}

impl FakeTmdb {
    /// Starts a fake on a free port of `127.0.0.1`.
    ///
    /// # Errors
    /// When no port can be bound.
    pub async fn start() -> std::io::Result<Self> {
        let state = Arc::new(State::default());
        let shared = state.clone();
        let app = Router::new().fallback(move |uri: Uri, headers: HeaderMap| {
            let state = shared.clone();
            async move { answer(&state, &uri, &headers) }
        });
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { addr, state, task })
    }

    /// The API root to give the client (`http://127.0.0.1:PORT/3`).
    pub fn url(&self) -> String {
        format!("http://{}/3", self.addr)
    }

    /// Calls answered so far, failed ones included.
    pub fn calls(&self) -> usize {
        self.state.calls.load(Ordering::SeqCst)
    }

    /// The next `n` calls answer 503.
    pub fn fail_next(&self, n: usize) {
        self.state.failing.store(n, Ordering::SeqCst);
    }

    /// The next `n` calls answer 429 with `Retry-After: 1`.
    pub fn rate_limit_next(&self, n: usize) {
        self.state.limiting.store(n, Ordering::SeqCst);
    }

    /// From now on `path` (`/tv/70523/season/1`, no `/3`, no query) answers `body`.
    pub fn replace(&self, path: &str, body: impl Into<String>) {
        self.state
            .replaced
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(path.to_owned(), body.into());
    }

    /// The fixture served at `path`, as committed.
    pub fn fixture(path: &str) -> Option<&'static str> {
        FIXTURES.iter().find(|(p, _)| *p == path).map(|(_, b)| *b)
    }
}

impl Drop for FakeTmdb {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Takes one of `counter`'s pending failures, if any.
fn take(counter: &AtomicUsize) -> bool {
    counter
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
}

fn json(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json;charset=utf-8")],
        body,
    )
        .into_response()
}

fn answer(state: &State, uri: &Uri, headers: &HeaderMap) -> Response {
    state.calls.fetch_add(1, Ordering::SeqCst);
    let bearer = format!("Bearer {TOKEN}");
    if headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        != Some(&bearer)
    {
        return json(StatusCode::UNAUTHORIZED, BAD_TOKEN.to_owned());
    }
    if take(&state.failing) {
        return json(StatusCode::SERVICE_UNAVAILABLE, UNAVAILABLE.to_owned());
    }
    if take(&state.limiting) {
        let mut r = json(
            StatusCode::TOO_MANY_REQUESTS,
            r#"{"status_code":25,"status_message":"Your request count is over the allowed limit.","success":false}"#
                .to_owned(),
        );
        r.headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
        return r;
    }
    let Some(path) = uri.path().strip_prefix("/3") else {
        return json(StatusCode::NOT_FOUND, NOT_FOUND.to_owned());
    };
    let replaced = state
        .replaced
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(path)
        .cloned();
    match replaced.or_else(|| FakeTmdb::fixture(path).map(str::to_owned)) {
        Some(body) => json(StatusCode::OK, body),
        None if path.starts_with("/find/") => json(StatusCode::OK, NOTHING_FOUND.to_owned()),
        None => json(StatusCode::NOT_FOUND, NOT_FOUND.to_owned()),
    }
}
