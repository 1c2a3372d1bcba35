//! Netflix (SPEC §12): `NetflixViewingHistory.csv` (`Title,Date`, US dates), or the data
//! request's `ViewingActivity.csv` (`Profile Name,Start Time,Duration,Attributes,Title,
//! Supplemental Video Type,Device Type,Bookmark,Latest Bookmark,Country`), one profile of it.
//! Trailers and other supplemental videos, autoplayed previews and views that are not the
//! latest of a title are skipped. An episode's title reads `Show: Season 2: Episode Title`
//! (also `Limited Series`, `Part N`, `Volume N`, `Chapter N`); everything else is a movie. Plays
//! are on platform `Netflix`.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use viewing_domain::ExternalIds;
use viewing_domain::imports::{ImportRow, PlayDetails, RowKind, RowOutcome, ShowRef};
use viewing_domain::values::{Minutes, Platform};

use super::files::Csv;
use super::letterboxd::noon;
use super::{FileError, SourceFile, basename};

/// What a Netflix title names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Title {
    /// An episode: its show, season number and own title, and its number when the title ends
    /// in `(Episode N)` (the data request's file).
    Episode {
        show: String,
        season: u32,
        episode: String,
        number: Option<u32>,
    },
    /// A movie (or anything without a season marker).
    Movie(String),
}

/// The season a `: `-separated part of a title marks, if it is one.
fn season_marker(part: &str) -> Option<u32> {
    if matches!(part, "Limited Series" | "Miniseries" | "Mini-Series") {
        return Some(1);
    }
    for prefix in [
        "Season ", "Part ", "Volume ", "Chapter ", "Book ", "Series ",
    ] {
        if let Some(n) = part.strip_prefix(prefix).and_then(|n| n.parse().ok()) {
            return Some(n);
        }
    }
    None
}

/// Reads `Show: Season 2: Episode Title`: the show is what comes before the first season
/// marker, the episode what comes after it.
pub(crate) fn split_title(raw: &str) -> Title {
    let parts: Vec<&str> = raw.split(": ").collect();
    for (i, part) in parts.iter().enumerate().skip(1) {
        if let Some(season) = season_marker(part.trim())
            && i + 1 < parts.len()
        {
            let episode = parts[i + 1..].join(": ");
            let (episode, number) = match episode
                .strip_suffix(')')
                .and_then(|e| e.rsplit_once(" (Episode "))
                .and_then(|(title, n)| Some((title.to_owned(), n.parse().ok()?)))
            {
                Some((title, n)) => (title, Some(n)),
                None => (episode, None),
            };
            return Title::Episode {
                show: parts[..i].join(": "),
                season,
                episode,
                number,
            };
        }
    }
    Title::Movie(raw.to_owned())
}

/// `HH:MM:SS` as whole minutes.
fn minutes(raw: &str) -> Option<Minutes> {
    let mut it = raw.split(':').map(|p| p.parse::<i64>().ok());
    let (h, m) = (it.next()??, it.next()??);
    Minutes::new("duration", h.checked_mul(60)?.checked_add(m)?).ok()
}

fn netflix() -> Option<Platform> {
    Platform::parse("Netflix").ok().flatten()
}

fn row_of(row: u32, title: &str) -> ImportRow {
    let (kind, show, name) = match split_title(title) {
        Title::Episode {
            show,
            season,
            episode,
            number,
        } => (
            RowKind::Episode,
            Some(ShowRef {
                title: show,
                ids: ExternalIds::new(),
                season,
                episode: number,
                episode_title: Some(episode),
            }),
            title.to_owned(),
        ),
        Title::Movie(t) => (RowKind::Movie, None, t),
    };
    ImportRow {
        row,
        kind,
        title: name,
        year: None,
        ids: ExternalIds::new(),
        show,
        at: None,
        play: PlayDetails {
            platform: netflix(),
            ..PlayDetails::default()
        },
        own_id: None,
        abandon: None,
        source_key: String::new(),
        verdict: title
            .trim()
            .is_empty()
            .then(|| (RowOutcome::Invalid, "no Title".to_owned())),
    }
}

