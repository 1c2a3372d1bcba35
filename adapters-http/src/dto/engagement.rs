//! What the event handlers keep per user (SPEC §7): achievements, the watchlist, continuation
//! reminders, genre preferences. Every list is the caller's own.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;
use viewing_app::domain::ItemType;
use viewing_app::domain::engagement::{Achievement, Reminder, ReminderStatus, WatchlistItem};
use viewing_app::engagement::GenrePreference;

use super::viewing::ItemTypeDto;

/// A milestone the caller reached.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AchievementDto {
    /// Stable code: `first-movie`, `movies-10` … `movies-1000`, `episodes-100` …
    /// `episodes-1000`, `first-show-completed`, `shows-completed-10`, `marathon`.
    #[schema(example = "first-movie")]
    pub code: String,
    #[schema(example = "First movie")]
    pub title: String,
    /// When the viewing that reached it happened.
    pub unlocked_at: DateTime<Utc>,
}

impl From<&Achievement> for AchievementDto {
    fn from(a: &Achievement) -> Self {
        Self {
            code: a.code.clone(),
            title: a.title.clone(),
            unlocked_at: a.unlocked_at,
        }
    }
}

/// `GET /api/viewing/achievements`: unlocked ones, oldest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AchievementsDto {
    pub items: Vec<AchievementDto>,
}

/// A movie or show on the caller's watchlist.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WatchlistItemDto {
    /// The movie's or the show's id.
    pub content_id: Uuid,
    pub item_type: ItemTypeDto,
    /// When it was first added (adding it again keeps this date).
    pub added_at: DateTime<Utc>,
}

impl From<&WatchlistItem> for WatchlistItemDto {
    fn from(w: &WatchlistItem) -> Self {
        Self {
            content_id: w.content_id,
            item_type: match w.item_type {
                ItemType::Movie => ItemTypeDto::Movie,
                ItemType::Show => ItemTypeDto::Show,
            },
            added_at: w.added_at,
        }
    }
}

/// `GET /api/watchlist`: newest first. A watched movie or a completed show leaves it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WatchlistDto {
    pub items: Vec<WatchlistItemDto>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReminderStatusDto {
    /// Waiting for `dueAt`.
    Scheduled,
    /// Handed to the notification port.
    Sent,
    /// A completion or an abandon made it pointless.
    Cancelled,
    /// The notification port refused it too many times.
    Failed,
}

impl From<ReminderStatus> for ReminderStatusDto {
    fn from(s: ReminderStatus) -> Self {
        match s {
            ReminderStatus::Scheduled => Self::Scheduled,
            ReminderStatus::Sent => Self::Sent,
            ReminderStatus::Cancelled => Self::Cancelled,
            ReminderStatus::Failed => Self::Failed,
        }
    }
}

/// "You stopped after S2E3 — S2E4 is waiting": one per show, replaced by each newer watch.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReminderDto {
    /// Changes whenever a newer watch reschedules the reminder.
    pub id: Uuid,
    pub show_id: Uuid,
    /// The episode to watch next.
    pub episode_id: Uuid,
    pub season_number: u32,
    pub episode_number: u32,
    /// The watch the reminder follows.
    pub last_watch_at: DateTime<Utc>,
    /// When it is (or was) due; moved forward while a notification is retried.
    pub due_at: DateTime<Utc>,
    pub status: ReminderStatusDto,
    /// Notification attempts so far.
    pub attempts: u32,
    pub sent_at: Option<DateTime<Utc>>,
}

impl From<&Reminder> for ReminderDto {
    fn from(r: &Reminder) -> Self {
        Self {
            id: r.id,
            show_id: r.show_id.as_uuid(),
            episode_id: r.episode_id.as_uuid(),
            season_number: r.season_number,
            episode_number: r.episode_number,
            last_watch_at: r.last_watch_at,
            due_at: r.due_at,
            status: r.status.into(),
            attempts: r.attempts,
            sent_at: r.sent_at,
        }
    }
}

/// `GET /api/viewing/reminders`: every reminder of the caller, by due date.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RemindersDto {
    pub items: Vec<ReminderDto>,
}

/// One genre and the caller's affinity for it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GenrePreferenceDto {
    /// 1 is the favourite.
    pub rank: u32,
    pub genre: String,
    /// Watching, completing and rewatching raise it; abandoning with a low quality rating
    /// lowers it (may be negative).
    pub score: f64,
}

impl From<&GenrePreference> for GenrePreferenceDto {
    fn from(g: &GenrePreference) -> Self {
        Self {
            rank: g.rank,
            genre: g.genre.clone(),
            score: g.score,
        }
    }
}

/// `GET /api/viewing/preferences`: genres by affinity, highest first (ties by name).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PreferencesDto {
    pub genres: Vec<GenrePreferenceDto>,
}
