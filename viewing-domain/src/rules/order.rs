//! Episode order: a regular episode is recorded for the first time only after every earlier
//! aired regular episode.

use std::collections::HashSet;

use chrono::NaiveDate;

use crate::catalog::{EpisodeRef, Show};
use crate::ids::EpisodeId;
use crate::records::ViewingRecord;

/// The first episode the user still has to watch, as named in a 409 answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MissingEpisode {
    /// The episode.
    pub episode_id: EpisodeId,
    /// Its season number.
    pub season_number: u32,
    /// Its number within the season.
    pub episode_number: u32,
}

impl From<EpisodeRef<'_>> for MissingEpisode {
    fn from(e: EpisodeRef<'_>) -> Self {
        Self {
            episode_id: e.episode.id,
            season_number: e.season.number,
            episode_number: e.episode.number,
        }
    }
}

/// Episodes the user has at least one record of.
pub fn watched_episodes(records: &[ViewingRecord]) -> HashSet<EpisodeId> {
    records
        .iter()
        .filter_map(|r| match r.watched {
            crate::records::Watched::Episode { episode_id, .. } => Some(episode_id),
            crate::records::Watched::Movie(_) => None,
        })
        .collect()
}

/// Aired regular episodes before `target` in watching order that are not watched yet, in order.
/// Empty for specials, which are never order-checked.
pub fn missing_before<'s>(
    show: &'s Show,
    target: EpisodeRef<'_>,
    watched: &HashSet<EpisodeId>,
    today: NaiveDate,
) -> Vec<EpisodeRef<'s>> {
    if target.is_special() {
        return Vec::new();
    }
    let key = target.order_key();
    show.aired_regular(today)
        .take_while(|e| e.order_key() < key)
        .filter(|e| !watched.contains(&e.episode.id))
        .collect()
}
