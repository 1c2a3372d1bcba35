//! Domain events and their envelope (SPEC §7). Payload fields are the seed's property names in
//! camelCase; `TimeSpan` values serialise as ISO 8601 durations. The JSON itself is produced
//! outside the domain.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{
    AbandonId, BingeSessionId, EpisodeId, EventId, MovieId, RecordId, SeasonId, ShowId, UserId,
};
use crate::records::{ContentType, ItemType};
use crate::values::{Percent, Rating};

/// `{ schemaVersion, eventId, eventType, occurredAt, userId, payload }`.
///
/// The envelope is always written at [`EventEnvelope::SCHEMA_VERSION`], so the version is not
/// a field: it is added on the way out and checked on the way in. An envelope without
/// `schemaVersion` (written before versions existed) reads as version 1; any other version
/// than this build's is refused ([`UnsupportedSchemaVersion`]), so a relay of an older build
/// parks a newer event as a dead letter instead of misreading it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(into = "WireEnvelope", try_from = "WireEnvelope")]
pub struct EventEnvelope {
    /// Unique per event: consumers drop duplicates by it.
    pub event_id: EventId,
    /// When the command that produced it ran.
    pub occurred_at: DateTime<Utc>,
    /// Whose viewing it is about.
    pub user_id: UserId,
    /// What happened.
    pub event: DomainEvent,
}

impl EventEnvelope {
    /// The envelope schema this build writes and reads.
    pub const SCHEMA_VERSION: u32 = 1;

    /// The event's type name on the wire (see [`DomainEvent::TYPES`]).
    pub fn event_type(&self) -> &'static str {
        self.event.event_type()
    }
}

/// An envelope of another schema version than [`EventEnvelope::SCHEMA_VERSION`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "unsupported schemaVersion {0} (this build reads {v})",
    v = EventEnvelope::SCHEMA_VERSION
)]
pub struct UnsupportedSchemaVersion(pub u32);

/// The envelope as it is on the wire: the event plus its schema version.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireEnvelope {
    /// Absent in envelopes written before versions existed: those are version 1.
    #[serde(default = "first_version")]
    schema_version: u32,
    event_id: EventId,
    occurred_at: DateTime<Utc>,
    user_id: UserId,
    #[serde(flatten)]
    event: DomainEvent,
}

fn first_version() -> u32 {
    1
}

impl From<EventEnvelope> for WireEnvelope {
    fn from(e: EventEnvelope) -> Self {
        Self {
            schema_version: EventEnvelope::SCHEMA_VERSION,
            event_id: e.event_id,
            occurred_at: e.occurred_at,
            user_id: e.user_id,
            event: e.event,
        }
    }
}

impl TryFrom<WireEnvelope> for EventEnvelope {
    type Error = UnsupportedSchemaVersion;

