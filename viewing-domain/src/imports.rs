//! Imports of another service's history (SPEC §12): what a row of an export says, what became
//! of it, and the import that holds the rows.

use chrono::{DateTime, Utc};

use crate::external::ExternalIds;
use crate::ids::{AbandonId, ImportId, RecordId, ShowId, UserId};
use crate::records::Origin;
use crate::values::{Companions, Minutes, Platform, ViewingContext, ViewingLocation};

/// Whose export a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImportSource {
    /// Trakt's export: `watched-history*.json`, `lists-watchlist.json`, `ratings-*.json`.
    Trakt,
    /// Letterboxd's export: `diary.csv`, `watched.csv`, `watchlist.csv`.
    Letterboxd,
    /// Netflix: `NetflixViewingHistory.csv` or the data request's `ViewingActivity.csv`.
    Netflix,
    /// TV Time's GDPR export.
    Tvtime,
    /// This service's own export.
    Viewing,
}

impl ImportSource {
    /// Every source, in the order the API lists them.
    pub const ALL: [ImportSource; 5] = [
        ImportSource::Trakt,
        ImportSource::Letterboxd,
        ImportSource::Netflix,
        ImportSource::Tvtime,
        ImportSource::Viewing,
    ];

    /// The lowercase name on the wire and in the stores.
    pub fn as_str(self) -> &'static str {
        match self {
            ImportSource::Trakt => "trakt",
            ImportSource::Letterboxd => "letterboxd",
            ImportSource::Netflix => "netflix",
            ImportSource::Tvtime => "tvtime",
            ImportSource::Viewing => "viewing",
        }
    }

    /// The source named by [`ImportSource::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// Where an import stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportStatus {
    /// Matched and counted; nothing was recorded.
    DryRun,
    /// Its plays are recorded.
    Applied,
    /// Its plays were recorded, then removed again.
    Undone,
}

impl ImportStatus {
    /// The name on the wire and in the stores.
    pub fn as_str(self) -> &'static str {
        match self {
            ImportStatus::DryRun => "dry-run",
            ImportStatus::Applied => "applied",
            ImportStatus::Undone => "undone",
        }
    }

    /// The status named by [`ImportStatus::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        [Self::DryRun, Self::Applied, Self::Undone]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// What a row of an export is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowKind {
    /// A movie play.
    Movie,
    /// An episode play.
    Episode,
    /// A movie or show to watch.
    Watchlist,
    /// A rating.
    Rating,
    /// An abandoned movie or show (this service's own export).
    Abandon,
    /// A rewatch reset of a show (this service's own export).
    Reset,
}

impl RowKind {
    /// The name on the wire and in the stores.
    pub fn as_str(self) -> &'static str {
        match self {
            RowKind::Movie => "movie",
            RowKind::Episode => "episode",
            RowKind::Watchlist => "watchlist",
            RowKind::Rating => "rating",
            RowKind::Abandon => "abandon",
            RowKind::Reset => "reset",
        }
    }

    /// The kind named by [`RowKind::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Movie,
            Self::Episode,
            Self::Watchlist,
            Self::Rating,
            Self::Abandon,
            Self::Reset,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
}

/// What became of a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RowOutcome {
    /// Recorded (in a dry run: would be).
    Imported,
    /// Its source key was imported before, or appears earlier in the file.
    Duplicate,
    /// Nothing in the catalog matches it, or several things do.
    Unmatched,
    /// A row of a kind this import does not record (a rating, a trailer).
    Skipped,
    /// A row that cannot be read (a date that does not parse, a missing title).
    Invalid,
}

impl RowOutcome {
    /// Every outcome.
    pub const ALL: [RowOutcome; 5] = [
        RowOutcome::Imported,
        RowOutcome::Duplicate,
        RowOutcome::Unmatched,
        RowOutcome::Skipped,
        RowOutcome::Invalid,
    ];

