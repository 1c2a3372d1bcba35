//! TV Time's GDPR export (SPEC §12), the zip users were left with when it closed in 2026:
//! - `tracking-prod-records-v2.csv`: `watch-episode-…` (and `rewatch-episode-…`) rows are
//!   episode plays, keyed by TheTVDB's series id (`s_id`) and episode id (`ep_id`, or
//!   `episode_id`), numbered by `s_no`/`ep_no` (or `season_number`/`episode_number`), dated
//!   `created_at` (`YYYY-MM-DD HH:MM:SS`, UTC); `user-series-…` rows with `is_for_later` are the
//!   watchlist; other rows (followed shows, `tracking-stats`) are not history;
//! - `tracking-prod-records.csv`: movie rows (`entity_type` `movie`) of `type` `watch` are
//!   plays dated by `watch_date_range_key` (`watch-date-<epoch seconds>`, else `created_at`),
//!   `towatch` ones the watchlist;
//! - older exports' `seen_episode.csv` (`tv_show_name, episode_id, episode_season_number,
//!   episode_number, updated_at`).
//!
//! Every column is read by name: their order differs between exports.

use chrono::{DateTime, NaiveDateTime, Utc};
use viewing_domain::imports::{ImportRow, PlayDetails, RowKind, RowOutcome, ShowRef};
use viewing_domain::{ExternalIds, Provider};

use super::files::Csv;
use super::{FileError, SourceFile, basename};

fn time(raw: Option<&str>) -> Result<DateTime<Utc>, String> {
    let raw = raw.ok_or("no date")?;
    NaiveDateTime::parse_from_str(raw, "%Y-%m-%d %H:%M:%S")
        .map(|t| t.and_utc())
        .map_err(|_| format!("not a time (YYYY-MM-DD HH:MM:SS): {raw:?}"))
}

/// `Bodyguard (2018)` → `Bodyguard`: TV Time adds the year to tell shows apart.
fn show_title(raw: &str) -> String {
    match raw
        .trim()
        .strip_suffix(')')
        .and_then(|r| r.rsplit_once(" ("))
    {
        Some((title, year)) if year.len() == 4 && year.chars().all(|c| c.is_ascii_digit()) => {
            title.to_owned()
        }
        _ => raw.trim().to_owned(),
    }
}

fn tvdb(value: Option<&str>) -> ExternalIds {
    let mut ids = ExternalIds::new();
    if let Some(v) = value {
        let _ = ids.insert(Provider::Tvdb, v);
    }
    ids
}

fn blank(row: u32, kind: RowKind, title: String, key: String) -> ImportRow {
    ImportRow {
        row,
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
    }
}

