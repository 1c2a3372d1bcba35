//! A whole real-shaped show through the API: an ended show of 5 seasons with 7/13/13/13/16
//! episodes. Season 1 is binged, season 2 starts slowly, a jump to the finale is refused, then
//! made with markPreviousWatched, which completes every season and the show. Progress and
//! statistics are checked at each step (statistics by polling: they may lag writes).

use serde_json::{Value, json};
use uuid::Uuid;
use viewing_tests::{Api, Server, ShowFixture, at, server_bin, show};

/// 25 days ago, on a whole minute: recent enough that the show never reads as stalled, old
/// enough that every watch date below is in the past.
fn start() -> String {
    let now = chrono::Utc::now().timestamp();
    let t = now - now % 60 - 25 * 86_400;
    chrono::DateTime::from_timestamp(t, 0)
        .unwrap_or_default()
        .to_rfc3339()
}

fn date_of(instant: &str) -> String {
    instant.get(..10).unwrap_or_default().to_owned()
}
const RUNTIME: u64 = 45;
const TOTAL: u64 = 7 + 13 + 13 + 13 + 16;

#[track_caller]
fn percent(watched: u64) -> f64 {
    (watched as f64 * 10_000.0 / TOTAL as f64).round() / 100.0
}

async fn check_progress(
    user: &Api,
    s: &ShowFixture,
    watched: u64,
    status: &str,
    next: Option<(usize, usize)>,
) -> Value {
    let p = user.progress(s.id).await;
    p.assert_status(200);
    let b = &p.body;
    assert_eq!(b["showId"], json!(s.id));
    assert_eq!(b["title"], "Breaking Point");
    assert_eq!(b["status"], status, "{}", p.text);
    assert_eq!(b["episodesWatched"], watched, "{}", p.text);
    assert_eq!(b["totalEpisodes"], TOTAL);
    assert_eq!(b["completionPercent"], percent(watched), "{}", p.text);
    match next {
        Some((season, episode)) => {
            assert_eq!(
                b["nextEpisode"]["episodeId"],
                json!(s.episode(season, episode))
            );
            assert_eq!(b["nextEpisode"]["seasonNumber"], season);
            assert_eq!(b["nextEpisode"]["episodeNumber"], episode);
            assert_eq!(
                b["nextEpisode"]["title"],
                format!("Breaking Point S{season}E{episode}")
            );
        }
        None => assert_eq!(b["nextEpisode"], Value::Null, "{}", p.text),
    }
    assert_eq!(b["seasons"].as_array().map(Vec::len), Some(5));
    p.body
}

