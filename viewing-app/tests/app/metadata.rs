//! On-demand fill and refresh (SPEC §16), through the real TMDB client against the local fake
//! that serves TMDB's response shapes (`adapters_tmdb::fake`):
//! - a lookup of an id the catalog lacks asks TMDB, stores what it answers, and answers from
//!   the catalog; one TMDB does not know stays a 404; an unreachable TMDB is
//!   `MetadataUnavailable` ("metadata provider unavailable"); without a provider nothing is
//!   called;
//! - an item the catalog already holds under another id (an IMDb load) is refreshed in place
//!   and gains TMDB's ids, never stored twice;
//! - a refresh lays TMDB's new answer over the stored item: our ids stay, new episodes
//!   arrive, episodes TMDB no longer lists stay.

use std::sync::Arc;
use std::time::Duration;

use adapters_memory::MemoryStore;
use adapters_tmdb::fake::{FakeTmdb, TOKEN};
use adapters_tmdb::{TmdbClient, TmdbConfig, TmdbKind, tmdb_uuid};
use viewing_app::catalog::{LookupQuery, LookupResult, Match, Unmatched};
use viewing_app::{AppError, ViewingService};
use viewing_domain::metadata::Fetched;
use viewing_domain::values::{Minutes, Title};
use viewing_domain::{
    Episode, EpisodeId, ExternalIds, ItemKind, MovieId, Provider, Season, SeasonId, Show, ShowId,
    ShowStatus,
};

fn tmdb(fake: &FakeTmdb) -> Arc<TmdbClient> {
    let config = TmdbConfig {
        first_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
        ..TmdbConfig::new(fake.url(), TOKEN)
    };
    Arc::new(TmdbClient::new(config).expect("a client"))
}

async fn service(fake: &FakeTmdb) -> ViewingService<MemoryStore> {
    ViewingService::new(MemoryStore::new()).with_metadata(tmdb(fake))
}

fn by_id(provider: Provider, value: &str, kind: Option<ItemKind>) -> LookupQuery {
    LookupQuery::Id {
        provider,
        value: value.to_owned(),
        kind,
    }
}

fn ids(pairs: &[(Provider, &str)]) -> ExternalIds {
    let mut out = ExternalIds::new();
    for (p, v) in pairs {
        out.insert(*p, v).expect("an id of its shape");
    }
    out
}

#[tokio::test]
async fn a_missing_item_is_fetched_stored_and_found() {
    let fake = FakeTmdb::start().await.expect("fake");
    let svc = service(&fake).await;

    let found = svc
        .lookup(&by_id(Provider::Imdb, "tt0133093", None))
        .await
        .expect("fetched");
    assert_eq!(
        (found.kind, found.title.as_str()),
        (ItemKind::Movie, "The Matrix")
    );
    let calls = fake.calls();
    // Stored: found again, and by its TMDB id, without asking TMDB.
    let again = svc
        .lookup(&by_id(Provider::Tmdb, "603", Some(ItemKind::Movie)))
        .await
        .expect("stored");
    assert_eq!(again.id, found.id);
    assert_eq!(fake.calls(), calls);
    // No show holds TMDB's 603.
    let show_603 = svc
        .lookup(&by_id(Provider::Tmdb, "603", Some(ItemKind::Show)))
        .await;
    assert!(
        matches!(show_603, Err(AppError::ContentNotFound)),
        "{show_603:?}"
    );

    // An episode by its show's TheTVDB id and numbers fetches the show.
    let episode: LookupResult = svc
        .lookup(&LookupQuery::Episode {
            provider: Provider::Tvdb,
            show: "334824".to_owned(),
            season: 1,
            episode: 2,
        })
        .await
        .expect("the show fetched");
    assert_eq!(
        (episode.kind, episode.title.as_str(), episode.episode_number),
        (ItemKind::Episode, "Lies", Some(2))
    );
    let show = svc
        .show(ShowId::from(tmdb_uuid(TmdbKind::Tv, 70523)))
        .await
        .expect("stored with TMDB's derived id");
    assert_eq!(show.seasons().len(), 2, "specials and season 1");

    // Unknown to TMDB: 404.
    let unknown = svc.lookup(&by_id(Provider::Imdb, "tt0000001", None)).await;
    assert!(
        matches!(unknown, Err(AppError::ContentNotFound)),
        "{unknown:?}"
    );
}

