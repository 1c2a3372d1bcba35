//! The writer: this process's write units of work, one at a time, committed in groups.
//!
//! SQLite has one writer, and with `synchronous = FULL` every `COMMIT` waits for the disk
//! (an fsync of the write-ahead log). Units of work queue for the writer gate (a fair tokio
//! mutex) and take turns, as before; what changes is the commit. A unit of work that finishes
//! while others wait does not commit alone: it releases its savepoint, leaves the transaction
//! open for the next in the queue and queues again itself. The first member of the group to
//! come back to the head of the queue commits everyone's work with one `COMMIT`, and each
//! member's `commit` returns only once that `COMMIT` is on disk: nothing is acknowledged before
//! it is durable, and a failed `COMMIT` fails every member. With nobody waiting, a unit of work
//! commits at once, exactly as a plain transaction.
//!
//! Units of work inside a group are separated by savepoints: one that fails or is dropped
//! half-way is rolled back to its savepoint (by the next holder of the gate, since a drop
//! cannot wait for the database) and takes nothing of the others' work with it. The first
//! member of a group needs no savepoint: nobody joined before it, so its rollback is the
//! transaction's.
//!
//! A member whose caller goes away after its work (a closed HTTP connection) is still
//! committed: the wait for the group's commit runs as a task of its own.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use sqlx::pool::PoolConnection;
use sqlx::sqlite::SqlitePool;
use sqlx::{Sqlite, SqliteConnection};
use tokio::sync::{Mutex, OwnedMutexGuard};
use viewing_domain::ports::{StoreError, StoreResult};

use crate::codec::db_err;

/// The writer gate and the group transaction it guards. Clones share both.
#[derive(Clone)]
pub(crate) struct Writer {
    pool: SqlitePool,
    state: Arc<Mutex<State>>,
    /// Tasks queued for the gate right now: a unit of work that finishes while this is not 0
    /// leaves its group open for them.
    waiting: Arc<AtomicUsize>,
    /// Group transactions committed so far.
    commits: Arc<AtomicUsize>,
}

impl fmt::Debug for Writer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Writer")
            .field("waiting", &self.waiting.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

#[derive(Default)]
struct State {
    /// The open group transaction, if any.
    open: Option<Open>,
    /// What a unit of work dropped half-way left behind, undone by the next holder.
    dirty: Dirty,
}

/// A transaction open on the writer's connection, shared by the members of one group.
struct Open {
    conn: PoolConnection<Sqlite>,
    group: Arc<Group>,
    /// Members that finished their work and wait for the group's commit.
    members: usize,
}

#[derive(Default, Clone, Copy, PartialEq, Eq)]
enum Dirty {
    #[default]
    No,
    /// Roll back to the savepoint of the dropped unit of work.
    Savepoint,
    /// Roll back the whole transaction (the dropped unit of work opened it; nobody joined).
    Whole,
}

/// The outcome of one group's commit, set once and read by every member.
#[derive(Default)]
struct Group {
    outcome: OnceLock<Result<(), String>>,
}

impl Group {
    fn settle(&self, outcome: Result<(), String>) {
        // Set once: the first settlement is the group's.
        let _ = self.outcome.set(outcome);
    }

    fn outcome(&self) -> Option<StoreResult<()>> {
        self.outcome.get().map(|o| match o {
            Ok(()) => Ok(()),
            Err(e) => Err(StoreError::unavailable(format!(
                "the group commit of this unit of work failed: {e}"
            ))),
        })
    }
}

const SAVEPOINT: &str = "SAVEPOINT uow";
const RELEASE: &str = "RELEASE uow";
const ROLLBACK_TO: &str = "ROLLBACK TO uow; RELEASE uow";

impl Writer {
    pub(crate) fn new(pool: SqlitePool) -> Self {
        Writer {
            pool,
            state: Arc::default(),
            waiting: Arc::default(),
            commits: Arc::default(),
        }
    }

    /// Waits for the gate, counted in `waiting` meanwhile (also when the wait is cancelled).
    async fn lock(&self) -> OwnedMutexGuard<State> {
        struct Queued<'a>(&'a AtomicUsize);
        impl Drop for Queued<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::AcqRel);
            }
        }
        self.waiting.fetch_add(1, Ordering::AcqRel);
        let _queued = Queued(&self.waiting);
        self.state.clone().lock_owned().await
    }

    /// A write unit of work: joins the open group (a savepoint) or opens one (`BEGIN
    /// IMMEDIATE`, which also waits for other processes' writers up to the busy timeout).
    pub(crate) async fn begin(&self) -> StoreResult<WriteTx> {
        let mut state = self.lock().await;
        clean(&mut state).await?;
        let savepoint = match state.open.as_mut() {
            Some(open) => {
                sqlx::raw_sql(SAVEPOINT)
                    .execute(&mut *open.conn)
                    .await
                    .map_err(db_err)?;
                true
            }
            None => {
                let mut conn = self.pool.acquire().await.map_err(db_err)?;
                sqlx::raw_sql("BEGIN IMMEDIATE")
                    .execute(&mut *conn)
                    .await
                    .map_err(db_err)?;
                state.open = Some(Open {
                    conn,
                    group: Arc::default(),
                    members: 0,
                });
                false
            }
        };
        Ok(WriteTx {
            state: Some(state),
            savepoint,
            writer: self.clone(),
        })
    }

    /// Waits for `group`'s commit, committing it when nobody did yet.
    async fn finish(&self, group: Arc<Group>) -> StoreResult<()> {
        let mut state = self.lock().await;
        if let Some(outcome) = group.outcome() {
            return outcome;
        }
        match &state.open {
            Some(open) if Arc::ptr_eq(&open.group, &group) => self.commit_now(&mut state).await,
            // Unreachable: a group leaves the gate only through `commit_now` or a rollback,
            // and both settle it.
            _ => Err(StoreError::unexpected(
                "the group of this unit of work ended without an outcome",
            )),
        }
    }

    /// Commits the open group and settles it.
    async fn commit_now(&self, state: &mut State) -> StoreResult<()> {
        clean(state).await?;
        let Some(mut open) = state.open.take() else {
            return Err(StoreError::unexpected("no open SQLite write transaction"));
        };
        match sqlx::raw_sql("COMMIT").execute(&mut *open.conn).await {
            Ok(_) => {
                self.commits.fetch_add(1, Ordering::Relaxed);
                open.group.settle(Ok(()));
                Ok(())
            }
            Err(e) => {
                let e = db_err(e);
                state.open = Some(open);
                abort(state, e.to_string()).await;
                Err(e)
            }
        }
    }

    /// Undoes what a dropped unit of work left and commits a group nobody waits for any more.
    async fn tidy(&self) {
        let mut state = self.lock().await;
        if clean(&mut state).await.is_err() {
            return;
        }
        if state.open.as_ref().is_some_and(|o| o.members == 0)
            && let Err(e) = self.commit_now(&mut state).await
        {
            tracing::warn!(error = %e, "closing an abandoned SQLite write transaction failed");
        }
    }
}

