//! What the event handlers keep per user besides statistics: achievements, the watchlist,
//! continuation reminders and genre preferences (SPEC §7).

use chrono::{DateTime, Utc};

use crate::ids::{EpisodeId, ShowId, UserId};
use crate::records::ItemType;

/// A milestone the user reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Achievement {
    /// Whose milestone.
    pub user_id: UserId,
    /// Stable code, e.g. `movies-10`, `marathon`.
    pub code: String,
    /// The name shown to the user.
    pub title: String,
    /// When the viewing that reached it happened.
    pub unlocked_at: DateTime<Utc>,
}

/// A movie or show the user wants to watch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchlistItem {
    /// Whose list.
    pub user_id: UserId,
    /// The movie or show (a catalog id).
    pub content_id: uuid::Uuid,
    /// Whether `content_id` names a movie or a show.
    pub item_type: ItemType,
    /// When it was added (a repeat keeps the first date).
    pub added_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
/// Where a continuation reminder stands.
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
    /// The lowercase name used on the wire and in the stores.
    pub fn as_str(self) -> &'static str {
        match self {
            ReminderStatus::Scheduled => "scheduled",
            ReminderStatus::Sent => "sent",
            ReminderStatus::Cancelled => "cancelled",
            ReminderStatus::Failed => "failed",
        }
    }
    /// The status named by [`ReminderStatus::as_str`], or `None`.
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
    /// This reminder's id; a newer watch gives a new one.
    pub id: uuid::Uuid,
    /// Whom to remind.
    pub user_id: UserId,
    /// The show to come back to.
    pub show_id: ShowId,
    /// The episode waiting: the next one after the last watched.
    pub episode_id: EpisodeId,
    /// Its season number.
    pub season_number: u32,
    /// Its number within the season.
    pub episode_number: u32,
    /// The watch the reminder follows; an older watch arriving late never replaces it.
    pub last_watch_at: DateTime<Utc>,
    /// When the reminder is to be sent.
    pub due_at: DateTime<Utc>,
    /// Scheduled, sent, cancelled or failed.
    pub status: ReminderStatus,
    /// Notification attempts so far.
    pub attempts: u32,
    /// When the notification port took it.
    pub sent_at: Option<DateTime<Utc>>,
    /// Last change of status or attempts.
    pub updated_at: DateTime<Utc>,
}

/// A user's affinity for one genre, in points (tenths of the score shown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenreScore {
    /// The genre's name as the catalog spells it.
    pub genre: String,
    /// Affinity: watching, completing and rewatching raise it.
    pub points: i64,
}
