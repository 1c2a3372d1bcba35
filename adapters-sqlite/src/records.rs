//! Viewing records: the seed's `ViewingRecords`, `EpisodeViewingRecords` and
//! `ViewingCompanions`, and the history query.

use std::collections::HashMap;

use adapters_sql::decode;
use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Sqlite};
use viewing_domain::ports::{
    HistoryFilter, HistoryPaging, HistorySlice, StoreResult, ViewingRecordRepository,
};
use viewing_domain::values::{Platform, ViewingContext, ViewingLocation};
use viewing_domain::{BingeSessionId, RecordId, ShowId, UserId, ViewingRecord, Watched};

use crate::codec::{RowExt, corrupt, db_err, id, id_list, id_opt, ts};
use crate::uow::SqliteUow;

/// Every column a [`ViewingRecord`] is rebuilt from (companions come from their own table),
/// as a literal so `concat!` can extend it.
macro_rules! select_records {
    () => {
        "SELECT r.id, r.user_id, r.content_id, r.content_type, r.watch_date, \
         r.viewing_platform, r.viewing_location, r.viewing_context, r.is_rewatch, \
         r.viewing_duration, r.binge_session_id, r.binge_session_pinned, r.backfilled, \
         r.created_at, r.origin, e.show_id, e.season_number, e.episode_number \
         FROM viewing_records r LEFT JOIN episode_viewing_records e ON e.id = r.id"
    };
}

const RECORD_BY_ID: &str = concat!(select_records!(), " WHERE r.id = ? AND r.user_id = ?");

const RECORDS_OF_CONTENT: &str = concat!(
    select_records!(),
    " WHERE r.content_id = ? AND r.user_id = ? ORDER BY r.watch_date, r.id"
);

/// The columns of [`EPISODE_RECORDS`] and [`EPISODE_RECORDS_OF_SHOWS`], driven by the episode
/// details.
macro_rules! select_episode_records {
    () => {
        "SELECT r.id, r.user_id, r.content_id, r.content_type, \
         r.watch_date, r.viewing_platform, r.viewing_location, r.viewing_context, r.is_rewatch, \
         r.viewing_duration, r.binge_session_id, r.binge_session_pinned, r.backfilled, \
         r.created_at, r.origin, e.show_id, e.season_number, e.episode_number \
         FROM episode_viewing_records e JOIN viewing_records r ON r.id = e.id"
    };
}

/// Through the `(user_id, show_id)` index of the episode details.
const EPISODE_RECORDS: &str = concat!(
    select_episode_records!(),
    " WHERE e.user_id = ? AND e.show_id = ? ORDER BY r.watch_date, r.id"
);

/// Through the `(user_id, show_id)` index of the episode details, one range per show.
const EPISODE_RECORDS_OF_SHOWS: &str = concat!(
    select_episode_records!(),
    " WHERE e.user_id = ? AND e.show_id IN (SELECT value FROM json_each(?)) \
     ORDER BY e.show_id, r.watch_date, r.id"
);

/// Through the `(user_id, show_id)` index of the episode details, one range per key.
const EPISODE_RECORDS_OF_USER_SHOWS: &str = concat!(
    select_episode_records!(),
    " WHERE (e.user_id, e.show_id) IN (SELECT value ->> 0, value ->> 1 FROM json_each(?)) \
     ORDER BY e.user_id, e.show_id, r.watch_date, r.id"
);

impl SqliteUow {
    /// Rebuilds records from rows, with their companions in the order they were given.
    async fn with_companions(&mut self, rows: Vec<SqliteRow>) -> StoreResult<Vec<ViewingRecord>> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let ids = rows
            .iter()
            .map(|r| r.uuid("id"))
            .collect::<StoreResult<Vec<_>>>()?;
        let companion_rows = sqlx::query(
            "SELECT viewing_record_id, companion_name FROM viewing_companions \
             WHERE viewing_record_id IN (SELECT value FROM json_each(?)) \
             ORDER BY viewing_record_id, position",
        )
        .bind(id_list(ids))
        .fetch_all(self.conn())
        .await
        .map_err(db_err)?;
        let mut companions: HashMap<uuid::Uuid, Vec<String>> = HashMap::new();
        for c in &companion_rows {
            companions
                .entry(c.uuid("viewing_record_id")?)
                .or_default()
                .push(c.text("companion_name")?);
        }
        rows.iter()
            .map(|r| {
                let names = companions
                    .get(&r.uuid("id")?)
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                decode::viewing_record(r, names)
            })
            .collect()
    }
}