pub(super) fn rows(files: &[SourceFile]) -> Result<Vec<ImportRow>, FileError> {
    let named = |name: &str| files.iter().find(|f| basename(&f.name) == name);
    let v2 = named("tracking-prod-records-v2.csv");
    let v1 = named("tracking-prod-records.csv");
    let seen = named("seen_episode.csv");
    if v2.is_none() && v1.is_none() && seen.is_none() {
        return Err(FileError(
            "no TV Time file found: expected tracking-prod-records-v2.csv (also \
             tracking-prod-records.csv, or an older export's seen_episode.csv) in the export zip"
                .to_owned(),
        ));
    }
    let mut out: Vec<ImportRow> = Vec::new();
    let next = |out: &Vec<ImportRow>| u32::try_from(out.len() + 1).unwrap_or(u32::MAX);
    if let Some(file) = v2 {
        let csv = Csv::read(file, &["key", "created_at"])?;
        for (_, r) in &csv.rows {
            let key = csv.get(r, "key").unwrap_or_default();
            if key.starts_with("watch-episode-") || key.starts_with("rewatch-episode-") {
                let season = csv.get(r, "s_no").or(csv.get(r, "season_number"));
                let number = csv.get(r, "ep_no").or(csv.get(r, "episode_number"));
                let name = show_title(csv.get(r, "series_name").unwrap_or_default());
                let mut row = blank(
                    next(&out),
                    RowKind::Episode,
                    format!(
                        "{name} S{}E{}",
                        season.unwrap_or("?"),
                        number.unwrap_or("?")
                    ),
                    format!("tvtime:{key}"),
                );
                row.ids = tvdb(csv.get(r, "ep_id").or(csv.get(r, "episode_id")));
                match (
                    season.and_then(|s| s.parse().ok()),
                    number.and_then(|n| n.parse().ok()),
                ) {
                    (Some(season), Some(episode)) => {
                        row.show = Some(ShowRef {
                            title: name,
                            ids: tvdb(csv.get(r, "s_id")),
                            season,
                            episode: Some(episode),
                            episode_title: None,
                        });
                    }
                    _ if !row.ids.is_empty() => {}
                    _ => {
                        row.verdict = Some((
                            RowOutcome::Invalid,
                            "an episode without its numbers or id".to_owned(),
                        ));
                    }
                }
                match time(csv.get(r, "created_at")) {
                    Ok(at) => row.at = Some(at),
                    Err(why) if row.verdict.is_none() => {
                        row.verdict = Some((RowOutcome::Invalid, format!("created_at: {why}")));
                    }
                    Err(_) => {}
                }
                out.push(row);
            } else if key.starts_with("user-series-") && csv.get(r, "is_for_later") == Some("true")
            {
                let name = show_title(csv.get(r, "series_name").unwrap_or_default());
                let mut row = blank(
                    next(&out),
                    RowKind::Watchlist,
                    name.clone(),
                    format!("tvtime:{key}"),
                );
                row.show = Some(ShowRef {
                    title: name,
                    ids: tvdb(csv.get(r, "s_id")),
                    season: 0,
                    episode: None,
                    episode_title: None,
                });
                match time(csv.get(r, "followed_at").or(csv.get(r, "created_at"))) {
                    Ok(at) => row.at = Some(at),
                    Err(why) => {
                        row.verdict = Some((RowOutcome::Invalid, format!("followed_at: {why}")));
                    }
                }
                out.push(row);
            }
        }
    }
    if let Some(file) = v1 {
        let csv = Csv::read(file, &["type", "entity_type"])?;
        for (line, r) in &csv.rows {
            if csv.get(r, "entity_type") != Some("movie") {
                continue;
            }
            let kind = match csv.get(r, "type") {
                Some("watch") => RowKind::Movie,
                Some("towatch") => RowKind::Watchlist,
                _ => continue,
            };
            let key = csv.get(r, "type-uuid-n").map_or_else(
                || format!("tvtime:movies:{line}"),
                |k| format!("tvtime:{k}"),
            );
            let title = csv.get(r, "movie_name").unwrap_or_default().to_owned();
            let mut row = blank(next(&out), kind, title, key);
            row.year = csv
                .get(r, "release_date")
                .and_then(|d| d.get(..4))
                .and_then(|y| y.parse().ok())
                .filter(|y| *y > 1);
            if kind == RowKind::Watchlist {
                match time(csv.get(r, "created_at")) {
                    Ok(at) => row.at = Some(at),
                    Err(why) => {
                        row.verdict = Some((RowOutcome::Invalid, format!("created_at: {why}")));
                    }
                }
            } else {
                let at = csv
                    .get(r, "watch_date_range_key")
                    .and_then(|k| k.strip_prefix("watch-date-"))
                    .and_then(|s| s.parse::<i64>().ok())
                    .and_then(|s| DateTime::from_timestamp(s, 0))
                    .map_or_else(|| time(csv.get(r, "created_at")), Ok);
                match at {
                    Ok(at) => row.at = Some(at),
                    Err(why) => {
                        row.verdict = Some((RowOutcome::Invalid, format!("created_at: {why}")))
                    }
                }
            }
            if row.title.is_empty() && row.verdict.is_none() {
                row.verdict = Some((RowOutcome::Invalid, "no movie_name".to_owned()));
            }
            out.push(row);
        }
    }
    if let Some(file) = seen {
        let csv = Csv::read(
            file,
            &[
                "tv_show_name",
                "episode_season_number",
                "episode_number",
                "updated_at",
            ],
        )?;
        for (_, r) in &csv.rows {
            let name = show_title(csv.get(r, "tv_show_name").unwrap_or_default());
            let season = csv.get(r, "episode_season_number").unwrap_or_default();
            let number = csv.get(r, "episode_number").unwrap_or_default();
            let episode_id = csv.get(r, "episode_id");
            let updated = csv.get(r, "updated_at").unwrap_or_default();
            let mut row = blank(
                next(&out),
                RowKind::Episode,
                format!("{name} S{season}E{number}"),
                format!("tvtime:seen:{}:{updated}", episode_id.unwrap_or(&name)),
            );
            row.ids = tvdb(episode_id);
            match (season.parse(), number.parse()) {
                (Ok(season), Ok(episode)) => {
                    row.show = Some(ShowRef {
                        title: name,
                        ids: ExternalIds::new(),
                        season,
                        episode: Some(episode),
                        episode_title: None,
                    });
                }
                _ => {
                    row.verdict = Some((
                        RowOutcome::Invalid,
                        "an episode without its numbers".to_owned(),
                    ));
                }
            }
            match time(Some(updated)) {
                Ok(at) => row.at = Some(at),
                Err(why) if row.verdict.is_none() => {
                    row.verdict = Some((RowOutcome::Invalid, format!("updated_at: {why}")));
                }
                Err(_) => {}
            }
            out.push(row);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_year_tv_time_adds_to_a_title_is_dropped() {
        assert_eq!(show_title("Bodyguard (2018)"), "Bodyguard");
        assert_eq!(show_title("The Office (US)"), "The Office (US)");
        assert_eq!(show_title("Dark"), "Dark");
    }
}
