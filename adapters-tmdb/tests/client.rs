//! The TMDB client against the local fake (feature `fake`): what it asks, what it keeps, what
//! it retries and what it gives up on. Nothing here reaches the internet.

use std::num::NonZeroU32;
use std::time::Duration;

use adapters_tmdb::fake::{FakeTmdb, TOKEN};
use adapters_tmdb::{TmdbClient, TmdbConfig};
use viewing_domain::metadata::{Fetched, MetadataError, MetadataProvider, Wanted};
use viewing_domain::{ItemKind, Provider};

fn config(url: String) -> TmdbConfig {
    TmdbConfig {
        first_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
        ..TmdbConfig::new(url, TOKEN)
    }
}

fn client(fake: &FakeTmdb) -> TmdbClient {
    TmdbClient::new(config(fake.url())).expect("a client")
}

fn wanted(provider: Provider, value: &str) -> Wanted<'_> {
    Wanted {
        provider,
        value,
        kind: None,
        fresh: false,
    }
}

fn title(f: &Fetched) -> &str {
    match f {
        Fetched::Movie(m) => m.title.as_str(),
        Fetched::Show(s) => s.title.as_str(),
    }
}

#[tokio::test]
async fn ids_are_found_fetched_and_kept() {
    let fake = FakeTmdb::start().await.expect("fake");
    let tmdb = client(&fake);

    let matrix = tmdb
        .fetch(wanted(Provider::Imdb, "tt0133093"))
        .await
        .expect("answered")
        .expect("found");
    assert_eq!(
        (matrix.kind(), title(&matrix)),
        (ItemKind::Movie, "The Matrix")
    );
    assert_eq!(fake.calls(), 2, "/find, then /movie");
    // Kept: asked again, TMDB is not.
    tmdb.fetch(wanted(Provider::Imdb, "tt0133093"))
        .await
        .expect("answered");
    assert_eq!(fake.calls(), 2);

    // A show by TheTVDB id comes with every season it lists.
    let Some(Fetched::Show(dark)) = tmdb
        .fetch(wanted(Provider::Tvdb, "334824"))
        .await
        .expect("answered")
    else {
        panic!("Dark is a show");
    };
    let seasons: Vec<(u32, usize)> = dark
        .seasons()
        .iter()
        .map(|s| (s.number, s.episodes.len()))
        .collect();
    assert_eq!(seasons, [(0, 1), (1, 2)]);
    assert_eq!(fake.calls(), 2 + 4, "/find, /tv and two seasons");

    // An episode's IMDb id gives its show; the show's answers are kept, only /find is asked.
    let by_episode = tmdb
        .fetch(wanted(Provider::Imdb, "tt5753858"))
        .await
        .expect("answered")
        .expect("found");
    assert_eq!(by_episode, Fetched::Show(dark));
    assert_eq!(fake.calls(), 7);

    // TMDB's own ids with their kind.
    let by_tmdb = tmdb
        .fetch(Wanted {
            kind: Some(ItemKind::Movie),
            ..wanted(Provider::Tmdb, "603")
        })
        .await
        .expect("answered");
    assert_eq!(by_tmdb, Some(matrix));
    assert_eq!(fake.calls(), 7, "/movie/603 was kept");
}

#[tokio::test]
async fn what_tmdb_does_not_know_is_none() {
    let fake = FakeTmdb::start().await.expect("fake");
    let tmdb = client(&fake);
    let none = |r: Result<Option<Fetched>, MetadataError>| matches!(r, Ok(None));

    assert!(none(tmdb.fetch(wanted(Provider::Imdb, "tt0000001")).await));
    assert_eq!(fake.calls(), 1, "/find found nothing");
    assert!(none(
        tmdb.fetch(Wanted {
            kind: Some(ItemKind::Show),
            ..wanted(Provider::Tmdb, "999999")
        })
        .await
    ));
    assert_eq!(fake.calls(), 2, "TMDB's 404");
    // Kept as unknown: not asked again.
    assert!(none(
        tmdb.fetch(Wanted {
            kind: Some(ItemKind::Show),
            ..wanted(Provider::Tmdb, "999999")
        })
        .await
    ));
    assert_eq!(fake.calls(), 2);

    // Asked without a call: a TMDB id of no known kind, ids TMDB does not take, a bad shape.
    assert!(none(tmdb.fetch(wanted(Provider::Tmdb, "603")).await));
    assert!(none(tmdb.fetch(wanted(Provider::Trakt, "481")).await));
    assert!(none(tmdb.fetch(wanted(Provider::Tvmaze, "17861")).await));
    assert!(none(
        tmdb.fetch(wanted(Provider::Imdb, "../movie/603")).await
    ));
    assert_eq!(fake.calls(), 2);
}