#[tokio::test]
async fn an_ended_show_from_first_binge_to_completion() {
    let server = Server::start(&server_bin!());
    let s = show(
        "Breaking Point",
        "ended",
        &[7, 13, 13, 13, 16],
        RUNTIME as u32,
    );
    server.admin().put_show(&s).await.assert_status(200);
    let user = server.client(Uuid::new_v4());
    let t0 = start();
    let t0 = t0.as_str();

    let p = check_progress(&user, &s, 0, "not_started", Some((1, 1))).await;
    assert_eq!(p["lastWatched"], Value::Null);
    assert_eq!(p["totalViewingMinutes"], 0);

    // Season 1 in one evening: each episode starts as the previous one ends.
    let mut session = Value::Null;
    let mut first_location = String::new();
    for e in 1..=7usize {
        let when = at(t0, (e as i64 - 1) * RUNTIME as i64);
        let r = user
            .watch_episode(
                s.episode(1, e),
                &json!({ "watchDate": when, "platform": "Netflix", "seasonRating": 9.0 }),
            )
            .await;
        r.assert_status(201);
        assert_eq!(r.body["isRewatch"], false);
        assert_eq!(r.body["seasonCompleted"], e == 7, "S1E{e}: {}", r.text);
        assert_eq!(r.body["showCompleted"], false);
        match e {
            1 => {
                assert_eq!(r.body["bingeSessionId"], Value::Null);
                first_location = r.header("location").unwrap_or_default().to_owned();
            }
            2 => session = r.body["bingeSessionId"].clone(),
            _ => assert_eq!(r.body["bingeSessionId"], session, "S1E{e} joins the binge"),
        }
        let next = if e < 7 { (1, e + 1) } else { (2, 1) };
        let p = check_progress(&user, &s, e as u64, "watching", Some(next)).await;
        assert_eq!(p["lastWatched"]["episodeId"], json!(s.episode(1, e)));
        assert_eq!(p["lastWatched"]["watchDate"], json!(when));
        assert_eq!(p["totalViewingMinutes"], e as u64 * RUNTIME);
        let stats = user
            .wait_statistics("?period=all", |st| {
                st["episodes"] == e as u64 && st["seasonsCompleted"] == u64::from(e == 7)
            })
            .await;
        assert_eq!(stats["totalMinutes"], e as u64 * RUNTIME);
        assert_eq!(stats["bingeSessions"], u64::from(e >= 2));
        assert_eq!(
            stats["longestBingeEpisodes"],
            if e >= 2 { e as u64 } else { 0 }
        );
        assert_eq!(stats["seasonsCompleted"], u64::from(e == 7));
    }
    assert!(session.is_string());
    let e1 = user.get(&first_location).await;
    assert_eq!(
        e1.body["bingeSessionId"], session,
        "the first episode joined the session"
    );

    let p = check_progress(&user, &s, 7, "watching", Some((2, 1))).await;
    assert_eq!(p["completedSeasons"], 1);
    assert_eq!(p["seasons"][0]["completed"], true);
    assert_eq!(p["seasons"][0]["episodesWatched"], 7);
    assert_eq!(p["seasons"][0]["totalEpisodes"], 7);
    assert_eq!(p["seasons"][0]["completionDate"], json!(at(t0, 6 * 45)));
    assert_eq!(p["seasons"][1]["completed"], false);
    assert_eq!(p["seasons"][1]["completionDate"], Value::Null);
    let up = user.get("/api/viewing/progress").await;
    assert_eq!(up.body["items"][0]["showId"], json!(s.id));
    assert_eq!(
        up.body["items"][0]["nextEpisode"]["episodeId"],
        json!(s.episode(2, 1))
    );

    // Season 2, one episode every other day: no binge.
    for e in 1..=3usize {
        let r = user
            .watch_episode(
                s.episode(2, e),
                &json!({ "watchDate": at(t0, 2880 * e as i64), "platform": "Hulu" }),
            )
            .await;
        r.assert_status(201);
        assert_eq!(r.body["bingeSessionId"], Value::Null);
    }
    check_progress(&user, &s, 10, "watching", Some((2, 4))).await;
    let stats = user
        .wait_statistics("?period=all", |st| st["episodes"] == 10)
        .await;
    assert_eq!(stats["bingeSessions"], 1);
    let platforms = stats["byPlatform"].as_array().cloned().unwrap_or_default();
    assert!(platforms.contains(&json!({ "platform": "Netflix", "count": 7, "minutes": 315 })));
    assert!(platforms.contains(&json!({ "platform": "Hulu", "count": 3, "minutes": 135 })));

    // Jumping to the finale is refused, naming the first missing episode.
    let finale = s.episode(5, 16);
    let r = user
        .watch_episode(finale, &json!({ "watchDate": at(t0, 20_000) }))
        .await;
    r.assert_problem(409, "episode-out-of-order");
    assert_eq!(
        r.body["missingEpisode"],
        json!({ "episodeId": s.episode(2, 4), "seasonNumber": 2, "episodeNumber": 4 })
    );
    check_progress(&user, &s, 10, "watching", Some((2, 4))).await;

    // …and made with markPreviousWatched: everything in between is backfilled.
    let r = user
        .watch_episode(
            finale,
            &json!({ "watchDate": at(t0, 20_000), "markPreviousWatched": true,
                     "overallRating": 9.5, "rewatchInterest": true,
                     "seriesFinaleReaction": "Perfect ending" }),
        )
        .await;
    r.assert_status(201);
    assert_eq!(r.body["seasonCompleted"], true);
    assert_eq!(r.body["showCompleted"], true);
    assert_eq!(r.body["bingeSessionId"], Value::Null);
    assert_eq!(r.body["seasonNumber"], 5);
    assert_eq!(r.body["episodeNumber"], 16);

    let p = check_progress(&user, &s, TOTAL, "completed", None).await;
    assert_eq!(p["completionPercent"], 100.0);
    assert_eq!(p["completedSeasons"], 5);
    assert_eq!(p["lastWatched"]["episodeId"], json!(finale));
    assert_eq!(p["totalViewingMinutes"], TOTAL * RUNTIME);
    for season in p["seasons"].as_array().cloned().unwrap_or_default() {
        assert_eq!(season["completed"], true, "{season}");
        assert_eq!(season["episodesWatched"], season["totalEpisodes"]);
    }
    assert_eq!(p["seasons"][4]["completionDate"], json!(at(t0, 20_000)));
    assert_eq!(
        user.get("/api/viewing/progress").await.body["items"],
        json!([]),
        "a completed show is not up next"
    );
    let stats = user
        .wait_statistics("?period=all", |st| st["showsCompleted"] == 1)
        .await;
    assert_eq!(stats["episodes"], TOTAL);
    assert_eq!(stats["totalWatched"], TOTAL);
    assert_eq!(stats["seasonsCompleted"], 5);
    assert_eq!(stats["bingeSessions"], 1, "backfilled records never binge");
    assert_eq!(stats["longestBingeEpisodes"], 7);
    assert_eq!(stats["totalMinutes"], TOTAL * RUNTIME);
    assert_eq!(stats["rewatches"], 0);
    let genres = stats["byGenre"].as_array().cloned().unwrap_or_default();
    assert!(
        genres.contains(&json!({ "genre": "drama", "count": TOTAL, "minutes": TOTAL * RUNTIME }))
    );

    // A rewatch is recorded but leaves progress as it was.
    let r = user
        .watch_episode(s.episode(1, 1), &json!({ "watchDate": at(t0, 30_000) }))
        .await;
    r.assert_status(201);
    assert_eq!(r.body["isRewatch"], true);
    assert_eq!(r.body["seasonCompleted"], false);
    assert_eq!(r.body["showCompleted"], false);
    check_progress(&user, &s, TOTAL, "completed", None).await;
    let stats = user
        .wait_statistics("?period=all", |st| st["rewatches"] == 1)
        .await;
    assert_eq!(stats["totalWatched"], TOTAL + 1);
    assert_eq!(stats["showsCompleted"], 1);

    // The history holds every record, newest first.
    let h = user.get("/api/viewing/history?limit=5").await;
    assert_eq!(h.body["totalItems"], TOTAL + 1);
    assert_eq!(h.body["items"][0]["contentId"], json!(s.episode(1, 1)));
    assert_eq!(h.body["items"][0]["isRewatch"], true);
    assert_eq!(h.body["items"][1]["contentId"], json!(finale));
    assert_eq!(h.body["items"][1]["showTitle"], "Breaking Point");

    // The completions fall in the right calendar periods (UTC).
    let finale_day = date_of(&at(t0, 20_000));
    let season1_day = date_of(&at(t0, 6 * 45));
    let month = user
        .wait_statistics(&format!("?period=month&date={finale_day}"), |st| {
            st["period"] == "month"
        })
        .await;
    assert_eq!(month["from"], format!("{}-01", &finale_day[..7]));
    assert_eq!(month["showsCompleted"], 1);
    let same_month = finale_day[..7] == season1_day[..7];
    assert_eq!(month["seasonsCompleted"], if same_month { 5 } else { 4 });
    let all_time = user.statistics("?period=all").await;
    assert_eq!(all_time.body["seasonsCompleted"], 5);
    let before = user
        .wait_statistics("?period=month&date=2000-01-01", |st| {
            st["period"] == "month"
        })
        .await;
    assert_eq!(before["totalWatched"], 0);
    assert_eq!(before["showsCompleted"], 0);
}