/// Appends the history filter's conditions (everything but paging).
fn push_filter(q: &mut QueryBuilder<Sqlite>, user: UserId, filter: &HistoryFilter) {
    q.push(" WHERE r.user_id = ").push_bind(id(user));
    if let Some(from) = filter.from {
        q.push(" AND r.watch_date >= ").push_bind(ts(from));
    }
    if let Some(to) = filter.to {
        q.push(" AND r.watch_date < ").push_bind(ts(to));
    }
    if let Some(t) = filter.content_type {
        q.push(" AND r.content_type = ").push_bind(t.as_str());
    }
    if let Some(p) = &filter.platform {
        // SQLite's lower() folds ASCII letters only: exactly the port's comparison.
        q.push(" AND lower(r.viewing_platform) = ")
            .push_bind(p.to_ascii_lowercase());
    }
}

#[async_trait]
impl ViewingRecordRepository for SqliteUow {
    #[tracing::instrument(level = "debug", skip_all)]
    async fn insert_record(&mut self, record: &ViewingRecord) -> StoreResult<()> {
        let record_id = id(record.id);
        let duration = record.viewing_duration.map(|m| i64::from(m.get()));
        let session = id_opt(record.binge_session_id);
        sqlx::query(
            "INSERT INTO viewing_records (id, user_id, content_id, content_type, watch_date, \
             viewing_platform, viewing_location, viewing_context, is_rewatch, viewing_duration, \
             binge_session_id, binge_session_pinned, backfilled, created_at, origin) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&record_id)
        .bind(id(record.user_id))
        .bind(id(record.watched.content_id()))
        .bind(record.watched.content_type().as_str())
        .bind(ts(record.watch_date))
        .bind(record.platform.as_ref().map(Platform::as_str))
        .bind(
            record
                .viewing_location
                .as_ref()
                .map(ViewingLocation::as_str),
        )
        .bind(record.viewing_context.as_ref().map(ViewingContext::as_str))
        .bind(record.is_rewatch)
        .bind(duration)
        .bind(&session)
        .bind(record.binge_session_pinned)
        .bind(record.backfilled)
        .bind(ts(record.created_at))
        .bind(record.origin.as_str())
        .execute(self.conn())
        .await
        .map_err(db_err)?;
        if let Watched::Episode {
            episode_id,
            show_id,
            season_number,
            episode_number,
        } = record.watched
        {
            sqlx::query(
                "INSERT INTO episode_viewing_records (id, user_id, episode_id, show_id, \
                 season_number, episode_number, watch_date, platform, binge_session_id, \
                 viewing_duration, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(&record_id)
            .bind(id(record.user_id))
            .bind(id(episode_id))
            .bind(id(show_id))
            .bind(i64::from(season_number))
            .bind(i64::from(episode_number))
            .bind(ts(record.watch_date))
            .bind(record.platform.as_ref().map(Platform::as_str))
            .bind(&session)
            .bind(duration)
            .bind(ts(record.created_at))
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        }
        for (position, name) in record.watched_with.names().iter().enumerate() {
            sqlx::query(
                "INSERT INTO viewing_companions (id, viewing_record_id, position, \
                 companion_name, created_at) VALUES (?, ?, ?, ?, ?)",
            )
            .bind(id(uuid::Uuid::now_v7()))
            .bind(&record_id)
            .bind(position as i64)
            .bind(name.as_str())
            .bind(ts(record.created_at))
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        }
        Ok(())
    }

    async fn set_binge_session(
        &mut self,
        record: RecordId,
        session: Option<BingeSessionId>,
    ) -> StoreResult<()> {
        for sql in [
            "UPDATE viewing_records SET binge_session_id = ? WHERE id = ?",
            "UPDATE episode_viewing_records SET binge_session_id = ? WHERE id = ?",
        ] {
            sqlx::query(sql)
                .bind(id_opt(session))
                .bind(id(record))
                .execute(self.conn())
                .await
                .map_err(db_err)?;
        }
        Ok(())
    }

    async fn record(&mut self, user: UserId, rid: RecordId) -> StoreResult<Option<ViewingRecord>> {
        let rows = sqlx::query(RECORD_BY_ID)
            .bind(id(rid))
            .bind(id(user))
            .fetch_all(self.conn())
            .await
            .map_err(db_err)?;
        Ok(self.with_companions(rows).await?.into_iter().next())
    }

    /// Companions and episode details go with it (`ON DELETE CASCADE`).
    async fn delete_record(&mut self, user: UserId, rid: RecordId) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM viewing_records WHERE id = ? AND user_id = ?")
            .bind(id(rid))
            .bind(id(user))
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn records_of_content(
        &mut self,
        user: UserId,
        content: uuid::Uuid,
    ) -> StoreResult<Vec<ViewingRecord>> {
        let rows = sqlx::query(RECORDS_OF_CONTENT)
            .bind(id(content))
            .bind(id(user))
            .fetch_all(self.conn())
            .await
            .map_err(db_err)?;
        self.with_companions(rows).await
    }

    async fn count_records_of(&mut self, user: UserId, content: uuid::Uuid) -> StoreResult<u64> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM viewing_records WHERE content_id = ? AND user_id = ?",
        )
        .bind(id(content))
        .bind(id(user))
        .fetch_one(self.conn())
        .await
        .map_err(db_err)?;
        u64::try_from(n).map_err(|e| corrupt("record count", e))
    }

