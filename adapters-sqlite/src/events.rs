//! The event side on SQLite (issue 5): the outbox relay's two channels, processed marks,
//! statistics buckets and the handlers' state. Tables: `migrations/0002_events.sql`.
//!
//! Units of work run one at a time on SQLite (see `SqliteStore::begin_write`), so a claim needs
//! no row locks: it is a short unit of work of its own.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use viewing_domain::engagement::{
    Achievement, GenreScore, Reminder, ReminderStatus, WatchlistItem,
};
use viewing_domain::event_ports::{
    ClaimToken, DeadLetter, OutboxBacklog, OutboxRelay, PendingBody, PendingEvent, ProcessedEvents,
    RelayChannel,
};
use viewing_domain::handler_ports::{
    AchievementRepository, PreferenceRepository, ReminderRepository, StatisticsRepository,
    WatchlistRepository,
};
use viewing_domain::ports::{Begin, StoreResult, Transaction};
use viewing_domain::stats::{
    BingeStat, BucketKey, BucketSpan, Counter, Dimension, LONGEST_BINGE, StatsCounters, StatsDelta,
    Tally,
};
use viewing_domain::{BingeSessionId, EventEnvelope, EventId, ItemType, ShowId, UserId};

use crate::codec::{RowExt, corrupt, db_err, id, ts, ts_opt};
use crate::store::SqliteStore;
use crate::uow::SqliteUow;

/// A stored name of one of the domain's enums.
fn name<T>(col: &str, raw: String, parse: fn(&str) -> Option<T>) -> StoreResult<T> {
    parse(&raw).ok_or_else(|| corrupt(col, format!("unknown value {raw:?}")))
}

/// A statement whose only dynamic parts are this module's own column and table names.
fn dynamic(
    sql: String,
) -> sqlx::query::Query<'static, sqlx::Sqlite, sqlx::sqlite::SqliteArguments> {
    sqlx::query(sqlx::AssertSqlSafe(sql))
}

/// Column prefix of a channel's delivery state.
fn p(channel: RelayChannel) -> &'static str {
    match channel {
        RelayChannel::Handlers => "",
        RelayChannel::Broker => "broker_",
    }
}

fn seq_list(seqs: &[i64]) -> String {
    format!(
        "[{}]",
        seqs.iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(",")
    )
}

/// A stored payload as the relay gets it: the event, or why it cannot be read.
fn pending_body(payload: &str) -> PendingBody {
    match serde_json::from_str::<EventEnvelope>(payload) {
        Ok(e) => PendingBody::Event(e),
        Err(e) => PendingBody::Undecodable {
            reason: e.to_string(),
        },
    }
}

/// Every dead letter of both channels, one row per parked channel (`channel` 0 = handlers,
/// 1 = broker, the order of `RelayChannel`).
fn dead_letter_select() -> String {
    let part = |rank: u8, p: &str| {
        format!(
            "SELECT {rank} AS channel, seq, event_id, user_id, event_type, \
             {p}attempts AS attempts, {p}last_error AS last_error, {p}parked_at AS parked_at, \
             payload FROM outbox WHERE {p}parked_at IS NOT NULL"
        )
    };
    format!("{} UNION ALL {}", part(0, ""), part(1, "broker_"))
}

fn dead_letter(r: &SqliteRow) -> StoreResult<DeadLetter> {
    Ok(DeadLetter {
        event_id: EventId::from(r.uuid("event_id")?),
        channel: match r.int("channel")? {
            0 => RelayChannel::Handlers,
            _ => RelayChannel::Broker,
        },
        user_id: UserId::from(r.uuid("user_id")?),
        event_type: r.text("event_type")?,
        attempts: r.u32("attempts")?,
        last_error: r.text_opt("last_error")?,
        parked_at: r.instant("parked_at")?,
        payload: r.text("payload")?,
    })
}