/// US dates as the file gives them (`12/31/22`, `12/31/2022`); also the forms other locales
/// get that cannot be mistaken for them (`2022-12-31`, `31.12.22`, `31.12.2022`).
fn us_date(raw: &str) -> Option<NaiveDate> {
    let two_digit_year = |sep: char| raw.rsplit(sep).next().is_some_and(|y| y.len() == 2);
    let parse = |f: &str| NaiveDate::parse_from_str(raw, f).ok();
    if raw.contains('/') {
        if two_digit_year('/') {
            parse("%m/%d/%y")
        } else {
            parse("%m/%d/%Y")
        }
    } else if raw.contains('.') {
        if two_digit_year('.') {
            parse("%d.%m.%y")
        } else {
            parse("%d.%m.%Y")
        }
    } else {
        parse("%Y-%m-%d")
    }
}

fn start_time(raw: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(raw, "%Y-%m-%d %H:%M:%S")
        .ok()
        .map(|t| t.and_utc())
}

pub(super) fn rows(
    files: &[SourceFile],
    profile: Option<&str>,
) -> Result<Vec<ImportRow>, FileError> {
    let activity = files
        .iter()
        .find(|f| basename(&f.name) == "ViewingActivity.csv");
    let simple = files
        .iter()
        .find(|f| basename(&f.name) == "NetflixViewingHistory.csv");
    let single = match files {
        [only] if only.name.is_empty() => Some(only),
        _ => None,
    };
    if let Some(file) = activity {
        return activity_rows(file, profile);
    }
    let file = simple.or(single).ok_or_else(|| {
        FileError(
            "no Netflix file found: expected NetflixViewingHistory.csv, or the data request's \
             ViewingActivity.csv, alone or in its zip"
                .to_owned(),
        )
    })?;
    let csv = Csv::read(file, &["Title"])?;
    if csv.has("Start Time") {
        return activity_rows(file, profile);
    }
    let csv = Csv::read(file, &["Title", "Date"])?;
    let mut out = Vec::with_capacity(csv.rows.len());
    for (i, (_, r)) in csv.rows.iter().enumerate() {
        let title = csv.get(r, "Title").unwrap_or_default();
        let date = csv.get(r, "Date").unwrap_or_default();
        let mut row = row_of(u32::try_from(i + 1).unwrap_or(u32::MAX), title);
        row.source_key = format!("netflix:{title}:{date}");
        match us_date(date) {
            Some(d) => row.at = Some(noon(d)),
            None if row.verdict.is_none() => {
                row.verdict = Some((
                    RowOutcome::Invalid,
                    format!("Date: not a date (MM/DD/YY, YYYY-MM-DD or DD.MM.YY): {date:?}"),
                ));
            }
            None => {}
        }
        out.push(row);
    }
    Ok(out)
}

