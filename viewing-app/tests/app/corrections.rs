//! SPEC §11's invariant: after any sequence of watches, deletions, edits, abandons and their
//! undoing, progress, binge sessions
//! and statistics equal a from-scratch computation over the records that remain.
//!
//! Random operations run through the real use cases and the relay on the memory store. After
//! each step the stored progress row is compared with an oracle written here from SPEC's
//! definitions (not the domain's functions), the stored binge sessions with a fresh plan over
//! the remaining records, and the statistics the handlers keep with the statistics computed
//! from the records (`support::oracle`).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use crate::support::oracle::statistics_from_records;
use crate::support::*;
use adapters_memory::{ManualClock, MemoryStore, SequentialIds};
use adapters_sqlite::SqliteStore;
use chrono::{DateTime, Duration, Utc};
use proptest::prelude::*;
use viewing_app::imports::ImportRequest;
use viewing_app::relay::Relay;
use viewing_app::statistics::{Period, StatisticsRequest};
use viewing_app::{AppError, ViewingService};
use viewing_domain::imports::ImportSource;
use viewing_domain::ports::{
    AbandonRepository, BingeSessionRepository, ShowProgressRepository, Store,
    ViewingRecordRepository,
};
use viewing_domain::rules::abandon::Abandon;
use viewing_domain::rules::binge::plan_sessions;
use viewing_domain::rules::episode::WatchEpisode;
use viewing_domain::rules::history::EditRecord;
use viewing_domain::rules::movie::WatchMovie;
use viewing_domain::values::Minutes;
use viewing_domain::values::Platform;
use viewing_domain::{
    EpisodeId, Movie, MovieId, RecordId, RulesConfig, Show, ShowId, ShowStatus, UserId,
    ViewingRecord, Watched,
};

#[derive(Debug, Clone)]
enum Op {
    /// Watch episode `episode` (modulo the show's episodes), `backdate` minutes before now.
    Episode {
        episode: usize,
        mark_previous: bool,
        backdate: i64,
    },
    /// Watch the movie.
    Movie { backdate: i64 },
    /// Delete the record at `pick` (modulo the user's records, oldest first).
    Delete { pick: usize },
    /// Move the record at `pick` by `shift` minutes (not past now), maybe on another platform.
    Edit {
        pick: usize,
        shift: i64,
        platform: Option<bool>,
    },
    /// Abandon the show or the movie.
    Abandon { show: bool },
    /// Take back the abandon at `pick` (modulo the user's abandons).
    Undo { pick: usize },
    /// Reset the show's progress: a rewatch pass starts.
    Reset,
    /// Undo the latest reset.
    UndoReset,
    /// Let the clock run.
    Wait { minutes: i64 },
    /// Import a Trakt history of episode plays (`episode`, `backdate` minutes before now):
    /// recorded in one batch against the show read once, outside the order check.
    Import { plays: Vec<(usize, i64)> },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (0usize..40, prop::bool::weighted(0.3), prop_oneof![Just(0i64), 0i64..600])
            .prop_map(|(episode, mark_previous, backdate)| Op::Episode {
                episode,
                mark_previous,
                backdate,
            }),
        1 => (0i64..600).prop_map(|backdate| Op::Movie { backdate }),
        3 => (0usize..64).prop_map(|pick| Op::Delete { pick }),
        3 => (0usize..64, -400i64..400, prop::option::of(any::<bool>()))
            .prop_map(|(pick, shift, platform)| Op::Edit { pick, shift, platform }),
        1 => any::<bool>().prop_map(|show| Op::Abandon { show }),
        1 => (0usize..8).prop_map(|pick| Op::Undo { pick }),
        2 => Just(Op::Reset),
        2 => Just(Op::UndoReset),
        2 => prop_oneof![1i64..200, 170i64..200, 200i64..3000]
            .prop_map(|minutes| Op::Wait { minutes }),
        2 => prop::collection::vec((0usize..40, prop_oneof![Just(0i64), 0i64..600]), 1..8)
            .prop_map(|plays| Op::Import { plays }),
    ]
}

fn status() -> impl Strategy<Value = ShowStatus> {
    prop_oneof![
        Just(ShowStatus::Ended),
        Just(ShowStatus::Returning),
        Just(ShowStatus::Canceled)
    ]
}