    fn try_from(w: WireEnvelope) -> Result<Self, Self::Error> {
        if w.schema_version != EventEnvelope::SCHEMA_VERSION {
            return Err(UnsupportedSchemaVersion(w.schema_version));
        }
        Ok(Self {
            event_id: w.event_id,
            occurred_at: w.occurred_at,
            user_id: w.user_id,
            event: w.event,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "eventType", content = "payload")]
/// What happened, as consumers (handlers, the broker) receive it: the contract of SPEC §7.
pub enum DomainEvent {
    /// A movie viewing was recorded.
    MovieWatched(MovieWatched),
    #[serde(rename = "TVEpisodeWatched")]
    /// An episode viewing was recorded.
    TvEpisodeWatched(Box<TvEpisodeWatched>),
    #[serde(rename = "TVSeasonCompleted")]
    /// A season was completed for the first time.
    TvSeasonCompleted(TvSeasonCompleted),
    #[serde(rename = "TVShowCompleted")]
    /// A show was completed (every aired regular episode watched, the show finished).
    TvShowCompleted(TvShowCompleted),
    /// A user gave up on a movie or show.
    ViewingAbandoned(ViewingAbandoned),
    /// A user reached a milestone.
    AchievementUnlocked(AchievementUnlocked),
    /// A viewing record was deleted (SPEC §11).
    ViewingRecordDeleted(Box<ViewingRecordDeleted>),
    /// A viewing record was corrected (SPEC §11).
    ViewingRecordEdited(Box<ViewingRecordEdited>),
    /// An abandon was taken back (SPEC §11).
    ViewingAbandonUndone(ViewingAbandonUndone),
    /// A show's progress was reset: a rewatch pass started (SPEC §11).
    ShowProgressReset(ShowProgressReset),
    /// The latest reset of a show's progress was undone (SPEC §11).
    ShowProgressResetUndone(ShowProgressReset),
}

impl DomainEvent {
    /// Every event type name, in the order of the variants.
    pub const TYPES: [&'static str; 11] = [
        "MovieWatched",
        "TVEpisodeWatched",
        "TVSeasonCompleted",
        "TVShowCompleted",
        "ViewingAbandoned",
        "AchievementUnlocked",
        "ViewingRecordDeleted",
        "ViewingRecordEdited",
        "ViewingAbandonUndone",
        "ShowProgressReset",
        "ShowProgressResetUndone",
    ];

    /// This event's type name on the wire.
    pub fn event_type(&self) -> &'static str {
        match self {
            DomainEvent::MovieWatched(_) => Self::TYPES[0],
            DomainEvent::TvEpisodeWatched(_) => Self::TYPES[1],
            DomainEvent::TvSeasonCompleted(_) => Self::TYPES[2],
            DomainEvent::TvShowCompleted(_) => Self::TYPES[3],
            DomainEvent::ViewingAbandoned(_) => Self::TYPES[4],
            DomainEvent::AchievementUnlocked(_) => Self::TYPES[5],
            DomainEvent::ViewingRecordDeleted(_) => Self::TYPES[6],
            DomainEvent::ViewingRecordEdited(_) => Self::TYPES[7],
            DomainEvent::ViewingAbandonUndone(_) => Self::TYPES[8],
            DomainEvent::ShowProgressReset(_) => Self::TYPES[9],
            DomainEvent::ShowProgressResetUndone(_) => Self::TYPES[10],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
/// Payload of `MovieWatched`.
pub struct MovieWatched {
    /// The movie watched.
    pub movie_id: MovieId,
    /// The viewing record this event describes.
    pub record_id: RecordId,
    /// When the viewing finished.
    pub watch_date: DateTime<Utc>,
    /// Where it was watched, as typed.
    pub viewing_location: Option<String>,
    /// Where it was streamed, as typed.
    pub viewing_platform: Option<String>,
    /// With whom.
    pub watched_with: Vec<String>,
    /// Why (a free text such as `date night`).
    pub viewing_context: Option<String>,
    /// Whether the user had seen it before.
    pub is_rewatch: bool,
    /// Minutes the client reported; none means the movie's runtime.
    pub viewing_duration: Option<IsoDuration>,
    /// Recorded by an import of another service's history (SPEC §12): handlers count it,
    /// nobody is reminded of it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub imported: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
/// Payload of `TvEpisodeWatched`.
pub struct TvEpisodeWatched {
    /// The episode watched.
    pub episode_id: EpisodeId,
    /// The record this viewing created.
    pub record_id: RecordId,
    /// Its show.
    pub show_id: ShowId,
    /// Its season number.
    pub season_number: u32,
    /// Its number within the season.
    pub episode_number: u32,
    /// When the viewing finished.
    pub watch_date: DateTime<Utc>,
    /// Where it was streamed, as typed.
    pub platform: Option<String>,
    /// The binge session the record joined, if any yet.
    pub binge_session_id: Option<BingeSessionId>,
    /// How long it was watched (the episode's runtime unless given).
    pub viewing_duration: IsoDuration,
    /// Whether the user had seen it before.
    pub is_rewatch: bool,
    /// Recorded by `markPreviousWatched`.
    pub backfilled: bool,
    /// Other binge sessions of the show this watch changed or removed (a late episode can
    /// join two sessions into one).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub binge_sessions_changed: Vec<BingeSessionId>,
    /// Completions this watch moved that no completion event announces: a back-dated play
    /// that completes a season of an earlier rewatch pass, or moves a completion date.
    #[serde(default, skip_serializing_if = "CompletionChanges::is_empty")]
    pub completions: CompletionChanges,
    /// Recorded by an import of another service's history (SPEC §12): handlers count it,
    /// nobody is reminded of it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub imported: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
/// Payload of `TvSeasonCompleted`.
pub struct TvSeasonCompleted {
    /// The season completed.
    pub season_id: SeasonId,
    /// Its show.
    pub show_id: ShowId,
    /// Its number.
    pub season_number: u32,
    /// When the viewing that completed it finished.
    pub completion_date: DateTime<Utc>,
    /// From the season's first first-time watch to its completion.
    pub binge_duration: IsoDuration,
    /// Regular episodes of the season watched.
    pub episodes_watched: u32,
    /// The rating the user gave with the completing watch.
    pub season_rating: Option<Rating>,
    /// Whether the user means to watch the next season.
    pub next_season_intent: bool,
    /// The rewatch pass it was completed in (1 before any reset).
    #[serde(default = "first_pass")]
    pub pass: u32,
}

fn first_pass() -> u32 {
    1
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
/// Payload of `TvShowCompleted`.
pub struct TvShowCompleted {
    /// The show completed.
    pub show_id: ShowId,
    /// When the viewing that completed it finished.
    pub completion_date: DateTime<Utc>,
    /// Aired regular episodes of the show.
    pub total_episodes: u32,
    /// Sum of the first-time watch durations.
    pub total_viewing_time: IsoDuration,
    /// The rating the user gave with the completing watch.
    pub overall_rating: Option<Rating>,
    /// Whether the user would watch it again.
    pub rewatch_interest: bool,
    /// The user's reaction to the finale, as typed.
    pub series_finale_reaction: Option<String>,
    /// The rewatch pass it was completed in (1 before any reset).
    #[serde(default = "first_pass")]
    pub pass: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
/// Payload of `ShowProgressReset` and `ShowProgressResetUndone` (SPEC §11 rewatch passes).
pub struct ShowProgressReset {
    /// The show.
    pub show_id: ShowId,
    /// The pass current after the reset (or after its undo).
    pub pass: u32,
    /// When the reset happened (for an undo: the reset undone).
    pub reset_at: DateTime<Utc>,
    /// How the show's completions changed: plays dated after the reset move to the new pass,
    /// and an undone reset merges its pass into the one before.
    #[serde(default)]
    pub completions: CompletionChanges,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
/// Payload of `ViewingAbandoned`.
pub struct ViewingAbandoned {
    /// The movie or show given up.
    pub item_id: uuid::Uuid,
    /// Whether it is a movie or a show.
    pub item_type: ItemType,
    /// When the user gave up.
    pub abandon_date: DateTime<Utc>,
    /// How far they got.
    pub progress_percent: Percent,
    /// Why, as typed.
    pub abandon_reason: Option<String>,
    /// What they thought of it.
    pub quality_rating: Option<Rating>,
    /// Whether they might try again.
    pub would_retry: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
/// Payload of `ViewingAbandonUndone`: the abandon record that was deleted, as it was.
pub struct ViewingAbandonUndone {
    /// The deleted abandon record.
    pub abandon_id: AbandonId,
    /// The movie or show no longer abandoned.
    pub item_id: uuid::Uuid,
    /// Whether it is a movie or a show.
    pub item_type: ItemType,
    /// When the user had given up.
    pub abandon_date: DateTime<Utc>,
    /// The quality rating the abandon carried.
    pub quality_rating: Option<Rating>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
/// Payload of `AchievementUnlocked`.
pub struct AchievementUnlocked {
    /// Stable code, e.g. `movies-10`, `marathon`.
    pub achievement: String,
    /// The name shown to the user.
    pub title: String,
    /// When the viewing that reached it happened.
    pub unlocked_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
/// Payload of `ViewingRecordDeleted`: the play that went, and what its going changed in the
/// user's other records of the item and in the show's completions, so the handlers can undo
/// exactly what the play added.
pub struct ViewingRecordDeleted {
    /// The deleted record.
    pub record_id: RecordId,
    /// The movie or episode it was a play of.
    pub content_id: uuid::Uuid,
    /// Movie or episode.
    pub content_type: ContentType,
    /// The episode's show.
    pub show_id: Option<ShowId>,
    /// The episode's season number.
    pub season_number: Option<u32>,
    /// The episode's number within its season.
    pub episode_number: Option<u32>,
    /// When the play finished.
    pub watch_date: DateTime<Utc>,
    /// Its recorded duration (none: the catalog runtime counted).
    pub viewing_duration: Option<IsoDuration>,
    /// Where it was streamed, as typed.
    pub platform: Option<String>,
    /// Whether it was a rewatch.
    pub was_rewatch: bool,
    /// Plays of the same item that became its first watch in its place.
    #[serde(default)]
    pub promoted: Vec<PlayRef>,
    /// How the show's season and show completions changed.
    #[serde(default)]
    pub completions: CompletionChanges,
    /// The show's binge sessions the deletion changed, created or removed.
    #[serde(default)]
    pub binge_session_ids: Vec<BingeSessionId>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
/// Payload of `ViewingRecordEdited`: the play before and after the correction, and what the
/// correction changed in the show's completions and binge sessions.
pub struct ViewingRecordEdited {
    /// The corrected record.
    pub record_id: RecordId,
    /// The play as it was.
    pub before: PlayFacts,
    /// The play as it is now.
    pub after: PlayFacts,
    /// How the show's season and show completions changed.
    #[serde(default)]
    pub completions: CompletionChanges,
    /// The show's binge sessions the correction changed, created or removed.
    #[serde(default)]
    pub binge_session_ids: Vec<BingeSessionId>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
/// What statistics and consumers need of one play.
pub struct PlayFacts {
    /// The movie or episode.
    pub content_id: uuid::Uuid,
    /// Movie or episode.
    pub content_type: ContentType,
    /// The episode's show.
    pub show_id: Option<ShowId>,
    /// When the play finished.
    pub watch_date: DateTime<Utc>,
    /// Its recorded duration (none: the catalog runtime counts).
    pub viewing_duration: Option<IsoDuration>,
    /// Where it was streamed, as typed.
    pub platform: Option<String>,
    /// Where it was watched, as typed.
    pub viewing_location: Option<String>,
    /// Why or how, as typed.
    pub viewing_context: Option<String>,
    /// With whom.
    pub watched_with: Vec<String>,
    /// Whether it is a rewatch.
    pub is_rewatch: bool,
    /// Its binge session.
    pub binge_session_id: Option<BingeSessionId>,
}

impl PlayFacts {
    /// The facts of a record.
    pub fn of(r: &crate::records::ViewingRecord) -> Self {
        Self {
            content_id: r.watched.content_id(),
            content_type: r.watched.content_type(),
            show_id: r.watched.show_id(),
            watch_date: r.watch_date,
            viewing_duration: r
                .viewing_duration
                .map(|d| IsoDuration::from_minutes(d.get())),
            platform: r.platform.as_ref().map(|p| p.as_str().to_owned()),
            viewing_location: r.viewing_location.as_ref().map(|l| l.as_str().to_owned()),
            viewing_context: r.viewing_context.as_ref().map(|c| c.as_str().to_owned()),
            watched_with: r
                .watched_with
                .names()
                .iter()
                .map(|n| n.as_str().to_owned())
                .collect(),
            is_rewatch: r.is_rewatch,
            binge_session_id: r.binge_session_id,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
/// One play, by id and date.
pub struct PlayRef {
    /// The record.
    pub record_id: RecordId,
    /// When the play finished.
    pub watch_date: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
/// Completions a correction took away or added (a season completed at another date is both),
/// over every rewatch pass.
pub struct CompletionChanges {
    /// Completion dates of seasons no longer completed then.
    pub seasons_removed: Vec<DateTime<Utc>>,
    /// Completion dates of seasons completed anew.
    pub seasons_added: Vec<DateTime<Utc>>,
    /// Completion dates of the show no longer completed then (one per pass).
    #[serde(default)]
    pub show_removed: Vec<DateTime<Utc>>,
    /// New completion dates of the show (one per pass).
    #[serde(default)]
    pub show_added: Vec<DateTime<Utc>>,
}

impl CompletionChanges {
    /// Nothing changed.
    pub fn is_empty(&self) -> bool {
        self.seasons_removed.is_empty()
            && self.seasons_added.is_empty()
            && self.show_removed.is_empty()
            && self.show_added.is_empty()
    }

    /// Net change in the number of completed shows.
    pub fn shows_net(&self) -> i64 {
        self.show_added.len() as i64 - self.show_removed.len() as i64
    }
}

/// A .NET `TimeSpan` on the wire: an ISO 8601 duration such as `PT45M` or `PT26H5M`.
/// Whole seconds; negative spans are clamped to zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct IsoDuration(i64);

impl IsoDuration {
    /// Whole seconds of `d`; negative spans become zero.
    pub fn from_duration(d: Duration) -> Self {
        Self(d.num_seconds().max(0))
    }
    /// `m` minutes.
    pub fn from_minutes(m: u32) -> Self {
        Self(i64::from(m) * 60)
    }
    /// Whole seconds.
    pub fn seconds(self) -> i64 {
        self.0
    }
    /// As a chrono duration.
    pub fn to_duration(self) -> Duration {
        Duration::seconds(self.0)
    }
    /// Parses the `PT#H#M#S` form this type writes (and `P#D` days, `W` weeks).
    pub fn parse(s: &str) -> Option<Self> {
        let rest = s.strip_prefix('P')?;
        let (date, time) = match rest.split_once('T') {
            Some((d, t)) => (d, Some(t)),
            None => (rest, None),
        };
        let mut secs: i64 = 0;
        let mut read = |part: &str, units: &[(char, i64)]| -> Option<()> {
            let mut num = String::new();
            for c in part.chars() {
                if c.is_ascii_digit() {
                    num.push(c);
                } else {
                    let mult = units.iter().find(|(u, _)| *u == c)?.1;
                    let n: i64 = num.parse().ok()?;
                    secs = secs.checked_add(n.checked_mul(mult)?)?;
                    num.clear();
                }
            }
            num.is_empty().then_some(())
        };
        read(date, &[('W', 604_800), ('D', 86_400)])?;
        if let Some(t) = time {
            if t.is_empty() {
                return None;
            }
            read(t, &[('H', 3_600), ('M', 60), ('S', 1)])?;
        }
        Some(Self(secs))
    }
}

impl std::fmt::Display for IsoDuration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (h, m, s) = (self.0 / 3_600, (self.0 % 3_600) / 60, self.0 % 60);
        if self.0 == 0 {
            return f.write_str("PT0S");
        }
        f.write_str("PT")?;
        if h > 0 {
            write!(f, "{h}H")?;
        }
        if m > 0 {
            write!(f, "{m}M")?;
        }
        if s > 0 {
            write!(f, "{s}S")?;
        }
        Ok(())
    }
}

impl Serialize for IsoDuration {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for IsoDuration {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        IsoDuration::parse(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("not an ISO 8601 duration: {s}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn durations_print_as_iso_8601() {
        assert_eq!(IsoDuration::from_minutes(45).to_string(), "PT45M");
        assert_eq!(IsoDuration::from_minutes(90).to_string(), "PT1H30M");
        assert_eq!(IsoDuration::from_minutes(0).to_string(), "PT0S");
        assert_eq!(IsoDuration(26 * 3600 + 5).to_string(), "PT26H5S");
        assert_eq!(IsoDuration::parse("P1DT2H"), Some(IsoDuration(93_600)));
        assert_eq!(IsoDuration::parse("PT"), None);
        assert_eq!(IsoDuration::parse("45M"), None);
    }

    proptest! {
        #[test]
        fn durations_round_trip(secs in 0i64..10_000_000) {
            let d = IsoDuration(secs);
            prop_assert_eq!(IsoDuration::parse(&d.to_string()), Some(d));
        }
    }
}
