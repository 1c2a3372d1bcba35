//! A load generator for a running viewing-server: many users recording and reading at once.
//!
//! ```sh
//! VIEWING_JWT_SECRET=load-test-secret-0123456789abcdef-0123 cargo run --release -p viewing-server -- --rate-limit-per-min 1000000 &
//! VIEWING_JWT_SECRET=load-test-secret-0123456789abcdef-0123 cargo run --release -p viewing-tests --bin viewing-loadgen -- \
//!     http://127.0.0.1:8080 64 20
//! ```
//! Arguments: base URL, concurrent users (default 32), seconds (default 15). It loads a catalog
//! (one movie, one ended show of 5 seasons × 20 episodes), then each user loops: watch the next
//! episode (a rewatch after the finale), watch the movie every fifth turn, read progress every
//! third, history every seventh. It prints requests per second and latency percentiles per
//! kind of request, and fails if any answer is not the expected status.
//!
//! With `--scenario LIST` (comma-separated) it runs the capacity scenarios of SPEC §14 one
//! after another instead (what `scripts/bench` runs), on a catalog of their own:
//!
//! - `episodes`: `--users` users (default 100) record first-time episode watches of a
//!   250-episode show (5 seasons × 50), in order, each user's watches one at a time, spread
//!   over `--clients` concurrent clients (default 16);
//! - `progress`, `history`, `upnext`, `statistics`: `--clients` users who each watched 25
//!   episodes of a 250-episode show and the first episode of 19 shows of 50 episodes (20 shows
//!   in progress; seeded once for all four, then the handlers are let catch up) read, one request after another per client: the
//!   progress of the big show, a history page of 20, the up-next list, the year's statistics.
//!
//! Each scenario runs `--seconds` seconds (default 15), or until `--writes N` requests were
//! made when that comes first, and prints one line
//! `RESULT scenario=NAME clients=N requests=N seconds=S rate=R p50_ms=P p95_ms=P p99_ms=P`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use uuid::Uuid;
use viewing_tests::{Api, ShowFixture, movie, show, sign};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Ok(secret) = std::env::var("VIEWING_JWT_SECRET") else {
        eprintln!("set VIEWING_JWT_SECRET to the server's secret");
        std::process::exit(2);
    };
    let options = match Options::parse(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("viewing-loadgen: {e}");
            std::process::exit(2);
        }
    };
    let tokens = Tokens { secret };
    if options.scenarios.is_empty() {
        mixed(&options, &tokens).await;
    } else {
        let mut readers = None;
        for name in &options.scenarios {
            if name == "episodes" {
                episodes(&options, &tokens).await;
                continue;
            }
            if readers.is_none() {
                readers = Some(Readers::seed(&options, &tokens).await);
            }
            if let Some(r) = &readers {
                r.read(name, &options).await;
            }
        }
    }
}

/// The command line: positional `[BASE] [USERS] [SECONDS]` and the scenario flags.
struct Options {
    base: String,
    users: Option<usize>,
    seconds: Option<u64>,
    clients: usize,
    writes: Option<u64>,
    scenarios: Vec<String>,
}

const SCENARIOS: [&str; 5] = ["episodes", "progress", "history", "upnext", "statistics"];

impl Options {
    fn parse(args: &[String]) -> Result<Options, String> {
        let mut positional = Vec::new();
        let mut options = Options {
            base: "http://127.0.0.1:8080".into(),
            users: None,
            seconds: None,
            clients: 16,
            writes: None,
            scenarios: Vec::new(),
        };
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            let mut value = |name: &str| {
                it.next()
                    .cloned()
                    .ok_or_else(|| format!("{name} needs a value"))
            };
            let number = |name: &str, v: String| {
                v.parse::<u64>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| format!("{name}: expected a positive number, got {v:?}"))
            };
            match arg.as_str() {
                "--scenario" => {
                    for s in value(arg)?.split(',').filter(|s| !s.is_empty()) {
                        if !SCENARIOS.contains(&s) {
                            return Err(format!(
                                "unknown scenario {s:?} (expected {})",
                                SCENARIOS.join(", ")
                            ));
                        }
                        options.scenarios.push(s.to_owned());
                    }
                }
                "--clients" => options.clients = number(arg, value(arg)?)? as usize,
                "--users" => options.users = Some(number(arg, value(arg)?)? as usize),
                "--seconds" => options.seconds = Some(number(arg, value(arg)?)?),
                "--writes" => options.writes = Some(number(arg, value(arg)?)?),
                flag if flag.starts_with("--") => return Err(format!("unknown option {flag}")),
                _ => positional.push(arg.clone()),
            }
        }
        let mut positional = positional.into_iter();
        if let Some(base) = positional.next() {
            options.base = base;
        }
        if let Some(users) = positional.next() {
            options.users = Some(number_arg("users", &users)? as usize);
        }
        if let Some(seconds) = positional.next() {
            options.seconds = Some(number_arg("seconds", &seconds)?);
        }
        Ok(options)
    }
}

