//! Bulk catalog writes (SPEC §16): a batch of an IMDb load in the unit of work's transaction,
//! one prepared statement per row kind (SQLite caches them), each row created or updated by id
//! unless another item of its kind holds one of its external ids or its numbers. Each id is
//! checked by a `NOT EXISTS` of its own that says `IS NOT NULL`: only then may SQLite use the
//! partial index of that column (an `OR` of them would scan the table for every row).

use async_trait::async_trait;
use viewing_domain::ports::{CatalogBulkRepository, StoreResult};
use viewing_domain::search::title_key;
use viewing_domain::values::Genre;
use viewing_domain::{CatalogRows, RowsWritten};

use crate::codec::{date, db_err, id};
use crate::uow::{SqliteUow, bind_external_ids};

const MOVIE: &str = "INSERT INTO movies (id, title, runtime_minutes, release_date, tmdb_id, \
     imdb_id, tvdb_id, trakt_id, tvmaze_id, title_key) \
     SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10 WHERE true \
     AND NOT EXISTS (SELECT 1 FROM movies o WHERE o.tmdb_id = ?5 AND o.tmdb_id IS NOT NULL AND o.id <> ?1) \
     AND NOT EXISTS (SELECT 1 FROM movies o WHERE o.imdb_id = ?6 AND o.imdb_id IS NOT NULL AND o.id <> ?1) \
     AND NOT EXISTS (SELECT 1 FROM movies o WHERE o.tvdb_id = ?7 AND o.tvdb_id IS NOT NULL AND o.id <> ?1) \
     AND NOT EXISTS (SELECT 1 FROM movies o WHERE o.trakt_id = ?8 AND o.trakt_id IS NOT NULL AND o.id <> ?1) \
     AND NOT EXISTS (SELECT 1 FROM movies o WHERE o.tvmaze_id = ?9 AND o.tvmaze_id IS NOT NULL AND o.id <> ?1) \
     ON CONFLICT (id) DO UPDATE SET title = excluded.title, \
     runtime_minutes = excluded.runtime_minutes, release_date = excluded.release_date, \
     tmdb_id = excluded.tmdb_id, imdb_id = excluded.imdb_id, tvdb_id = excluded.tvdb_id, \
     trakt_id = excluded.trakt_id, tvmaze_id = excluded.tvmaze_id, \
     title_key = excluded.title_key";

const SHOW: &str = "INSERT INTO shows (id, title, status, tmdb_id, imdb_id, tvdb_id, trakt_id, \
     tvmaze_id, title_key) \
     SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9 WHERE true \
     AND NOT EXISTS (SELECT 1 FROM shows o WHERE o.tmdb_id = ?4 AND o.tmdb_id IS NOT NULL AND o.id <> ?1) \
     AND NOT EXISTS (SELECT 1 FROM shows o WHERE o.imdb_id = ?5 AND o.imdb_id IS NOT NULL AND o.id <> ?1) \
     AND NOT EXISTS (SELECT 1 FROM shows o WHERE o.tvdb_id = ?6 AND o.tvdb_id IS NOT NULL AND o.id <> ?1) \
     AND NOT EXISTS (SELECT 1 FROM shows o WHERE o.trakt_id = ?7 AND o.trakt_id IS NOT NULL AND o.id <> ?1) \
     AND NOT EXISTS (SELECT 1 FROM shows o WHERE o.tvmaze_id = ?8 AND o.tvmaze_id IS NOT NULL AND o.id <> ?1) \
     ON CONFLICT (id) DO UPDATE SET title = excluded.title, status = excluded.status, \
     tmdb_id = excluded.tmdb_id, imdb_id = excluded.imdb_id, tvdb_id = excluded.tvdb_id, \
     trakt_id = excluded.trakt_id, tvmaze_id = excluded.tvmaze_id, \
     title_key = excluded.title_key";

/// Rows per multi-row statement of seasons and episodes: one statement carries many rows, so the
/// per-statement cost of the driver is paid once per chunk (12 columns × 400 rows stays far
/// below SQLite's 32,766 parameters).
const CHUNK: usize = 400;

