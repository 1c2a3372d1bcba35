//! The unit of work: one `BEGIN IMMEDIATE` transaction; the catalog and user repositories.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{Sqlite, SqliteConnection, Transaction};
use viewing_domain::ports::{
    CatalogRepository, StoreError, StoreResult, UserItemLock, UserRepository,
};
use viewing_domain::values::{Genre, Minutes, Title};
use viewing_domain::{
    Episode, EpisodeId, ExternalIds, Movie, MovieId, Season, SeasonId, Show, ShowId, ShowStatus,
    UserId,
};

use viewing_domain::search::title_key;

use crate::catalog_bulk::{MOVIE_GENRES, SHOW_GENRES};
use crate::codec::{RowExt, corrupt, date, db_err, id, id_list, required, ts};
use crate::writer::WriteTx;
use adapters_sql::decode;

/// One transaction over every repository. Dropping it without [`Transaction::commit`](viewing_domain::ports::Transaction::commit) rolls
/// back everything it wrote.
#[derive(Debug)]
pub struct SqliteUow {
    tx: Tx,
}

#[derive(Debug)]
enum Tx {
    /// A write unit of work behind the writer gate, committed with its group.
    Write(WriteTx),
    /// A read-only unit of work (`Store::begin_read`): a deferred transaction of its own
    /// (sqlx queues the `ROLLBACK` on drop).
    Read(Transaction<'static, Sqlite>),
}

impl SqliteUow {
    pub(crate) fn write(tx: WriteTx) -> Self {
        Self { tx: Tx::Write(tx) }
    }

    pub(crate) fn read(tx: Transaction<'static, Sqlite>) -> Self {
        Self { tx: Tx::Read(tx) }
    }

    pub(crate) fn conn(&mut self) -> &mut SqliteConnection {
        match &mut self.tx {
            Tx::Write(tx) => tx.conn(),
            Tx::Read(tx) => tx,
        }
    }
}

#[async_trait]
impl UserItemLock for SqliteUow {
    /// Nothing to do: units of work of one store never overlap (see `SqliteStore::begin`), so
    /// this one already excludes every other writer of the user's records.
    #[tracing::instrument(level = "debug", skip_all)]
    async fn lock_user_item(&mut self, _user: UserId, _item: uuid::Uuid) -> StoreResult<()> {
        Ok(())
    }
}

#[async_trait]
impl viewing_domain::ports::Transaction for SqliteUow {
    #[tracing::instrument(level = "debug", skip_all)]
    async fn commit(self) -> StoreResult<()> {
        match self.tx {
            Tx::Write(tx) => tx.commit().await,
            Tx::Read(tx) => tx.commit().await.map_err(db_err),
        }
    }
}

/// Queries for an item of one kind, owned elsewhere (`?1`), holding one of the external ids
/// `?2`–`?6` (in [`Provider::ALL`] order).
macro_rules! held_by {
    ($table:literal, $owner:literal) => {
        concat!(
            "SELECT id FROM ",
            $table,
            " WHERE ",
            $owner,
            " <> ?1 AND ((tmdb_id = ?2 AND tmdb_id IS NOT NULL) \
             OR (imdb_id = ?3 AND imdb_id IS NOT NULL) OR (tvdb_id = ?4 AND tvdb_id IS NOT NULL) \
             OR (trakt_id = ?5 AND trakt_id IS NOT NULL) \
             OR (tvmaze_id = ?6 AND tvmaze_id IS NOT NULL)) LIMIT 1"
        )
    };
}
const HELD_BY_MOVIE: &str = held_by!("movies", "id");
const HELD_BY_SHOW: &str = held_by!("shows", "id");
const HELD_BY_SEASON: &str = held_by!("seasons", "show_id");
const HELD_BY_EPISODE: &str = held_by!("episodes", "show_id");

/// Binds the values of the five external-id columns, in [`Provider::ALL`] order.
pub(crate) fn bind_external_ids<'q>(
    query: sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments>,
    ids: &ExternalIds,
) -> sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments> {
    adapters_sql::encode::external_id_values(ids)
        .into_iter()
        .fold(query, |q, v| q.bind(v))
}

