//! The metadata-provider port (SPEC §16): where the catalog fetches an item another service
//! names when it does not hold it yet (TMDB in `adapters-tmdb`), and the rules for laying what
//! it answers over an item the catalog already holds.

use async_trait::async_trait;

use crate::catalog::{ItemKind, Movie, Season, Show};
use crate::external::Provider;
use crate::values::ValidationError;

/// A catalog item as a provider describes it, with its external ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    /// A movie.
    Movie(Movie),
    /// A show with its whole tree (for an id that names a season or an episode: its show).
    Show(Show),
}

impl Fetched {
    /// [`ItemKind::Movie`] or [`ItemKind::Show`].
    pub fn kind(&self) -> ItemKind {
        match self {
            Fetched::Movie(_) => ItemKind::Movie,
            Fetched::Show(_) => ItemKind::Show,
        }
    }

    /// The movie's or the show's own external ids.
    pub fn external_ids(&self) -> &crate::ExternalIds {
        match self {
            Fetched::Movie(m) => &m.external_ids,
            Fetched::Show(s) => &s.external_ids,
        }
    }
}

/// What to fetch: `provider`'s id `value`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wanted<'a> {
    /// Whose id it is.
    pub provider: Provider,
    /// The id, of its provider's shape.
    pub value: &'a str,
    /// A movie or a show, when the caller knows: some providers (TMDB) number movies and shows
    /// separately, so their own ids name nothing without it.
    pub kind: Option<ItemKind>,
    /// Ask the provider itself, past any cache (a refresh).
    pub fresh: bool,
}

/// Why a provider gave no answer. A provider that answers "unknown" says so with `Ok(None)`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetadataError {
    /// Not reachable, rate-limited past its retries, or answering with errors: try later.
    #[error("metadata provider unavailable: {0}")]
    Unavailable(String),
}

