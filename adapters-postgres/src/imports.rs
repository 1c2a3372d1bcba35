//! Imports (SPEC §12): each import, its rows' outcomes, and the source keys of its plays.

use std::collections::HashSet;

use adapters_sql::decode;
use async_trait::async_trait;
use uuid::Uuid;
use viewing_domain::imports::{Import, ImportItem, ImportLink, RowOutcome};
use viewing_domain::ports::{ImportRepository, StoreResult};
use viewing_domain::{ImportId, UserId};

use crate::codec::{RowExt, db_err};
use crate::uow::PgUow;

macro_rules! select_imports {
    () => {
        "SELECT id, user_id, source, status, created_at, rows_read, imported, duplicates, \
         unmatched, skipped, invalid FROM imports"
    };
}

#[async_trait]
impl ImportRepository for PgUow {
    async fn save_import(&mut self, i: &Import) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO imports (id, user_id, source, status, created_at, rows_read, imported, \
             duplicates, unmatched, skipped, invalid) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT (id) DO UPDATE SET status = excluded.status, \
             rows_read = excluded.rows_read, imported = excluded.imported, \
             duplicates = excluded.duplicates, unmatched = excluded.unmatched, \
             skipped = excluded.skipped, invalid = excluded.invalid",
        )
        .bind(i.id.as_uuid())
        .bind(i.user_id.as_uuid())
        .bind(i.source.as_str())
        .bind(i.status.as_str())
        .bind(i.created_at)
        .bind(i64::from(i.summary.rows))
        .bind(i64::from(i.summary.imported))
        .bind(i64::from(i.summary.duplicates))
        .bind(i64::from(i.summary.unmatched))
        .bind(i64::from(i.summary.skipped))
        .bind(i64::from(i.summary.invalid))
        .execute(self.conn())
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn import(&mut self, user: UserId, id: ImportId) -> StoreResult<Option<Import>> {
        let row = sqlx::query(concat!(
            select_imports!(),
            " WHERE id = $1 AND user_id = $2"
        ))
        .bind(id.as_uuid())
        .bind(user.as_uuid())
        .fetch_optional(self.conn())
        .await
        .map_err(db_err)?;
        row.as_ref().map(decode::import).transpose()
    }

    async fn imports_of(&mut self, user: UserId) -> StoreResult<Vec<Import>> {
        let rows = sqlx::query(concat!(
            select_imports!(),
            " WHERE user_id = $1 ORDER BY created_at DESC, id DESC"
        ))
        .bind(user.as_uuid())
        .fetch_all(self.conn())
        .await
        .map_err(db_err)?;
        rows.iter().map(decode::import).collect()
    }

    async fn save_import_items(&mut self, id: ImportId, items: &[ImportItem]) -> StoreResult<()> {
        // One statement per 5,000 rows, the columns as arrays.
        for chunk in items.chunks(5000) {
            let rows: Vec<i64> = chunk.iter().map(|i| i64::from(i.row)).collect();
            let kinds: Vec<&str> = chunk.iter().map(|i| i.kind.as_str()).collect();
            let titles: Vec<&str> = chunk.iter().map(|i| i.title.as_str()).collect();
            let outcomes: Vec<&str> = chunk.iter().map(|i| i.outcome.as_str()).collect();
            let matched: Vec<Option<&str>> = chunk
                .iter()
                .map(|i| i.matched_by.map(|m| m.as_str()))
                .collect();
            let contents: Vec<Option<Uuid>> = chunk.iter().map(|i| i.content_id).collect();
            let reasons: Vec<Option<&str>> = chunk.iter().map(|i| i.reason.as_deref()).collect();
            sqlx::query(
                "INSERT INTO import_items (import_id, row_number, kind, title, outcome, \
                 matched_by, content_id, reason) \
                 SELECT $1, * FROM UNNEST($2::int8[], $3::text[], $4::text[], $5::text[], \
                 $6::text[], $7::uuid[], $8::text[])",
            )
            .bind(id.as_uuid())
            .bind(rows)
            .bind(kinds)
            .bind(titles)
            .bind(outcomes)
            .bind(matched)
            .bind(contents)
            .bind(reasons)
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        }
        Ok(())
    }

    async fn import_items(
        &mut self,
        id: ImportId,
        outcome: Option<RowOutcome>,
        offset: u32,
        limit: u32,
    ) -> StoreResult<Vec<ImportItem>> {
        let rows = sqlx::query(
            "SELECT row_number, kind, title, outcome, matched_by, content_id, reason \
             FROM import_items WHERE import_id = $1 AND ($2::text IS NULL OR outcome = $2) \
             ORDER BY row_number LIMIT $3 OFFSET $4",
        )
        .bind(id.as_uuid())
        .bind(outcome.map(RowOutcome::as_str))
        .bind(i64::from(limit))
        .bind(i64::from(offset))
        .fetch_all(self.conn())
        .await
        .map_err(db_err)?;
        rows.iter().map(decode::import_item).collect()
    }

    async fn held_source_keys(
        &mut self,
        user: UserId,
        keys: &[String],
    ) -> StoreResult<HashSet<String>> {
        let rows = sqlx::query(
            "SELECT source_key FROM import_plays WHERE user_id = $1 \
             AND source_key = ANY($2::text[])",
        )
        .bind(user.as_uuid())
        .bind(keys)
        .fetch_all(self.conn())
        .await
        .map_err(db_err)?;
        rows.iter().map(|r| r.text("source_key")).collect()
    }

    async fn link_import_item(
        &mut self,
        user: UserId,
        import: ImportId,
        key: &str,
        link: ImportLink,
    ) -> StoreResult<()> {
        let (kind, item) = link.parts();
        sqlx::query(
            "INSERT INTO import_plays (user_id, source_key, import_id, kind, item_id) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(user.as_uuid())
        .bind(key)
        .bind(import.as_uuid())
        .bind(kind)
        .bind(item)
        .execute(self.conn())
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn import_links(
        &mut self,
        user: UserId,
        import: ImportId,
    ) -> StoreResult<Vec<ImportLink>> {
        let rows = sqlx::query(
            "SELECT kind, item_id FROM import_plays WHERE user_id = $1 AND import_id = $2 \
             ORDER BY seq",
        )
        .bind(user.as_uuid())
        .bind(import.as_uuid())
        .fetch_all(self.conn())
        .await
        .map_err(db_err)?;
        rows.iter().map(decode::import_link).collect()
    }

    async fn unlink_import_items(&mut self, user: UserId, import: ImportId) -> StoreResult<()> {
        sqlx::query("DELETE FROM import_plays WHERE user_id = $1 AND import_id = $2")
            .bind(user.as_uuid())
            .bind(import.as_uuid())
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        Ok(())
    }
}
