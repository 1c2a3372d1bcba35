//! This service's own export (`GET /api/export`, SPEC §12), read back: every play with its
//! first origin, companions, place and duration, matched by the catalog ids it names (the same
//! catalog) or else by its external ids and titles.

use viewing_domain::imports::{ImportRow, PlayDetails, RowKind, RowOutcome, ShowRef};
use viewing_domain::rules::abandon::Abandon;
use viewing_domain::values::{
    AbandonReason, Companions, Minutes, Percent, Platform, Rating, ViewingContext, ViewingLocation,
};
use viewing_domain::{ExternalIds, Origin, Provider};

use super::{FileError, SourceFile, basename};
use crate::export::{ExportDocument, ExportedRecord, FORMAT, VERSION};

/// An exported abandon as the command that records it again at its date.
fn abandon_of(a: &crate::export::ExportedAbandon) -> Result<Abandon, String> {
    let text = |e: viewing_domain::ValidationError| e.to_string();
    Ok(Abandon {
        abandon_date: Some(a.abandon_date),
        progress_percent: Some(Percent::new("progressPercent", a.progress_percent).map_err(text)?),
        abandon_reason: a
            .abandon_reason
            .as_deref()
            .map(AbandonReason::parse)
            .transpose()
            .map_err(text)?
            .flatten(),
        quality_rating: a
            .quality_rating
            .map(|r| Rating::new("qualityRating", r))
            .transpose()
            .map_err(text)?,
        would_retry: Some(a.would_retry),
    })
}

fn ids(map: &std::collections::BTreeMap<String, String>) -> ExternalIds {
    let mut out = ExternalIds::new();
    for (p, v) in map {
        if let Some(p) = Provider::parse(p) {
            let _ = out.insert(p, v);
        }
    }
    out
}

/// The details a record keeps, or why they cannot be kept.
fn details(r: &ExportedRecord) -> Result<PlayDetails, String> {
    let text = |e: viewing_domain::ValidationError| e.to_string();
    Ok(PlayDetails {
        platform: r
            .platform
            .as_deref()
            .map(Platform::parse)
            .transpose()
            .map_err(text)?
            .flatten(),
        minutes: r
            .viewing_duration_minutes
            .map(|m| Minutes::new("viewingDurationMinutes", i64::from(m)))
            .transpose()
            .map_err(text)?,
        location: r
            .viewing_location
            .as_deref()
            .map(ViewingLocation::parse)
            .transpose()
            .map_err(text)?
            .flatten(),
        context: r
            .viewing_context
            .as_deref()
            .map(ViewingContext::parse)
            .transpose()
            .map_err(text)?
            .flatten(),
        companions: Companions::parse(&r.watched_with).map_err(text)?,
        origin: Some(Origin::parse(&r.origin).ok_or_else(|| format!("origin: {:?}", r.origin))?),
    })
}

pub(super) fn rows(files: &[SourceFile]) -> Result<Vec<ImportRow>, FileError> {
    let file = match files {
        [only] => only,
        _ => files
            .iter()
            .find(|f| basename(&f.name).ends_with(".json"))
            .ok_or_else(|| {
                FileError("no JSON file found: expected the export's document".to_owned())
            })?,
    };
    let doc: ExportDocument = serde_json::from_slice(&file.bytes)
        .map_err(|e| FileError(format!("{}: not this service's export: {e}", file.shown())))?;
    if doc.format != FORMAT || doc.version != VERSION {
        return Err(FileError(format!(
            "{}: format {:?} version {} (this build reads {FORMAT:?} version {VERSION})",
            file.shown(),
            doc.format,
            doc.version
        )));
    }
    let mut out = Vec::with_capacity(doc.records.len());
    for r in &doc.records {
        let row = u32::try_from(out.len() + 1).unwrap_or(u32::MAX);
        let episode = r.kind == "episode";
        let mut item = ImportRow {
            row,
            kind: if episode {
                RowKind::Episode
            } else {
                RowKind::Movie
            },
            title: match (&r.show_title, r.season_number, r.episode_number) {
                (Some(show), Some(s), Some(e)) => format!("{show} S{s}E{e}"),
                _ => r.title.clone(),
            },
            year: r.year,
            ids: ids(&r.external_ids),
            show: match (episode, r.season_number, r.episode_number) {
                (true, Some(season), Some(number)) => Some(ShowRef {
                    title: r.show_title.clone().unwrap_or_default(),
                    ids: ids(&r.show_external_ids),
                    season,
                    episode: Some(number),
                    episode_title: None,
                }),
                _ => None,
            },
            at: Some(r.watch_date),
            play: PlayDetails::default(),
            own_id: Some(r.content_id),
            abandon: None,
            source_key: format!("viewing:{}", r.id),
            verdict: None,
        };
        if !episode && r.kind != "movie" {
            item.verdict = Some((RowOutcome::Invalid, format!("type: {:?}", r.kind)));
        }
        match details(r) {
            Ok(d) => item.play = d,
            Err(why) => item.verdict = Some((RowOutcome::Invalid, why)),
        }
        out.push(item);
    }
    let base = |row: usize, kind: RowKind, title: String, key: String| ImportRow {
        row: u32::try_from(row).unwrap_or(u32::MAX),
        kind,
        title,
        year: None,
        ids: ExternalIds::new(),
        show: None,
        at: None,
        play: PlayDetails::default(),
        own_id: None,
        abandon: None,
        source_key: key,
        verdict: None,
    };
    for a in &doc.abandons {
        let mut row = base(
            out.len() + 1,
            RowKind::Abandon,
            format!("{} {}", a.item_type, a.item_id),
            format!("viewing:abandon:{}", a.id),
        );
        row.own_id = Some(a.item_id);
        row.at = Some(a.abandon_date);
        match abandon_of(a) {
            Ok(cmd) => row.abandon = Some(cmd),
            Err(why) => row.verdict = Some((RowOutcome::Invalid, why)),
        }
        out.push(row);
    }
    for r in &doc.resets {
        let mut row = base(
            out.len() + 1,
            RowKind::Reset,
            format!("show {}", r.show_id),
            format!("viewing:reset:{}:{}", r.show_id, r.reset_at.to_rfc3339()),
        );
        row.own_id = Some(r.show_id);
        row.at = Some(r.reset_at);
        out.push(row);
    }
    for w in &doc.watchlist {
        let mut row = base(
            out.len() + 1,
            RowKind::Watchlist,
            format!("{} {}", w.kind, w.content_id),
            format!("viewing:watchlist:{}", w.content_id),
        );
        row.own_id = Some(w.content_id);
        row.at = Some(w.added_at);
        if w.kind == "show" {
            row.show = Some(ShowRef::default());
        }
        out.push(row);
    }
    Ok(out)
}
