//! Bulk catalog writes (SPEC §16): each kind of row of a batch goes to a temporary table with
//! `COPY` (text format), then into the catalog in one `INSERT … SELECT … ON CONFLICT (id) DO
//! UPDATE` — a row is left out when another item of its kind holds one of its external ids
//! or its numbers. The temporary tables empty themselves at commit.

use std::fmt::Write as _;

use async_trait::async_trait;
use chrono::NaiveDate;
use uuid::Uuid;
use viewing_domain::ports::{CatalogBulkRepository, StoreResult};
use viewing_domain::{CatalogRows, ExternalIds, RowsWritten};

use crate::codec::db_err;
use crate::uow::PgUow;
use viewing_domain::search::title_key;

const STAGING: &str = "\
CREATE TEMP TABLE IF NOT EXISTS bulk_movies (id uuid, title text, runtime_minutes int, \
  release_date date, genres text[], tmdb_id text, imdb_id text, tvdb_id text, trakt_id text, \
  tvmaze_id text, title_key text) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS bulk_shows (id uuid, title text, status text, genres text[], \
  tmdb_id text, imdb_id text, tvdb_id text, trakt_id text, tvmaze_id text, title_key text) \
  ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS bulk_seasons (id uuid, show_id uuid, season_number int, \
  tmdb_id text, imdb_id text, tvdb_id text, trakt_id text, tvmaze_id text) \
  ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS bulk_episodes (id uuid, season_id uuid, show_id uuid, \
  episode_number int, title text, runtime_minutes int, air_date date, tmdb_id text, \
  imdb_id text, tvdb_id text, trakt_id text, tvmaze_id text) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS bulk_written (id uuid) ON COMMIT DELETE ROWS";

/// `o` holds one of `b`'s external ids.
macro_rules! holds {
    () => {
        "(o.tmdb_id = b.tmdb_id OR o.imdb_id = b.imdb_id OR o.tvdb_id = b.tvdb_id \
         OR o.trakt_id = b.trakt_id OR o.tvmaze_id = b.tvmaze_id)"
    };
}

/// `SET` of the external-id columns from `excluded`.
macro_rules! set_ids {
    () => {
        "tmdb_id = excluded.tmdb_id, imdb_id = excluded.imdb_id, tvdb_id = excluded.tvdb_id, \
         trakt_id = excluded.trakt_id, tvmaze_id = excluded.tvmaze_id"
    };
}

const MOVIES: &str = concat!(
    "WITH written AS (INSERT INTO movies (id, title, runtime_minutes, release_date, tmdb_id, \
     imdb_id, tvdb_id, trakt_id, tvmaze_id, title_key) \
     SELECT b.id, b.title, b.runtime_minutes, b.release_date, b.tmdb_id, b.imdb_id, \
     b.tvdb_id, b.trakt_id, b.tvmaze_id, b.title_key FROM bulk_movies b \
     WHERE NOT EXISTS (SELECT 1 FROM movies o WHERE o.id <> b.id AND ",
    holds!(),
    ") ON CONFLICT (id) DO UPDATE SET title = excluded.title, title_key = excluded.title_key, \
     runtime_minutes = excluded.runtime_minutes, release_date = excluded.release_date, ",
    set_ids!(),
    " RETURNING id) INSERT INTO bulk_written (id) SELECT id FROM written"
);

const SHOWS: &str = concat!(
    "WITH written AS (INSERT INTO shows (id, title, status, tmdb_id, imdb_id, tvdb_id, \
     trakt_id, tvmaze_id, title_key) \
     SELECT b.id, b.title, b.status, b.tmdb_id, b.imdb_id, b.tvdb_id, b.trakt_id, \
     b.tvmaze_id, b.title_key FROM bulk_shows b \
     WHERE NOT EXISTS (SELECT 1 FROM shows o WHERE o.id <> b.id AND ",
    holds!(),
    ") ON CONFLICT (id) DO UPDATE SET title = excluded.title, title_key = excluded.title_key, \
     status = excluded.status, ",
    set_ids!(),
    " RETURNING id) INSERT INTO bulk_written (id) SELECT id FROM written"
);

