//! SPEC §9 through the real binary, on SQLite and on PostgreSQL: every instant a client sends
//! lies in 1900–9999 and reads back as sent; text is plain (no markup under any number of
//! entity layers; ordinary text as typed); unknown body fields are 422; `platform` and
//! `viewingPlatform` name one field.

use serde_json::{Value, json};
use uuid::Uuid;
use viewing_tests::postgres;
use viewing_tests::{Api, Server, movie, server_bin, show};

/// Markup under four layers of `&amp;`, as the issue sent it.
const HIDDEN: &str =
    "&amp;amp;amp;lt;script&amp;amp;amp;gt;alert(1)&amp;amp;amp;lt;/script&amp;amp;amp;gt;";

/// `<` followed by what opens an element or a comment, after any number of entity decodings.
fn has_markup(text: &str) -> bool {
    let mut t = text.to_owned();
    for _ in 0..12 {
        let b = t.as_bytes();
        if b.windows(2)
            .any(|w| w[0] == b'<' && (w[1].is_ascii_alphabetic() || b"/!?".contains(&w[1])))
        {
            return true;
        }
        let next = t
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&#60;", "<")
            .replace("&amp;", "&");
        if next == t {
            return false;
        }
        t = next;
    }
    true
}

/// Every string anywhere in `v`.
fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(o) => o.values().for_each(|x| strings(x, out)),
        _ => {}
    }
}

fn assert_plain(what: &str, v: &Value) {
    let mut all = Vec::new();
    strings(v, &mut all);
    for s in all {
        assert!(!has_markup(&s), "{what}: markup kept in {s:?}: {v}");
    }
}

async fn reads_all_answer_200(api: &Api, show_id: Uuid, record: Option<&str>) {
    for path in [
        "/api/viewing/history".to_owned(),
        "/api/viewing/progress".to_owned(),
        format!("/api/viewing/progress/{show_id}"),
        "/api/viewing/statistics?period=all".to_owned(),
    ] {
        api.get(&path).await.assert_status(200);
    }
    if let Some(id) = record {
        api.get(&format!("/api/viewing/records/{id}"))
            .await
            .assert_status(200);
    }
}

async fn instants(server: &Server) {
    let m = movie("Heat", 170, &["crime"]);
    let s = show("Dark", "ended", &[3], 50);
    server.admin().put_movie(&m).await.assert_status(200);
    server.admin().put_show(&s).await.assert_status(200);
    let api = server.client(Uuid::new_v4());

    // Out-of-range instants in bodies: 422, and nothing is stored that breaks a read.
    for date in [
        "-0001-01-01T00:00:00Z",
        "0001-01-01T00:00:00Z",
        "1899-12-31T23:59:59Z",
        "-4714-11-24T00:00:00Z",
    ] {
        api.watch_movie(m.id, &json!({ "watchDate": date }))
            .await
            .assert_problem(422, "validation-failed");
        api.watch_episode(s.episode(1, 1), &json!({ "watchDate": date }))
            .await
            .assert_problem(422, "validation-failed");
        api.post(
            &format!("/api/viewing/{}/abandon", m.id),
            &json!({ "abandonDate": date }),
        )
        .await
        .assert_problem(422, "validation-failed");
    }
    api.watch_movie(m.id, &json!({ "watchDate": "9999-12-31T23:59:59Z" }))
        .await
        .assert_problem(422, "validation-failed");
    reads_all_answer_200(&api, s.id, None).await;

    // The earliest instant and one with nanoseconds store and read back identically.
    let earliest = api
        .watch_movie(m.id, &json!({ "watchDate": "1900-01-01T00:00:00Z" }))
        .await;
    earliest.assert_status(201);
    assert_eq!(earliest.body["watchDate"], "1900-01-01T00:00:00Z");
    let precise = api
        .watch_episode(
            s.episode(1, 1),
            &json!({ "watchDate": "2024-03-04T05:06:07.123456789Z" }),
        )
        .await;
    precise.assert_status(201);
    let id = precise.body["id"].as_str().unwrap_or_default().to_owned();
    let read = api.get(&format!("/api/viewing/records/{id}")).await;
    read.assert_status(200);
    assert_eq!(read.body["watchDate"], precise.body["watchDate"]);
    assert_eq!(read.body["watchDate"], "2024-03-04T05:06:07.123456Z");
    reads_all_answer_200(&api, s.id, Some(&id)).await;
    let history = api.get("/api/viewing/history").await;
    let dates: Vec<&str> = history.body["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|i| i["watchDate"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        dates,
        ["2024-03-04T05:06:07.123456Z", "1900-01-01T00:00:00Z"]
    );

    // Query dates and cursors outside the range: 400.
    for query in [
        "startDate=-0001-01-01T00:00:00Z",
        "endDate=-4714-01-01",
        "startDate=0100-01-01",
        "endDate=1899-12-31T23:00:00Z",
        // watchDate 0001-01-01 as a cursor (hex microseconds since 1970, then the id).
        "cursor=-dcbffeff2bc000.00000000000000000000000000000000",
    ] {
        api.get(&format!("/api/viewing/history?{query}"))
            .await
            .assert_problem(400, "malformed-request");
    }
    api.get("/api/viewing/statistics?period=year&date=0001-01-01")
        .await
        .assert_problem(400, "malformed-request");
    api.get("/api/viewing/statistics?period=year&date=1900-01-01")
        .await
        .assert_status(200);
    // Catalog dates and numbers that no store could keep: 422.
    let mut bad = movie("Old", 10, &[]);
    bad.body["releaseDate"] = json!("-0001-01-01");
    server
        .admin()
        .put_movie(&bad)
        .await
        .assert_problem(422, "validation-failed");
    let mut huge = show("Daily", "returning", &[1], 30);
    huge.body["seasons"][0]["seasonNumber"] = json!(4_000_000_000u32);
    server
        .admin()
        .put_show(&huge)
        .await
        .assert_problem(422, "validation-failed");
}

