//! Imports (SPEC §12): each import, its rows' outcomes, and the source keys of its plays.

use std::collections::HashSet;

use adapters_sql::decode;
use async_trait::async_trait;
use viewing_domain::imports::{Import, ImportItem, ImportLink, RowOutcome};
use viewing_domain::ports::{ImportRepository, StoreError, StoreResult};
use viewing_domain::{ImportId, UserId};

use crate::codec::{RowExt, db_err, id, id_opt, ts};
use crate::uow::SqliteUow;

macro_rules! select_imports {
    () => {
        "SELECT id, user_id, source, status, created_at, rows_read, imported, duplicates, \
         unmatched, skipped, invalid FROM imports"
    };
}

#[async_trait]
impl ImportRepository for SqliteUow {
    async fn save_import(&mut self, i: &Import) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO imports (id, user_id, source, status, created_at, rows_read, imported, \
             duplicates, unmatched, skipped, invalid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (id) DO UPDATE SET status = excluded.status, \
             rows_read = excluded.rows_read, imported = excluded.imported, \
             duplicates = excluded.duplicates, unmatched = excluded.unmatched, \
             skipped = excluded.skipped, invalid = excluded.invalid",
        )
        .bind(id(i.id))
        .bind(id(i.user_id))
        .bind(i.source.as_str())
        .bind(i.status.as_str())
        .bind(ts(i.created_at))
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

    async fn import(&mut self, user: UserId, iid: ImportId) -> StoreResult<Option<Import>> {
        let row = sqlx::query(concat!(select_imports!(), " WHERE id = ? AND user_id = ?"))
            .bind(id(iid))
            .bind(id(user))
            .fetch_optional(self.conn())
            .await
            .map_err(db_err)?;
        row.as_ref().map(decode::import).transpose()
    }

    async fn imports_of(&mut self, user: UserId) -> StoreResult<Vec<Import>> {
        let rows = sqlx::query(concat!(
            select_imports!(),
            " WHERE user_id = ? ORDER BY created_at DESC, id DESC"
        ))
        .bind(id(user))
        .fetch_all(self.conn())
        .await
        .map_err(db_err)?;
        rows.iter().map(decode::import).collect()
    }

    async fn save_import_items(&mut self, iid: ImportId, items: &[ImportItem]) -> StoreResult<()> {
        let import_id = id(iid);
        for i in items {
            sqlx::query(
                "INSERT INTO import_items (import_id, row_number, kind, title, outcome, \
                 matched_by, content_id, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(&import_id)
            .bind(i64::from(i.row))
            .bind(i.kind.as_str())
            .bind(&i.title)
            .bind(i.outcome.as_str())
            .bind(i.matched_by.map(|m| m.as_str()))
            .bind(id_opt(i.content_id))
            .bind(i.reason.as_deref())
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        }
        Ok(())
    }

    async fn import_items(
        &mut self,
        iid: ImportId,
        outcome: Option<RowOutcome>,
        offset: u32,
        limit: u32,
    ) -> StoreResult<Vec<ImportItem>> {
        let rows = sqlx::query(
            "SELECT row_number, kind, title, outcome, matched_by, content_id, reason \
             FROM import_items WHERE import_id = ? AND (? IS NULL OR outcome = ?) \
             ORDER BY row_number LIMIT ? OFFSET ?",
        )
        .bind(id(iid))
        .bind(outcome.map(RowOutcome::as_str))
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
        let mut held = HashSet::new();
        // JSON arrays of 500 keys: one statement each, whatever the file's size.
        for chunk in keys.chunks(500) {
            let list = serde_json::to_string(chunk).map_err(StoreError::unexpected)?;
            let rows = sqlx::query(
                "SELECT source_key FROM import_plays WHERE user_id = ? \
                 AND source_key IN (SELECT value FROM json_each(?))",
            )
            .bind(id(user))
            .bind(list)
            .fetch_all(self.conn())
            .await
            .map_err(db_err)?;
            for r in &rows {
                held.insert(r.text("source_key")?);
            }
        }
        Ok(held)
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
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(id(user))
        .bind(key)
        .bind(id(import))
        .bind(kind)
        .bind(id(item))
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
            "SELECT kind, item_id FROM import_plays WHERE user_id = ? AND import_id = ? \
             ORDER BY rowid",
        )
        .bind(id(user))
        .bind(id(import))
        .fetch_all(self.conn())
        .await
        .map_err(db_err)?;
        rows.iter().map(decode::import_link).collect()
    }

    async fn unlink_import_items(&mut self, user: UserId, import: ImportId) -> StoreResult<()> {
        sqlx::query("DELETE FROM import_plays WHERE user_id = ? AND import_id = ?")
            .bind(id(user))
            .bind(id(import))
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        Ok(())
    }
}
