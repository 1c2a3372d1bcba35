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
/// Whether a record is of a movie or an episode.
pub enum ContentType {
    /// A movie viewing.
    Movie,
    /// An episode viewing.
    Episode,
}

impl ContentType {
    /// The lowercase name used on the wire and in the stores.
    pub fn as_str(self) -> &'static str {
        match self {
            ContentType::Movie => "movie",
            ContentType::Episode => "episode",
        }
    }
    /// The type named by `as_str`, or `None`.
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
    /// A movie.
    Movie(MovieId),
    /// An episode, with where it sits in its show (kept so reads need not load the catalog).
    Episode {
        /// The episode.
        episode_id: EpisodeId,
        /// Its show.
        show_id: ShowId,
        /// Its season number (0: specials).
        season_number: u32,
        /// Its number within the season.
        episode_number: u32,
    },
}

impl Watched {
    /// Movie or episode.
    pub fn content_type(&self) -> ContentType {
        match self {
            Watched::Movie(_) => ContentType::Movie,
            Watched::Episode { .. } => ContentType::Episode,
        }
    }
    /// The movie's or the episode's id.
    pub fn content_id(&self) -> uuid::Uuid {
        match self {
            Watched::Movie(id) => id.as_uuid(),
            Watched::Episode { episode_id, .. } => episode_id.as_uuid(),
        }
    }
    /// The show of an episode record; `None` for a movie.
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

/// Where a play came from (SPEC §11): recorded by the user, imported from another service,
/// reported by a player, or by a media server's webhook.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// Recorded through the API by the user.
    #[default]
    Manual,
    /// Imported from another service's export.
    Import,
    /// Reported by a player through the playback API.
    Playback,
    /// Delivered by a media server's webhook.
    Webhook,
}

impl Origin {
    /// The lowercase name used on the wire and in the stores.
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Manual => "manual",
            Origin::Import => "import",
            Origin::Playback => "playback",
            Origin::Webhook => "webhook",
        }
    }
    /// The origin named by `as_str`, or `None`.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Origin::Manual,
            Origin::Import,
            Origin::Playback,
            Origin::Webhook,
        ]
        .into_iter()
        .find(|o| o.as_str() == s)
    }
}

/// One viewing of a movie or an episode. Every viewing is its own record; rewatches never
/// overwrite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewingRecord {
    /// Its id.
    pub id: RecordId,
    /// Whose viewing.
    pub user_id: UserId,
    /// What was watched.
    pub watched: Watched,
    /// When the viewing finished.
    pub watch_date: DateTime<Utc>,
    /// Where it was streamed.
    pub platform: Option<Platform>,
    /// Where it was watched.
    pub viewing_location: Option<ViewingLocation>,
    /// Why or how it was watched.
    pub viewing_context: Option<ViewingContext>,
    /// With whom.
    pub watched_with: Companions,
    /// Seen before: the first viewing of an item is the one that counts for progress.
    pub is_rewatch: bool,
    /// Whole minutes watched. Episodes default to their runtime; movies keep what the client
    /// said (none: the catalog runtime counts).
    pub viewing_duration: Option<Minutes>,
    /// The binge session the record belongs to, if any (SPEC §5).
    pub binge_session_id: Option<BingeSessionId>,
    /// True when the client named the binge session itself; such a record stays in it.
    pub binge_session_pinned: bool,
    /// Recorded by `markPreviousWatched` on behalf of a later episode; never part of a binge.
    pub backfilled: bool,
    /// When it was recorded (not when it was watched).
    pub created_at: DateTime<Utc>,
    /// Where it came from.
    pub origin: Origin,
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
/// Whether an abandon or a watchlist entry is of a movie or a show.
pub enum ItemType {
    /// A movie.
    Movie,
    /// A show.
    Show,
}

impl ItemType {
    /// The lowercase name used on the wire and in the stores.
    pub fn as_str(self) -> &'static str {
        match self {
            ItemType::Movie => "movie",
            ItemType::Show => "show",
        }
    }
    /// The type named by `as_str`, or `None`.
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
    /// Its id.
    pub id: AbandonId,
    /// Who gave up.
    pub user_id: UserId,
    /// The movie or show.
    pub item_id: uuid::Uuid,
    /// Movie or show.
    pub item_type: ItemType,
    /// When they gave up.
    pub abandon_date: DateTime<Utc>,
    /// How far they got.
    pub progress_percent: Percent,
    /// Why, as typed.
    pub abandon_reason: Option<AbandonReason>,
    /// What they thought of it.
    pub quality_rating: Option<Rating>,
    /// Whether they might try again.
    pub would_retry: bool,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
}

