//! The content that viewing refers to: movies, and shows with seasons and episodes.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::external::ExternalIds;
use crate::ids::{EpisodeId, MovieId, SeasonId, ShowId};
use crate::values::{Genre, Minutes, Title, ValidationError};

/// See [`Show::MAX_NUMBER`].
const MAX_NUMBER: u32 = 1_000_000;

/// Season number 0 holds specials.
pub const SPECIALS_SEASON: u32 = 0;

#[derive(Debug, Clone, PartialEq, Eq)]
/// A movie of the catalog: what a movie viewing refers to.
pub struct Movie {
    /// Chosen by the catalog's owner; the same id names it everywhere.
    pub id: MovieId,
    /// Plain text, never blank.
    pub title: Title,
    /// Its length; the minutes a viewing of it counts when none are given.
    pub runtime: Minutes,
    /// Distinct genres (ignoring case), in the order given.
    pub genres: Vec<Genre>,
    /// 1800-01-01 to 9999-12-31 when known.
    pub release_date: Option<NaiveDate>,
    /// How other services name it (SPEC §10).
    pub external_ids: ExternalIds,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
/// Whether a show will get new episodes: only a finished show can be *completed*.
pub enum ShowStatus {
    /// More episodes will come: a user who saw every aired one is caught up, not done.
    Returning,
    /// Finished as planned.
    Ended,
    /// Stopped early; finished all the same.
    Canceled,
}

impl ShowStatus {
    /// Only a show that will get no new episodes can be *completed*; a returning one is caught up.
    pub fn is_finished(self) -> bool {
        matches!(self, ShowStatus::Ended | ShowStatus::Canceled)
    }
    /// The lowercase name used on the wire and in the stores.
    pub fn as_str(self) -> &'static str {
        match self {
            ShowStatus::Returning => "returning",
            ShowStatus::Ended => "ended",
            ShowStatus::Canceled => "canceled",
        }
    }
    /// The status named by [`ShowStatus::as_str`], or `None`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "returning" => Some(ShowStatus::Returning),
            "ended" => Some(ShowStatus::Ended),
            "canceled" => Some(ShowStatus::Canceled),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
/// One episode of a season.
pub struct Episode {
    /// Its id, unique in the catalog.
    pub id: EpisodeId,
    /// Its number within the season (unique there).
    pub number: u32,
    /// Plain text, never blank.
    pub title: Title,
    /// Its length; what a watch counts when it gives no duration.
    pub runtime: Minutes,
    /// When it airs; `None` means already aired. An episode not aired yet cannot be watched.
    pub air_date: Option<NaiveDate>,
    /// How other services name it (SPEC §10).
    pub external_ids: ExternalIds,
}

impl Episode {
    /// An episode has aired when its air date is missing or not after `today` (UTC).
    pub fn has_aired(&self, today: NaiveDate) -> bool {
        self.air_date.is_none_or(|d| d <= today)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
/// One season of a show, with its episodes.
pub struct Season {
    /// Its id, unique in the catalog.
    pub id: SeasonId,
    /// Its number within the show; 0 holds specials, which never count towards progress or order.
    pub number: u32,
    /// Its episodes, sorted by number.
    pub episodes: Vec<Episode>,
    /// How other services name it (SPEC §10).
    pub external_ids: ExternalIds,
}

impl Season {
    /// Season 0: specials, outside progress, order and completion.
    pub fn is_specials(&self) -> bool {
        self.number == SPECIALS_SEASON
    }
}

/// A show with its whole tree. Built through [`Show::new`], which sorts seasons and episodes
/// and refuses duplicate numbers or ids, so every rule can rely on the order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Show {
    /// Its id, unique in the catalog.
    pub id: ShowId,
    /// Plain text, never blank.
    pub title: Title,
    /// Whether more episodes will come.
    pub status: ShowStatus,
    /// Distinct genres (ignoring case).
    pub genres: Vec<Genre>,
    /// How other services name it (SPEC §10); none until set.
    pub external_ids: ExternalIds,
    seasons: Vec<Season>,
}

/// Where an episode sits in its show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EpisodeRef<'a> {
    /// The season holding it.
    pub season: &'a Season,
    /// The episode.
    pub episode: &'a Episode,
}

impl EpisodeRef<'_> {
    /// In season 0: outside progress, order and completion.
    pub fn is_special(&self) -> bool {
        self.season.is_specials()
    }
    /// Position in watching order: season, then episode number.
    pub fn order_key(&self) -> (u32, u32) {
        (self.season.number, self.episode.number)
    }
}