/// After `FROM (VALUES …) AS v`: a season is written when its show exists and no other season
/// holds its number or one of its external ids.
const SEASON_WHERE: &str = " WHERE EXISTS (SELECT 1 FROM shows WHERE id = v.column2) \
     AND NOT EXISTS (SELECT 1 FROM seasons o WHERE o.show_id = v.column2 \
     AND o.season_number = v.column3 AND o.id <> v.column1) \
     AND NOT EXISTS (SELECT 1 FROM seasons o WHERE o.tmdb_id = v.column4 AND o.tmdb_id IS NOT NULL AND o.id <> v.column1) \
     AND NOT EXISTS (SELECT 1 FROM seasons o WHERE o.imdb_id = v.column5 AND o.imdb_id IS NOT NULL AND o.id <> v.column1) \
     AND NOT EXISTS (SELECT 1 FROM seasons o WHERE o.tvdb_id = v.column6 AND o.tvdb_id IS NOT NULL AND o.id <> v.column1) \
     AND NOT EXISTS (SELECT 1 FROM seasons o WHERE o.trakt_id = v.column7 AND o.trakt_id IS NOT NULL AND o.id <> v.column1) \
     AND NOT EXISTS (SELECT 1 FROM seasons o WHERE o.tvmaze_id = v.column8 AND o.tvmaze_id IS NOT NULL AND o.id <> v.column1) \
     ON CONFLICT (id) DO UPDATE SET show_id = excluded.show_id, \
     season_number = excluded.season_number, tmdb_id = excluded.tmdb_id, \
     imdb_id = excluded.imdb_id, tvdb_id = excluded.tvdb_id, trakt_id = excluded.trakt_id, \
     tvmaze_id = excluded.tvmaze_id";

/// After `FROM (VALUES …) AS v`: an episode is written when its season is its show's and no
/// other episode holds its number in the season or one of its external ids.
const EPISODE_WHERE: &str = " WHERE EXISTS (SELECT 1 FROM seasons WHERE id = v.column2 AND show_id = v.column3) \
     AND NOT EXISTS (SELECT 1 FROM episodes o WHERE o.season_id = v.column2 \
     AND o.episode_number = v.column4 AND o.id <> v.column1) \
     AND NOT EXISTS (SELECT 1 FROM episodes o WHERE o.tmdb_id = v.column8 AND o.tmdb_id IS NOT NULL AND o.id <> v.column1) \
     AND NOT EXISTS (SELECT 1 FROM episodes o WHERE o.imdb_id = v.column9 AND o.imdb_id IS NOT NULL AND o.id <> v.column1) \
     AND NOT EXISTS (SELECT 1 FROM episodes o WHERE o.tvdb_id = v.column10 AND o.tvdb_id IS NOT NULL AND o.id <> v.column1) \
     AND NOT EXISTS (SELECT 1 FROM episodes o WHERE o.trakt_id = v.column11 AND o.trakt_id IS NOT NULL AND o.id <> v.column1) \
     AND NOT EXISTS (SELECT 1 FROM episodes o WHERE o.tvmaze_id = v.column12 AND o.tvmaze_id IS NOT NULL AND o.id <> v.column1) \
     ON CONFLICT (id) DO UPDATE SET season_id = excluded.season_id, \
     show_id = excluded.show_id, episode_number = excluded.episode_number, \
     title = excluded.title, runtime_minutes = excluded.runtime_minutes, \
     air_date = excluded.air_date, tmdb_id = excluded.tmdb_id, imdb_id = excluded.imdb_id, \
     tvdb_id = excluded.tvdb_id, trakt_id = excluded.trakt_id, tvmaze_id = excluded.tvmaze_id";

const SEASON_HEAD: &str = "INSERT INTO seasons (id, show_id, season_number, tmdb_id, imdb_id, \
     tvdb_id, trakt_id, tvmaze_id) SELECT";
const EPISODE_HEAD: &str = "INSERT INTO episodes (id, season_id, show_id, episode_number, \
     title, runtime_minutes, air_date, tmdb_id, imdb_id, tvdb_id, trakt_id, tvmaze_id) SELECT";

