//! The event handlers' state on PostgreSQL (issue 5): statistics buckets, achievements, the
//! watchlist, continuation reminders and genre scores. Tables: `migrations/0002_events.sql`.
//!
//! Every write is an `INSERT … ON CONFLICT` upsert, so two units of work adding to one row
//! queue on its row lock and both additions count (no read-modify-write race at READ
//! COMMITTED). Multi-row upserts insert in a fixed key order, so two units of work touching
//! the same rows lock them in the same order and cannot deadlock each other.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use uuid::Uuid;
use viewing_domain::engagement::{
    Achievement, GenreScore, Reminder, ReminderStatus, WatchlistItem,
};
use viewing_domain::handler_ports::{
    AchievementRepository, PreferenceRepository, ReminderRepository, StatisticsRepository,
    WatchlistRepository,
};
use viewing_domain::ports::StoreResult;
use viewing_domain::stats::{
    BingeStat, BucketKey, BucketSpan, Counter, Dimension, LONGEST_BINGE, StatsCounters, StatsDelta,
};
use viewing_domain::{BingeSessionId, ItemType, ShowId, UserId};

use crate::codec::{corrupt, db_err, get, get_u32, int};
use crate::events::dynamic;
use crate::uow::PgUow;

/// A stored name of one of the domain's enums.
fn name<T>(col: &str, raw: String, parse: fn(&str) -> Option<T>) -> StoreResult<T> {
    parse(&raw).ok_or_else(|| corrupt(col, format!("unknown value {raw:?}")))
}

/// `keys` sorted, each with how many times it was given (a key given twice adds twice).
fn key_counts(keys: &[BucketKey]) -> BTreeMap<BucketKey, i64> {
    let mut out = BTreeMap::new();
    for k in keys {
        *out.entry(*k).or_insert(0) += 1;
    }
    out
}

#[async_trait]
impl StatisticsRepository for PgUow {
    /// Two statements whatever the number of buckets: one upsert of every bucket row, one of
    /// every dimension tally (`UNNEST` of parallel arrays).
    async fn add_to_buckets(
        &mut self,
        user: UserId,
        keys: &[BucketKey],
        delta: &StatsDelta,
    ) -> StoreResult<()> {
        let keys = key_counts(keys);
        if keys.is_empty() {
            return Ok(());
        }
        let granularities: Vec<&str> = keys.keys().map(|k| k.granularity.as_str()).collect();
        let starts: Vec<DateTime<Utc>> = keys.keys().map(|k| k.start).collect();
        let times: Vec<i64> = keys.values().copied().collect();

        let cols = Counter::columns().join(", ");
        // $5.. are the counters; each is multiplied by how many times its key was given.
        let values = (0..Counter::SUMMED.len())
            .map(|i| format!("${} * k.n", i + 5))
            .collect::<Vec<_>>()
            .join(", ");
        let sums = Counter::columns()
            .iter()
            .map(|c| format!("{c} = stats_buckets.{c} + excluded.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut q = dynamic(format!(
            "INSERT INTO stats_buckets (user_id, granularity, bucket_start, {cols}, \
             {LONGEST_BINGE}) \
             SELECT $1, k.g, k.s, {values}, ${longest} \
             FROM UNNEST($2::text[], $3::timestamptz[], $4::int8[]) WITH ORDINALITY \
             AS k(g, s, n, ord) ORDER BY k.ord \
             ON CONFLICT (user_id, granularity, bucket_start) DO UPDATE SET {sums}, \
             {LONGEST_BINGE} = GREATEST(stats_buckets.{LONGEST_BINGE}, excluded.{LONGEST_BINGE})",
            longest = Counter::SUMMED.len() + 5,
        ))
        .bind(user.as_uuid())
        .bind(&granularities)
        .bind(&starts)
        .bind(&times);
        for v in delta.counters.summed_values() {
            q = q.bind(v);
        }
        q.bind(delta.counters.longest_binge)
            .execute(self.conn())
            .await
            .map_err(db_err)?;

        if delta.dimensions.is_empty() {
            return Ok(());
        }
        let (mut g, mut s, mut d, mut k, mut c, mut m) =
            (vec![], vec![], vec![], vec![], vec![], vec![]);
        for (key, n) in &keys {
            for ((dimension, dim_key), t) in &delta.dimensions {
                g.push(key.granularity.as_str());
                s.push(key.start);
                d.push(dimension.as_str());
                k.push(dim_key.as_str());
                c.push(t.count * n);
                m.push(t.minutes * n);
            }
        }
        sqlx::query(
            "INSERT INTO stats_bucket_dimensions (user_id, granularity, bucket_start, \
             dimension, dim_key, count, minutes) \
             SELECT $1, t.g, t.s, t.d, t.k, t.c, t.m \
             FROM UNNEST($2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::int8[], \
             $7::int8[]) WITH ORDINALITY AS t(g, s, d, k, c, m, ord) ORDER BY t.ord \
             ON CONFLICT (user_id, granularity, bucket_start, dimension, dim_key) \
             DO UPDATE SET count = stats_bucket_dimensions.count + excluded.count, \
             minutes = stats_bucket_dimensions.minutes + excluded.minutes",
        )
        .bind(user.as_uuid())
        .bind(g)
        .bind(s)
        .bind(d)
        .bind(k)
        .bind(c)
        .bind(m)
        .execute(self.conn())
        .await
        .map_err(db_err)?;
        Ok(())
    }