/// Rolls back what a dropped unit of work left behind. A failure ends (and fails) the group.
async fn clean(state: &mut State) -> StoreResult<()> {
    let dirty = std::mem::take(&mut state.dirty);
    let Some(open) = state.open.as_mut() else {
        return Ok(());
    };
    match dirty {
        Dirty::No => Ok(()),
        Dirty::Savepoint => match sqlx::raw_sql(ROLLBACK_TO).execute(&mut *open.conn).await {
            Ok(_) => Ok(()),
            Err(e) => {
                let e = db_err(e);
                abort(state, e.to_string()).await;
                Err(e)
            }
        },
        Dirty::Whole => {
            abort(state, "rolled back".to_owned()).await;
            Ok(())
        }
    }
}

/// Rolls back the open transaction and fails its group with `why`.
async fn abort(state: &mut State, why: String) {
    let Some(mut open) = state.open.take() else {
        return;
    };
    open.group.settle(Err(why));
    if sqlx::raw_sql("ROLLBACK")
        .execute(&mut *open.conn)
        .await
        .is_err()
    {
        // Never hand a connection in an unknown transaction state back to the pool.
        let _ = open.conn.close().await;
    }
}

/// One write unit of work on the writer's group transaction, holding the gate. Dropped
/// without [`WriteTx::commit`], its work is rolled back.
pub(crate) struct WriteTx {
    /// `None` once committed.
    state: Option<OwnedMutexGuard<State>>,
    /// Whether this unit of work runs inside a savepoint (it joined an open group).
    savepoint: bool,
    writer: Writer,
}

impl fmt::Debug for WriteTx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WriteTx")
            .field("savepoint", &self.savepoint)
            .finish_non_exhaustive()
    }
}

impl WriteTx {
    /// The connection of the group transaction.
    pub(crate) fn conn(&mut self) -> &mut SqliteConnection {
        // A `WriteTx` holds the gate, and the gate holds an open transaction for as long as
        // a `WriteTx` lives: only `commit`, which consumes it, or a later holder ends it.
        match self.state.as_mut().and_then(|s| s.open.as_mut()) {
            Some(open) => &mut open.conn,
            None => unreachable!("a write unit of work outlived its transaction"),
        }
    }

    /// Commits this unit of work: returns once its work is on disk (alone when nobody waits
    /// for the gate, else with the group it leaves open for them).
    pub(crate) async fn commit(mut self) -> StoreResult<()> {
        let Some(mut state) = self.state.take() else {
            return Ok(());
        };
        if self.writer.waiting.load(Ordering::Acquire) == 0 {
            return self.writer.commit_now(&mut state).await;
        }
        let group = {
            let Some(open) = state.open.as_mut() else {
                return Err(StoreError::unexpected("no open SQLite write transaction"));
            };
            if self.savepoint
                && let Err(e) = sqlx::raw_sql(RELEASE).execute(&mut *open.conn).await
            {
                state.dirty = Dirty::Savepoint;
                return Err(db_err(e));
            }
            open.members += 1;
            open.group.clone()
        };
        drop(state);
        let writer = self.writer.clone();
        // A task of its own: the group is committed even if this caller goes away now.
        tokio::spawn(async move { writer.finish(group).await })
            .await
            .map_err(StoreError::unexpected)?
    }
}

