//! What a show's records add up to, computed from the records alone (SPEC §11).
//!
//! Correcting history keeps one invariant: after any sequence of watches, deletions and edits,
//! the stored progress and binge sessions equal what these functions compute from the records
//! that remain. Recording a watch uses the same functions for its progress row, so a show
//! corrected later and a show recorded in one go cannot disagree.
//!
//! The rules, from the records of one user and one show:
//! - every watched episode has exactly one *first watch*: the record flagged so, or, when none
//!   of its records is (the first watch was deleted), the earliest by watch date (then by when
//!   it was recorded);
//! - a season is *completed* when every one of its aired regular episodes has a first watch;
//!   it was completed at the latest of those watch dates;
//! - a finished show is *completed* when every aired regular episode has a first watch, at the
//!   latest of those watch dates;
//! - the last watched episode, the count and the latest activity follow as in
//!   [`crate::rules::progress`]; binge sessions are [`plan_sessions`] over the records.

use std::borrow::Cow;
use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};

use crate::catalog::Show;
use crate::events::{
    CompletionChanges, DomainEvent, IsoDuration, PlayFacts, PlayRef, ViewingRecordDeleted,
    ViewingRecordEdited,
};
use crate::ids::{EpisodeId, RecordId, UserId};
use crate::ports::IdGenerator;
use crate::records::{
    BingeSession, PassSummary, SeasonCompletion, ShowProgress, ViewingRecord, Watched,
};
use crate::rules::RulesConfig;
use crate::rules::binge::{SessionChanges, plan_sessions};
use crate::rules::progress::{last_activity, last_watched, tally};
use crate::values::{
    Companions, Minutes, Platform, ValidationError, ViewingContext, ViewingLocation, watch_date,
};

/// Gives each watched item exactly one first watch (see the module). `records` are one user's
/// records of one show (or of one movie). Returns the ids whose `is_rewatch` changed.
pub fn settle_first_watches(records: &mut [ViewingRecord]) -> Vec<RecordId> {
    let mut by_item: HashMap<uuid::Uuid, Vec<usize>> = HashMap::new();
    for (i, r) in records.iter().enumerate() {
        by_item.entry(r.watched.content_id()).or_default().push(i);
    }
    let mut changed = Vec::new();
    for mut plays in by_item.into_values() {
        plays.sort_by_key(|&i| {
            let r = &records[i];
            (r.watch_date, r.created_at, r.id)
        });
        // The flagged first watch stays first; without one, the earliest play becomes it.
        let first = plays
            .iter()
            .copied()
            .find(|&i| !records[i].is_rewatch)
            .or_else(|| plays.first().copied());
        for i in plays {
            let rewatch = Some(i) != first;
            if records[i].is_rewatch != rewatch {
                records[i].is_rewatch = rewatch;
                changed.push(records[i].id);
            }
        }
    }
    changed
}

/// The first-watch date of every aired regular episode watched.
fn first_watch_dates(records: &[ViewingRecord]) -> HashMap<EpisodeId, DateTime<Utc>> {
    let mut dates: HashMap<EpisodeId, DateTime<Utc>> = HashMap::new();
    for r in records.iter().filter(|r| r.counts_for_progress()) {
        if let Watched::Episode { episode_id, .. } = r.watched {
            dates
                .entry(episode_id)
                .and_modify(|d| *d = (*d).min(r.watch_date))
                .or_insert(r.watch_date);
        }
    }
    dates
}

/// The seasons every aired regular episode of which has a first watch, each at the latest of
/// those dates, in season order.
pub fn completed_seasons(
    show: &Show,
    records: &[ViewingRecord],
    today: NaiveDate,
) -> Vec<SeasonCompletion> {
    let firsts = first_watch_dates(records);
    show.seasons()
        .iter()
        .filter(|s| !s.is_specials())
        .filter_map(|season| {
            let mut aired = season.episodes.iter().filter(|e| e.has_aired(today));
            let mut latest: Option<DateTime<Utc>> = None;
            let mut any = false;
            let all = aired.all(|e| {
                any = true;
                firsts.get(&e.id).is_some_and(|&d| {
                    latest = Some(latest.map_or(d, |l| l.max(d)));
                    true
                })
            });
            match (any && all, latest) {
                (true, Some(completed_at)) => Some(SeasonCompletion {
                    season_id: season.id,
                    season_number: season.number,
                    completed_at,
                }),
                _ => None,
            }
        })
        .collect()
}