#[tokio::test]
async fn an_unreachable_provider_is_unavailable_and_without_one_nothing_is_called() {
    let fake = FakeTmdb::start().await.expect("fake");
    let svc = service(&fake).await;
    fake.fail_next(usize::MAX);
    let r = svc.lookup(&by_id(Provider::Imdb, "tt0133093", None)).await;
    match r {
        Err(AppError::MetadataUnavailable(e)) => {
            assert!(e.contains("metadata provider unavailable"), "{e}")
        }
        other => panic!("{other:?}"),
    }
    // An import row or a delivery goes on: unmatched, with the reason it keeps.
    let row = svc
        .match_external(&by_id(Provider::Imdb, "tt0133093", None))
        .await
        .expect("no error");
    match &row {
        Match::Unmatched(u @ Unmatched::ProviderUnavailable(_)) => {
            assert_eq!(u.reason(), "metadata provider unavailable")
        }
        other => panic!("{other:?}"),
    }
    fake.fail_next(0);
    // Replayed once TMDB is back: matched.
    let replayed = svc
        .match_external(&by_id(Provider::Imdb, "tt0133093", None))
        .await
        .expect("no error");
    assert!(
        matches!(&replayed, Match::Found(f) if f.title == "The Matrix"),
        "{replayed:?}"
    );
    let unknown = svc
        .match_external(&by_id(Provider::Imdb, "tt0000001", None))
        .await
        .expect("no error");
    assert_eq!(unknown, Match::Unmatched(Unmatched::NotFound));
    assert_eq!(Unmatched::NotFound.reason(), "not in the catalog");

    let offline = ViewingService::new(MemoryStore::new());
    let calls = fake.calls();
    let r = offline
        .lookup(&by_id(Provider::Imdb, "tt0133093", None))
        .await;
    assert!(matches!(r, Err(AppError::ContentNotFound)), "{r:?}");
    let r = offline.refresh(ItemKind::Movie, uuid::Uuid::now_v7()).await;
    assert!(matches!(r, Err(AppError::ContentNotFound)), "{r:?}");
    assert_eq!(fake.calls(), calls);
}

#[tokio::test]
async fn an_item_held_under_another_id_gains_tmdbs_ids_in_place() {
    let fake = FakeTmdb::start().await.expect("fake");
    let svc = service(&fake).await;
    // The catalog holds The Matrix by its IMDb id only, under an id of its own (an IMDb load).
    let mut loaded =
        adapters_tmdb::movie(FakeTmdb::fixture("/movie/603").expect("fixture")).expect("movie");
    loaded.id = MovieId::from(uuid::Uuid::now_v7());
    loaded.title = Title::parse("Matrix").ok().flatten().expect("title");
    loaded.external_ids = ids(&[(Provider::Imdb, "tt0133093")]);
    svc.upsert_movie(loaded.clone()).await.expect("loaded");

    // Found by its IMDb id without a call.
    let found = svc
        .lookup(&by_id(Provider::Imdb, "tt0133093", None))
        .await
        .expect("held");
    assert_eq!(found.id, loaded.id.as_uuid());
    assert_eq!(fake.calls(), 0);

    // By TMDB's id: fetched, laid over the held movie, which keeps its id.
    let by_tmdb = svc
        .lookup(&by_id(Provider::Tmdb, "603", Some(ItemKind::Movie)))
        .await
        .expect("filled");
    assert_eq!(by_tmdb.id, loaded.id.as_uuid());
    let stored = svc.movie(loaded.id).await.expect("stored");
    assert_eq!(stored.title.as_str(), "The Matrix");
    assert_eq!(
        stored.external_ids,
        ids(&[(Provider::Tmdb, "603"), (Provider::Imdb, "tt0133093")])
    );
    let twin = svc
        .movie(MovieId::from(tmdb_uuid(TmdbKind::Movie, 603)))
        .await;
    assert!(
        matches!(twin, Err(AppError::ContentNotFound)),
        "not stored twice"
    );
}

fn hand_made_dark(ext: ExternalIds) -> Show {
    let episode = |n: u32, name: &str| Episode {
        id: EpisodeId::from(uuid::Uuid::now_v7()),
        number: n,
        title: Title::parse(name).ok().flatten().expect("title"),
        runtime: Minutes::new("runtime", 50).expect("minutes"),
        air_date: None,
        external_ids: ExternalIds::new(),
    };
    let mut show = Show::new(
        ShowId::from(uuid::Uuid::now_v7()),
        Title::parse("Dark").ok().flatten().expect("title"),
        ShowStatus::Returning,
        Vec::new(),
        vec![Season {
            id: SeasonId::from(uuid::Uuid::now_v7()),
            number: 1,
            episodes: vec![
                episode(1, "Episode 1"),
                episode(9, "Watched, gone from TMDB"),
            ],
            external_ids: ExternalIds::new(),
        }],
    )
    .expect("a show");
    show.external_ids = ext;
    show
}