    /// Two statements whatever the number of spans: the spans join as an `UNNEST` on the
    /// primary key's range `(user_id, granularity, bucket_start)`.
    async fn read_buckets(
        &mut self,
        user: UserId,
        spans: &[BucketSpan],
    ) -> StoreResult<StatsDelta> {
        let mut total = StatsDelta::default();
        if spans.is_empty() {
            return Ok(total);
        }
        let g: Vec<&str> = spans.iter().map(|s| s.granularity.as_str()).collect();
        let from: Vec<DateTime<Utc>> = spans.iter().map(|s| s.from).collect();
        let to: Vec<DateTime<Utc>> = spans.iter().map(|s| s.to).collect();
        const SPANS: &str = "JOIN UNNEST($2::text[], $3::timestamptz[], $4::timestamptz[]) \
             AS s(g, f, t) ON b.granularity = s.g AND b.bucket_start >= s.f \
             AND b.bucket_start < s.t WHERE b.user_id = $1";
        // SUM of BIGINT is NUMERIC in PostgreSQL: cast back.
        let sums = Counter::columns()
            .iter()
            .map(|c| format!("COALESCE(SUM(b.{c}), 0)::int8 AS {c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let row = dynamic(format!(
            "SELECT {sums}, COALESCE(MAX(b.{LONGEST_BINGE}), 0)::int8 AS {LONGEST_BINGE} \
             FROM stats_buckets b {SPANS}"
        ))
        .bind(user.as_uuid())
        .bind(&g)
        .bind(&from)
        .bind(&to)
        .fetch_one(self.conn())
        .await
        .map_err(db_err)?;
        total.counters = StatsCounters::read(|col| get(&row, col))?;
        let dims = dynamic(format!(
            "SELECT b.dimension, b.dim_key, SUM(b.count)::int8 AS count, \
             SUM(b.minutes)::int8 AS minutes FROM stats_bucket_dimensions b {SPANS} \
             GROUP BY b.dimension, b.dim_key"
        ))
        .bind(user.as_uuid())
        .bind(&g)
        .bind(&from)
        .bind(&to)
        .fetch_all(self.conn())
        .await
        .map_err(db_err)?;
        for d in &dims {
            let dimension = name("dimension", get(d, "dimension")?, Dimension::parse)?;
            let key: String = get(d, "dim_key")?;
            total.tally(dimension, &key, get(d, "count")?, get(d, "minutes")?);
        }
        Ok(total)
    }

    async fn binge_stat(&mut self, session: BingeSessionId) -> StoreResult<Option<BingeStat>> {
        let row = sqlx::query(
            "SELECT session_id, user_id, start, episodes FROM stats_binge_sessions \
             WHERE session_id = $1",
        )
        .bind(session.as_uuid())
        .fetch_optional(self.conn())
        .await
        .map_err(db_err)?;
        row.map(|r| {
            Ok(BingeStat {
                session_id: BingeSessionId::from(get::<Uuid>(&r, "session_id")?),
                user_id: UserId::from(get::<Uuid>(&r, "user_id")?),
                start: get(&r, "start")?,
                episodes: get_u32(&r, "episodes")?,
            })
        })
        .transpose()
    }

