//! The statistics buckets on PostgreSQL (SPEC §6): the counters come from
//! [`viewing_domain::stats::Counter`], so a new statistic is a column and a variant, not SQL here.
//!
//! Every write is an `INSERT … ON CONFLICT` upsert, so two units of work adding to one row
//! queue on its row lock and both additions count (no read-modify-write race at READ
//! COMMITTED). Multi-row upserts insert in a fixed key order, so two units of work touching
//! the same rows lock them in the same order and cannot deadlock each other.

use std::collections::BTreeMap;

use adapters_sql::decode;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use viewing_domain::handler_ports::StatisticsRepository;
use viewing_domain::ports::StoreResult;
use viewing_domain::stats::{
    BingeStat, BucketKey, BucketSpan, Counter, LONGEST_BINGE, StatsCounters, StatsDelta,
};
use viewing_domain::{BingeSessionId, UserId};

use crate::codec::{RowExt, corrupt, db_err, dynamic, int};
use crate::uow::PgUow;

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
    #[tracing::instrument(level = "debug", skip_all, fields(%user))]
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

    /// Two statements for the whole batch: one upsert of every bucket row, one of every
    /// dimension tally, each an `UNNEST` of parallel arrays in the given (sorted) order.
    #[tracing::instrument(level = "debug", skip_all, fields(rows = rows.len()))]
    async fn add_to_bucket_rows(
        &mut self,
        rows: &[(UserId, BucketKey, StatsDelta)],
    ) -> StoreResult<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let users: Vec<uuid::Uuid> = rows.iter().map(|(u, _, _)| u.as_uuid()).collect();
        let granularities: Vec<&str> = rows
            .iter()
            .map(|(_, k, _)| k.granularity.as_str())
            .collect();
        let starts: Vec<DateTime<Utc>> = rows.iter().map(|(_, k, _)| k.start).collect();
        // One array per summed counter, then longest_binge.
        let mut counters: Vec<Vec<i64>> =
            vec![Vec::with_capacity(rows.len()); Counter::SUMMED.len()];
        let longest: Vec<i64> = rows
            .iter()
            .map(|(_, _, d)| d.counters.longest_binge)
            .collect();
        for (_, _, d) in rows {
            for (i, v) in d.counters.summed_values().into_iter().enumerate() {
                counters[i].push(v);
            }
        }
        let n = Counter::SUMMED.len();
        let cols = Counter::columns().join(", ");
        let arrays = (0..n)
            .map(|i| format!("${}::int8[]", i + 4))
            .collect::<Vec<_>>()
            .join(", ");
        let names = (0..n)
            .map(|i| format!("c{i}"))
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
             SELECT k.u, k.g, k.s, {names}, k.lb \
             FROM UNNEST($1::uuid[], $2::text[], $3::timestamptz[], {arrays}, ${lb}::int8[]) \
             WITH ORDINALITY AS k(u, g, s, {names}, lb, ord) ORDER BY k.ord \
             ON CONFLICT (user_id, granularity, bucket_start) DO UPDATE SET {sums}, \
             {LONGEST_BINGE} = GREATEST(stats_buckets.{LONGEST_BINGE}, excluded.{LONGEST_BINGE})",
            lb = n + 4,
        ))
        .bind(&users)
        .bind(&granularities)
        .bind(&starts);
        for c in &counters {
            q = q.bind(c);
        }
        q.bind(&longest)
            .execute(self.conn())
            .await
            .map_err(db_err)?;

        let (mut u, mut g, mut st, mut d, mut k, mut c, mut m) =
            (vec![], vec![], vec![], vec![], vec![], vec![], vec![]);
        for (user, key, delta) in rows {
            for ((dimension, dim_key), t) in &delta.dimensions {
                u.push(user.as_uuid());
                g.push(key.granularity.as_str());
                st.push(key.start);
                d.push(dimension.as_str());
                k.push(dim_key.as_str());
                c.push(t.count);
                m.push(t.minutes);
            }
        }
        if u.is_empty() {
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO stats_bucket_dimensions (user_id, granularity, bucket_start, \
             dimension, dim_key, count, minutes) \
             SELECT t.u, t.g, t.s, t.d, t.k, t.c, t.m \
             FROM UNNEST($1::uuid[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], \
             $6::int8[], $7::int8[]) WITH ORDINALITY AS t(u, g, s, d, k, c, m, ord) \
             ORDER BY t.ord \
             ON CONFLICT (user_id, granularity, bucket_start, dimension, dim_key) \
             DO UPDATE SET count = stats_bucket_dimensions.count + excluded.count, \
             minutes = stats_bucket_dimensions.minutes + excluded.minutes",
        )
        .bind(u)
        .bind(g)
        .bind(st)
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
    #[tracing::instrument(level = "debug", skip_all, fields(%user))]
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
        total.counters = StatsCounters::read(|col| row.int(col))?;
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
            decode::add_dimension(&mut total, d)?;
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
        row.as_ref().map(decode::binge_stat).transpose()
    }

    /// Through the `(user_id, start, episodes)` index.
    async fn longest_binge(
        &mut self,
        user: UserId,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> StoreResult<u32> {
        let n: Option<i32> = sqlx::query_scalar(
            "SELECT MAX(episodes) FROM stats_binge_sessions WHERE user_id = $1 \
             AND ($2::timestamptz IS NULL OR start >= $2) \
             AND ($3::timestamptz IS NULL OR start < $3)",
        )
        .bind(user.as_uuid())
        .bind(from)
        .bind(to)
        .fetch_one(self.conn())
        .await
        .map_err(db_err)?;
        u32::try_from(n.unwrap_or(0)).map_err(|e| corrupt("binge episodes", e))
    }

    async fn binge_stats(&mut self, sessions: &[BingeSessionId]) -> StoreResult<Vec<BingeStat>> {
        let ids: Vec<uuid::Uuid> = sessions.iter().map(|s| s.as_uuid()).collect();
        let rows = sqlx::query(
            "SELECT session_id, user_id, start, episodes FROM stats_binge_sessions \
             WHERE session_id = ANY($1)",
        )
        .bind(&ids)
        .fetch_all(self.conn())
        .await
        .map_err(db_err)?;
        rows.iter().map(decode::binge_stat).collect()
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