#[async_trait]
impl OutboxRelay for SqliteStore {
    async fn claim_events(
        &self,
        channel: RelayChannel,
        token: ClaimToken,
        now: DateTime<Utc>,
        lease: chrono::Duration,
        limit: u32,
    ) -> StoreResult<Vec<PendingEvent>> {
        let p = p(channel);
        let ready = |t: &str| {
            format!(
                "{t}.{p}next_attempt_at <= ?1 AND ({t}.{p}claimed_until IS NULL \
                 OR {t}.{p}claimed_until <= ?1)"
            )
        };
        // An event is claimable when every earlier undelivered, unparked event of its user is
        // claimable too; those have smaller seqs, so `LIMIT` keeps them in the same answer.
        let sql = format!(
            "SELECT o.seq, o.event_id, o.user_id, o.payload, o.{p}attempts AS attempts \
             FROM outbox o \
             WHERE o.{p}delivered_at IS NULL AND o.{p}parked_at IS NULL AND {ready_o} \
             AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.user_id = o.user_id \
                 AND e.seq < o.seq AND e.{p}delivered_at IS NULL AND e.{p}parked_at IS NULL \
                 AND NOT ({ready_e})) \
             ORDER BY o.seq LIMIT ?2",
            ready_o = ready("o"),
            ready_e = ready("e"),
        );
        let mut uow = self.begin().await?;
        let rows = dynamic(sql)
            .bind(ts(now))
            .bind(i64::from(limit))
            .fetch_all(uow.conn())
            .await
            .map_err(db_err)?;
        let mut claimed = Vec::with_capacity(rows.len());
        for r in &rows {
            claimed.push(PendingEvent {
                seq: r.int("seq")?,
                event_id: EventId::from(r.uuid("event_id")?),
                user_id: UserId::from(r.uuid("user_id")?),
                body: pending_body(&r.text("payload")?),
                attempts: r.u32("attempts")?,
            });
        }
        if !claimed.is_empty() {
            let seqs: Vec<i64> = claimed.iter().map(|c| c.seq).collect();
            dynamic(format!(
                "UPDATE outbox SET {p}claimed_by = ?, {p}claimed_until = ? \
                 WHERE seq IN (SELECT value FROM json_each(?))"
            ))
            .bind(id(token.0))
            .bind(ts(now + lease))
            .bind(seq_list(&seqs))
            .execute(uow.conn())
            .await
            .map_err(db_err)?;
        }
        uow.commit().await?;
        Ok(claimed)
    }

    async fn mark_delivered(
        &self,
        channel: RelayChannel,
        seqs: &[i64],
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let p = p(channel);
        let mut uow = self.begin().await?;
        dynamic(format!(
            "UPDATE outbox SET {p}delivered_at = ?, {p}claimed_by = NULL, {p}claimed_until = NULL \
             WHERE seq IN (SELECT value FROM json_each(?)) AND {p}delivered_at IS NULL"
        ))
        .bind(ts(now))
        .bind(seq_list(seqs))
        .execute(uow.conn())
        .await
        .map_err(db_err)?;
        uow.commit().await
    }

    async fn schedule_retry(
        &self,
        channel: RelayChannel,
        token: ClaimToken,
        seq: i64,
        next_attempt_at: DateTime<Utc>,
        error: &str,
    ) -> StoreResult<()> {
        let p = p(channel);
        let mut uow = self.begin().await?;
        dynamic(format!(
            "UPDATE outbox SET {p}attempts = {p}attempts + 1, {p}next_attempt_at = ?, \
             {p}last_error = ?, {p}claimed_by = NULL, {p}claimed_until = NULL \
             WHERE seq = ? AND {p}claimed_by = ? AND {p}delivered_at IS NULL"
        ))
        .bind(ts(next_attempt_at))
        .bind(error)
        .bind(seq)
        .bind(id(token.0))
        .execute(uow.conn())
        .await
        .map_err(db_err)?;
        uow.commit().await
    }

    async fn renew_claim(
        &self,
        channel: RelayChannel,
        token: ClaimToken,
        until: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let p = p(channel);
        let mut uow = self.begin().await?;
        let done = dynamic(format!(
            "UPDATE outbox SET {p}claimed_until = ? \
             WHERE {p}claimed_by = ? AND {p}delivered_at IS NULL AND {p}parked_at IS NULL"
        ))
        .bind(ts(until))
        .bind(id(token.0))
        .execute(uow.conn())
        .await
        .map_err(db_err)?;
        uow.commit().await?;
        Ok(done.rows_affected())
    }

