//! Viewing history: filters in the user's time zone, page or keyset paging.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use viewing_domain::ports::{
    CatalogRepository, HistoryCursor, HistoryFilter, HistoryPaging, Store, ViewingRecordRepository,
};
use viewing_domain::values;
use viewing_domain::{ContentType, RecordId, Show, ShowId, UserId, ViewingRecord, Watched};

use crate::error::{AppError, AppResult};
use crate::service::ViewingService;

/// Items per page when `limit` is not given.
pub const DEFAULT_LIMIT: u32 = 20;
/// The most items a page may hold.
pub const MAX_LIMIT: u32 = 100;
/// The highest page number (a 32-bit signed integer, as the OpenAPI document says).
pub const MAX_PAGE: u32 = i32::MAX as u32;

/// The query string of `GET /api/viewing/history`, as received.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistoryParams {
    /// First day (in `tz`), inclusive.
    pub start_date: Option<String>,
    /// Last day (in `tz`), inclusive.
    pub end_date: Option<String>,
    /// `movie` or `episode`.
    pub content_type: Option<String>,
    /// Only this platform (case-insensitive).
    pub platform: Option<String>,
    /// 1-based page number (offset paging).
    pub page: Option<u32>,
    /// Items per page.
    pub limit: Option<u32>,
    /// IANA time zone of the dates; UTC when absent.
    pub tz: Option<String>,
    /// Continue after this cursor (keyset paging).
    pub cursor: Option<String>,
}

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

/// Parses an IANA time zone name (default UTC).
pub fn parse_tz(tz: Option<&str>) -> AppResult<Tz> {
    match tz {
        None => Ok(Tz::UTC),
        Some(name) => name
            .parse::<Tz>()
            .map_err(|_| AppError::Malformed(format!("tz: unknown time zone {name:?}"))),
    }
}

/// An RFC 3339 instant, or a `YYYY-MM-DD` date taken in `tz` (its start, or its end when `end`).
pub fn parse_bound(field: &str, raw: &str, tz: Tz, end: bool) -> AppResult<DateTime<Utc>> {
    let out_of_range = |e: viewing_domain::values::ValidationError| {
        AppError::Malformed(format!("{field}: {}", e.message))
    };
    if let Ok(instant) = DateTime::parse_from_rfc3339(raw) {
        return values::instant("date", instant.with_timezone(&Utc)).map_err(out_of_range);
    }
    let date = NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| {
        AppError::Malformed(format!(
            "{field}: expected an RFC 3339 instant or YYYY-MM-DD"
        ))
    })?;
    values::instant("date", date.and_time(NaiveTime::MIN).and_utc()).map_err(out_of_range)?;
    let day = if end {
        date.succ_opt()
            .ok_or_else(|| AppError::Malformed(format!("{field}: date out of range")))?
    } else {
        date
    };
    let start = local_midnight(day, tz)
        .ok_or_else(|| AppError::Malformed(format!("{field}: date out of range")))?;
    Ok(if end {
        start - chrono::Duration::microseconds(1)
    } else {
        start
    })
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

fn encode_cursor(c: &HistoryCursor) -> String {
    format!(
        "{:x}.{}",
        c.watch_date.timestamp_micros(),
        c.id.as_uuid().simple()
    )
}

fn decode_cursor(raw: &str) -> AppResult<HistoryCursor> {
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

/// A free-text query value as given: an empty one (`?platform=`, as HTML forms send) counts as
/// absent. Values with a format (dates, zones, enumerations) are taken as they are, so an empty
/// one is refused like any other value outside the format the OpenAPI document states.
pub fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.trim().is_empty())
}

impl HistoryParams {
    fn filter(&self) -> AppResult<HistoryFilter> {
        let tz = parse_tz(self.tz.as_deref())?;
        let from = self
            .start_date
            .as_deref()
            .map(|s| parse_bound("startDate", s, tz, false))
            .transpose()?;
        let to = self
            .end_date
            .as_deref()
            .map(|s| parse_bound("endDate", s, tz, true))
            .transpose()?;
        // A start after the end is a valid, empty range (the OpenAPI document cannot say
        // otherwise, and nothing is wrong with asking).
        let content_type = self
            .content_type
            .as_deref()
            .map(|c| {
                ContentType::parse(c).ok_or_else(|| {
                    AppError::Malformed("contentType: expected movie or episode".to_owned())
                })
            })
            .transpose()?;
        Ok(HistoryFilter {
            from,
            to,
            content_type,
            platform: self.platform.clone().filter(|p| !p.trim().is_empty()),
        })
    }

