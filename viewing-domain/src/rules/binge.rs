//! Binge sessions: consecutive episodes of one show watched close together.
//!
//! Sessions are a pure function of the user's records of a show, so they follow watch dates, not
//! arrival order, and a batch rebuild is the same function run again. Eligible records are
//! first-time, non-backfilled regular episodes, plus any record the client pinned to a session
//! it named. Sorted by watch date, a record *links* to the one before it when it is the next
//! regular episode in order and finished at most `max_gap` later, or when both were pinned by the
//! client to the same session. Each chain of two or more linked records (or containing a pinned
//! record) is one session.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};

use crate::catalog::Show;
use crate::ids::{BingeSessionId, RecordId, UserId};
use crate::ports::IdGenerator;
use crate::records::{BingeSession, ViewingRecord, Watched};

/// The sessions a show's records should form, and which record belongs to which.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionPlan {
    /// Every record of the input with its session (or none).
    pub assignments: HashMap<RecordId, Option<BingeSessionId>>,
    /// The sessions, each with its records' first and last watch dates.
    pub sessions: Vec<BingeSession>,
}

/// What has to be written to go from the stored state to a plan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionChanges {
    /// Sessions to create or update.
    pub save: Vec<BingeSession>,
    /// Sessions that no longer have records to hold.
    pub delete: Vec<BingeSessionId>,
    /// Stored records whose session changes.
    pub moves: Vec<(RecordId, Option<BingeSessionId>)>,
}

fn eligible(r: &ViewingRecord) -> bool {
    r.binge_session_pinned || (r.counts_for_progress() && !r.backfilled)
}

fn order_key(r: &ViewingRecord) -> (u32, u32) {
    match r.watched {
        Watched::Episode {
            season_number,
            episode_number,
            ..
        } => (season_number, episode_number),
        Watched::Movie(_) => (0, 0),
    }
}

fn pinned_id(r: &ViewingRecord) -> Option<BingeSessionId> {
    r.binge_session_id.filter(|_| r.binge_session_pinned)
}

/// True when `next` continues a binge after `prev` by the gap rule.
pub fn continues_binge(
    show: &Show,
    prev: &ViewingRecord,
    next: &ViewingRecord,
    max_gap: Duration,
) -> bool {
    let (Watched::Episode { episode_id: a, .. }, Watched::Episode { episode_id: b, .. }) =
        (prev.watched, next.watched)
    else {
        return false;
    };
    let regular = |r: &ViewingRecord| r.counts_for_progress() && !r.backfilled;
    if !regular(prev) || !regular(next) {
        return false;
    }
    let gap = next.watch_date - prev.watch_date;
    gap >= Duration::zero()
        && gap <= max_gap
        && show
            .next_regular_after(a)
            .is_some_and(|n| n.episode.id == b)
}

/// Plans the sessions of one user's show. `existing` are the stored sessions of that user and
/// show; their ids are kept where their records still form a session.
pub fn plan_sessions(
    user: UserId,
    show: &Show,
    records: &[ViewingRecord],
    existing: &[BingeSession],
    max_gap: Duration,
    now: DateTime<Utc>,
    ids: &dyn IdGenerator,
) -> SessionPlan {
    let mut chain_input: Vec<&ViewingRecord> = records.iter().filter(|r| eligible(r)).collect();
    chain_input.sort_by_key(|r| (r.watch_date, order_key(r), r.id));

    let mut chains: Vec<Vec<&ViewingRecord>> = Vec::new();
    for r in chain_input {
        let linked = chains.last().and_then(|c| c.last()).is_some_and(|prev| {
            match (pinned_id(prev), pinned_id(r)) {
                (Some(a), Some(b)) if a == b => true,
                (Some(_), Some(_)) => false,
                _ => continues_binge(show, prev, r, max_gap),
            }
        });
        match (linked, chains.last_mut()) {
            (true, Some(chain)) => chain.push(r),
            _ => chains.push(vec![r]),
        }
    }

    let existing_by_id: HashMap<BingeSessionId, &BingeSession> =
        existing.iter().map(|s| (s.id, s)).collect();
    let mut used: HashSet<BingeSessionId> = HashSet::new();
    let mut members: BTreeMap<BingeSessionId, Vec<&ViewingRecord>> = BTreeMap::new();
    let mut order: Vec<BingeSessionId> = Vec::new();

    for chain in chains {
        let pinned = chain.iter().find_map(|r| pinned_id(r));
        if chain.len() < 2 && pinned.is_none() {
            continue;
        }
        let id = pinned.unwrap_or_else(|| {
            chain
                .iter()
                .filter_map(|r| r.binge_session_id)
                .find(|id| existing_by_id.contains_key(id) && !used.contains(id))
                .unwrap_or_else(|| BingeSessionId::from(ids.new_id()))
        });
        used.insert(id);
        if !members.contains_key(&id) {
            order.push(id);
        }
        members.entry(id).or_default().extend(chain);
    }

    let mut assignments: HashMap<RecordId, Option<BingeSessionId>> =
        records.iter().map(|r| (r.id, None)).collect();
    let mut sessions = Vec::with_capacity(order.len());
    for id in order {
        let Some(list) = members.get(&id) else {
            continue;
        };
        for r in list {
            assignments.insert(r.id, Some(id));
        }
        let start_time = list.iter().map(|r| r.watch_date).min().unwrap_or(now);
        let end_time = list.iter().map(|r| r.watch_date).max().unwrap_or(now);
        sessions.push(BingeSession {
            id,
            user_id: user,
            show_id: show.id,
            start_time,
            end_time,
            episodes_watched: list.len() as u32,
            created_at: existing_by_id.get(&id).map_or(now, |s| s.created_at),
        });
    }
    SessionPlan {
        assignments,
        sessions,
    }
}

impl SessionChanges {
    /// The sessions these changes save or delete, with `also`, each once, sorted: what an
    /// event names so the statistics can count the sessions again.
    pub fn touched(&self, also: impl IntoIterator<Item = BingeSessionId>) -> Vec<BingeSessionId> {
        let mut ids: Vec<BingeSessionId> = self
            .save
            .iter()
            .map(|s| s.id)
            .chain(self.delete.iter().copied())
            .chain(also)
            .collect();
        ids.sort();
        ids.dedup();
        ids
    }
}

impl SessionPlan {
    /// Writes needed to reach this plan from the stored sessions and the stored records
    /// (`stored` excludes records that are about to be inserted).
    pub fn changes(&self, existing: &[BingeSession], stored: &[ViewingRecord]) -> SessionChanges {
        let save = self
            .sessions
            .iter()
            .filter(|s| !existing.contains(s))
            .cloned()
            .collect();
        let keep: HashSet<BingeSessionId> = self.sessions.iter().map(|s| s.id).collect();
        let delete = existing
            .iter()
            .map(|s| s.id)
            .filter(|id| !keep.contains(id))
            .collect();
        let moves = stored
            .iter()
            .filter_map(|r| {
                let planned = self.assignments.get(&r.id).copied().flatten();
                (planned != r.binge_session_id).then_some((r.id, planned))
            })
            .collect();
        SessionChanges {
            save,
            delete,
            moves,
        }
    }

    /// The session `record` belongs to in this plan.
    pub fn session_of(&self, record: RecordId) -> Option<BingeSessionId> {
        self.assignments.get(&record).copied().flatten()
    }
}
