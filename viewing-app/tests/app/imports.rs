//! Imports (SPEC §12) through the use cases on the memory store, with Trakt's export
//! (fixtures written for this project in Trakt's shapes, `tests/fixtures/imports/trakt`):
//! every outcome and its reason, a dry run that records nothing, an applied import that records
//! the plays with their own dates and `origin: import` (order check skipped, binge sessions and
//! progress from the historical dates, events marked `imported`, no reminder for old plays), a
//! re-import that is all duplicates, an undo that restores everything, and bad files.

use std::io::Write;

use crate::support::*;
use viewing_app::AppError;
use viewing_app::imports::ImportRequest;
use viewing_domain::imports::{ImportSource, ImportStatus, ImportSummary, MatchedBy, RowOutcome};
use viewing_domain::ports::{Begin, Clock, ViewingRecordRepository};
use viewing_domain::values::Minutes;
use viewing_domain::{
    DomainEvent, ExternalIds, ImportId, Movie, MovieId, Origin, Provider, ShowId, ShowStatus,
    UserId,
};

/// A fixture of `source`'s export (`tests/fixtures/imports/SOURCE/NAME`).
fn fixture_of(source: &str, name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/imports/{source}/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn fixture(name: &str) -> Vec<u8> {
    fixture_of("trakt", name)
}

/// A zip of `files` (path in the zip, content).
fn zip_of(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (path, bytes) in files {
        zip.start_file(path.as_str(), zip::write::SimpleFileOptions::default())
            .expect("entry");
        zip.write_all(bytes).expect("write");
    }
    zip.finish().expect("zip").into_inner()
}

/// `source`'s fixtures `names` zipped under `folder`.
fn export_of(source: &str, folder: &str, names: &[&str]) -> Vec<u8> {
    let files: Vec<(String, Vec<u8>)> = names
        .iter()
        .map(|n| (format!("{folder}/{n}"), fixture_of(source, n)))
        .collect();
    zip_of(&files)
}

/// Trakt's export as its zip, its files two folders deep, with a file that is not Trakt's.
fn export_zip() -> Vec<u8> {
    let mut files: Vec<(String, Vec<u8>)> = [
        "watched-history.json",
        "lists-watchlist.json",
        "ratings-movies.json",
    ]
    .iter()
    .map(|n| (format!("trakt-export/2026-07-15/{n}"), fixture(n)))
    .collect();
    files.push((
        "trakt-export/README.txt".to_owned(),
        b"not a Trakt file".to_vec(),
    ));
    zip_of(&files)
}

fn ids(pairs: &[(Provider, &str)]) -> ExternalIds {
    let mut out = ExternalIds::new();
    for (p, v) in pairs {
        out.insert(*p, v).expect("an id of its shape");
    }
    out
}

fn movie(n: u64, name: &str, year: i32, ext: &[(Provider, &str)]) -> Movie {
    Movie {
        id: MovieId::from(uuid(n, 0xA)),
        title: title(name),
        runtime: Minutes::from_u32_saturating(120),
        genres: vec![genre("Drama")],
        release_date: chrono::NaiveDate::from_ymd_opt(year, 6, 1),
        external_ids: ids(ext),
    }
}

/// The Matrix (by IMDb id), Heat (no ids: by title and year), two movies called Twin, and Dark
/// (TheTVDB and IMDb ids, season 1 of four episodes, the first with its IMDb id).
async fn catalog(w: &World) -> viewing_domain::Show {
    for m in [
        movie(1, "The Matrix", 1999, &[(Provider::Imdb, "tt0133093")]),
        movie(2, "Heat", 1995, &[]),
        movie(3, "Twin", 2010, &[]),
        movie(4, "Twin", 2010, &[]),
        movie(5, "Amelie", 2001, &[]),
    ] {
        w.svc.upsert_movie(m).await.expect("movie");
    }
    let mut s1 = season(7, 1, 4, None);
    s1.episodes[0].external_ids = ids(&[(Provider::Imdb, "tt5753858")]);
    for (e, name) in
        s1.episodes
            .iter_mut()
            .zip(["Secrets", "Lies", "Past and Present", "Double Lives"])
    {
        e.title = title(name);
    }
    let mut dark = viewing_domain::Show::new(
        ShowId::from(uuid(7, 0x5)),
        title("Dark"),
        ShowStatus::Ended,
        vec![genre("Drama")],
        vec![s1],
    )
    .expect("show");
    dark.external_ids = ids(&[(Provider::Tvdb, "334824"), (Provider::Imdb, "tt5753856")]);
    w.given_show(dark).await
}

fn request(upload: Vec<u8>, dry_run: bool) -> ImportRequest {
    ImportRequest {
        source: ImportSource::Trakt,
        dry_run,
        upload,
        progress: None,
        profile: None,
    }
}

/// Each row's number, outcome, way of matching and reason.
async fn outcomes(
    w: &World,
    id: ImportId,
) -> Vec<(u32, RowOutcome, Option<MatchedBy>, Option<String>)> {
    items(w, id)
        .await
        .into_iter()
        .map(|i| (i.row, i.outcome, i.matched_by, i.reason))
        .collect()
}

async fn items(w: &World, id: ImportId) -> Vec<viewing_domain::imports::ImportItem> {
    w.svc
        .import_items(w.user, id, None, 0, 100)
        .await
        .expect("items")
}

#[tokio::test]
async fn every_row_gets_its_outcome_and_a_dry_run_records_nothing() {
    let w = World::new();
    catalog(&w).await;
    let import = w
        .svc
        .import_history(w.user, request(export_zip(), true))
        .await
        .expect("dry run");
    assert_eq!(import.status, ImportStatus::DryRun);
    assert_eq!(
        import.summary,
        ImportSummary {
            rows: 13,
            imported: 6,
            duplicates: 1,
            unmatched: 3,
            skipped: 1,
            invalid: 2
        }
    );
    let got = outcomes(&w, import.id).await;
    let r = |s: &str| Some(s.to_owned());
    use MatchedBy::*;
    use RowOutcome::*;
    assert_eq!(
        got,
        vec![
            (1, Imported, Some(Title), None),
            (2, Skipped, None, r("ratings are not imported yet")),
            (3, Imported, Some(ExternalId), None),
            (4, Imported, Some(Title), None),
            (5, Imported, Some(ExternalId), None),
            (6, Imported, Some(Coordinates), None),
            (7, Imported, Some(Coordinates), None),
            (8, Unmatched, None, r("not in the catalog")),
            (9, Unmatched, None, r("ambiguous: 2 candidates")),
            (
                10,
                Invalid,
                None,
                r("watched_at: not a date: \"last tuesday\"")
            ),
            (11, Duplicate, None, r("repeated in the file")),
            (12, Invalid, None, r("a history entry without its id")),
            (
                13,
                Unmatched,
                None,
                r("Dark has no season 4 episode 1 in the catalog")
            ),
        ]
    );
    // Nothing recorded, nothing announced.
    assert!(w.records(7).await.is_empty());
    assert!(w.events().await.is_empty());
    let only: Vec<u32> = w
        .svc
        .import_items(w.user, import.id, Some(Unmatched), 0, 100)
        .await
        .expect("items")
        .iter()
        .map(|i| i.row)
        .collect();
    assert_eq!(only, vec![8, 9, 13]);
}

#[tokio::test]
async fn an_applied_import_records_history_that_a_reimport_duplicates_and_an_undo_removes() {
    let w = World::new();
    let dark = catalog(&w).await;
    let import = w
        .svc
        .import_history(w.user, request(export_zip(), false))
        .await
        .expect("applied");
    assert_eq!(import.status, ImportStatus::Applied);
    assert_eq!(import.summary.imported, 6);
    // Heat went on the watchlist as listed in 2020 (the handlers take it off once they see
    // it was watched).
    assert_eq!(w.svc.watchlist(w.user).await.expect("watchlist").len(), 1);

    // Episodes 1-3 of Dark with their 2019 dates, recorded out of order-check, as imports.
    let records = w.records(7).await;
    let dates: Vec<String> = records.iter().map(|r| r.watch_date.to_rfc3339()).collect();
    assert_eq!(
        dates,
        [
            "2019-04-01T19:00:00+00:00",
            "2019-04-01T20:00:00+00:00",
            "2019-04-02T20:00:00+00:00"
        ]
    );
    assert!(records.iter().all(|r| r.origin == Origin::Import));
    let progress = w.progress(7).await;
    assert_eq!(progress.episodes_watched, 3);
    assert_eq!(
        progress.next_episode.map(|n| n.episode_number),
        Some(4),
        "episode 4 is next"
    );
    // The first two within 3 hours: one binge session, from the historical dates.
    let sessions = w.sessions(7).await;
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0].episodes_watched, 2);
    // Events say `imported`; the handlers count them, nobody is reminded of 2019.
    let events = w.events().await;
    let imported = events
        .iter()
        .filter(|e| match &e.event {
            DomainEvent::MovieWatched(m) => m.imported,
            DomainEvent::TvEpisodeWatched(t) => t.imported,
            _ => false,
        })
        .count();
    assert_eq!(imported, 5);
    w.drain().await;
    let stats = w
        .svc
        .statistics(w.user, &Default::default())
        .await
        .expect("statistics");
    assert_eq!((stats.movies, stats.episodes), (2, 3), "{stats:?}");
    assert!(
        w.svc.reminders(w.user).await.expect("reminders").is_empty(),
        "no reminder for a 2019 play, though episode 4 is next"
    );

    // Again: every play is a duplicate now.
    let again = w
        .svc
        .import_history(w.user, request(export_zip(), false))
        .await
        .expect("re-import");
    assert_eq!((again.summary.imported, again.summary.duplicates), (0, 7));
    assert_eq!(w.records(7).await.len(), 3);

    // Another user sees none of it and cannot undo it.
    let bob = UserId::from(uuid(2, 0x1));
    assert!(matches!(
        w.svc.undo_import(bob, import.id).await,
        Err(AppError::NotFound)
    ));
    assert!(w.svc.imports(bob).await.expect("list").is_empty());

    // Undo: exactly the import's plays go, and the state is as before it.
    let undone = w.svc.undo_import(w.user, import.id).await.expect("undone");
    assert_eq!(undone.status, ImportStatus::Undone);
    assert!(w.records(7).await.is_empty());
    assert!(w.sessions(7).await.is_empty());
    assert_eq!(w.progress(7).await.episodes_watched, 0);
    assert!(
        w.svc.watchlist(w.user).await.expect("watchlist").is_empty(),
        "the watchlist entry it made is gone too"
    );
    w.drain().await;
    let stats = w
        .svc
        .statistics(w.user, &Default::default())
        .await
        .expect("statistics");
    assert_eq!((stats.movies, stats.episodes), (0, 0), "{stats:?}");
    // Repeating the undo changes nothing; the plays may be imported again.
    let twice = w.svc.undo_import(w.user, import.id).await.expect("again");
    assert_eq!(twice.status, ImportStatus::Undone);
    let listed: Vec<ImportStatus> = w
        .svc
        .imports(w.user)
        .await
        .expect("list")
        .iter()
        .map(|i| i.status)
        .collect();
    assert_eq!(listed.len(), 2);
    assert!(listed.contains(&ImportStatus::Undone));
    let third = w
        .svc
        .import_history(w.user, request(fixture("watched-history.json"), false))
        .await
        .expect("a single file");
    assert_eq!(third.summary.imported, 5, "{:?}", third.summary);
    assert_eq!(w.records(7).await.len(), dark.episodes().count() - 1);
    assert!(w.clock.now() > chrono::DateTime::UNIX_EPOCH);
}