async fn plain_text(server: &Server) {
    let mut m = movie(&format!("Heat{HIDDEN}"), 170, &["crime", HIDDEN]);
    m.body["genres"] = json!(["crime", format!("drama{HIDDEN}")]);
    server.admin().put_movie(&m).await.assert_status(200);
    let mut s = show(&format!("Dark{HIDDEN}"), "ended", &[2], 50);
    s.body["seasons"][0]["episodes"][0]["title"] = json!(format!("Secrets{HIDDEN}"));
    server.admin().put_show(&s).await.assert_status(200);
    let api = server.client(Uuid::new_v4());
    let movie_read = api.get(&format!("/api/catalog/movies/{}", m.id)).await;
    assert_eq!(movie_read.body["title"], "Heat");
    assert_plain("movie", &movie_read.body);
    let show_read = api.get(&format!("/api/catalog/shows/{}", s.id)).await;
    assert_eq!(show_read.body["title"], "Dark");
    assert_plain("show", &show_read.body);

    let watched = api
        .watch_movie(
            m.id,
            &json!({
                "viewingLocation": format!("sofa{HIDDEN}"),
                "viewingPlatform": "&lt;img src=x onerror=alert(1)&gt;Netflix",
                "viewingContext": "&#60;b&#62;date&#60;/b&#62;",
                "watchedWith": [format!("Sam{HIDDEN}"), "Tom & Jerry"],
            }),
        )
        .await;
    watched.assert_status(201);
    assert_plain("movie record", &watched.body);
    assert_eq!(watched.body["viewingLocation"], "sofa");
    assert_eq!(watched.body["platform"], "Netflix");
    assert_eq!(watched.body["viewingContext"], "date");
    assert_eq!(watched.body["watchedWith"], json!(["Sam", "Tom & Jerry"]));
    let episode = api
        .watch_episode(
            s.episode(1, 1),
            &json!({ "platform": "a < b, 5 > 3 & 🎬 שלום Amélie" }),
        )
        .await;
    episode.assert_status(201);
    assert_eq!(episode.body["platform"], "a < b, 5 > 3 & 🎬 שלום Amélie");
    let abandon = api
        .post(
            &format!("/api/viewing/{}/abandon", s.id),
            &json!({ "abandonReason": format!("{HIDDEN}boring\u{7}") }),
        )
        .await;
    abandon.assert_status(201);
    assert_eq!(abandon.body["abandonReason"], "boring");
    // Markup under dozens of layers is refused rather than kept.
    let deep = (0..40).fold("<script>x</script>".to_owned(), |t, _| {
        t.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    });
    api.watch_movie(m.id, &json!({ "viewingLocation": deep }))
        .await
        .assert_problem(422, "validation-failed");
    let history = api.get("/api/viewing/history").await;
    history.assert_status(200);
    assert_plain("history", &history.body);
    let progress = api.get(&format!("/api/viewing/progress/{}", s.id)).await;
    assert_plain("progress", &progress.body);
}

