//! Recording an episode: order, backfill, rewatch, binge sessions, season and show completion.

use std::collections::HashSet;

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::catalog::{EpisodeRef, Show};
use crate::events::{
    CompletionChanges, DomainEvent, IsoDuration, TvEpisodeWatched, TvSeasonCompleted,
    TvShowCompleted,
};
use crate::ids::{BingeSessionId, EpisodeId, RecordId, UserId};
use crate::ports::IdGenerator;
use crate::records::{
    BingeSession, Origin, SeasonCompletion, ShowProgress, ViewingRecord, Watched,
};
use crate::rules::RulesConfig;
use crate::rules::binge::{SessionChanges, plan_sessions};
use crate::rules::history::{completion_changes, current_pass, progress_from};
use crate::rules::order::{MissingEpisode, missing_before, watched_episodes};
use crate::rules::progress::{Tally, tally};
use crate::values::{FinaleReaction, Minutes, Platform, Rating, ValidationError, watch_date};

/// What the client asked for (already validated value by value).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WatchEpisode {
    /// When the viewing finished; now by default.
    pub watch_date: Option<DateTime<Utc>>,
    /// Where it was streamed.
    pub platform: Option<Platform>,
    /// A session the client names: the record joins it and stays in it.
    pub binge_session_id: Option<BingeSessionId>,
    /// How long it was watched; the runtime by default.
    pub viewing_duration: Option<Minutes>,
    /// Also record every earlier unwatched regular episode, instead of refusing an out-of-order watch.
    pub mark_previous_watched: bool,
    /// A rating for the season, kept when this watch completes it.
    pub season_rating: Option<Rating>,
    /// Whether the user means to watch the next season.
    pub next_season_intent: Option<bool>,
    /// A rating for the show, kept when this watch completes it.
    pub overall_rating: Option<Rating>,
    /// Whether the user would watch the show again.
    pub rewatch_interest: Option<bool>,
    /// The user's reaction to the finale.
    pub series_finale_reaction: Option<FinaleReaction>,
}

/// What the store holds for this user and show when the command runs.
#[derive(Debug, Clone, Copy)]
pub struct EpisodeState<'a> {
    /// Who watches.
    pub user: UserId,
    /// The show of the episode.
    pub show: &'a Show,
    /// Every episode record of the user for the show.
    pub records: &'a [ViewingRecord],
    /// The user's stored progress summary of the show, if any.
    pub progress: Option<&'a ShowProgress>,
    /// The user's sessions of this show.
    pub sessions: &'a [BingeSession],
    /// The session named by `binge_session_id`, whoever owns it (`None`: it does not exist).
    pub requested_session: Option<&'a BingeSession>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
