//! IMDb's public datasets, loaded offline into the catalog (SPEC §16).
//!
//! The files are IMDb's as published: tab-separated, a header row, `\N` for null, read by
//! column name. `title.basics` gives movies (`movie`, `tvMovie`), shows (`tvSeries`,
//! `tvMiniSeries`; `ended` when `endYear` is set) and episodes (`tvEpisode`); `title.episode`
//! places each episode in its show by season and episode number; `title.ratings`, when
//! present, lets a load skip titles with fewer than `min_votes` votes. Every item keeps
//! `externalIds.imdb`, and its id is derived from the IMDb id ([`imdb_uuid`]), so loading
//! again updates in place.
//!
//! The load streams: `title.episode` is read once into a compact table (16 bytes an episode),
//! `title.basics` twice (movies and shows, then seasons and episodes, because a show's
//! episodes may come before it), and rows go to the store in batches of
//! [`ImdbOptions::batch_rows`], each in one unit of work. A row that cannot be read (a number
//! that is not one, a truncated file) stops the load with the file and line: the batch being
//! built is not written, the batches before it are, and loading again finishes the job.
//!
//! No file system here: the caller hands over readers ([`ImdbSource`]), already decompressed.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Read;

use chrono::NaiveDate;
use uuid::Uuid;
use viewing_domain::ports::{Begin, CatalogBulkRepository, CatalogRepository, Transaction};
use viewing_domain::values::{Genre, Minutes, Title};
use viewing_domain::{
    CatalogRows, Episode, EpisodeId, EpisodeRow, ExternalIds, Movie, MovieId, Provider,
    RowsWritten, SeasonId, SeasonRow, Show, ShowId, ShowRow, ShowStatus,
};

use crate::error::AppError;
use crate::service::ViewingService;

/// `title.basics.tsv.gz`.
pub const BASICS: &str = "title.basics.tsv.gz";
/// `title.episode.tsv.gz`.
pub const EPISODES: &str = "title.episode.tsv.gz";
/// `title.ratings.tsv.gz` (optional).
pub const RATINGS: &str = "title.ratings.tsv.gz";

/// The namespace of the ids derived from IMDb ids (UUID v5), this project's own.
const NAMESPACE: Uuid = Uuid::from_u128(0x6f1d_2b0e_54c7_4a5e_9c3b_1f7e_8d2a_4c61);

/// The id of the item IMDb calls `tconst` (`movie`, `show`, `episode`), or of season `n` of a
/// show (`season`): the same on every load, so a reload updates in place.
pub fn imdb_uuid(tconst: &str, season: Option<u32>) -> Uuid {
    match season {
        None => Uuid::new_v5(&NAMESPACE, format!("imdb:{tconst}").as_bytes()),
        Some(n) => Uuid::new_v5(&NAMESPACE, format!("imdb:{tconst}:season:{n}").as_bytes()),
    }
}

/// How a load behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImdbOptions {
    /// Movies and shows with fewer votes in `title.ratings` are skipped (0: keep all; a title
    /// absent from the ratings has 0 votes).
    pub min_votes: u32,
    /// Load titles IMDb marks adult.
    pub include_adult: bool,
    /// Rows per unit of work.
    pub batch_rows: usize,
    /// Episodes whose year is after this one have not aired: they get January 1 of their year
    /// as air date; the others none (IMDb gives only the year).
    pub current_year: i32,
}

impl Default for ImdbOptions {
    fn default() -> Self {
        Self {
            min_votes: 0,
            include_adult: false,
            batch_rows: 20_000,
            current_year: 2026,
        }
    }
}

/// Hands the loader the files it asks for, decompressed. `None`: the file is not there (only
/// `title.ratings` may be missing).
pub trait ImdbSource {
    /// Opens `file` (one of [`BASICS`], [`EPISODES`], [`RATINGS`]) for one pass over it.
    fn open(&self, file: &'static str) -> std::io::Result<Option<Box<dyn Read + Send>>>;
}

/// The steps of a load, for a progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImdbPhase {
    /// Reading `title.ratings`.
    Ratings,
    /// Reading `title.episode` into the episode table.
    EpisodeTable,
    /// First pass over `title.basics`: movies and shows written.
    MoviesAndShows,
    /// Second pass over `title.basics`: seasons and episodes written.
    Episodes,
}

