//! `viewing-server import SOURCE FILE --user UUID [--dry-run]` (SPEC §12): an import from the
//! command line, with a progress bar and a summary table; the event handlers then catch up
//! (statistics, achievements) before the command ends.

use std::sync::Arc;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use viewing_app::ViewingService;
use viewing_app::domain::UserId;
use viewing_app::domain::imports::RowOutcome;
use viewing_app::domain::ports::Store;
use viewing_app::imports::{ImportProgress, ImportRequest};
use viewing_app::relay::Relay;

use crate::config::ImportArgs;
use crate::{Fallible, say};

/// The most unmatched and invalid rows the summary lists.
const LISTED: u32 = 20;

/// One bar, relabelled per stage.
struct Bar(ProgressBar);

impl Bar {
    fn stage(&self, what: &str, done: usize, total: usize) {
        let total = u64::try_from(total).unwrap_or(u64::MAX);
        if self.0.length() != Some(total) || self.0.message() != what {
            self.0.set_length(total);
            self.0.set_message(what.to_owned());
        }
        self.0.set_position(u64::try_from(done).unwrap_or(u64::MAX));
    }
}

impl ImportProgress for Bar {
    fn matched(&self, done: usize, total: usize) {
        self.stage("matching rows", done + 1, total);
    }
    fn recorded(&self, done: usize, total: usize) {
        self.stage("recording plays", done + 1, total);
    }
}

/// Runs the import and prints what became of the rows.
pub async fn import<S: Store>(service: &ViewingService<S>, args: &ImportArgs) -> Fallible<()> {
    let upload = std::fs::read(&args.file).map_err(|e| format!("{}: {e}", args.file.display()))?;
    let bar = Arc::new(Bar(ProgressBar::new(0).with_style(
        ProgressStyle::with_template("{msg:20} [{elapsed_precise}] {wide_bar} {pos}/{len}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    )));
    let started = Instant::now();
    let user = UserId::from(args.user);
    let result = service
        .import_history(
            user,
            ImportRequest {
                source: args.source,
                dry_run: args.dry_run,
                upload,
                progress: Some(bar.clone()),
                profile: args.profile.clone(),
            },
        )
        .await;
    bar.0.finish_and_clear();
    let import = result.map_err(|e| format!("{}: {e}", args.file.display()))?;
    let s = import.summary;
    say(&format!(
        "import {} of {} ({}, {}) in {:.1} s",
        import.id,
        args.file.display(),
        import.source.as_str(),
        import.status.as_str(),
        started.elapsed().as_secs_f64()
    ));
    for (what, n) in [
        ("rows", s.rows),
        ("imported", s.imported),
        ("duplicates", s.duplicates),
        ("unmatched", s.unmatched),
        ("skipped", s.skipped),
        ("invalid", s.invalid),
    ] {
        say(&format!("  {what:<12}{n:>8}"));
    }
    for outcome in [RowOutcome::Unmatched, RowOutcome::Invalid] {
        let rows = service
            .import_items(user, import.id, Some(outcome), 0, LISTED)
            .await?;
        for r in &rows {
            say(&format!(
                "  {:<9} row {:>6}  {}: {}",
                outcome.as_str(),
                r.row,
                r.title,
                r.reason.as_deref().unwrap_or("")
            ));
        }
    }
    if !args.dry_run {
        // Apply the events now, so the statistics are current when the command ends.
        let applied = Relay::new(service).drain().await?;
        say(&format!("  events applied {applied}"));
    }
    Ok(())
}
