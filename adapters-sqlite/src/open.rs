//! Why a database file cannot be opened, in words a person can act on.
//!
//! SQLite says only "unable to open database file" (`SQLITE_CANTOPEN`) whatever the reason, so
//! after a failed open the file system is asked: is the directory there, is it a directory, may
//! this process write the file and the journal beside it?

use std::fs::OpenOptions;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use viewing_domain::ports::StoreError;

/// The error of a failed open of `file`: `cannot open SQLite database FILE: CAUSE`, the cause
/// found on the file system when it can be, else SQLite's own words.
pub(crate) fn open_error(file: &Path, e: &sqlx::Error) -> StoreError {
    let shown = std::path::absolute(file).unwrap_or_else(|_| file.to_owned());
    let cause = diagnose(&shown).unwrap_or_else(|| match e {
        sqlx::Error::Database(db) => db.message().to_owned(),
        other => other.to_string(),
    });
    StoreError::unavailable(format!(
        "cannot open SQLite database {}: {cause}",
        shown.display()
    ))
}

/// What stops this process from opening `file` read-write, or `None` when nothing does (the
/// cause is then SQLite's: a corrupt file, say).
fn diagnose(file: &Path) -> Option<String> {
    let dir = match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    match std::fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => return Some(format!("{} is not a directory", dir.display())),
        Err(e) if e.kind() == ErrorKind::NotFound => {
            return Some(format!("no such directory {}", dir.display()));
        }
        Err(e) if e.kind() == ErrorKind::NotADirectory => {
            let file_on_the_way = dir
                .ancestors()
                .find(|a| std::fs::metadata(a).is_ok_and(|m| !m.is_dir()))
                .unwrap_or(dir);
            return Some(format!("{} is not a directory", file_on_the_way.display()));
        }
        Err(e) => return Some(format!("{}: {}", dir.display(), words(&e))),
    }
    if file.is_dir() {
        return Some(format!("{} is a directory", file.display()));
    }
    // The file itself, then the write-ahead log SQLite creates beside it (WAL mode), which
    // needs a writable directory even when the file is writable.
    let mut wal = file.as_os_str().to_owned();
    wal.push("-wal");
    for path in [file.to_owned(), PathBuf::from(wal)] {
        let existed = path.exists();
        match OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
        {
            Ok(_) if !existed => {
                // Made only to find out; SQLite makes its own when it can.
                let _ = std::fs::remove_file(&path);
            }
            Ok(_) => {}
            Err(e) if path == file => return Some(words(&e)),
            Err(e) => {
                return Some(format!(
                    "{} (SQLite writes its journal {} beside the file)",
                    words(&e),
                    path.display()
                ));
            }
        }
    }
    None
}

/// An I/O error as the short phrase people know.
fn words(e: &std::io::Error) -> String {
    match e.kind() {
        ErrorKind::PermissionDenied => "permission denied".to_owned(),
        ErrorKind::ReadOnlyFilesystem => "read-only file system".to_owned(),
        ErrorKind::NotFound => "not found".to_owned(),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_directory_is_named() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let file = dir.path().join("nope").join("deeper").join("v.db");
        let cause = diagnose(&file).unwrap_or_default();
        assert_eq!(
            cause,
            format!(
                "no such directory {}",
                dir.path().join("nope/deeper").display()
            )
        );
    }

    #[test]
    fn a_file_in_the_way_is_named() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let plain = dir.path().join("plain");
        std::fs::write(&plain, b"x").unwrap_or_else(|e| panic!("{e}"));
        for file in [plain.join("v.db"), plain.join("a/b/v.db")] {
            let cause = diagnose(&file).unwrap_or_default();
            assert_eq!(cause, format!("{} is not a directory", plain.display()));
        }
        let cause = diagnose(dir.path()).unwrap_or_default();
        assert_eq!(cause, format!("{} is a directory", dir.path().display()));
    }

    #[test]
    fn an_openable_file_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let file = dir.path().join("v.db");
        assert_eq!(diagnose(&file), None);
        assert!(!file.exists());
        assert!(!dir.path().join("v.db-wal").exists());
    }

    #[cfg(unix)]
    #[test]
    fn a_read_only_directory_is_permission_denied_unless_root() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let locked = dir.path().join("locked");
        std::fs::create_dir(&locked).unwrap_or_else(|e| panic!("{e}"));
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o555))
            .unwrap_or_else(|e| panic!("{e}"));
        // Root writes anyway: then nothing stops the open, and the diagnosis must say so.
        let writable = std::fs::write(locked.join("probe"), b"").is_ok();
        let cause = diagnose(&locked.join("v.db"));
        let _ = std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755));
        if writable {
            assert_eq!(cause, None);
        } else {
            assert_eq!(cause.as_deref(), Some("permission denied"));
        }
    }
}