    async fn save_binge_stat(&mut self, stat: &BingeStat) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO stats_binge_sessions (session_id, user_id, start, episodes) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (session_id) DO UPDATE SET \
             user_id = excluded.user_id, start = excluded.start, episodes = excluded.episodes",
        )
        .bind(stat.session_id.as_uuid())
        .bind(stat.user_id.as_uuid())
        .bind(stat.start)
        .bind(int(stat.episodes)?)
        .execute(self.conn())
        .await
        .map_err(db_err)?;
        Ok(())
    }
}

#[async_trait]
impl AchievementRepository for PgUow {
    async fn bump_counter(&mut self, user: UserId, counter: &str, by: i64) -> StoreResult<i64> {
        let row = sqlx::query(
            "INSERT INTO achievement_counters (user_id, counter, value) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id, counter) DO UPDATE \
             SET value = achievement_counters.value + excluded.value RETURNING value",
        )
        .bind(user.as_uuid())
        .bind(counter)
        .bind(by)
        .fetch_one(self.conn())
        .await
        .map_err(db_err)?;
        get(&row, "value")
    }

    async fn unlock_achievement(&mut self, a: &Achievement) -> StoreResult<bool> {
        let done = sqlx::query(
            "INSERT INTO achievements (user_id, code, title, unlocked_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (user_id, code) DO NOTHING",
        )
        .bind(a.user_id.as_uuid())
        .bind(&a.code)
        .bind(&a.title)
        .bind(a.unlocked_at)
        .execute(self.conn())
        .await
        .map_err(db_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn achievements(&mut self, user: UserId) -> StoreResult<Vec<Achievement>> {
        let rows = sqlx::query(
            "SELECT code, title, unlocked_at FROM achievements WHERE user_id = $1 \
             ORDER BY unlocked_at, code",
        )
        .bind(user.as_uuid())
        .fetch_all(self.conn())
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(Achievement {
                    user_id: user,
                    code: get(r, "code")?,
                    title: get(r, "title")?,
                    unlocked_at: get(r, "unlocked_at")?,
                })
            })
            .collect()
    }
}

fn watchlist_item(user: UserId, r: &PgRow) -> StoreResult<WatchlistItem> {
    Ok(WatchlistItem {
        user_id: user,
        content_id: get(r, "content_id")?,
        item_type: name("item_type", get(r, "item_type")?, ItemType::parse)?,
        added_at: get(r, "added_at")?,
    })
}

#[async_trait]
impl WatchlistRepository for PgUow {
    async fn add_to_watchlist(
        &mut self,
        item: &WatchlistItem,
    ) -> StoreResult<(WatchlistItem, bool)> {
        let done = sqlx::query(
            "INSERT INTO watchlist (user_id, content_id, item_type, added_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (user_id, content_id) DO NOTHING",
        )
        .bind(item.user_id.as_uuid())
        .bind(item.content_id)
        .bind(item.item_type.as_str())
        .bind(item.added_at)
        .execute(self.conn())
        .await
        .map_err(db_err)?;
        let row = sqlx::query(
            "SELECT content_id, item_type, added_at FROM watchlist \
             WHERE user_id = $1 AND content_id = $2",
        )
        .bind(item.user_id.as_uuid())
        .bind(item.content_id)
        .fetch_one(self.conn())
        .await
        .map_err(db_err)?;
        Ok((
            watchlist_item(item.user_id, &row)?,
            done.rows_affected() == 1,
        ))
    }

    async fn remove_from_watchlist(&mut self, user: UserId, content: Uuid) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM watchlist WHERE user_id = $1 AND content_id = $2")
            .bind(user.as_uuid())
            .bind(content)
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn watchlist(&mut self, user: UserId) -> StoreResult<Vec<WatchlistItem>> {
        let rows = sqlx::query(
            "SELECT content_id, item_type, added_at FROM watchlist WHERE user_id = $1 \
             ORDER BY added_at DESC, content_id DESC",
        )
        .bind(user.as_uuid())
        .fetch_all(self.conn())
        .await
        .map_err(db_err)?;
        rows.iter().map(|r| watchlist_item(user, r)).collect()
    }
}

const REMINDER_COLS: &str = "user_id, show_id, id, episode_id, season_number, episode_number, \
     last_watch_at, due_at, status, attempts, sent_at, updated_at";