/// Two or three short seasons and a special, every episode aired.
fn build(status: ShowStatus, seasons: &[u32]) -> Show {
    let mut all = vec![season(1, 0, 1, None)];
    all.extend(
        seasons
            .iter()
            .enumerate()
            .map(|(i, &n)| season(1, (i + 1) as u32, n, None)),
    );
    Show::new(
        ShowId::from(uuid(1, 0x5)),
        title("Corrected"),
        status,
        vec![genre("Drama")],
        all,
    )
    .expect("valid show")
}

fn movie() -> Movie {
    Movie {
        id: MovieId::from(uuid(9, 0x3)),
        title: title("Heat"),
        runtime: Minutes::from_u32_saturating(170),
        genres: vec![genre("Crime")],
        release_date: None,
        external_ids: Default::default(),
    }
}

fn platform_named(name: &str) -> Platform {
    Platform::parse(name)
        .ok()
        .flatten()
        .expect("a valid platform")
}

/// The service on one store, with a clock the test moves.
struct Harness<S: Store> {
    svc: ViewingService<S>,
    clock: Arc<ManualClock>,
    user: UserId,
    /// Keeps a SQLite file alive.
    _dir: Option<tempfile::TempDir>,
}

impl Harness<MemoryStore> {
    fn memory() -> Self {
        Self::on(MemoryStore::new(), None)
    }
}

impl Harness<SqliteStore> {
    async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("c.db").display());
        let store = SqliteStore::connect(&url).await.expect("SQLite store");
        Self::on(store, Some(dir))
    }
}

impl<S: Store> Harness<S> {
    fn on(store: S, dir: Option<tempfile::TempDir>) -> Self {
        let clock = Arc::new(ManualClock::new(t0()));
        let svc = ViewingService::with_parts(
            store,
            clock.clone(),
            Arc::new(SequentialIds::default()),
            RulesConfig::default(),
        );
        Self {
            svc,
            clock,
            user: UserId::from(uuid(1, 0x1)),
            _dir: dir,
        }
    }

    fn now(&self) -> DateTime<Utc> {
        use viewing_domain::ports::Clock;
        self.clock.now()
    }

    async fn drain(&self) {
        Relay::new(&self.svc).drain().await.expect("relay drained");
    }
}

/// Every record of the user, oldest first (the order `Delete` picks from).
async fn all_records<S: Store>(w: &Harness<S>) -> Vec<ViewingRecord> {
    let mut uow = w.svc.store().begin().await.expect("begin");
    let mut out = uow
        .episode_records(w.user, ShowId::from(uuid(1, 0x5)))
        .await
        .expect("records");
    out.extend(
        uow.records_of_content(w.user, uuid(9, 0x3))
            .await
            .expect("movie records"),
    );
    out.sort_by_key(|r| (r.watch_date, r.created_at, r.id));
    out
}

/// Completed seasons `(number, when)` and the show's completion, of one pass.
type PassCompletions = (Vec<(u32, DateTime<Utc>)>, Option<DateTime<Utc>>);
/// Each watched regular episode's first watch in a pass: `(when, season, episode)`.
type Firsts = HashMap<EpisodeId, (DateTime<Utc>, u32, u32)>;

/// The progress SPEC §5 and §11 define, from the records alone, for the current pass; and
/// the completions of each earlier pass.
#[derive(Debug, PartialEq)]
struct Expected {
    total: u32,
    seasons: Vec<(u32, DateTime<Utc>)>,
    show_completed: Option<DateTime<Utc>>,
    last: Option<(u32, u32, DateTime<Utc>)>,
    last_activity: Option<DateTime<Utc>>,
    earlier: Vec<PassCompletions>,
}

