//! Catalog and user repositories.

use viewing_domain::ports::{
    CatalogBulkRepository, CatalogRepository, Store, StoreError, Transaction, UserRepository,
};
use viewing_domain::{
    Episode, EpisodeId, ExternalHit, ExternalIds, ItemKind, MovieId, Provider, Season, SeasonId,
    Show, ShowId, ShowStatus,
};

use crate::Probe;
use crate::fixtures::*;

pub async fn catalog_movie_round_trip<S: Store + Probe>(store: S) {
    let mut m = movie("Fight Club", 139);
    let mut uow = store.begin().await.expect("begin");
    assert_eq!(uow.movie(m.id).await.expect("read"), None);
    uow.upsert_movie(&m).await.expect("insert movie");
    uow.commit().await.expect("commit");

    let mut uow = store.begin().await.expect("begin");
    assert_eq!(uow.movie(m.id).await.expect("read"), Some(m.clone()));
    // An upsert replaces every field, genres included (order kept).
    m.title = title("Fight Club (Director's Cut)");
    m.runtime = minutes(151);
    m.genres = vec![genre("Thriller"), genre("Drama"), genre("Cult")];
    m.release_date = None;
    uow.upsert_movie(&m).await.expect("replace movie");
    uow.commit().await.expect("commit");

    let mut uow = store.begin().await.expect("begin");
    assert_eq!(uow.movie(m.id).await.expect("read"), Some(m.clone()));
    assert_eq!(
        uow.movie(MovieId::from(new_id())).await.expect("read"),
        None
    );
}

pub async fn catalog_show_tree_round_trip<S: Store + Probe>(store: S) {
    let mut s = show("Firefly", ShowStatus::Canceled, &[3, 2], 2);
    // Air dates, including one in the future, survive.
    let tree: Vec<Season> = s
        .seasons()
        .iter()
        .cloned()
        .map(|mut season| {
            for (i, e) in season.episodes.iter_mut().enumerate() {
                e.air_date = (i % 2 == 0).then(|| date(2002 + i as i32 * 20, 9, 20));
            }
            season
        })
        .collect();
    s = Show::new(s.id, s.title, s.status, s.genres, tree).expect("valid show");

    let mut uow = store.begin().await.expect("begin");
    uow.upsert_show(&s).await.expect("insert show");
    uow.commit().await.expect("commit");

    let mut uow = store.begin().await.expect("begin");
    assert_eq!(uow.show(s.id).await.expect("read"), Some(s.clone()));
    for e in s.episodes() {
        assert_eq!(
            uow.show_of_episode(e.episode.id).await.expect("read"),
            Some(s.clone()),
            "show of episode S{}E{}",
            e.season.number,
            e.episode.number
        );
    }
    assert_eq!(
        uow.show_of_episode(EpisodeId::from(new_id()))
            .await
            .expect("read"),
        None
    );
    assert_eq!(uow.show(ShowId::from(new_id())).await.expect("read"), None);
}

