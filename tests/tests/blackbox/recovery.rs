//! PostgreSQL going away and coming back, through the real server: while the database is
//! unreachable every request answers 503 `unavailable` (never 500), and once it is back the
//! server serves again by itself, without a restart.
//!
//! The server reaches PostgreSQL through a TCP relay owned by the test, which can drop every
//! connection and refuse new ones, then accept again on the same port.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;
use uuid::Uuid;
use viewing_tests::postgres::{Database, admin_url};
use viewing_tests::{Options, Server, movie, server_bin};

/// A TCP relay to PostgreSQL that can be switched off and on.
struct Relay {
    port: u16,
    target: String,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Relay {
    async fn start(target: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("bind: {e}"));
        let port = listener.local_addr().map(|a| a.port()).unwrap_or_default();
        let relay = Self {
            port,
            target,
            tasks: Arc::default(),
        };
        relay.serve(listener).await;
        relay
    }

    async fn serve(&self, listener: TcpListener) {
        let target = self.target.clone();
        let tasks = self.tasks.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let target = target.clone();
                let pipe = tokio::spawn(async move {
                    if let Ok(mut upstream) = TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                    }
                });
                tasks.lock().await.push(pipe);
            }
        });
        self.tasks.lock().await.push(accept);
    }

    /// Refuses new connections and cuts the open ones.
    async fn down(&self) {
        for t in self.tasks.lock().await.drain(..) {
            t.abort();
        }
    }

    /// Accepts again on the same port.
    async fn up(&self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port))
            .await
            .unwrap_or_else(|e| panic!("rebind {}: {e}", self.port));
        self.serve(listener).await;
    }
}

/// `postgres://user@host:port/db` → (`host:port`, the URL through the relay).
fn through(url: &str, relay_port: u16) -> (String, String) {
    let start = url
        .find('@')
        .map_or_else(|| url.find("://").map_or(0, |i| i + 3), |i| i + 1);
    let rest = url.get(start..).unwrap_or_default();
    let end = rest.find('/').unwrap_or(rest.len());
    let hostport = rest.get(..end).unwrap_or_default();
    let hostport = if hostport.contains(':') {
        hostport.to_owned()
    } else {
        format!("{hostport}:5432")
    };
    let relayed = format!(
        "{}127.0.0.1:{relay_port}{}",
        url.get(..start).unwrap_or_default(),
        rest.get(end..).unwrap_or_default()
    );
    (hostport, relayed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgresql_down_answers_503_and_the_server_recovers_by_itself() {
    let Some(admin) = admin_url() else {
        return;
    };
    let db = Database::create(&admin).await;
    let (target, _) = through(&db.url, 0);
    let relay = Relay::start(target).await;
    let (_, relayed_url) = through(&db.url, relay.port);
    let server = Server::start_with(
        &server_bin!(),
        Options {
            database_url: Some(relayed_url),
            ..Options::default()
        },
    );
    let m = movie("Heat", 170, &["crime"]);
    server.admin().put_movie(&m).await.assert_status(200);
    let alice = server.client(Uuid::new_v4());
    alice.watch_movie(m.id, &json!({})).await.assert_status(201);

    relay.down().await;
    alice
        .watch_movie(m.id, &json!({}))
        .await
        .assert_problem(503, "unavailable");
    alice
        .get("/api/viewing/history")
        .await
        .assert_problem(503, "unavailable");
    server
        .anonymous()
        .get("/health/ready")
        .await
        .assert_status(503);
    server
        .anonymous()
        .get("/health/live")
        .await
        .assert_status(200);

    relay.up().await;
    let mut recovered = None;
    for _ in 0..60 {
        let r = alice.watch_movie(m.id, &json!({})).await;
        if r.status == 201 {
            recovered = Some(r);
            break;
        }
        assert_eq!(r.status, 503, "only 503 while reconnecting: {}", r.text);
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(
        recovered.is_some(),
        "the server did not recover within 15 s"
    );
    let history = alice.get("/api/viewing/history").await;
    history.assert_status(200);
    assert_eq!(
        history.body["totalItems"], 2,
        "the write refused while down left nothing behind"
    );
    server
        .anonymous()
        .get("/health/ready")
        .await
        .assert_status(200);
}
