//! The content that viewing refers to: movies, and shows with seasons and episodes.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::ids::{EpisodeId, MovieId, SeasonId, ShowId};
use crate::values::{Genre, Minutes, Title, ValidationError};

/// See [`Show::MAX_NUMBER`].
const MAX_NUMBER: u32 = 1_000_000;

/// Season number 0 holds specials.
pub const SPECIALS_SEASON: u32 = 0;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Movie {
    pub id: MovieId,
    pub title: Title,
    pub runtime: Minutes,
    pub genres: Vec<Genre>,
    pub release_date: Option<NaiveDate>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ShowStatus {
    Returning,
    Ended,
    Canceled,
}

impl ShowStatus {
    /// Only a show that will get no new episodes can be *completed*; a returning one is caught up.
    pub fn is_finished(self) -> bool {
        matches!(self, ShowStatus::Ended | ShowStatus::Canceled)
    }
    pub fn as_str(self) -> &'static str {
        match self {
            ShowStatus::Returning => "returning",
            ShowStatus::Ended => "ended",
            ShowStatus::Canceled => "canceled",
        }
    }
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
pub struct Episode {
    pub id: EpisodeId,
    pub number: u32,
    pub title: Title,
    pub runtime: Minutes,
    pub air_date: Option<NaiveDate>,
}

impl Episode {
    /// An episode has aired when its air date is missing or not after `today` (UTC).
    pub fn has_aired(&self, today: NaiveDate) -> bool {
        self.air_date.is_none_or(|d| d <= today)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Season {
    pub id: SeasonId,
    pub number: u32,
    pub episodes: Vec<Episode>,
}

impl Season {
    pub fn is_specials(&self) -> bool {
        self.number == SPECIALS_SEASON
    }
}

/// A show with its whole tree. Built through [`Show::new`], which sorts seasons and episodes
/// and refuses duplicate numbers or ids, so every rule can rely on the order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Show {
    pub id: ShowId,
    pub title: Title,
    pub status: ShowStatus,
    pub genres: Vec<Genre>,
    seasons: Vec<Season>,
}

/// Where an episode sits in its show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EpisodeRef<'a> {
    pub season: &'a Season,
    pub episode: &'a Episode,
}

impl EpisodeRef<'_> {
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
        Ok(Self {
            id,
            title,
            status,
            genres,
            seasons,
        })
    }

    /// Seasons in order, specials (season 0) first when present.
    pub fn seasons(&self) -> &[Season] {
        &self.seasons
    }

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
        };
        let s1 = Season {
            id: SeasonId::from(Uuid::new_v4()),
            number: 1,
            episodes: vec![ep(1, None)],
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