pub async fn catalog_show_replace_tree<S: Store + Probe>(store: S) {
    let s = show("Lost", ShowStatus::Returning, &[3, 3], 0);
    let mut uow = store.begin().await.expect("begin");
    uow.upsert_show(&s).await.expect("insert show");
    uow.commit().await.expect("commit");

    // Season 2 goes, season 1 loses its last episode and keeps the others, a season 3 appears.
    let dropped_season = s.season(2).expect("season 2").clone();
    let mut season1 = s.season(1).expect("season 1").clone();
    let dropped_episode = season1.episodes.pop().expect("an episode");
    let season3 = Season {
        id: SeasonId::from(new_id()),
        number: 3,
        episodes: vec![Episode {
            id: EpisodeId::from(new_id()),
            number: 1,
            title: title("New"),
            runtime: minutes(60),
            air_date: Some(date(2030, 1, 1)),
            external_ids: Default::default(),
        }],
        external_ids: Default::default(),
    };
    let replaced = Show::new(
        s.id,
        title("LOST"),
        ShowStatus::Ended,
        vec![genre("Mystery"), genre("Drama")],
        vec![season3.clone(), season1.clone()],
    )
    .expect("valid show");
    let mut uow = store.begin().await.expect("begin");
    uow.upsert_show(&replaced).await.expect("replace show");
    uow.commit().await.expect("commit");

    let mut uow = store.begin().await.expect("begin");
    assert_eq!(uow.show(s.id).await.expect("read"), Some(replaced.clone()));
    assert_eq!(
        uow.show_of_episode(dropped_episode.id).await.expect("read"),
        None
    );
    for e in &dropped_season.episodes {
        assert_eq!(uow.show_of_episode(e.id).await.expect("read"), None);
    }
    assert_eq!(
        uow.show_of_episode(season3.episodes[0].id)
            .await
            .expect("read"),
        Some(replaced.clone())
    );

    // A removed season's and episode's ids may be used again, by this or another show.
    let other = Show::new(
        ShowId::from(new_id()),
        title("Other"),
        ShowStatus::Ended,
        vec![],
        vec![dropped_season.clone()],
    )
    .expect("valid show");
    uow.upsert_show(&other).await.expect("reuse freed ids");
    uow.commit().await.expect("commit");
}

pub async fn catalog_show_ids_of_another_show_conflict<S: Store + Probe>(store: S) {
    let a = show("A", ShowStatus::Ended, &[2], 0);
    let mut uow = store.begin().await.expect("begin");
    uow.upsert_show(&a).await.expect("insert show A");
    uow.commit().await.expect("commit");

    // B reuses one of A's episode ids.
    let stolen_episode = episode(&a, 1, 2).clone();
    let b = Show::new(
        ShowId::from(new_id()),
        title("B"),
        ShowStatus::Ended,
        vec![],
        vec![Season {
            id: SeasonId::from(new_id()),
            number: 1,
            episodes: vec![stolen_episode],
            external_ids: Default::default(),
        }],
    )
    .expect("valid show");
    let mut uow = store.begin().await.expect("begin");
    let err = uow.upsert_show(&b).await.expect_err("episode id of show A");
    assert!(matches!(err, StoreError::Conflict(_)), "got {err:?}");
    drop(uow);

    // C reuses A's season id.
    let c = Show::new(
        ShowId::from(new_id()),
        title("C"),
        ShowStatus::Ended,
        vec![],
        vec![Season {
            id: a.season(1).expect("season").id,
            number: 1,
            episodes: vec![],
            external_ids: Default::default(),
        }],
    )
    .expect("valid show");
    let mut uow = store.begin().await.expect("begin");
    let err = uow.upsert_show(&c).await.expect_err("season id of show A");
    assert!(matches!(err, StoreError::Conflict(_)), "got {err:?}");
    drop(uow);

    let mut uow = store.begin().await.expect("begin");
    assert_eq!(uow.show(a.id).await.expect("read"), Some(a.clone()));
    assert_eq!(uow.show(b.id).await.expect("read"), None);
    assert_eq!(uow.show(c.id).await.expect("read"), None);
}

pub async fn catalog_titles<S: Store + Probe>(store: S) {
    let m = movie("Heat", 170);
    let s = show("The Wire", ShowStatus::Ended, &[1], 0);
    let mut uow = store.begin().await.expect("begin");
    uow.upsert_movie(&m).await.expect("movie");
    uow.upsert_show(&s).await.expect("show");
    uow.commit().await.expect("commit");

    let mut uow = store.begin().await.expect("begin");
    let unknown = new_id();
    let titles = uow
        .titles(&[m.id.as_uuid(), s.id.as_uuid(), unknown])
        .await
        .expect("titles");
    assert_eq!(titles.len(), 2);
    assert_eq!(
        titles.get(&m.id.as_uuid()).map(String::as_str),
        Some("Heat")
    );
    assert_eq!(
        titles.get(&s.id.as_uuid()).map(String::as_str),
        Some("The Wire")
    );
    assert!(uow.titles(&[]).await.expect("no ids").is_empty());
}

