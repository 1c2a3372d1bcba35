//! A tiny given/when/then framework for the episode rules, with no store at all: the state a
//! store would hold (records, sessions, progress) is kept here and each accepted decision is
//! applied to it the way a unit of work writes it.
//!
//! ```text
//! Scenario::of(show(Ended, &[7, 13]))
//!     .given_watched(1, 1, at(20, 0))
//!     .when_watched(1, 2, at(20, 50))
//!     .decided()  // or .refused()
//! ```
#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use viewing_domain::ports::IdGenerator;
use viewing_domain::rules::episode::{
    EpisodeState, EpisodeWatchDecision, WatchEpisode, WatchEpisodeError, decide_watch_episode,
};
use viewing_domain::values::{Minutes, Title};
use viewing_domain::{
    BingeSession, BingeSessionId, DomainEvent, Episode, EpisodeId, RulesConfig, Season, SeasonId,
    Show, ShowId, ShowProgress, ShowStatus, UserId, ViewingRecord,
};

/// Every episode runs this long.
pub const RUNTIME: u32 = 45;

fn uuid(n: u64, kind: u64) -> uuid::Uuid {
    uuid::Uuid::from_u64_pair(kind, n)
}

fn title(s: &str) -> Title {
    Title::parse(s)
        .ok()
        .flatten()
        .expect("test titles are valid")
}

/// The user every scenario watches as.
pub fn me() -> UserId {
    UserId::from(uuid(1, 0x1))
}

/// Another user.
pub fn someone_else() -> UserId {
    UserId::from(uuid(2, 0x1))
}

/// The evening scenarios happen on: 2026-03-02 (a Monday), at `h:m` UTC; hours past 23 roll
/// over to the next day.
pub fn at(h: i64, m: i64) -> DateTime<Utc> {
    let day = Utc
        .with_ymd_and_hms(2026, 3, 2, 0, 0, 0)
        .single()
        .expect("valid");
    day + Duration::hours(h) + Duration::minutes(m)
}

/// When the command runs: the scenarios' evening is over by then.
pub fn now() -> DateTime<Utc> {
    at(24 * 30, 0)
}

pub fn show_id(n: u64) -> ShowId {
    ShowId::from(uuid(n, 0x5))
}

/// The id of episode `e` of season `s` of show 1.
pub fn episode_id(s: u32, e: u32) -> EpisodeId {
    EpisodeId::from(uuid(1_000_000 + u64::from(s) * 1000 + u64::from(e), 0xE))
}

/// Season `number` of show 1 with `count` episodes aired on `air` (none: no air date).
pub fn season(number: u32, count: u32, air: Option<NaiveDate>) -> Season {
    Season {
        id: SeasonId::from(uuid(1000 + u64::from(number), 0x6)),
        number,
        episodes: (1..=count)
            .map(|e| Episode {
                id: episode_id(number, e),
                number: e,
                title: title(&format!("S{number}E{e}")),
                runtime: Minutes::from_u32_saturating(RUNTIME),
                air_date: air,
                external_ids: Default::default(),
            })
            .collect(),
        external_ids: Default::default(),
    }
}

/// Show 1 with `shape[i]` aired regular episodes in season i+1.
pub fn show(status: ShowStatus, shape: &[u32]) -> Show {
    let seasons = shape
        .iter()
        .zip(1..)
        .map(|(&count, number)| season(number, count, None))
        .collect();
    show_of(status, seasons)
}

/// Show 1 with the given seasons.
pub fn show_of(status: ShowStatus, seasons: Vec<Season>) -> Show {
    Show::new(show_id(1), title("Show 1"), status, Vec::new(), seasons).expect("valid show")
}

/// A binge session of `user` for `show` (not stored for this user's show unless given).
pub fn session(n: u64, user: UserId, show: ShowId) -> BingeSession {
    BingeSession {
        id: BingeSessionId::from(uuid(n, 0xB)),
        user_id: user,
        show_id: show,
        start_time: at(18, 0),
        end_time: at(19, 0),
        episodes_watched: 2,
        created_at: at(19, 0),
    }
}

/// Ids 1, 2, 3, … so decisions are reproducible.
#[derive(Debug, Default)]
pub struct Ids(AtomicU64);

impl IdGenerator for Ids {
    fn new_id(&self) -> uuid::Uuid {
        uuid(self.0.fetch_add(1, Ordering::Relaxed) + 1, 0xD)
    }
}

/// A watch of S`s`E`e` finished at `when`, nothing else asked.
pub fn watch(when: DateTime<Utc>) -> WatchEpisode {
    WatchEpisode {
        watch_date: Some(when),
        ..WatchEpisode::default()
    }
}

/// What a store holds for the user and the show, and the rules in force.
pub struct Scenario {
    pub show: Show,
    pub rules: RulesConfig,
    pub records: Vec<ViewingRecord>,
    /// The user's sessions of the show.
    pub sessions: Vec<BingeSession>,
    /// Sessions of other users or shows, which a client may still name.
    pub elsewhere: Vec<BingeSession>,
    pub progress: Option<ShowProgress>,
    /// Every event of every decision applied so far.
    pub events: Vec<DomainEvent>,
    ids: Ids,
}