impl Show {
    /// The highest season or episode number a show may have (daily shows reach five digits;
    /// every store keeps numbers as 32-bit integers).
    pub const MAX_NUMBER: u32 = MAX_NUMBER;

    /// A show whose tree is valid: season numbers unique, episode numbers unique within their season,
    /// ids unique across the tree, numbers at most [`Show::MAX_NUMBER`]. Seasons and episodes are
    /// sorted by number, so every reader walks them in viewing order.
    pub fn new(
        id: ShowId,
        title: Title,
        status: ShowStatus,
        genres: Vec<Genre>,
        mut seasons: Vec<Season>,
    ) -> Result<Self, ValidationError> {
        seasons.sort_by_key(|s| s.number);
        let mut season_ids = std::collections::HashSet::new();
        let mut episode_ids = std::collections::HashSet::new();
        for pair in seasons.windows(2) {
            if pair[0].number == pair[1].number {
                return Err(ValidationError::new(
                    "seasons",
                    format!("season number {} appears twice", pair[0].number),
                ));
            }
        }
        for season in &mut seasons {
            if season.number > MAX_NUMBER || season.episodes.iter().any(|e| e.number > MAX_NUMBER) {
                return Err(ValidationError::new(
                    "seasons",
                    format!("season and episode numbers must be at most {MAX_NUMBER}"),
                ));
            }
            if !season_ids.insert(season.id) {
                return Err(ValidationError::new(
                    "seasons",
                    format!("season id {} appears twice", season.id),
                ));
            }
            season.episodes.sort_by_key(|e| e.number);
            for pair in season.episodes.windows(2) {
                if pair[0].number == pair[1].number {
                    return Err(ValidationError::new(
                        "episodes",
                        format!(
                            "season {} has episode number {} twice",
                            season.number, pair[0].number
                        ),
                    ));
                }
            }
            for e in &season.episodes {
                if !episode_ids.insert(e.id) {
                    return Err(ValidationError::new(
                        "episodes",
                        format!("episode id {} appears twice", e.id),
                    ));
                }
            }
        }
        let mut season_ext = std::collections::HashSet::new();
        let mut episode_ext = std::collections::HashSet::new();
        for season in &seasons {
            if let Some((p, v)) = season.external_ids.iter().find(|k| !season_ext.insert(*k)) {
                return Err(ValidationError::new(
                    "seasons",
                    format!("external id {p} {v} is given to two seasons"),
                ));
            }
            for e in &season.episodes {
                if let Some((p, v)) = e.external_ids.iter().find(|k| !episode_ext.insert(*k)) {
                    return Err(ValidationError::new(
                        "episodes",
                        format!("external id {p} {v} is given to two episodes"),
                    ));
                }
            }
        }
        Ok(Self {
            id,
            title,
            status,
            genres,
            external_ids: ExternalIds::new(),
            seasons,
        })
    }

    /// Adds a season, or updates the one with this id (its number and external ids; its
    /// episodes stay), keeping seasons in order. `false`, changing nothing, when another
    /// season of the show has that number or the number is over [`Show::MAX_NUMBER`].
    pub fn put_season(&mut self, id: SeasonId, number: u32, external_ids: ExternalIds) -> bool {
        if number > MAX_NUMBER
            || self
                .seasons
                .iter()
                .any(|s| s.number == number && s.id != id)
        {
            return false;
        }
        match self.seasons.iter_mut().find(|s| s.id == id) {
            Some(s) => {
                s.number = number;
                s.external_ids = external_ids;
            }
            None => self.seasons.push(Season {
                id,
                number,
                episodes: Vec::new(),
                external_ids,
            }),
        }
        self.seasons.sort_by_key(|s| s.number);
        true
    }

