//! Media servers' webhooks (SPEC §13) through the binary, on SQLite and on PostgreSQL: Plex's
//! multipart delivery, Jellyfin's and Emby's JSON, a burst of the same scrobble recorded once,
//! another account filtered, an unknown item kept and replayed after the catalog gains it, a
//! malformed delivery (400, kept), a revoked secret and another user's integration (404).

use serde_json::{Value, json};
use uuid::Uuid;
use viewing_tests::postgres::start_server;
use viewing_tests::{Api, Resp, Server, movie, server_bin};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../viewing-app/tests/fixtures/webhooks/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Plex's way: `multipart/form-data` with the JSON in a `payload` part (and a thumbnail).
async fn plex(api: &Api, url: &str, payload: &[u8]) -> Resp {
    let boundary = "----viewing-test-boundary";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"payload\"\r\n\r\n")
            .as_bytes(),
    );
    body.extend_from_slice(payload);
    body.extend_from_slice(
        format!(
            "\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"thumb\"; \
             filename=\"thumb.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(&[0xFF, 0xD8, 0xFF]);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    api.send(
        api.request(reqwest::Method::POST, url)
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body),
    )
    .await
}

async fn json_delivery(api: &Api, url: &str, payload: Vec<u8>) -> Resp {
    api.send(
        api.request(reqwest::Method::POST, url)
            .header("content-type", "application/json")
            .body(payload),
    )
    .await
}

async fn integration(api: &Api, kind: &str, accounts: Value) -> (String, String) {
    let made = api
        .post(
            "/api/integrations",
            &json!({"kind": kind, "accounts": accounts}),
        )
        .await;
    made.assert_status(201);
    let url = made.body["url"].as_str().unwrap_or_default().to_owned();
    assert!(
        url.starts_with("/webhooks/") && url.len() > 60,
        "{}",
        made.text
    );
    (made.body["id"].as_str().unwrap_or_default().to_owned(), url)
}

