//! `viewing-server catalog import-imdb DIR` (SPEC §16): opens IMDb's gzip files, shows a
//! progress bar per pass (on a terminal), runs the app's loader and prints a summary.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Instant;

use chrono::Datelike;
use flate2::read::MultiGzDecoder;
use indicatif::{ProgressBar, ProgressStyle};
use viewing_app::ViewingService;
use viewing_app::domain::ports::Store;
use viewing_app::imdb::{ImdbOptions, ImdbPhase, ImdbSource};

use crate::{Fallible, say};

/// What the command was given.
#[derive(Debug, Clone)]
pub struct ImdbArgs {
    /// The folder with the files.
    pub dir: PathBuf,
    /// `--min-votes`.
    pub min_votes: u32,
    /// `--include-adult`.
    pub include_adult: bool,
    /// `--batch-rows`.
    pub batch_rows: u32,
}

/// The files of a folder, each read through a progress bar over its compressed bytes.
struct Folder {
    dir: PathBuf,
    bar: Mutex<Option<ProgressBar>>,
}

impl ImdbSource for Folder {
    fn open(&self, file: &'static str) -> std::io::Result<Option<Box<dyn Read + Send>>> {
        let path = self.dir.join(file);
        let f = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let len = f.metadata()?.len();
        let bar = ProgressBar::new(len).with_style(
            ProgressStyle::with_template(
                "{msg:40} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({eta})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_message(file);
        if let Ok(mut slot) = self.bar.lock()
            && let Some(done) = slot.replace(bar.clone())
        {
            done.finish();
        }
        let read = bar.wrap_read(BufReader::with_capacity(1 << 20, f));
        Ok(Some(Box::new(BufReader::with_capacity(
            1 << 20,
            MultiGzDecoder::new(read),
        ))))
    }
}

/// Runs the load and prints what it did.
pub async fn load<S: Store>(service: &ViewingService<S>, args: &ImdbArgs) -> Fallible<()> {
    if !args.dir.is_dir() {
        return Err(format!("{}: not a folder", args.dir.display()).into());
    }
    let folder = Folder {
        dir: args.dir.clone(),
        bar: Mutex::new(None),
    };
    let options = ImdbOptions {
        min_votes: args.min_votes,
        include_adult: args.include_adult,
        batch_rows: args.batch_rows as usize,
        current_year: chrono::Utc::now().year(),
    };
    let started = Instant::now();
    let phase = |p: ImdbPhase| {
        let what = match p {
            ImdbPhase::Ratings => "reading votes",
            ImdbPhase::EpisodeTable => "reading the episode table",
            ImdbPhase::MoviesAndShows => "writing movies and shows",
            ImdbPhase::Episodes => "writing seasons and episodes",
        };
        tracing::info!(step = what, "IMDb load");
    };
    let result = service.load_imdb(&folder, options, &phase).await;
    if let Ok(mut slot) = folder.bar.lock()
        && let Some(bar) = slot.take()
    {
        bar.finish();
    }
    let summary = result.map_err(|e| {
        format!("{e} (nothing of the last batch was written; run the command again to finish)")
    })?;
    let w = summary.written;
    say(&format!(
        "IMDb load from {} in {:.1} s",
        args.dir.display(),
        started.elapsed().as_secs_f64()
    ));
    say(&format!(
        "  read      {:>10} title.basics rows, {} title.episode rows",
        summary.basics_rows, summary.episode_rows
    ));
    for (what, n) in [
        ("movies", w.movies),
        ("shows", w.shows),
        ("seasons", w.seasons),
        ("episodes", w.episodes),
    ] {
        say(&format!("  written   {n:>10} {what}"));
    }
    for (reason, n) in &summary.skipped {
        say(&format!("  skipped   {n:>10} {reason}"));
    }
    Ok(())
}
