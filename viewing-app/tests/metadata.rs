//! On-demand fill (SPEC §16): a lookup of an id the catalog lacks asks the metadata provider,
//! stores what it answers, and answers from the catalog; a provider that knows nothing leaves
//! a 404, one that cannot be reached is `Unavailable` ("metadata provider unavailable"), and
//! an item the catalog already holds under another id is not stored twice.
//!
//! The provider here answers with TMDB's responses (the fixtures of `adapters-tmdb`) through
//! that crate's mapping; only the transport is left out.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use adapters_memory::MemoryStore;
use async_trait::async_trait;
use viewing_app::catalog::{LookupQuery, LookupResult};
use viewing_app::{AppError, ViewingService};
use viewing_domain::metadata::{Fetched, MetadataError, MetadataProvider};
use viewing_domain::{ExternalIds, ItemKind, Provider};

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/../adapters-tmdb/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Answers The Matrix by its IMDb id and Dark by its TheTVDB id; counts its calls.
#[derive(Default)]
struct Tmdb {
    calls: AtomicUsize,
    down: bool,
}

#[async_trait]
impl MetadataProvider for Tmdb {
    async fn fetch(
        &self,
        provider: Provider,
        value: &str,
    ) -> Result<Option<Fetched>, MetadataError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.down {
            return Err(MetadataError::Unavailable("connection refused".into()));
        }
        match (provider, value) {
            (Provider::Imdb, "tt0133093") => {
                mapped(adapters_tmdb::movie(&fixture("movie_603.json")))
                    .map(|m| Some(Fetched::Movie(m)))
            }
            (Provider::Tvdb, "334824") => mapped(adapters_tmdb::show(
                &fixture("tv_70523.json"),
                &[&fixture("tv_70523_season_1.json")],
            ))
            .map(|s| Some(Fetched::Show(s))),
            _ => Ok(None),
        }
    }
}

fn mapped<T>(r: Result<T, adapters_tmdb::MappingError>) -> Result<T, MetadataError> {
    r.map_err(|e| MetadataError::Unavailable(e.to_string()))
}

fn by_id(provider: Provider, value: &str) -> LookupQuery {
    LookupQuery::Id {
        provider,
        value: value.to_owned(),
    }
}

#[tokio::test]
async fn a_missing_item_is_fetched_stored_and_found() {
    let tmdb = Arc::new(Tmdb::default());
    let svc = ViewingService::new(MemoryStore::new()).with_metadata(tmdb.clone());

    let found = svc
        .lookup(&by_id(Provider::Imdb, "tt0133093"))
        .await
        .expect("fetched");
    assert_eq!(
        (found.kind, found.title.as_str()),
        (ItemKind::Movie, "The Matrix")
    );
    // Stored: the next lookup, and one by its TMDB id, need no call.
    let again = svc
        .lookup(&by_id(Provider::Tmdb, "603"))
        .await
        .expect("stored");
    assert_eq!(again.id, found.id);
    assert_eq!(tmdb.calls.load(Ordering::SeqCst), 1);

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

    // Unknown to the provider: 404, asked once per lookup.
    let unknown = svc.lookup(&by_id(Provider::Imdb, "tt0000001")).await;
    assert!(
        matches!(unknown, Err(AppError::ContentNotFound)),
        "{unknown:?}"
    );
}

#[tokio::test]
async fn an_unreachable_provider_is_unavailable_and_without_one_nothing_is_called() {
    let down = ViewingService::new(MemoryStore::new()).with_metadata(Arc::new(Tmdb {
        down: true,
        ..Tmdb::default()
    }));
    let r = down.lookup(&by_id(Provider::Imdb, "tt0133093")).await;
    match r {
        Err(AppError::Unavailable(e)) => {
            assert!(
                e.to_string().contains("metadata provider unavailable"),
                "{e}"
            )
        }
        other => panic!("{other:?}"),
    }
    let offline = ViewingService::new(MemoryStore::new());
    let r = offline.lookup(&by_id(Provider::Imdb, "tt0133093")).await;
    assert!(matches!(r, Err(AppError::ContentNotFound)), "{r:?}");
}

#[tokio::test]
async fn an_item_held_under_another_id_is_not_stored_twice() {
    let tmdb = Arc::new(Tmdb::default());
    let svc = ViewingService::new(MemoryStore::new()).with_metadata(tmdb.clone());
    // The catalog already holds The Matrix by its IMDb id (an IMDb load), not by TMDB's.
    let mut loaded = adapters_tmdb::movie(&fixture("movie_603.json")).expect("movie");
    loaded.id = viewing_domain::MovieId::from(uuid::Uuid::now_v7());
    loaded.external_ids = ExternalIds::new()
        .with(Provider::Imdb, "tt0133093")
        .expect("id");
    svc.upsert_movie(loaded.clone()).await.expect("loaded");
    // Found by IMDb id without a call; the movie TMDB would give conflicts and is not stored.
    let found = svc
        .lookup(&by_id(Provider::Imdb, "tt0133093"))
        .await
        .expect("held");
    assert_eq!(found.id, loaded.id.as_uuid());
    assert_eq!(tmdb.calls.load(Ordering::SeqCst), 0);
}
