//! Recording a movie. Every viewing is its own record; rewatches never overwrite.

use chrono::{DateTime, Utc};

use crate::catalog::Movie;
use crate::events::{DomainEvent, IsoDuration, MovieWatched};
use crate::ids::{RecordId, UserId};
use crate::records::{Origin, ViewingRecord, Watched};
use crate::values::{
    Companions, Minutes, Platform, ValidationError, ViewingContext, ViewingLocation, watch_date,
};

#[derive(Debug, Clone, Default, PartialEq)]
/// The command "I watched this movie" (SPEC §5), its values already valid.
pub struct WatchMovie {
    /// When the viewing finished; now by default.
    pub watch_date: Option<DateTime<Utc>>,
    /// Where it was watched.
    pub viewing_location: Option<ViewingLocation>,
    /// Where it was streamed.
    pub viewing_platform: Option<Platform>,
    /// With whom.
    pub watched_with: Companions,
    /// Why or how.
    pub viewing_context: Option<ViewingContext>,
    /// When omitted: true exactly when the user already has a record of the movie.
    pub is_rewatch: Option<bool>,
    /// How long; the runtime by default.
    pub viewing_duration: Option<Minutes>,
}

#[derive(Debug, Clone, PartialEq)]
/// What a movie watch writes.
pub struct MovieWatchDecision {
    /// The record.
    pub record: ViewingRecord,
    /// Its `MovieWatched` event.
    pub event: DomainEvent,
}

/// Decides the record and event of a movie viewing. `earlier_records` is how many records the
/// user already has of this movie.
pub fn decide_watch_movie(
    user: UserId,
    movie: &Movie,
    cmd: WatchMovie,
    earlier_records: u64,
    record_id: RecordId,
    now: DateTime<Utc>,
) -> Result<MovieWatchDecision, ValidationError> {
    decide_record_movie(
        user,
        movie,
        cmd,
        earlier_records,
        record_id,
        Origin::Manual,
        now,
    )
}

/// [`decide_watch_movie`] for a play that comes from elsewhere: its record carries `origin`,
/// and an imported one's `MovieWatched` says `imported` (SPEC §12).
pub fn decide_record_movie(
    user: UserId,
    movie: &Movie,
    cmd: WatchMovie,
    earlier_records: u64,
    record_id: RecordId,
    origin: Origin,
    now: DateTime<Utc>,
) -> Result<MovieWatchDecision, ValidationError> {
    let at = watch_date("watchDate", cmd.watch_date, now)?;
    let is_rewatch = cmd.is_rewatch.unwrap_or(earlier_records > 0);
    let record = ViewingRecord {
        id: record_id,
        user_id: user,
        watched: Watched::Movie(movie.id),
        watch_date: at,
        platform: cmd.viewing_platform,
        viewing_location: cmd.viewing_location,
        viewing_context: cmd.viewing_context,
        watched_with: cmd.watched_with,
        is_rewatch,
        viewing_duration: cmd.viewing_duration,
        binge_session_id: None,
        binge_session_pinned: false,
        backfilled: false,
        created_at: now,
        origin,
    };
    let text = |v: Option<&str>| v.map(str::to_owned);
    let event = DomainEvent::MovieWatched(MovieWatched {
        movie_id: movie.id,
        record_id: record.id,
        watch_date: at,
        viewing_location: text(record.viewing_location.as_ref().map(|v| v.as_str())),
        viewing_platform: text(record.platform.as_ref().map(|v| v.as_str())),
        watched_with: record
            .watched_with
            .names()
            .iter()
            .map(|n| n.as_str().to_owned())
            .collect(),
        viewing_context: text(record.viewing_context.as_ref().map(|v| v.as_str())),
        is_rewatch,
        viewing_duration: record
            .viewing_duration
            .map(|m| IsoDuration::from_minutes(m.get())),
        imported: origin == Origin::Import,
    });
    Ok(MovieWatchDecision { record, event })
}