/// Movies and shows by title key (SPEC §10): `?1 <= title_key < ?2` (see
/// `adapters_sql::encode::title_key_range`), a movie's year `?3`, the kind `?4` (`movie`,
/// `show`, `any`), in the domain's rank order, at most `?5`.
const SEARCH_TITLES: &str = "SELECT kind, id, title, year, tmdb_id, imdb_id, tvdb_id, \
     trakt_id, tvmaze_id FROM ( \
     SELECT 'movie' AS kind, id, title, CAST(substr(release_date, 1, 4) AS INTEGER) AS year, \
       tmdb_id, imdb_id, tvdb_id, trakt_id, tvmaze_id, title_key FROM movies \
     WHERE title_key >= ?1 AND title_key < ?2 AND ?4 <> 'show' \
       AND (?3 IS NULL OR CAST(substr(release_date, 1, 4) AS INTEGER) = ?3) \
     UNION ALL \
     SELECT 'show', id, title, NULL, tmdb_id, imdb_id, tvdb_id, trakt_id, tvmaze_id, title_key \
     FROM shows WHERE title_key >= ?1 AND title_key < ?2 AND ?4 <> 'movie') \
     ORDER BY title_key <> ?1, length(title_key), title, id LIMIT ?5";

const SEASONS_OWNED_ELSEWHERE: &str = "SELECT id FROM seasons WHERE show_id <> ? \
     AND id IN (SELECT value FROM json_each(?)) LIMIT 1";
const EPISODES_OWNED_ELSEWHERE: &str = "SELECT id FROM episodes WHERE show_id <> ? \
     AND id IN (SELECT value FROM json_each(?)) LIMIT 1";

fn genre_list(col: &str, rows: Vec<sqlx::sqlite::SqliteRow>) -> StoreResult<Vec<Genre>> {
    rows.iter()
        .map(|r| required(col, r.text("genre")?, Genre::parse))
        .collect()
}

fn minutes(col: &str, v: i64) -> StoreResult<Minutes> {
    Minutes::new("runtimeMinutes", v).map_err(|e| corrupt(col, e))
}

