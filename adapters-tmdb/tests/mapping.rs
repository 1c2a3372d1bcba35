//! TMDB's responses (fixtures in its real shapes, written for this project) mapped onto the
//! catalog.

use adapters_tmdb::{Found, TmdbKind, found, movie, season_numbers, show, tmdb_uuid};
use viewing_domain::{Provider, ShowStatus};

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn a_movie_keeps_its_ids_runtime_genres_and_date() {
    let m = movie(&fixture("movie_603.json")).expect("mapped");
    assert_eq!(m.id.as_uuid(), tmdb_uuid(TmdbKind::Movie, 603));
    assert_eq!(m.title.as_str(), "The Matrix");
    assert_eq!(m.runtime.get(), 136);
    assert_eq!(
        m.genres.iter().map(|g| g.as_str()).collect::<Vec<_>>(),
        ["Action", "Science Fiction"]
    );
    assert_eq!(
        m.release_date.map(|d| d.to_string()).as_deref(),
        Some("1999-03-31")
    );
    assert_eq!(m.external_ids.get(Provider::Tmdb), Some("603"));
    assert_eq!(m.external_ids.get(Provider::Imdb), Some("tt0133093"));
    assert_eq!(m.external_ids.get(Provider::Tvdb), None);
}

#[test]
fn a_show_is_built_from_its_seasons() {
    let tv = fixture("tv_70523.json");
    assert_eq!(season_numbers(&tv).expect("seasons"), [1, 0]);
    let season = fixture("tv_70523_season_1.json");
    let s = show(&tv, &[&season]).expect("mapped");
    assert_eq!(s.id.as_uuid(), tmdb_uuid(TmdbKind::Tv, 70523));
    assert_eq!(s.status, ShowStatus::Ended);
    assert_eq!(s.external_ids.get(Provider::Tvdb), Some("334824"));
    assert_eq!(s.external_ids.get(Provider::Imdb), Some("tt5753856"));
    let season = s.season(1).expect("season 1");
    assert_eq!(season.external_ids.get(Provider::Tvdb), Some("718063"));
    // Episode 3 has no air date yet: left out. Episode 2 has no runtime: the show's 60.
    let episodes: Vec<(u32, &str, u32)> = season
        .episodes
        .iter()
        .map(|e| (e.number, e.title.as_str(), e.runtime.get()))
        .collect();
    assert_eq!(episodes, [(1, "Secrets", 51), (2, "Lies", 60)]);
    assert_eq!(
        season.episodes[0].external_ids.get(Provider::Tmdb),
        Some("1328111")
    );
    // The same responses give the same ids: a second fetch replaces in place.
    assert_eq!(show(&tv, &[&fixture("tv_70523_season_1.json")]), Ok(s));
}

#[test]
fn returning_and_other_statuses() {
    let tv = fixture("tv_70523.json").replace("\"Ended\"", "\"Returning Series\"");
    assert_eq!(show(&tv, &[]).map(|s| s.status), Ok(ShowStatus::Returning));
    let tv = fixture("tv_70523.json").replace("\"Ended\"", "\"Canceled\"");
    assert_eq!(show(&tv, &[]).map(|s| s.status), Ok(ShowStatus::Canceled));
}

#[test]
fn find_answers_the_first_movie_show_or_episode() {
    assert_eq!(
        found(&fixture("find_tt0133093.json")),
        Ok(Some(Found::Movie(603)))
    );
    assert_eq!(
        found(&fixture("find_tt5753858.json")),
        Ok(Some(Found::Episode {
            show: 70523,
            season: 1,
            episode: 1
        }))
    );
    assert_eq!(
        found(r#"{"movie_results":[],"tv_results":[],"tv_episode_results":[]}"#),
        Ok(None)
    );
}

#[test]
fn bad_responses_are_refused_with_a_reason() {
    assert!(movie("<html>rate limited</html>").is_err());
    let endless = fixture("movie_603.json").replace("\"runtime\": 136", "\"runtime\": 5000");
    let err = movie(&endless).expect_err("over 24 hours");
    assert!(err.to_string().starts_with("TMDB item 603:"), "{err}");
    let nameless =
        fixture("movie_603.json").replace("\"title\": \"The Matrix\"", "\"title\": \" \"");
    assert!(movie(&nameless).is_err());
}