/// `head v.column1, …, v.columnN FROM (VALUES (?, …), …) AS v tail`, for `rows` rows.
fn multi_row(head: &str, columns: usize, rows: usize, tail: &str) -> String {
    let picked: Vec<String> = (1..=columns).map(|c| format!("v.column{c}")).collect();
    let one = format!("({})", vec!["?"; columns].join(", "));
    format!(
        "{head} {} FROM (VALUES {}) AS v{tail}",
        picked.join(", "),
        vec![one; rows].join(", ")
    )
}

/// The statement for a full chunk, made once.
fn full_chunk(
    cell: &'static std::sync::OnceLock<String>,
    head: &str,
    columns: usize,
    tail: &str,
) -> &'static str {
    cell.get_or_init(|| multi_row(head, columns, CHUNK, tail))
        .as_str()
}

static SEASON_CHUNK: std::sync::OnceLock<String> = std::sync::OnceLock::new();
static EPISODE_CHUNK: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// The statements that replace a movie's genres: the delete, then one insert per genre.
pub(crate) const MOVIE_GENRES: [&str; 2] = [
    "DELETE FROM movie_genres WHERE movie_id = ?",
    "INSERT INTO movie_genres (movie_id, position, genre) VALUES (?, ?, ?)",
];
/// The statements that replace a show's genres.
pub(crate) const SHOW_GENRES: [&str; 2] = [
    "DELETE FROM show_genres WHERE show_id = ?",
    "INSERT INTO show_genres (show_id, position, genre) VALUES (?, ?, ?)",
];

impl SqliteUow {
    /// Replaces the genres of one movie or show (`sql`: [`MOVIE_GENRES`] or [`SHOW_GENRES`]).
    pub(crate) async fn replace_genres(
        &mut self,
        [delete, insert]: [&'static str; 2],
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
                .bind(title_key(m.title.as_str()))
                .execute(self.conn())
                .await
                .map_err(db_err)?;
            if done.rows_affected() == 1 {
                written.movies += 1;
                self.replace_genres(MOVIE_GENRES, &movie_id, &m.genres)
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
                .bind(title_key(s.title.as_str()))
                .execute(self.conn())
                .await
                .map_err(db_err)?;
            if done.rows_affected() == 1 {
                written.shows += 1;
                self.replace_genres(SHOW_GENRES, &show_id, &s.genres)
                    .await?;
            }
        }
        for chunk in rows.seasons.chunks(CHUNK) {
            let sql = if chunk.len() == CHUNK {
                sqlx::AssertSqlSafe(
                    full_chunk(&SEASON_CHUNK, SEASON_HEAD, 8, SEASON_WHERE).to_owned(),
                )
            } else {
                sqlx::AssertSqlSafe(multi_row(SEASON_HEAD, 8, chunk.len(), SEASON_WHERE))
            };
            let mut q = sqlx::query(sql);
            for s in chunk {
                q = bind_external_ids(
                    q.bind(id(s.id))
                        .bind(id(s.show_id))
                        .bind(i64::from(s.number)),
                    &s.external_ids,
                );
            }
            written.seasons += q
                .execute(self.conn())
                .await
                .map_err(db_err)?
                .rows_affected();
        }
        for chunk in rows.episodes.chunks(CHUNK) {
            let sql = if chunk.len() == CHUNK {
                sqlx::AssertSqlSafe(
                    full_chunk(&EPISODE_CHUNK, EPISODE_HEAD, 12, EPISODE_WHERE).to_owned(),
                )
            } else {
                sqlx::AssertSqlSafe(multi_row(EPISODE_HEAD, 12, chunk.len(), EPISODE_WHERE))
            };
            let mut q = sqlx::query(sql);
            for row in chunk {
                let e = &row.episode;
                q = bind_external_ids(
                    q.bind(id(e.id))
                        .bind(id(row.season_id))
                        .bind(id(row.show_id))
                        .bind(i64::from(e.number))
                        .bind(e.title.as_str().to_owned())
                        .bind(i64::from(e.runtime.get()))
                        .bind(e.air_date.map(date)),
                    &e.external_ids,
                );
            }
            written.episodes += q
                .execute(self.conn())
                .await
                .map_err(db_err)?
                .rows_affected();
        }
        Ok(written)
    }
}
