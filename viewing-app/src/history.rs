//! Viewing history: filters in the user's time zone, page or keyset paging.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
pub use chrono_tz::Tz;
use viewing_domain::ports::{
    HistoryCursor, HistoryFilter, HistoryPaging, Store, UserRepository, ViewingRecordRepository,
};
use viewing_domain::values;
use viewing_domain::{Movie, MovieId, RecordId, Show, ShowId, UserId, ViewingRecord, Watched};

use crate::error::{AppError, AppResult};
use crate::service::ViewingService;

/// Items per page when `limit` is not given.
pub const DEFAULT_LIMIT: u32 = 20;
/// The most items a page may hold.
pub const MAX_LIMIT: u32 = 100;
/// The highest page number (a 32-bit signed integer, as the OpenAPI document says).
pub const MAX_PAGE: u32 = i32::MAX as u32;

/// One history line: the record and the titles a client shows with it.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryItem {
    /// The viewing.
    pub record: ViewingRecord,
    /// The movie's or the episode's title.
    pub title: Option<String>,
    /// The show's title, for an episode.
    pub show_title: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
/// One page of `GET /api/viewing/history`.
pub struct HistoryPage {
    /// The lines, newest first.
    pub items: Vec<HistoryItem>,
    /// This page's number.
    pub page: u32,
    /// Items per page.
    pub limit: u32,
    /// Records matching the filters, all pages together.
    pub total_items: u64,
    /// Pages at this limit.
    pub total_pages: u64,
    /// Pass back as `cursor` for the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// Every IANA time zone name `tz` accepts.
pub fn time_zone_names() -> impl Iterator<Item = &'static str> {
    chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name())
}

/// The first instant of `date` in `tz`: where a range starting on that day begins. `None`
/// when the day is outside what chrono can represent.
pub fn start_of_day(date: NaiveDate, tz: Tz) -> Option<DateTime<Utc>> {
    local_midnight(date, tz)
}

/// The first instant after `date` in `tz`: the exclusive end of a range ending on that day.
pub fn end_of_day(date: NaiveDate, tz: Tz) -> Option<DateTime<Utc>> {
    local_midnight(date.succ_opt()?, tz)
}

/// The exclusive end of a range whose last instant is `last` (instants are whole microseconds).
pub fn just_after(last: DateTime<Utc>) -> DateTime<Utc> {
    last + chrono::Duration::microseconds(1)
}

/// The first instant of `date` in `tz` (skipping a DST gap at midnight).
pub fn local_midnight(date: NaiveDate, tz: Tz) -> Option<DateTime<Utc>> {
    let mut t = date.and_time(NaiveTime::MIN);
    for _ in 0..4 {
        if let Some(d) = tz.from_local_datetime(&t).earliest() {
            return Some(d.with_timezone(&Utc));
        }
        t += chrono::Duration::minutes(30);
    }
    None
}

/// The opaque text of a keyset cursor, given back to clients as `nextCursor`.
pub fn encode_cursor(c: &HistoryCursor) -> String {
    format!(
        "{:x}.{}",
        c.watch_date.timestamp_micros(),
        c.id.as_uuid().simple()
    )
}

/// A cursor this service issued ([`encode_cursor`]); anything else is `Malformed`.
pub fn decode_cursor(raw: &str) -> AppResult<HistoryCursor> {
    let bad = || AppError::Malformed("cursor: not a cursor this service issued".to_owned());
    let (micros, id) = raw.split_once('.').ok_or_else(bad)?;
    let micros = i64::from_str_radix(micros, 16).map_err(|_| bad())?;
    let watch_date = DateTime::<Utc>::from_timestamp_micros(micros)
        .and_then(|t| values::instant("cursor", t).ok())
        .ok_or_else(bad)?;
    let id = uuid::Uuid::parse_str(id).map_err(|_| bad())?;
    Ok(HistoryCursor {
        watch_date,
        id: RecordId::from(id),
    })
}

/// Which slice of the history to read: a 1-based page of `limit` items, or the `limit` items
/// after a keyset cursor. Valid once built: `limit` is 1..=[`MAX_LIMIT`], `page` 1..=[`MAX_PAGE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryPageRequest {
    page: u32,
    limit: u32,
    cursor: Option<HistoryCursor>,
}

impl Default for HistoryPageRequest {
    /// The first page of [`DEFAULT_LIMIT`] items.
    fn default() -> Self {
        Self {
            page: 1,
            limit: DEFAULT_LIMIT,
            cursor: None,
        }
    }
}

impl HistoryPageRequest {
    /// Page 1 and [`DEFAULT_LIMIT`] when not given; `Malformed` naming `page` or `limit` when out
    /// of range. With a cursor, `page` is only echoed back.
    pub fn new(
        page: Option<u32>,
        limit: Option<u32>,
        cursor: Option<HistoryCursor>,
    ) -> AppResult<Self> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(AppError::Malformed(format!(
                "limit: must be between 1 and {MAX_LIMIT}"
            )));
        }
        let page = page.unwrap_or(1);
        if !(1..=MAX_PAGE).contains(&page) {
            return Err(AppError::Malformed(format!(
                "page: must be between 1 and {MAX_PAGE}"
            )));
        }
        Ok(Self {
            page,
            limit,
            cursor,
        })
    }

    /// The 1-based page asked for.
    pub fn page(&self) -> u32 {
        self.page
    }

    /// Items per page (1 to [`MAX_LIMIT`]).
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// The keyset cursor to continue after, when one was given.
    pub fn cursor(&self) -> Option<HistoryCursor> {
        self.cursor
    }

    fn paging(&self) -> HistoryPaging {
        match self.cursor {
            Some(cursor) => HistoryPaging::After {
                cursor,
                limit: self.limit,
            },
            None => HistoryPaging::Page {
                page: self.page,
                limit: self.limit,
            },
        }
    }
}