impl SqliteUow {
    async fn load_show(&mut self, show_id: &str) -> StoreResult<Option<Show>> {
        let Some(row) = sqlx::query(
            "SELECT id, title, status, tmdb_id, imdb_id, tvdb_id, trakt_id, tvmaze_id \
             FROM shows WHERE id = ?",
        )
        .bind(show_id)
        .fetch_optional(self.conn())
        .await
        .map_err(db_err)?
        else {
            return Ok(None);
        };
        let genres =
            sqlx::query("SELECT genre FROM show_genres WHERE show_id = ? ORDER BY position")
                .bind(show_id)
                .fetch_all(self.conn())
                .await
                .map_err(db_err)?;
        let seasons = sqlx::query(
            "SELECT id, season_number, tmdb_id, imdb_id, tvdb_id, trakt_id, tvmaze_id \
             FROM seasons WHERE show_id = ? ORDER BY season_number",
        )
        .bind(show_id)
        .fetch_all(self.conn())
        .await
        .map_err(db_err)?;
        let episodes = sqlx::query(
            "SELECT id, season_id, episode_number, title, runtime_minutes, air_date, \
             tmdb_id, imdb_id, tvdb_id, trakt_id, tvmaze_id \
             FROM episodes WHERE show_id = ? ORDER BY episode_number",
        )
        .bind(show_id)
        .fetch_all(self.conn())
        .await
        .map_err(db_err)?;

        let mut by_season: HashMap<uuid::Uuid, Vec<Episode>> = HashMap::new();
        for e in &episodes {
            by_season
                .entry(e.uuid("season_id")?)
                .or_default()
                .push(Episode {
                    id: EpisodeId::from(e.uuid("id")?),
                    number: e.u32("episode_number")?,
                    title: required("episode title", e.text("title")?, Title::parse)?,
                    runtime: minutes("episode runtime", e.int("runtime_minutes")?)?,
                    air_date: e.date_opt("air_date")?,
                    external_ids: decode::external_ids(e)?,
                });
        }
        let seasons = seasons
            .iter()
            .map(|s| {
                let sid = s.uuid("id")?;
                Ok(Season {
                    id: SeasonId::from(sid),
                    number: s.u32("season_number")?,
                    episodes: by_season.remove(&sid).unwrap_or_default(),
                    external_ids: decode::external_ids(s)?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let status = row.text("status")?;
        let mut show = Show::new(
            ShowId::from(row.uuid("id")?),
            required("show title", row.text("title")?, Title::parse)?,
            ShowStatus::parse(&status).ok_or_else(|| corrupt("show status", &status))?,
            genre_list("show genre", genres)?,
            seasons,
        )
        .map_err(|e| corrupt("show", e))?;
        show.external_ids = decode::external_ids(&row)?;
        Ok(Some(show))
    }

    /// Refuses (`Conflict`, naming the holder) an external id of `ids` that an item of the
    /// same kind owned by someone other than `owner` holds: `sql` is one of the `HELD_BY_*`
    /// queries, `owner` the movie's or the show's id.
    async fn refuse_held_ids(
        &mut self,
        sql: &'static str,
        kind: &str,
        owner: &str,
        ids: &ExternalIds,
    ) -> StoreResult<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let query = sqlx::query(sql).bind(owner);
        let holder = bind_external_ids(query, ids)
            .fetch_optional(self.conn())
            .await
            .map_err(db_err)?;
        match holder {
            Some(row) => Err(StoreError::Conflict(ids.held_by(kind, &row.text("id")?))),
            None => Ok(()),
        }
    }

    /// The first of `ids` (a JSON array) that `sql` finds owned by another show.
    async fn owned_elsewhere(
        &mut self,
        sql: &'static str,
        show: ShowId,
        ids: String,
    ) -> StoreResult<Option<String>> {
        let row = sqlx::query(sql)
            .bind(id(show))
            .bind(ids)
            .fetch_optional(self.conn())
            .await
            .map_err(db_err)?;
        row.map(|r| r.text("id")).transpose()
    }
}

/// The items holding an external id in column `$col` (`?1`), movies first.
macro_rules! find_external {
    ($col:literal) => {
        concat!(
            "SELECT 'movie' AS kind, id, NULL AS show_id FROM movies WHERE ",
            $col,
            " = ?1 \
             UNION ALL SELECT 'show', id, NULL FROM shows WHERE ",
            $col,
            " = ?1 \
             UNION ALL SELECT 'season', id, show_id FROM seasons WHERE ",
            $col,
            " = ?1 \
             UNION ALL SELECT 'episode', id, show_id FROM episodes WHERE ",
            $col,
            " = ?1"
        )
    };
}

/// [`find_external!`] for each provider.
fn find_external_sql(provider: viewing_domain::Provider) -> &'static str {
    use viewing_domain::Provider;
    match provider {
        Provider::Tmdb => find_external!("tmdb_id"),
        Provider::Imdb => find_external!("imdb_id"),
        Provider::Tvdb => find_external!("tvdb_id"),
        Provider::Trakt => find_external!("trakt_id"),
        Provider::Tvmaze => find_external!("tvmaze_id"),
    }
}

#[async_trait]
impl CatalogRepository for SqliteUow {
    async fn movie(&mut self, movie_id: MovieId) -> StoreResult<Option<Movie>> {
        let Some(row) = sqlx::query(
            "SELECT id, title, runtime_minutes, release_date, tmdb_id, imdb_id, tvdb_id, \
                 trakt_id, tvmaze_id FROM movies WHERE id = ?",
        )
        .bind(id(movie_id))
        .fetch_optional(self.conn())
        .await
        .map_err(db_err)?
        else {
            return Ok(None);
        };
        let genres =
            sqlx::query("SELECT genre FROM movie_genres WHERE movie_id = ? ORDER BY position")
                .bind(id(movie_id))
                .fetch_all(self.conn())
                .await
                .map_err(db_err)?;
        Ok(Some(Movie {
            id: MovieId::from(row.uuid("id")?),
            title: required("movie title", row.text("title")?, Title::parse)?,
            runtime: minutes("movie runtime", row.int("runtime_minutes")?)?,
            genres: genre_list("movie genre", genres)?,
            release_date: row.date_opt("release_date")?,
            external_ids: decode::external_ids(&row)?,
        }))
    }

    async fn show(&mut self, show_id: ShowId) -> StoreResult<Option<Show>> {
        self.load_show(&id(show_id)).await
    }

    async fn show_of_episode(&mut self, episode: EpisodeId) -> StoreResult<Option<Show>> {
        let show_id = sqlx::query("SELECT show_id FROM episodes WHERE id = ?")
            .bind(id(episode))
            .fetch_optional(self.conn())
            .await
            .map_err(db_err)?
            .map(|r| r.text("show_id"))
            .transpose()?;
        match show_id {
            Some(s) => self.load_show(&s).await,
            None => Ok(None),
        }
    }

    async fn titles(&mut self, ids: &[uuid::Uuid]) -> StoreResult<HashMap<uuid::Uuid, String>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let list = id_list(ids.iter().copied());
        let rows = sqlx::query(
            "SELECT id, title FROM movies WHERE id IN (SELECT value FROM json_each(?1)) \
             UNION ALL SELECT id, title FROM shows WHERE id IN (SELECT value FROM json_each(?1))",
        )
        .bind(list)
        .fetch_all(self.conn())
        .await
        .map_err(db_err)?;
        let mut out = HashMap::with_capacity(rows.len());
        for r in &rows {
            // A movie wins over a show with the same id, as in the memory store.
            out.entry(r.uuid("id")?).or_insert(r.text("title")?);
        }
        Ok(out)
    }

    async fn upsert_movie(&mut self, movie: &Movie) -> StoreResult<()> {
        let movie_id = id(movie.id);
        self.refuse_held_ids(HELD_BY_MOVIE, "movie", &movie_id, &movie.external_ids)
            .await?;
        sqlx::query("UPDATE catalog_version SET version = version + 1 WHERE id = 1")
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        let insert = sqlx::query(
            "INSERT INTO movies (id, title, runtime_minutes, release_date, tmdb_id, imdb_id, \
             tvdb_id, trakt_id, tvmaze_id, title_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (id) DO UPDATE SET title = excluded.title, \
             runtime_minutes = excluded.runtime_minutes, release_date = excluded.release_date, \
             tmdb_id = excluded.tmdb_id, imdb_id = excluded.imdb_id, \
             tvdb_id = excluded.tvdb_id, trakt_id = excluded.trakt_id, \
             tvmaze_id = excluded.tvmaze_id, title_key = excluded.title_key",
        )
        .bind(&movie_id)
        .bind(movie.title.as_str())
        .bind(i64::from(movie.runtime.get()))
        .bind(movie.release_date.map(date));
        let insert =
            bind_external_ids(insert, &movie.external_ids).bind(title_key(movie.title.as_str()));
        insert.execute(self.conn()).await.map_err(db_err)?;
        self.replace_genres(MOVIE_GENRES, &movie_id, &movie.genres)
            .await
    }

    async fn upsert_show(&mut self, show: &Show) -> StoreResult<()> {
        // Refuse before writing anything, so the conflict leaves the unit of work usable.
        let season_ids = id_list(show.seasons().iter().map(|s| s.id));
        if let Some(taken) = self
            .owned_elsewhere(SEASONS_OWNED_ELSEWHERE, show.id, season_ids)
            .await?
        {
            return Err(StoreError::Conflict(format!(
                "season {taken} belongs to another show"
            )));
        }
        let episode_ids = id_list(show.episodes().map(|e| e.episode.id));
        if let Some(taken) = self
            .owned_elsewhere(EPISODES_OWNED_ELSEWHERE, show.id, episode_ids)
            .await?
        {
            return Err(StoreError::Conflict(format!(
                "episode {taken} belongs to another show"
            )));
        }
        let show_id = id(show.id);
        self.refuse_held_ids(HELD_BY_SHOW, "show", &show_id, &show.external_ids)
            .await?;
        for season in show.seasons() {
            self.refuse_held_ids(HELD_BY_SEASON, "season", &show_id, &season.external_ids)
                .await?;
            for e in &season.episodes {
                self.refuse_held_ids(HELD_BY_EPISODE, "episode", &show_id, &e.external_ids)
                    .await?;
            }
        }
        sqlx::query("UPDATE catalog_version SET version = version + 1 WHERE id = 1")
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        let insert = sqlx::query(
            "INSERT INTO shows (id, title, status, tmdb_id, imdb_id, tvdb_id, trakt_id, \
             tvmaze_id, title_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (id) DO UPDATE SET title = excluded.title, status = excluded.status, \
             tmdb_id = excluded.tmdb_id, imdb_id = excluded.imdb_id, \
             tvdb_id = excluded.tvdb_id, trakt_id = excluded.trakt_id, \
             tvmaze_id = excluded.tvmaze_id, title_key = excluded.title_key",
        )
        .bind(&show_id)
        .bind(show.title.as_str())
        .bind(show.status.as_str());
        bind_external_ids(insert, &show.external_ids)
            .bind(title_key(show.title.as_str()))
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        for sql in [
            "DELETE FROM episodes WHERE show_id = ?",
            "DELETE FROM seasons WHERE show_id = ?",
        ] {
            sqlx::query(sql)
                .bind(&show_id)
                .execute(self.conn())
                .await
                .map_err(db_err)?;
        }
        self.replace_genres(SHOW_GENRES, &show_id, &show.genres)
            .await?;
        for season in show.seasons() {
            let season_id = id(season.id);
            let insert = sqlx::query(
                "INSERT INTO seasons (id, show_id, season_number, tmdb_id, imdb_id, tvdb_id, \
                 trakt_id, tvmaze_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(&season_id)
            .bind(&show_id)
            .bind(i64::from(season.number));
            bind_external_ids(insert, &season.external_ids)
                .execute(self.conn())
                .await
                .map_err(db_err)?;
            for e in &season.episodes {
                let insert = sqlx::query(
                    "INSERT INTO episodes (id, season_id, show_id, episode_number, title, \
                     runtime_minutes, air_date, tmdb_id, imdb_id, tvdb_id, trakt_id, tvmaze_id) \
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                )
                .bind(id(e.id))
                .bind(&season_id)
                .bind(&show_id)
                .bind(i64::from(e.number))
                .bind(e.title.as_str())
                .bind(i64::from(e.runtime.get()))
                .bind(e.air_date.map(date));
                bind_external_ids(insert, &e.external_ids)
                    .execute(self.conn())
                    .await
                    .map_err(db_err)?;
            }
        }
        Ok(())
    }

    async fn find_by_external_id(
        &mut self,
        provider: viewing_domain::Provider,
        value: &str,
    ) -> StoreResult<Vec<viewing_domain::ExternalHit>> {
        let rows = sqlx::query(find_external_sql(provider))
            .bind(value)
            .fetch_all(self.conn())
            .await
            .map_err(db_err)?;
        decode::external_hits(&rows)
    }

    async fn search_titles(
        &mut self,
        query: &viewing_domain::search::TitleQuery,
    ) -> StoreResult<Vec<viewing_domain::search::TitleHit>> {
        let (low, high) = adapters_sql::encode::title_key_range(query);
        let rows = sqlx::query(SEARCH_TITLES)
            .bind(low)
            .bind(high)
            .bind(query.year)
            .bind(adapters_sql::encode::title_kind(query.kind))
            .bind(i64::from(query.limit))
            .fetch_all(self.conn())
            .await
            .map_err(db_err)?;
        rows.iter().map(decode::title_hit).collect()
    }

    async fn catalog_version(&mut self) -> StoreResult<i64> {
        let row = sqlx::query("SELECT version FROM catalog_version WHERE id = 1")
            .fetch_one(self.conn())
            .await
            .map_err(db_err)?;
        row.int("version")
    }
}

#[async_trait]
impl UserRepository for SqliteUow {
    async fn ensure_user(&mut self, user: UserId, now: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO users (id, created_at, revision) VALUES (?, ?, 1) \
             ON CONFLICT (id) DO UPDATE SET revision = revision + 1",
        )
        .bind(id(user))
        .bind(ts(now))
        .execute(self.conn())
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn user_revision(&mut self, user: UserId) -> StoreResult<i64> {
        let row = sqlx::query("SELECT revision FROM users WHERE id = ?")
            .bind(id(user))
            .fetch_optional(self.conn())
            .await
            .map_err(db_err)?;
        row.map_or(Ok(0), |r| r.int("revision"))
    }

    async fn user_revisions(
        &mut self,
        users: &[UserId],
    ) -> StoreResult<std::collections::HashMap<UserId, i64>> {
        let rows = sqlx::query(
            "SELECT id, revision FROM users WHERE id IN (SELECT value FROM json_each(?))",
        )
        .bind(crate::codec::id_list(users.iter().copied()))
        .fetch_all(self.conn())
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(adapters_sql::decode::user_revision)
            .collect()
    }
}