#[tokio::test]
async fn passing_failures_are_retried_and_lasting_ones_are_not() {
    let fake = FakeTmdb::start().await.expect("fake");
    let tmdb = client(&fake);

    // Two 503s, then the answer: 3 tries for /find.
    fake.fail_next(2);
    let found = tmdb
        .fetch(wanted(Provider::Imdb, "tt0133093"))
        .await
        .expect("retried");
    assert!(found.is_some());
    assert_eq!(fake.calls(), 3 + 1);

    // 429 with Retry-After: waited (within the ceiling) and tried again.
    fake.rate_limit_next(1);
    let dark = tmdb
        .fetch(Wanted {
            kind: Some(ItemKind::Show),
            ..wanted(Provider::Tmdb, "70523")
        })
        .await
        .expect("retried");
    assert!(dark.is_some());

    // 503 past every try: unavailable, saying why, and nothing kept.
    let before = fake.calls();
    fake.fail_next(100);
    let err = tmdb
        .fetch(Wanted {
            kind: Some(ItemKind::Show),
            ..wanted(Provider::Tmdb, "1399")
        })
        .await
        .expect_err("down");
    assert_eq!(fake.calls() - before, 4, "4 tries");
    assert!(err.to_string().contains("503"), "{err}");
    fake.fail_next(0);
    let again = tmdb
        .fetch(Wanted {
            kind: Some(ItemKind::Show),
            ..wanted(Provider::Tmdb, "1399")
        })
        .await;
    assert!(matches!(again, Ok(None)), "asked again: {again:?}");

    // A refused token is not retried, and the message names the setting, not the token.
    let wrong = TmdbClient::new(TmdbConfig {
        token: "not-the-token".to_owned(),
        ..config(fake.url())
    })
    .expect("a client");
    let before = fake.calls();
    let err = wrong
        .fetch(wanted(Provider::Imdb, "tt0133093"))
        .await
        .expect_err("refused");
    assert_eq!(fake.calls() - before, 1);
    let said = err.to_string();
    assert!(said.contains("VIEWING_TMDB_TOKEN"), "{said}");
    assert!(!said.contains("not-the-token"), "{said}");
}

#[tokio::test]
async fn an_unreachable_tmdb_is_unavailable() {
    // A port nothing listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let tmdb = TmdbClient::new(config(format!("http://127.0.0.1:{port}/3"))).expect("a client");
    let err = tmdb
        .fetch(wanted(Provider::Imdb, "tt0133093"))
        .await
        .expect_err("nothing listens");
    assert!(err.to_string().contains("cannot be reached"), "{err}");
}

#[tokio::test]
async fn a_fresh_fetch_asks_tmdb_and_refills_what_is_kept() {
    let fake = FakeTmdb::start().await.expect("fake");
    let tmdb = client(&fake);
    let movie = |fresh| Wanted {
        kind: Some(ItemKind::Movie),
        fresh,
        ..wanted(Provider::Tmdb, "603")
    };
    let first = tmdb.fetch(movie(false)).await.expect("answered");
    let retitled = FakeTmdb::fixture("/movie/603").expect("a fixture").replace(
        "\"title\": \"The Matrix\"",
        "\"title\": \"The Matrix (4K)\"",
    );
    fake.replace("/movie/603", retitled);
    assert_eq!(tmdb.fetch(movie(false)).await.expect("kept"), first);
    let fresh = tmdb
        .fetch(movie(true))
        .await
        .expect("answered")
        .expect("found");
    assert_eq!(title(&fresh), "The Matrix (4K)");
    assert_eq!(
        tmdb.fetch(movie(false)).await.expect("kept"),
        Some(fresh),
        "the fresh answer is what is kept now"
    );
    assert_eq!(fake.calls(), 2);
}

#[tokio::test]
async fn simultaneous_asks_make_one_call_and_calls_keep_to_the_rate() {
    let fake = FakeTmdb::start().await.expect("fake");
    let tmdb = std::sync::Arc::new(client(&fake));
    let mut asks = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let tmdb = tmdb.clone();
        asks.spawn(async move { tmdb.fetch(wanted(Provider::Imdb, "tt0133093")).await });
    }
    while let Some(r) = asks.join_next().await {
        let r = r.expect("joined");
        assert!(matches!(r, Ok(Some(_))), "{r:?}");
    }
    assert_eq!(fake.calls(), 2, "one /find and one /movie for eight asks");

    // 5 calls a second: 10 fresh calls cannot take less than one second (the first 5 pass
    // at once, each next one waits 200 ms).
    let slow = TmdbClient::new(TmdbConfig {
        requests_per_second: NonZeroU32::new(5).expect("5"),
        ..config(fake.url())
    })
    .expect("a client");
    let started = std::time::Instant::now();
    for _ in 0..5 {
        slow.fetch(Wanted {
            fresh: true,
            ..wanted(Provider::Imdb, "tt0133093")
        })
        .await
        .expect("answered");
    }
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "10 calls in {:?}",
        started.elapsed()
    );
}