/// Why a load stopped.
#[derive(Debug, thiserror::Error)]
pub enum ImdbError {
    /// A required file is missing.
    #[error("{0}: not found")]
    MissingFile(&'static str),
    /// The header row lacks a column the loader reads.
    #[error("{file}: missing column {column}")]
    MissingColumn {
        /// The file.
        file: &'static str,
        /// The column.
        column: &'static str,
    },
    /// A row could not be read (truncated or corrupt file, a bad number).
    #[error("{file} line {line}: {message}")]
    Row {
        /// The file.
        file: &'static str,
        /// The line, 1 for the header.
        line: u64,
        /// What is wrong.
        message: String,
    },
    /// The store refused or failed.
    #[error("writing to the store: {0}")]
    Store(#[from] AppError),
}

/// What a load did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImdbSummary {
    /// Rows written.
    pub written: RowsWritten,
    /// Rows skipped, by reason.
    pub skipped: BTreeMap<&'static str, u64>,
    /// Rows read from `title.basics` (one pass).
    pub basics_rows: u64,
    /// Rows read from `title.episode`.
    pub episode_rows: u64,
}

impl ImdbSummary {
    fn skip(&mut self, reason: &'static str) {
        *self.skipped.entry(reason).or_default() += 1;
    }
}

/// One row of `title.episode`, compactly: the episode's and its show's IMDb numbers, its
/// numbers in the show, and what the basics pass learns of it.
#[derive(Debug, Clone, Copy)]
struct Link {
    episode: u32,
    parent: u32,
    season: u32,
    number: u32,
    /// Minutes from `title.basics`; `u16::MAX` when unknown.
    runtime: u16,
    /// Written: its show is loaded and no earlier episode holds its numbers.
    keep: bool,
}

const UNKNOWN_RUNTIME: u16 = u16::MAX;
/// The season of an episode `title.episode` gives no numbers for: never written.
const NO_NUMBERS: u32 = u32::MAX;

/// A tab-separated file read by column name.
struct Tsv<R: Read> {
    file: &'static str,
    reader: csv::Reader<R>,
    record: csv::StringRecord,
    columns: Vec<usize>,
}

impl<R: Read> Tsv<R> {
    fn new(file: &'static str, read: R, wanted: &[&'static str]) -> Result<Self, ImdbError> {
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(b'\t')
            .quoting(false)
            .has_headers(true)
            .flexible(false)
            .from_reader(read);
        let headers = reader
            .headers()
            .map_err(|e| row_error(file, 1, &e))?
            .clone();
        let columns = wanted
            .iter()
            .map(|&column| {
                headers
                    .iter()
                    .position(|h| h == column)
                    .ok_or(ImdbError::MissingColumn { file, column })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            file,
            reader,
            record: csv::StringRecord::new(),
            columns,
        })
    }

    /// The next row, or `None` at the end.
    fn next(&mut self) -> Result<Option<Row<'_>>, ImdbError> {
        let more = self.reader.read_record(&mut self.record).map_err(|e| {
            let line = e
                .position()
                .map_or_else(|| self.reader.position().line(), csv::Position::line);
            row_error(self.file, line, &e)
        })?;
        if !more {
            return Ok(None);
        }
        Ok(Some(Row {
            file: self.file,
            line: self.record.position().map_or(0, |p| p.line()),
            record: &self.record,
            columns: &self.columns,
        }))
    }
}

fn row_error(file: &'static str, line: u64, e: &csv::Error) -> ImdbError {
    let message = match e.kind() {
        csv::ErrorKind::Io(io) => format!("cannot read on (truncated or corrupt file?): {io}"),
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("{len} fields where the header has {expected_len}"),
        csv::ErrorKind::Utf8 { .. } => "not UTF-8".to_owned(),
        _ => e.to_string(),
    };
    ImdbError::Row {
        file,
        line,
        message,
    }
}

/// One row, its wanted columns by position in the `wanted` list.
struct Row<'a> {
    file: &'static str,
    line: u64,
    record: &'a csv::StringRecord,
    columns: &'a [usize],
}