    async fn park_event(
        &self,
        channel: RelayChannel,
        token: ClaimToken,
        seq: i64,
        now: DateTime<Utc>,
        error: &str,
    ) -> StoreResult<()> {
        let p = p(channel);
        let mut uow = self.begin().await?;
        dynamic(format!(
            "UPDATE outbox SET {p}attempts = {p}attempts + 1, {p}parked_at = ?, \
             {p}last_error = ?, {p}claimed_by = NULL, {p}claimed_until = NULL \
             WHERE seq = ? AND {p}claimed_by = ? AND {p}delivered_at IS NULL"
        ))
        .bind(ts(now))
        .bind(error)
        .bind(seq)
        .bind(id(token.0))
        .execute(uow.conn())
        .await
        .map_err(db_err)?;
        uow.commit().await
    }

    async fn dead_letters(&self, limit: u32) -> StoreResult<Vec<DeadLetter>> {
        let rows = dynamic(format!(
            "{} ORDER BY parked_at, seq, channel LIMIT ?",
            dead_letter_select()
        ))
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await
        .map_err(db_err)?;
        rows.iter().map(dead_letter).collect()
    }

    async fn retry_dead_letter(
        &self,
        event: EventId,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<DeadLetter>> {
        let mut uow = self.begin().await?;
        let rows = dynamic(format!(
            "SELECT * FROM ({}) WHERE event_id = ? ORDER BY channel",
            dead_letter_select()
        ))
        .bind(id(event))
        .fetch_all(uow.conn())
        .await
        .map_err(db_err)?;
        let retried = rows
            .iter()
            .map(dead_letter)
            .collect::<StoreResult<Vec<_>>>()?;
        for l in &retried {
            let p = p(l.channel);
            dynamic(format!(
                "UPDATE outbox SET {p}parked_at = NULL, {p}attempts = 0, {p}next_attempt_at = ?, \
                 {p}claimed_by = NULL, {p}claimed_until = NULL \
                 WHERE event_id = ? AND {p}parked_at IS NOT NULL"
            ))
            .bind(ts(now))
            .bind(id(event))
            .execute(uow.conn())
            .await
            .map_err(db_err)?;
        }
        uow.commit().await?;
        Ok(retried)
    }

    async fn release_events(
        &self,
        channel: RelayChannel,
        token: ClaimToken,
        seqs: &[i64],
    ) -> StoreResult<()> {
        let p = p(channel);
        let mut uow = self.begin().await?;
        dynamic(format!(
            "UPDATE outbox SET {p}claimed_by = NULL, {p}claimed_until = NULL \
             WHERE seq IN (SELECT value FROM json_each(?)) AND {p}claimed_by = ?"
        ))
        .bind(seq_list(seqs))
        .bind(id(token.0))
        .execute(uow.conn())
        .await
        .map_err(db_err)?;
        uow.commit().await
    }

    async fn outbox_backlog(&self, channel: RelayChannel) -> StoreResult<OutboxBacklog> {
        let p = p(channel);
        let row = dynamic(format!(
            "SELECT COUNT(*) AS n, MIN(occurred_at) AS oldest, \
             (SELECT COUNT(*) FROM outbox WHERE {p}parked_at IS NOT NULL) AS parked \
             FROM outbox WHERE {p}delivered_at IS NULL AND {p}parked_at IS NULL"
        ))
        .fetch_one(self.pool())
        .await
        .map_err(db_err)?;
        Ok(OutboxBacklog {
            pending: u64::try_from(row.int("n")?).unwrap_or(0),
            oldest_occurred_at: row.instant_opt("oldest")?,
            dead_letters: u64::try_from(row.int("parked")?).unwrap_or(0),
        })
    }
}

#[async_trait]
impl ProcessedEvents for SqliteUow {
    async fn mark_processed(
        &mut self,
        handler: &str,
        event: EventId,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "INSERT INTO processed_events (handler, event_id, processed_at) VALUES (?, ?, ?) \
             ON CONFLICT (handler, event_id) DO NOTHING",
        )
        .bind(handler)
        .bind(id(event))
        .bind(ts(now))
        .execute(self.conn())
        .await
        .map_err(db_err)?;
        Ok(done.rows_affected() == 1)
    }
}