fn number_arg(name: &str, v: &str) -> Result<u64, String> {
    v.parse::<u64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("{name}: expected a positive number, got {v:?}"))
}

/// Signs tokens with the server's secret.
struct Tokens {
    secret: String,
}

impl Tokens {
    fn token(&self, sub: Uuid, admin: bool) -> String {
        let exp = chrono::Utc::now().timestamp() + 3600;
        let mut claims = json!({ "sub": sub.to_string(), "exp": exp });
        if admin {
            claims["role"] = json!("admin");
        }
        sign(&self.secret, &claims)
    }
}

/// The default run: a mix of writes and reads by many users (see the module docs).
async fn mixed(options: &Options, tokens: &Tokens) {
    let base = &options.base;
    let users = options.users.unwrap_or(32);
    let seconds = options.seconds.unwrap_or(15);
    let admin = Api::new(base, Some(tokens.token(Uuid::new_v4(), true)));
    let m = movie("Load Movie", 120, &["drama"]);
    let s = show("Load Show", "ended", &[20, 20, 20, 20, 20], 45);
    admin.put_movie(&m).await.assert_status(200);
    admin.put_show(&s).await.assert_status(200);
    let episodes: Vec<Uuid> = (1..=5)
        .flat_map(|season| (1..=20).map(move |e| (season, e)))
        .map(|(season, e)| s.episode(season, e))
        .collect();

    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..users {
        let api = admin.with_token(&tokens.token(Uuid::new_v4(), false));
        let episodes = episodes.clone();
        let (movie_id, show_id) = (m.id, s.id);
        tasks.push(tokio::spawn(async move {
            let mut samples: BTreeMap<&'static str, Vec<Duration>> = BTreeMap::new();
            let mut turn = 0usize;
            let mut next_episode = 0usize;
            while Instant::now() < deadline {
                let (kind, path, expect, post) = match turn {
                    t if t % 5 == 4 => (
                        "POST movie watched",
                        format!("/api/viewing/movies/{movie_id}/watched"),
                        201,
                        true,
                    ),
                    t if t % 3 == 2 => (
                        "GET progress",
                        format!("/api/viewing/progress/{show_id}"),
                        200,
                        false,
                    ),
                    t if t % 7 == 6 => (
                        "GET history",
                        "/api/viewing/history?limit=20".to_owned(),
                        200,
                        false,
                    ),
                    _ => {
                        next_episode += 1;
                        (
                            "POST episode watched",
                            format!(
                                "/api/viewing/episodes/{}/watched",
                                episodes[(next_episode - 1) % episodes.len()]
                            ),
                            201,
                            true,
                        )
                    }
                };
                let t0 = Instant::now();
                let r = if post {
                    api.post(&path, &json!({})).await
                } else {
                    api.get(&path).await
                };
                samples.entry(kind).or_default().push(t0.elapsed());
                if r.status != expect {
                    panic!("{kind} {path}: {} {}", r.status, r.text);
                }
                turn += 1;
            }
            samples
        }));
    }
    let mut all: BTreeMap<&'static str, Vec<Duration>> = BTreeMap::new();
    for t in tasks {
        match t.await {
            Ok(samples) => {
                for (k, v) in samples {
                    all.entry(k).or_default().extend(v);
                }
            }
            Err(e) => {
                eprintln!("a user failed: {e}");
                std::process::exit(1);
            }
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let total: usize = all.values().map(Vec::len).sum();
    println!(
        "{users} users, {elapsed:.1} s: {total} requests, {:.0} requests/s",
        total as f64 / elapsed
    );
    for (kind, mut v) in all {
        v.sort();
        let p = |q: f64| v[((v.len() as f64 - 1.0) * q).round() as usize].as_secs_f64() * 1000.0;
        println!(
            "  {kind:<22} {:>7} requests  p50 {:>7.2} ms  p95 {:>7.2} ms  p99 {:>7.2} ms",
            v.len(),
            p(0.5),
            p(0.95),
            p(0.99)
        );
    }
}

/// One request of a scenario: a POST (expects 201, body `{}`) or a GET (expects 200).
enum Request {
    Post(String),
    Get(String),
}

/// Sends `request` as `api` and fails the run on an unexpected status.
async fn send(api: &Api, request: &Request) {
    let (rb, expect, path) = match request {
        Request::Post(path) => (
            api.request(reqwest::Method::POST, path).json(&json!({})),
            201,
            path,
        ),
        Request::Get(path) => (api.request(reqwest::Method::GET, path), 200, path),
    };
    let response = match rb.send().await {
        Ok(r) => r,
        Err(e) => fail(&format!("{path}: {e}")),
    };
    let status = response.status().as_u16();
    let body = response.bytes().await.unwrap_or_default();
    if status != expect {
        fail(&format!(
            "{path}: {status} {}",
            String::from_utf8_lossy(&body)
        ));
    }
}

fn fail(message: &str) -> ! {
    eprintln!("viewing-loadgen: {message}");
    std::process::exit(1)
}

/// When a scenario stops: at its deadline, or when its request budget is spent.
#[derive(Clone)]
struct Stop {
    deadline: Instant,
    budget: Option<Arc<AtomicU64>>,
}

impl Stop {
    fn new(options: &Options) -> Stop {
        Stop {
            deadline: Instant::now() + Duration::from_secs(options.seconds.unwrap_or(15)),
            budget: options.writes.map(|n| Arc::new(AtomicU64::new(n))),
        }
    }

    /// Whether one more request may be made (taking it from the budget).
    fn next(&self) -> bool {
        if Instant::now() >= self.deadline {
            return false;
        }
        match &self.budget {
            Some(b) => b
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                .is_ok(),
            None => true,
        }
    }
}

/// One client's work: its users (API handles) and, for each, the requests it makes in turn.
type Plan = Vec<(Api, Vec<Request>)>;

/// Runs one plan per client concurrently: each client takes its users in turn and sends each
/// one's next request (cycling through the list), one request at a time, until `stop`. Prints
/// the RESULT line.
async fn drive(name: &str, plans: Vec<Plan>, stop: Stop) {
    let clients = plans.len();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for plan in plans {
        let stop = stop.clone();
        tasks.push(tokio::spawn(async move {
            let mut samples = Vec::new();
            let mut next = vec![0usize; plan.len()];
            let mut turn = 0usize;
            while !plan.is_empty() && stop.next() {
                let u = turn % plan.len();
                let (api, requests) = &plan[u];
                let request = &requests[next[u] % requests.len()];
                next[u] += 1;
                let t0 = Instant::now();
                send(api, request).await;
                samples.push(t0.elapsed());
                turn += 1;
            }
            samples
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        match t.await {
            Ok(samples) => all.extend(samples),
            Err(e) => fail(&format!("a client failed: {e}")),
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort();
    let p = |q: f64| {
        all.get(((all.len().max(1) as f64 - 1.0) * q).round() as usize)
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    println!(
        "RESULT scenario={name} clients={clients} requests={} seconds={elapsed:.2} rate={:.1} \
         p50_ms={:.3} p95_ms={:.3} p99_ms={:.3}",
        all.len(),
        all.len() as f64 / elapsed,
        p(0.5),
        p(0.95),
        p(0.99)
    );
}

/// A show of `seasons` × `per_season` episodes, loaded into the catalog; its episodes in order.
async fn load_show(admin: &Api, title: &str, seasons: usize, per_season: usize) -> ShowFixture {
    let s = show(title, "ended", &vec![per_season; seasons], 45);
    admin.put_show(&s).await.assert_status(200);
    s
}

fn in_order(s: &ShowFixture) -> Vec<Uuid> {
    s.episodes.iter().flatten().copied().collect()
}

/// Waits until the event handlers have caught up (`viewing_outbox_backlog{channel="handlers"}`
/// 0 on `/metrics`, read into the metrics once a second), at most 10 minutes, so that reads are
/// measured beside idle handlers.
async fn settle(base: &str) {
    let http = reqwest::Client::new();
    let started = Instant::now();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    while started.elapsed() < Duration::from_secs(600) {
        let text = match http.get(format!("{base}/metrics")).send().await {
            Ok(r) => r.text().await.unwrap_or_default(),
            Err(e) => fail(&format!("/metrics: {e}")),
        };
        let backlog = text
            .lines()
            .find(|l| l.starts_with("viewing_outbox_backlog{channel=\"handlers\"}"))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse::<f64>().ok());
        if backlog.is_none_or(|b| b == 0.0) {
            eprintln!(
                "handlers caught up in {:.1} s",
                started.elapsed().as_secs_f64()
            );
            return;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    eprintln!("the handlers are still behind after 10 minutes; reading anyway");
}

/// The `episodes` scenario: first-time episode watches, in order, one at a time per user.
async fn episodes(options: &Options, tokens: &Tokens) {
    let admin = Api::new(&options.base, Some(tokens.token(Uuid::new_v4(), true)));
    let big = load_show(&admin, "Bench Show", 5, 50).await;
    let episodes = in_order(&big);
    let users = options.users.unwrap_or(100).max(1);
    let mut plans: Vec<Plan> = (0..options.clients.min(users))
        .map(|_| Vec::new())
        .collect();
    let count = plans.len();
    for u in 0..users {
        let api = admin.with_token(&tokens.token(Uuid::new_v4(), false));
        let writes = episodes
            .iter()
            .map(|e| Request::Post(format!("/api/viewing/episodes/{e}/watched")))
            .collect();
        plans[u % count].push((api, writes));
    }
    drive("episodes", plans, Stop::new(options)).await;
}

/// The users of the read scenarios: one per client, each with the first episode of 19 shows of
/// 50 and then 25 episodes of a 250-episode show watched (20 shows in progress; the newest
/// history page is all of the big show).
struct Readers {
    big: ShowFixture,
    users: Vec<Api>,
}

impl Readers {
    async fn seed(options: &Options, tokens: &Tokens) -> Readers {
        let admin = Api::new(&options.base, Some(tokens.token(Uuid::new_v4(), true)));
        let big = load_show(&admin, "Bench Show", 5, 50).await;
        let episodes = in_order(&big);
        let mut others = Vec::new();
        for i in 0..19 {
            others.push(load_show(&admin, &format!("Bench Other {i}"), 5, 10).await);
        }
        let users: Vec<Api> = (0..options.clients)
            .map(|_| admin.with_token(&tokens.token(Uuid::new_v4(), false)))
            .collect();
        let watch = |e: &Uuid| Request::Post(format!("/api/viewing/episodes/{e}/watched"));
        let seed: Vec<Plan> = users
            .iter()
            .map(|api| {
                // The big show last: the newest page of history is of one show, as in a binge.
                let mut writes: Vec<Request> =
                    others.iter().map(|s| watch(&s.episode(1, 1))).collect();
                writes.extend(episodes[..25].iter().map(watch));
                vec![(api.clone(), writes)]
            })
            .collect();
        let per_user = 25 + others.len() as u64;
        let seeding = Stop {
            deadline: Instant::now() + Duration::from_secs(600),
            budget: Some(Arc::new(AtomicU64::new(per_user * users.len() as u64))),
        };
        drive("seed-readers", seed, seeding).await;
        settle(&options.base).await;
        Readers { big, users }
    }

    /// Runs the read scenario `name`: every reader sends the same request, one at a time.
    async fn read(&self, name: &str, options: &Options) {
        let path = match name {
            "progress" => format!("/api/viewing/progress/{}", self.big.id),
            "history" => "/api/viewing/history?limit=20".to_owned(),
            "upnext" => "/api/viewing/progress".to_owned(),
            _ => "/api/viewing/statistics?period=year".to_owned(),
        };
        let plans = self
            .users
            .iter()
            .map(|api| vec![(api.clone(), vec![Request::Get(path.clone())])])
            .collect();
        drive(name, plans, Stop::new(options)).await;
    }
}
