//! Loading IMDb's datasets (SPEC §16) on the memory store, from rows written here in IMDb's
//! format: what becomes a movie, a show, a season and an episode, what is skipped and why,
//! that a reload updates in place, and that a bad row stops the load naming file and line.

use std::collections::HashMap;
use std::io::{Cursor, Read};

use adapters_memory::MemoryStore;
use viewing_app::ViewingService;
use viewing_app::imdb::{BASICS, EPISODES, ImdbError, ImdbOptions, ImdbSource, RATINGS, imdb_uuid};
use viewing_domain::{EpisodeId, MovieId, Provider, ShowId, ShowStatus};

struct Files(HashMap<&'static str, String>);

impl ImdbSource for Files {
    fn open(&self, file: &'static str) -> std::io::Result<Option<Box<dyn Read + Send>>> {
        Ok(self
            .0
            .get(file)
            .map(|t| Box::new(Cursor::new(t.clone().into_bytes())) as Box<dyn Read + Send>))
    }
}

const BASICS_TSV: &str = "\
tconst\ttitleType\tprimaryTitle\toriginalTitle\tisAdult\tstartYear\tendYear\truntimeMinutes\tgenres
tt0000101\tmovie\tThe Matrix\tThe Matrix\t0\t1999\t\\N\t136\tAction,Sci-Fi
tt0000102\ttvMovie\tA TV Film\tA TV Film\t0\t\\N\t\\N\t\\N\t\\N
tt0000103\tmovie\tAdult Film\tAdult Film\t1\t2001\t\\N\t90\tAdult
tt0000104\tshort\tA Short\tA Short\t0\t2001\t\\N\t5\tShort
tt0000105\tmovie\tUnpopular\tUnpopular\t0\t2005\t\\N\t95\tDrama
tt0000106\tmovie\tEndless\tEndless\t0\t2010\t\\N\t5000\tDrama
tt0000201\ttvEpisode\tPilot\tPilot\t0\t2017\t\\N\t50\tDrama
tt0000200\ttvSeries\tDark\tDark\t0\t2017\t2020\t\\N\tDrama,Mystery
tt0000202\ttvEpisode\tSecrets\tSecrets\t0\t2017\t\\N\t\\N\tDrama
tt0000203\ttvEpisode\tPast and Present\tPast and Present\t0\t2017\t\\N\t60\tDrama
tt0000204\ttvEpisode\tBehind the Scenes\tBehind the Scenes\t0\t2018\t\\N\t\\N\t\\N
tt0000205\ttvEpisode\tSame Numbers\tSame Numbers\t0\t2017\t\\N\t40\t\\N
tt0000206\ttvEpisode\tUnnumbered\tUnnumbered\t0\t2019\t\\N\t45\t\\N
tt0000207\ttvEpisode\tNext Year\tNext Year\t0\t2099\t\\N\t55\t\\N
tt0000300\ttvMiniSeries\tStill Running\tStill Running\t0\t2024\t\\N\t\\N\t\\N
tt0000301\ttvEpisode\tOrphan\tOrphan\t0\t2024\t\\N\t30\t\\N
";

const EPISODES_TSV: &str = "\
tconst\tparentTconst\tseasonNumber\tepisodeNumber
tt0000201\ttt0000200\t1\t1
tt0000202\ttt0000200\t1\t2
tt0000203\ttt0000200\t1\t3
tt0000204\ttt0000200\t0\t1
tt0000205\ttt0000200\t1\t1
tt0000206\ttt0000200\t\\N\t\\N
tt0000207\ttt0000200\t2\t1
tt0000301\ttt0000999\t1\t1
";

const RATINGS_TSV: &str = "\
tconst\taverageRating\tnumVotes
tt0000101\t8.7\t2000000
tt0000102\t6.0\t150
tt0000105\t4.0\t3
tt0000106\t7.0\t500
tt0000200\t8.7\t400000
tt0000300\t7.5\t120
";

fn files(basics: &str) -> Files {
    Files(HashMap::from([
        (BASICS, basics.to_owned()),
        (EPISODES, EPISODES_TSV.to_owned()),
        (RATINGS, RATINGS_TSV.to_owned()),
    ]))
}

fn options() -> ImdbOptions {
    ImdbOptions {
        batch_rows: 3,
        current_year: 2026,
        ..ImdbOptions::default()
    }
}

#[tokio::test]
async fn titles_become_movies_shows_seasons_and_episodes() {
    let svc = ViewingService::new(MemoryStore::new());
    let summary = svc
        .load_imdb(&files(BASICS_TSV), options(), &|_| {})
        .await
        .expect("loaded");

    let matrix = svc
        .movie(MovieId::from(imdb_uuid("tt0000101", None)))
        .await
        .expect("the movie");
    assert_eq!(matrix.title.as_str(), "The Matrix");
    assert_eq!(matrix.runtime.get(), 136);
    assert_eq!(
        matrix.genres.iter().map(|g| g.as_str()).collect::<Vec<_>>(),
        ["Action", "Sci-Fi"]
    );
    assert_eq!(
        matrix.release_date.map(|d| d.to_string()).as_deref(),
        Some("1999-01-01")
    );
    assert_eq!(matrix.external_ids.get(Provider::Imdb), Some("tt0000101"));
    let tv_movie = svc
        .movie(MovieId::from(imdb_uuid("tt0000102", None)))
        .await
        .expect("a tvMovie is a movie");
    assert_eq!((tv_movie.runtime.get(), tv_movie.release_date), (0, None));
    for skipped in ["tt0000103", "tt0000104", "tt0000106"] {
        assert!(
            svc.movie(MovieId::from(imdb_uuid(skipped, None)))
                .await
                .is_err(),
            "{skipped} is not loaded"
        );
    }

    let dark = svc
        .show(ShowId::from(imdb_uuid("tt0000200", None)))
        .await
        .expect("the show");
    assert_eq!(dark.status, ShowStatus::Ended, "endYear set");
    assert_eq!(dark.external_ids.get(Provider::Imdb), Some("tt0000200"));
    let numbers: Vec<(u32, u32, &str, u32)> = dark
        .episodes()
        .map(|e| {
            (
                e.season.number,
                e.episode.number,
                e.episode.title.as_str(),
                e.episode.runtime.get(),
            )
        })
        .collect();
    // S1E1 twice: the lower IMDb id wins. Episodes without runtime take the show's median of
    // the known ones (50, 60, 55: 55). The unnumbered episode is left out.
    assert_eq!(
        numbers,
        [
            (0, 1, "Behind the Scenes", 55),
            (1, 1, "Pilot", 50),
            (1, 2, "Secrets", 55),
            (1, 3, "Past and Present", 60),
            (2, 1, "Next Year", 55),
        ]
    );
    let next_year = dark
        .episode(EpisodeId::from(imdb_uuid("tt0000207", None)))
        .expect("episode");
    assert_eq!(
        next_year.episode.air_date.map(|d| d.to_string()).as_deref(),
        Some("2099-01-01"),
        "not aired yet"
    );
    assert_eq!(
        dark.season(1).map(|s| s.id.as_uuid()),
        Some(imdb_uuid("tt0000200", Some(1)))
    );
    let running = svc
        .show(ShowId::from(imdb_uuid("tt0000300", None)))
        .await
        .expect("a mini series");
    assert_eq!(running.status, ShowStatus::Returning);
    assert!(
        running.seasons().is_empty(),
        "its episode names another show"
    );

    assert_eq!(summary.written.movies, 3);
    assert_eq!(summary.written.shows, 2);
    assert_eq!(summary.written.seasons, 3);
    assert_eq!(summary.written.episodes, 5);
    let skipped = |r: &str| summary.skipped.get(r).copied().unwrap_or(0);
    assert_eq!(skipped("adult"), 1);
    assert_eq!(skipped("other title types"), 1);
    assert_eq!(skipped("runtime over 24 hours"), 1);
    assert_eq!(skipped("episode numbers given twice in a show"), 1);
    assert_eq!(skipped("episode without season and episode numbers"), 1);
    assert_eq!(skipped("episode of a show not loaded"), 1);

    // Loading again updates in place: nothing new, nothing lost.
    let again = svc
        .load_imdb(&files(BASICS_TSV), options(), &|_| {})
        .await
        .expect("reloaded");
    assert_eq!(again.written, summary.written);
    let dark_again = svc.show(dark.id).await.expect("the show");
    assert_eq!(dark_again, dark);
}

#[tokio::test]
async fn min_votes_and_adult_titles_follow_the_options() {
    let svc = ViewingService::new(MemoryStore::new());
    let opts = ImdbOptions {
        min_votes: 100,
        include_adult: true,
        ..options()
    };
    let summary = svc
        .load_imdb(&files(BASICS_TSV), opts, &|_| {})
        .await
        .expect("loaded");
    // tt0000105 has 3 votes, tt0000103 (adult, now included) none in the file.
    assert!(
        svc.movie(MovieId::from(imdb_uuid("tt0000105", None)))
            .await
            .is_err()
    );
    assert!(
        svc.movie(MovieId::from(imdb_uuid("tt0000103", None)))
            .await
            .is_err()
    );
    assert!(
        svc.movie(MovieId::from(imdb_uuid("tt0000101", None)))
            .await
            .is_ok()
    );
    assert_eq!(
        summary.skipped.get("fewer votes than --min-votes").copied(),
        Some(2)
    );
}

#[tokio::test]
async fn a_bad_row_stops_the_load_naming_file_and_line() {
    let svc = ViewingService::new(MemoryStore::new());
    let bad = BASICS_TSV.replace(
        "tt0000106\tmovie\tEndless\tEndless\t0\t2010",
        "tt0000106\tmovie\tEndless\tEndless\t0\t20x0",
    );
    let opts = ImdbOptions {
        batch_rows: 2,
        ..options()
    };
    let err = svc
        .load_imdb(&files(&bad), opts, &|_| {})
        .await
        .expect_err("a year that is not a number");
    assert_eq!(
        err.to_string(),
        "title.basics.tsv.gz line 7: startYear: not a number: \"20x0\""
    );
    // Batches of 2: the one before the bad row is written, the one being built is not.
    for written in ["tt0000101", "tt0000102"] {
        assert!(
            svc.movie(MovieId::from(imdb_uuid(written, None)))
                .await
                .is_ok()
        );
    }
    assert!(
        svc.movie(MovieId::from(imdb_uuid("tt0000105", None)))
            .await
            .is_err()
    );

    let no_column = BASICS_TSV.replacen("runtimeMinutes", "minutes", 1);
    let err = svc
        .load_imdb(&files(&no_column), options(), &|_| {})
        .await
        .expect_err("a missing column");
    assert!(
        matches!(
            err,
            ImdbError::MissingColumn {
                file: BASICS,
                column: "runtimeMinutes"
            }
        ),
        "{err}"
    );
    let short_row = BASICS_TSV.replace("\tAction,Sci-Fi", "");
    let err = svc
        .load_imdb(&files(&short_row), options(), &|_| {})
        .await
        .expect_err("a row with a field missing");
    assert_eq!(
        err.to_string(),
        "title.basics.tsv.gz line 2: 8 fields where the header has 9"
    );
    let mut missing = files(BASICS_TSV);
    missing.0.remove(EPISODES);
    let err = svc
        .load_imdb(&missing, options(), &|_| {})
        .await
        .expect_err("no episode file");
    assert_eq!(err.to_string(), "title.episode.tsv.gz: not found");
}
