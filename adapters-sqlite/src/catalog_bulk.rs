//! Bulk catalog writes (SPEC §16): a batch of an IMDb load in the unit of work's transaction,
//! one prepared statement per row kind (SQLite caches them), each row created or updated by id
//! unless another item of its kind holds one of its external ids or its numbers.

use async_trait::async_trait;
use viewing_domain::ports::{CatalogBulkRepository, StoreResult};
use viewing_domain::values::Genre;
use viewing_domain::{CatalogRows, RowsWritten};

use crate::codec::{date, db_err, id};
use crate::uow::{SqliteUow, bind_external_ids};

const MOVIE: &str = "INSERT INTO movies (id, title, runtime_minutes, release_date, tmdb_id, \
     imdb_id, tvdb_id, trakt_id, tvmaze_id) \
     SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9 WHERE NOT EXISTS (SELECT 1 FROM movies o \
     WHERE o.id <> ?1 AND (o.tmdb_id = ?5 OR o.imdb_id = ?6 OR o.tvdb_id = ?7 \
     OR o.trakt_id = ?8 OR o.tvmaze_id = ?9)) \
     ON CONFLICT (id) DO UPDATE SET title = excluded.title, \
     runtime_minutes = excluded.runtime_minutes, release_date = excluded.release_date, \
     tmdb_id = excluded.tmdb_id, imdb_id = excluded.imdb_id, tvdb_id = excluded.tvdb_id, \
     trakt_id = excluded.trakt_id, tvmaze_id = excluded.tvmaze_id";

const SHOW: &str = "INSERT INTO shows (id, title, status, tmdb_id, imdb_id, tvdb_id, trakt_id, \
     tvmaze_id) \
     SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8 WHERE NOT EXISTS (SELECT 1 FROM shows o \
     WHERE o.id <> ?1 AND (o.tmdb_id = ?4 OR o.imdb_id = ?5 OR o.tvdb_id = ?6 \
     OR o.trakt_id = ?7 OR o.tvmaze_id = ?8)) \
     ON CONFLICT (id) DO UPDATE SET title = excluded.title, status = excluded.status, \
     tmdb_id = excluded.tmdb_id, imdb_id = excluded.imdb_id, tvdb_id = excluded.tvdb_id, \
     trakt_id = excluded.trakt_id, tvmaze_id = excluded.tvmaze_id";

const SEASON: &str = "INSERT INTO seasons (id, show_id, season_number, tmdb_id, imdb_id, \
     tvdb_id, trakt_id, tvmaze_id) \
     SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8 \
     WHERE EXISTS (SELECT 1 FROM shows WHERE id = ?2) \
     AND NOT EXISTS (SELECT 1 FROM seasons o WHERE o.id <> ?1 AND ((o.show_id = ?2 \
     AND o.season_number = ?3) OR o.tmdb_id = ?4 OR o.imdb_id = ?5 OR o.tvdb_id = ?6 \
     OR o.trakt_id = ?7 OR o.tvmaze_id = ?8)) \
     ON CONFLICT (id) DO UPDATE SET show_id = excluded.show_id, \
     season_number = excluded.season_number, tmdb_id = excluded.tmdb_id, \
     imdb_id = excluded.imdb_id, tvdb_id = excluded.tvdb_id, trakt_id = excluded.trakt_id, \
     tvmaze_id = excluded.tvmaze_id";

