//! Imports (SPEC §12): the import and its rows as the API shows them, and the queries.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use viewing_app::domain::imports::{Import, ImportItem, ImportSource, ImportSummary, RowOutcome};

use crate::error::ApiError;

/// How many rows ended how.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImportSummaryDto {
    /// Rows read.
    pub rows: u32,
    /// Recorded (in a dry run: would be).
    pub imported: u32,
    /// Imported before, or repeated in the file.
    pub duplicates: u32,
    /// Nothing in the catalog matches, or several things do.
    pub unmatched: u32,
    /// Not recorded by design (ratings, trailers).
    pub skipped: u32,
    /// Rows that cannot be read.
    pub invalid: u32,
}

impl From<&ImportSummary> for ImportSummaryDto {
    fn from(s: &ImportSummary) -> Self {
        Self {
            rows: s.rows,
            imported: s.imported,
            duplicates: s.duplicates,
            unmatched: s.unmatched,
            skipped: s.skipped,
            invalid: s.invalid,
        }
    }
}

/// An import of another service's history.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImportDto {
    pub id: Uuid,
    /// `trakt`, `letterboxd`, `netflix`, `tvtime` or `viewing`.
    #[schema(pattern = "^(trakt|letterboxd|netflix|tvtime|viewing)$")]
    pub source: String,
    /// `dry-run`, `applied` or `undone`.
    #[schema(pattern = "^(dry-run|applied|undone)$")]
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub summary: ImportSummaryDto,
}

impl From<&Import> for ImportDto {
    fn from(i: &Import) -> Self {
        Self {
            id: i.id.as_uuid(),
            source: i.source.as_str().to_owned(),
            status: i.status.as_str().to_owned(),
            created_at: i.created_at,
            summary: (&i.summary).into(),
        }
    }
}

/// `GET /api/imports`: newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImportListDto {
    pub items: Vec<ImportDto>,
}

/// What became of one row of the file.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImportItemDto {
    /// Its number in the file (the files of a zip in name order).
    pub row: u32,
    /// `movie`, `episode`, `watchlist` or `rating`.
    #[schema(pattern = "^(movie|episode|watchlist|rating)$")]
    pub kind: String,
    /// The title the row gives (an episode: its show, season and number).
    pub title: String,
    /// `imported`, `duplicate`, `unmatched`, `skipped` or `invalid`.
    #[schema(pattern = "^(imported|duplicate|unmatched|skipped|invalid)$")]
    pub outcome: String,
    /// `externalId`, `coordinates` or `title`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^(externalId|coordinates|title)$")]
    pub matched_by: Option<String>,
    /// The movie or episode it was matched to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_id: Option<Uuid>,
    /// Why it was not imported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl From<&ImportItem> for ImportItemDto {
    fn from(i: &ImportItem) -> Self {
        Self {
            row: i.row,
            kind: i.kind.as_str().to_owned(),
            title: i.title.clone(),
            outcome: i.outcome.as_str().to_owned(),
            matched_by: i.matched_by.map(|m| m.as_str().to_owned()),
            content_id: i.content_id,
            reason: i.reason.clone(),
        }
    }
}

/// `GET /api/imports/{id}/items`: a page of rows in file order.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImportItemsDto {
    pub items: Vec<ImportItemDto>,
    /// The page (1 is the first).
    pub page: u32,
    pub limit: u32,
}

/// The query of `POST /api/imports`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct ImportQueryDto {
    /// Whose export the body is.
    #[param(inline, value_type = String, pattern = "^(trakt|letterboxd|netflix|tvtime|viewing)$")]
    pub source: Option<String>,
    /// Match and count only; record nothing (default false).
    pub dry_run: Option<bool>,
    /// Netflix: the profile to import from a `ViewingActivity.csv` holding several.
    #[param(max_length = 200)]
    pub profile: Option<String>,
}

impl ImportQueryDto {
    /// The source and whether it is a dry run; 400 naming what is wrong.
    pub fn parse(&self) -> Result<(ImportSource, bool), ApiError> {
        let names = || {
            ImportSource::ALL
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let source = self
            .source
            .as_deref()
            .ok_or_else(|| ApiError::Malformed(format!("source: required ({})", names())))?;
        let source = ImportSource::parse(source)
            .ok_or_else(|| ApiError::Malformed(format!("source: one of {}", names())))?;
        Ok((source, self.dry_run.unwrap_or(false)))
    }
}

/// The query of `GET /api/imports/{id}/items`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportItemsQueryDto {
    /// Only rows with this outcome.
    #[param(inline, value_type = Option<String>, pattern = "^(imported|duplicate|unmatched|skipped|invalid)$")]
    pub outcome: Option<String>,
    /// 1 (default) or later.
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<u32>,
    /// Rows per page: 1 to 1000, default 100.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

impl ImportItemsQueryDto {
    /// Outcome, page and limit; 400 naming what is wrong.
    pub fn parse(&self) -> Result<(Option<RowOutcome>, u32, u32), ApiError> {
        let outcome = self
            .outcome
            .as_deref()
            .map(|o| {
                RowOutcome::parse(o).ok_or_else(|| {
                    ApiError::Malformed(
                        "outcome: imported, duplicate, unmatched, skipped or invalid".to_owned(),
                    )
                })
            })
            .transpose()?;
        let page = self.page.unwrap_or(1);
        if !(1..=1_000_000).contains(&page) {
            return Err(ApiError::Malformed("page: 1 to 1000000".to_owned()));
        }
        let limit = self.limit.unwrap_or(100);
        if !(1..=1000).contains(&limit) {
            return Err(ApiError::Malformed("limit: 1 to 1000".to_owned()));
        }
        Ok((outcome, page, limit))
    }
}