#[async_trait]
impl StatisticsRepository for SqliteUow {
    async fn add_to_buckets(
        &mut self,
        user: UserId,
        keys: &[BucketKey],
        delta: &StatsDelta,
    ) -> StoreResult<()> {
        let cols = Counter::columns().join(", ");
        let sums = Counter::columns()
            .iter()
            .map(|c| format!("{c} = {c} + excluded.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let bucket_sql = format!(
            "INSERT INTO stats_buckets (user_id, granularity, bucket_start, {cols}, \
             {LONGEST_BINGE}) VALUES ({marks}) \
             ON CONFLICT (user_id, granularity, bucket_start) DO UPDATE SET {sums}, \
             {LONGEST_BINGE} = MAX({LONGEST_BINGE}, excluded.{LONGEST_BINGE})",
            // user, granularity, start, the summed counters, longest_binge.
            marks = vec!["?"; Counter::SUMMED.len() + 4].join(", ")
        );
        for key in keys {
            let mut q = dynamic(bucket_sql.clone())
                .bind(id(user))
                .bind(key.granularity.as_str())
                .bind(ts(key.start));
            for v in delta.counters.summed_values() {
                q = q.bind(v);
            }
            q.bind(delta.counters.longest_binge)
                .execute(self.conn())
                .await
                .map_err(db_err)?;
            for ((dimension, key_name), t) in &delta.dimensions {
                sqlx::query(
                    "INSERT INTO stats_bucket_dimensions (user_id, granularity, bucket_start, \
                     dimension, dim_key, count, minutes) VALUES (?, ?, ?, ?, ?, ?, ?) \
                     ON CONFLICT (user_id, granularity, bucket_start, dimension, dim_key) \
                     DO UPDATE SET count = count + excluded.count, \
                     minutes = minutes + excluded.minutes",
                )
                .bind(id(user))
                .bind(key.granularity.as_str())
                .bind(ts(key.start))
                .bind(dimension.as_str())
                .bind(key_name)
                .bind(t.count)
                .bind(t.minutes)
                .execute(self.conn())
                .await
                .map_err(db_err)?;
            }
        }
        Ok(())
    }

    async fn read_buckets(
        &mut self,
        user: UserId,
        spans: &[BucketSpan],
    ) -> StoreResult<StatsDelta> {
        let sums = Counter::columns()
            .iter()
            .map(|c| format!("COALESCE(SUM({c}), 0) AS {c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let where_span =
            "user_id = ? AND granularity = ? AND bucket_start >= ? AND bucket_start < ?";
        let mut total = StatsDelta::default();
        for span in spans {
            let row = dynamic(format!(
                "SELECT {sums}, COALESCE(MAX({LONGEST_BINGE}), 0) AS {LONGEST_BINGE} \
                 FROM stats_buckets WHERE {where_span}"
            ))
            .bind(id(user))
            .bind(span.granularity.as_str())
            .bind(ts(span.from))
            .bind(ts(span.to))
            .fetch_one(self.conn())
            .await
            .map_err(db_err)?;
            let c = StatsCounters::read(|col| row.int(col))?;
            total.counters.combine(&c);
            let dims = dynamic(format!(
                "SELECT dimension, dim_key, SUM(count) AS count, SUM(minutes) AS minutes \
                 FROM stats_bucket_dimensions WHERE {where_span} GROUP BY dimension, dim_key"
            ))
            .bind(id(user))
            .bind(span.granularity.as_str())
            .bind(ts(span.from))
            .bind(ts(span.to))
            .fetch_all(self.conn())
            .await
            .map_err(db_err)?;
            for d in &dims {
                let dimension = name("dimension", d.text("dimension")?, Dimension::parse)?;
                let t = Tally {
                    count: d.int("count")?,
                    minutes: d.int("minutes")?,
                };
                total.tally(dimension, &d.text("dim_key")?, t.count, t.minutes);
            }
        }
        Ok(total)
    }

    async fn binge_stat(&mut self, session: BingeSessionId) -> StoreResult<Option<BingeStat>> {
        let row = sqlx::query(
            "SELECT session_id, user_id, start, episodes FROM stats_binge_sessions \
             WHERE session_id = ?",
        )
        .bind(id(session))
        .fetch_optional(self.conn())
        .await
        .map_err(db_err)?;
        row.map(|r| {
            Ok(BingeStat {
                session_id: BingeSessionId::from(r.uuid("session_id")?),
                user_id: UserId::from(r.uuid("user_id")?),
                start: r.instant("start")?,
                episodes: r.u32("episodes")?,
            })
        })
        .transpose()
    }

    async fn save_binge_stat(&mut self, stat: &BingeStat) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO stats_binge_sessions (session_id, user_id, start, episodes) \
             VALUES (?, ?, ?, ?) ON CONFLICT (session_id) DO UPDATE SET \
             user_id = excluded.user_id, start = excluded.start, episodes = excluded.episodes",
        )
        .bind(id(stat.session_id))
        .bind(id(stat.user_id))
        .bind(ts(stat.start))
        .bind(i64::from(stat.episodes))
        .execute(self.conn())
        .await
        .map_err(db_err)?;
        Ok(())
    }
}

#[async_trait]
impl AchievementRepository for SqliteUow {
    async fn bump_counter(&mut self, user: UserId, counter: &str, by: i64) -> StoreResult<i64> {
        let row = sqlx::query(
            "INSERT INTO achievement_counters (user_id, counter, value) VALUES (?, ?, ?) \
             ON CONFLICT (user_id, counter) DO UPDATE SET value = value + excluded.value \
             RETURNING value",
        )
        .bind(id(user))
        .bind(counter)
        .bind(by)
        .fetch_one(self.conn())
        .await
        .map_err(db_err)?;
        row.int("value")
    }