impl Row<'_> {
    fn bad(&self, message: String) -> ImdbError {
        ImdbError::Row {
            file: self.file,
            line: self.line,
            message,
        }
    }

    /// Column `i` of the wanted list; `None` for IMDb's `\N`.
    fn get(&self, i: usize) -> Option<&str> {
        self.record
            .get(self.columns[i])
            .filter(|v| *v != "\\N" && !v.is_empty())
    }

    fn text(&self, i: usize, name: &str) -> Result<&str, ImdbError> {
        self.get(i)
            .ok_or_else(|| self.bad(format!("{name}: missing")))
    }

    fn number(&self, i: usize, name: &str) -> Result<Option<u32>, ImdbError> {
        self.get(i)
            .map(|v| {
                v.parse::<u32>()
                    .map_err(|_| self.bad(format!("{name}: not a number: {v:?}")))
            })
            .transpose()
    }

    /// A `tconst` (`tt` and digits) as its number.
    fn tconst(&self, i: usize, name: &str) -> Result<u32, ImdbError> {
        let v = self.text(i, name)?;
        v.strip_prefix("tt")
            .and_then(|d| d.parse::<u32>().ok())
            .ok_or_else(|| self.bad(format!("{name}: not an IMDb id: {v:?}")))
    }
}

fn tconst_text(n: u32) -> String {
    format!("tt{n:07}")
}

/// The `title.basics` columns the loader reads, in this order.
const BASICS_COLUMNS: [&str; 8] = [
    "tconst",
    "titleType",
    "primaryTitle",
    "isAdult",
    "startYear",
    "endYear",
    "runtimeMinutes",
    "genres",
];
const B_TCONST: usize = 0;
const B_TYPE: usize = 1;
const B_TITLE: usize = 2;
const B_ADULT: usize = 3;
const B_START: usize = 4;
const B_END: usize = 5;
const B_RUNTIME: usize = 6;
const B_GENRES: usize = 7;