impl Drop for WriteTx {
    fn drop(&mut self) {
        let Some(mut state) = self.state.take() else {
            return;
        };
        state.dirty = if self.savepoint {
            Dirty::Savepoint
        } else {
            Dirty::Whole
        };
        drop(state);
        // A drop cannot wait for the database: the rollback runs as a task, or, without a
        // runtime, when the next unit of work takes the gate.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let writer = self.writer.clone();
            runtime.spawn(async move { writer.tidy().await });
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};

    use super::*;

    async fn writer(dir: &tempfile::TempDir) -> Writer {
        let options = SqliteConnectOptions::new()
            .filename(dir.path().join("w.db"))
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .expect("open");
        sqlx::raw_sql("CREATE TABLE t (x TEXT PRIMARY KEY)")
            .execute(&pool)
            .await
            .expect("table");
        Writer::new(pool)
    }

    async fn insert(tx: &mut WriteTx, x: &str) -> StoreResult<()> {
        sqlx::query("INSERT INTO t (x) VALUES (?)")
            .bind(x)
            .execute(tx.conn())
            .await
            .map(|_| ())
            .map_err(db_err)
    }

    /// What a fresh connection reads: the committed rows only.
    async fn committed(w: &Writer) -> Vec<String> {
        sqlx::query_scalar("SELECT x FROM t ORDER BY x")
            .fetch_all(&w.pool)
            .await
            .expect("read")
    }

    /// Waits until `n` tasks queue for the gate.
    async fn queued(w: &Writer, n: usize) {
        for _ in 0..2000 {
            if w.waiting.load(Ordering::Acquire) == n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        panic!("expected {n} tasks waiting for the gate");
    }

    #[tokio::test]
    async fn units_of_work_queued_behind_one_share_its_commit_and_each_is_durable_on_return() {
        let dir = tempfile::tempdir().expect("dir");
        let w = writer(&dir).await;
        let mut first = w.begin().await.expect("begin");
        let mut tasks = Vec::new();
        for i in 0..5 {
            let member = w.clone();
            tasks.push(tokio::spawn(async move {
                let mut tx = member.begin().await?;
                insert(&mut tx, &format!("q{i}")).await?;
                tx.commit().await?;
                // Acknowledged: on disk, visible to every other connection.
                Ok::<_, StoreError>(committed(&member).await.contains(&format!("q{i}")))
            }));
            queued(&w, i + 1).await;
        }
        insert(&mut first, "first").await.expect("insert");
        first.commit().await.expect("commit");
        for t in tasks {
            assert!(t.await.expect("task").expect("unit of work"));
        }
        assert_eq!(committed(&w).await.len(), 6);
        // One commit for the first and the five that queued behind it (they all joined the
        // group it left open), not six.
        assert_eq!(w.commits.load(Ordering::Relaxed), 1);
    }

    #[tokio::test]
    async fn a_member_dropped_half_way_loses_its_own_work_and_nothing_else() {
        let dir = tempfile::tempdir().expect("dir");
        let w = writer(&dir).await;
        let mut first = w.begin().await.expect("begin");
        let dropped = {
            let w = w.clone();
            tokio::spawn(async move {
                let mut tx = w.begin().await?;
                insert(&mut tx, "dropped").await?;
                drop(tx);
                Ok::<_, StoreError>(())
            })
        };
        queued(&w, 1).await;
        let failed = {
            let w = w.clone();
            tokio::spawn(async move {
                let mut tx = w.begin().await?;
                insert(&mut tx, "failed-before").await?;
                // A unique violation: the unit of work fails and is dropped.
                insert(&mut tx, "first").await
            })
        };
        queued(&w, 2).await;
        let last = {
            let w = w.clone();
            tokio::spawn(async move {
                let mut tx = w.begin().await?;
                insert(&mut tx, "last").await?;
                tx.commit().await
            })
        };
        queued(&w, 3).await;
        insert(&mut first, "first").await.expect("insert");
        first.commit().await.expect("commit");
        dropped.await.expect("task").expect("dropped");
        assert!(failed.await.expect("task").is_err());
        last.await.expect("task").expect("last");
        assert_eq!(committed(&w).await, ["first", "last"]);
    }

    #[tokio::test]
    async fn the_first_member_dropped_rolls_back_and_the_gate_opens() {
        let dir = tempfile::tempdir().expect("dir");
        let w = writer(&dir).await;
        let mut tx = w.begin().await.expect("begin");
        insert(&mut tx, "gone").await.expect("insert");
        drop(tx);
        let mut tx = w.begin().await.expect("begin after a drop");
        insert(&mut tx, "kept").await.expect("insert");
        tx.commit().await.expect("commit");
        assert_eq!(committed(&w).await, ["kept"]);
        // Alone at the gate: committed at once, one commit each.
        assert_eq!(w.commits.load(Ordering::Relaxed), 1);
    }
}