/// When a finished show was completed: every aired regular episode has a first watch (the
/// latest of those dates). `None` for a returning show or one with episodes left.
pub fn show_completion(
    show: &Show,
    records: &[ViewingRecord],
    today: NaiveDate,
) -> Option<DateTime<Utc>> {
    if !show.status.is_finished() {
        return None;
    }
    let firsts = first_watch_dates(records);
    let mut latest: Option<DateTime<Utc>> = None;
    for e in show.aired_regular(today) {
        let d = *firsts.get(&e.episode.id)?;
        latest = Some(latest.map_or(d, |l| l.max(d)));
    }
    latest
}

/// The plays of one rewatch pass (SPEC §11): those dated after `start` (every one, for the
/// first pass) and not after `end` (the next pass's start). In the first pass each item's first
/// watch is its own; in a later pass it is the item's earliest play in the pass, so progress
/// there counts only what was watched again.
pub fn pass_records(
    records: &[ViewingRecord],
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
) -> Vec<ViewingRecord> {
    let mut plays: Vec<ViewingRecord> = records
        .iter()
        .filter(|r| start.is_none_or(|s| r.watch_date > s) && end.is_none_or(|e| r.watch_date <= e))
        .cloned()
        .collect();
    if start.is_some() {
        for r in &mut plays {
            r.is_rewatch = true;
        }
        settle_first_watches(&mut plays);
    }
    plays
}

/// The plays of the current pass of `progress` (all of them before any reset).
pub fn current_pass<'r>(
    records: &'r [ViewingRecord],
    progress: Option<&ShowProgress>,
) -> Cow<'r, [ViewingRecord]> {
    pass_from(records, progress.and_then(|p| p.reset_at))
}

/// The plays of the pass that started at `start` and is still going (all of them for `None`).
fn pass_from(records: &[ViewingRecord], start: Option<DateTime<Utc>>) -> Cow<'_, [ViewingRecord]> {
    match start {
        None => Cow::Borrowed(records),
        Some(_) => Cow::Owned(pass_records(records, start, None)),
    }
}

/// The progress row of `user` in `show` computed from `records` (all of them, first watches
/// settled). `previous` gives only what records cannot: the rewatch passes (when each
/// started) and when the inactivity job reported the show. Completions of every pass are
/// computed from the plays of that pass.
pub fn progress_from(
    user: UserId,
    show: &Show,
    records: &[ViewingRecord],
    previous: Option<&ShowProgress>,
    now: DateTime<Utc>,
) -> ShowProgress {
    let today = now.date_naive();
    let starts: Vec<Option<DateTime<Utc>>> = match previous {
        Some(p) => p
            .earlier_passes
            .iter()
            .map(|e| e.started_at)
            .chain([p.reset_at])
            .collect(),
        None => vec![None],
    };
    let earlier_passes = starts
        .windows(2)
        .map(|w| {
            let plays = pass_records(records, w[0], w[1]);
            PassSummary {
                started_at: w[0],
                completed_seasons: completed_seasons(show, &plays, today),
                completion_date: show_completion(show, &plays, today),
            }
        })
        .collect();
    let reset_at = starts.last().copied().flatten();
    let plays = pass_from(records, reset_at);
    let t = tally(show, &plays, today);
    let last = last_watched(&plays);
    let completion_date = show_completion(show, &plays, today);
    ShowProgress {
        user_id: user,
        show_id: show.id,
        last_watched_season: last.as_ref().map(|l| l.season_number),
        last_watched_episode: last.as_ref().map(|l| l.episode_number),
        last_watched_episode_id: last.as_ref().map(|l| l.episode_id),
        last_watch_date: last.as_ref().map(|l| l.watch_date),
        total_episodes_watched: t.watched,
        completed_seasons: completed_seasons(show, &plays, today),
        is_completed: completion_date.is_some(),
        completion_date,
        last_activity_at: last_activity(records),
        inactivity_reported_at: previous.and_then(|p| p.inactivity_reported_at),
        updated_at: now,
        reset_at,
        earlier_passes,
    }
}

/// Everything a correction of one show's records writes.
#[derive(Debug, Clone, PartialEq)]
pub struct ShowRebuild {
    /// The records as they should be stored: first watches settled, sessions assigned.
    pub records: Vec<ViewingRecord>,
    /// Records whose first-watch flag changed (a rewatch became the first watch).
    pub promoted: Vec<RecordId>,
    /// How the binge sessions change.
    pub sessions: SessionChanges,
    /// The progress row.
    pub progress: ShowProgress,
}

