//! Catalog upserts and reads. Content must exist here before viewing can be recorded.

use viewing_domain::metadata::{Fetched, Wanted, refresh_movie, refresh_show};
use viewing_domain::ports::{CatalogRepository, Store, Transaction};
use viewing_domain::search::{TitleHit, TitleQuery, title_key};
use viewing_domain::{ExternalHit, ItemKind, Movie, MovieId, Provider, SeasonId, Show, ShowId};

use crate::catalog_file::Catalog;
use crate::error::{AppError, AppResult};
use crate::service::ViewingService;

impl<S: Store> ViewingService<S> {
    /// Creates or replaces a movie.
    #[tracing::instrument(level = "debug", skip_all, fields(movie = %movie.id))]
    pub async fn upsert_movie(&self, movie: Movie) -> AppResult<Movie> {
        let mut uow = self.store.begin().await?;
        uow.upsert_movie(&movie).await?;
        let version = uow.catalog_version().await?;
        uow.commit().await?;
        self.catalog.changed(version);
        Ok(movie)
    }

    /// Creates or replaces a show with its whole tree of seasons and episodes.
    #[tracing::instrument(level = "debug", skip_all, fields(show = %show.id))]
    pub async fn upsert_show(&self, show: Show) -> AppResult<Show> {
        let mut uow = self.store.begin().await?;
        uow.upsert_show(&show).await?;
        let version = uow.catalog_version().await?;
        uow.commit().await?;
        self.catalog.changed(version);
        Ok(show)
    }

    /// Writes a parsed [catalog file](crate::catalog_file) in one unit of work: every movie and
    /// show is created or replaced, or, if the store fails, none is. Answers how many of each
    /// were written.
    pub async fn import_catalog(&self, catalog: Catalog) -> AppResult<ImportedCatalog> {
        let mut uow = self.store.begin().await?;
        for movie in &catalog.movies {
            uow.upsert_movie(movie).await?;
        }
        for show in &catalog.shows {
            uow.upsert_show(show).await?;
        }
        let version = uow.catalog_version().await?;
        uow.commit().await?;
        self.catalog.changed(version);
        Ok(ImportedCatalog {
            movies: catalog.movies.len(),
            shows: catalog.shows.len(),
        })
    }

    /// A movie by id; [`AppError::ContentNotFound`] when the catalog has none.
    #[tracing::instrument(level = "debug", skip_all, fields(movie = %id))]
    pub async fn movie(&self, id: MovieId) -> AppResult<Movie> {
        let mut uow = self.store.begin_read().await?;
        let movie = self.catalog.movie(&mut uow, id).await?;
        movie
            .map(|m| Movie::clone(&m))
            .ok_or(AppError::ContentNotFound)
    }

    /// A show with its whole tree; [`AppError::ContentNotFound`] when the catalog has none.
    #[tracing::instrument(level = "debug", skip_all, fields(show = %id))]
    pub async fn show(&self, id: ShowId) -> AppResult<Show> {
        let mut uow = self.store.begin_read().await?;
        let show = self.catalog.show(&mut uow, id).await?;
        show.map(|s| Show::clone(&s))
            .ok_or(AppError::ContentNotFound)
    }
}

/// What `GET /api/catalog/lookup` asks (SPEC §10).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LookupQuery {
    /// The item that holds `provider`'s id `value`.
    Id {
        /// Whose id.
        provider: Provider,
        /// The id, of the provider's shape.
        value: String,
        /// Only an item of this kind; `None`: a movie before a show, a show before a season, a
        /// season before an episode. A metadata provider that numbers movies and shows apart
        /// (TMDB) can only fill a lookup by its own id when this is given.
        kind: Option<ItemKind>,
    },
    /// The episode with these numbers of the show that holds `provider`'s id `show`.
    Episode {
        /// Whose id the show's is.
        provider: Provider,
        /// The show's id at the provider.
        show: String,
        /// The season number.
        season: u32,
        /// The episode number.
        episode: u32,
    },
}

/// What an external id names in the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupResult {
    /// Movie, show, season or episode.
    pub kind: ItemKind,
    /// Its id.
    pub id: uuid::Uuid,
    /// Its title (a season's is its show's).
    pub title: String,
    /// The show of a season or an episode.
    pub show_id: Option<ShowId>,
    /// The season number of a season or an episode.
    pub season_number: Option<u32>,
    /// The episode number of an episode.
    pub episode_number: Option<u32>,
}