#[tokio::test]
async fn a_refresh_brings_new_episodes_and_keeps_ours() {
    let fake = FakeTmdb::start().await.expect("fake");
    let svc = service(&fake).await;
    // Loaded from IMDb: only IMDb's id, our own ids.
    let dark = hand_made_dark(ids(&[(Provider::Imdb, "tt5753856")]));
    svc.upsert_show(dark.clone()).await.expect("stored");

    let Fetched::Show(refreshed) = svc
        .refresh(ItemKind::Show, dark.id.as_uuid())
        .await
        .expect("refreshed")
    else {
        panic!("a show");
    };
    assert_eq!(refreshed.id, dark.id);
    assert_eq!(refreshed.status, ShowStatus::Ended);
    assert_eq!(refreshed.external_ids.get(Provider::Tmdb), Some("70523"));
    let ours = dark.season(1).expect("season 1");
    let season = refreshed.season(1).expect("season 1");
    assert_eq!(season.id, ours.id);
    let numbers: Vec<(u32, &str)> = season
        .episodes
        .iter()
        .map(|e| (e.number, e.title.as_str()))
        .collect();
    assert_eq!(
        numbers,
        [(1, "Secrets"), (2, "Lies"), (9, "Watched, gone from TMDB")]
    );
    assert_eq!(season.episodes[0].id, ours.episodes[0].id);
    assert_eq!(season.episodes[2].id, ours.episodes[1].id);
    assert_eq!(svc.show(dark.id).await.expect("stored"), refreshed);

    // TMDB announces episode 3: the refresh asks TMDB itself, past what it kept.
    let season_1 = FakeTmdb::fixture("/tv/70523/season/1")
        .expect("fixture")
        .replace(
            r#""air_date": null, "episode_number": 3"#,
            r#""air_date": "2017-12-01", "episode_number": 3"#,
        );
    fake.replace("/tv/70523/season/1", season_1);
    let Fetched::Show(again) = svc
        .refresh(ItemKind::Show, dark.id.as_uuid())
        .await
        .expect("refreshed")
    else {
        panic!("a show");
    };
    let season = again.season(1).expect("season 1");
    assert_eq!(season.episodes.len(), 4, "{:?}", season.episodes);
    assert_eq!(season.episodes[2].title.as_str(), "Episode 3");
    assert_eq!(season.episodes[0].id, ours.episodes[0].id);
}

#[tokio::test]
async fn a_refresh_says_why_it_cannot_be_done() {
    let fake = FakeTmdb::start().await.expect("fake");
    let svc = service(&fake).await;

    // Not in the catalog.
    let r = svc.refresh(ItemKind::Show, uuid::Uuid::now_v7()).await;
    assert!(matches!(r, Err(AppError::ContentNotFound)), "{r:?}");
    // Seasons and episodes are refreshed with their show.
    let r = svc.refresh(ItemKind::Episode, uuid::Uuid::now_v7()).await;
    assert!(matches!(r, Err(AppError::Malformed(_))), "{r:?}");

    // No id TMDB knows.
    let plain = hand_made_dark(ids(&[(Provider::Trakt, "1")]));
    svc.upsert_show(plain.clone()).await.expect("stored");
    let r = svc.refresh(ItemKind::Show, plain.id.as_uuid()).await;
    assert!(
        matches!(&r, Err(AppError::Conflict(m)) if m.contains("no tmdb, imdb or tvdb id")),
        "{r:?}"
    );

    // An id TMDB does not know.
    let unknown = hand_made_dark(ids(&[(Provider::Tmdb, "999999")]));
    svc.upsert_show(unknown.clone()).await.expect("stored");
    let r = svc.refresh(ItemKind::Show, unknown.id.as_uuid()).await;
    assert!(
        matches!(&r, Err(AppError::Conflict(m)) if m.contains("knows no show by tmdb 999999")),
        "{r:?}"
    );

    // An IMDb id TMDB says is a movie.
    let odd = hand_made_dark(ids(&[(Provider::Imdb, "tt0133093")]));
    svc.upsert_show(odd.clone()).await.expect("stored");
    let r = svc.refresh(ItemKind::Show, odd.id.as_uuid()).await;
    assert!(
        matches!(&r, Err(AppError::Conflict(m)) if m.contains("is a movie, not a show")),
        "{r:?}"
    );

    // TMDB down: unavailable, the show as it was.
    fake.fail_next(usize::MAX);
    let r = svc.refresh(ItemKind::Show, unknown.id.as_uuid()).await;
    assert!(matches!(r, Err(AppError::MetadataUnavailable(_))), "{r:?}");
    assert_eq!(svc.show(unknown.id).await.expect("kept"), unknown);
}