pub async fn user_ensure_is_idempotent<S: Store + Probe>(store: S) {
    let u = user();
    let mut uow = store.begin().await.expect("begin");
    uow.ensure_user(u, minute(0)).await.expect("create user");
    uow.ensure_user(u, minute(1))
        .await
        .expect("again, same uow");
    uow.commit().await.expect("commit");
    let mut uow = store.begin().await.expect("begin");
    uow.ensure_user(u, minute(2)).await.expect("again, later");
    uow.commit().await.expect("commit");
}

/// External ids (SPEC §10) are kept on every level, replaced with the item, and an id of one
/// item of a kind may not be given to another item of that kind (`Conflict`, naming it).
pub async fn catalog_external_ids<S: Store + Probe>(store: S) {
    let ids = |pairs: &[(Provider, &str)]| {
        pairs
            .iter()
            .try_fold(ExternalIds::new(), |acc, (p, v)| acc.with(*p, v))
            .expect("valid ids")
    };
    // Random digits so that runs on a shared database do not meet.
    let n = new_id().as_u128() % 1_000_000_000;
    let imdb = |k: u128| format!("tt{:09}", (n + k) % 1_000_000_000);
    let mut m = movie("The Matrix", 136);
    m.external_ids = ids(&[(Provider::Imdb, &imdb(1)), (Provider::Tmdb, "603")]);
    let mut s = show("Dark", ShowStatus::Ended, &[2], 0);
    s.external_ids = ids(&[(Provider::Imdb, &imdb(2)), (Provider::Tvdb, "334824")]);
    let mut seasons = s.seasons().to_vec();
    seasons[0].external_ids = ids(&[(Provider::Tmdb, "81234")]);
    seasons[0].episodes[1].external_ids =
        ids(&[(Provider::Imdb, &imdb(3)), (Provider::Tvmaze, "1234567")]);
    let mut s2 =
        Show::new(s.id, s.title.clone(), s.status, s.genres.clone(), seasons).expect("valid show");
    s2.external_ids = s.external_ids.clone();
    let mut uow = store.begin().await.expect("begin");
    uow.upsert_movie(&m).await.expect("movie");
    uow.upsert_show(&s2).await.expect("show");
    uow.commit().await.expect("commit");

    let mut uow = store.begin().await.expect("begin");
    assert_eq!(uow.movie(m.id).await.expect("read"), Some(m.clone()));
    assert_eq!(uow.show(s2.id).await.expect("read"), Some(s2.clone()));
    // Each id finds its holder, with the show of a season or an episode.
    let hits = uow
        .find_by_external_id(Provider::Imdb, &imdb(1))
        .await
        .expect("find");
    assert_eq!(
        hits,
        vec![ExternalHit {
            kind: ItemKind::Movie,
            id: m.id.as_uuid(),
            show_id: None
        }]
    );
    let episode = &s2.seasons()[0].episodes[1];
    let hits = uow
        .find_by_external_id(Provider::Imdb, &imdb(3))
        .await
        .expect("find");
    assert_eq!(
        hits,
        vec![ExternalHit {
            kind: ItemKind::Episode,
            id: episode.id.as_uuid(),
            show_id: Some(s2.id)
        }]
    );
    let hits = uow
        .find_by_external_id(Provider::Tmdb, "81234")
        .await
        .expect("find");
    assert_eq!(
        hits.iter().map(|h| (h.kind, h.show_id)).collect::<Vec<_>>(),
        vec![(ItemKind::Season, Some(s2.id))]
    );
    assert!(
        uow.find_by_external_id(Provider::Imdb, &imdb(9))
            .await
            .expect("find")
            .is_empty()
    );
    // Writing the same items again keeps their ids: no conflict with themselves.
    uow.upsert_movie(&m).await.expect("movie again");
    uow.upsert_show(&s2).await.expect("show again");
    uow.commit().await.expect("commit");

    // Another movie with the first one's IMDb id.
    let mut thief = movie("Not The Matrix", 90);
    thief.external_ids = ids(&[(Provider::Imdb, &imdb(1))]);
    let mut uow = store.begin().await.expect("begin");
    let err = uow
        .upsert_movie(&thief)
        .await
        .expect_err("held by the movie");
    match err {
        StoreError::Conflict(msg) => assert!(msg.contains(&m.id.to_string()), "{msg}"),
        other => panic!("got {other:?}"),
    }
    drop(uow);
    // A show may hold the id a movie holds: uniqueness is per kind.
    let mut show_with_movie_id = show("Matrix, the series", ShowStatus::Returning, &[1], 0);
    show_with_movie_id.external_ids = ids(&[(Provider::Tmdb, "603")]);
    // Another show's episode with the first show's episode id.
    let mut other = show("Other", ShowStatus::Ended, &[1], 0);
    let mut other_seasons = other.seasons().to_vec();
    other_seasons[0].episodes[0].external_ids = ids(&[(Provider::Imdb, &imdb(3))]);
    other =
        Show::new(other.id, other.title, other.status, vec![], other_seasons).expect("valid show");
    let mut uow = store.begin().await.expect("begin");
    uow.upsert_show(&show_with_movie_id)
        .await
        .expect("a show may share a movie's id");
    let err = uow
        .upsert_show(&other)
        .await
        .expect_err("held by an episode");
    match err {
        StoreError::Conflict(msg) => {
            let held = s2.seasons()[0].episodes[1].id.to_string();
            assert!(msg.contains(&held), "{msg}");
        }
        other => panic!("got {other:?}"),
    }
    drop(uow);

    // Replaced without ids, the show frees them for another show.
    let bare = show("Dark", ShowStatus::Ended, &[1], 0);
    let bare = Show::new(
        s2.id,
        bare.title.clone(),
        bare.status,
        vec![],
        bare.seasons().to_vec(),
    )
    .expect("valid show");
    let mut uow = store.begin().await.expect("begin");
    uow.upsert_show(&bare).await.expect("replace without ids");
    uow.upsert_show(&other).await.expect("the freed id");
    uow.commit().await.expect("commit");
    let mut uow = store.begin().await.expect("begin");
    assert_eq!(uow.show(other.id).await.expect("read"), Some(other.clone()));
}