impl<S: Store> ViewingService<S> {
    /// `GET /api/viewing/history`: newest first.
    #[tracing::instrument(level = "debug", skip_all, fields(user = %user))]
    /// `filter.from` is inclusive and `filter.to` exclusive; a start after the end is a valid,
    /// empty range.
    pub async fn history(
        &self,
        user: UserId,
        filter: &HistoryFilter,
        request: HistoryPageRequest,
    ) -> AppResult<HistoryPage> {
        // No record lies past the latest instant a client may send: an end beyond it bounds
        // nothing (and keeps years past 9999 away from the stores).
        let filter = HistoryFilter {
            to: filter.to.filter(|to| *to <= values::LATEST_INSTANT),
            ..filter.clone()
        };
        let (page, limit) = (request.page, request.limit);
        let mut uow = self.store.begin_read().await?;
        // The page kept for the user's revision ([`crate::progress_cache`]), or read and kept.
        let revision = uow.user_revision(user).await?;
        let key = (user, filter, request.paging());
        let slice = match self.progress_cache.history(&key, revision) {
            Some(kept) => kept,
            None => {
                let read = Arc::new(uow.history(user, &key.1, key.2).await?);
                self.progress_cache
                    .keep_history(key, revision, read.clone());
                read
            }
        };

        // Titles come from the catalog cache: no query on a hit.
        let mut shows: HashMap<ShowId, Option<Arc<Show>>> = HashMap::new();
        let mut movies: HashMap<MovieId, Option<Arc<Movie>>> = HashMap::new();
        let mut items = Vec::with_capacity(slice.items.len());
        for record in slice.items.iter().cloned() {
            let (title, show_title) = match record.watched {
                Watched::Movie(id) => {
                    if let Entry::Vacant(slot) = movies.entry(id) {
                        slot.insert(self.catalog.movie(&mut uow, id).await?);
                    }
                    let movie = movies.get(&id).and_then(Option::as_ref);
                    (movie.map(|m| m.title.as_str().to_owned()), None)
                }
                Watched::Episode {
                    episode_id,
                    show_id,
                    ..
                } => {
                    if let Entry::Vacant(slot) = shows.entry(show_id) {
                        slot.insert(self.catalog.show(&mut uow, show_id).await?);
                    }
                    let show = shows.get(&show_id).and_then(Option::as_ref);
                    (
                        show.and_then(|s| s.episode(episode_id))
                            .map(|e| e.episode.title.as_str().to_owned()),
                        show.map(|s| s.title.as_str().to_owned()),
                    )
                }
            };
            items.push(HistoryItem {
                record,
                title,
                show_title,
            });
        }
        let next_cursor = (items.len() as u32 == limit)
            .then(|| items.last())
            .flatten()
            .map(|last| {
                encode_cursor(&HistoryCursor {
                    watch_date: last.record.watch_date,
                    id: last.record.id,
                })
            });
        Ok(HistoryPage {
            items,
            page,
            limit,
            total_items: slice.total_items,
            total_pages: slice.total_items.div_ceil(u64::from(limit)),
            next_cursor,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_half_open_in_the_zone() {
        let tz: Tz = "Europe/Paris".parse().unwrap_or(Tz::UTC);
        let day = NaiveDate::from_ymd_opt(2026, 7, 1).unwrap_or_default();
        assert_eq!(
            start_of_day(day, tz).map(|d| d.to_rfc3339()),
            Some("2026-06-30T22:00:00+00:00".into())
        );
        assert_eq!(
            end_of_day(day, tz).map(|d| d.to_rfc3339()),
            Some("2026-07-01T22:00:00+00:00".into())
        );
    }

    #[test]
    fn page_requests_are_bounded() {
        assert_eq!(
            HistoryPageRequest::new(None, None, None).ok(),
            Some(HistoryPageRequest::default())
        );
        assert!(HistoryPageRequest::new(Some(0), None, None).is_err());
        assert!(HistoryPageRequest::new(None, Some(0), None).is_err());
        assert!(HistoryPageRequest::new(None, Some(MAX_LIMIT + 1), None).is_err());
        assert!(HistoryPageRequest::new(Some(MAX_PAGE), Some(MAX_LIMIT), None).is_ok());
    }

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let c = HistoryCursor {
            watch_date: DateTime::<Utc>::from_timestamp_micros(1_750_000_000_123_456)
                .unwrap_or_default(),
            id: RecordId::from(uuid::Uuid::now_v7()),
        };
        assert_eq!(decode_cursor(&encode_cursor(&c)).ok(), Some(c));
        assert!(decode_cursor("zz.1").is_err());
        assert!(decode_cursor("").is_err());
    }
}
