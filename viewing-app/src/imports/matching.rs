//! Matching an export's row against the catalog (SPEC §12), in this order: one of its external
//! ids (`externalId`); an episode by its show's external id or title and its numbers
//! (`coordinates`); a movie by its normalised title and year (`title`). Several candidates are
//! `ambiguous: N candidates`, never a guess. With a metadata provider, an external id the
//! catalog lacks is fetched first (SPEC §16); a provider that cannot be reached leaves the row
//! unmatched with reason `metadata provider unavailable`.

use viewing_domain::imports::{ImportRow, MatchedBy, RowKind};
use viewing_domain::ports::{CatalogRepository, Store};
use viewing_domain::search::{TitleQuery, title_key};
use viewing_domain::{EpisodeId, ItemKind, MovieId, ShowId};

use crate::catalog::{LookupQuery, Match as Lookup, Unmatched};
use crate::error::AppResult;
use crate::service::ViewingService;

/// What a row was matched to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Match {
    /// A movie of the catalog.
    Movie(MovieId, MatchedBy),
    /// An episode of the catalog.
    Episode(EpisodeId, MatchedBy),
    /// A show of the catalog.
    Show(ShowId, MatchedBy),
    /// Nothing, with the reason.
    Unmatched(String),
}

const NOT_FOUND: &str = "not in the catalog";

/// Remembers the most telling reason nothing matched.
#[derive(Default)]
struct Misses {
    provider_down: bool,
}

impl Misses {
    fn note(&mut self, u: &Unmatched) {
        if matches!(u, Unmatched::ProviderUnavailable(_)) {
            self.provider_down = true;
        }
    }

    fn reason(&self) -> String {
        if self.provider_down {
            Unmatched::ProviderUnavailable(String::new())
                .reason()
                .to_owned()
        } else {
            NOT_FOUND.to_owned()
        }
    }
}

impl<S: Store> ViewingService<S> {
    /// The catalog item `row` names (see the module docs).
    pub(crate) async fn match_row(&self, row: &ImportRow) -> AppResult<Match> {
        match row.kind {
            RowKind::Movie => self.match_movie(row).await,
            RowKind::Episode => self.match_episode(row).await,
            RowKind::Watchlist if row.show.is_some() => self.match_show(row).await,
            RowKind::Watchlist => self.match_movie(row).await,
            RowKind::Abandon => match self.match_show(row).await? {
                Match::Unmatched(_) => self.match_movie(row).await,
                found => Ok(found),
            },
            RowKind::Reset => self.match_show(row).await,
            RowKind::Rating => Ok(Match::Unmatched(NOT_FOUND.to_owned())),
        }
    }

    async fn match_movie(&self, row: &ImportRow) -> AppResult<Match> {
        if let Some(id) = row.own_id {
            let mut uow = self.store.begin_read().await?;
            if self
                .catalog
                .movie(&mut uow, MovieId::from(id))
                .await?
                .is_some()
            {
                return Ok(Match::Movie(MovieId::from(id), MatchedBy::ExternalId));
            }
        }
        let mut misses = Misses::default();
        for (provider, value) in row.ids.iter() {
            let query = LookupQuery::Id {
                provider,
                value: value.to_owned(),
                kind: Some(ItemKind::Movie),
            };
            match self.match_external(&query).await? {
                Lookup::Found(f) => {
                    return Ok(Match::Movie(MovieId::from(f.id), MatchedBy::ExternalId));
                }
                Lookup::Unmatched(u) => misses.note(&u),
            }
        }
        let hits = self
            .titles_exactly(&row.title, ItemKind::Movie, row.year)
            .await?;
        Ok(match hits.as_slice() {
            [one] => Match::Movie(MovieId::from(*one), MatchedBy::Title),
            [] => Match::Unmatched(misses.reason()),
            many => Match::Unmatched(ambiguous(many.len())),
        })
    }

    /// A show by this catalog's id (this service's export), its external ids, or its title.
    async fn match_show(&self, row: &ImportRow) -> AppResult<Match> {
        if let Some(id) = row.own_id {
            let mut uow = self.store.begin_read().await?;
            if self
                .catalog
                .show(&mut uow, ShowId::from(id))
                .await?
                .is_some()
            {
                return Ok(Match::Show(ShowId::from(id), MatchedBy::ExternalId));
            }
        }
        let Some(show) = &row.show else {
            return Ok(Match::Unmatched(NOT_FOUND.to_owned()));
        };
        let mut misses = Misses::default();
        for (provider, value) in show.ids.iter() {
            let query = LookupQuery::Id {
                provider,
                value: value.to_owned(),
                kind: Some(ItemKind::Show),
            };
            match self.match_external(&query).await? {
                Lookup::Found(f) => {
                    return Ok(Match::Show(ShowId::from(f.id), MatchedBy::ExternalId));
                }
                Lookup::Unmatched(u) => misses.note(&u),
            }
        }
        let hits = self
            .titles_exactly(&show.title, ItemKind::Show, None)
            .await?;
        Ok(match hits.as_slice() {
            [one] => Match::Show(ShowId::from(*one), MatchedBy::Title),
            [] => Match::Unmatched(misses.reason()),
            many => Match::Unmatched(ambiguous(many.len())),
        })
    }