    async fn unlock_achievement(&mut self, a: &Achievement) -> StoreResult<bool> {
        let done = sqlx::query(
            "INSERT INTO achievements (user_id, code, title, unlocked_at) VALUES (?, ?, ?, ?) \
             ON CONFLICT (user_id, code) DO NOTHING",
        )
        .bind(id(a.user_id))
        .bind(&a.code)
        .bind(&a.title)
        .bind(ts(a.unlocked_at))
        .execute(self.conn())
        .await
        .map_err(db_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn achievements(&mut self, user: UserId) -> StoreResult<Vec<Achievement>> {
        let rows = sqlx::query(
            "SELECT code, title, unlocked_at FROM achievements WHERE user_id = ? \
             ORDER BY unlocked_at, code",
        )
        .bind(id(user))
        .fetch_all(self.conn())
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(Achievement {
                    user_id: user,
                    code: r.text("code")?,
                    title: r.text("title")?,
                    unlocked_at: r.instant("unlocked_at")?,
                })
            })
            .collect()
    }
}

fn watchlist_item(user: UserId, r: &SqliteRow) -> StoreResult<WatchlistItem> {
    Ok(WatchlistItem {
        user_id: user,
        content_id: r.uuid("content_id")?,
        item_type: name("item_type", r.text("item_type")?, ItemType::parse)?,
        added_at: r.instant("added_at")?,
    })
}

#[async_trait]
impl WatchlistRepository for SqliteUow {
    async fn add_to_watchlist(
        &mut self,
        item: &WatchlistItem,
    ) -> StoreResult<(WatchlistItem, bool)> {
        let done = sqlx::query(
            "INSERT INTO watchlist (user_id, content_id, item_type, added_at) VALUES (?, ?, ?, ?) \
             ON CONFLICT (user_id, content_id) DO NOTHING",
        )
        .bind(id(item.user_id))
        .bind(id(item.content_id))
        .bind(item.item_type.as_str())
        .bind(ts(item.added_at))
        .execute(self.conn())
        .await
        .map_err(db_err)?;
        let row = sqlx::query(
            "SELECT content_id, item_type, added_at FROM watchlist \
             WHERE user_id = ? AND content_id = ?",
        )
        .bind(id(item.user_id))
        .bind(id(item.content_id))
        .fetch_one(self.conn())
        .await
        .map_err(db_err)?;
        Ok((
            watchlist_item(item.user_id, &row)?,
            done.rows_affected() == 1,
        ))
    }