/// The plays of the pass from `start` (exclusive; `None`: the first pass) to `end`
/// (inclusive), and each watched regular episode's first watch in it: in the first pass the
/// record not flagged as a rewatch, in a later one the earliest play in the pass.
fn pass_plays(
    records: &[ViewingRecord],
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
) -> (Vec<&ViewingRecord>, Firsts) {
    let plays: Vec<&ViewingRecord> = records
        .iter()
        .filter(|r| start.is_none_or(|s| r.watch_date > s) && end.is_none_or(|e| r.watch_date <= e))
        .collect();
    let mut firsts = Firsts::new();
    for r in &plays {
        if start.is_none() && r.is_rewatch {
            continue;
        }
        if let Watched::Episode {
            episode_id,
            season_number,
            episode_number,
            ..
        } = r.watched
            && season_number > 0
        {
            let entry =
                firsts
                    .entry(episode_id)
                    .or_insert((r.watch_date, season_number, episode_number));
            entry.0 = entry.0.min(r.watch_date);
        }
    }
    (plays, firsts)
}

/// Completed seasons and the show's completion, from the first watches of a pass.
fn completions(show: &Show, firsts: &Firsts) -> PassCompletions {
    let latest = |ids: &mut dyn Iterator<Item = EpisodeId>| -> Option<DateTime<Utc>> {
        let mut max = None;
        for id in ids {
            let d = firsts.get(&id)?.0;
            max = Some(max.map_or(d, |m: DateTime<Utc>| m.max(d)));
        }
        max
    };
    let seasons = show
        .seasons()
        .iter()
        .filter(|s| s.number > 0)
        .filter_map(|s| latest(&mut s.episodes.iter().map(|e| e.id)).map(|d| (s.number, d)))
        .collect();
    let show_completed = if show.status.is_finished() {
        latest(
            &mut show
                .episodes()
                .filter(|e| !e.is_special())
                .map(|e| e.episode.id),
        )
    } else {
        None
    };
    (seasons, show_completed)
}

/// `resets`: when each reset the test made (and did not undo) happened, oldest first.
fn expected(show: &Show, records: &[ViewingRecord], resets: &[DateTime<Utc>]) -> Expected {
    let starts: Vec<Option<DateTime<Utc>>> = std::iter::once(None)
        .chain(resets.iter().copied().map(Some))
        .collect();
    let earlier = starts
        .windows(2)
        .map(|w| completions(show, &pass_plays(records, w[0], w[1]).1))
        .collect();
    let current = starts.last().copied().flatten();
    let (_, firsts) = pass_plays(records, current, None);
    let (seasons, show_completed) = completions(show, &firsts);
    let regular: Vec<_> = show.episodes().filter(|e| !e.is_special()).collect();
    Expected {
        total: regular
            .iter()
            .filter(|e| firsts.contains_key(&e.episode.id))
            .count() as u32,
        seasons,
        show_completed,
        last: firsts
            .values()
            .map(|&(d, s, e)| (d, s, e))
            .max()
            .map(|(d, s, e)| (s, e, d)),
        last_activity: records
            .iter()
            .filter(|r| matches!(r.watched, Watched::Episode { .. }))
            .map(|r| r.watch_date)
            .max(),
        earlier,
    }
}

