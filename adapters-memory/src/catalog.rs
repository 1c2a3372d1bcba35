//! The catalog and users in memory.

use std::collections::HashMap;

use crate::store::MemoryUow;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use viewing_domain::ports::*;
use viewing_domain::{EpisodeId, Movie, MovieId, Show, ShowId, UserId};

#[async_trait]
impl CatalogRepository for MemoryUow {
    async fn movie(&mut self, id: MovieId) -> StoreResult<Option<Movie>> {
        Ok(self.work.movies.get(&id).cloned())
    }

    async fn show(&mut self, id: ShowId) -> StoreResult<Option<Show>> {
        Ok(self.work.shows.get(&id).cloned())
    }

    async fn show_of_episode(&mut self, id: EpisodeId) -> StoreResult<Option<Show>> {
        Ok(self
            .work
            .episode_owner
            .get(&id)
            .and_then(|s| self.work.shows.get(s))
            .cloned())
    }

    async fn titles(&mut self, ids: &[uuid::Uuid]) -> StoreResult<HashMap<uuid::Uuid, String>> {
        let mut out = HashMap::new();
        for &id in ids {
            if let Some(m) = self.work.movies.get(&MovieId::from(id)) {
                out.insert(id, m.title.as_str().to_owned());
            } else if let Some(s) = self.work.shows.get(&ShowId::from(id)) {
                out.insert(id, s.title.as_str().to_owned());
            }
        }
        Ok(out)
    }

    async fn upsert_movie(&mut self, movie: &Movie) -> StoreResult<()> {
        self.work.movies.insert(movie.id, movie.clone());
        self.work.catalog_version += 1;
        Ok(())
    }

    async fn catalog_version(&mut self) -> StoreResult<i64> {
        Ok(self.work.catalog_version)
    }

    async fn upsert_show(&mut self, show: &Show) -> StoreResult<()> {
        for season in show.seasons() {
            if self
                .work
                .season_owner
                .get(&season.id)
                .is_some_and(|owner| *owner != show.id)
            {
                return Err(StoreError::Conflict(format!(
                    "season {} belongs to another show",
                    season.id
                )));
            }
            for e in &season.episodes {
                if self
                    .work
                    .episode_owner
                    .get(&e.id)
                    .is_some_and(|owner| *owner != show.id)
                {
                    return Err(StoreError::Conflict(format!(
                        "episode {} belongs to another show",
                        e.id
                    )));
                }
            }
        }
        self.work.catalog_version += 1;
        self.work.season_owner.retain(|_, owner| *owner != show.id);
        self.work.episode_owner.retain(|_, owner| *owner != show.id);
        for season in show.seasons() {
            self.work.season_owner.insert(season.id, show.id);
            for e in &season.episodes {
                self.work.episode_owner.insert(e.id, show.id);
            }
        }
        self.work.shows.insert(show.id, show.clone());
        Ok(())
    }
}

#[async_trait]
impl UserRepository for MemoryUow {
    async fn ensure_user(&mut self, user: UserId, _now: DateTime<Utc>) -> StoreResult<()> {
        *self.work.users.entry(user).or_insert(0) += 1;
        Ok(())
    }

    async fn user_revision(&mut self, user: UserId) -> StoreResult<i64> {
        Ok(self.work.users.get(&user).copied().unwrap_or(0))
    }
}