fn fields(r: &viewing_tests::Resp) -> Vec<String> {
    let mut f: Vec<String> = r.body["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e["field"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    f.sort();
    f
}

async fn unknown_fields_and_aliases(server: &Server) {
    let m = movie("Heat", 170, &["crime"]);
    let s = show("Dark", "ended", &[3], 50);
    server.admin().put_movie(&m).await.assert_status(200);
    server.admin().put_show(&s).await.assert_status(200);
    let api = server.client(Uuid::new_v4());

    let r = api
        .watch_episode(
            s.episode(1, 1),
            &json!({ "viewingPlatfrom": "Netflix", "colour": "red" }),
        )
        .await;
    r.assert_problem(422, "validation-failed");
    assert_eq!(fields(&r), ["colour", "viewingPlatfrom"], "{}", r.text);
    assert!(r.text.contains("unknown field"), "{}", r.text);
    let r = api.watch_movie(m.id, &json!({ "rating": 9 })).await;
    r.assert_problem(422, "validation-failed");
    assert_eq!(fields(&r), ["rating"]);
    let r = api
        .post(
            &format!("/api/viewing/{}/abandon", m.id),
            &json!({ "reason": "x" }),
        )
        .await;
    assert_eq!(fields(&r), ["reason"], "{}", r.text);
    // Nested unknown fields in a catalog PUT are named with their path.
    let mut typo = show("Typo", "ended", &[1], 30);
    typo.body["seasons"][0]["episodes"][0]["airdate"] = json!("2020-01-01");
    typo.body["network"] = json!("HBO");
    let r = server.admin().put_show(&typo).await;
    r.assert_problem(422, "validation-failed");
    assert_eq!(
        fields(&r),
        ["network", "seasons[0].episodes[0].airdate"],
        "{}",
        r.text
    );
    // Nothing was recorded by the refused requests.
    let history = api.get("/api/viewing/history").await;
    assert_eq!(history.body["totalItems"], 0, "{}", history.text);

    // `viewingPlatform` on an episode and `platform` on a movie are the same field…
    let e = api
        .watch_episode(s.episode(1, 1), &json!({ "viewingPlatform": "Netflix" }))
        .await;
    e.assert_status(201);
    assert_eq!(e.body["platform"], "Netflix");
    let mv = api
        .watch_movie(m.id, &json!({ "platform": "Cinema" }))
        .await;
    mv.assert_status(201);
    assert_eq!(mv.body["platform"], "Cinema");
    // …and both at once is refused.
    api.watch_episode(
        s.episode(1, 2),
        &json!({ "platform": "a", "viewingPlatform": "b" }),
    )
    .await
    .assert_problem(422, "validation-failed");
    api.watch_movie(m.id, &json!({ "platform": "a", "viewingPlatform": "b" }))
        .await
        .assert_problem(422, "validation-failed");
}

async fn every_case(server: &Server) {
    instants(server).await;
    plain_text(server).await;
    unknown_fields_and_aliases(server).await;
}

#[tokio::test]
async fn input_on_sqlite() {
    let server = Server::start(&server_bin!());
    every_case(&server).await;
}

#[tokio::test]
async fn input_on_postgresql() {
    let Some((server, _db)) = postgres::start_server(&server_bin!()).await else {
        return;
    };
    every_case(&server).await;
}
