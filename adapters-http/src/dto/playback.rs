//! Playback (SPEC §13): what a player reports and what it is told.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use viewing_app::domain::rules::playback::Playback;
use viewing_app::domain::values::Percent;
use viewing_app::domain::{ExternalIds, Provider};
use viewing_app::playback::{PlaybackReport, PlaybackTarget};

use super::ExternalIdsDto;
use crate::error::{ApiError, FieldError};

/// A show named by its ids at other services.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlaybackShowDto {
    /// The show's ids.
    pub external_ids: ExternalIdsDto,
}

/// `POST /api/playback/start|pause|stop`: the item — `contentId`, or `externalIds`, or `show`
/// with `season` and `episode` — and how far it is.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlaybackBody {
    /// A movie's or an episode's id in this catalog.
    #[serde(default)]
    pub content_id: Option<Uuid>,
    /// A movie's or an episode's ids at other services.
    #[serde(default)]
    pub external_ids: Option<ExternalIdsDto>,
    /// An episode's show, with `season` and `episode`.
    #[serde(default)]
    pub show: Option<PlaybackShowDto>,
    #[serde(default)]
    #[schema(maximum = 1000000)]
    pub season: Option<u32>,
    #[serde(default)]
    #[schema(maximum = 1000000)]
    pub episode: Option<u32>,
    /// How far, 0 to 100 (percent).
    #[schema(minimum = 0, maximum = 100)]
    pub progress: f64,
    /// When; now by default, never more than 5 minutes ahead.
    #[serde(default)]
    pub at: Option<DateTime<Utc>>,
}

fn ids(dto: &ExternalIdsDto, prefix: &str) -> Result<ExternalIds, ApiError> {
    let mut out = ExternalIds::new();
    let mut errors = Vec::new();
    for (p, v) in [
        (Provider::Tmdb, &dto.tmdb),
        (Provider::Imdb, &dto.imdb),
        (Provider::Tvdb, &dto.tvdb),
        (Provider::Trakt, &dto.trakt),
        (Provider::Tvmaze, &dto.tvmaze),
    ] {
        if let Some(v) = v
            && let Err(e) = out.insert(p, v)
        {
            errors.push(FieldError {
                field: format!("{prefix}{}", e.field),
                message: e.message,
            });
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(ApiError::Validation(errors))
    }
}

impl PlaybackBody {
    /// The app's report; 422 naming the field when the item is not named exactly one way or a
    /// value is out of range.
    pub fn try_into_report(self) -> Result<PlaybackReport, ApiError> {
        let refuse = |field: &str, message: &str| {
            ApiError::Validation(vec![FieldError {
                field: field.to_owned(),
                message: message.to_owned(),
            }])
        };
        let progress =
            Percent::new("progress", self.progress).map_err(|e| refuse(e.field, &e.message))?;
        let target = match (self.content_id, self.external_ids, self.show) {
            (Some(id), None, None) if self.season.is_none() && self.episode.is_none() => {
                PlaybackTarget::Content(id)
            }
            (None, Some(ext), None) if self.season.is_none() && self.episode.is_none() => {
                let ext = ids(&ext, "")?;
                if ext.is_empty() {
                    return Err(refuse("externalIds", "name at least one id"));
                }
                PlaybackTarget::ExternalIds(ext)
            }
            (None, None, Some(show)) => {
                let (Some(season), Some(episode)) = (self.season, self.episode) else {
                    return Err(refuse("season", "show needs season and episode"));
                };
                let show = ids(&show.external_ids, "show.")?;
                if show.is_empty() {
                    return Err(refuse("show.externalIds", "name at least one id"));
                }
                PlaybackTarget::Episode {
                    show,
                    season,
                    episode,
                }
            }
            _ => {
                return Err(refuse(
                    "contentId",
                    "name the item one way: contentId, externalIds, or show with season and episode",
                ));
            }
        };
        Ok(PlaybackReport {
            target,
            progress,
            at: self.at,
        })
    }
}

/// A player's playback of one item.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlaybackDto {
    pub id: Uuid,
    /// The movie or episode.
    pub content_id: Uuid,
    /// `movie` or `episode`.
    #[serde(rename = "type")]
    #[schema(pattern = "^(movie|episode)$")]
    pub kind: String,
    /// An episode's show.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub show_id: Option<Uuid>,
    /// `watching` or `paused`.
    #[schema(pattern = "^(watching|paused)$")]
    pub state: String,
    /// How far (the resume point of a paused one), 0 to 100.
    pub progress: f64,
    pub started_at: DateTime<Utc>,
    /// When the player last reported it (a paused one: when it was paused).
    pub updated_at: DateTime<Utc>,
    /// When a playing one stops being *now watching*.
    pub expires_at: DateTime<Utc>,
}

impl From<&Playback> for PlaybackDto {
    fn from(p: &Playback) -> Self {
        Self {
            id: p.id.as_uuid(),
            content_id: p.content_id,
            kind: p.kind.as_str().to_owned(),
            show_id: p.show_id.map(|s| s.as_uuid()),
            state: p.state.as_str().to_owned(),
            progress: p.progress.value(),
            started_at: p.started_at,
            updated_at: p.updated_at,
            expires_at: p.expires_at,
        }
    }
}

/// `GET /api/playback`: paused items, the latest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlaybackListDto {
    pub items: Vec<PlaybackDto>,
}

/// `GET /api/playback/now`: the item watched now, or `null`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NowWatchingDto {
    pub item: Option<PlaybackDto>,
}

/// What a `stop` did: `scrobble` (201, with the play) or `pause` (200, with the paused item).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StopDto {
    /// `scrobble` or `pause`.
    #[schema(pattern = "^(scrobble|pause)$")]
    pub action: String,
    /// The play recorded (`scrobble`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<super::ViewingRecordDto>,
    /// The progress kept (`pause`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress: Option<f64>,
    /// The paused item (`pause`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub playback: Option<PlaybackDto>,
}