/// SPEC §16 for the other two ways in: an import row and a player's report that name an id the
/// catalog lacks fetch the item and go on; with TMDB down the rows are `unmatched` with the
/// reason, nothing is recorded, and the same file imported once TMDB is back records them.
#[tokio::test]
async fn imports_and_players_fill_what_the_catalog_lacks() {
    use viewing_app::imports::ImportRequest;
    use viewing_app::playback::{PlaybackReport, PlaybackTarget, Stopped};
    use viewing_domain::imports::{ImportSource, MatchedBy, RowOutcome};
    use viewing_domain::values::Percent;
    use viewing_domain::{Origin, UserId};

    let fake = FakeTmdb::start().await.expect("fake");
    let svc = service(&fake).await;
    let user = UserId::from(uuid::Uuid::now_v7());
    // Trakt's export: a movie by its IMDb id, an episode by its show's TheTVDB id and numbers.
    let history = serde_json::json!([
        {"id": 1, "watched_at": "2024-01-05T20:00:00.000Z", "action": "watch", "type": "movie",
         "movie": {"title": "The Matrix", "year": 1999, "ids": {"imdb": "tt0133093"}}},
        {"id": 2, "watched_at": "2024-01-06T20:00:00.000Z", "action": "watch", "type": "episode",
         "episode": {"season": 1, "number": 1, "ids": {}},
         "show": {"title": "Dark", "year": 2017, "ids": {"tvdb": 334824}}},
    ]);
    let request = || ImportRequest {
        source: ImportSource::Trakt,
        dry_run: false,
        upload: serde_json::to_vec(&history).expect("json"),
        progress: None,
        profile: None,
    };

    fake.fail_next(usize::MAX);
    let down = svc.import_history(user, request()).await.expect("imported");
    assert_eq!(
        (down.summary.imported, down.summary.unmatched),
        (0, 2),
        "{:?}",
        down.summary
    );
    let rows = svc
        .import_items(user, down.id, None, 0, 10)
        .await
        .expect("rows");
    for row in &rows {
        assert_eq!(row.outcome, RowOutcome::Unmatched, "{row:?}");
        assert_eq!(row.reason.as_deref(), Some("metadata provider unavailable"));
    }

    fake.fail_next(0);
    let up = svc.import_history(user, request()).await.expect("imported");
    assert_eq!(up.summary.imported, 2, "{:?}", up.summary);
    let rows = svc
        .import_items(user, up.id, None, 0, 10)
        .await
        .expect("rows");
    let matched: Vec<Option<MatchedBy>> = rows.iter().map(|r| r.matched_by).collect();
    assert_eq!(
        matched,
        vec![Some(MatchedBy::ExternalId), Some(MatchedBy::Coordinates)]
    );
    let dark = ShowId::from(tmdb_uuid(TmdbKind::Tv, 70523));
    let progress = svc.progress(user, dark).await.expect("progress");
    assert_eq!(progress.episodes_watched, 1);

    // A player names an episode of a show the catalog lacks by the show's ids and numbers.
    let player = ViewingService::new(MemoryStore::new()).with_metadata(tmdb(&fake));
    let stop = |progress: f64| PlaybackReport {
        target: PlaybackTarget::Episode {
            show: ids(&[(Provider::Tvdb, "334824")]),
            season: 1,
            episode: 2,
        },
        progress: Percent::new("progress", progress).expect("a percent"),
        at: None,
    };
    fake.fail_next(usize::MAX);
    let r = player.playback_stop(user, stop(95.0)).await;
    assert!(matches!(&r, Err(AppError::MetadataUnavailable(_))), "{r:?}");
    fake.fail_next(0);
    match player
        .playback_stop(user, stop(95.0))
        .await
        .expect("stopped")
    {
        Stopped::Scrobbled(record) => {
            assert_eq!(record.origin, Origin::Playback);
            assert_eq!(
                player
                    .show(dark)
                    .await
                    .expect("stored")
                    .episodes()
                    .find(|e| e.episode.id.as_uuid() == record.watched.content_id())
                    .map(|e| (e.season.number, e.episode.number)),
                Some((1, 2))
            );
        }
        other => panic!("{other:?}"),
    }
}