/// Recomputes one show of one user from `state.records`, the records as they are after a
/// correction (with their stored sessions), `state.sessions` the stored sessions of the show
/// and `state.progress` the stored progress row.
pub fn rebuild_show(
    user: UserId,
    state: ShowState<'_>,
    rules: &RulesConfig,
    now: DateTime<Utc>,
    ids: &dyn IdGenerator,
) -> ShowRebuild {
    let ShowState {
        show,
        records,
        progress: previous,
        sessions,
    } = state;
    let mut settled = records.to_vec();
    let promoted = settle_first_watches(&mut settled);
    let plan = plan_sessions(
        user,
        show,
        &settled,
        sessions,
        rules.binge_max_gap,
        now,
        ids,
    );
    let changes = plan.changes(sessions, records);
    for r in &mut settled {
        r.binge_session_id = plan.session_of(r.id);
    }
    let progress = progress_from(user, show, &settled, previous, now);
    ShowRebuild {
        records: settled,
        promoted,
        sessions: changes,
        progress,
    }
}

/// How a show's completions differ between two progress rows, pass by pass.
pub fn completion_changes(
    before: Option<&ShowProgress>,
    after: &ShowProgress,
) -> CompletionChanges {
    let earlier = before.map(ShowProgress::passes).unwrap_or_default();
    let later = after.passes();
    let mut changes = CompletionChanges::default();
    let same = |a: &SeasonCompletion, b: &SeasonCompletion| {
        a.season_number == b.season_number && a.completed_at == b.completed_at
    };
    for i in 0..earlier.len().max(later.len()) {
        let (b, a) = (earlier.get(i), later.get(i));
        let b_seasons: &[SeasonCompletion] = b.map_or(&[], |p| &p.completed_seasons);
        let a_seasons: &[SeasonCompletion] = a.map_or(&[], |p| &p.completed_seasons);
        changes.seasons_removed.extend(
            b_seasons
                .iter()
                .filter(|e| !a_seasons.iter().any(|x| same(x, e)))
                .map(|e| e.completed_at),
        );
        changes.seasons_added.extend(
            a_seasons
                .iter()
                .filter(|x| !b_seasons.iter().any(|e| same(x, e)))
                .map(|x| x.completed_at),
        );
        let (show_before, show_after) = (
            b.and_then(|p| p.completion_date),
            a.and_then(|p| p.completion_date),
        );
        if show_before != show_after {
            changes.show_removed.extend(show_before);
            changes.show_added.extend(show_after);
        }
    }
    changes
}

/// Everything deleting one record writes, decided before anything is written.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordDeletion {
    /// Remaining records to rewrite (a rewatch that became the first watch).
    pub promoted: Vec<ViewingRecord>,
    /// How the show's binge sessions change (nothing for a movie).
    pub sessions: SessionChanges,
    /// The show's new progress row (`None` for a movie).
    pub progress: Option<ShowProgress>,
    /// `ViewingRecordDeleted`.
    pub event: DomainEvent,
}

/// What the store holds when a record is deleted.
#[derive(Debug, Clone, Copy)]
pub struct DeletionState<'a> {
    /// The record to delete.
    pub deleted: &'a ViewingRecord,
    /// For an episode: its show, every record of the user for it (the deleted one included),
    /// the stored progress row and sessions. `None` for a movie.
    pub show: Option<ShowState<'a>>,
    /// For a movie (or an episode whose show left the catalog): every record of the user of
    /// that item (the deleted one included).
    pub item_records: &'a [ViewingRecord],
}

/// One show of one user as stored.
#[derive(Debug, Clone, Copy)]
pub struct ShowState<'a> {
    /// The show.
    pub show: &'a Show,
    /// Every episode record of the user for the show.
    pub records: &'a [ViewingRecord],
    /// The stored progress row.
    pub progress: Option<&'a ShowProgress>,
    /// The stored binge sessions of the show.
    pub sessions: &'a [BingeSession],
}