#[tokio::test]
async fn a_file_that_is_not_the_export_is_refused_whole() {
    let w = World::new();
    catalog(&w).await;
    for (upload, says) in [
        (b"not json at all".to_vec(), "not a JSON array"),
        (b"{\"a\": 1}".to_vec(), "not a JSON array"),
        (b"PK\x03\x04 broken zip".to_vec(), "not a readable zip"),
    ] {
        match w.svc.import_history(w.user, request(upload, false)).await {
            Err(AppError::Invalid(e)) => {
                assert_eq!(e.field, "file");
                assert!(e.message.contains(says), "{}", e.message);
            }
            other => panic!("{other:?}"),
        }
    }
    // A zip without a Trakt file in it.
    let upload = zip_of(&[("diary.csv".to_owned(), b"Date,Name\n".to_vec())]);
    match w.svc.import_history(w.user, request(upload, false)).await {
        Err(AppError::Invalid(e)) => {
            assert!(e.message.contains("no Trakt file found"), "{}", e.message)
        }
        other => panic!("{other:?}"),
    }
    assert!(w.svc.imports(w.user).await.expect("list").is_empty());
}

#[tokio::test]
async fn an_imported_play_skips_the_order_check() {
    let w = World::new();
    catalog(&w).await;
    // Only episode 3: a manual watch is refused (SPEC §5), an imported one happened.
    let manual = w.watch_at(7, 1, 3, t0()).await;
    assert!(is_out_of_order(&manual), "{manual:?}");
    let file = br#"[{"id": 1, "watched_at": "2020-01-01T20:00:00Z", "type": "episode",
        "episode": {"season": 1, "number": 3, "ids": {}},
        "show": {"title": "Dark", "ids": {"tvdb": 334824}}}]"#;
    let import = w
        .svc
        .import_history(w.user, request(file.to_vec(), false))
        .await
        .expect("imported");
    assert_eq!(import.summary.imported, 1, "{:?}", import.summary);
    let progress = w.progress(7).await;
    assert_eq!(progress.episodes_watched, 1);
    assert_eq!(progress.gaps, vec![(1, 1), (1, 2)], "the gaps it leaves");
}

