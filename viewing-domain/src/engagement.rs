//! What the event handlers keep per user besides statistics: achievements, the watchlist,
//! continuation reminders and genre preferences (SPEC §7).

use chrono::{DateTime, Utc};

use crate::ids::{EpisodeId, ShowId, UserId};
use crate::records::ItemType;

/// A milestone the user reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Achievement {
    pub user_id: UserId,
    /// Stable code, e.g. `movies-10`, `marathon`.
    pub code: String,
    pub title: String,
    /// When the viewing that reached it happened.
    pub unlocked_at: DateTime<Utc>,
}

/// A movie or show the user wants to watch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchlistItem {
    pub user_id: UserId,
    pub content_id: uuid::Uuid,
    pub item_type: ItemType,
    pub added_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReminderStatus {
    /// Waiting for `due_at`.
    Scheduled,
    /// Handed to the notification port.
    Sent,
    /// A completion, an abandon or the end of the show made it pointless.
    Cancelled,
    /// The notification port refused it too many times.
    Failed,
}

impl ReminderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ReminderStatus::Scheduled => "scheduled",
            ReminderStatus::Sent => "sent",
            ReminderStatus::Cancelled => "cancelled",
            ReminderStatus::Failed => "failed",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [
            ReminderStatus::Scheduled,
            ReminderStatus::Sent,
            ReminderStatus::Cancelled,
            ReminderStatus::Failed,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
}

/// "You stopped after S2E3 — S2E4 is waiting". One per user and show; a newer watch replaces
/// it with a new `id`, so a notification in flight for the old one cannot mark the new one sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reminder {
    pub id: uuid::Uuid,
    pub user_id: UserId,
    pub show_id: ShowId,
    pub episode_id: EpisodeId,
    pub season_number: u32,
    pub episode_number: u32,
    /// The watch the reminder follows; an older watch arriving late never replaces it.
    pub last_watch_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    pub status: ReminderStatus,
    /// Notification attempts so far.
    pub attempts: u32,
    pub sent_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

/// A user's affinity for one genre, in points (tenths of the score shown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenreScore {
    pub genre: String,
    pub points: i64,
}