/// Deleting a play (SPEC §11): the earliest remaining play of the item becomes its first
/// watch, and the show's progress, completions and binge sessions are recomputed from the
/// records that remain.
pub fn decide_delete_record(
    state: DeletionState<'_>,
    rules: &RulesConfig,
    now: DateTime<Utc>,
    ids: &dyn IdGenerator,
) -> RecordDeletion {
    let deleted = state.deleted;
    let (promoted, sessions, progress, completions) = match state.show {
        Some(s) => {
            let remaining: Vec<ViewingRecord> = s
                .records
                .iter()
                .filter(|r| r.id != deleted.id)
                .cloned()
                .collect();
            let rebuild = rebuild_show(
                deleted.user_id,
                ShowState {
                    records: &remaining,
                    ..s
                },
                rules,
                now,
                ids,
            );
            let completions = completion_changes(s.progress, &rebuild.progress);
            let promoted = rebuild
                .records
                .iter()
                .filter(|r| rebuild.promoted.contains(&r.id))
                .cloned()
                .collect();
            (
                promoted,
                rebuild.sessions,
                Some(rebuild.progress),
                completions,
            )
        }
        None => {
            let mut remaining: Vec<ViewingRecord> = state
                .item_records
                .iter()
                .filter(|r| r.id != deleted.id)
                .cloned()
                .collect();
            let changed = settle_first_watches(&mut remaining);
            remaining.retain(|r| changed.contains(&r.id));
            (
                remaining,
                SessionChanges::default(),
                None,
                CompletionChanges::default(),
            )
        }
    };
    let binge_session_ids = sessions.touched(deleted.binge_session_id);
    let (show_id, season_number, episode_number) = match deleted.watched {
        Watched::Episode {
            show_id,
            season_number,
            episode_number,
            ..
        } => (Some(show_id), Some(season_number), Some(episode_number)),
        Watched::Movie(_) => (None, None, None),
    };
    let event = DomainEvent::ViewingRecordDeleted(Box::new(ViewingRecordDeleted {
        record_id: deleted.id,
        content_id: deleted.watched.content_id(),
        content_type: deleted.watched.content_type(),
        show_id,
        season_number,
        episode_number,
        watch_date: deleted.watch_date,
        viewing_duration: deleted
            .viewing_duration
            .map(|d| IsoDuration::from_minutes(d.get())),
        platform: deleted.platform.as_ref().map(|p| p.as_str().to_owned()),
        was_rewatch: deleted.is_rewatch,
        promoted: promoted
            .iter()
            .map(|r: &ViewingRecord| PlayRef {
                record_id: r.id,
                watch_date: r.watch_date,
            })
            .collect(),
        completions,
        binge_session_ids,
    }));
    RecordDeletion {
        promoted,
        sessions,
        progress,
        event,
    }
}

/// A correction of one play (SPEC §11): an absent field stays as it is, `Some(None)` clears it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EditRecord {
    /// When the viewing finished.
    pub watch_date: Option<DateTime<Utc>>,
    /// Where it was streamed.
    pub platform: Option<Option<Platform>>,
    /// Where it was watched.
    pub viewing_location: Option<Option<ViewingLocation>>,
    /// Why or how.
    pub viewing_context: Option<Option<ViewingContext>>,
    /// With whom (empty: nobody).
    pub watched_with: Option<Companions>,
    /// How long; cleared, an episode goes back to its runtime and a movie to the catalog's.
    pub viewing_duration: Option<Option<Minutes>>,
}

/// Everything correcting one play writes, decided before anything is written.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordEdit {
    /// The record as corrected (with its binge session after the rebuild).
    pub record: ViewingRecord,
    /// How the show's binge sessions change (nothing for a movie).
    pub sessions: SessionChanges,
    /// The show's new progress row (`None` for a movie).
    pub progress: Option<ShowProgress>,
    /// `ViewingRecordEdited`.
    pub event: DomainEvent,
}

/// Corrects a play (SPEC §11), validated as a new play is: a watch date at most 5 minutes
/// ahead. Its binge sessions follow the new date, and the show's progress and completions are
/// recomputed from the records. Which play of the item is the first watch does not change.
pub fn decide_edit_record(
    record: &ViewingRecord,
    show: Option<ShowState<'_>>,
    edit: &EditRecord,
    rules: &RulesConfig,
    now: DateTime<Utc>,
    ids: &dyn IdGenerator,
) -> Result<RecordEdit, ValidationError> {
    let mut after = record.clone();
    if edit.watch_date.is_some() {
        after.watch_date = watch_date("watchDate", edit.watch_date, now)?;
    }
    if let Some(p) = &edit.platform {
        after.platform.clone_from(p);
    }
    if let Some(l) = &edit.viewing_location {
        after.viewing_location.clone_from(l);
    }
    if let Some(c) = &edit.viewing_context {
        after.viewing_context.clone_from(c);
    }
    if let Some(w) = &edit.watched_with {
        after.watched_with = w.clone();
    }
    if let Some(d) = edit.viewing_duration {
        after.viewing_duration = match (d, record.watched, show) {
            (Some(d), _, _) => Some(d),
            // An episode always carries its minutes: cleared, it is the runtime again.
            (None, Watched::Episode { episode_id, .. }, Some(s)) => s
                .show
                .episode(episode_id)
                .map(|e| e.episode.runtime)
                .or(record.viewing_duration),
            (None, Watched::Episode { .. }, None) => record.viewing_duration,
            (None, Watched::Movie(_), _) => None,
        };
    }
    let (sessions, progress, completions) = match show {
        Some(s) => {
            let records: Vec<ViewingRecord> = s
                .records
                .iter()
                .map(|r| {
                    if r.id == after.id {
                        after.clone()
                    } else {
                        r.clone()
                    }
                })
                .collect();
            let rebuild = rebuild_show(
                record.user_id,
                ShowState {
                    records: &records,
                    ..s
                },
                rules,
                now,
                ids,
            );
            if let Some(r) = rebuild.records.iter().find(|r| r.id == after.id) {
                after.binge_session_id = r.binge_session_id;
            }
            let completions = completion_changes(s.progress, &rebuild.progress);
            (rebuild.sessions, Some(rebuild.progress), completions)
        }
        None => (
            SessionChanges::default(),
            None,
            CompletionChanges::default(),
        ),
    };
    let binge_session_ids = sessions.touched(
        record
            .binge_session_id
            .into_iter()
            .chain(after.binge_session_id),
    );
    let event = DomainEvent::ViewingRecordEdited(Box::new(ViewingRecordEdited {
        record_id: record.id,
        before: PlayFacts::of(record),
        after: PlayFacts::of(&after),
        completions,
        binge_session_ids,
    }));
    Ok(RecordEdit {
        record: after,
        sessions,
        progress,
        event,
    })
}

