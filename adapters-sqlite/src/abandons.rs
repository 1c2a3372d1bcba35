//! Abandon records.

use std::collections::HashMap;

use adapters_sql::decode;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use viewing_domain::ports::{AbandonRepository, StoreResult};
use viewing_domain::values::{AbandonReason, Rating};
use viewing_domain::{AbandonId, AbandonRecord, UserId};

use crate::codec::{db_err, id, id_list, ts, ts_opt};
use crate::uow::SqliteUow;

/// The columns an [`AbandonRecord`] is rebuilt from, as a literal for `concat!`. Decimals come
/// back as exact tenths / hundredths (`ROUND` absorbs binary floating point).
macro_rules! select_abandons {
    () => {
        "SELECT id, user_id, content_id, content_type, abandon_date, \
         CAST(ROUND(progress_percent * 100) AS INTEGER) AS progress_hundredths, \
         abandon_reason, CAST(ROUND(quality_rating * 10) AS INTEGER) AS quality_tenths, \
         would_retry, created_at FROM abandoned_content"
    };
}

#[async_trait]
impl AbandonRepository for SqliteUow {
    async fn insert_abandon(&mut self, a: &AbandonRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO abandoned_content (id, user_id, content_id, content_type, abandon_date, \
             progress_percent, abandon_reason, quality_rating, would_retry, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(id(a.id))
        .bind(id(a.user_id))
        .bind(id(a.item_id))
        .bind(a.item_type.as_str())
        .bind(ts(a.abandon_date))
        .bind(a.progress_percent.value())
        .bind(a.abandon_reason.as_ref().map(AbandonReason::as_str))
        .bind(a.quality_rating.map(Rating::value))
        .bind(a.would_retry)
        .bind(ts(a.created_at))
        .execute(self.conn())
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn delete_abandon(&mut self, user: UserId, aid: AbandonId) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM abandoned_content WHERE id = ? AND user_id = ?")
            .bind(id(aid))
            .bind(id(user))
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
        sqlx::query(concat!(select_abandons!(), " WHERE id = ? AND user_id = ?"))
            .bind(id(aid))
            .bind(id(user))
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
        item: uuid::Uuid,
    ) -> StoreResult<Option<AbandonRecord>> {
        sqlx::query(concat!(
            select_abandons!(),
            " WHERE user_id = ? AND content_id = ? \
             ORDER BY abandon_date DESC, created_at DESC, id DESC LIMIT 1",
        ))
        .bind(id(user))
        .bind(id(item))
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
        items: &[uuid::Uuid],
    ) -> StoreResult<HashMap<uuid::Uuid, AbandonRecord>> {
        let mut out: HashMap<uuid::Uuid, AbandonRecord> = HashMap::new();
        if items.is_empty() {
            return Ok(out);
        }
        // Through the (user_id, content_id) index; the newest of each item comes first.
        let rows = sqlx::query(concat!(
            select_abandons!(),
            " WHERE user_id = ? AND content_id IN (SELECT value FROM json_each(?)) \
             ORDER BY content_id, abandon_date DESC, created_at DESC, id DESC",
        ))
        .bind(id(user))
        .bind(id_list(items.iter().copied()))
        .fetch_all(self.conn())
        .await
        .map_err(db_err)?;
        for row in &rows {
            let a = decode::abandon_record(row)?;
            out.entry(a.item_id).or_insert(a);
        }
        Ok(out)
    }

    async fn abandons_between(
        &mut self,
        user: UserId,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> StoreResult<Vec<AbandonRecord>> {
        let rows = sqlx::query(concat!(
            select_abandons!(),
            " WHERE user_id = ?1 AND (?2 IS NULL OR abandon_date >= ?2) \
             AND (?3 IS NULL OR abandon_date < ?3) ORDER BY abandon_date DESC, id DESC",
        ))
        .bind(id(user))
        .bind(ts_opt(from))
        .bind(ts_opt(to))
        .fetch_all(self.conn())
        .await
        .map_err(db_err)?;
        rows.iter().map(decode::abandon_record).collect()
    }
}