async fn check<S: Store>(
    w: &Harness<S>,
    show: &Show,
    resets: &[DateTime<Utc>],
    step: usize,
) -> Result<(), TestCaseError> {
    w.drain().await;
    let records = all_records(w).await;

    // Every watched item has exactly one first watch: the earliest remaining play unless
    // one of its plays already was.
    let mut by_item: HashMap<uuid::Uuid, Vec<&ViewingRecord>> = HashMap::new();
    for r in &records {
        by_item.entry(r.watched.content_id()).or_default().push(r);
    }
    for plays in by_item.values() {
        let firsts = plays.iter().filter(|r| !r.is_rewatch).count();
        prop_assert_eq!(firsts, 1, "step {}: one first watch per item", step);
    }

    let episode_records: Vec<ViewingRecord> = records
        .iter()
        .filter(|r| r.watched.show_id().is_some())
        .cloned()
        .collect();
    let want = expected(show, &episode_records, resets);
    let (stored, stored_sessions) = {
        let mut uow = w.svc.store().begin().await.expect("begin");
        (
            uow.progress(w.user, show.id).await.expect("progress"),
            uow.binge_sessions_of_show(w.user, show.id)
                .await
                .expect("sessions"),
        )
    };
    let got = stored.as_ref().map(|p| Expected {
        total: p.total_episodes_watched,
        seasons: p
            .completed_seasons
            .iter()
            .map(|c| (c.season_number, c.completed_at))
            .collect(),
        show_completed: p.completion_date.filter(|_| p.is_completed),
        last: p
            .last_watched_season
            .zip(p.last_watched_episode)
            .zip(p.last_watch_date)
            .map(|((s, e), d)| (s, e, d)),
        last_activity: p.last_activity_at,
        earlier: p
            .earlier_passes
            .iter()
            .map(|e| {
                (
                    e.completed_seasons
                        .iter()
                        .map(|c| (c.season_number, c.completed_at))
                        .collect(),
                    e.completion_date,
                )
            })
            .collect(),
    });
    // Next episode and gaps: after the last watched episode of the pass, and before it.
    let (plays, _) = pass_plays(&episode_records, resets.last().copied(), None);
    let watched: HashSet<EpisodeId> = plays
        .iter()
        .map(|r| EpisodeId::from(r.watched.content_id()))
        .collect();
    let order: Vec<(u32, u32, EpisodeId)> = show
        .episodes()
        .filter(|e| !e.is_special())
        .map(|e| (e.season.number, e.episode.number, e.episode.id))
        .collect();
    let last_at = want
        .last
        .and_then(|(s, e, _)| order.iter().position(|o| (o.0, o.1) == (s, e)));
    let (before, after) = match last_at {
        Some(i) => (&order[..i], &order[i + 1..]),
        None => (&order[..0], &order[..]),
    };
    let view = w
        .svc
        .progress(w.user, show.id)
        .await
        .expect("progress view");
    prop_assert_eq!(
        view.next_episode.map(|n| n.episode_id),
        after.iter().find(|o| !watched.contains(&o.2)).map(|o| o.2),
        "step {}: next episode",
        step
    );
    let gaps: Vec<(u32, u32)> = before
        .iter()
        .filter(|o| !watched.contains(&o.2))
        .map(|o| (o.0, o.1))
        .collect();
    prop_assert_eq!(view.gaps, gaps, "step {}: gaps", step);
    prop_assert_eq!(view.pass as usize, resets.len() + 1, "step {}: pass", step);
    prop_assert_eq!(
        view.reset_at,
        resets.last().copied(),
        "step {}: resetAt",
        step
    );

    match got {
        Some(got) => prop_assert_eq!(got, want, "step {}: progress row", step),
        None => prop_assert!(episode_records.is_empty(), "step {}: no progress row", step),
    }

    // Binge sessions: what a fresh plan over the remaining records gives (ids aside).
    let plan = plan_sessions(
        w.user,
        show,
        &episode_records,
        &[],
        RulesConfig::default().binge_max_gap,
        w.now(),
        &FreshIds::default(),
    );
    let members = |assign: &dyn Fn(&ViewingRecord) -> Option<uuid::Uuid>| {
        let mut groups: HashMap<uuid::Uuid, BTreeSet<RecordId>> = HashMap::new();
        for r in &episode_records {
            if let Some(s) = assign(r) {
                groups.entry(s).or_default().insert(r.id);
            }
        }
        groups.into_values().collect::<BTreeSet<_>>()
    };
    let planned = members(&|r| plan.session_of(r.id).map(|s| s.as_uuid()));
    let kept = members(&|r| r.binge_session_id.map(|s| s.as_uuid()));
    prop_assert_eq!(&kept, &planned, "step {}: session members", step);
    let shape = |s: &[viewing_domain::BingeSession]| {
        s.iter()
            .map(|s| (s.start_time, s.end_time, s.episodes_watched))
            .collect::<BTreeSet<_>>()
    };
    prop_assert_eq!(
        shape(&stored_sessions),
        shape(&plan.sessions),
        "step {}: sessions",
        step
    );

    // Statistics, from the buckets the handlers keep, against the records.
    let all_time = StatisticsRequest {
        period: Period::All,
        tz: chrono_tz::UTC,
        date: None,
    };
    let got = w
        .svc
        .statistics(w.user, &all_time)
        .await
        .expect("statistics");
    let want = statistics_from_records(&w.svc, w.user, &all_time)
        .await
        .expect("oracle");
    prop_assert_eq!(got, want, "step {}: statistics", step);
    Ok(())
}