/// Bulk rows (SPEC §16) are written by id over several batches, read back as whole shows,
/// updated in place when written again; a row whose external id or numbers another item
/// holds is left out, not refused.
pub async fn catalog_bulk_rows<S: Store + Probe>(store: S) {
    use viewing_domain::{CatalogRows, EpisodeRow, SeasonRow, ShowRow};
    let imdb = |n: u32| {
        ExternalIds::new()
            .with(Provider::Imdb, &format!("tt{n:07}"))
            .expect("id")
    };
    let mut m = movie("Heat", 170);
    m.external_ids = imdb(113_277);
    let show_id = ShowId::from(new_id());
    let season_id = SeasonId::from(new_id());
    let show_row = ShowRow {
        id: show_id,
        title: title("Dark"),
        status: ShowStatus::Returning,
        genres: vec![genre("Drama")],
        external_ids: imdb(5_753_856),
    };
    let episode = |n: u32, ext: u32| EpisodeRow {
        show_id,
        season_id,
        episode: Episode {
            id: EpisodeId::from(new_id()),
            number: n,
            title: title(&format!("Episode {n}")),
            runtime: minutes(50),
            air_date: None,
            external_ids: imdb(ext),
        },
    };
    let (e1, e2) = (episode(1, 5_753_858), episode(2, 5_753_860));
    let mut uow = store.begin().await.expect("begin");
    let before = uow.catalog_version().await.expect("version");
    let first = CatalogRows {
        movies: vec![m.clone()],
        shows: vec![show_row.clone()],
        ..CatalogRows::default()
    };
    let written = uow.write_catalog_rows(&first).await.expect("batch 1");
    assert_eq!((written.movies, written.shows), (1, 1));
    let second = CatalogRows {
        seasons: vec![SeasonRow {
            id: season_id,
            show_id,
            number: 1,
            external_ids: ExternalIds::new(),
        }],
        episodes: vec![e1.clone(), e2.clone()],
        ..CatalogRows::default()
    };
    let written = uow.write_catalog_rows(&second).await.expect("batch 2");
    assert_eq!((written.seasons, written.episodes), (1, 2));
    assert!(uow.catalog_version().await.expect("version") > before);
    uow.commit().await.expect("commit");

    let mut uow = store.begin().await.expect("begin");
    assert_eq!(uow.movie(m.id).await.expect("read"), Some(m.clone()));
    let show = uow.show(show_id).await.expect("read").expect("the show");
    assert_eq!(show.external_ids, show_row.external_ids);
    assert_eq!(show.genres, show_row.genres);
    let episodes: Vec<Episode> = show.episodes().map(|e| e.episode.clone()).collect();
    assert_eq!(episodes, vec![e1.episode.clone(), e2.episode.clone()]);

    // Written again, changed: updated in place. A third episode with episode 2's number and
    // a movie with Heat's IMDb id are left out.
    let mut renamed = e2.clone();
    renamed.episode.title = title("Lies");
    let clash = episode(2, 5_753_999);
    let mut thief = movie("Not Heat", 99);
    thief.external_ids = imdb(113_277);
    let again = CatalogRows {
        movies: vec![thief.clone()],
        shows: vec![ShowRow {
            title: title("DARK"),
            ..show_row.clone()
        }],
        episodes: vec![renamed.clone(), clash.clone()],
        ..CatalogRows::default()
    };
    let written = uow.write_catalog_rows(&again).await.expect("batch 3");
    assert_eq!((written.movies, written.shows, written.episodes), (0, 1, 1));
    uow.commit().await.expect("commit");
    let mut uow = store.begin().await.expect("begin");
    assert_eq!(uow.movie(thief.id).await.expect("read"), None);
    let show = uow.show(show_id).await.expect("read").expect("the show");
    assert_eq!(show.title.as_str(), "DARK");
    let titles: Vec<&str> = show.episodes().map(|e| e.episode.title.as_str()).collect();
    assert_eq!(titles, ["Episode 1", "Lies"]);
    assert_eq!(
        uow.show_of_episode(clash.episode.id).await.expect("read"),
        None
    );
}