    /// The name on the wire and in the stores.
    pub fn as_str(self) -> &'static str {
        match self {
            RowOutcome::Imported => "imported",
            RowOutcome::Duplicate => "duplicate",
            RowOutcome::Unmatched => "unmatched",
            RowOutcome::Skipped => "skipped",
            RowOutcome::Invalid => "invalid",
        }
    }

    /// The outcome named by [`RowOutcome::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// How a row found its catalog item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchedBy {
    /// One of its external ids.
    ExternalId,
    /// Its show (by external id or title) and its season and episode numbers.
    Coordinates,
    /// Its normalised title (and year).
    Title,
}

impl MatchedBy {
    /// The name on the wire and in the stores.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchedBy::ExternalId => "externalId",
            MatchedBy::Coordinates => "coordinates",
            MatchedBy::Title => "title",
        }
    }

    /// The way named by [`MatchedBy::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        [Self::ExternalId, Self::Coordinates, Self::Title]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// The show an episode row names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShowRef {
    /// Its title as the export gives it.
    pub title: String,
    /// Its ids at other services.
    pub ids: ExternalIds,
    /// The season number.
    pub season: u32,
    /// The episode number, when the export gives it.
    pub episode: Option<u32>,
    /// The episode's title, for an export that gives no number (Netflix).
    pub episode_title: Option<String>,
}

/// What an export says of a play besides what and when.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlayDetails {
    /// Where it was streamed.
    pub platform: Option<Platform>,
    /// How long it was watched.
    pub minutes: Option<Minutes>,
    /// Where it was watched (an episode's place comes only from an edit).
    pub location: Option<ViewingLocation>,
    /// Why or how it was watched.
    pub context: Option<ViewingContext>,
    /// With whom it was watched.
    pub companions: Companions,
    /// Where the play first came from, kept by an import of this service's own export
    /// (`None`: the import is its origin).
    pub origin: Option<Origin>,
}

/// One row of an export, read: what it says, before matching.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportRow {
    /// Its number in the file (1: the first data row), or in the files taken in order.
    pub row: u32,
    /// What it is about.
    pub kind: RowKind,
    /// The movie's or the episode's title.
    pub title: String,
    /// A movie's release year.
    pub year: Option<i32>,
    /// The movie's or the episode's own ids at other services.
    pub ids: ExternalIds,
    /// For an episode: its show and numbers.
    pub show: Option<ShowRef>,
    /// When it was watched (plays) or listed (watchlist).
    pub at: Option<DateTime<Utc>>,
    /// What else the export says of the play (Netflix's platform and duration; everything,
    /// for this service's own export).
    pub play: PlayDetails,
    /// The movie's or episode's id in this catalog (this service's own export).
    pub own_id: Option<uuid::Uuid>,
    /// For an abandon row: what the export says of it (this service's own export).
    pub abandon: Option<crate::rules::abandon::Abandon>,
    /// What names this play at its source, so a second import of it is a duplicate (a Trakt
    /// history id, a Letterboxd URI, …).
    pub source_key: String,
    /// Set when the row is not recorded whatever the catalog holds: `Skipped` or `Invalid`
    /// with the reason.
    pub verdict: Option<(RowOutcome, String)>,
}

/// What became of one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportItem {
    /// Its number in the file.
    pub row: u32,
    /// What it is about.
    pub kind: RowKind,
    /// The title it gives.
    pub title: String,
    /// What became of it.
    pub outcome: RowOutcome,
    /// How it was matched, when it was.
    pub matched_by: Option<MatchedBy>,
    /// The movie or episode it was matched to.
    pub content_id: Option<uuid::Uuid>,
    /// Why it is not imported.
    pub reason: Option<String>,
}

/// How many rows ended how.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportSummary {
    /// Rows read.
    pub rows: u32,
    /// Recorded (or, in a dry run, would be).
    pub imported: u32,
    /// Imported before or repeated in the file.
    pub duplicates: u32,
    /// Not matched.
    pub unmatched: u32,
    /// Not recorded by design.
    pub skipped: u32,
    /// Not readable.
    pub invalid: u32,
}

