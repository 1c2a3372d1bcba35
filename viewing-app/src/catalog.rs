//! Catalog upserts and reads. Content must exist here before viewing can be recorded.

use viewing_domain::ports::{CatalogRepository, Store, Transaction};
use viewing_domain::{Movie, MovieId, Show, ShowId};

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

/// What [`ViewingService::import_catalog`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportedCatalog {
    /// Movies created or replaced.
    pub movies: usize,
    /// Shows created or replaced, each with its whole tree.
    pub shows: usize,
}
