//! Imports of another service's history (SPEC §12): reading an export — the file alone or
//! inside its zip, at any folder depth — into rows, matching each row against the catalog, and
//! recording the plays (see `ViewingService::import_history`).

mod files;
mod letterboxd;
mod matching;
mod netflix;
mod service;
mod trakt;
mod tvtime;
mod viewing;

pub use files::{FileError, MAX_FILE_BYTES, SourceFile, read_files};
pub use matching::Match;
pub use service::{ImportProgress, ImportRequest};

use viewing_domain::imports::{ImportRow, ImportSource};

/// The file name without its folders.
pub(crate) fn basename(name: &str) -> &str {
    name.rsplit(['/', '\\']).next().unwrap_or(name)
}

/// The rows of `source`'s export in `files` (see [`read_files`]); `profile` picks one Netflix
/// profile of a data request's `ViewingActivity.csv`.
///
/// # Errors
/// [`FileError`] for a file that is not the source's (no file it writes, not JSON, missing
/// columns).
pub fn rows(
    source: ImportSource,
    files: &[SourceFile],
    profile: Option<&str>,
) -> Result<Vec<ImportRow>, FileError> {
    match source {
        ImportSource::Trakt => trakt::rows(files),
        ImportSource::Letterboxd => letterboxd::rows(files),
        ImportSource::Netflix => netflix::rows(files, profile),
        ImportSource::Tvtime => tvtime::rows(files),
        ImportSource::Viewing => viewing::rows(files),
    }
}