    async fn match_episode(&self, row: &ImportRow) -> AppResult<Match> {
        if let Some(id) = row.own_id {
            let id = EpisodeId::from(id);
            let mut uow = self.store.begin_read().await?;
            if self.catalog.show_of_episode(&mut uow, id).await?.is_some() {
                return Ok(Match::Episode(id, MatchedBy::ExternalId));
            }
        }
        let mut misses = Misses::default();
        for (provider, value) in row.ids.iter() {
            let query = LookupQuery::Id {
                provider,
                value: value.to_owned(),
                kind: Some(ItemKind::Episode),
            };
            match self.match_external(&query).await? {
                Lookup::Found(f) => {
                    return Ok(Match::Episode(EpisodeId::from(f.id), MatchedBy::ExternalId));
                }
                Lookup::Unmatched(u) => misses.note(&u),
            }
        }
        let Some(show) = &row.show else {
            return Ok(Match::Unmatched(misses.reason()));
        };
        if let Some(number) = show.episode {
            for (provider, value) in show.ids.iter() {
                let query = LookupQuery::Episode {
                    provider,
                    show: value.to_owned(),
                    season: show.season,
                    episode: number,
                };
                match self.match_external(&query).await? {
                    Lookup::Found(f) => {
                        return Ok(Match::Episode(
                            EpisodeId::from(f.id),
                            MatchedBy::Coordinates,
                        ));
                    }
                    Lookup::Unmatched(u) => misses.note(&u),
                }
            }
        }
        let shows = self
            .titles_exactly(&show.title, ItemKind::Show, None)
            .await?;
        let show_id = match shows.as_slice() {
            [one] => ShowId::from(*one),
            [] => return Ok(Match::Unmatched(misses.reason())),
            many => return Ok(Match::Unmatched(ambiguous(many.len()))),
        };
        let found = self.show(show_id).await?;
        let season = found.season(show.season);
        if let Some(number) = show.episode {
            let episode = season.and_then(|s| s.episodes.iter().find(|e| e.number == number));
            return Ok(match episode {
                Some(e) => Match::Episode(e.id, MatchedBy::Coordinates),
                None => Match::Unmatched(format!(
                    "{} has no season {} episode {number} in the catalog",
                    found.title.as_str(),
                    show.season,
                )),
            });
        }
        // No number (Netflix): the episode of that season with that title.
        let wanted = show
            .episode_title
            .as_deref()
            .map(title_key)
            .unwrap_or_default();
        let candidates: Vec<EpisodeId> = season
            .map(|s| {
                s.episodes
                    .iter()
                    .filter(|e| !wanted.is_empty() && title_key(e.title.as_str()) == wanted)
                    .map(|e| e.id)
                    .collect()
            })
            .unwrap_or_default();
        Ok(match candidates.as_slice() {
            [one] => Match::Episode(*one, MatchedBy::Title),
            [] => Match::Unmatched(format!(
                "{} has no episode titled {:?} in season {}",
                found.title.as_str(),
                show.episode_title.as_deref().unwrap_or_default(),
                show.season
            )),
            many => Match::Unmatched(ambiguous(many.len())),
        })
    }

    /// The ids of the shows whose title key is `title`'s (a media server's show title).
    pub(crate) async fn shows_titled(&self, title: &str) -> AppResult<Vec<uuid::Uuid>> {
        self.titles_exactly(title, ItemKind::Show, None).await
    }

    /// The ids of the movies (of `year`, when given) or shows whose title key is `title`'s.
    async fn titles_exactly(
        &self,
        title: &str,
        kind: ItemKind,
        year: Option<i32>,
    ) -> AppResult<Vec<uuid::Uuid>> {
        let key = title_key(title);
        if key.is_empty() {
            return Ok(Vec::new());
        }
        let mut uow = self.store.begin_read().await?;
        Ok(uow
            .search_titles(&TitleQuery {
                key,
                kind: Some(kind),
                year,
                exact: true,
                limit: 10,
            })
            .await?
            .into_iter()
            .map(|h| h.id)
            .collect())
    }
}

fn ambiguous(n: usize) -> String {
    format!("ambiguous: {n} candidates")
}