/// Title search (SPEC §10): by title key, exact or by prefix, narrowed by kind and a movie's
/// year, in rank order (exact keys first, then shorter ones, then by title), at most the
/// limit; a renamed item is found by its new title only; bulk-written rows are searchable.
pub async fn catalog_title_search<S: Store + Probe>(store: S) {
    use viewing_domain::search::{TitleQuery, title_key};
    use viewing_domain::{CatalogRows, ShowRow};
    // A word of its own, so that runs on a shared database do not meet.
    let word = format!("Zq{}", new_id().as_u128() % 1_000_000_000);
    let named = |name: &str, year: i32| {
        let mut m = movie(name, 100);
        m.release_date = Some(date(year, 3, 31));
        m
    };
    let first = named(&format!("The {word} Matrix"), 1999);
    let sequel = named(&format!("{word} Matrix Reloaded"), 2003);
    let mut remake = named(&format!("{word}: Matrix"), 2021);
    let tv = show(&format!("{word} Matrix"), ShowStatus::Ended, &[1], 0);
    let mut uow = store.begin().await.expect("begin");
    for m in [&first, &sequel, &remake] {
        uow.upsert_movie(m).await.expect("movie");
    }
    uow.upsert_show(&tv).await.expect("show");
    uow.commit().await.expect("commit");

    let key = title_key(&format!("{word} matrix"));
    let query = |kind, year, exact, limit| TitleQuery {
        key: key.clone(),
        kind,
        year,
        exact,
        limit,
    };
    let mut uow = store.begin_read().await.expect("begin");
    let (the, reloaded, colon, series) = (
        format!("The {word} Matrix"),
        format!("{word} Matrix Reloaded"),
        format!("{word}: Matrix"),
        format!("{word} Matrix"),
    );
    assert_eq!(
        found(&mut uow, query(None, None, true, 20)).await,
        vec![
            (ItemKind::Movie, the.clone(), Some(1999)),
            (ItemKind::Show, series.clone(), None),
            (ItemKind::Movie, colon.clone(), Some(2021)),
        ]
    );
    assert_eq!(
        found(&mut uow, query(Some(ItemKind::Movie), None, false, 20)).await,
        vec![
            (ItemKind::Movie, the.clone(), Some(1999)),
            (ItemKind::Movie, colon.clone(), Some(2021)),
            (ItemKind::Movie, reloaded.clone(), Some(2003)),
        ]
    );
    assert_eq!(
        found(&mut uow, query(None, Some(1999), true, 20)).await,
        vec![
            (ItemKind::Movie, the.clone(), Some(1999)),
            (ItemKind::Show, series.clone(), None),
        ],
        "the year narrows movies only"
    );
    assert_eq!(
        found(&mut uow, query(Some(ItemKind::Show), None, false, 20)).await,
        vec![(ItemKind::Show, series.clone(), None)]
    );
    assert_eq!(
        found(&mut uow, query(None, None, false, 2)).await.len(),
        2,
        "the limit"
    );
    let hit = uow
        .search_titles(&query(Some(ItemKind::Movie), Some(2003), false, 20))
        .await
        .expect("search");
    assert_eq!(
        hit.iter().map(|h| h.id).collect::<Vec<_>>(),
        vec![sequel.id.as_uuid()]
    );
    drop(uow);

    // Renamed: found by the new title only. Bulk-written rows are searchable too.
    remake.title = title(&format!("{word} Resurrections"));
    let row = ShowRow {
        id: ShowId::from(new_id()),
        title: title(&format!("{word} Matrix!")),
        status: ShowStatus::Returning,
        genres: Vec::new(),
        external_ids: ExternalIds::new(),
    };
    let mut uow = store.begin().await.expect("begin");
    uow.upsert_movie(&remake).await.expect("renamed");
    uow.write_catalog_rows(&CatalogRows {
        shows: vec![row.clone()],
        ..CatalogRows::default()
    })
    .await
    .expect("bulk");
    uow.commit().await.expect("commit");
    let mut uow = store.begin_read().await.expect("begin");
    let titles: Vec<String> = uow
        .search_titles(&query(None, None, true, 20))
        .await
        .expect("search")
        .into_iter()
        .map(|h| h.title)
        .collect();
    assert_eq!(titles, vec![the, series, format!("{word} Matrix!")]);
    let renamed = uow
        .search_titles(&TitleQuery {
            key: title_key(&format!("{word} resurrections")),
            kind: None,
            year: None,
            exact: true,
            limit: 5,
        })
        .await
        .expect("search");
    assert_eq!(
        renamed.iter().map(|h| h.id).collect::<Vec<_>>(),
        vec![remake.id.as_uuid()]
    );
    drop(uow);

    // A database written before title keys existed gets them when it is opened.
    store.forget_title_keys_and_migrate().await;
    let mut uow = store.begin_read().await.expect("begin");
    assert_eq!(found(&mut uow, query(None, None, true, 20)).await.len(), 3);
}

async fn found<U: CatalogRepository>(
    uow: &mut U,
    q: viewing_domain::search::TitleQuery,
) -> Vec<(ItemKind, String, Option<i32>)> {
    uow.search_titles(&q)
        .await
        .expect("search")
        .into_iter()
        .map(|h| (h.kind, h.title, h.year))
        .collect()
}