/// What an import row or a player's event names, matched against the catalog (SPEC §12, §13,
/// §16): found, or unmatched with a reason the row or delivery keeps, so it can be replayed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Match {
    /// The catalog holds it (perhaps just filled from the metadata provider).
    Found(LookupResult),
    /// Nothing to record it against.
    Unmatched(Unmatched),
}

/// Why a [`Match`] found nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unmatched {
    /// Neither the catalog nor the metadata provider (when there is one) knows it.
    NotFound,
    /// The metadata provider could not be asked; the message says why. Replay later.
    ProviderUnavailable(String),
}

impl Unmatched {
    /// The reason as rows and deliveries give it: `not in the catalog` or `metadata provider
    /// unavailable`.
    pub fn reason(&self) -> &'static str {
        match self {
            Unmatched::NotFound => "not in the catalog",
            Unmatched::ProviderUnavailable(_) => "metadata provider unavailable",
        }
    }
}

/// The most hits a title search gives (SPEC §10).
pub const SEARCH_LIMIT: u32 = 20;

impl<S: Store> ViewingService<S> {
    /// `GET /api/catalog/search` (SPEC §10): up to [`SEARCH_LIMIT`] movies and shows whose
    /// title starts with `text` — case, accents, punctuation and a leading article ignored —
    /// those whose whole title it is first; `year` narrows movies by release year.
    ///
    /// # Errors
    /// [`AppError::Malformed`] for a text without a letter or digit.
    #[tracing::instrument(level = "debug", skip(self))]
    pub async fn search_titles(
        &self,
        text: &str,
        kind: Option<ItemKind>,
        year: Option<i32>,
    ) -> AppResult<Vec<TitleHit>> {
        let key = title_key(text);
        if key.is_empty() {
            return Err(AppError::Malformed(
                "q: give a title (a letter or a digit at least)".to_owned(),
            ));
        }
        let mut uow = self.store.begin_read().await?;
        Ok(uow
            .search_titles(&TitleQuery {
                key,
                kind,
                year,
                exact: false,
                limit: SEARCH_LIMIT,
            })
            .await?)
    }

    /// [`Self::lookup`] for a caller that must go on when nothing is found — an import row, a
    /// webhook delivery: "not found" and an unreachable metadata provider are a
    /// [`Match::Unmatched`] with its reason, not an error. A store that fails is still one.
    pub async fn match_external(&self, query: &LookupQuery) -> AppResult<Match> {
        match self.lookup(query).await {
            Ok(found) => Ok(Match::Found(found)),
            Err(AppError::ContentNotFound) => Ok(Match::Unmatched(Unmatched::NotFound)),
            Err(AppError::MetadataUnavailable(why)) => {
                Ok(Match::Unmatched(Unmatched::ProviderUnavailable(why)))
            }
            Err(e) => Err(e),
        }
    }