fn letterboxd_zip() -> Vec<u8> {
    export_of(
        "letterboxd",
        "letterboxd-someone-2026-07-15-10-00-utc",
        &["diary.csv", "watched.csv", "watchlist.csv"],
    )
}

#[tokio::test]
async fn letterboxd_diary_and_watched_films_become_movie_plays() {
    let w = World::new();
    catalog(&w).await;
    let request = ImportRequest {
        source: ImportSource::Letterboxd,
        dry_run: false,
        upload: letterboxd_zip(),
        progress: None,
        profile: None,
    };
    let import = w
        .svc
        .import_history(w.user, request.clone())
        .await
        .expect("imported");
    let got: Vec<(u32, RowOutcome, Option<String>)> = items(&w, import.id)
        .await
        .into_iter()
        .map(|i| (i.row, i.outcome, i.reason))
        .collect();
    let r = |s: &str| Some(s.to_owned());
    use RowOutcome::*;
    assert_eq!(
        got,
        vec![
            (1, Imported, None),
            (2, Imported, None),
            (3, Imported, None),
            (4, Unmatched, r("ambiguous: 2 candidates")),
            (5, Invalid, r("Watched Date: not a date: \"03/03/2022\"")),
            (6, Skipped, r("logged in the diary")),
            (7, Imported, None),
            (8, Unmatched, r("not in the catalog")),
            (9, Unmatched, r("not in the catalog")),
        ]
    );
    // The Matrix twice: the second, a year later, is a rewatch; plays sit at noon UTC.
    let mut uow = w.store.begin().await.expect("begin");
    let plays = uow
        .records_of_content(w.user, uuid(1, 0xA))
        .await
        .expect("records");
    drop(uow);
    let mut plays: Vec<(String, bool)> = plays
        .iter()
        .map(|r| (r.watch_date.to_rfc3339(), r.is_rewatch))
        .collect();
    plays.sort();
    assert_eq!(
        plays,
        [
            ("2021-03-05T12:00:00+00:00".to_owned(), false),
            ("2022-01-01T12:00:00+00:00".to_owned(), true)
        ]
    );
    // Amélie matched the catalog's "Amelie" (accents ignored), dated watched.csv's Date.
    let again = w.svc.import_history(w.user, request).await.expect("again");
    assert_eq!((again.summary.imported, again.summary.duplicates), (0, 4));
}

