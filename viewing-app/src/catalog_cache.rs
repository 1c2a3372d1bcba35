//! The catalog cache (SPEC §14): movies and whole show trees kept in memory, so a write or a
//! handler reads no catalog rows when the catalog did not change.
//!
//! How it stays current — a version row, checked at most every [`CatalogCache::CHECK_EVERY`]:
//! - every catalog upsert raises the store's catalog version in its unit of work
//!   ([`CatalogRepository::catalog_version`]);
//! - each entry carries the version its data was read at (read *before* the data, so an entry
//!   is never newer-tagged than its data), and only entries of the newest version known are
//!   served;
//! - the process that changes the catalog tells its cache the new version right after the
//!   commit ([`CatalogCache::changed`]); other processes read the version row when their last
//!   check is older than `CHECK_EVERY` (0.5 s), so a change is seen by every replica within 1 s;
//! - a newer version drops every entry (catalog changes are rare; reads refill what is used).
//!
//! Loads run in the caller's unit of work, so a cache miss sees exactly what the caller's
//! transaction sees; data read from an older snapshot than the newest known version is handed
//! to the caller but never cached.

use std::sync::Arc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use viewing_domain::ports::{CatalogRepository, StoreResult};
use viewing_domain::{EpisodeId, Movie, MovieId, Show, ShowId};

/// What the cache holds at most, in catalog rows (a movie weighs 1, a show 1 + its episodes).
pub const DEFAULT_CAPACITY: u64 = 500_000;

#[derive(Debug)]
struct Known {
    version: i64,
    checked_at: Option<Instant>,
}

/// Movies and show trees by id, current to within [`CatalogCache::CHECK_EVERY`] of a change
/// made elsewhere and at once after a change made through this process. Cheap to share
/// (`Arc`); every method takes `&self`.
pub struct CatalogCache {
    shows: moka::sync::Cache<ShowId, (i64, Arc<Show>)>,
    episodes: moka::sync::Cache<EpisodeId, (i64, ShowId)>,
    movies: moka::sync::Cache<MovieId, (i64, Arc<Movie>)>,
    known: Mutex<Known>,
    check_every: Duration,
}

impl std::fmt::Debug for CatalogCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CatalogCache")
            .field("shows", &self.shows.entry_count())
            .field("movies", &self.movies.entry_count())
            .field("check_every", &self.check_every)
            .finish()
    }
}

impl Default for CatalogCache {
    fn default() -> Self {
        Self::new(DEFAULT_CAPACITY)
    }
}

impl CatalogCache {
    /// How stale a version check may be before the next read checks again.
    pub const CHECK_EVERY: Duration = Duration::from_millis(500);

    /// A cache holding at most about `capacity` catalog rows.
    pub fn new(capacity: u64) -> Self {
        Self {
            shows: moka::sync::Cache::builder()
                .max_capacity(capacity)
                .weigher(|_, (_, s): &(i64, Arc<Show>)| {
                    u32::try_from(s.episodes().count().saturating_add(1)).unwrap_or(u32::MAX)
                })
                .build(),
            episodes: moka::sync::Cache::builder().max_capacity(capacity).build(),
            movies: moka::sync::Cache::builder().max_capacity(capacity).build(),
            known: Mutex::new(Known {
                version: i64::MIN,
                checked_at: None,
            }),
            check_every: Self::CHECK_EVERY,
        }
    }

    /// The same cache checking the version row every `every` instead (tests).
    pub fn with_check_every(mut self, every: Duration) -> Self {
        self.check_every = every;
        self
    }

    fn known(&self) -> std::sync::MutexGuard<'_, Known> {
        self.known
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The catalog is at `version` now (read in a committed unit of work, or after a change
    /// this process committed). A newer version than known drops every entry.
    pub fn changed(&self, version: i64) {
        let newer = {
            let mut known = self.known();
            let newer = version > known.version;
            if newer {
                known.version = version;
            }
            newer
        };
        if newer {
            self.shows.invalidate_all();
            self.episodes.invalidate_all();
            self.movies.invalidate_all();
        }
    }

    /// The newest version known, after reading the version row in `uow` when the last check
    /// is older than `CHECK_EVERY`: what something computed from catalog data is valid for.
    pub async fn current<U: CatalogRepository + ?Sized>(&self, uow: &mut U) -> StoreResult<i64> {
        let due = {
            let known = self.known();
            known
                .checked_at
                .is_none_or(|t| t.elapsed() >= self.check_every)
        };
        if due {
            let version = uow.catalog_version().await?;
            self.changed(version);
            self.known().checked_at = Some(Instant::now());
        }
        Ok(self.known().version)
    }

    /// Reads the version row in `uow`, before the data a miss reads: an entry is never
    /// tagged newer than its data.
    async fn version<U: CatalogRepository + ?Sized>(&self, uow: &mut U) -> StoreResult<i64> {
        let version = uow.catalog_version().await?;
        self.changed(version);
        Ok(version)
    }

    fn is_current(&self, version: i64) -> bool {
        version == self.known().version
    }

    /// A show with its whole tree.
    pub async fn show<U: CatalogRepository + ?Sized>(
        &self,
        uow: &mut U,
        id: ShowId,
    ) -> StoreResult<Option<Arc<Show>>> {
        let known = self.current(uow).await?;
        if let Some((v, show)) = self.shows.get(&id)
            && v == known
        {
            return Ok(Some(show));
        }
        let version = self.version(uow).await?;
        let show = uow.show(id).await?;
        Ok(show.map(|s| self.keep_show(version, s)))
    }

    /// The whole show an episode belongs to.
    pub async fn show_of_episode<U: CatalogRepository + ?Sized>(
        &self,
        uow: &mut U,
        id: EpisodeId,
    ) -> StoreResult<Option<Arc<Show>>> {
        let known = self.current(uow).await?;
        if let Some((v, show_id)) = self.episodes.get(&id)
            && v == known
            && let Some((v, show)) = self.shows.get(&show_id)
            && v == known
        {
            return Ok(Some(show));
        }
        let version = self.version(uow).await?;
        let show = uow.show_of_episode(id).await?;
        Ok(show.map(|s| self.keep_show(version, s)))
    }

    /// A movie.
    pub async fn movie<U: CatalogRepository + ?Sized>(
        &self,
        uow: &mut U,
        id: MovieId,
    ) -> StoreResult<Option<Arc<Movie>>> {
        let known = self.current(uow).await?;
        if let Some((v, movie)) = self.movies.get(&id)
            && v == known
        {
            return Ok(Some(movie));
        }
        let version = self.version(uow).await?;
        let movie = uow.movie(id).await?;
        Ok(movie.map(|m| {
            let m = Arc::new(m);
            if self.is_current(version) {
                self.movies.insert(id, (version, m.clone()));
            }
            m
        }))
    }

    fn keep_show(&self, version: i64, show: Show) -> Arc<Show> {
        let show = Arc::new(show);
        if self.is_current(version) {
            for e in show.episodes() {
                self.episodes.insert(e.episode.id, (version, show.id));
            }
            self.shows.insert(show.id, (version, show.clone()));
        }
        show
    }
}