impl<S> ViewingService<S>
where
    S: Begin,
    S::Uow: Transaction + CatalogRepository + CatalogBulkRepository,
{
    /// Loads IMDb's datasets from `source` (see the module). `phase` is told when each step
    /// starts. Answers what was written and skipped.
    pub async fn load_imdb(
        &self,
        source: &dyn ImdbSource,
        options: ImdbOptions,
        phase: &(dyn Fn(ImdbPhase) + Sync),
    ) -> Result<ImdbSummary, ImdbError> {
        let mut summary = ImdbSummary::default();
        let open = |file: &'static str| -> Result<Option<Box<dyn Read + Send>>, ImdbError> {
            source.open(file).map_err(|e| ImdbError::Row {
                file,
                line: 0,
                message: format!("cannot open: {e}"),
            })
        };

        let votes = if options.min_votes > 0 {
            phase(ImdbPhase::Ratings);
            match open(RATINGS)? {
                Some(r) => Some(read_votes(r)?),
                None => None,
            }
        } else {
            None
        };

        phase(ImdbPhase::EpisodeTable);
        let episodes = open(EPISODES)?.ok_or(ImdbError::MissingFile(EPISODES))?;
        let mut links = read_links(episodes, &mut summary)?;

        phase(ImdbPhase::MoviesAndShows);
        let basics = open(BASICS)?.ok_or(ImdbError::MissingFile(BASICS))?;
        let shows = self
            .movies_and_shows(basics, &options, votes.as_ref(), &mut links, &mut summary)
            .await?;

        let medians = settle_links(&mut links, &shows, &mut summary);

        phase(ImdbPhase::Episodes);
        let basics = open(BASICS)?.ok_or(ImdbError::MissingFile(BASICS))?;
        self.seasons_and_episodes(basics, &options, &links, &medians, &mut summary)
            .await?;
        Ok(summary)
    }

    /// Writes one batch in its own unit of work and tells the catalog cache.
    async fn write_batch(
        &self,
        rows: &mut CatalogRows,
        summary: &mut ImdbSummary,
    ) -> Result<(), ImdbError> {
        if rows.is_empty() {
            return Ok(());
        }
        let mut uow = self.store.begin().await.map_err(AppError::from)?;
        let written = uow.write_catalog_rows(rows).await.map_err(AppError::from)?;
        let version = uow.catalog_version().await.map_err(AppError::from)?;
        uow.commit().await.map_err(AppError::from)?;
        self.catalog.changed(version);
        let left_out = (rows.len() as u64)
            .saturating_sub(written.movies + written.shows + written.seasons + written.episodes);
        if left_out > 0 {
            *summary
                .skipped
                .entry("held by another item (external id or numbers)")
                .or_default() += left_out;
        }
        summary.written += written;
        *rows = CatalogRows::default();
        Ok(())
    }

    /// First pass over `title.basics`: writes movies and shows, notes each episode's runtime in
    /// `links`, and answers the shows loaded.
    async fn movies_and_shows(
        &self,
        basics: Box<dyn Read + Send>,
        options: &ImdbOptions,
        votes: Option<&HashMap<u32, u32>>,
        links: &mut [Link],
        summary: &mut ImdbSummary,
    ) -> Result<HashSet<u32>, ImdbError> {
        let mut tsv = Tsv::new(BASICS, basics, &BASICS_COLUMNS)?;
        let mut shows = HashSet::new();
        let mut rows = CatalogRows::default();
        loop {
            let Some(row) = tsv.next()? else { break };
            summary.basics_rows += 1;
            let tconst = row.tconst(B_TCONST, "tconst")?;
            let kind = row.text(B_TYPE, "titleType")?;
            let runtime = row.number(B_RUNTIME, "runtimeMinutes")?;
            let start = row.number(B_START, "startYear")?;
            let end = row.number(B_END, "endYear")?;
            let adult = row.number(B_ADULT, "isAdult")?.unwrap_or(0) != 0;
            match kind {
                "movie" | "tvMovie" | "tvSeries" | "tvMiniSeries" => {}
                "tvEpisode" => {
                    if let Ok(i) = links.binary_search_by_key(&tconst, |l| l.episode) {
                        links[i].runtime = runtime
                            .and_then(|r| u16::try_from(r).ok())
                            .filter(|r| *r != UNKNOWN_RUNTIME)
                            .unwrap_or(UNKNOWN_RUNTIME);
                    }
                    continue;
                }
                _ => {
                    summary.skip("other title types");
                    continue;
                }
            }
            if adult && !options.include_adult {
                summary.skip("adult");
                continue;
            }
            if let Some(v) = votes
                && v.get(&tconst).copied().unwrap_or(0) < options.min_votes
            {
                summary.skip("fewer votes than --min-votes");
                continue;
            }
            let Some(title) = Title::parse(row.text(B_TITLE, "primaryTitle")?)
                .ok()
                .flatten()
            else {
                summary.skip("title refused");
                continue;
            };
            let genres = genres(row.get(B_GENRES));
            let imdb = tconst_text(tconst);
            let external_ids = ExternalIds::new()
                .with(Provider::Imdb, &imdb)
                .map_err(|e| row.bad(e.message))?;
            if matches!(kind, "movie" | "tvMovie") {
                let Ok(runtime) = Minutes::new("runtimeMinutes", i64::from(runtime.unwrap_or(0)))
                else {
                    summary.skip("runtime over 24 hours");
                    continue;
                };
                rows.movies.push(Movie {
                    id: MovieId::from(imdb_uuid(&imdb, None)),
                    title,
                    runtime,
                    genres,
                    release_date: start.and_then(|y| year_start(y, 0)),
                    external_ids,
                });
            } else {
                shows.insert(tconst);
                rows.shows.push(ShowRow {
                    id: ShowId::from(imdb_uuid(&imdb, None)),
                    title,
                    status: if end.is_some() {
                        ShowStatus::Ended
                    } else {
                        ShowStatus::Returning
                    },
                    genres,
                    external_ids,
                });
            }
            if rows.len() >= options.batch_rows {
                self.write_batch(&mut rows, summary).await?;
            }
        }
        self.write_batch(&mut rows, summary).await?;
        Ok(shows)
    }

    /// Second pass over `title.basics`: writes the seasons and episodes of the loaded shows.
    async fn seasons_and_episodes(
        &self,
        basics: Box<dyn Read + Send>,
        options: &ImdbOptions,
        links: &[Link],
        medians: &HashMap<u32, u16>,
        summary: &mut ImdbSummary,
    ) -> Result<(), ImdbError> {
        let mut tsv = Tsv::new(BASICS, basics, &BASICS_COLUMNS)?;
        let mut seasons: HashSet<(u32, u32)> = HashSet::new();
        let mut rows = CatalogRows::default();
        loop {
            let Some(row) = tsv.next()? else { break };
            if row.get(B_TYPE) != Some("tvEpisode") {
                continue;
            }
            let tconst = row.tconst(B_TCONST, "tconst")?;
            let Ok(i) = links.binary_search_by_key(&tconst, |l| l.episode) else {
                summary.skip("episode not in title.episode");
                continue;
            };
            let link = links[i];
            if !link.keep {
                continue;
            }
            let adult = row.number(B_ADULT, "isAdult")?.unwrap_or(0) != 0;
            if adult && !options.include_adult {
                summary.skip("adult");
                continue;
            }
            let imdb = tconst_text(tconst);
            let title = match Title::parse(row.text(B_TITLE, "primaryTitle")?)
                .ok()
                .flatten()
            {
                Some(t) => t,
                None => match Title::parse(&format!("Episode {}", link.number)) {
                    Ok(Some(t)) => t,
                    _ => {
                        summary.skip("title refused");
                        continue;
                    }
                },
            };
            let minutes = match link.runtime {
                UNKNOWN_RUNTIME => medians.get(&link.parent).copied().unwrap_or(0),
                r => r,
            };
            let Ok(runtime) = Minutes::new("runtimeMinutes", i64::from(minutes)) else {
                summary.skip("runtime over 24 hours");
                continue;
            };
            let start = row.number(B_START, "startYear")?;
            let show = tconst_text(link.parent);
            let show_id = ShowId::from(imdb_uuid(&show, None));
            let season_id = SeasonId::from(imdb_uuid(&show, Some(link.season)));
            if seasons.insert((link.parent, link.season)) {
                rows.seasons.push(SeasonRow {
                    id: season_id,
                    show_id,
                    number: link.season,
                    external_ids: ExternalIds::new(),
                });
            }
            rows.episodes.push(EpisodeRow {
                show_id,
                season_id,
                episode: Episode {
                    id: EpisodeId::from(imdb_uuid(&imdb, None)),
                    number: link.number,
                    title,
                    runtime,
                    air_date: start
                        .filter(|y| i64::from(*y) > i64::from(options.current_year))
                        .and_then(|y| year_start(y, 0)),
                    external_ids: ExternalIds::new()
                        .with(Provider::Imdb, &imdb)
                        .map_err(|e| row.bad(e.message))?,
                },
            });
            if rows.len() >= options.batch_rows {
                self.write_batch(&mut rows, summary).await?;
            }
        }
        self.write_batch(&mut rows, summary).await
    }
}

