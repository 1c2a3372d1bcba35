//! Recording viewing (SPEC §5): request bodies and the records they answer.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use viewing_app::domain::rules::abandon::Abandon;
use viewing_app::domain::rules::episode::WatchEpisode;
use viewing_app::domain::rules::history::EditRecord;
use viewing_app::domain::rules::movie::WatchMovie;
use viewing_app::domain::values::{
    AbandonReason, Companions, FinaleReaction, Minutes, Percent, Platform, Rating, ViewingContext,
    ViewingLocation,
};
use viewing_app::domain::{
    AbandonRecord, BingeSession, BingeSessionId, ContentType, ItemType, ViewingRecord, Watched,
};
use viewing_app::viewing::EpisodeWatched;

use crate::error::ApiError;
use crate::sanitize::{Checker, plain_field};

/// `POST /api/viewing/movies/{movieId}/watched`. Every field is optional; an empty body is `{}`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WatchMovieRequest {
    /// When the viewing finished (RFC 3339, 1900-01-01T00:00:00Z or later). Default now; at
    /// most 5 minutes ahead.
    pub watch_date: Option<DateTime<Utc>>,
    /// At most 200 characters.
    pub viewing_location: Option<String>,
    /// At most 100 characters.
    pub viewing_platform: Option<String>,
    /// Another name for `viewingPlatform` (as the episode body calls it); not both.
    pub platform: Option<String>,
    /// At most 20 names of at most 200 characters.
    pub watched_with: Option<Vec<String>>,
    /// At most 50 characters.
    pub viewing_context: Option<String>,
    /// Default: true exactly when the user already has a record of this movie.
    pub is_rewatch: Option<bool>,
    /// Whole minutes watched (default: the catalog runtime counts).
    #[schema(minimum = 0, maximum = 1440)]
    #[serde(default, deserialize_with = "super::whole::opt_i64")]
    pub viewing_duration: Option<i64>,
}

/// `POST /api/viewing/episodes/{episodeId}/watched`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WatchEpisodeRequest {
    /// When the viewing finished (RFC 3339, 1900-01-01T00:00:00Z or later). Default now; at
    /// most 5 minutes ahead.
    pub watch_date: Option<DateTime<Utc>>,
    /// At most 100 characters.
    pub platform: Option<String>,
    /// Another name for `platform` (as the movie body calls it); not both.
    pub viewing_platform: Option<String>,
    /// Join (or create with this id) a binge session of this show.
    pub binge_session_id: Option<Uuid>,
    /// Whole minutes (default: the episode's runtime).
    #[schema(minimum = 0, maximum = 1440)]
    #[serde(default, deserialize_with = "super::whole::opt_i64")]
    pub viewing_duration: Option<i64>,
    /// Record the missing earlier episodes first (same watch date, backfilled).
    pub mark_previous_watched: Option<bool>,
    /// 0.0–10.0 with at most one decimal (a multiple of 0.1).
    #[schema(minimum = 0.0, maximum = 10.0, multiple_of = 0.1)]
    pub season_rating: Option<f64>,
    pub next_season_intent: Option<bool>,
    /// 0.0–10.0 with at most one decimal (a multiple of 0.1).
    #[schema(minimum = 0.0, maximum = 10.0, multiple_of = 0.1)]
    pub overall_rating: Option<f64>,
    pub rewatch_interest: Option<bool>,
    /// At most 500 characters.
    pub series_finale_reaction: Option<String>,
}

/// `POST /api/viewing/{itemId}/abandon`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AbandonRequest {
    /// When the user stopped (RFC 3339, 1900-01-01T00:00:00Z or later). Default now; at most 5
    /// minutes ahead.
    pub abandon_date: Option<DateTime<Utc>>,
    /// 0–100 (default: 0 for a movie, the completion percent for a show).
    #[schema(minimum = 0.0, maximum = 100.0)]
    pub progress_percent: Option<f64>,
    /// At most 500 characters.
    pub abandon_reason: Option<String>,
    /// 0.0–10.0 with at most one decimal (a multiple of 0.1).
    #[schema(minimum = 0.0, maximum = 10.0, multiple_of = 0.1)]
    pub quality_rating: Option<f64>,
    pub would_retry: Option<bool>,
}