impl ImportSummary {
    /// The counts of `items`.
    pub fn of(items: &[ImportItem]) -> Self {
        let mut s = Self {
            rows: u32::try_from(items.len()).unwrap_or(u32::MAX),
            ..Self::default()
        };
        for i in items {
            let n = match i.outcome {
                RowOutcome::Imported => &mut s.imported,
                RowOutcome::Duplicate => &mut s.duplicates,
                RowOutcome::Unmatched => &mut s.unmatched,
                RowOutcome::Skipped => &mut s.skipped,
                RowOutcome::Invalid => &mut s.invalid,
            };
            *n += 1;
        }
        s
    }
}

/// What an import made under a source key, so that its undo removes exactly that.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportLink {
    /// A viewing record.
    Play(RecordId),
    /// An abandon record.
    Abandon(AbandonId),
    /// A watchlist entry of this movie or show (one the user did not have before).
    Watchlist(uuid::Uuid),
    /// A rewatch reset of this show.
    Reset(ShowId),
}

impl ImportLink {
    /// The kind as the stores keep it, and the id.
    pub fn parts(self) -> (&'static str, uuid::Uuid) {
        match self {
            ImportLink::Play(id) => ("play", id.as_uuid()),
            ImportLink::Abandon(id) => ("abandon", id.as_uuid()),
            ImportLink::Watchlist(id) => ("watchlist", id),
            ImportLink::Reset(id) => ("reset", id.as_uuid()),
        }
    }

    /// The link [`ImportLink::parts`] gave.
    pub fn from_parts(kind: &str, id: uuid::Uuid) -> Option<Self> {
        Some(match kind {
            "play" => ImportLink::Play(RecordId::from(id)),
            "abandon" => ImportLink::Abandon(AbandonId::from(id)),
            "watchlist" => ImportLink::Watchlist(id),
            "reset" => ImportLink::Reset(ShowId::from(id)),
            _ => return None,
        })
    }
}

/// One import of a user's file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    /// Its id.
    pub id: ImportId,
    /// Whose history it is.
    pub user_id: UserId,
    /// Whose export the file is.
    pub source: ImportSource,
    /// Where it stands.
    pub status: ImportStatus,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// How many rows ended how.
    pub summary: ImportSummary,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in ImportSource::ALL {
            assert_eq!(ImportSource::parse(s.as_str()), Some(s));
        }
        for o in RowOutcome::ALL {
            assert_eq!(RowOutcome::parse(o.as_str()), Some(o));
        }
        for k in [
            RowKind::Movie,
            RowKind::Episode,
            RowKind::Watchlist,
            RowKind::Rating,
        ] {
            assert_eq!(RowKind::parse(k.as_str()), Some(k));
        }
        for m in [
            MatchedBy::ExternalId,
            MatchedBy::Coordinates,
            MatchedBy::Title,
        ] {
            assert_eq!(MatchedBy::parse(m.as_str()), Some(m));
        }
        for st in [
            ImportStatus::DryRun,
            ImportStatus::Applied,
            ImportStatus::Undone,
        ] {
            assert_eq!(ImportStatus::parse(st.as_str()), Some(st));
        }
        assert_eq!(ImportSource::parse("plex"), None);
    }

    #[test]
    fn a_summary_counts_each_outcome() {
        let item = |outcome| ImportItem {
            row: 1,
            kind: RowKind::Movie,
            title: "Heat".to_owned(),
            outcome,
            matched_by: None,
            content_id: None,
            reason: None,
        };
        let items: Vec<ImportItem> = [
            RowOutcome::Imported,
            RowOutcome::Imported,
            RowOutcome::Duplicate,
            RowOutcome::Unmatched,
            RowOutcome::Skipped,
            RowOutcome::Invalid,
            RowOutcome::Invalid,
        ]
        .into_iter()
        .map(item)
        .collect();
        assert_eq!(
            ImportSummary::of(&items),
            ImportSummary {
                rows: 7,
                imported: 2,
                duplicates: 1,
                unmatched: 1,
                skipped: 1,
                invalid: 2
            }
        );
    }
}