fn netflix_file(name: &str) -> Vec<u8> {
    fixture_of("netflix", name)
}

fn netflix(upload: Vec<u8>, profile: Option<&str>) -> ImportRequest {
    ImportRequest {
        source: ImportSource::Netflix,
        dry_run: false,
        upload,
        progress: None,
        profile: profile.map(str::to_owned),
    }
}

#[tokio::test]
async fn netflix_history_matches_episodes_by_their_titles() {
    let w = World::new();
    catalog(&w).await;
    let import = w
        .svc
        .import_history(
            w.user,
            netflix(netflix_file("NetflixViewingHistory.csv"), None),
        )
        .await
        .expect("imported");
    let got = outcomes(&w, import.id).await;
    let r = |s: &str| Some(s.to_owned());
    use MatchedBy::Title;
    use RowOutcome::*;
    assert_eq!(
        got,
        vec![
            (1, Imported, Some(Title), None),
            (2, Imported, Some(Title), None),
            (3, Imported, Some(Title), None),
            (
                4,
                Unmatched,
                None,
                r("Dark has no episode titled \"No Such Episode\" in season 1")
            ),
            (5, Unmatched, None, r("not in the catalog")),
            (
                6,
                Invalid,
                None,
                r("Date: not a date (MM/DD/YY, YYYY-MM-DD or DD.MM.YY): \"13/45/19\"")
            ),
            (7, Duplicate, None, r("repeated in the file")),
        ]
    );
    let records = w.records(7).await;
    assert_eq!(records.len(), 2);
    assert!(
        records
            .iter()
            .all(|r| r.platform.as_ref().map(|p| p.as_str()) == Some("Netflix"))
    );
}