/// January 1 of `year` (within what the catalog accepts), shifted by `days`.
fn year_start(year: u32, days: u64) -> Option<NaiveDate> {
    let y = i32::try_from(year)
        .ok()
        .filter(|y| (1800..=9999).contains(y))?;
    NaiveDate::from_ymd_opt(y, 1, 1)?.checked_add_days(chrono::Days::new(days))
}

/// IMDb's comma-separated genres, the ones the catalog accepts.
fn genres(raw: Option<&str>) -> Vec<Genre> {
    let mut out: Vec<Genre> = Vec::new();
    for g in raw.unwrap_or_default().split(',') {
        if let Ok(Some(g)) = Genre::parse(g) {
            Genre::push_distinct(&mut out, g);
        }
    }
    out
}

/// `title.ratings`: votes by title.
fn read_votes(read: Box<dyn Read + Send>) -> Result<HashMap<u32, u32>, ImdbError> {
    let mut tsv = Tsv::new(RATINGS, read, &["tconst", "numVotes"])?;
    let mut votes = HashMap::new();
    while let Some(row) = tsv.next()? {
        let tconst = row.tconst(0, "tconst")?;
        let n = row.number(1, "numVotes")?.unwrap_or(0);
        votes.insert(tconst, n);
    }
    Ok(votes)
}