/// Fetches catalog items from a metadata provider.
#[async_trait]
pub trait MetadataProvider: Send + Sync {
    /// The movie, or the show with its whole tree, that `wanted` names (for a season or an
    /// episode, its show); `Ok(None)` when the provider knows nothing by that id, or does not
    /// know the provider's ids at all.
    async fn fetch(&self, wanted: Wanted<'_>) -> Result<Option<Fetched>, MetadataError>;
}

/// `fetched` laid over `stored`, the movie the catalog holds for it: our id stays, the
/// provider's title, runtime, genres and release date replace ours, and external ids are
/// [overlaid](crate::ExternalIds::overlaid).
pub fn refresh_movie(stored: &Movie, fetched: Movie) -> Movie {
    Movie {
        id: stored.id,
        external_ids: stored.external_ids.overlaid(&fetched.external_ids),
        ..fetched
    }
}

/// `fetched` laid over `stored`, the show the catalog holds for it. Our ids stay: the show's,
/// a season's matched by its number, an episode's matched by its season's and its own
/// number; external ids are [overlaid](crate::ExternalIds::overlaid), and everything else is
/// the provider's. Seasons and episodes the provider does not list stay as they are (an
/// episode someone watched never leaves the catalog through a refresh); those only the
/// provider lists are added with its ids.
///
/// # Errors
/// The tree [`Show::new`] refuses, such as an external id the provider gives a new episode
/// that a kept one holds.
pub fn refresh_show(stored: &Show, fetched: Show) -> Result<Show, ValidationError> {
    let mut seasons: Vec<Season> = Vec::with_capacity(fetched.seasons().len());
    for new in fetched.seasons() {
        let Some(old) = stored.season(new.number) else {
            seasons.push(new.clone());
            continue;
        };
        let mut episodes = old.episodes.clone();
        for e in &new.episodes {
            match episodes.iter_mut().find(|x| x.number == e.number) {
                Some(kept) => {
                    *kept = crate::Episode {
                        id: kept.id,
                        external_ids: kept.external_ids.overlaid(&e.external_ids),
                        ..e.clone()
                    };
                }
                None => episodes.push(e.clone()),
            }
        }
        seasons.push(Season {
            id: old.id,
            number: new.number,
            episodes,
            external_ids: old.external_ids.overlaid(&new.external_ids),
        });
    }
    seasons.extend(
        stored
            .seasons()
            .iter()
            .filter(|s| fetched.season(s.number).is_none())
            .cloned(),
    );
    let mut show = Show::new(
        stored.id,
        fetched.title.clone(),
        fetched.status,
        fetched.genres.clone(),
        seasons,
    )?;
    show.external_ids = stored.external_ids.overlaid(&fetched.external_ids);
    Ok(show)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::{Minutes, Title};
    use crate::{Episode, EpisodeId, ExternalIds, MovieId, SeasonId, ShowId, ShowStatus};
    use chrono::NaiveDate;
    use uuid::Uuid;

    fn title(t: &str) -> Title {
        Title::parse(t).ok().flatten().expect("a title")
    }

    fn ids(pairs: &[(Provider, &str)]) -> ExternalIds {
        let mut out = ExternalIds::new();
        for (p, v) in pairs {
            out.insert(*p, v).expect("an id of its shape");
        }
        out
    }

    fn episode(number: u32, name: &str, ext: &[(Provider, &str)]) -> Episode {
        Episode {
            id: EpisodeId::from(Uuid::new_v4()),
            number,
            title: title(name),
            runtime: Minutes::new("runtime", 50).expect("minutes"),
            air_date: NaiveDate::from_ymd_opt(2017, 12, 1),
            external_ids: ids(ext),
        }
    }

    fn season(number: u32, episodes: Vec<Episode>, ext: &[(Provider, &str)]) -> Season {
        Season {
            id: SeasonId::from(Uuid::new_v4()),
            number,
            episodes,
            external_ids: ids(ext),
        }
    }

    fn show(name: &str, status: ShowStatus, seasons: Vec<Season>) -> Show {
        Show::new(
            ShowId::from(Uuid::new_v4()),
            title(name),
            status,
            Vec::new(),
            seasons,
        )
        .expect("a valid tree")
    }

    #[test]
    fn a_refreshed_movie_keeps_our_id_and_the_ids_only_we_hold() {
        let stored = Movie {
            id: MovieId::from(Uuid::new_v4()),
            title: title("Matrix"),
            runtime: Minutes::new("runtime", 130).expect("minutes"),
            genres: Vec::new(),
            release_date: None,
            external_ids: ids(&[(Provider::Imdb, "tt0133093"), (Provider::Trakt, "481")]),
        };
        let fetched = Movie {
            id: MovieId::from(Uuid::new_v4()),
            title: title("The Matrix"),
            runtime: Minutes::new("runtime", 136).expect("minutes"),
            genres: Vec::new(),
            release_date: NaiveDate::from_ymd_opt(1999, 3, 30),
            external_ids: ids(&[(Provider::Tmdb, "603"), (Provider::Imdb, "tt0133093")]),
        };
        let got = refresh_movie(&stored, fetched.clone());
        assert_eq!(got.id, stored.id);
        assert_eq!(
            (got.title, got.runtime, got.release_date),
            (fetched.title, fetched.runtime, fetched.release_date)
        );
        assert_eq!(
            got.external_ids,
            ids(&[
                (Provider::Tmdb, "603"),
                (Provider::Imdb, "tt0133093"),
                (Provider::Trakt, "481")
            ])
        );
    }

    #[test]
    fn a_refreshed_show_keeps_our_ids_by_number_and_what_the_provider_leaves_out() {
        let stored = show(
            "Dark",
            ShowStatus::Returning,
            vec![
                season(
                    1,
                    vec![
                        episode(1, "Secrets", &[(Provider::Imdb, "tt5753856")]),
                        episode(2, "Lies", &[]),
                        // Watched, then dropped by the provider: it stays.
                        episode(11, "Extra", &[]),
                    ],
                    &[],
                ),
                season(0, vec![episode(1, "Making of", &[])], &[]),
            ],
        );
        let mut stored = stored;
        stored.external_ids = ids(&[(Provider::Imdb, "tt5753856")]);
        let mut fetched = show(
            "Dark",
            ShowStatus::Ended,
            vec![
                season(
                    1,
                    vec![
                        episode(1, "Secrets", &[(Provider::Tmdb, "1")]),
                        episode(2, "Lies", &[(Provider::Tmdb, "2")]),
                        episode(3, "Past and Present", &[(Provider::Tmdb, "3")]),
                    ],
                    &[(Provider::Tmdb, "10")],
                ),
                season(2, vec![episode(1, "Beginnings and Endings", &[])], &[]),
            ],
        );
        fetched.external_ids = ids(&[(Provider::Tmdb, "70523")]);

        let got = refresh_show(&stored, fetched.clone()).expect("a valid tree");
        assert_eq!((got.id, got.status), (stored.id, ShowStatus::Ended));
        assert_eq!(
            got.external_ids,
            ids(&[(Provider::Tmdb, "70523"), (Provider::Imdb, "tt5753856")])
        );
        let numbers: Vec<u32> = got.seasons().iter().map(|s| s.number).collect();
        assert_eq!(numbers, vec![0, 1, 2]);
        let (old1, new1) = (
            stored.season(1).expect("stored"),
            got.season(1).expect("kept"),
        );
        assert_eq!(new1.id, old1.id);
        assert_eq!(new1.external_ids, ids(&[(Provider::Tmdb, "10")]));
        let by_number = |n: u32| new1.episodes.iter().find(|e| e.number == n);
        assert_eq!(
            by_number(1).map(|e| (e.id, e.external_ids.clone())),
            Some((
                old1.episodes[0].id,
                ids(&[(Provider::Tmdb, "1"), (Provider::Imdb, "tt5753856")])
            ))
        );
        assert_eq!(by_number(2).map(|e| e.id), Some(old1.episodes[1].id));
        let fetched1 = fetched.season(1).expect("fetched");
        assert_eq!(by_number(3).map(|e| e.id), Some(fetched1.episodes[2].id));
        assert_eq!(by_number(11).map(|e| e.id), Some(old1.episodes[2].id));
        assert_eq!(got.season(0), stored.season(0));
        assert_eq!(got.season(2), fetched.season(2));
    }

    #[test]
    fn a_refresh_that_would_give_one_id_to_two_episodes_is_refused() {
        let stored = show(
            "Dark",
            ShowStatus::Returning,
            vec![season(
                1,
                vec![episode(9, "Kept", &[(Provider::Tmdb, "5")])],
                &[],
            )],
        );
        let fetched = show(
            "Dark",
            ShowStatus::Returning,
            vec![season(
                1,
                vec![episode(1, "New", &[(Provider::Tmdb, "5")])],
                &[],
            )],
        );
        assert!(refresh_show(&stored, fetched).is_err());
    }
}