async fn webhooks(server: &Server) {
    let admin = server.admin();
    let show = Uuid::new_v4();
    let episodes: Vec<Value> = (1..=4)
        .map(|n| {
            let mut e = json!({"episodeId": Uuid::new_v4(), "episodeNumber": n,
                "title": format!("E{n}"), "runtimeMinutes": 51, "airDate": "2017-12-01"});
            if n == 1 {
                e["externalIds"] = json!({"imdb": "tt5753858"});
            }
            e
        })
        .collect();
    admin
        .put(
            &format!("/api/catalog/shows/{show}"),
            &json!({"title": "Dark", "status": "ended",
                    "seasons": [{"seasonId": Uuid::new_v4(), "seasonNumber": 1, "episodes": episodes}]}),
        )
        .await
        .assert_status(200);
    let user = server.client(Uuid::new_v4());
    let anon = server.anonymous();
    // A control character in a name is dropped (the name is kept as plain text).
    let (plex_id, plex_url) = integration(&user, "plex", json!(["an\u{0}na"])).await;

    // A burst of the same scrobble: one play, then duplicates.
    let mut outcomes = Vec::new();
    for _ in 0..3 {
        let r = plex(&anon, &plex_url, &fixture("plex_scrobble_episode.json")).await;
        r.assert_status(200);
        outcomes.push(r.body["outcome"].as_str().unwrap_or_default().to_owned());
    }
    assert_eq!(outcomes, ["recorded", "duplicate", "duplicate"]);
    let history = user.get("/api/viewing/history").await;
    assert_eq!(history.body["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(history.body["items"][0]["origin"], "webhook");
    // Another account of the shared server: filtered.
    let ben = plex(&anon, &plex_url, &fixture("plex_pause_movie.json")).await;
    assert_eq!(ben.body["outcome"], "filtered", "{}", ben.text);
    // Not playback: ignored.
    let new = plex(&anon, &plex_url, &fixture("plex_library_new.json")).await;
    assert_eq!(new.body["outcome"], "ignored", "{}", new.text);
    // Not a payload: 400, and kept.
    plex(&anon, &plex_url, b"not json")
        .await
        .assert_problem(400, "malformed-request");
    // A NUL byte (PostgreSQL's text refuses it) is a malformed delivery too, and kept.
    plex(&anon, &plex_url, b"{\"event\": \"media.play\"}\0")
        .await
        .assert_problem(400, "malformed-request");
    let inbox = user
        .get(&format!("/api/integrations/{plex_id}/deliveries"))
        .await;
    inbox.assert_status(200);
    let kept: Vec<&str> = inbox.body["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|d| d["outcome"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        kept,
        [
            "invalid",
            "invalid",
            "ignored",
            "filtered",
            "duplicate",
            "duplicate",
            "recorded"
        ]
    );
    // By page, newest first; a limit out of range is 400.
    let second = user
        .get(&format!(
            "/api/integrations/{plex_id}/deliveries?page=2&limit=4"
        ))
        .await;
    second.assert_status(200);
    let outcomes: Vec<&str> = second.body["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|d| d["outcome"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        outcomes,
        ["duplicate", "duplicate", "recorded"],
        "{}",
        second.text
    );
    user.get(&format!("/api/integrations/{plex_id}/deliveries?limit=0"))
        .await
        .assert_problem(400, "malformed-request");

    // Jellyfin (no account filter): Heat is not in the catalog yet; replayed once it is.
    let (jelly_id, jelly_url) = integration(&user, "jellyfin", json!([])).await;
    let heat = json_delivery(&anon, &jelly_url, fixture("jellyfin_nested_progress.json")).await;
    assert_eq!(
        (&heat.body["outcome"], &heat.body["reason"]),
        (&json!("unmatched"), &json!("not in the catalog")),
        "{}",
        heat.text
    );
    let mut m = movie("Heat", 170, &["crime"]);
    m.body["externalIds"] = json!({"imdb": "tt0113277"});
    admin.put_movie(&m).await.assert_status(200);
    let delivery = heat.body["id"].as_str().unwrap_or_default();
    let replayed = user
        .send(user.request(
            reqwest::Method::POST,
            &format!("/api/integrations/{jelly_id}/deliveries/{delivery}/replay"),
        ))
        .await;
    replayed.assert_status(200);
    assert_eq!(replayed.body["outcome"], "paused");
    let paused = user.get("/api/playback").await;
    assert_eq!(paused.body["items"][0]["contentId"], m.id.to_string());
    // Jellyfin's flat start of episode 1: now watching.
    let start = String::from_utf8(fixture("jellyfin_flat_stop.json"))
        .unwrap_or_default()
        .replace("\"PlaybackStop\"", "\"PlaybackStart\"");
    let started = json_delivery(&anon, &jelly_url, start.into_bytes()).await;
    assert_eq!(started.body["outcome"], "started", "{}", started.text);
    assert!(user.get("/api/playback/now").await.body["item"].is_object());
    // Jellyfin's flat stop and Emby's of the episode already recorded: duplicates.
    let flat = json_delivery(&anon, &jelly_url, fixture("jellyfin_flat_stop.json")).await;
    assert_eq!(flat.body["outcome"], "duplicate", "{}", flat.text);
    let (_, emby_url) = integration(&user, "emby", json!([])).await;
    let emby = json_delivery(&anon, &emby_url, fixture("emby_stop_episode.json")).await;
    assert_eq!(emby.body["outcome"], "duplicate", "{}", emby.text);

    // Another user sees nothing; a revoked or unknown secret is 404.
    let bob = server.client(Uuid::new_v4());
    bob.get(&format!("/api/integrations/{plex_id}/deliveries"))
        .await
        .assert_problem(404, "not-found");
    bob.delete(&format!("/api/integrations/{plex_id}"))
        .await
        .assert_problem(404, "not-found");
    assert_eq!(bob.get("/api/integrations").await.body["items"], json!([]));
    let mine = user.get("/api/integrations").await;
    assert_eq!(mine.body["items"].as_array().map(Vec::len), Some(3));
    assert!(
        mine.body["items"][0].get("url").is_none(),
        "the secret is shown once"
    );
    user.delete(&format!("/api/integrations/{plex_id}"))
        .await
        .assert_status(204);
    plex(&anon, &plex_url, &fixture("plex_scrobble_episode.json"))
        .await
        .assert_problem(404, "not-found");
    json_delivery(&anon, "/webhooks/0123456789abcdef", b"{}".to_vec())
        .await
        .assert_problem(404, "not-found");
    user.post("/api/integrations", &json!({"kind": "kodi"}))
        .await
        .assert_problem(422, "validation-failed");
}

#[tokio::test]
async fn webhooks_on_sqlite() {
    let server = Server::start(&server_bin!());
    webhooks(&server).await;
}

#[tokio::test]
async fn webhooks_on_postgresql() {
    let Some((server, _db)) = start_server(&server_bin!()).await else {
        return;
    };
    webhooks(&server).await;
}