const EPISODE: &str = "INSERT INTO episodes (id, season_id, show_id, episode_number, title, \
     runtime_minutes, air_date, tmdb_id, imdb_id, tvdb_id, trakt_id, tvmaze_id) \
     SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12 \
     WHERE EXISTS (SELECT 1 FROM seasons WHERE id = ?2 AND show_id = ?3) \
     AND NOT EXISTS (SELECT 1 FROM episodes o WHERE o.id <> ?1 AND ((o.season_id = ?2 \
     AND o.episode_number = ?4) OR o.tmdb_id = ?8 OR o.imdb_id = ?9 OR o.tvdb_id = ?10 \
     OR o.trakt_id = ?11 OR o.tvmaze_id = ?12)) \
     ON CONFLICT (id) DO UPDATE SET season_id = excluded.season_id, \
     show_id = excluded.show_id, episode_number = excluded.episode_number, \
     title = excluded.title, runtime_minutes = excluded.runtime_minutes, \
     air_date = excluded.air_date, tmdb_id = excluded.tmdb_id, imdb_id = excluded.imdb_id, \
     tvdb_id = excluded.tvdb_id, trakt_id = excluded.trakt_id, tvmaze_id = excluded.tvmaze_id";

impl SqliteUow {
    /// Replaces the genres of one movie or show.
    async fn replace_genres(
        &mut self,
        delete: &'static str,
        insert: &'static str,
        owner: &str,
        genres: &[Genre],
    ) -> StoreResult<()> {
        sqlx::query(delete)
            .bind(owner)
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        for (position, genre) in genres.iter().enumerate() {
            sqlx::query(insert)
                .bind(owner)
                .bind(position as i64)
                .bind(genre.as_str())
                .execute(self.conn())
                .await
                .map_err(db_err)?;
        }
        Ok(())
    }
}

#[async_trait]
impl CatalogBulkRepository for SqliteUow {
    async fn write_catalog_rows(&mut self, rows: &CatalogRows) -> StoreResult<RowsWritten> {
        let mut written = RowsWritten::default();
        sqlx::query("UPDATE catalog_version SET version = version + 1 WHERE id = 1")
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        for m in &rows.movies {
            let movie_id = id(m.id);
            let q = sqlx::query(MOVIE)
                .bind(&movie_id)
                .bind(m.title.as_str())
                .bind(i64::from(m.runtime.get()))
                .bind(m.release_date.map(date));
            let done = bind_external_ids(q, &m.external_ids)
                .execute(self.conn())
                .await
                .map_err(db_err)?;
            if done.rows_affected() == 1 {
                written.movies += 1;
                self.replace_genres(
                    "DELETE FROM movie_genres WHERE movie_id = ?",
                    "INSERT INTO movie_genres (movie_id, position, genre) VALUES (?, ?, ?)",
                    &movie_id,
                    &m.genres,
                )
                .await?;
            }
        }
        for s in &rows.shows {
            let show_id = id(s.id);
            let q = sqlx::query(SHOW)
                .bind(&show_id)
                .bind(s.title.as_str())
                .bind(s.status.as_str());
            let done = bind_external_ids(q, &s.external_ids)
                .execute(self.conn())
                .await
                .map_err(db_err)?;
            if done.rows_affected() == 1 {
                written.shows += 1;
                self.replace_genres(
                    "DELETE FROM show_genres WHERE show_id = ?",
                    "INSERT INTO show_genres (show_id, position, genre) VALUES (?, ?, ?)",
                    &show_id,
                    &s.genres,
                )
                .await?;
            }
        }
        for s in &rows.seasons {
            let q = sqlx::query(SEASON)
                .bind(id(s.id))
                .bind(id(s.show_id))
                .bind(i64::from(s.number));
            let done = bind_external_ids(q, &s.external_ids)
                .execute(self.conn())
                .await
                .map_err(db_err)?;
            written.seasons += done.rows_affected();
        }
        for row in &rows.episodes {
            let e = &row.episode;
            let q = sqlx::query(EPISODE)
                .bind(id(e.id))
                .bind(id(row.season_id))
                .bind(id(row.show_id))
                .bind(i64::from(e.number))
                .bind(e.title.as_str())
                .bind(i64::from(e.runtime.get()))
                .bind(e.air_date.map(date));
            let done = bind_external_ids(q, &e.external_ids)
                .execute(self.conn())
                .await
                .map_err(db_err)?;
            written.episodes += done.rows_affected();
        }
        Ok(written)
    }
}
