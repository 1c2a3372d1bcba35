//! Trakt's export (SPEC §12): `watched-history*.json` (plays, keyed by their history id),
//! `lists-watchlist.json` and `ratings-*.json`, as the export tools write them — JSON arrays of
//! Trakt's API objects.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use viewing_domain::imports::{ImportRow, PlayDetails, RowKind, RowOutcome, ShowRef};
use viewing_domain::{ExternalIds, Provider};

use super::{FileError, SourceFile, basename};

#[derive(Debug, Default, Deserialize)]
struct Ids {
    #[serde(default)]
    trakt: Option<u64>,
    #[serde(default)]
    imdb: Option<String>,
    #[serde(default)]
    tmdb: Option<u64>,
    #[serde(default)]
    tvdb: Option<u64>,
}

impl Ids {
    /// The ids of the shapes the catalog takes (an odd one is left out, not an error).
    fn external(&self) -> ExternalIds {
        let mut out = ExternalIds::new();
        let numbers = [
            (Provider::Trakt, self.trakt),
            (Provider::Tmdb, self.tmdb),
            (Provider::Tvdb, self.tvdb),
        ];
        for (p, v) in numbers {
            if let Some(v) = v {
                let _ = out.insert(p, &v.to_string());
            }
        }
        if let Some(imdb) = self.imdb.as_deref().filter(|v| !v.is_empty()) {
            let _ = out.insert(Provider::Imdb, imdb);
        }
        out
    }
}

#[derive(Debug, Deserialize)]
struct Titled {
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    year: Option<i32>,
    #[serde(default)]
    ids: Ids,
}

#[derive(Debug, Deserialize)]
struct EpisodeJson {
    #[serde(default)]
    season: Option<u32>,
    #[serde(default)]
    number: Option<u32>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    ids: Ids,
}

/// A history entry, or a watchlist or ratings entry (their dates differ).
#[derive(Debug, Deserialize)]
struct Entry {
    #[serde(default)]
    id: Option<u64>,
    #[serde(default)]
    watched_at: Option<String>,
    #[serde(default)]
    listed_at: Option<String>,
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    movie: Option<Titled>,
    #[serde(default)]
    show: Option<Titled>,
    #[serde(default)]
    episode: Option<EpisodeJson>,
}

/// What a Trakt file holds, by its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FileKind {
    History,
    Watchlist,
    Ratings,
}

fn kind_of(name: &str) -> Option<FileKind> {
    let base = basename(name);
    if !base.ends_with(".json") {
        return None;
    }
    if base.starts_with("watched-history") {
        Some(FileKind::History)
    } else if base == "lists-watchlist.json" {
        Some(FileKind::Watchlist)
    } else if base.starts_with("ratings-") {
        Some(FileKind::Ratings)
    } else {
        None
    }
}

/// A file's name with its page number apart, so that pages sort by number.
fn page_order(name: &str) -> (String, u32) {
    let base = basename(name).trim_end_matches(".json");
    match base.rsplit_once('-') {
        Some((stem, n)) if n.chars().all(|c| c.is_ascii_digit()) && !n.is_empty() => {
            (stem.to_owned(), n.parse().unwrap_or(0))
        }
        _ => (base.to_owned(), 0),
    }
}

fn date(raw: Option<&str>) -> Result<DateTime<Utc>, String> {
    let raw = raw.ok_or("no date")?;
    DateTime::parse_from_rfc3339(raw)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|_| format!("not a date: {raw:?}"))
}

/// The rows of Trakt's files: every history file, the watchlist and the ratings, in file-name
/// order. A single JSON file (not a zip) is read as watched history. No file Trakt writes →
/// [`FileError`].
pub(super) fn rows(files: &[SourceFile]) -> Result<Vec<ImportRow>, FileError> {
    let mut chosen: Vec<(FileKind, &SourceFile)> = if let [single] = files
        && single.name.is_empty()
    {
        vec![(FileKind::History, single)]
    } else {
        files
            .iter()
            .filter_map(|f| kind_of(&f.name).map(|k| (k, f)))
            .collect()
    };
    if chosen.is_empty() {
        return Err(FileError(
            "no Trakt file found: expected watched-history*.json (also lists-watchlist.json, \
             ratings-*.json), alone or in the export zip"
                .to_owned(),
        ));
    }
    // `watched-history-2.json` before `watched-history-10.json`: pages in number order.
    chosen.sort_by_key(|(_, f)| page_order(&f.name));
    let mut out = Vec::new();
    for (kind, file) in chosen {
        let entries: Vec<serde_json::Value> = serde_json::from_slice(&file.bytes).map_err(|e| {
            FileError(format!(
                "{}: not a JSON array of entries: {e}",
                file.shown()
            ))
        })?;
        for value in entries {
            let row = u32::try_from(out.len() + 1).unwrap_or(u32::MAX);
            out.push(entry_row(row, kind, value));
        }
    }
    Ok(out)
}

