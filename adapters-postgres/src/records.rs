//! Viewing records: the seed's `ViewingRecords`, `EpisodeViewingRecords` and
//! `ViewingCompanions`, and the history query.

use std::collections::HashMap;

use adapters_sql::decode;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{Postgres, QueryBuilder};
use uuid::Uuid;
use viewing_domain::ports::{
    HistoryFilter, HistoryPaging, HistorySlice, StoreResult, ViewingRecordRepository,
};
use viewing_domain::values::{Platform, ViewingContext, ViewingLocation};
use viewing_domain::{BingeSessionId, RecordId, ShowId, UserId, ViewingRecord, Watched};

use crate::codec::{corrupt, db_err, get, int};
use crate::uow::PgUow;

/// Every column a [`ViewingRecord`] is rebuilt from, companions (in order) included, as a
/// literal so `concat!` can extend it.
macro_rules! select_records {
    () => {
        "SELECT r.id, r.user_id, r.content_id, r.content_type, r.watch_date, \
         r.viewing_platform, r.viewing_location, r.viewing_context, r.is_rewatch, \
         r.viewing_duration, r.binge_session_id, r.binge_session_pinned, r.backfilled, \
         r.created_at, r.origin, e.show_id, e.season_number, e.episode_number, \
         ARRAY(SELECT c.companion_name FROM viewing_companions c \
               WHERE c.viewing_record_id = r.id ORDER BY c.position) AS companions \
         FROM viewing_records r LEFT JOIN episode_viewing_records e ON e.id = r.id"
    };
}

const RECORD_BY_ID: &str = concat!(select_records!(), " WHERE r.id = $1 AND r.user_id = $2");

const RECORDS_OF_CONTENT: &str = concat!(
    select_records!(),
    " WHERE r.content_id = $1 AND r.user_id = $2 ORDER BY r.watch_date, r.id"
);

/// Through the `(user_id, show_id)` index of the episode details.
const EPISODE_RECORDS: &str = concat!(
    select_records!(),
    " WHERE e.user_id = $1 AND e.show_id = $2 ORDER BY r.watch_date, r.id"
);

fn decode_record(row: &PgRow) -> StoreResult<ViewingRecord> {
    let companions: Vec<String> = get(row, "companions")?;
    decode::viewing_record(row, &companions)
}

/// Through the `(user_id, show_id)` index of the episode details, one range per show.
const EPISODE_RECORDS_OF_SHOWS: &str = concat!(
    select_records!(),
    " WHERE e.user_id = $1 AND e.show_id = ANY($2) ORDER BY e.show_id, r.watch_date, r.id"
);

/// Through the `(user_id, show_id)` index of the episode details, one range per key.
const EPISODE_RECORDS_OF_USER_SHOWS: &str = concat!(
    select_records!(),
    " WHERE (e.user_id, e.show_id) IN (SELECT * FROM UNNEST($1::uuid[], $2::uuid[])) \
     ORDER BY e.user_id, e.show_id, r.watch_date, r.id"
);

/// Appends the history filter's conditions (everything but paging).
fn push_filter(q: &mut QueryBuilder<Postgres>, user: UserId, filter: &HistoryFilter) {
    q.push(" WHERE r.user_id = ").push_bind(user.as_uuid());
    if let Some(from) = filter.from {
        q.push(" AND r.watch_date >= ").push_bind(from);
    }
    if let Some(to) = filter.to {
        q.push(" AND r.watch_date < ").push_bind(to);
    }
    if let Some(t) = filter.content_type {
        q.push(" AND r.content_type = ").push_bind(t.as_str());
    }
    if let Some(p) = &filter.platform {
        // lower() would fold non-ASCII letters by locale; the port compares ASCII only.
        q.push(
            " AND translate(r.viewing_platform, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', \
             'abcdefghijklmnopqrstuvwxyz') = ",
        )
        .push_bind(p.to_ascii_lowercase());
    }
}

#[async_trait]
impl ViewingRecordRepository for PgUow {
    #[tracing::instrument(level = "debug", skip_all)]
    async fn insert_record(&mut self, record: &ViewingRecord) -> StoreResult<()> {
        let duration = record.viewing_duration.map(|m| int(m.get())).transpose()?;
        let session = record.binge_session_id.map(|s| s.as_uuid());
        sqlx::query(
            "INSERT INTO viewing_records (id, user_id, content_id, content_type, watch_date, \
             viewing_platform, viewing_location, viewing_context, is_rewatch, viewing_duration, \
             binge_session_id, binge_session_pinned, backfilled, created_at, origin) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(record.id.as_uuid())
        .bind(record.user_id.as_uuid())
        .bind(record.watched.content_id())
        .bind(record.watched.content_type().as_str())
        .bind(record.watch_date)
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
        .bind(session)
        .bind(record.binge_session_pinned)
        .bind(record.backfilled)
        .bind(record.created_at)
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
                 viewing_duration, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(record.id.as_uuid())
            .bind(record.user_id.as_uuid())
            .bind(episode_id.as_uuid())
            .bind(show_id.as_uuid())
            .bind(int(season_number)?)
            .bind(int(episode_number)?)
            .bind(record.watch_date)
            .bind(record.platform.as_ref().map(Platform::as_str))
            .bind(session)
            .bind(duration)
            .bind(record.created_at)
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        }
        let names = record.watched_with.names();
        if !names.is_empty() {
            let ids: Vec<Uuid> = names.iter().map(|_| Uuid::now_v7()).collect();
            let names: Vec<&str> = names.iter().map(|n| n.as_str()).collect();
            sqlx::query(
                "INSERT INTO viewing_companions (id, viewing_record_id, position, \
                 companion_name, created_at) \
                 SELECT c.id, $1, c.ord - 1, c.name, $2 \
                 FROM UNNEST($3::uuid[], $4::text[]) WITH ORDINALITY AS c(id, name, ord)",
            )
            .bind(record.id.as_uuid())
            .bind(record.created_at)
            .bind(ids)
            .bind(names)
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
            "UPDATE viewing_records SET binge_session_id = $1 WHERE id = $2",
            "UPDATE episode_viewing_records SET binge_session_id = $1 WHERE id = $2",
        ] {
            sqlx::query(sql)
                .bind(session.map(|s| s.as_uuid()))
                .bind(record.as_uuid())
                .execute(self.conn())
                .await
                .map_err(db_err)?;
        }
        Ok(())
    }

