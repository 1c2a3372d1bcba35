//! An uploaded export: one file, or a zip of files at any folder depth.

use std::io::Read;

/// The largest upload an import takes (SPEC §12: 50 MiB), and the most a zip may unpack to
/// (so a small zip cannot unpack into gigabytes).
pub const MAX_FILE_BYTES: usize = 50 * 1024 * 1024;

/// One file of an export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// Its path inside the zip; empty for a file uploaded alone.
    pub name: String,
    /// Its content.
    pub bytes: Vec<u8>,
}

impl SourceFile {
    /// How messages name it.
    pub fn shown(&self) -> &str {
        if self.name.is_empty() {
            "the file"
        } else {
            &self.name
        }
    }
}

/// Why a file cannot be imported at all (a row that cannot be read is an `invalid` row
/// instead).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FileError(pub String);

/// The files of an upload: a zip's files (folders ignored, at any depth), or the upload
/// itself as one file without a name.
///
/// # Errors
/// A zip that cannot be read, or that unpacks to more than [`MAX_FILE_BYTES`].
pub fn read_files(upload: Vec<u8>) -> Result<Vec<SourceFile>, FileError> {
    if !upload.starts_with(b"PK\x03\x04") && !upload.starts_with(b"PK\x05\x06") {
        return Ok(vec![SourceFile {
            name: String::new(),
            bytes: upload,
        }]);
    }
    let bad = |e: zip::result::ZipError| FileError(format!("not a readable zip: {e}"));
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(upload)).map_err(bad)?;
    let mut files = Vec::new();
    let mut total = 0usize;
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(bad)?;
        if entry.is_dir() {
            continue;
        }
        let name = entry.name().map_err(bad)?.into_owned();
        let mut bytes = Vec::new();
        let budget = MAX_FILE_BYTES.saturating_sub(total);
        (&mut entry)
            .take(u64::try_from(budget).unwrap_or(u64::MAX) + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| FileError(format!("{name}: cannot unpack: {e}")))?;
        total += bytes.len();
        if total > MAX_FILE_BYTES {
            return Err(FileError(format!(
                "the zip unpacks to more than {} MiB",
                MAX_FILE_BYTES / (1024 * 1024)
            )));
        }
        files.push(SourceFile { name, bytes });
    }
    Ok(files)
}