/// The genres of the movies written (`bulk_written`), replaced.
const MOVIE_GENRES: [&str; 3] = [
    "DELETE FROM movie_genres g USING bulk_written w WHERE g.movie_id = w.id",
    "INSERT INTO movie_genres (movie_id, position, genre) \
     SELECT b.id, g.ord - 1, g.genre FROM bulk_movies b JOIN bulk_written w ON w.id = b.id, \
     UNNEST(b.genres) WITH ORDINALITY AS g(genre, ord)",
    "TRUNCATE bulk_written",
];

/// The genres of the shows written (`bulk_written`), replaced.
const SHOW_GENRES: [&str; 3] = [
    "DELETE FROM show_genres g USING bulk_written w WHERE g.show_id = w.id",
    "INSERT INTO show_genres (show_id, position, genre) \
     SELECT b.id, g.ord - 1, g.genre FROM bulk_shows b JOIN bulk_written w ON w.id = b.id, \
     UNNEST(b.genres) WITH ORDINALITY AS g(genre, ord)",
    "TRUNCATE bulk_written",
];

const SEASONS: &str = concat!(
    "INSERT INTO seasons (id, show_id, season_number, tmdb_id, imdb_id, tvdb_id, trakt_id, \
     tvmaze_id) \
     SELECT b.id, b.show_id, b.season_number, b.tmdb_id, b.imdb_id, b.tvdb_id, b.trakt_id, \
     b.tvmaze_id FROM bulk_seasons b \
     WHERE EXISTS (SELECT 1 FROM shows s WHERE s.id = b.show_id) \
     AND NOT EXISTS (SELECT 1 FROM seasons o WHERE o.id <> b.id \
     AND o.show_id = b.show_id AND o.season_number = b.season_number) \
     AND NOT EXISTS (SELECT 1 FROM seasons o WHERE o.id <> b.id AND ",
    holds!(),
    ") ON CONFLICT (id) DO UPDATE SET show_id = excluded.show_id, \
     season_number = excluded.season_number, ",
    set_ids!()
);

const EPISODES: &str = concat!(
    "INSERT INTO episodes (id, season_id, show_id, episode_number, title, runtime_minutes, \
     air_date, tmdb_id, imdb_id, tvdb_id, trakt_id, tvmaze_id) \
     SELECT b.id, b.season_id, b.show_id, b.episode_number, b.title, b.runtime_minutes, \
     b.air_date, b.tmdb_id, b.imdb_id, b.tvdb_id, b.trakt_id, b.tvmaze_id FROM bulk_episodes b \
     WHERE EXISTS (SELECT 1 FROM seasons s WHERE s.id = b.season_id AND s.show_id = b.show_id) \
     AND NOT EXISTS (SELECT 1 FROM episodes o WHERE o.id <> b.id \
     AND o.season_id = b.season_id AND o.episode_number = b.episode_number) \
     AND NOT EXISTS (SELECT 1 FROM episodes o WHERE o.id <> b.id AND ",
    holds!(),
    ") ON CONFLICT (id) DO UPDATE SET season_id = excluded.season_id, \
     show_id = excluded.show_id, episode_number = excluded.episode_number, \
     title = excluded.title, runtime_minutes = excluded.runtime_minutes, \
     air_date = excluded.air_date, ",
    set_ids!()
);

/// One line of `COPY … FROM STDIN` text format, field by field.
#[derive(Default)]
struct CopyText(String);

impl CopyText {
    fn field(&mut self, value: Option<&str>) -> &mut Self {
        if !self.0.is_empty() && !self.0.ends_with('\n') {
            self.0.push('\t');
        }
        match value {
            None => self.0.push_str("\\N"),
            Some(v) => {
                for c in v.chars() {
                    match c {
                        '\\' => self.0.push_str("\\\\"),
                        '\t' => self.0.push_str("\\t"),
                        '\n' => self.0.push_str("\\n"),
                        '\r' => self.0.push_str("\\r"),
                        c => self.0.push(c),
                    }
                }
            }
        }
        self
    }

    fn uuid(&mut self, id: Uuid) -> &mut Self {
        let text = id.hyphenated().to_string();
        self.field(Some(&text))
    }

    fn int(&mut self, n: u32) -> &mut Self {
        let text = n.to_string();
        self.field(Some(&text))
    }

    fn date(&mut self, d: Option<NaiveDate>) -> &mut Self {
        let text = d.map(|d| d.format("%Y-%m-%d").to_string());
        self.field(text.as_deref())
    }

