//! Abandon records.

use std::collections::HashMap;

use adapters_sql::decode;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;
use viewing_domain::ports::{AbandonRepository, StoreResult};
use viewing_domain::values::AbandonReason;
use viewing_domain::{AbandonId, AbandonRecord, UserId};

use crate::codec::db_err;
use crate::uow::PgUow;

/// The columns an [`AbandonRecord`] is rebuilt from, as a literal for `concat!`. NUMERIC
/// values come back as exact integer tenths / hundredths.
macro_rules! select_abandons {
    () => {
        "SELECT id, user_id, content_id, content_type, abandon_date, \
         (progress_percent * 100)::int4 AS progress_hundredths, abandon_reason, \
         (quality_rating * 10)::int4 AS quality_tenths, would_retry, created_at \
         FROM abandoned_content"
    };
}

#[async_trait]
impl AbandonRepository for PgUow {
    async fn insert_abandon(&mut self, a: &AbandonRecord) -> StoreResult<()> {
        // Exact decimals from integer tenths / hundredths, never through a float.
        sqlx::query(
            "INSERT INTO abandoned_content (id, user_id, content_id, content_type, abandon_date, \
             progress_percent, abandon_reason, quality_rating, would_retry, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6::int4 / 100.0, $7, $8::int4 / 10.0, $9, $10)",
        )
        .bind(a.id.as_uuid())
        .bind(a.user_id.as_uuid())
        .bind(a.item_id)
        .bind(a.item_type.as_str())
        .bind(a.abandon_date)
        .bind(i32::from(a.progress_percent.hundredths()))
        .bind(a.abandon_reason.as_ref().map(AbandonReason::as_str))
        .bind(a.quality_rating.map(|r| i32::from(r.tenths())))
        .bind(a.would_retry)
        .bind(a.created_at)
        .execute(self.conn())
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn delete_abandon(&mut self, user: UserId, aid: AbandonId) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM abandoned_content WHERE id = $1 AND user_id = $2")
            .bind(aid.as_uuid())
            .bind(user.as_uuid())
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn abandon_record(
        &mut self,
        user: UserId,
        aid: AbandonId,
    ) -> StoreResult<Option<AbandonRecord>> {
        sqlx::query(concat!(
            select_abandons!(),
            " WHERE id = $1 AND user_id = $2"
        ))
        .bind(aid.as_uuid())
        .bind(user.as_uuid())
        .fetch_optional(self.conn())
        .await
        .map_err(db_err)?
        .as_ref()
        .map(decode::abandon_record)
        .transpose()
    }

    async fn latest_abandon(
        &mut self,
        user: UserId,
        item: Uuid,
    ) -> StoreResult<Option<AbandonRecord>> {
        sqlx::query(concat!(
            select_abandons!(),
            " WHERE user_id = $1 AND content_id = $2 \
             ORDER BY abandon_date DESC, created_at DESC, id DESC LIMIT 1"
        ))
        .bind(user.as_uuid())
        .bind(item)
        .fetch_optional(self.conn())
        .await
        .map_err(db_err)?
        .as_ref()
        .map(decode::abandon_record)
        .transpose()
    }

    async fn latest_abandons(
        &mut self,
        user: UserId,
        items: &[Uuid],
    ) -> StoreResult<HashMap<Uuid, AbandonRecord>> {
        if items.is_empty() {
            return Ok(HashMap::new());
        }
        // Through the (user_id, content_id) index; the newest of each item.
        let rows = sqlx::query(concat!(
            "SELECT DISTINCT ON (content_id) * FROM (",
            select_abandons!(),
            " WHERE user_id = $1 AND content_id = ANY($2)) a \
             ORDER BY content_id, abandon_date DESC, created_at DESC, id DESC"
        ))
        .bind(user.as_uuid())
        .bind(items)
        .fetch_all(self.conn())
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|row| decode::abandon_record(row).map(|a| (a.item_id, a)))
            .collect()
    }

    async fn abandons_between(
        &mut self,
        user: UserId,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> StoreResult<Vec<AbandonRecord>> {
        let rows = sqlx::query(concat!(
            select_abandons!(),
            " WHERE user_id = $1 AND ($2::timestamptz IS NULL OR abandon_date >= $2) \
             AND ($3::timestamptz IS NULL OR abandon_date < $3) \
             ORDER BY abandon_date DESC, id DESC"
        ))
        .bind(user.as_uuid())
        .bind(from)
        .bind(to)
        .fetch_all(self.conn())
        .await
        .map_err(db_err)?;
        rows.iter().map(decode::abandon_record).collect()
    }
}
