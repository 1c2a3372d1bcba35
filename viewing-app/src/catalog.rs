//! Catalog upserts and reads. Content must exist here before viewing can be recorded.

use viewing_domain::ports::{CatalogRepository, Store, Transaction};
use viewing_domain::{Movie, MovieId, Show, ShowId};

use crate::error::{AppError, AppResult};
use crate::service::ViewingService;

impl<S: Store> ViewingService<S> {
    /// Creates or replaces a movie.
    pub async fn upsert_movie(&self, movie: Movie) -> AppResult<Movie> {
        let mut uow = self.store.begin().await?;
        uow.upsert_movie(&movie).await?;
        uow.commit().await?;
        Ok(movie)
    }

    /// Creates or replaces a show with its whole tree of seasons and episodes.
    pub async fn upsert_show(&self, show: Show) -> AppResult<Show> {
        let mut uow = self.store.begin().await?;
        uow.upsert_show(&show).await?;
        uow.commit().await?;
        Ok(show)
    }

    pub async fn movie(&self, id: MovieId) -> AppResult<Movie> {
        let mut uow = self.store.begin_read().await?;
        uow.movie(id).await?.ok_or(AppError::ContentNotFound)
    }

    pub async fn show(&self, id: ShowId) -> AppResult<Show> {
        let mut uow = self.store.begin_read().await?;
        uow.show(id).await?.ok_or(AppError::ContentNotFound)
    }
}
