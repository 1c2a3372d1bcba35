//! The catalog and users in memory.

use std::collections::HashMap;

use crate::store::MemoryUow;
use async_trait::async_trait;
use chrono::{DateTime, Datelike, Utc};
use viewing_domain::ports::*;
use viewing_domain::search::{TitleHit, TitleQuery, rank, title_key};
use viewing_domain::{
    CatalogRows, EpisodeId, ExternalHit, ExternalIds, ItemKind, Movie, MovieId, Provider,
    RowsWritten, Show, ShowId, UserId,
};

/// Refuses (`Conflict`, naming the holder) an id of `ids` that one of `items` — `(owner, id,
/// external ids)` of the same kind — holds for an owner other than `owner`.
fn refuse_held<'a>(
    kind: &str,
    owner: uuid::Uuid,
    ids: &ExternalIds,
    items: impl Iterator<Item = (uuid::Uuid, uuid::Uuid, &'a ExternalIds)>,
) -> StoreResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    for (item_owner, item, theirs) in items {
        if item_owner != owner && ids.iter().any(|(p, v)| theirs.get(p) == Some(v)) {
            return Err(StoreError::Conflict(ids.held_by(kind, &item.to_string())));
        }
    }
    Ok(())
}

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
        let others = self
            .work
            .movies
            .values()
            .map(|m| (m.id.as_uuid(), m.id.as_uuid(), &m.external_ids));
        refuse_held("movie", movie.id.as_uuid(), &movie.external_ids, others)?;
        self.work.movies.insert(movie.id, movie.clone());
        self.work.catalog_version += 1;
        Ok(())
    }

    async fn find_by_external_id(
        &mut self,
        provider: Provider,
        value: &str,
    ) -> StoreResult<Vec<ExternalHit>> {
        let holds = |ids: &ExternalIds| ids.get(provider) == Some(value);
        let mut hits = Vec::new();
        let hit = |kind, id, show_id| ExternalHit { kind, id, show_id };
        hits.extend(
            self.work
                .movies
                .values()
                .filter(|m| holds(&m.external_ids))
                .map(|m| hit(ItemKind::Movie, m.id.as_uuid(), None)),
        );
        for s in self.work.shows.values() {
            if holds(&s.external_ids) {
                hits.push(hit(ItemKind::Show, s.id.as_uuid(), None));
            }
            for season in s.seasons() {
                if holds(&season.external_ids) {
                    hits.push(hit(ItemKind::Season, season.id.as_uuid(), Some(s.id)));
                }
                for e in &season.episodes {
                    if holds(&e.external_ids) {
                        hits.push(hit(ItemKind::Episode, e.id.as_uuid(), Some(s.id)));
                    }
                }
            }
        }
        hits.sort_by_key(|h| h.kind);
        Ok(hits)
    }

    async fn search_titles(&mut self, query: &TitleQuery) -> StoreResult<Vec<TitleHit>> {
        let wanted = |kind: ItemKind, key: &str| {
            query.kind.is_none_or(|k| k == kind)
                && (key == query.key || (!query.exact && key.starts_with(&query.key)))
        };
        let mut hits: Vec<(String, TitleHit)> = Vec::new();
        for m in self.work.movies.values() {
            let key = title_key(m.title.as_str());
            let year = m.release_date.map(|d| d.year());
            if wanted(ItemKind::Movie, &key) && query.year.is_none_or(|y| year == Some(y)) {
                hits.push((
                    key,
                    TitleHit {
                        kind: ItemKind::Movie,
                        id: m.id.as_uuid(),
                        title: m.title.as_str().to_owned(),
                        year,
                        external_ids: m.external_ids.clone(),
                    },
                ));
            }
        }
        for s in self.work.shows.values() {
            let key = title_key(s.title.as_str());
            if wanted(ItemKind::Show, &key) {
                hits.push((
                    key,
                    TitleHit {
                        kind: ItemKind::Show,
                        id: s.id.as_uuid(),
                        title: s.title.as_str().to_owned(),
                        year: None,
                        external_ids: s.external_ids.clone(),
                    },
                ));
            }
        }
        rank(&query.key, &mut hits);
        Ok(hits
            .into_iter()
            .take(usize::try_from(query.limit).unwrap_or(usize::MAX))
            .map(|(_, h)| h)
            .collect())
    }

    async fn catalog_version(&mut self) -> StoreResult<i64> {
        Ok(self.work.catalog_version)
    }

    async fn upsert_show(&mut self, show: &Show) -> StoreResult<()> {
        let owner = show.id.as_uuid();
        let shows = || self.work.shows.values();
        refuse_held(
            "show",
            owner,
            &show.external_ids,
            shows().map(|s| (s.id.as_uuid(), s.id.as_uuid(), &s.external_ids)),
        )?;
        for season in show.seasons() {
            refuse_held(
                "season",
                owner,
                &season.external_ids,
                shows().flat_map(|s| {
                    s.seasons()
                        .iter()
                        .map(|x| (s.id.as_uuid(), x.id.as_uuid(), &x.external_ids))
                }),
            )?;
            for e in &season.episodes {
                refuse_held(
                    "episode",
                    owner,
                    &e.external_ids,
                    shows().flat_map(|s| {
                        s.episodes().map(|x| {
                            (
                                s.id.as_uuid(),
                                x.episode.id.as_uuid(),
                                &x.episode.external_ids,
                            )
                        })
                    }),
                )?;
            }
        }
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

#[async_trait]
impl CatalogBulkRepository for MemoryUow {
    async fn write_catalog_rows(&mut self, rows: &CatalogRows) -> StoreResult<RowsWritten> {
        let mut written = RowsWritten::default();
        for m in &rows.movies {
            let others = self
                .work
                .movies
                .values()
                .map(|x| (x.id.as_uuid(), x.id.as_uuid(), &x.external_ids));
            if refuse_held("movie", m.id.as_uuid(), &m.external_ids, others).is_ok() {
                self.work.movies.insert(m.id, m.clone());
                written.movies += 1;
            }
        }
        for row in &rows.shows {
            let others = self
                .work
                .shows
                .values()
                .map(|x| (x.id.as_uuid(), x.id.as_uuid(), &x.external_ids));
            if refuse_held("show", row.id.as_uuid(), &row.external_ids, others).is_err() {
                continue;
            }
            let show = match self.work.shows.remove(&row.id) {
                Some(mut s) => {
                    s.title = row.title.clone();
                    s.status = row.status;
                    s.genres = row.genres.clone();
                    s
                }
                None => Show::new(
                    row.id,
                    row.title.clone(),
                    row.status,
                    row.genres.clone(),
                    Vec::new(),
                )
                .map_err(StoreError::unexpected)?,
            };
            let mut show = show;
            show.external_ids = row.external_ids.clone();
            self.work.shows.insert(row.id, show);
            written.shows += 1;
        }
        for row in &rows.seasons {
            let owned_elsewhere = self
                .work
                .season_owner
                .get(&row.id)
                .is_some_and(|o| *o != row.show_id);
            let others = self.work.shows.values().flat_map(|s| {
                s.seasons()
                    .iter()
                    .map(|x| (s.id.as_uuid(), x.id.as_uuid(), &x.external_ids))
            });
            let held = refuse_held("season", row.show_id.as_uuid(), &row.external_ids, others);
            let Some(show) = self.work.shows.get_mut(&row.show_id) else {
                continue;
            };
            if owned_elsewhere
                || held.is_err()
                || !show.put_season(row.id, row.number, row.external_ids.clone())
            {
                continue;
            }
            self.work.season_owner.insert(row.id, row.show_id);
            written.seasons += 1;
        }
        for row in &rows.episodes {
            let e = &row.episode;
            let owned_elsewhere = self
                .work
                .episode_owner
                .get(&e.id)
                .is_some_and(|o| *o != row.show_id);
            let others = self.work.shows.values().flat_map(|s| {
                s.episodes().map(|x| {
                    (
                        s.id.as_uuid(),
                        x.episode.id.as_uuid(),
                        &x.episode.external_ids,
                    )
                })
            });
            let held = refuse_held("episode", row.show_id.as_uuid(), &e.external_ids, others);
            let Some(show) = self.work.shows.get_mut(&row.show_id) else {
                continue;
            };
            if owned_elsewhere || held.is_err() || !show.put_episode(row.season_id, e.clone()) {
                continue;
            }
            self.work.episode_owner.insert(e.id, row.show_id);
            written.episodes += 1;
        }
        self.work.catalog_version += 1;
        Ok(written)
    }
}
