//! Show progress: what a user has watched of a show, and what comes next.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, Utc};

use crate::catalog::Show;
use crate::ids::{EpisodeId, ShowId};
use crate::records::{AbandonRecord, ShowProgress, ViewingRecord, Watched};
use crate::rules::RulesConfig;
use crate::values::Percent;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
/// Where a user stands in a show (SPEC §6).
pub enum ProgressStatus {
    /// No regular episode watched.
    NotStarted,
    /// Started, with aired episodes left.
    Watching,
    /// Every aired episode of a returning show watched: waiting for more.
    CaughtUp,
    /// Every aired episode of a finished show watched.
    Completed,
    /// Abandoned by the user.
    Dropped,
    /// In progress but without a watch for the inactivity period (90 days by default).
    Stalled,
}

impl ProgressStatus {
    /// Shows that belong in "continue watching".
    pub fn is_up_next(self) -> bool {
        matches!(self, ProgressStatus::Watching | ProgressStatus::Stalled)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
/// The latest regular episode watched.
pub struct LastWatched {
    /// The episode.
    pub episode_id: EpisodeId,
    /// Its season number.
    pub season_number: u32,
    /// Its number within the season.
    pub episode_number: u32,
    /// When it was watched.
    pub watch_date: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
/// The next regular episode to watch ("up next").
pub struct NextEpisode {
    /// The episode.
    pub episode_id: EpisodeId,
    /// Its season number.
    pub season_number: u32,
    /// Its number within the season.
    pub episode_number: u32,
    /// Its title.
    pub title: String,
    /// When it airs (`None`: already aired).
    pub air_date: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
/// Progress in one regular season.
pub struct SeasonProgressView {
    /// The season number.
    pub season_number: u32,
    /// Aired episodes of it watched.
    pub episodes_watched: u32,
    /// Its aired episodes.
    pub total_episodes: u32,
    /// Completed once (stays true).
    pub completed: bool,
    /// When the season was first watched in full.
    pub completion_date: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq)]
/// A user's progress in a show, as `GET /api/viewing/progress/{showId}` reads it.
pub struct ProgressView {
    /// The show.
    pub show_id: ShowId,
    /// Its title.
    pub title: String,
    /// Where the user stands.
    pub status: ProgressStatus,
    /// Aired regular episodes watched.
    pub episodes_watched: u32,
    /// Aired regular episodes.
    pub total_episodes: u32,
    /// `episodes_watched` of `total_episodes`.
    pub completion_percent: Percent,
    /// Seasons completed once.
    pub completed_seasons: u32,
    /// The latest regular episode watched.
    pub last_watched: Option<LastWatched>,
    /// What to watch next.
    pub next_episode: Option<NextEpisode>,
    /// Unwatched episodes before the last watched one, `(season, episode)`.
    pub gaps: Vec<(u32, u32)>,
    /// Each regular season.
    pub seasons: Vec<SeasonProgressView>,
    /// Latest viewing of any kind (rewatches and specials included).
    pub last_activity_at: Option<DateTime<Utc>>,
    /// Minutes of every viewing of the show.
    pub total_viewing_minutes: u64,
    /// The rewatch pass (1 before any reset): the counts above are of its plays only.
    pub pass: u32,
    /// When the pass started (`None`: never reset).
    pub reset_at: Option<DateTime<Utc>>,
}

/// Counts of aired regular episodes watched, overall and per season.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tally {
    /// Aired regular episodes watched.
    pub watched: u32,
    /// Aired regular episodes.
    pub total: u32,
    /// `(season id, season number, watched, total)` for each regular season, in order.
    pub seasons: Vec<(crate::ids::SeasonId, u32, u32, u32)>,
}

impl Tally {
    /// Every aired regular episode watched (and there is at least one).
    pub fn all_watched(&self) -> bool {
        self.total > 0 && self.watched == self.total
    }
}

/// Episodes watched at least once, first time or not.
fn watched_set(records: &[ViewingRecord]) -> HashSet<EpisodeId> {
    crate::rules::order::watched_episodes(records)
}

/// Counts aired regular episodes watched (SPEC §4: only aired regular episodes count).
pub fn tally(show: &Show, records: &[ViewingRecord], today: NaiveDate) -> Tally {
    let watched = watched_set(records);
    let mut t = Tally {
        watched: 0,
        total: 0,
        seasons: Vec::new(),
    };
    for season in show.seasons().iter().filter(|s| !s.is_specials()) {
        let aired: Vec<_> = season
            .episodes
            .iter()
            .filter(|e| e.has_aired(today))
            .collect();
        let w = aired.iter().filter(|e| watched.contains(&e.id)).count() as u32;
        let total = aired.len() as u32;
        t.watched += w;
        t.total += total;
        t.seasons.push((season.id, season.number, w, total));
    }
    t
}

/// What to watch next: the first unwatched aired regular episode after the last watched one
/// ([`last_watched`]), in watching order; from the start when nothing is watched. Plays that
/// skip episodes (an import, a player, a deleted play) leave [`gaps`] behind it instead.
pub fn next_episode(
    show: &Show,
    records: &[ViewingRecord],
    today: NaiveDate,
) -> Option<NextEpisode> {
    let watched = watched_set(records);
    let last = last_watched(records).map(|l| l.episode_id);
    let mut episodes = show.aired_regular(today);
    if let Some(last) = last {
        // Past the last watched episode (the iterator stops after it).
        episodes.by_ref().find(|e| e.episode.id == last)?;
    }
    episodes
        .find(|e| !watched.contains(&e.episode.id))
        .map(|e| NextEpisode {
            episode_id: e.episode.id,
            season_number: e.season.number,
            episode_number: e.episode.number,
            title: e.episode.title.as_str().to_owned(),
            air_date: e.episode.air_date,
        })
}

/// Unwatched aired regular episodes before the last watched one, in watching order: what plays
/// that skipped episodes left behind (SPEC §11). `(season number, episode number)` each.
pub fn gaps(show: &Show, records: &[ViewingRecord], today: NaiveDate) -> Vec<(u32, u32)> {
    let Some(last) = last_watched(records) else {
        return Vec::new();
    };
    let watched = watched_set(records);
    show.aired_regular(today)
        .take_while(|e| e.episode.id != last.episode_id)
        .filter(|e| !watched.contains(&e.episode.id))
        .map(|e| (e.season.number, e.episode.number))
        .collect()
}

/// The latest first-time regular watch (by watch date, then position in the show).
pub fn last_watched(records: &[ViewingRecord]) -> Option<LastWatched> {
    records
        .iter()
        .filter(|r| r.counts_for_progress())
        .filter_map(|r| match r.watched {
            Watched::Episode {
                episode_id,
                season_number,
                episode_number,
                ..
            } => Some(LastWatched {
                episode_id,
                season_number,
                episode_number,
                watch_date: r.watch_date,
            }),
            Watched::Movie(_) => None,
        })
        .max_by_key(|l| (l.watch_date, l.season_number, l.episode_number))
}

/// Minutes of one record: its duration, else the runtime the catalog gives.
pub fn record_minutes(record: &ViewingRecord, show: &Show) -> u32 {
    if let Some(d) = record.viewing_duration {
        return d.get();
    }
    match record.watched {
        Watched::Episode { episode_id, .. } => show
            .episode(episode_id)
            .map_or(0, |e| e.episode.runtime.get()),
        Watched::Movie(_) => 0,
    }
}

/// The newest viewing of any kind.
pub fn last_activity(records: &[ViewingRecord]) -> Option<DateTime<Utc>> {
    records.iter().map(|r| r.watch_date).max()
}

/// Status of a show for a user (SPEC §5–§6).
pub fn status(
    show: &Show,
    tally: &Tally,
    progress: Option<&ShowProgress>,
    last_activity_at: Option<DateTime<Utc>>,
    latest_abandon: Option<&AbandonRecord>,
    now: DateTime<Utc>,
    rules: &RulesConfig,
) -> ProgressStatus {
    if latest_abandon.is_some_and(|a| last_activity_at.is_none_or(|last| a.abandon_date >= last)) {
        return ProgressStatus::Dropped;
    }
    if tally.watched == 0 {
        return ProgressStatus::NotStarted;
    }
    if progress.is_some_and(|p| p.is_completed)
        || (tally.all_watched() && show.status.is_finished())
    {
        return ProgressStatus::Completed;
    }
    if tally.all_watched() {
        return ProgressStatus::CaughtUp;
    }
    if last_activity_at.is_some_and(|last| now - last > rules.inactivity) {
        return ProgressStatus::Stalled;
    }
    ProgressStatus::Watching
}

/// Everything `GET /api/viewing/progress/{showId}` answers.
pub fn progress_view(
    show: &Show,
    records: &[ViewingRecord],
    progress: Option<&ShowProgress>,
    latest_abandon: Option<&AbandonRecord>,
    now: DateTime<Utc>,
    rules: &RulesConfig,
) -> ProgressView {
    let today = now.date_naive();
    let all = records;
    let records = &*crate::rules::history::current_pass(all, progress);
    let t = tally(show, records, today);
    let last_activity_at = last_activity(all);
    let seasons: Vec<SeasonProgressView> = t
        .seasons
        .iter()
        .map(|&(_, number, watched, total)| SeasonProgressView {
            season_number: number,
            episodes_watched: watched,
            total_episodes: total,
            completed: total > 0 && watched == total,
            completion_date: progress.and_then(|p| {
                p.completed_seasons
                    .iter()
                    .find(|c| c.season_number == number)
                    .map(|c| c.completed_at)
            }),
        })
        .collect();
    ProgressView {
        show_id: show.id,
        title: show.title.as_str().to_owned(),
        status: status(
            show,
            &t,
            progress,
            last_activity_at,
            latest_abandon,
            now,
            rules,
        ),
        episodes_watched: t.watched,
        total_episodes: t.total,
        completion_percent: Percent::of(t.watched, t.total),
        completed_seasons: seasons.iter().filter(|s| s.completed).count() as u32,
        last_watched: last_watched(records),
        next_episode: next_episode(show, records, today),
        gaps: gaps(show, records, today),
        seasons,
        last_activity_at,
        total_viewing_minutes: all.iter().map(|r| u64::from(record_minutes(r, show))).sum(),
        pass: progress.map_or(1, ShowProgress::pass),
        reset_at: progress.and_then(|p| p.reset_at),
    }
}
