//! Abandoning a movie or a show, explicitly or by inactivity.

use chrono::{DateTime, Utc};

use crate::events::{DomainEvent, ViewingAbandoned};
use crate::ids::{AbandonId, UserId};
use crate::records::{AbandonRecord, ItemType, ShowProgress};
use crate::rules::RulesConfig;
use crate::values::{AbandonReason, Percent, Rating, ValidationError, watch_date};

#[derive(Debug, Clone, Default, PartialEq)]
/// The command "I gave up on this movie or show" (SPEC §5), its values already valid.
pub struct Abandon {
    /// When; now by default, never in the future.
    pub abandon_date: Option<DateTime<Utc>>,
    /// How far the user got; computed from progress when omitted.
    pub progress_percent: Option<Percent>,
    /// Why.
    pub abandon_reason: Option<AbandonReason>,
    /// What they thought of it.
    pub quality_rating: Option<Rating>,
    /// Whether they might try again (false when omitted).
    pub would_retry: Option<bool>,
}

/// The reason the inactivity job gives: "no activity for 90 days" with the default limit.
pub fn inactivity_reason(rules: &RulesConfig) -> String {
    format!("no activity for {} days", rules.inactivity.num_days())
}

#[derive(Debug, Clone, PartialEq)]
/// What an abandon writes.
pub struct AbandonDecision {
    /// The abandon record.
    pub record: AbandonRecord,
    /// Its `ViewingAbandoned` event.
    pub event: DomainEvent,
}

/// Decides an abandon record. `current_percent` is the show's completion percent (0 for a
/// movie), used when the client gives none.
pub fn decide_abandon(
    user: UserId,
    item_id: uuid::Uuid,
    item_type: ItemType,
    cmd: Abandon,
    current_percent: Percent,
    id: AbandonId,
    now: DateTime<Utc>,
) -> Result<AbandonDecision, ValidationError> {
    let at = watch_date("abandonDate", cmd.abandon_date, now)?;
    let record = AbandonRecord {
        id,
        user_id: user,
        item_id,
        item_type,
        abandon_date: at,
        progress_percent: cmd.progress_percent.unwrap_or(current_percent),
        abandon_reason: cmd.abandon_reason,
        quality_rating: cmd.quality_rating,
        would_retry: cmd.would_retry.unwrap_or(false),
        created_at: now,
    };
    let event = abandoned_event(&record);
    Ok(AbandonDecision { record, event })
}

/// The `ViewingAbandoned` event of a record (also used by the inactivity job).
pub fn abandoned_event(record: &AbandonRecord) -> DomainEvent {
    DomainEvent::ViewingAbandoned(ViewingAbandoned {
        item_id: record.item_id,
        item_type: record.item_type,
        abandon_date: record.abandon_date,
        progress_percent: record.progress_percent,
        abandon_reason: record
            .abandon_reason
            .as_ref()
            .map(|r| r.as_str().to_owned()),
        quality_rating: record.quality_rating,
        would_retry: record.would_retry,
    })
}

/// Whether the inactivity job must report this show now: in progress, not completed, idle for
/// longer than the limit, and not reported since its last activity.
pub fn is_inactive(progress: &ShowProgress, now: DateTime<Utc>, rules: &RulesConfig) -> bool {
    !progress.is_completed
        && progress.total_episodes_watched > 0
        && progress.inactivity_reported_at.is_none()
        && progress
            .last_activity_at
            .is_some_and(|last| now - last > rules.inactivity)
}

/// The event the inactivity job emits (no abandon record is written: the show reads as
/// `stalled`, and a watch resumes it).
pub fn inactivity_event(
    progress: &ShowProgress,
    percent: Percent,
    now: DateTime<Utc>,
    rules: &RulesConfig,
) -> DomainEvent {
    DomainEvent::ViewingAbandoned(ViewingAbandoned {
        item_id: progress.show_id.as_uuid(),
        item_type: ItemType::Show,
        abandon_date: now,
        progress_percent: percent,
        abandon_reason: Some(inactivity_reason(rules)),
        quality_rating: None,
        would_retry: true,
    })
}

/// `ViewingAbandonUndone` for a deleted abandon record (SPEC §11): the item is no longer
/// abandoned, and what the abandon counted goes.
pub fn abandon_undone(record: &AbandonRecord) -> DomainEvent {
    DomainEvent::ViewingAbandonUndone(crate::events::ViewingAbandonUndone {
        abandon_id: record.id,
        item_id: record.item_id,
        item_type: record.item_type,
        abandon_date: record.abandon_date,
        quality_rating: record.quality_rating,
    })
}