    /// A `text[]` literal: `{"a","b"}`, each element quoted.
    fn array(&mut self, items: impl Iterator<Item = String>) -> &mut Self {
        let mut text = String::from("{");
        for (i, item) in items.enumerate() {
            if i > 0 {
                text.push(',');
            }
            text.push('"');
            for c in item.chars() {
                if c == '"' || c == '\\' {
                    text.push('\\');
                }
                text.push(c);
            }
            text.push('"');
        }
        text.push('}');
        self.field(Some(&text))
    }

    fn ids(&mut self, ids: &ExternalIds) -> &mut Self {
        for v in adapters_sql::encode::external_id_values(ids) {
            self.field(v.as_deref());
        }
        self
    }

    fn end(&mut self) {
        self.0.push('\n');
    }
}

impl PgUow {
    /// Streams `text` into `table` with `COPY`.
    async fn copy_into(&mut self, table: &str, text: String) -> StoreResult<()> {
        if text.is_empty() {
            return Ok(());
        }
        let mut statement = String::new();
        let _ = write!(statement, "COPY {table} FROM STDIN");
        let mut copy = self.conn().copy_in_raw(&statement).await.map_err(db_err)?;
        copy.send(text.into_bytes()).await.map_err(db_err)?;
        copy.finish().await.map_err(db_err)?;
        Ok(())
    }

    async fn run(&mut self, sql: &'static str) -> StoreResult<u64> {
        Ok(sqlx::query(sql)
            .execute(self.conn())
            .await
            .map_err(db_err)?
            .rows_affected())
    }
}

#[async_trait]
impl CatalogBulkRepository for PgUow {
    async fn write_catalog_rows(&mut self, rows: &CatalogRows) -> StoreResult<RowsWritten> {
        sqlx::raw_sql(STAGING)
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        self.run("UPDATE catalog_version SET version = version + 1 WHERE id = 1")
            .await?;
        let mut written = RowsWritten::default();

        let mut t = CopyText::default();
        for m in &rows.movies {
            t.uuid(m.id.as_uuid())
                .field(Some(m.title.as_str()))
                .int(m.runtime.get())
                .date(m.release_date)
                .array(m.genres.iter().map(|g| g.as_str().to_owned()))
                .ids(&m.external_ids)
                .field(Some(&title_key(m.title.as_str())))
                .end();
        }
        self.copy_into("bulk_movies", t.0).await?;
        let mut t = CopyText::default();
        for s in &rows.shows {
            t.uuid(s.id.as_uuid())
                .field(Some(s.title.as_str()))
                .field(Some(s.status.as_str()))
                .array(s.genres.iter().map(|g| g.as_str().to_owned()))
                .ids(&s.external_ids)
                .field(Some(&title_key(s.title.as_str())))
                .end();
        }
        self.copy_into("bulk_shows", t.0).await?;
        let mut t = CopyText::default();
        for s in &rows.seasons {
            t.uuid(s.id.as_uuid())
                .uuid(s.show_id.as_uuid())
                .int(s.number)
                .ids(&s.external_ids)
                .end();
        }
        self.copy_into("bulk_seasons", t.0).await?;
        let mut t = CopyText::default();
        for row in &rows.episodes {
            let e = &row.episode;
            t.uuid(e.id.as_uuid())
                .uuid(row.season_id.as_uuid())
                .uuid(row.show_id.as_uuid())
                .int(e.number)
                .field(Some(e.title.as_str()))
                .int(e.runtime.get())
                .date(e.air_date)
                .ids(&e.external_ids)
                .end();
        }
        self.copy_into("bulk_episodes", t.0).await?;

        if !rows.movies.is_empty() {
            written.movies = self.run(MOVIES).await?;
            for sql in MOVIE_GENRES {
                self.run(sql).await?;
            }
        }
        if !rows.shows.is_empty() {
            written.shows = self.run(SHOWS).await?;
            for sql in SHOW_GENRES {
                self.run(sql).await?;
            }
        }
        if !rows.seasons.is_empty() {
            written.seasons = self.run(SEASONS).await?;
        }
        if !rows.episodes.is_empty() {
            written.episodes = self.run(EPISODES).await?;
        }
        sqlx::raw_sql(
            "TRUNCATE bulk_movies; TRUNCATE bulk_shows; TRUNCATE bulk_seasons; \
             TRUNCATE bulk_episodes",
        )
        .execute(self.conn())
        .await
        .map_err(db_err)?;
        Ok(written)
    }
}