    /// Adds an episode to season `season`, or replaces the one with its id (wherever it was),
    /// keeping episodes in order. `false`, changing nothing, when the season is not the
    /// show's, another episode of it has that number, or the number is over
    /// [`Show::MAX_NUMBER`].
    pub fn put_episode(&mut self, season: SeasonId, episode: Episode) -> bool {
        let Some(target) = self.seasons.iter().position(|s| s.id == season) else {
            return false;
        };
        if episode.number > MAX_NUMBER
            || self.seasons[target]
                .episodes
                .iter()
                .any(|e| e.number == episode.number && e.id != episode.id)
        {
            return false;
        }
        for s in &mut self.seasons {
            s.episodes.retain(|e| e.id != episode.id);
        }
        let episodes = &mut self.seasons[target].episodes;
        episodes.push(episode);
        episodes.sort_by_key(|e| e.number);
        true
    }

    /// Seasons in order, specials (season 0) first when present.
    pub fn seasons(&self) -> &[Season] {
        &self.seasons
    }

    /// The season numbered `number`.
    pub fn season(&self, number: u32) -> Option<&Season> {
        self.seasons.iter().find(|s| s.number == number)
    }

    /// Every episode, specials included, in watching order.
    pub fn episodes(&self) -> impl Iterator<Item = EpisodeRef<'_>> {
        self.seasons.iter().flat_map(|season| {
            season
                .episodes
                .iter()
                .map(move |episode| EpisodeRef { season, episode })
        })
    }

    /// An episode of this show with its season, or `None` when it belongs elsewhere.
    pub fn episode(&self, id: EpisodeId) -> Option<EpisodeRef<'_>> {
        self.episodes().find(|e| e.episode.id == id)
    }

    /// Regular (non-special) episodes that have aired by `today`, in watching order.
    /// These are the episodes progress, order and completion count.
    pub fn aired_regular(&self, today: NaiveDate) -> impl Iterator<Item = EpisodeRef<'_>> {
        self.episodes()
            .filter(move |e| !e.is_special() && e.episode.has_aired(today))
    }

    /// The regular episode that comes right after `id` in watching order, aired or not.
    pub fn next_regular_after(&self, id: EpisodeId) -> Option<EpisodeRef<'_>> {
        let mut regular = self.episodes().filter(|e| !e.is_special());
        regular.find(|e| e.episode.id == id)?;
        regular.next()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn title(s: &str) -> Title {
        Title::parse(s)
            .ok()
            .flatten()
            .unwrap_or_else(|| unreachable!())
    }

    fn ep(n: u32, air: Option<NaiveDate>) -> Episode {
        Episode {
            id: EpisodeId::from(Uuid::new_v4()),
            number: n,
            title: title("e"),
            runtime: Minutes::from_u32_saturating(30),
            air_date: air,
            external_ids: Default::default(),
        }
    }

    #[test]
    fn aired_means_no_date_or_not_after_today() {
        let today = NaiveDate::from_ymd_opt(2026, 1, 10).unwrap_or_default();
        assert!(ep(1, None).has_aired(today));
        assert!(ep(1, Some(today)).has_aired(today));
        assert!(!ep(1, today.succ_opt()).has_aired(today));
    }

    #[test]
    fn show_sorts_and_rejects_duplicates() {
        let s2 = Season {
            id: SeasonId::from(Uuid::new_v4()),
            number: 2,
            episodes: vec![ep(2, None), ep(1, None)],
            external_ids: Default::default(),
        };
        let s1 = Season {
            id: SeasonId::from(Uuid::new_v4()),
            number: 1,
            episodes: vec![ep(1, None)],
            external_ids: Default::default(),
        };
        let show = Show::new(
            ShowId::from(Uuid::new_v4()),
            title("x"),
            ShowStatus::Ended,
            vec![],
            vec![s2.clone(), s1.clone()],
        );
        let Ok(show) = show else {
            panic!("valid show refused")
        };
        let order: Vec<_> = show.episodes().map(|e| e.order_key()).collect();
        assert_eq!(order, vec![(1, 1), (2, 1), (2, 2)]);
        let mut dup = s1.clone();
        dup.id = SeasonId::from(Uuid::new_v4());
        assert!(
            Show::new(
                ShowId::from(Uuid::new_v4()),
                title("x"),
                ShowStatus::Ended,
                vec![],
                vec![s1, dup]
            )
            .is_err()
        );
    }
}