    async fn record(&mut self, user: UserId, rid: RecordId) -> StoreResult<Option<ViewingRecord>> {
        sqlx::query(RECORD_BY_ID)
            .bind(rid.as_uuid())
            .bind(user.as_uuid())
            .fetch_optional(self.conn())
            .await
            .map_err(db_err)?
            .as_ref()
            .map(decode_record)
            .transpose()
    }

    /// Companions and episode details go with it (`ON DELETE CASCADE`).
    async fn delete_record(&mut self, user: UserId, rid: RecordId) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM viewing_records WHERE id = $1 AND user_id = $2")
            .bind(rid.as_uuid())
            .bind(user.as_uuid())
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn records_of_content(
        &mut self,
        user: UserId,
        content: Uuid,
    ) -> StoreResult<Vec<ViewingRecord>> {
        sqlx::query(RECORDS_OF_CONTENT)
            .bind(content)
            .bind(user.as_uuid())
            .fetch_all(self.conn())
            .await
            .map_err(db_err)?
            .iter()
            .map(decode_record)
            .collect()
    }

    async fn count_records_of(&mut self, user: UserId, content: Uuid) -> StoreResult<u64> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM viewing_records WHERE content_id = $1 AND user_id = $2",
        )
        .bind(content)
        .bind(user.as_uuid())
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
            .bind(user.as_uuid())
            .bind(show.as_uuid())
            .fetch_all(self.conn())
            .await
            .map_err(db_err)?;
        rows.iter().map(decode_record).collect()
    }

    #[tracing::instrument(level = "debug", skip_all, fields(keys = keys.len()))]
    async fn episode_records_of_user_shows(
        &mut self,
        keys: &[(UserId, ShowId)],
    ) -> StoreResult<HashMap<(UserId, ShowId), Vec<ViewingRecord>>> {
        if keys.is_empty() {
            return Ok(HashMap::new());
        }
        let (users, shows): (Vec<Uuid>, Vec<Uuid>) =
            keys.iter().map(|(u, s)| (u.as_uuid(), s.as_uuid())).unzip();
        let rows = sqlx::query(EPISODE_RECORDS_OF_USER_SHOWS)
            .bind(&users)
            .bind(&shows)
            .fetch_all(self.conn())
            .await
            .map_err(db_err)?;
        let records = rows
            .iter()
            .map(decode_record)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(decode::by_user_show(records))
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
        let ids: Vec<Uuid> = shows.iter().map(|s| s.as_uuid()).collect();
        let rows = sqlx::query(EPISODE_RECORDS_OF_SHOWS)
            .bind(user.as_uuid())
            .bind(&ids)
            .fetch_all(self.conn())
            .await
            .map_err(db_err)?;
        for row in &rows {
            let record = decode_record(row)?;
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
        let mut count = QueryBuilder::<Postgres>::new("SELECT COUNT(*) FROM viewing_records r");
        push_filter(&mut count, user, filter);
        let total: i64 = count
            .build_query_scalar()
            .fetch_one(self.conn())
            .await
            .map_err(db_err)?;

        let mut q = QueryBuilder::<Postgres>::new(select_records!());
        push_filter(&mut q, user, filter);
        let (limit, offset) = match paging {
            HistoryPaging::Page { page, limit } => {
                (limit, i64::from(page.saturating_sub(1)) * i64::from(limit))
            }
            HistoryPaging::First { limit } => (limit, 0),
            HistoryPaging::After { cursor, limit } => {
                // A row comparison: an index range scan on (user_id, watch_date, id).
                let at: DateTime<Utc> = cursor.watch_date;
                q.push(" AND (r.watch_date, r.id) < (")
                    .push_bind(at)
                    .push(", ")
                    .push_bind(cursor.id.as_uuid())
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
            items: rows.iter().map(decode_record).collect::<StoreResult<_>>()?,
            total_items: u64::try_from(total).map_err(|e| corrupt("history count", e))?,
        })
    }
}