/// Consecutive episodes of one show watched close together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BingeSession {
    /// Its id; records name it in `binge_session_id`.
    pub id: BingeSessionId,
    /// Whose session.
    pub user_id: UserId,
    /// Of which show.
    pub show_id: ShowId,
    /// Watch date of its first episode.
    pub start_time: DateTime<Utc>,
    /// Watch date of its last episode.
    pub end_time: DateTime<Utc>,
    /// How many episodes it holds.
    pub episodes_watched: u32,
    /// When it was first written.
    pub created_at: DateTime<Utc>,
}

/// A season watched in full for the first time (in a pass: SPEC §11).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SeasonCompletion {
    /// The season.
    pub season_id: SeasonId,
    /// Its number.
    pub season_number: u32,
    /// When the viewing that completed it finished.
    pub completed_at: DateTime<Utc>,
}

/// The stored summary of one user's progress in one show, updated in the same unit of work as
/// the records it summarises.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShowProgress {
    /// Whose progress.
    pub user_id: UserId,
    /// In which show.
    pub show_id: ShowId,
    /// Season of the latest regular episode watched.
    pub last_watched_season: Option<u32>,
    /// Its number within the season.
    pub last_watched_episode: Option<u32>,
    /// Its id.
    pub last_watched_episode_id: Option<EpisodeId>,
    /// When it was watched.
    pub last_watch_date: Option<DateTime<Utc>>,
    /// Distinct aired regular episodes watched.
    pub total_episodes_watched: u32,
    /// Seasons completed once, in season order; never removed.
    pub completed_seasons: Vec<SeasonCompletion>,
    /// Every aired regular episode watched and the show finished.
    pub is_completed: bool,
    /// When that first happened.
    pub completion_date: Option<DateTime<Utc>>,
    /// Latest viewing of any kind (rewatches and specials included).
    pub last_activity_at: Option<DateTime<Utc>>,
    /// Set when the inactivity job has reported this show as abandoned; cleared by a new watch.
    pub inactivity_reported_at: Option<DateTime<Utc>>,
    /// Last write of this summary.
    pub updated_at: DateTime<Utc>,
    /// When the current rewatch pass started (`None`: the first pass, never reset).
    pub reset_at: Option<DateTime<Utc>>,
    /// The passes before the current one, oldest first (SPEC §11 rewatch passes).
    pub earlier_passes: Vec<PassSummary>,
}

/// A rewatch pass that a reset closed: when it started and what it completed. The fields
/// above `reset_at` in [`ShowProgress`] describe the current pass only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PassSummary {
    /// When the pass started (`None` for the first pass).
    pub started_at: Option<DateTime<Utc>>,
    /// Seasons completed in the pass, in season order.
    pub completed_seasons: Vec<SeasonCompletion>,
    /// When the (finished) show was completed in the pass.
    pub completion_date: Option<DateTime<Utc>>,
}

impl ShowProgress {
    /// A user's progress in a show before any watch.
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
            reset_at: None,
            earlier_passes: Vec::new(),
        }
    }

    /// The current rewatch pass: 1 before any reset.
    pub fn pass(&self) -> u32 {
        u32::try_from(self.earlier_passes.len()).map_or(u32::MAX, |n| n.saturating_add(1))
    }

    /// Every pass, the current one last, as the completions it holds.
    pub fn passes(&self) -> Vec<PassSummary> {
        let mut all = self.earlier_passes.clone();
        all.push(PassSummary {
            started_at: self.reset_at,
            completed_seasons: self.completed_seasons.clone(),
            completion_date: self.completion_date.filter(|_| self.is_completed),
        });
        all
    }

    /// Whether season `number` has been completed once.
    pub fn season_completed(&self, number: u32) -> bool {
        self.completed_seasons
            .iter()
            .any(|c| c.season_number == number)
    }
}