    /// `GET /api/catalog/lookup` (SPEC §10): the catalog item an external id names — a movie
    /// before a show, a show before a season, a season before an episode when one id is held
    /// by several kinds — or an episode by its show's external id and its numbers.
    /// [`AppError::ContentNotFound`] when nothing holds it.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn lookup(&self, query: &LookupQuery) -> AppResult<LookupResult> {
        match query {
            LookupQuery::Id {
                provider,
                value,
                kind,
            } => {
                let of_kind = |h: &ExternalHit| kind.is_none_or(|k| h.kind == k);
                let (mut uow, hits) = self
                    .find_or_fill(*provider, value, *kind, |hits| hits.iter().any(of_kind))
                    .await?;
                let hit = hits
                    .iter()
                    .find(|h| of_kind(h))
                    .ok_or(AppError::ContentNotFound)?;
                self.describe(&mut uow, hit).await
            }
            LookupQuery::Episode {
                provider,
                show,
                season,
                episode,
            } => {
                let (mut uow, hits) = self
                    .find_or_fill(*provider, show, Some(ItemKind::Show), |hits| {
                        hits.iter().any(|h| h.kind == ItemKind::Show)
                    })
                    .await?;
                let show_id = hits
                    .iter()
                    .find(|h| h.kind == ItemKind::Show)
                    .map(|h| ShowId::from(h.id))
                    .ok_or(AppError::ContentNotFound)?;
                let show = self
                    .catalog
                    .show(&mut uow, show_id)
                    .await?
                    .ok_or(AppError::ContentNotFound)?;
                let e = show
                    .season(*season)
                    .and_then(|s| s.episodes.iter().find(|e| e.number == *episode))
                    .ok_or(AppError::ContentNotFound)?;
                Ok(LookupResult {
                    kind: ItemKind::Episode,
                    id: e.id.as_uuid(),
                    title: e.title.as_str().to_owned(),
                    show_id: Some(show.id),
                    season_number: Some(*season),
                    episode_number: Some(e.number),
                })
            }
        }
    }

    /// What holds `provider`'s id `value`, with the read unit of work it was found in. When
    /// `found` says the hits are not what the caller needs and there is a metadata provider,
    /// the item is fetched and stored first ([`Self::fill`]), then read again.
    async fn find_or_fill(
        &self,
        provider: Provider,
        value: &str,
        kind: Option<ItemKind>,
        found: impl Fn(&[ExternalHit]) -> bool,
    ) -> AppResult<(S::Uow, Vec<ExternalHit>)> {
        let mut uow = self.store.begin_read().await?;
        let hits = uow.find_by_external_id(provider, value).await?;
        if found(&hits) || self.metadata.is_none() {
            return Ok((uow, hits));
        }
        // The fill writes in a unit of work of its own: end this one first (a store may
        // serialise them), and read again after it, when the fill has committed.
        drop(uow);
        let filled = self.fill(provider, value, kind).await?;
        let mut uow = self.store.begin_read().await?;
        let hits = if filled {
            uow.find_by_external_id(provider, value).await?
        } else {
            hits
        };
        Ok((uow, hits))
    }

    /// Fetches what `provider`'s id `value` names from the metadata provider, when there is
    /// one, and stores it. `false` when there is none or it knows nothing by that id; an
    /// unreachable provider is [`AppError::MetadataUnavailable`] ("metadata provider
    /// unavailable: …"). An item the catalog already holds under another of its ids (loaded
    /// from IMDb, say) is refreshed in place and gains the provider's ids, never stored twice;
    /// a fetched tree that conflicts with the catalog leaves it as it was.
    async fn fill(
        &self,
        provider: Provider,
        value: &str,
        kind: Option<ItemKind>,
    ) -> AppResult<bool> {
        let Some(metadata) = &self.metadata else {
            return Ok(false);
        };
        let fetched = metadata
            .fetch(Wanted {
                provider,
                value,
                kind,
                fresh: false,
            })
            .await
            .map_err(|e| AppError::MetadataUnavailable(e.to_string()))?;
        let Some(fetched) = fetched else {
            return Ok(false);
        };
        match self.store_fetched(fetched, None).await {
            Ok(_) => Ok(true),
            Err(AppError::Conflict(_) | AppError::Invalid(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// `PUT /api/catalog/refresh/{kind}/{id}` (SPEC §16, admin): fetches the movie or show
    /// again from the metadata provider, past its cache, by its TMDB id, else its IMDb id,
    /// else its TheTVDB id, and lays the answer over it ([`refresh_movie`], [`refresh_show`]):
    /// our ids stay, new episodes arrive, watched ones never leave.
    ///
    /// # Errors
    /// [`AppError::ContentNotFound`] for an item the catalog lacks; [`AppError::Malformed`] for
    /// a kind other than movie or show; [`AppError::MetadataUnavailable`] without a provider
    /// or when it cannot be reached; [`AppError::Conflict`] when the item has no id the
    /// provider knows, the provider knows nothing by it or calls it another kind, or the new
    /// tree clashes with the catalog.
    #[tracing::instrument(level = "debug", skip(self))]
    pub async fn refresh(&self, kind: ItemKind, id: uuid::Uuid) -> AppResult<Fetched> {
        let ids = match kind {
            ItemKind::Movie => self.movie(MovieId::from(id)).await?.external_ids,
            ItemKind::Show => self.show(ShowId::from(id)).await?.external_ids,
            ItemKind::Season | ItemKind::Episode => {
                return Err(AppError::Malformed(
                    "kind: movie or show (a season or an episode is refreshed with its show)"
                        .to_owned(),
                ));
            }
        };
        let Some(metadata) = &self.metadata else {
            return Err(AppError::MetadataUnavailable(
                "metadata provider unavailable: none is configured".to_owned(),
            ));
        };
        let (provider, value) = [Provider::Tmdb, Provider::Imdb, Provider::Tvdb]
            .into_iter()
            .find_map(|p| ids.get(p).map(|v| (p, v.to_owned())))
            .ok_or_else(|| {
                AppError::Conflict(format!(
                    "this {} has no tmdb, imdb or tvdb id to refresh it by",
                    kind.as_str()
                ))
            })?;
        let fetched = metadata
            .fetch(Wanted {
                provider,
                value: &value,
                kind: Some(kind),
                fresh: true,
            })
            .await
            .map_err(|e| AppError::MetadataUnavailable(e.to_string()))?
            .ok_or_else(|| {
                AppError::Conflict(format!(
                    "the metadata provider knows no {} by {provider} {value}",
                    kind.as_str()
                ))
            })?;
        if fetched.kind() != kind {
            return Err(AppError::Conflict(format!(
                "the metadata provider's {provider} {value} is a {}, not a {}",
                fetched.kind().as_str(),
                kind.as_str()
            )));
        }
        self.store_fetched(fetched, Some(id)).await
    }

    /// Stores what a provider answered, laid over the item the catalog holds for it: `holder`,
    /// else the item of its kind that holds one of its external ids, else none (stored as
    /// fetched).
    async fn store_fetched(
        &self,
        fetched: Fetched,
        holder: Option<uuid::Uuid>,
    ) -> AppResult<Fetched> {
        let holder = match holder {
            Some(id) => Some(id),
            None => {
                let mut uow = self.store.begin_read().await?;
                let mut found = None;
                for (p, v) in fetched.external_ids().iter() {
                    let hits = uow.find_by_external_id(p, v).await?;
                    if let Some(h) = hits.iter().find(|h| h.kind == fetched.kind()) {
                        found = Some(h.id);
                        break;
                    }
                }
                found
            }
        };
        match fetched {
            Fetched::Movie(m) => {
                let m = match holder {
                    Some(id) => refresh_movie(&self.movie(MovieId::from(id)).await?, m),
                    None => m,
                };
                self.upsert_movie(m).await.map(Fetched::Movie)
            }
            Fetched::Show(s) => {
                let s = match holder {
                    Some(id) => refresh_show(&self.show(ShowId::from(id)).await?, s)?,
                    None => s,
                };
                self.upsert_show(s).await.map(Fetched::Show)
            }
        }
    }

    async fn describe(&self, uow: &mut S::Uow, hit: &ExternalHit) -> AppResult<LookupResult> {
        let found = |kind, id, title: &str| LookupResult {
            kind,
            id,
            title: title.to_owned(),
            show_id: None,
            season_number: None,
            episode_number: None,
        };
        match (hit.kind, hit.show_id) {
            (ItemKind::Movie, _) => {
                let m = self
                    .catalog
                    .movie(uow, MovieId::from(hit.id))
                    .await?
                    .ok_or(AppError::ContentNotFound)?;
                Ok(found(ItemKind::Movie, hit.id, m.title.as_str()))
            }
            (ItemKind::Show, _) => {
                let s = self
                    .catalog
                    .show(uow, ShowId::from(hit.id))
                    .await?
                    .ok_or(AppError::ContentNotFound)?;
                Ok(found(ItemKind::Show, hit.id, s.title.as_str()))
            }
            (kind, Some(show_id)) => {
                let s = self
                    .catalog
                    .show(uow, show_id)
                    .await?
                    .ok_or(AppError::ContentNotFound)?;
                let mut out = found(kind, hit.id, s.title.as_str());
                out.show_id = Some(show_id);
                if kind == ItemKind::Season {
                    let season = s
                        .seasons()
                        .iter()
                        .find(|x| x.id == SeasonId::from(hit.id))
                        .ok_or(AppError::ContentNotFound)?;
                    out.season_number = Some(season.number);
                } else {
                    let e = s
                        .episode(viewing_domain::EpisodeId::from(hit.id))
                        .ok_or(AppError::ContentNotFound)?;
                    out.title = e.episode.title.as_str().to_owned();
                    out.season_number = Some(e.season.number);
                    out.episode_number = Some(e.episode.number);
                }
                Ok(out)
            }
            (_, None) => Err(AppError::ContentNotFound),
        }
    }
}

/// What [`ViewingService::import_catalog`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportedCatalog {
    /// Movies created or replaced.
    pub movies: usize,
    /// Shows created or replaced, each with its whole tree.
    pub shows: usize,
}