fn invalid(row: u32, kind: RowKind, title: &str, why: impl Into<String>) -> ImportRow {
    ImportRow {
        row,
        kind,
        title: title.to_owned(),
        year: None,
        ids: ExternalIds::new(),
        show: None,
        at: None,
        play: PlayDetails::default(),
        own_id: None,
        abandon: None,
        source_key: format!("trakt:row:{row}"),
        verdict: Some((RowOutcome::Invalid, why.into())),
    }
}

fn entry_row(row: u32, file: FileKind, value: serde_json::Value) -> ImportRow {
    let entry: Entry = match serde_json::from_value(value) {
        Ok(e) => e,
        Err(e) => return invalid(row, RowKind::Movie, "", format!("not a Trakt entry: {e}")),
    };
    let is_episode = entry.kind.as_deref() == Some("episode") || entry.episode.is_some();
    let (kind, title, year, ids, show) = if is_episode {
        let (Some(episode), Some(show)) = (&entry.episode, &entry.show) else {
            return invalid(
                row,
                RowKind::Episode,
                "",
                "an episode entry without its show",
            );
        };
        let (Some(season), Some(number)) = (episode.season, episode.number) else {
            return invalid(row, RowKind::Episode, "", "an episode without its numbers");
        };
        (
            RowKind::Episode,
            episode.title.clone().unwrap_or_default(),
            None,
            episode.ids.external(),
            Some(ShowRef {
                title: show.title.clone().unwrap_or_default(),
                ids: show.ids.external(),
                season,
                episode: Some(number),
                episode_title: None,
            }),
        )
    } else if let Some(m) = entry.movie.as_ref().or(entry.show.as_ref()) {
        (
            RowKind::Movie,
            m.title.clone().unwrap_or_default(),
            m.year,
            m.ids.external(),
            None,
        )
    } else {
        return invalid(row, RowKind::Movie, "", "neither a movie nor an episode");
    };
    let shown = match &show {
        Some(s) if !s.title.is_empty() => {
            format!("{} S{}E{}", s.title, s.season, s.episode.unwrap_or(0))
        }
        _ => title.clone(),
    };
    let mut out = ImportRow {
        row,
        kind,
        title: shown,
        year,
        ids,
        show,
        at: None,
        play: PlayDetails::default(),
        own_id: None,
        abandon: None,
        source_key: String::new(),
        verdict: None,
    };
    match file {
        FileKind::Ratings => {
            out.kind = RowKind::Rating;
            out.source_key = format!("trakt:rating:{row}");
            out.verdict = Some((
                RowOutcome::Skipped,
                "ratings are not imported yet".to_owned(),
            ));
        }
        FileKind::Watchlist => {
            out.kind = RowKind::Watchlist;
            // A show on the watchlist: its title and ids as a show's, no numbers.
            if entry.movie.is_none() && entry.show.is_some() {
                out.show = Some(ShowRef {
                    title: out.title.clone(),
                    ids: std::mem::take(&mut out.ids),
                    season: 0,
                    episode: None,
                    episode_title: None,
                });
            }
            let listed = match (&entry.movie, &entry.show) {
                (Some(m), _) => m.ids.trakt,
                (None, Some(s)) => s.ids.trakt,
                _ => None,
            };
            out.source_key = match listed {
                Some(id) => format!("trakt:watchlist:{id}"),
                None => format!("trakt:watchlist:row:{row}"),
            };
            out.at = entry.listed_at.as_deref().and_then(|d| date(Some(d)).ok());
            if out.at.is_none() {
                out.verdict = Some((RowOutcome::Invalid, "listed_at: no date".to_owned()));
            }
        }
        FileKind::History => {
            let Some(id) = entry.id else {
                return invalid(row, kind, &out.title, "a history entry without its id");
            };
            out.source_key = format!("trakt:history:{id}");
            match date(entry.watched_at.as_deref()) {
                Ok(at) => out.at = Some(at),
                Err(why) => out.verdict = Some((RowOutcome::Invalid, format!("watched_at: {why}"))),
            }
        }
    }
    out
}