    async fn remove_from_watchlist(
        &mut self,
        user: UserId,
        content: uuid::Uuid,
    ) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM watchlist WHERE user_id = ? AND content_id = ?")
            .bind(id(user))
            .bind(id(content))
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn watchlist(&mut self, user: UserId) -> StoreResult<Vec<WatchlistItem>> {
        let rows = sqlx::query(
            "SELECT content_id, item_type, added_at FROM watchlist WHERE user_id = ? \
             ORDER BY added_at DESC, content_id DESC",
        )
        .bind(id(user))
        .fetch_all(self.conn())
        .await
        .map_err(db_err)?;
        rows.iter().map(|r| watchlist_item(user, r)).collect()
    }
}

const REMINDER_COLS: &str = "user_id, show_id, id, episode_id, season_number, episode_number, \
     last_watch_at, due_at, status, attempts, sent_at, updated_at";

fn reminder(r: &SqliteRow) -> StoreResult<Reminder> {
    Ok(Reminder {
        id: r.uuid("id")?,
        user_id: UserId::from(r.uuid("user_id")?),
        show_id: ShowId::from(r.uuid("show_id")?),
        episode_id: r.uuid("episode_id")?.into(),
        season_number: r.u32("season_number")?,
        episode_number: r.u32("episode_number")?,
        last_watch_at: r.instant("last_watch_at")?,
        due_at: r.instant("due_at")?,
        status: name("status", r.text("status")?, ReminderStatus::parse)?,
        attempts: r.u32("attempts")?,
        sent_at: r.instant_opt("sent_at")?,
        updated_at: r.instant("updated_at")?,
    })
}

#[async_trait]
impl ReminderRepository for SqliteUow {
    async fn reminder(&mut self, user: UserId, show: ShowId) -> StoreResult<Option<Reminder>> {
        let row = dynamic(format!(
            "SELECT {REMINDER_COLS} FROM reminders WHERE user_id = ? AND show_id = ?"
        ))
        .bind(id(user))
        .bind(id(show))
        .fetch_optional(self.conn())
        .await
        .map_err(db_err)?;
        row.as_ref().map(reminder).transpose()
    }

    async fn save_reminder(&mut self, r: &Reminder) -> StoreResult<()> {
        dynamic(format!(
            "INSERT OR REPLACE INTO reminders ({REMINDER_COLS}) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ))
        .bind(id(r.user_id))
        .bind(id(r.show_id))
        .bind(id(r.id))
        .bind(id(r.episode_id))
        .bind(i64::from(r.season_number))
        .bind(i64::from(r.episode_number))
        .bind(ts(r.last_watch_at))
        .bind(ts(r.due_at))
        .bind(r.status.as_str())
        .bind(i64::from(r.attempts))
        .bind(ts_opt(r.sent_at))
        .bind(ts(r.updated_at))
        .execute(self.conn())
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn reminders(&mut self, user: UserId) -> StoreResult<Vec<Reminder>> {
        let rows = dynamic(format!(
            "SELECT {REMINDER_COLS} FROM reminders WHERE user_id = ? ORDER BY due_at, show_id"
        ))
        .bind(id(user))
        .fetch_all(self.conn())
        .await
        .map_err(db_err)?;
        rows.iter().map(reminder).collect()
    }

    async fn due_reminders(
        &mut self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<Reminder>> {
        let rows = dynamic(format!(
            "SELECT {REMINDER_COLS} FROM reminders WHERE status = 'scheduled' AND due_at <= ? \
             ORDER BY due_at, user_id, show_id LIMIT ?"
        ))
        .bind(ts(now))
        .bind(i64::from(limit))
        .fetch_all(self.conn())
        .await
        .map_err(db_err)?;
        rows.iter().map(reminder).collect()
    }
}

#[async_trait]
impl PreferenceRepository for SqliteUow {
    async fn add_genre_points(
        &mut self,
        user: UserId,
        genre: &str,
        points: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO genre_scores (user_id, genre, points) VALUES (?, ?, ?) \
             ON CONFLICT (user_id, genre) DO UPDATE SET points = points + excluded.points",
        )
        .bind(id(user))
        .bind(genre)
        .bind(points)
        .execute(self.conn())
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn genre_scores(&mut self, user: UserId) -> StoreResult<Vec<GenreScore>> {
        let rows = sqlx::query("SELECT genre, points FROM genre_scores WHERE user_id = ?")
            .bind(id(user))
            .fetch_all(self.conn())
            .await
            .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(GenreScore {
                    genre: r.text("genre")?,
                    points: r.int("points")?,
                })
            })
            .collect()
    }
}