#[tokio::test]
async fn netflix_activity_takes_one_profile_and_skips_previews_and_trailers() {
    let w = World::new();
    catalog(&w).await;
    let activity = netflix_file("ViewingActivity.csv");
    match w
        .svc
        .import_history(w.user, netflix(activity.clone(), None))
        .await
    {
        Err(AppError::Invalid(e)) => {
            assert!(
                e.message.contains("several profiles (Ana, Ben)"),
                "{}",
                e.message
            )
        }
        other => panic!("{other:?}"),
    }
    match w
        .svc
        .import_history(w.user, netflix(activity.clone(), Some("Cleo")))
        .await
    {
        Err(AppError::Invalid(e)) => assert!(e.message.contains("no profile"), "{}", e.message),
        other => panic!("{other:?}"),
    }
    let import = w
        .svc
        .import_history(w.user, netflix(activity, Some("Ana")))
        .await
        .expect("imported");
    let got: Vec<(u32, RowOutcome, Option<String>)> = items(&w, import.id)
        .await
        .into_iter()
        .map(|i| (i.row, i.outcome, i.reason))
        .collect();
    let r = |s: &str| Some(s.to_owned());
    use RowOutcome::*;
    assert_eq!(
        got,
        vec![
            (1, Imported, None),
            (2, Skipped, r("an autoplayed preview")),
            (3, Imported, None),
            (4, Skipped, r("a supplemental video (TRAILER)")),
            (5, Skipped, r("not the latest view of this title")),
            (6, Imported, None),
            (
                7,
                Invalid,
                r("Start Time: not a time (YYYY-MM-DD HH:MM:SS): \"yesterday\"")
            ),
        ]
    );
    // Each play with its time and what Netflix says was watched.
    let records: Vec<(String, Option<u32>)> = w
        .records(7)
        .await
        .iter()
        .map(|r| {
            (
                r.watch_date.to_rfc3339(),
                r.viewing_duration.map(|m| m.get()),
            )
        })
        .collect();
    assert_eq!(
        records,
        [
            ("2019-04-01T19:02:11+00:00".to_owned(), Some(51)),
            ("2019-04-01T19:56:20+00:00".to_owned(), Some(48))
        ]
    );
}