fn reminder(r: &PgRow) -> StoreResult<Reminder> {
    Ok(Reminder {
        id: get(r, "id")?,
        user_id: UserId::from(get::<Uuid>(r, "user_id")?),
        show_id: ShowId::from(get::<Uuid>(r, "show_id")?),
        episode_id: get::<Uuid>(r, "episode_id")?.into(),
        season_number: get_u32(r, "season_number")?,
        episode_number: get_u32(r, "episode_number")?,
        last_watch_at: get(r, "last_watch_at")?,
        due_at: get(r, "due_at")?,
        status: name("status", get(r, "status")?, ReminderStatus::parse)?,
        attempts: get_u32(r, "attempts")?,
        sent_at: get(r, "sent_at")?,
        updated_at: get(r, "updated_at")?,
    })
}

#[async_trait]
impl ReminderRepository for PgUow {
    async fn reminder(&mut self, user: UserId, show: ShowId) -> StoreResult<Option<Reminder>> {
        let row = dynamic(format!(
            "SELECT {REMINDER_COLS} FROM reminders WHERE user_id = $1 AND show_id = $2"
        ))
        .bind(user.as_uuid())
        .bind(show.as_uuid())
        .fetch_optional(self.conn())
        .await
        .map_err(db_err)?;
        row.as_ref().map(reminder).transpose()
    }

    async fn save_reminder(&mut self, r: &Reminder) -> StoreResult<()> {
        dynamic(format!(
            "INSERT INTO reminders ({REMINDER_COLS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
             ON CONFLICT (user_id, show_id) DO UPDATE SET id = excluded.id, \
             episode_id = excluded.episode_id, season_number = excluded.season_number, \
             episode_number = excluded.episode_number, last_watch_at = excluded.last_watch_at, \
             due_at = excluded.due_at, status = excluded.status, attempts = excluded.attempts, \
             sent_at = excluded.sent_at, updated_at = excluded.updated_at"
        ))
        .bind(r.user_id.as_uuid())
        .bind(r.show_id.as_uuid())
        .bind(r.id)
        .bind(r.episode_id.as_uuid())
        .bind(int(r.season_number)?)
        .bind(int(r.episode_number)?)
        .bind(r.last_watch_at)
        .bind(r.due_at)
        .bind(r.status.as_str())
        .bind(int(r.attempts)?)
        .bind(r.sent_at)
        .bind(r.updated_at)
        .execute(self.conn())
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn reminders(&mut self, user: UserId) -> StoreResult<Vec<Reminder>> {
        let rows = dynamic(format!(
            "SELECT {REMINDER_COLS} FROM reminders WHERE user_id = $1 ORDER BY due_at, show_id"
        ))
        .bind(user.as_uuid())
        .fetch_all(self.conn())
        .await
        .map_err(db_err)?;
        rows.iter().map(reminder).collect()
    }

    /// `FOR UPDATE SKIP LOCKED`: replicas running the scheduler at once take disjoint
    /// reminders, and the ones returned stay locked until this unit of work ends.
    async fn due_reminders(
        &mut self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<Reminder>> {
        let rows = dynamic(format!(
            "SELECT {REMINDER_COLS} FROM reminders WHERE status = 'scheduled' AND due_at <= $1 \
             ORDER BY due_at, user_id, show_id LIMIT $2 FOR UPDATE SKIP LOCKED"
        ))
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(self.conn())
        .await
        .map_err(db_err)?;
        rows.iter().map(reminder).collect()
    }
}

#[async_trait]
impl PreferenceRepository for PgUow {
    async fn add_genre_points(
        &mut self,
        user: UserId,
        genre: &str,
        points: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO genre_scores (user_id, genre, points) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id, genre) DO UPDATE \
             SET points = genre_scores.points + excluded.points",
        )
        .bind(user.as_uuid())
        .bind(genre)
        .bind(points)
        .execute(self.conn())
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn genre_scores(&mut self, user: UserId) -> StoreResult<Vec<GenreScore>> {
        let rows = sqlx::query("SELECT genre, points FROM genre_scores WHERE user_id = $1")
            .bind(user.as_uuid())
            .fetch_all(self.conn())
            .await
            .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(GenreScore {
                    genre: get(r, "genre")?,
                    points: get(r, "points")?,
                })
            })
            .collect()
    }
}