/// The platform under either of its names; both at once is refused.
fn either_platform(
    c: &mut Checker,
    (name, value): (&'static str, Option<String>),
    (alias, alias_value): (&'static str, Option<String>),
) -> Option<Platform> {
    match (value, alias_value) {
        (Some(_), Some(_)) => {
            c.push(
                alias,
                format!("another name for {name}: give one of them, not both"),
            );
            None
        }
        (Some(v), None) => c.text(name, Some(&v), Platform::parse),
        (None, Some(v)) => c.text(alias, Some(&v), Platform::parse),
        (None, None) => None,
    }
}

/// `PATCH /api/viewing/records/{recordId}`: a field left out stays as it is; `null` clears it.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EditRecordRequest {
    /// When the viewing finished (RFC 3339, 1900-01-01T00:00:00Z or later), at most 5 minutes
    /// ahead. Cannot be cleared (`null` is refused).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = DateTime<Utc>)]
    pub watch_date: Option<Option<DateTime<Utc>>>,
    /// At most 100 characters; `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub platform: Option<Option<String>>,
    /// Another name for `platform`; not both.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub viewing_platform: Option<Option<String>>,
    /// At most 200 characters; `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub viewing_location: Option<Option<String>>,
    /// At most 50 characters; `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub viewing_context: Option<Option<String>>,
    /// At most 20 names of at most 200 characters; `null` or `[]`: nobody.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Vec<String>>, nullable)]
    pub watched_with: Option<Option<Vec<String>>>,
    /// Whole minutes; `null` goes back to the runtime.
    #[serde(default, deserialize_with = "nullable_minutes")]
    #[schema(value_type = Option<i64>, nullable, minimum = 0, maximum = 1440)]
    pub viewing_duration: Option<Option<i64>>,
}

/// A field that may be absent (`None`), `null` (`Some(None)`) or a value.
fn nullable<'de, T: Deserialize<'de>, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

fn nullable_minutes<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<i64>>, D::Error> {
    super::whole::opt_i64(d).map(Some)
}

impl EditRecordRequest {
    pub fn try_into_domain(self) -> Result<EditRecord, ApiError> {
        let mut c = Checker::new();
        let platform = match (self.platform, self.viewing_platform) {
            (Some(_), Some(_)) => {
                c.push(
                    "viewingPlatform",
                    "another name for platform: give one of them, not both".to_owned(),
                );
                None
            }
            (Some(p), None) => Some(p.and_then(|v| c.text("platform", Some(&v), Platform::parse))),
            (None, Some(p)) => {
                Some(p.and_then(|v| c.text("viewingPlatform", Some(&v), Platform::parse)))
            }
            (None, None) => None,
        };
        let viewing_location = self
            .viewing_location
            .map(|l| l.and_then(|v| c.text("viewingLocation", Some(&v), ViewingLocation::parse)));
        let viewing_context = self
            .viewing_context
            .map(|l| l.and_then(|v| c.text("viewingContext", Some(&v), ViewingContext::parse)));
        let watched_with = self
            .watched_with
            .map(|names| companions(&mut c, names).unwrap_or_default());
        let viewing_duration = self
            .viewing_duration
            .map(|d| minutes(&mut c, "viewingDuration", d));
        if self.watch_date == Some(None) {
            c.push("watchDate", "cannot be cleared: give a date".to_owned());
        }
        c.finish(|| {
            Some(EditRecord {
                watch_date: self.watch_date.flatten(),
                platform,
                viewing_location,
                viewing_context,
                watched_with,
                viewing_duration,
            })
        })
    }
}

/// Companion names: each made plain text, then the list parsed by the domain.
fn companions(c: &mut Checker, names: Option<Vec<String>>) -> Option<Companions> {
    let mut plain = Vec::new();
    for (i, n) in names.unwrap_or_default().iter().enumerate() {
        if let Some(text) = c.check(&format!("watchedWith[{i}]"), plain_field("watchedWith", n)) {
            plain.push(text);
        }
    }
    c.check("watchedWith", Companions::parse(&plain))
}

fn minutes(c: &mut Checker, field: &'static str, v: Option<i64>) -> Option<Minutes> {
    v.and_then(|m| c.check(field, Minutes::new(field, m)))
}

fn rating(c: &mut Checker, field: &'static str, v: Option<f64>) -> Option<Rating> {
    v.and_then(|r| c.check(field, Rating::new(field, r)))
}

impl WatchMovieRequest {
    pub fn try_into_domain(self) -> Result<WatchMovie, ApiError> {
        let mut c = Checker::new();
        let viewing_location = c.text(
            "viewingLocation",
            self.viewing_location.as_deref(),
            ViewingLocation::parse,
        );
        let viewing_platform = either_platform(
            &mut c,
            ("viewingPlatform", self.viewing_platform),
            ("platform", self.platform),
        );
        let viewing_context = c.text(
            "viewingContext",
            self.viewing_context.as_deref(),
            ViewingContext::parse,
        );
        let watched_with = companions(&mut c, self.watched_with);
        let viewing_duration = minutes(&mut c, "viewingDuration", self.viewing_duration);
        c.finish(|| {
            Some(WatchMovie {
                watch_date: self.watch_date,
                viewing_location,
                viewing_platform,
                watched_with: watched_with?,
                viewing_context,
                is_rewatch: self.is_rewatch,
                viewing_duration,
            })
        })
    }
}

impl WatchEpisodeRequest {
    pub fn try_into_domain(self) -> Result<WatchEpisode, ApiError> {
        let mut c = Checker::new();
        let platform = either_platform(
            &mut c,
            ("platform", self.platform),
            ("viewingPlatform", self.viewing_platform),
        );
        let viewing_duration = minutes(&mut c, "viewingDuration", self.viewing_duration);
        let season_rating = rating(&mut c, "seasonRating", self.season_rating);
        let overall_rating = rating(&mut c, "overallRating", self.overall_rating);
        let series_finale_reaction = c.text(
            "seriesFinaleReaction",
            self.series_finale_reaction.as_deref(),
            FinaleReaction::parse,
        );
        c.finish(|| {
            Some(WatchEpisode {
                watch_date: self.watch_date,
                platform,
                binge_session_id: self.binge_session_id.map(BingeSessionId::from),
                viewing_duration,
                mark_previous_watched: self.mark_previous_watched.unwrap_or(false),
                season_rating,
                next_season_intent: self.next_season_intent,
                overall_rating,
                rewatch_interest: self.rewatch_interest,
                series_finale_reaction,
            })
        })
    }
}

impl AbandonRequest {
    pub fn try_into_domain(self) -> Result<Abandon, ApiError> {
        let mut c = Checker::new();
        let progress_percent = self
            .progress_percent
            .and_then(|p| c.check("progressPercent", Percent::new("progressPercent", p)));
        let abandon_reason = c.text(
            "abandonReason",
            self.abandon_reason.as_deref(),
            AbandonReason::parse,
        );
        let quality_rating = rating(&mut c, "qualityRating", self.quality_rating);
        c.finish(|| {
            Some(Abandon {
                abandon_date: self.abandon_date,
                progress_percent,
                abandon_reason,
                quality_rating,
                would_retry: self.would_retry,
            })
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ContentTypeDto {
    Movie,
    Episode,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ItemTypeDto {
    Movie,
    Show,
}

/// One viewing of a movie or an episode. Absent values are `null`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ViewingRecordDto {
    pub id: Uuid,
    /// The movie's or the episode's id.
    pub content_id: Uuid,
    pub content_type: ContentTypeDto,
    pub watch_date: DateTime<Utc>,
    pub platform: Option<String>,
    pub viewing_location: Option<String>,
    pub viewing_context: Option<String>,
    pub watched_with: Vec<String>,
    pub is_rewatch: bool,
    /// Whole minutes.
    pub viewing_duration: Option<u32>,
    pub binge_session_id: Option<Uuid>,
    pub show_id: Option<Uuid>,
    pub season_number: Option<u32>,
    pub episode_number: Option<u32>,
    pub created_at: DateTime<Utc>,
    /// Where the play came from: `manual` (through this API), `import`, `playback` (a player)
    /// or `webhook` (a media server).
    #[schema(value_type = String, example = "manual")]
    pub origin: &'static str,
}

impl From<&ViewingRecord> for ViewingRecordDto {
    fn from(r: &ViewingRecord) -> Self {
        let (show_id, season_number, episode_number) = match r.watched {
            Watched::Movie(_) => (None, None, None),
            Watched::Episode {
                show_id,
                season_number,
                episode_number,
                ..
            } => (
                Some(show_id.as_uuid()),
                Some(season_number),
                Some(episode_number),
            ),
        };
        let text = |v: Option<&str>| v.map(str::to_owned);
        Self {
            id: r.id.as_uuid(),
            content_id: r.watched.content_id(),
            content_type: match r.watched.content_type() {
                ContentType::Movie => ContentTypeDto::Movie,
                ContentType::Episode => ContentTypeDto::Episode,
            },
            watch_date: r.watch_date,
            platform: text(r.platform.as_ref().map(Platform::as_str)),
            viewing_location: text(r.viewing_location.as_ref().map(ViewingLocation::as_str)),
            viewing_context: text(r.viewing_context.as_ref().map(ViewingContext::as_str)),
            watched_with: r
                .watched_with
                .names()
                .iter()
                .map(|n| n.as_str().to_owned())
                .collect(),
            is_rewatch: r.is_rewatch,
            viewing_duration: r.viewing_duration.map(Minutes::get),
            binge_session_id: r.binge_session_id.map(|b| b.as_uuid()),
            show_id,
            season_number,
            episode_number,
            created_at: r.created_at,
            origin: r.origin.as_str(),
        }
    }
}

/// The episode's record plus what it completed.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EpisodeWatchedDto {
    #[serde(flatten)]
    pub record: ViewingRecordDto,
    /// This watch completed a season for the first time.
    pub season_completed: bool,
    /// This watch completed the (ended or canceled) show.
    pub show_completed: bool,
}

impl From<&EpisodeWatched> for EpisodeWatchedDto {
    fn from(w: &EpisodeWatched) -> Self {
        Self {
            record: ViewingRecordDto::from(&w.record),
            season_completed: w.season_completed,
            show_completed: w.show_completed,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AbandonRecordDto {
    pub id: Uuid,
    pub item_id: Uuid,
    pub item_type: ItemTypeDto,
    pub abandon_date: DateTime<Utc>,
    /// 0–100, two decimals.
    pub progress_percent: f64,
    pub abandon_reason: Option<String>,
    pub quality_rating: Option<f64>,
    pub would_retry: bool,
    pub created_at: DateTime<Utc>,
}

impl From<&AbandonRecord> for AbandonRecordDto {
    fn from(a: &AbandonRecord) -> Self {
        Self {
            id: a.id.as_uuid(),
            item_id: a.item_id,
            item_type: match a.item_type {
                ItemType::Movie => ItemTypeDto::Movie,
                ItemType::Show => ItemTypeDto::Show,
            },
            abandon_date: a.abandon_date,
            progress_percent: a.progress_percent.value(),
            abandon_reason: a.abandon_reason.as_ref().map(|r| r.as_str().to_owned()),
            quality_rating: a.quality_rating.map(Rating::value),
            would_retry: a.would_retry,
            created_at: a.created_at,
        }
    }
}

/// A binge session: first-time watches of consecutive episodes of one show, each at most the
/// binge gap after the one before (SPEC §5). Its records name it in `bingeSessionId`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BingeSessionDto {
    pub id: Uuid,
    pub show_id: Uuid,
    /// Watch date of its first episode.
    pub start_time: DateTime<Utc>,
    /// Watch date of its last episode.
    pub end_time: DateTime<Utc>,
    /// How many episodes it holds.
    pub episodes_watched: u32,
    pub created_at: DateTime<Utc>,
}

impl From<&BingeSession> for BingeSessionDto {
    fn from(b: &BingeSession) -> Self {
        Self {
            id: b.id.as_uuid(),
            show_id: b.show_id.as_uuid(),
            start_time: b.start_time,
            end_time: b.end_time,
            episodes_watched: b.episodes_watched,
            created_at: b.created_at,
        }
    }
}