#[tokio::test]
async fn tv_time_episodes_by_tvdb_ids_and_numbers_and_movies_by_name() {
    let w = World::new();
    catalog(&w).await;
    let upload = export_of(
        "tvtime",
        "gdpr-export",
        &["tracking-prod-records-v2.csv", "tracking-prod-records.csv"],
    );
    let import = w
        .svc
        .import_history(
            w.user,
            ImportRequest {
                source: ImportSource::Tvtime,
                dry_run: false,
                upload,
                progress: None,
                profile: None,
            },
        )
        .await
        .expect("imported");
    let got = outcomes(&w, import.id).await;
    let r = |s: &str| Some(s.to_owned());
    use MatchedBy::*;
    use RowOutcome::*;
    assert_eq!(
        got,
        vec![
            (1, Imported, Some(Coordinates), None),
            (2, Imported, Some(Coordinates), None),
            (3, Imported, Some(Coordinates), None),
            (
                4,
                Invalid,
                None,
                r("created_at: not a time (YYYY-MM-DD HH:MM:SS): \"sometime\"")
            ),
            (5, Unmatched, None, r("not in the catalog")),
            (6, Imported, Some(Title), None),
            (7, Imported, Some(Title), None),
        ]
    );
    let dates: Vec<String> = w
        .records(7)
        .await
        .iter()
        .map(|r| r.watch_date.to_rfc3339())
        .collect();
    assert_eq!(
        dates,
        [
            "2021-02-04T22:11:37+00:00",
            "2021-02-05T21:00:00+00:00",
            "2021-02-06T21:00:00+00:00"
        ]
    );
    let mut uow = w.store.begin().await.expect("begin");
    let matrix = uow
        .records_of_content(w.user, uuid(1, 0xA))
        .await
        .expect("records");
    assert_eq!(
        matrix
            .iter()
            .map(|r| r.watch_date.to_rfc3339())
            .collect::<Vec<_>>(),
        ["2022-04-10T11:26:55+00:00"]
    );
}

#[tokio::test]
async fn completions_an_import_brings_carry_their_historical_dates() {
    let w = World::new();
    catalog(&w).await;
    // Dark's four episodes, watched in 2020 (listed newest first, as Trakt lists them).
    let plays: Vec<String> = (1..=4)
        .rev()
        .map(|n| {
            format!(
                r#"{{"id": {n}, "watched_at": "2020-01-0{n}T20:00:00Z", "type": "episode",
                    "episode": {{"season": 1, "number": {n}, "ids": {{}}}},
                    "show": {{"title": "Dark", "ids": {{"tvdb": 334824}}}}}}"#
            )
        })
        .collect();
    let file = format!("[{}]", plays.join(","));
    let import = w
        .svc
        .import_history(w.user, request(file.into_bytes(), false))
        .await
        .expect("imported");
    assert_eq!(import.summary.imported, 4);
    let completions: Vec<(String, String)> = w
        .events()
        .await
        .iter()
        .filter_map(|e| match &e.event {
            DomainEvent::TvSeasonCompleted(c) => {
                Some(("season".to_owned(), c.completion_date.to_rfc3339()))
            }
            DomainEvent::TvShowCompleted(c) => {
                Some(("show".to_owned(), c.completion_date.to_rfc3339()))
            }
            _ => None,
        })
        .collect();
    let at = "2020-01-04T20:00:00+00:00".to_owned();
    assert_eq!(
        completions,
        [("season".to_owned(), at.clone()), ("show".to_owned(), at)]
    );
    // Four nights in a row, a day apart: no binge session.
    assert!(w.sessions(7).await.is_empty());
}