fn activity_rows(file: &SourceFile, profile: Option<&str>) -> Result<Vec<ImportRow>, FileError> {
    let csv = Csv::read(file, &["Profile Name", "Start Time", "Title"])?;
    let mut profiles: Vec<&str> = csv
        .rows
        .iter()
        .filter_map(|(_, r)| csv.get(r, "Profile Name"))
        .collect();
    profiles.sort_unstable();
    profiles.dedup();
    let chosen = match (profile, profiles.as_slice()) {
        (Some(p), _) if profiles.contains(&p) => p.to_owned(),
        (Some(p), _) => {
            return Err(FileError(format!(
                "{}: no profile {p:?} (profiles: {})",
                file.shown(),
                profiles.join(", ")
            )));
        }
        (None, [one]) => (*one).to_owned(),
        (None, _) => {
            return Err(FileError(format!(
                "{}: several profiles ({}); choose one with profile=NAME",
                file.shown(),
                profiles.join(", ")
            )));
        }
    };
    let mut out = Vec::new();
    for (_, r) in csv
        .rows
        .iter()
        .filter(|(_, r)| csv.get(r, "Profile Name") == Some(chosen.as_str()))
    {
        let title = csv.get(r, "Title").unwrap_or_default();
        let start = csv.get(r, "Start Time").unwrap_or_default();
        let mut row = row_of(u32::try_from(out.len() + 1).unwrap_or(u32::MAX), title);
        row.source_key = format!("netflix:{chosen}:{start}");
        row.play.minutes = csv.get(r, "Duration").and_then(minutes);
        let supplemental = csv.get(r, "Supplemental Video Type");
        let attributes = csv.get(r, "Attributes").unwrap_or_default();
        let skip = if let Some(kind) = supplemental {
            Some(format!("a supplemental video ({kind})"))
        } else if attributes.contains("Autoplayed: user action: None") {
            Some("an autoplayed preview".to_owned())
        } else if csv.get(r, "Latest Bookmark") == Some("Not latest view") {
            Some("not the latest view of this title".to_owned())
        } else {
            None
        };
        if let Some(why) = skip {
            row.verdict = Some((RowOutcome::Skipped, why));
        }
        match start_time(start) {
            Some(t) => row.at = Some(t),
            None if row.verdict.is_none() => {
                row.verdict = Some((
                    RowOutcome::Invalid,
                    format!("Start Time: not a time (YYYY-MM-DD HH:MM:SS): {start:?}"),
                ));
            }
            None => {}
        }
        out.push(row);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_split_into_show_season_and_episode() {
        let episode = |show: &str, season, episode: &str| Title::Episode {
            show: show.to_owned(),
            season,
            episode: episode.to_owned(),
            number: None,
        };
        for (raw, want) in [
            ("Dark: Season 1: Secrets", episode("Dark", 1, "Secrets")),
            (
                "The Queen's Gambit: Limited Series: Openings",
                episode("The Queen's Gambit", 1, "Openings"),
            ),
            (
                "Money Heist: Part 3: We're Back",
                episode("Money Heist", 3, "We're Back"),
            ),
            (
                "Star Wars: The Clone Wars: Season 7: Victory and Death",
                episode("Star Wars: The Clone Wars", 7, "Victory and Death"),
            ),
            (
                "Dark: Season 2: Episode: With Colons",
                episode("Dark", 2, "Episode: With Colons"),
            ),
            (
                "Glass Onion: A Knives Out Mystery",
                Title::Movie("Glass Onion: A Knives Out Mystery".to_owned()),
            ),
            ("Heat", Title::Movie("Heat".to_owned())),
            (
                "Friends: Season 1: The One Where Monica Gets a Roommate (Pilot) (Episode 1)",
                Title::Episode {
                    show: "Friends".to_owned(),
                    season: 1,
                    episode: "The One Where Monica Gets a Roommate (Pilot)".to_owned(),
                    number: Some(1),
                },
            ),
            ("Season 2", Title::Movie("Season 2".to_owned())),
        ] {
            assert_eq!(split_title(raw), want, "{raw}");
        }
    }

    #[test]
    fn dates_times_and_durations() {
        assert_eq!(us_date("12/31/22"), NaiveDate::from_ymd_opt(2022, 12, 31));
        assert_eq!(us_date("1/2/2023"), NaiveDate::from_ymd_opt(2023, 1, 2));
        assert_eq!(us_date("31/12/22"), None);
        assert_eq!(us_date("2022-12-31"), NaiveDate::from_ymd_opt(2022, 12, 31));
        assert_eq!(us_date("24.01.23"), NaiveDate::from_ymd_opt(2023, 1, 24));
        assert_eq!(us_date("24.01.2023"), NaiveDate::from_ymd_opt(2023, 1, 24));
        assert_eq!(
            start_time("2023-01-15 20:31:05").map(|t| t.to_rfc3339()),
            Some("2023-01-15T20:31:05+00:00".to_owned())
        );
        assert_eq!(minutes("01:02:59").map(|m| m.get()), Some(62));
        assert_eq!(minutes("soon"), None);
    }
}