/// Ids for the oracle's plan, apart from the service's.
#[derive(Default)]
struct FreshIds(std::sync::atomic::AtomicU64);

impl viewing_domain::ports::IdGenerator for FreshIds {
    fn new_id(&self) -> uuid::Uuid {
        let n = self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        uuid::Uuid::from_u64_pair(0xF0F0, n)
    }
}

async fn run<S: Store>(
    w: Harness<S>,
    status: ShowStatus,
    seasons: Vec<u32>,
    ops: Vec<Op>,
) -> Result<(), TestCaseError> {
    let show = w
        .svc
        .upsert_show(build(status, &seasons))
        .await
        .expect("show stored");
    w.svc.upsert_movie(movie()).await.expect("movie stored");
    let episodes: Vec<EpisodeId> = show.episodes().map(|e| e.episode.id).collect();
    let mut deleted: HashSet<RecordId> = HashSet::new();
    let mut resets: Vec<DateTime<Utc>> = Vec::new();
    let mut history_ids = 0u64;
    for (step, op) in ops.into_iter().enumerate() {
        match op {
            Op::Episode {
                episode,
                mark_previous,
                backdate,
            } => {
                let at = w.now() - Duration::minutes(backdate);
                let id = episodes[episode % episodes.len()];
                let cmd = WatchEpisode {
                    watch_date: Some(at),
                    mark_previous_watched: mark_previous,
                    ..WatchEpisode::default()
                };
                match w.svc.watch_episode(w.user, id, cmd).await {
                    Ok(_) | Err(AppError::EpisodeOutOfOrder(_)) => {}
                    Err(e) => return Err(TestCaseError::fail(format!("watch: {e:?}"))),
                }
            }
            Op::Movie { backdate } => {
                let cmd = WatchMovie {
                    watch_date: Some(w.now() - Duration::minutes(backdate)),
                    ..WatchMovie::default()
                };
                w.svc
                    .watch_movie(w.user, movie().id, cmd)
                    .await
                    .map_err(|e| TestCaseError::fail(format!("movie: {e:?}")))?;
            }
            Op::Delete { pick } => {
                let records = all_records(&w).await;
                if records.is_empty() {
                    continue;
                }
                let id = records[pick % records.len()].id;
                w.svc
                    .delete_record(w.user, id)
                    .await
                    .map_err(|e| TestCaseError::fail(format!("delete: {e:?}")))?;
                deleted.insert(id);
                // Deleting twice is 404, and another user cannot delete it.
                let again = w.svc.delete_record(w.user, id).await;
                prop_assert!(matches!(again, Err(AppError::NotFound)));
            }
            Op::Edit {
                pick,
                shift,
                platform,
            } => {
                let records = all_records(&w).await;
                if records.is_empty() {
                    continue;
                }
                let r = &records[pick % records.len()];
                let edit = EditRecord {
                    watch_date: Some((r.watch_date + Duration::minutes(shift)).min(w.now())),
                    platform: platform.map(|p| p.then(|| platform_named("Netflix"))),
                    ..EditRecord::default()
                };
                let edited = w
                    .svc
                    .edit_record(w.user, r.id, edit)
                    .await
                    .map_err(|e| TestCaseError::fail(format!("edit: {e:?}")))?;
                prop_assert_eq!(
                    edited.is_rewatch,
                    r.is_rewatch,
                    "an edit keeps the first watch"
                );
            }
            Op::Abandon { show: on_show } => {
                let item = if on_show {
                    show.id.as_uuid()
                } else {
                    movie().id.as_uuid()
                };
                w.svc
                    .abandon(w.user, item, Abandon::default())
                    .await
                    .map_err(|e| TestCaseError::fail(format!("abandon: {e:?}")))?;
            }
            Op::Undo { pick } => {
                let abandons = {
                    let mut uow = w.svc.store().begin().await.expect("begin");
                    uow.abandons_between(w.user, None, None)
                        .await
                        .expect("abandons")
                };
                if abandons.is_empty() {
                    continue;
                }
                let id = abandons[pick % abandons.len()].id;
                w.svc
                    .undo_abandon(w.user, id)
                    .await
                    .map_err(|e| TestCaseError::fail(format!("undo: {e:?}")))?;
                let again = w.svc.undo_abandon(w.user, id).await;
                prop_assert!(matches!(again, Err(AppError::NotFound)));
            }
            Op::Reset => {
                let records = all_records(&w).await;
                let (plays, _) = pass_plays(&records, resets.last().copied(), None);
                let anything = plays.iter().any(|r| {
                    matches!(r.watched, Watched::Episode { season_number, .. } if season_number > 0)
                });
                match w.svc.reset_progress(w.user, show.id).await {
                    Ok(view) => {
                        prop_assert!(anything, "step {}: reset with nothing watched", step);
                        prop_assert_eq!(view.episodes_watched, 0);
                        resets.push(w.now());
                    }
                    Err(AppError::Conflict(_)) => {
                        prop_assert!(!anything, "step {}: reset refused", step);
                    }
                    Err(e) => return Err(TestCaseError::fail(format!("reset: {e:?}"))),
                }
            }
            Op::UndoReset => match w.svc.undo_reset(w.user, show.id).await {
                Ok(()) => {
                    prop_assert!(resets.pop().is_some(), "step {}: undo without reset", step);
                }
                Err(AppError::NotFound) => {
                    prop_assert!(resets.is_empty(), "step {}: undo refused", step);
                }
                Err(e) => return Err(TestCaseError::fail(format!("undo reset: {e:?}"))),
            },
            Op::Wait { minutes } => w.clock.advance(Duration::minutes(minutes)),
            Op::Import { plays } => {
                let numbered: Vec<(u32, u32)> = show
                    .episodes()
                    .map(|e| (e.season.number, e.episode.number))
                    .collect();
                let history: Vec<serde_json::Value> = plays
                    .iter()
                    .map(|&(episode, backdate)| {
                        history_ids += 1;
                        let (season, number) = numbered[episode % numbered.len()];
                        serde_json::json!({
                            "id": history_ids,
                            "watched_at": (w.now() - Duration::minutes(backdate)).to_rfc3339(),
                            "action": "watch",
                            "type": "episode",
                            "episode": {"season": season, "number": number},
                            "show": {"title": "Corrected"},
                        })
                    })
                    .collect();
                let request = ImportRequest {
                    source: ImportSource::Trakt,
                    dry_run: false,
                    upload: serde_json::to_vec(&history).expect("json"),
                    progress: None,
                    profile: None,
                };
                let import = w
                    .svc
                    .import_history(w.user, request)
                    .await
                    .map_err(|e| TestCaseError::fail(format!("import: {e:?}")))?;
                prop_assert_eq!(
                    import.summary.imported as usize,
                    plays.len(),
                    "step {}: every play imported: {:?}",
                    step,
                    import.summary
                );
            }
        }
        check(&w, &show, &resets, step).await?;
    }
    let left: HashSet<RecordId> = all_records(&w).await.iter().map(|r| r.id).collect();
    prop_assert!(left.is_disjoint(&deleted));
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn progress_sessions_and_statistics_follow_every_correction(
        status in status(),
        seasons in prop::collection::vec(1u32..5, 1..4),
        ops in prop::collection::vec(op(), 1..40),
    ) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(run(Harness::memory(), status, seasons, ops))?;
    }
}

proptest! {
    // The same on SQLite: fewer cases, each on a fresh database file.
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn on_sqlite_too(
        status in status(),
        seasons in prop::collection::vec(1u32..4, 1..3),
        ops in prop::collection::vec(op(), 1..25),
    ) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async { run(Harness::sqlite().await, status, seasons, ops).await })?;
    }
}

/// Another user's record is not found, and stays.
#[tokio::test]
async fn another_users_record_cannot_be_deleted() {
    let w = World::new();
    w.given_show(show(1, ShowStatus::Ended, &[3])).await;
    let watched = w.watch_at(1, 1, 1, t0()).await.expect("watch");
    let other = viewing_domain::UserId::from(uuid(2, 0x1));
    let r = w.svc.delete_record(other, watched.record.id).await;
    assert!(matches!(r, Err(AppError::NotFound)), "{r:?}");
    assert_eq!(w.records(1).await.len(), 1);
}