impl Scenario {
    /// Given this show and nothing watched.
    pub fn of(show: Show) -> Self {
        Self {
            show,
            rules: RulesConfig::default(),
            records: Vec::new(),
            sessions: Vec::new(),
            elsewhere: Vec::new(),
            progress: None,
            events: Vec::new(),
            ids: Ids::default(),
        }
    }

    /// Given other limits for the rules.
    pub fn with_rules(mut self, rules: RulesConfig) -> Self {
        self.rules = rules;
        self
    }

    /// Given a binge session that exists somewhere (another user's, another show's).
    pub fn given_session_elsewhere(mut self, s: BingeSession) -> Self {
        self.elsewhere.push(s);
        self
    }

    /// Given S`s`E`e` watched at `when` (the decision must be accepted).
    pub fn given_watched(self, s: u32, e: u32, when: DateTime<Utc>) -> Self {
        self.given(s, e, watch(when))
    }

    /// Given the command for S`s`E`e` was accepted and written.
    pub fn given(mut self, s: u32, e: u32, cmd: WatchEpisode) -> Self {
        let decision = self.decide(episode_id(s, e), &cmd);
        let decision = decision.unwrap_or_else(|err| panic!("given S{s}E{e}: refused: {err}"));
        self.apply(&decision);
        self
    }

    /// When S`s`E`e` is watched at `when`.
    pub fn when_watched(&self, s: u32, e: u32, when: DateTime<Utc>) -> Outcome {
        self.when(s, e, watch(when))
    }

    /// When the command for S`s`E`e` runs.
    pub fn when(&self, s: u32, e: u32, cmd: WatchEpisode) -> Outcome {
        self.when_episode(episode_id(s, e), cmd)
    }

    /// When the command runs for any episode id.
    pub fn when_episode(&self, id: EpisodeId, cmd: WatchEpisode) -> Outcome {
        Outcome(self.decide(id, &cmd))
    }

    /// Decides the command against the current state.
    pub fn decide(
        &self,
        id: EpisodeId,
        cmd: &WatchEpisode,
    ) -> Result<EpisodeWatchDecision, WatchEpisodeError> {
        let requested_session = cmd.binge_session_id.and_then(|sid| {
            self.sessions
                .iter()
                .chain(&self.elsewhere)
                .find(|s| s.id == sid)
        });
        let state = EpisodeState {
            user: me(),
            show: &self.show,
            records: &self.records,
            progress: self.progress.as_ref(),
            sessions: &self.sessions,
            requested_session,
        };
        decide_watch_episode(state, id, cmd, now(), &self.rules, &self.ids)
    }

    /// Writes a decision the way a unit of work does.
    pub fn apply(&mut self, d: &EpisodeWatchDecision) {
        for &(record, session) in &d.sessions.moves {
            if let Some(r) = self.records.iter_mut().find(|r| r.id == record) {
                r.binge_session_id = session;
            }
        }
        self.records.extend(d.new_records.iter().cloned());
        self.sessions.retain(|s| !d.sessions.delete.contains(&s.id));
        for s in &d.sessions.save {
            self.sessions.retain(|old| old.id != s.id);
            self.sessions.push(s.clone());
        }
        self.progress = Some(d.progress.clone());
        self.events.extend(d.events.iter().cloned());
    }

    /// The stored session `record` of S`s`E`e` (its first record) belongs to.
    pub fn session_of(&self, s: u32, e: u32) -> Option<&BingeSession> {
        let id = episode_id(s, e);
        let record = self.records.iter().find(|r| match r.watched {
            viewing_domain::Watched::Episode { episode_id, .. } => episode_id == id,
            viewing_domain::Watched::Movie(_) => false,
        })?;
        let sid = record.binge_session_id?;
        self.sessions.iter().find(|s| s.id == sid)
    }
}

/// The answer to a `when`.
#[derive(Debug)]
pub struct Outcome(pub Result<EpisodeWatchDecision, WatchEpisodeError>);

impl Outcome {
    /// Then the command is accepted.
    pub fn decided(self) -> EpisodeWatchDecision {
        self.0
            .unwrap_or_else(|e| panic!("expected a decision, got the refusal {e}"))
    }

    /// Then the command is refused.
    pub fn refused(self) -> WatchEpisodeError {
        match self.0 {
            Ok(d) => panic!("expected a refusal, got {d:#?}"),
            Err(e) => e,
        }
    }
}

/// Names of the events of a decision, in order.
pub fn event_names(events: &[DomainEvent]) -> Vec<&'static str> {
    events
        .iter()
        .map(|e| match e {
            DomainEvent::TvEpisodeWatched(_) => "TVEpisodeWatched",
            DomainEvent::TvSeasonCompleted(_) => "TVSeasonCompleted",
            DomainEvent::TvShowCompleted(_) => "TVShowCompleted",
            _ => "other",
        })
        .collect()
}

/// `(season, episode)` of an episode record.
pub fn position(r: &ViewingRecord) -> (u32, u32) {
    match r.watched {
        viewing_domain::Watched::Episode {
            season_number,
            episode_number,
            ..
        } => (season_number, episode_number),
        viewing_domain::Watched::Movie(_) => (0, 0),
    }
}
