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

/// A CSV file of an export, read by header name (SPEC §12: columns move between versions).
pub(crate) struct Csv {
    headers: Vec<String>,
    /// The data rows, each with its line in the file.
    pub(crate) rows: Vec<(u64, csv::StringRecord)>,
}

impl Csv {
    /// Reads `file`, which must have every column of `required` (a byte-order mark is
    /// ignored).
    pub(crate) fn read(file: &SourceFile, required: &[&str]) -> Result<Self, FileError> {
        let bytes = file
            .bytes
            .strip_prefix(b"\xEF\xBB\xBF")
            .unwrap_or(&file.bytes);
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
        let headers: Vec<String> = reader
            .headers()
            .map_err(|e| FileError(format!("{}: not CSV: {e}", file.shown())))?
            .iter()
            .map(|h| h.trim().to_owned())
            .collect();
        if let Some(missing) = required.iter().find(|c| !headers.iter().any(|h| h == *c)) {
            return Err(FileError(format!(
                "{}: missing column {missing} (columns: {})",
                file.shown(),
                headers.join(",")
            )));
        }
        let mut rows = Vec::new();
        for record in reader.records() {
            let record = record.map_err(|e| FileError(format!("{}: {e}", file.shown())))?;
            let line = record.position().map_or(0, csv::Position::line);
            rows.push((line, record));
        }
        Ok(Self { headers, rows })
    }

    /// Whether the file has the column `name`.
    pub(crate) fn has(&self, name: &str) -> bool {
        self.headers.iter().any(|h| h == name)
    }

    /// The value of column `name` in `row`, trimmed; `None` when empty or absent.
    pub(crate) fn get<'a>(&self, row: &'a csv::StringRecord, name: &str) -> Option<&'a str> {
        let i = self.headers.iter().position(|h| h == name)?;
        row.get(i).map(str::trim).filter(|v| !v.is_empty())
    }
}

/// The first line of `file` as column names, if it is CSV-like (to tell files apart).
pub(crate) fn header_of(file: &SourceFile) -> Vec<String> {
    let bytes = file
        .bytes
        .strip_prefix(b"\xEF\xBB\xBF")
        .unwrap_or(&file.bytes);
    csv::ReaderBuilder::new()
        .from_reader(bytes)
        .headers()
        .map(|h| h.iter().map(|c| c.trim().to_owned()).collect())
        .unwrap_or_default()
}
