//! What the service remembers about a user's viewing.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{
    AbandonId, BingeSessionId, EpisodeId, MovieId, RecordId, SeasonId, ShowId, UserId,
};
use crate::values::{
    AbandonReason, Companions, Minutes, Percent, Platform, Rating, ViewingContext, ViewingLocation,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ContentType {
    Movie,
    Episode,
}

impl ContentType {
    pub fn as_str(self) -> &'static str {
        match self {
            ContentType::Movie => "movie",
            ContentType::Episode => "episode",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "movie" => Some(ContentType::Movie),
            "episode" => Some(ContentType::Episode),
            _ => None,
        }
    }
}

/// What a viewing record is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Watched {
    Movie(MovieId),
    Episode {
        episode_id: EpisodeId,
        show_id: ShowId,
        season_number: u32,
        episode_number: u32,
    },
}

impl Watched {
    pub fn content_type(&self) -> ContentType {
        match self {
            Watched::Movie(_) => ContentType::Movie,
            Watched::Episode { .. } => ContentType::Episode,
        }
    }
    pub fn content_id(&self) -> uuid::Uuid {
        match self {
            Watched::Movie(id) => id.as_uuid(),
            Watched::Episode { episode_id, .. } => episode_id.as_uuid(),
        }
    }
    pub fn show_id(&self) -> Option<ShowId> {
        match self {
            Watched::Movie(_) => None,
            Watched::Episode { show_id, .. } => Some(*show_id),
        }
    }
    /// Specials (season 0) are never order-checked and never count toward progress.
    pub fn is_special(&self) -> bool {
        matches!(
            self,
            Watched::Episode {
                season_number: 0,
                ..
            }
        )
    }
}

/// One viewing of a movie or an episode. Every viewing is its own record; rewatches never
/// overwrite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewingRecord {
    pub id: RecordId,
    pub user_id: UserId,
    pub watched: Watched,
    /// When the viewing finished.
    pub watch_date: DateTime<Utc>,
    pub platform: Option<Platform>,
    pub viewing_location: Option<ViewingLocation>,
    pub viewing_context: Option<ViewingContext>,
    pub watched_with: Companions,
    pub is_rewatch: bool,
    /// Whole minutes watched. Episodes default to their runtime; movies keep what the client
    /// said (none: the catalog runtime counts).
    pub viewing_duration: Option<Minutes>,
    pub binge_session_id: Option<BingeSessionId>,
    /// True when the client named the binge session itself; such a record stays in it.
    pub binge_session_pinned: bool,
    /// Recorded by `markPreviousWatched` on behalf of a later episode; never part of a binge.
    pub backfilled: bool,
    pub created_at: DateTime<Utc>,
}

impl ViewingRecord {
    /// A first-time watch of a regular episode: the records that make progress.
    pub fn counts_for_progress(&self) -> bool {
        matches!(self.watched, Watched::Episode { .. })
            && !self.watched.is_special()
            && !self.is_rewatch
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ItemType {
    Movie,
    Show,
}

impl ItemType {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemType::Movie => "movie",
            ItemType::Show => "show",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "movie" => Some(ItemType::Movie),
            "show" => Some(ItemType::Show),
            _ => None,
        }
    }
}

/// The user stopped watching a movie or a show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AbandonRecord {
    pub id: AbandonId,
    pub user_id: UserId,
    pub item_id: uuid::Uuid,
    pub item_type: ItemType,
    pub abandon_date: DateTime<Utc>,
    pub progress_percent: Percent,
    pub abandon_reason: Option<AbandonReason>,
    pub quality_rating: Option<Rating>,
    pub would_retry: bool,
    pub created_at: DateTime<Utc>,
}

/// Consecutive episodes of one show watched close together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BingeSession {
    pub id: BingeSessionId,
    pub user_id: UserId,
    pub show_id: ShowId,
    /// Watch date of its first episode.
    pub start_time: DateTime<Utc>,
    /// Watch date of its last episode.
    pub end_time: DateTime<Utc>,
    pub episodes_watched: u32,
    pub created_at: DateTime<Utc>,
}

/// A season watched in full for the first time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeasonCompletion {
    pub season_id: SeasonId,
    pub season_number: u32,
    pub completed_at: DateTime<Utc>,
}

/// The stored summary of one user's progress in one show, updated in the same unit of work as
/// the records it summarises.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShowProgress {
    pub user_id: UserId,
    pub show_id: ShowId,
    pub last_watched_season: Option<u32>,
    pub last_watched_episode: Option<u32>,
    pub last_watched_episode_id: Option<EpisodeId>,
    pub last_watch_date: Option<DateTime<Utc>>,
    /// Distinct aired regular episodes watched.
    pub total_episodes_watched: u32,
    /// Seasons completed once, in season order; never removed.
    pub completed_seasons: Vec<SeasonCompletion>,
    pub is_completed: bool,
    pub completion_date: Option<DateTime<Utc>>,
    /// Latest viewing of any kind (rewatches and specials included).
    pub last_activity_at: Option<DateTime<Utc>>,
    /// Set when the inactivity job has reported this show as abandoned; cleared by a new watch.
    pub inactivity_reported_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

impl ShowProgress {
    pub fn new(user_id: UserId, show_id: ShowId, now: DateTime<Utc>) -> Self {
        Self {
            user_id,
            show_id,
            last_watched_season: None,
            last_watched_episode: None,
            last_watched_episode_id: None,
            last_watch_date: None,
            total_episodes_watched: 0,
            completed_seasons: Vec::new(),
            is_completed: false,
            completion_date: None,
            last_activity_at: None,
            inactivity_reported_at: None,
            updated_at: now,
        }
    }

    pub fn season_completed(&self, number: u32) -> bool {
        self.completed_seasons
            .iter()
            .any(|c| c.season_number == number)
    }
}