    fn paging(&self) -> AppResult<(HistoryPaging, u32, u32)> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(AppError::Malformed(format!(
                "limit: must be between 1 and {MAX_LIMIT}"
            )));
        }
        let page = self.page.unwrap_or(1);
        if !(1..=MAX_PAGE).contains(&page) {
            return Err(AppError::Malformed(format!(
                "page: must be between 1 and {MAX_PAGE}"
            )));
        }
        Ok(match self.cursor.as_deref() {
            Some(c) => (
                HistoryPaging::After {
                    cursor: decode_cursor(c)?,
                    limit,
                },
                page,
                limit,
            ),
            None => (HistoryPaging::Page { page, limit }, page, limit),
        })
    }
}

impl<S: Store> ViewingService<S> {
    /// `GET /api/viewing/history`: newest first.
    pub async fn history(&self, user: UserId, params: &HistoryParams) -> AppResult<HistoryPage> {
        let filter = params.filter()?;
        let (paging, page, limit) = params.paging()?;
        let mut uow = self.store.begin_read().await?;
        let slice = uow.history(user, &filter, paging).await?;

        let mut shows: HashMap<ShowId, Option<Show>> = HashMap::new();
        let movie_ids: Vec<uuid::Uuid> = slice
            .items
            .iter()
            .filter_map(|r| match r.watched {
                Watched::Movie(id) => Some(id.as_uuid()),
                Watched::Episode { .. } => None,
            })
            .collect();
        let movie_titles = uow.titles(&movie_ids).await?;
        let mut items = Vec::with_capacity(slice.items.len());
        for record in slice.items {
            let (title, show_title) = match record.watched {
                Watched::Movie(id) => (movie_titles.get(&id.as_uuid()).cloned(), None),
                Watched::Episode {
                    episode_id,
                    show_id,
                    ..
                } => {
                    if let Entry::Vacant(slot) = shows.entry(show_id) {
                        slot.insert(uow.show(show_id).await?);
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
    fn dates_are_inclusive_days_in_the_zone() {
        let tz: Tz = "Europe/Paris".parse().unwrap_or(Tz::UTC);
        let from = parse_bound("s", "2026-07-01", tz, false).ok();
        let to = parse_bound("e", "2026-07-01", tz, true).ok();
        assert_eq!(
            from.map(|d| d.to_rfc3339()),
            Some("2026-06-30T22:00:00+00:00".into())
        );
        assert_eq!(
            to.map(|d| d.to_rfc3339()),
            Some("2026-07-01T21:59:59.999999+00:00".into())
        );
        assert!(parse_bound("s", "yesterday", tz, false).is_err());
        assert!(parse_tz(Some("Mars/Olympus")).is_err());
    }

    #[test]
    fn empty_free_text_counts_as_absent_and_empty_formats_are_refused() {
        let p = HistoryParams {
            platform: Some(String::new()),
            ..HistoryParams::default()
        };
        assert_eq!(p.filter().ok(), Some(HistoryFilter::default()));
        for empty in [
            HistoryParams {
                start_date: Some(String::new()),
                ..HistoryParams::default()
            },
            HistoryParams {
                end_date: Some(" ".into()),
                ..HistoryParams::default()
            },
            HistoryParams {
                content_type: Some(String::new()),
                ..HistoryParams::default()
            },
            HistoryParams {
                tz: Some(String::new()),
                ..HistoryParams::default()
            },
        ] {
            assert!(empty.filter().is_err(), "{empty:?}");
        }
        assert!(matches!(
            p.paging(),
            Ok((HistoryPaging::Page { page: 1, limit: 20 }, 1, 20))
        ));
        let bad = HistoryParams {
            content_type: Some("series".into()),
            ..HistoryParams::default()
        };
        assert!(bad.filter().is_err());
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