    #[tracing::instrument(level = "debug", skip_all, fields(%user))]
    async fn episode_records(
        &mut self,
        user: UserId,
        show: ShowId,
    ) -> StoreResult<Vec<ViewingRecord>> {
        let rows = sqlx::query(EPISODE_RECORDS)
            .bind(id(user))
            .bind(id(show))
            .fetch_all(self.conn())
            .await
            .map_err(db_err)?;
        self.with_companions(rows).await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(keys = keys.len()))]
    async fn episode_records_of_user_shows(
        &mut self,
        keys: &[(UserId, ShowId)],
    ) -> StoreResult<HashMap<(UserId, ShowId), Vec<ViewingRecord>>> {
        if keys.is_empty() {
            return Ok(HashMap::new());
        }
        let keys: Vec<_> = keys
            .iter()
            .map(|(u, s)| serde_json::json!([id(*u), id(*s)]))
            .collect();
        let rows = sqlx::query(EPISODE_RECORDS_OF_USER_SHOWS)
            .bind(serde_json::Value::Array(keys).to_string())
            .fetch_all(self.conn())
            .await
            .map_err(db_err)?;
        Ok(decode::by_user_show(self.with_companions(rows).await?))
    }

    #[tracing::instrument(level = "debug", skip_all, fields(%user, shows = shows.len()))]
    async fn episode_records_of_shows(
        &mut self,
        user: UserId,
        shows: &[ShowId],
    ) -> StoreResult<HashMap<ShowId, Vec<ViewingRecord>>> {
        let mut out: HashMap<ShowId, Vec<ViewingRecord>> = HashMap::new();
        if shows.is_empty() {
            return Ok(out);
        }
        let rows = sqlx::query(EPISODE_RECORDS_OF_SHOWS)
            .bind(id(user))
            .bind(id_list(shows.iter().copied()))
            .fetch_all(self.conn())
            .await
            .map_err(db_err)?;
        for record in self.with_companions(rows).await? {
            if let Some(show) = record.watched.show_id() {
                out.entry(show).or_default().push(record);
            }
        }
        Ok(out)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(%user))]
    async fn history(
        &mut self,
        user: UserId,
        filter: &HistoryFilter,
        paging: HistoryPaging,
    ) -> StoreResult<HistorySlice> {
        let mut count = QueryBuilder::<Sqlite>::new("SELECT COUNT(*) FROM viewing_records r");
        push_filter(&mut count, user, filter);
        let total: i64 = count
            .build_query_scalar()
            .fetch_one(self.conn())
            .await
            .map_err(db_err)?;

        let mut q = QueryBuilder::<Sqlite>::new(select_records!());
        push_filter(&mut q, user, filter);
        let (limit, offset) = match paging {
            HistoryPaging::Page { page, limit } => {
                (limit, i64::from(page.saturating_sub(1)) * i64::from(limit))
            }
            HistoryPaging::First { limit } => (limit, 0),
            HistoryPaging::After { cursor, limit } => {
                // `(watch_date, id) < (cursor)` spelled out so SQLite seeks the
                // (user_id, watch_date, id) index instead of filtering every row.
                let at = ts(cursor.watch_date);
                q.push(" AND r.watch_date <= ")
                    .push_bind(at.clone())
                    .push(" AND (r.watch_date < ")
                    .push_bind(at)
                    .push(" OR r.id < ")
                    .push_bind(id(cursor.id))
                    .push(")");
                (limit, 0)
            }
        };
        q.push(" ORDER BY r.watch_date DESC, r.id DESC LIMIT ")
            .push_bind(i64::from(limit))
            .push(" OFFSET ")
            .push_bind(offset);
        let rows = q.build().fetch_all(self.conn()).await.map_err(db_err)?;
        Ok(HistorySlice {
            items: self.with_companions(rows).await?,
            total_items: u64::try_from(total).map_err(|e| corrupt("history count", e))?,
        })
    }
}
