//! The statistics buckets on SQLite (SPEC §6): the counters come from
//! [`viewing_domain::stats::Counter`], so a new statistic is a column and a variant, not SQL here.

use adapters_sql::decode;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use viewing_domain::handler_ports::StatisticsRepository;
use viewing_domain::ports::StoreResult;
use viewing_domain::stats::{
    BingeStat, BucketKey, BucketSpan, Counter, LONGEST_BINGE, StatsCounters, StatsDelta,
};
use viewing_domain::{BingeSessionId, UserId};

use crate::codec::{RowExt, corrupt, db_err, dynamic, id, ts};
use crate::uow::SqliteUow;

#[async_trait]
impl StatisticsRepository for SqliteUow {
    #[tracing::instrument(level = "debug", skip_all, fields(%user))]
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

    /// Two statements for the whole batch: the rows travel as one JSON array each (bucket
    /// rows, then dimension tallies), read back with `json_each` in the given order.
    #[tracing::instrument(level = "debug", skip_all, fields(rows = rows.len()))]
    async fn add_to_bucket_rows(
        &mut self,
        rows: &[(UserId, BucketKey, StatsDelta)],
    ) -> StoreResult<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let n = Counter::SUMMED.len();
        let cols = Counter::columns().join(", ");
        let picks = (0..n + 4)
            .map(|i| format!("value ->> {i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sums = Counter::columns()
            .iter()
            .map(|c| format!("{c} = {c} + excluded.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let buckets: Vec<serde_json::Value> = rows
            .iter()
            .map(|(user, key, delta)| {
                let mut row = vec![
                    serde_json::Value::from(id(*user)),
                    key.granularity.as_str().into(),
                    ts(key.start).into(),
                ];
                row.extend(delta.counters.summed_values().map(serde_json::Value::from));
                row.push(delta.counters.longest_binge.into());
                serde_json::Value::Array(row)
            })
            .collect();
        dynamic(format!(
            "INSERT INTO stats_buckets (user_id, granularity, bucket_start, {cols}, \
             {LONGEST_BINGE}) SELECT {picks} FROM json_each(?) WHERE true \
             ON CONFLICT (user_id, granularity, bucket_start) DO UPDATE SET {sums}, \
             {LONGEST_BINGE} = MAX({LONGEST_BINGE}, excluded.{LONGEST_BINGE})"
        ))
        .bind(serde_json::Value::Array(buckets).to_string())
        .execute(self.conn())
        .await
        .map_err(db_err)?;

        let tallies: Vec<serde_json::Value> = rows
            .iter()
            .flat_map(|(user, key, delta)| {
                delta
                    .dimensions
                    .iter()
                    .map(move |((dimension, dim_key), t)| {
                        serde_json::json!([
                            id(*user),
                            key.granularity.as_str(),
                            ts(key.start),
                            dimension.as_str(),
                            dim_key,
                            t.count,
                            t.minutes
                        ])
                    })
            })
            .collect();
        if tallies.is_empty() {
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO stats_bucket_dimensions (user_id, granularity, bucket_start, \
             dimension, dim_key, count, minutes) \
             SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, \
             value ->> 5, value ->> 6 FROM json_each(?) WHERE true \
             ON CONFLICT (user_id, granularity, bucket_start, dimension, dim_key) \
             DO UPDATE SET count = count + excluded.count, \
             minutes = minutes + excluded.minutes",
        )
        .bind(serde_json::Value::Array(tallies).to_string())
        .execute(self.conn())
        .await
        .map_err(db_err)?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all, fields(%user))]
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
                decode::add_dimension(&mut total, d)?;
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
        row.as_ref().map(decode::binge_stat).transpose()
    }

    /// Through the `(user_id, start, episodes)` index.
    async fn longest_binge(
        &mut self,
        user: UserId,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> StoreResult<u32> {
        let n: Option<i64> = sqlx::query_scalar(
            "SELECT MAX(episodes) FROM stats_binge_sessions WHERE user_id = ?1 \
             AND (?2 IS NULL OR start >= ?2) AND (?3 IS NULL OR start < ?3)",
        )
        .bind(id(user))
        .bind(from.map(ts))
        .bind(to.map(ts))
        .fetch_one(self.conn())
        .await
        .map_err(db_err)?;
        u32::try_from(n.unwrap_or(0)).map_err(|e| corrupt("binge episodes", e))
    }

    async fn binge_stats(&mut self, sessions: &[BingeSessionId]) -> StoreResult<Vec<BingeStat>> {
        let rows = sqlx::query(
            "SELECT session_id, user_id, start, episodes FROM stats_binge_sessions \
             WHERE session_id IN (SELECT value FROM json_each(?))",
        )
        .bind(crate::codec::id_list(sessions.iter().copied()))
        .fetch_all(self.conn())
        .await
        .map_err(db_err)?;
        rows.iter().map(decode::binge_stat).collect()
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