/// Why an episode watch is refused.
pub enum WatchEpisodeError {
    #[error("episode is not part of the show")]
    /// The episode is not in the show.
    EpisodeNotFound,
    #[error("episode out of order: S{}E{} is not watched yet", .0.season_number, .0.episode_number)]
    /// An earlier regular episode is not watched yet (and `mark_previous_watched` was not set).
    OutOfOrder(MissingEpisode),
    #[error("episode has not aired yet")]
    /// The episode airs later.
    NotAired,
    #[error("binge session not found")]
    /// The named binge session does not exist.
    BingeSessionNotFound,
    #[error("binge session belongs to another show")]
    /// The named binge session is of another show or user.
    BingeSessionOfAnotherShow,
    #[error(transparent)]
    /// A value refused.
    Invalid(#[from] ValidationError),
}

/// Everything one episode watch writes, decided before anything is written.
#[derive(Debug, Clone, PartialEq)]
pub struct EpisodeWatchDecision {
    /// Records to insert: backfilled ones first, the requested one last.
    pub new_records: Vec<ViewingRecord>,
    /// How the user's binge sessions change.
    pub sessions: SessionChanges,
    /// The new progress summary.
    pub progress: ShowProgress,
    /// The events to append to the outbox.
    pub events: Vec<DomainEvent>,
    /// A season was completed for the first time by this watch.
    pub season_completed: bool,
    /// The show was completed by this watch.
    pub show_completed: bool,
}

impl EpisodeWatchDecision {
    /// The record the client asked for.
    pub fn record(&self) -> Option<&ViewingRecord> {
        self.new_records.last()
    }
}

/// A first-time record of `e` at `at`, lasting the episode's runtime, in no session yet.
fn episode_record(
    state: &EpisodeState<'_>,
    e: EpisodeRef<'_>,
    id: RecordId,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> ViewingRecord {
    ViewingRecord {
        id,
        user_id: state.user,
        watched: Watched::Episode {
            episode_id: e.episode.id,
            show_id: state.show.id,
            season_number: e.season.number,
            episode_number: e.episode.number,
        },
        watch_date: at,
        platform: None,
        viewing_location: None,
        viewing_context: None,
        watched_with: Default::default(),
        is_rewatch: false,
        viewing_duration: Some(e.episode.runtime),
        binge_session_id: None,
        binge_session_pinned: false,
        backfilled: false,
        created_at: now,
        origin: crate::records::Origin::Manual,
    }
}

/// Decides everything recording `episode_id` implies (SPEC §5), step by step: the watch date,
/// the episode, whether it has aired, the client's binge session, the order check (or the
/// backfill), the record itself, the binge sessions, then season and show completion and the
/// progress row. Nothing is written here; the caller writes the decision in one unit of work.
pub fn decide_watch_episode(
    state: EpisodeState<'_>,
    episode_id: EpisodeId,
    cmd: &WatchEpisode,
    now: DateTime<Utc>,
    rules: &RulesConfig,
    ids: &dyn IdGenerator,
) -> Result<EpisodeWatchDecision, WatchEpisodeError> {
    decide_record_episode(state, episode_id, cmd, Origin::Manual, now, rules, ids)
}

/// [`decide_watch_episode`] for a play that comes from elsewhere: its records carry `origin`;
/// a play an import, a player or a media server reports skips the order check (it happened:
/// SPEC §12, §13); an imported one's `TVEpisodeWatched` says `imported`.
pub fn decide_record_episode(
    state: EpisodeState<'_>,
    episode_id: EpisodeId,
    cmd: &WatchEpisode,
    origin: Origin,
    now: DateTime<Utc>,
    rules: &RulesConfig,
    ids: &dyn IdGenerator,
) -> Result<EpisodeWatchDecision, WatchEpisodeError> {
    let today = now.date_naive();
    let at = watch_date("watchDate", cmd.watch_date, now)?;
    let target = resolve_episode(state.show, episode_id)?;
    check_aired(target, today)?;
    check_requested_session(&state, cmd)?;

    let watched = watched_episodes(state.records);
    let in_pass = watched_episodes(&current_pass(state.records, state.progress));
    let is_rewatch = watched.contains(&episode_id);
    let mut new_records = Vec::new();
    if !in_pass.contains(&episode_id) {
        if !is_rewatch && origin == Origin::Manual {
            check_order(state.show, target, &watched, cmd, today)?;
        }
        if cmd.mark_previous_watched {
            let missing = missing_before(state.show, target, &in_pass, today);
            new_records = backfill(&state, &missing, &watched, cmd, at, now, ids);
        }
    }
    new_records.push(requested_record(
        &state, target, is_rewatch, cmd, at, now, ids,
    ));
    for r in &mut new_records {
        r.origin = origin;
    }

    let (all, sessions) = place_in_binge_sessions(&state, &mut new_records, rules, now, ids);

    let previous = state.progress;
    let mut progress = progress_from(state.user, state.show, &all, previous, now);
    let plays = current_pass(&all, previous);
    let after = tally(state.show, &plays, today);
    let mut events: Vec<DomainEvent> = new_records
        .iter()
        .filter_map(episode_watched_event)
        .collect();
    if origin == Origin::Import {
        for e in &mut events {
            if let DomainEvent::TvEpisodeWatched(w) = e {
                w.imported = true;
            }
        }
    }
    if let Some(DomainEvent::TvEpisodeWatched(last)) = events.last_mut() {
        let own = last.binge_session_id;
        last.binge_sessions_changed = sessions
            .touched([])
            .into_iter()
            .filter(|id| Some(*id) != own)
            .collect();
    }
    let season_events =
        complete_seasons(&state, target, &after, &plays, previous, &mut progress, cmd);
    let season_completed = !season_events.is_empty();
    events.extend(season_events);
    let show_event = complete_show(state.show, &after, &plays, previous, &mut progress, cmd);
    let show_completed = show_event.is_some();
    events.extend(show_event);
    let unannounced = unannounced_completions(previous, &progress, &events);
    if let Some(DomainEvent::TvEpisodeWatched(last)) = events
        .iter_mut()
        .rfind(|e| matches!(e, DomainEvent::TvEpisodeWatched(_)))
    {
        last.completions = unannounced;
    }
    // A new watch clears the inactivity report.
    progress.inactivity_reported_at = None;

    Ok(EpisodeWatchDecision {
        new_records,
        sessions,
        progress,
        events,
        season_completed,
        show_completed,
    })
}

/// The episode must belong to the show (404 otherwise), which also gives its position.
fn resolve_episode(
    show: &Show,
    episode_id: EpisodeId,
) -> Result<EpisodeRef<'_>, WatchEpisodeError> {
    show.episode(episode_id)
        .ok_or(WatchEpisodeError::EpisodeNotFound)
}

/// *Not yet aired*: a regular episode whose air date is after today cannot be recorded (422).
/// Specials are recorded whenever the client says it watched them.
fn check_aired(target: EpisodeRef<'_>, today: NaiveDate) -> Result<(), WatchEpisodeError> {
    if !target.is_special() && !target.episode.has_aired(today) {
        return Err(WatchEpisodeError::NotAired);
    }
    Ok(())
}

/// A client-supplied binge session must be the user's own (another user's answers 404, as if it
/// did not exist) and of this show (422). One that does not exist yet is created with that id.
fn check_requested_session(
    state: &EpisodeState<'_>,
    cmd: &WatchEpisode,
) -> Result<(), WatchEpisodeError> {
    if cmd.binge_session_id.is_none() {
        return Ok(());
    }
    match state.requested_session {
        Some(s) if s.user_id != state.user => Err(WatchEpisodeError::BingeSessionNotFound),
        Some(s) if s.show_id != state.show.id => Err(WatchEpisodeError::BingeSessionOfAnotherShow),
        _ => Ok(()),
    }
}

/// *Order*: a first-time watch of a regular episode needs every earlier aired regular episode
/// watched; the first missing one is the 409 answer unless the client asked for
/// `markPreviousWatched`. Specials are never order-checked.
fn check_order(
    show: &Show,
    target: EpisodeRef<'_>,
    watched: &HashSet<EpisodeId>,
    cmd: &WatchEpisode,
    today: NaiveDate,
) -> Result<(), WatchEpisodeError> {
    match missing_before(show, target, watched, today).first() {
        Some(first) if !cmd.mark_previous_watched => {
            Err(WatchEpisodeError::OutOfOrder((*first).into()))
        }
        _ => Ok(()),
    }
}

/// *Backfill*: with `markPreviousWatched`, the earlier episodes not watched in the current
/// pass (every one before any reset) are recorded first, at the same watch date and on the
/// same platform, marked as backfilled (so they never start or join a binge session). In a
/// rewatch pass, those watched before are rewatches.
fn backfill(
    state: &EpisodeState<'_>,
    missing: &[EpisodeRef<'_>],
    watched: &HashSet<EpisodeId>,
    cmd: &WatchEpisode,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
    ids: &dyn IdGenerator,
) -> Vec<ViewingRecord> {
    missing
        .iter()
        .map(|&e| {
            let mut r = episode_record(state, e, RecordId::from(ids.new_id()), at, now);
            r.platform.clone_from(&cmd.platform);
            r.backfilled = true;
            r.is_rewatch = watched.contains(&e.episode.id);
            r
        })
        .collect()
}

/// The record the client asked for. *Rewatch*: an episode already watched is recorded again as
/// a rewatch, which leaves progress unchanged. The duration defaults to the episode's runtime;
/// a binge session the client named pins the record to it.
fn requested_record(
    state: &EpisodeState<'_>,
    target: EpisodeRef<'_>,
    is_rewatch: bool,
    cmd: &WatchEpisode,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
    ids: &dyn IdGenerator,
) -> ViewingRecord {
    let mut record = episode_record(state, target, RecordId::from(ids.new_id()), at, now);
    record.platform.clone_from(&cmd.platform);
    record.is_rewatch = is_rewatch;
    if let Some(d) = cmd.viewing_duration {
        record.viewing_duration = Some(d);
    }
    if let Some(sid) = cmd.binge_session_id {
        record.binge_session_id = Some(sid);
        record.binge_session_pinned = true;
    }
    record
}

/// *Binge sessions*: sessions are re-planned over the stored records plus the new ones (by
/// watch date, not arrival order); each new record gets its session. Returns every record of
/// the show with its planned session, and the session writes.
fn place_in_binge_sessions(
    state: &EpisodeState<'_>,
    new_records: &mut [ViewingRecord],
    rules: &RulesConfig,
    now: DateTime<Utc>,
    ids: &dyn IdGenerator,
) -> (Vec<ViewingRecord>, SessionChanges) {
    let mut all: Vec<ViewingRecord> = state.records.to_vec();
    all.extend(new_records.iter().cloned());
    let plan = plan_sessions(
        state.user,
        state.show,
        &all,
        state.sessions,
        rules.binge_max_gap,
        now,
        ids,
    );
    for r in new_records.iter_mut() {
        r.binge_session_id = plan.session_of(r.id);
    }
    for r in all.iter_mut() {
        r.binge_session_id = plan.session_of(r.id);
    }
    let sessions = plan.changes(state.sessions, state.records);
    (all, sessions)
}

/// *Season completed*: the first time all aired regular episodes of a season are watched, the
/// season is completed once with a `TVSeasonCompleted` event. `progress` was computed from the
/// records ([`progress_from`]); completions recorded earlier stay (a watch never takes one
/// away, even when a season gains episodes later). Completion follows watch dates: the season
/// is completed at the latest first-watch date of its episodes, and its binge duration runs
/// from the earliest. The rating and intent belong to the season of the requested episode.
fn complete_seasons(
    state: &EpisodeState<'_>,
    target: EpisodeRef<'_>,
    after: &Tally,
    all: &[ViewingRecord],
    previous: Option<&ShowProgress>,
    progress: &mut ShowProgress,
    cmd: &WatchEpisode,
) -> Vec<DomainEvent> {
    let earlier: &[SeasonCompletion] = previous.map_or(&[], |p| &p.completed_seasons);
    let mut events = Vec::new();
    for c in &progress.completed_seasons {
        if earlier.iter().any(|e| e.season_number == c.season_number) {
            continue;
        }
        let first_watch = all
            .iter()
            .filter(|r| r.counts_for_progress())
            .filter(|r| matches!(r.watched, Watched::Episode { season_number, .. } if season_number == c.season_number))
            .map(|r| r.watch_date)
            .min()
            .unwrap_or(c.completed_at);
        let is_target_season = c.season_number == target.season.number;
        let total = after
            .seasons
            .iter()
            .find(|s| s.1 == c.season_number)
            .map_or(0, |s| s.3);
        events.push(DomainEvent::TvSeasonCompleted(TvSeasonCompleted {
            season_id: c.season_id,
            show_id: state.show.id,
            season_number: c.season_number,
            completion_date: c.completed_at,
            binge_duration: IsoDuration::from_duration(
                (c.completed_at - first_watch).max(Duration::zero()),
            ),
            episodes_watched: total,
            season_rating: cmd.season_rating.filter(|_| is_target_season),
            next_season_intent: is_target_season && cmd.next_season_intent.unwrap_or(false),
            pass: progress.pass(),
        }));
    }
    for e in earlier {
        if !progress.season_completed(e.season_number) {
            progress.completed_seasons.push(e.clone());
        }
    }
    progress.completed_seasons.sort_by_key(|c| c.season_number);
    events
}

/// *Show completed*: the first time all aired regular episodes of an `ended` or `canceled` show
/// are watched, with the sum of first-time watch durations. A `returning` show with everything
/// aired watched is caught up, not completed. A completion recorded earlier stays.
fn complete_show(
    show: &Show,
    after: &Tally,
    all: &[ViewingRecord],
    previous: Option<&ShowProgress>,
    progress: &mut ShowProgress,
    cmd: &WatchEpisode,
) -> Option<DomainEvent> {
    if let Some(p) = previous.filter(|p| p.is_completed) {
        // Still completed by the records: at the date they give (a back-dated play in a
        // rewatch pass can move it); no longer (the show gained episodes): as it was.
        progress.is_completed = true;
        if progress.completion_date.is_none() {
            progress.completion_date = p.completion_date;
        }
        return None;
    }
    let completion_date = progress.completion_date?;
    let total_minutes: u64 = all
        .iter()
        .filter(|r| r.counts_for_progress())
        .map(|r| u64::from(r.viewing_duration.map_or(0, Minutes::get)))
        .sum();
    Some(DomainEvent::TvShowCompleted(TvShowCompleted {
        show_id: show.id,
        completion_date,
        total_episodes: after.total,
        total_viewing_time: IsoDuration::from_duration(Duration::minutes(
            i64::try_from(total_minutes).unwrap_or(i64::MAX / 60_000),
        )),
        overall_rating: cmd.overall_rating,
        rewatch_interest: cmd.rewatch_interest.unwrap_or(false),
        series_finale_reaction: cmd
            .series_finale_reaction
            .as_ref()
            .map(|r| r.as_str().to_owned()),
        pass: progress.pass(),
    }))
}

/// The completion changes of a watch that no completion event announces: a back-dated play
/// can complete a season of an earlier rewatch pass, or move the date a season of a later
/// pass was completed at (its earliest play in the pass moved). The statistics count them
/// from the watch event.
fn unannounced_completions(
    previous: Option<&ShowProgress>,
    progress: &ShowProgress,
    events: &[DomainEvent],
) -> CompletionChanges {
    let mut changes = completion_changes(previous, progress);
    let take = |dates: &mut Vec<DateTime<Utc>>, at: DateTime<Utc>| {
        if let Some(i) = dates.iter().position(|d| *d == at) {
            dates.remove(i);
        }
    };
    for e in events {
        match e {
            DomainEvent::TvSeasonCompleted(c) => {
                take(&mut changes.seasons_added, c.completion_date)
            }
            DomainEvent::TvShowCompleted(c) => take(&mut changes.show_added, c.completion_date),
            _ => {}
        }
    }
    changes
}

fn episode_watched_event(r: &ViewingRecord) -> Option<DomainEvent> {
    let Watched::Episode {
        episode_id,
        show_id,
        season_number,
        episode_number,
    } = r.watched
    else {
        return None;
    };
    Some(DomainEvent::TvEpisodeWatched(Box::new(TvEpisodeWatched {
        episode_id,
        record_id: r.id,
        show_id,
        season_number,
        episode_number,
        watch_date: r.watch_date,
        platform: r.platform.as_ref().map(|p| p.as_str().to_owned()),
        binge_session_id: r.binge_session_id,
        viewing_duration: IsoDuration::from_minutes(r.viewing_duration.map_or(0, Minutes::get)),
        is_rewatch: r.is_rewatch,
        backfilled: r.backfilled,
        binge_sessions_changed: Vec::new(),
        completions: CompletionChanges::default(),
        imported: false,
    })))
}