/// `title.episode`: the episode table, sorted by episode. Rows without both numbers are
/// skipped (IMDb lists some episodes before it numbers them).
fn read_links(
    read: Box<dyn Read + Send>,
    summary: &mut ImdbSummary,
) -> Result<Vec<Link>, ImdbError> {
    let mut tsv = Tsv::new(
        EPISODES,
        read,
        &["tconst", "parentTconst", "seasonNumber", "episodeNumber"],
    )?;
    let mut links = Vec::new();
    while let Some(row) = tsv.next()? {
        summary.episode_rows += 1;
        let episode = row.tconst(0, "tconst")?;
        let parent = row.tconst(1, "parentTconst")?;
        let season = row.number(2, "seasonNumber")?;
        let number = row.number(3, "episodeNumber")?;
        let (season, number) = match (season, number) {
            (Some(season), Some(number))
                if season <= Show::MAX_NUMBER && number <= Show::MAX_NUMBER =>
            {
                (season, number)
            }
            _ => {
                summary.skip("episode without season and episode numbers");
                (NO_NUMBERS, 0)
            }
        };
        links.push(Link {
            episode,
            parent,
            season,
            number,
            runtime: UNKNOWN_RUNTIME,
            keep: false,
        });
    }
    links.sort_unstable_by_key(|l| l.episode);
    links.dedup_by_key(|l| l.episode);
    Ok(links)
}

/// Marks the episodes to write — their show is loaded and no lower IMDb id holds their
/// numbers — and answers each loaded show's median known episode runtime.
fn settle_links(
    links: &mut [Link],
    shows: &HashSet<u32>,
    summary: &mut ImdbSummary,
) -> HashMap<u32, u16> {
    links.sort_unstable_by_key(|l| (l.parent, l.season, l.number, l.episode));
    let mut medians = HashMap::new();
    let mut runtimes: Vec<u16> = Vec::new();
    let mut i = 0;
    while i < links.len() {
        let parent = links[i].parent;
        let mut j = i;
        runtimes.clear();
        while j < links.len() && links[j].parent == parent {
            if links[j].season == NO_NUMBERS {
                j += 1;
                continue;
            }
            let loaded = shows.contains(&parent);
            let duplicate = j > i
                && (links[j - 1].season, links[j - 1].number) == (links[j].season, links[j].number);
            links[j].keep = loaded && !duplicate;
            if loaded && duplicate {
                summary.skip("episode numbers given twice in a show");
            }
            if links[j].keep && links[j].runtime != UNKNOWN_RUNTIME {
                runtimes.push(links[j].runtime);
            }
            j += 1;
        }
        if !shows.contains(&parent) {
            let numbered = links[i..j]
                .iter()
                .filter(|l| l.season != NO_NUMBERS)
                .count();
            *summary
                .skipped
                .entry("episode of a show not loaded")
                .or_default() += numbered as u64;
        }
        if !runtimes.is_empty() {
            runtimes.sort_unstable();
            medians.insert(parent, runtimes[runtimes.len() / 2]);
        }
        i = j;
    }
    links.sort_unstable_by_key(|l| l.episode);
    medians
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_and_distinct() {
        assert_eq!(imdb_uuid("tt0133093", None), imdb_uuid("tt0133093", None));
        assert_ne!(imdb_uuid("tt0133093", None), imdb_uuid("tt0133094", None));
        assert_ne!(
            imdb_uuid("tt0944947", Some(1)),
            imdb_uuid("tt0944947", Some(2))
        );
        assert_ne!(
            imdb_uuid("tt0944947", Some(1)),
            imdb_uuid("tt0944947", None)
        );
        assert_eq!(imdb_uuid("tt0133093", None).get_version_num(), 5);
    }

    #[test]
    fn duplicates_lose_to_the_lower_id_and_medians_skip_unknown_runtimes() {
        let link = |episode, parent, season, number, runtime| Link {
            episode,
            parent,
            season,
            number,
            runtime,
            keep: false,
        };
        let mut links = vec![
            link(13, 1, 1, 2, 50),
            link(11, 1, 1, 1, 40),
            link(12, 1, 1, 1, 99),
            link(14, 1, 1, 3, UNKNOWN_RUNTIME),
            link(21, 2, 1, 1, 30),
        ];
        let mut summary = ImdbSummary::default();
        let medians = settle_links(&mut links, &HashSet::from([1]), &mut summary);
        let kept: Vec<u32> = links.iter().filter(|l| l.keep).map(|l| l.episode).collect();
        assert_eq!(kept, [11, 13, 14]);
        assert_eq!(medians.get(&1), Some(&50));
        assert_eq!(medians.get(&2), None);
        assert_eq!(
            summary.skipped.get("episode numbers given twice in a show"),
            Some(&1)
        );
        assert_eq!(
            summary.skipped.get("episode of a show not loaded"),
            Some(&1)
        );
    }
}
