//! Recording an episode: order, backfill, rewatch, binge sessions, season and show completion.

use chrono::{DateTime, Duration, Utc};

use crate::catalog::{EpisodeRef, Show};
use crate::events::{
    DomainEvent, IsoDuration, TvEpisodeWatched, TvSeasonCompleted, TvShowCompleted,
};
use crate::ids::{BingeSessionId, EpisodeId, RecordId, UserId};
use crate::ports::IdGenerator;
use crate::records::{BingeSession, SeasonCompletion, ShowProgress, ViewingRecord, Watched};
use crate::rules::RulesConfig;
use crate::rules::binge::{SessionChanges, plan_sessions};
use crate::rules::order::{MissingEpisode, missing_before, watched_episodes};
use crate::rules::progress::{last_watched, tally};
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
    }
}

/// Decides everything recording `episode_id` implies (SPEC §5).
pub fn decide_watch_episode(
    state: EpisodeState<'_>,
    episode_id: EpisodeId,
    cmd: &WatchEpisode,
    now: DateTime<Utc>,
    rules: &RulesConfig,
    ids: &dyn IdGenerator,
) -> Result<EpisodeWatchDecision, WatchEpisodeError> {
    let show = state.show;
    let today = now.date_naive();
    let at = watch_date("watchDate", cmd.watch_date, now)?;
    let target = show
        .episode(episode_id)
        .ok_or(WatchEpisodeError::EpisodeNotFound)?;
    if !target.is_special() && !target.episode.has_aired(today) {
        return Err(WatchEpisodeError::NotAired);
    }
    if cmd.binge_session_id.is_some() {
        match state.requested_session {
            Some(s) if s.user_id != state.user => {
                return Err(WatchEpisodeError::BingeSessionNotFound);
            }
            Some(s) if s.show_id != show.id => {
                return Err(WatchEpisodeError::BingeSessionOfAnotherShow);
            }
            _ => {}
        }
    }

    let watched = watched_episodes(state.records);
    let is_rewatch = watched.contains(&episode_id);
    let mut new_records = Vec::new();
    if !is_rewatch {
        let missing = missing_before(show, target, &watched, today);
        if let Some(first) = missing.first() {
            if !cmd.mark_previous_watched {
                return Err(WatchEpisodeError::OutOfOrder((*first).into()));
            }
            for e in missing {
                let mut r = episode_record(&state, e, RecordId::from(ids.new_id()), at, now);
                r.platform.clone_from(&cmd.platform);
                r.backfilled = true;
                new_records.push(r);
            }
        }
    }
    let mut record = episode_record(&state, target, RecordId::from(ids.new_id()), at, now);
    record.platform.clone_from(&cmd.platform);
    record.is_rewatch = is_rewatch;
    if let Some(d) = cmd.viewing_duration {
        record.viewing_duration = Some(d);
    }
    if let Some(sid) = cmd.binge_session_id {
        record.binge_session_id = Some(sid);
        record.binge_session_pinned = true;
    }
    new_records.push(record);

    // Binge sessions over the stored records plus the new ones.
    let mut all: Vec<ViewingRecord> = state.records.to_vec();
    all.extend(new_records.iter().cloned());
    let plan = plan_sessions(
        state.user,
        show,
        &all,
        state.sessions,
        rules.binge_max_gap,
        now,
        ids,
    );
    for r in &mut new_records {
        r.binge_session_id = plan.session_of(r.id);
    }
    for r in all.iter_mut() {
        r.binge_session_id = plan.session_of(r.id);
    }
    let sessions = plan.changes(state.sessions, state.records);

    // Progress and completions.
    let after = tally(show, &all, today);
    let mut progress = state
        .progress
        .cloned()
        .unwrap_or_else(|| ShowProgress::new(state.user, show.id, now));
    let mut events: Vec<DomainEvent> = new_records
        .iter()
        .filter_map(episode_watched_event)
        .collect();

    let mut season_completed = false;
    for &(season_id, number, w, total) in &after.seasons {
        if total == 0 || w < total || progress.season_completed(number) {
            continue;
        }
        let first_watch = all
            .iter()
            .filter(|r| r.counts_for_progress())
            .filter(|r| matches!(r.watched, Watched::Episode { season_number, .. } if season_number == number))
            .map(|r| r.watch_date)
            .min()
            .unwrap_or(at);
        let is_target_season = number == target.season.number;
        progress.completed_seasons.push(SeasonCompletion {
            season_id,
            season_number: number,
            completed_at: at,
        });
        season_completed = true;
        events.push(DomainEvent::TvSeasonCompleted(TvSeasonCompleted {
            season_id,
            show_id: show.id,
            season_number: number,
            completion_date: at,
            binge_duration: IsoDuration::from_duration((at - first_watch).max(Duration::zero())),
            episodes_watched: total,
            season_rating: cmd.season_rating.filter(|_| is_target_season),
            next_season_intent: is_target_season && cmd.next_season_intent.unwrap_or(false),
        }));
    }
    progress.completed_seasons.sort_by_key(|c| c.season_number);

    let mut show_completed = false;
    if show.status.is_finished() && !progress.is_completed && after.all_watched() {
        show_completed = true;
        progress.is_completed = true;
        progress.completion_date = Some(at);
        let total_minutes: u64 = all
            .iter()
            .filter(|r| r.counts_for_progress())
            .map(|r| u64::from(r.viewing_duration.map_or(0, Minutes::get)))
            .sum();
        events.push(DomainEvent::TvShowCompleted(TvShowCompleted {
            show_id: show.id,
            completion_date: at,
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
        }));
    }

    let last = last_watched(&all);
    progress.last_watched_season = last.as_ref().map(|l| l.season_number);
    progress.last_watched_episode = last.as_ref().map(|l| l.episode_number);
    progress.last_watched_episode_id = last.as_ref().map(|l| l.episode_id);
    progress.last_watch_date = last.as_ref().map(|l| l.watch_date);
    progress.total_episodes_watched = after.watched;
    progress.last_activity_at = Some(progress.last_activity_at.map_or(at, |p| p.max(at)));
    progress.inactivity_reported_at = None;
    progress.updated_at = now;

    Ok(EpisodeWatchDecision {
        new_records,
        sessions,
        progress,
        events,
        season_completed,
        show_completed,
    })
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
    Some(DomainEvent::TvEpisodeWatched(TvEpisodeWatched {
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
    }))
}
