//! Letterboxd's export (SPEC §12): `diary.csv` (`Date,Name,Year,Letterboxd URI,Rating,Rewatch,
//! Tags,Watched Date`) — one movie play per row, dated `Watched Date` — then `watched.csv`
//! (`Date,Name,Year,Letterboxd URI`) for films never logged in the diary, dated `Date`, and
//! `watchlist.csv`. Columns are read by name; dates are `YYYY-MM-DD`.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, Utc};
use viewing_domain::ExternalIds;
use viewing_domain::imports::{ImportRow, PlayDetails, RowKind, RowOutcome};
use viewing_domain::search::title_key;

use super::files::{Csv, header_of};
use super::{FileError, SourceFile, basename};

/// A day's plays are placed at noon UTC: the same calendar day in nearly every zone.
pub(super) fn noon(day: NaiveDate) -> DateTime<Utc> {
    day.and_hms_opt(12, 0, 0).unwrap_or_default().and_utc()
}

fn day(raw: Option<&str>) -> Result<NaiveDate, String> {
    let raw = raw.ok_or("no date")?;
    NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| format!("not a date: {raw:?}"))
}

pub(super) fn rows(files: &[SourceFile]) -> Result<Vec<ImportRow>, FileError> {
    let named = |name: &str| files.iter().find(|f| basename(&f.name) == name);
    let (diary, watched, watchlist) = if let [single] = files
        && single.name.is_empty()
    {
        // One file alone: the diary when it has `Watched Date`, else watched.csv.
        if header_of(single).iter().any(|h| h == "Watched Date") {
            (Some(single), None, None)
        } else {
            (None, Some(single), None)
        }
    } else {
        (
            named("diary.csv"),
            named("watched.csv"),
            named("watchlist.csv"),
        )
    };
    if diary.is_none() && watched.is_none() && watchlist.is_none() {
        return Err(FileError(
            "no Letterboxd file found: expected diary.csv (also watched.csv, watchlist.csv), \
             alone or in the export zip"
                .to_owned(),
        ));
    }
    let mut out: Vec<ImportRow> = Vec::new();
    let next = |out: &Vec<ImportRow>| u32::try_from(out.len() + 1).unwrap_or(u32::MAX);
    let mut logged: HashSet<(String, Option<i32>)> = HashSet::new();
    if let Some(file) = diary {
        let csv = Csv::read(file, &["Name", "Letterboxd URI", "Watched Date"])?;
        for (line, r) in &csv.rows {
            let title = csv.get(r, "Name").unwrap_or_default().to_owned();
            let year = csv.get(r, "Year").and_then(|y| y.parse().ok());
            logged.insert((title_key(&title), year));
            let mut row = movie_row(next(&out), title, year);
            match csv.get(r, "Letterboxd URI") {
                Some(uri) => row.source_key = format!("letterboxd:{uri}"),
                None => {
                    row.source_key = format!("letterboxd:diary:{line}");
                    row.verdict = Some((RowOutcome::Invalid, "no Letterboxd URI".to_owned()));
                }
            }
            let date = csv.get(r, "Watched Date").or(csv.get(r, "Date"));
            match day(date) {
                Ok(d) => row.at = Some(noon(d)),
                Err(why) => {
                    row.verdict = Some((RowOutcome::Invalid, format!("Watched Date: {why}")));
                }
            }
            out.push(row);
        }
    }
    if let Some(file) = watched {
        let csv = Csv::read(file, &["Date", "Name", "Letterboxd URI"])?;
        for (line, r) in &csv.rows {
            let title = csv.get(r, "Name").unwrap_or_default().to_owned();
            let year = csv.get(r, "Year").and_then(|y| y.parse().ok());
            let in_diary = logged.contains(&(title_key(&title), year));
            let mut row = movie_row(next(&out), title, year);
            row.source_key = csv.get(r, "Letterboxd URI").map_or_else(
                || format!("letterboxd:watched:{line}"),
                |uri| format!("letterboxd:watched:{uri}"),
            );
            if in_diary {
                row.verdict = Some((RowOutcome::Skipped, "logged in the diary".to_owned()));
            } else {
                match day(csv.get(r, "Date")) {
                    Ok(d) => row.at = Some(noon(d)),
                    Err(why) => row.verdict = Some((RowOutcome::Invalid, format!("Date: {why}"))),
                }
            }
            out.push(row);
        }
    }
    if let Some(file) = watchlist {
        let csv = Csv::read(file, &["Name"])?;
        for (line, r) in &csv.rows {
            let title = csv.get(r, "Name").unwrap_or_default().to_owned();
            let year = csv.get(r, "Year").and_then(|y| y.parse().ok());
            let mut row = movie_row(next(&out), title, year);
            row.kind = RowKind::Watchlist;
            row.source_key = csv.get(r, "Letterboxd URI").map_or_else(
                || format!("letterboxd:watchlist:{line}"),
                |uri| format!("letterboxd:watchlist:{uri}"),
            );
            match day(csv.get(r, "Date")) {
                Ok(d) => row.at = Some(noon(d)),
                Err(why) => row.verdict = Some((RowOutcome::Invalid, format!("Date: {why}"))),
            }
            out.push(row);
        }
    }
    Ok(out)
}

fn movie_row(row: u32, title: String, year: Option<i32>) -> ImportRow {
    let verdict = title
        .trim()
        .is_empty()
        .then(|| (RowOutcome::Invalid, "no Name".to_owned()));
    ImportRow {
        row,
        kind: RowKind::Movie,
        title,
        year,
        ids: ExternalIds::new(),
        show: None,
        at: None,
        play: PlayDetails::default(),
        own_id: None,
        abandon: None,
        source_key: String::new(),
        verdict,
    }
}