/// A show without its tree: one row of a bulk catalog load ([`CatalogRows`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShowRow {
    /// Its id.
    pub id: ShowId,
    /// Plain text, never blank.
    pub title: Title,
    /// Whether more episodes will come.
    pub status: ShowStatus,
    /// Distinct genres (ignoring case).
    pub genres: Vec<Genre>,
    /// How other services name it.
    pub external_ids: ExternalIds,
}

/// A season without its episodes: one row of a bulk catalog load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeasonRow {
    /// Its id.
    pub id: SeasonId,
    /// Its show.
    pub show_id: ShowId,
    /// Its number (0: specials), at most [`Show::MAX_NUMBER`].
    pub number: u32,
    /// How other services name it.
    pub external_ids: ExternalIds,
}

/// An episode with where it belongs: one row of a bulk catalog load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EpisodeRow {
    /// Its show.
    pub show_id: ShowId,
    /// Its season, written in the same batch or before.
    pub season_id: SeasonId,
    /// The episode (its number at most [`Show::MAX_NUMBER`]).
    pub episode: Episode,
}

/// One batch of a bulk catalog load (SPEC §16: IMDb's datasets): rows written by id, each
/// created or updated in place, the rest of the catalog untouched. Unlike
/// [`Show::new`] the rows of a show arrive over many batches, so a store writes seasons before
/// episodes and a show's row before its seasons (earlier in the load).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CatalogRows {
    /// Movies.
    pub movies: Vec<Movie>,
    /// Shows, without their trees.
    pub shows: Vec<ShowRow>,
    /// Seasons of shows written before.
    pub seasons: Vec<SeasonRow>,
    /// Episodes of seasons written before or in this batch.
    pub episodes: Vec<EpisodeRow>,
}

impl CatalogRows {
    /// How many rows the batch holds.
    pub fn len(&self) -> usize {
        self.movies.len() + self.shows.len() + self.seasons.len() + self.episodes.len()
    }

    /// Whether the batch holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What a store wrote of a [`CatalogRows`] batch. A row it left out is one whose external id
/// another item of its kind holds, or an episode whose number another episode of its season
/// holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RowsWritten {
    /// Movies created or updated.
    pub movies: u64,
    /// Shows created or updated.
    pub shows: u64,
    /// Seasons created or updated.
    pub seasons: u64,
    /// Episodes created or updated.
    pub episodes: u64,
}

impl std::ops::AddAssign for RowsWritten {
    fn add_assign(&mut self, o: Self) {
        self.movies += o.movies;
        self.shows += o.shows;
        self.seasons += o.seasons;
        self.episodes += o.episodes;
    }
}

/// The kinds of catalog item an external id can name (SPEC §10: unique per kind).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ItemKind {
    /// A movie.
    Movie,
    /// A show.
    Show,
    /// A season of a show.
    Season,
    /// An episode of a show.
    Episode,
}

impl ItemKind {
    /// The lowercase name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::Movie => "movie",
            ItemKind::Show => "show",
            ItemKind::Season => "season",
            ItemKind::Episode => "episode",
        }
    }

    /// The kind named by [`ItemKind::as_str`], or `None`.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Movie, Self::Show, Self::Season, Self::Episode]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// An item that holds an external id: its kind, its id, and for a season or an episode its
/// show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExternalHit {
    /// What it is.
    pub kind: ItemKind,
    /// Its id (a movie's, show's, season's or episode's).
    pub id: uuid::Uuid,
    /// The show of a season or an episode.
    pub show_id: Option<ShowId>,
}
