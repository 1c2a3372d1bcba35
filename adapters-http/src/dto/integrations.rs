//! Media servers' integrations (SPEC §13) as the API shows them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use viewing_app::domain::integrations::{Delivery, Integration, IntegrationKind};

use crate::error::{ApiError, FieldError};

/// `POST /api/integrations`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IntegrationBody {
    /// `plex`, `jellyfin` or `emby`.
    #[schema(pattern = "^(plex|jellyfin|emby)$")]
    pub kind: String,
    /// Only these server accounts' events are recorded (Plex `Account.title`, Jellyfin
    /// `NotificationUsername`/`User.Name`, Emby `User.Name`); none: every account's.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub accounts: Vec<String>,
}

impl IntegrationBody {
    /// The kind; 422 for another.
    pub fn kind(&self) -> Result<IntegrationKind, ApiError> {
        IntegrationKind::parse(&self.kind).ok_or_else(|| {
            ApiError::Validation(vec![FieldError {
                field: "kind".to_owned(),
                message: "plex, jellyfin or emby".to_owned(),
            }])
        })
    }
}

/// An integration. `url` is shown once, when it is made: the secret in it is its credential.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IntegrationDto {
    pub id: Uuid,
    /// `plex`, `jellyfin` or `emby`.
    pub kind: String,
    /// The accounts followed (none: every account's events).
    pub accounts: Vec<String>,
    pub created_at: DateTime<Utc>,
    /// When it was revoked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<DateTime<Utc>>,
    /// `/webhooks/{secret}`: where the media server posts (only in the answer that made it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl IntegrationDto {
    /// The integration, with its URL when the secret is given.
    pub fn of(i: &Integration, secret: Option<&str>) -> Self {
        Self {
            id: i.id.as_uuid(),
            kind: i.kind.as_str().to_owned(),
            accounts: i.accounts.clone(),
            created_at: i.created_at,
            revoked_at: i.revoked_at,
            url: secret.map(|s| format!("/webhooks/{s}")),
        }
    }
}

/// `GET /api/integrations`: newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IntegrationListDto {
    pub items: Vec<IntegrationDto>,
}

/// One delivery of a media server, with what became of it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryDto {
    pub id: Uuid,
    pub received_at: DateTime<Utc>,
    /// `recorded`, `paused`, `started`, `ignored`, `filtered`, `unmatched`, `duplicate` or
    /// `invalid`.
    #[schema(pattern = "^(recorded|paused|started|ignored|filtered|unmatched|duplicate|invalid)$")]
    pub outcome: String,
    /// Why, when it was not recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The play it recorded (or repeated).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record_id: Option<Uuid>,
    /// When it was last run (received or replayed).
    pub handled_at: DateTime<Utc>,
}

impl From<&Delivery> for DeliveryDto {
    fn from(d: &Delivery) -> Self {
        Self {
            id: d.id.as_uuid(),
            received_at: d.received_at,
            outcome: d.outcome.as_str().to_owned(),
            reason: d.reason.clone(),
            record_id: d.record_id.map(|r| r.as_uuid()),
            handled_at: d.handled_at,
        }
    }
}

/// `GET /api/integrations/{id}/deliveries`: a page, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeliveryListDto {
    pub items: Vec<DeliveryDto>,
    pub page: u32,
    pub limit: u32,
}

/// The query of the inbox.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveriesQueryDto {
    /// 1 (default) or later.
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<u32>,
    /// 1 to 200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

impl DeliveriesQueryDto {
    /// Page and limit; 400 when out of range.
    pub fn parse(&self) -> Result<(u32, u32), ApiError> {
        let page = self.page.unwrap_or(1);
        let limit = self.limit.unwrap_or(50);
        if !(1..=1_000_000).contains(&page) {
            return Err(ApiError::Malformed("page: 1 to 1000000".to_owned()));
        }
        if !(1..=200).contains(&limit) {
            return Err(ApiError::Malformed("limit: 1 to 200".to_owned()));
        }
        Ok((page, limit))
    }
}