/// Why a reset or its undo is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ResetError {
    /// Nothing of the show is watched in the current pass: a reset would start an empty one.
    #[error("nothing of this show is watched in the current pass")]
    NothingWatched,
    /// The show's progress was never reset (or every reset was undone).
    #[error("this show's progress has no reset to undo")]
    NoReset,
}

/// Everything a reset or its undo writes, decided before anything is written.
#[derive(Debug, Clone, PartialEq)]
pub struct ProgressReset {
    /// The show's new progress row.
    pub progress: ShowProgress,
    /// `ShowProgressReset` or `ShowProgressResetUndone`.
    pub event: DomainEvent,
}

/// Resets a show's progress (SPEC §11 rewatch passes): a new pass starts now, and from then
/// on progress, next episode and completions count only plays dated after it. History keeps
/// every play, and the completions of the closed pass stay counted.
pub fn decide_reset(
    user: UserId,
    show: &Show,
    records: &[ViewingRecord],
    previous: Option<&ShowProgress>,
    now: DateTime<Utc>,
) -> Result<ProgressReset, ResetError> {
    let watched = tally(show, &current_pass(records, previous), now.date_naive()).watched;
    let Some(before) = previous.filter(|_| watched > 0) else {
        return Err(ResetError::NothingWatched);
    };
    let mut passes = before.clone();
    passes.earlier_passes = before.passes();
    passes.reset_at = Some(now);
    let state = (user, show, records, before);
    Ok(regroup(
        state,
        &passes,
        now,
        now,
        DomainEvent::ShowProgressReset,
    ))
}

/// The progress row of the plays grouped in `passes`' passes, and the event that says so
/// (`make` of the new pass number, `reset_at` and the completions that moved).
fn regroup(
    (user, show, records, before): (UserId, &Show, &[ViewingRecord], &ShowProgress),
    passes: &ShowProgress,
    reset_at: DateTime<Utc>,
    now: DateTime<Utc>,
    make: fn(crate::events::ShowProgressReset) -> DomainEvent,
) -> ProgressReset {
    let progress = progress_from(user, show, records, Some(passes), now);
    let event = make(crate::events::ShowProgressReset {
        show_id: show.id,
        pass: progress.pass(),
        reset_at,
        completions: completion_changes(Some(before), &progress),
    });
    ProgressReset { progress, event }
}

/// Undoes the latest reset of a show (Trakt's "undo reset"): its pass merges into the one
/// before, and progress and completions are those of the merged plays.
pub fn decide_undo_reset(
    user: UserId,
    show: &Show,
    records: &[ViewingRecord],
    previous: Option<&ShowProgress>,
    now: DateTime<Utc>,
) -> Result<ProgressReset, ResetError> {
    let Some((before, undone)) = previous.and_then(|p| p.reset_at.map(|at| (p, at))) else {
        return Err(ResetError::NoReset);
    };
    let mut passes = before.clone();
    let closed = passes.earlier_passes.pop().ok_or(ResetError::NoReset)?;
    passes.reset_at = closed.started_at;
    let state = (user, show, records, before);
    Ok(regroup(
        state,
        &passes,
        undone,
        now,
        DomainEvent::ShowProgressResetUndone,
    ))
}
