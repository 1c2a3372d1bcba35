//! The unit of work: one READ COMMITTED transaction; the catalog and user repositories.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Postgres, Transaction};
use uuid::Uuid;
use viewing_domain::ports::{
    CatalogRepository, StoreError, StoreResult, UserItemLock, UserRepository,
};
use viewing_domain::values::{Genre, Minutes, Title};
use viewing_domain::{
    Episode, EpisodeId, ExternalIds, Movie, MovieId, Season, SeasonId, Show, ShowId, ShowStatus,
    UserId,
};

use viewing_domain::search::title_key;

use crate::codec::{RowExt, corrupt, db_err, get, int, required};
use adapters_sql::decode;

/// One transaction over every repository. Dropping it without [`Transaction::commit`](viewing_domain::ports::Transaction::commit) rolls
/// back everything it wrote (sqlx sends the `ROLLBACK` when the connection is next used or
/// returned to the pool).
#[derive(Debug)]
pub struct PgUow {
    tx: Transaction<'static, Postgres>,
}

impl PgUow {
    pub(crate) fn new(tx: Transaction<'static, Postgres>) -> Self {
        Self { tx }
    }

    pub(crate) fn conn(&mut self) -> &mut PgConnection {
        &mut self.tx
    }
}

#[async_trait]
impl UserItemLock for PgUow {
    /// A transaction-scoped advisory lock on the pair, held until commit or rollback.
    ///
    /// Why an advisory lock rather than row locks or SERIALIZABLE: the rows to protect may not
    /// exist yet (the first watch of a show creates its progress row; a movie has none), so
    /// `SELECT … FOR UPDATE` has nothing to lock; SERIALIZABLE would turn every race into a
    /// retried transaction and still needs the application to retry correctly. The advisory
    /// lock makes concurrent writers of one (user, item) queue, and each one, at READ COMMITTED,
    /// then reads everything the previous one committed. Different users or items never wait
    /// for each other. The key is PostgreSQL's own `hashtextextended` of the two ids, so every
    /// replica, whatever its build, computes the same key; a collision only makes two unrelated
    /// pairs queue.
    #[tracing::instrument(level = "debug", skip_all, fields(%user))]
    async fn lock_user_item(&mut self, user: UserId, item: Uuid) -> StoreResult<()> {
        sqlx::query(
            "SELECT pg_advisory_xact_lock(hashtextextended($1::text || '/' || $2::text, 0))",
        )
        .bind(user.as_uuid())
        .bind(item)
        .execute(self.conn())
        .await
        .map_err(db_err)?;
        Ok(())
    }
}

#[async_trait]
impl viewing_domain::ports::Transaction for PgUow {
    #[tracing::instrument(level = "debug", skip_all)]
    async fn commit(self) -> StoreResult<()> {
        self.tx.commit().await.map_err(db_err)
    }
}

fn minutes(col: &str, v: i64) -> StoreResult<Minutes> {
    Minutes::new("runtimeMinutes", v).map_err(|e| corrupt(col, e))
}

fn genres(col: &str, raw: Vec<String>) -> StoreResult<Vec<Genre>> {
    raw.into_iter()
        .map(|g| required(col, g, Genre::parse))
        .collect()
}

impl PgUow {
    async fn load_show(&mut self, show_id: Uuid) -> StoreResult<Option<Show>> {
        let Some(row) = sqlx::query(
            "SELECT id, title, status, tmdb_id, imdb_id, tvdb_id, trakt_id, tvmaze_id, \
             ARRAY(SELECT genre FROM show_genres g \
             WHERE g.show_id = s.id ORDER BY position) AS genres FROM shows s WHERE id = $1",
        )
        .bind(show_id)
        .fetch_optional(self.conn())
        .await
        .map_err(db_err)?
        else {
            return Ok(None);
        };
        let seasons = sqlx::query(
            "SELECT id, season_number, tmdb_id, imdb_id, tvdb_id, trakt_id, tvmaze_id \
             FROM seasons WHERE show_id = $1 ORDER BY season_number",
        )
        .bind(show_id)
        .fetch_all(self.conn())
        .await
        .map_err(db_err)?;
        let episodes = sqlx::query(
            "SELECT id, season_id, episode_number, title, runtime_minutes, air_date, \
             tmdb_id, imdb_id, tvdb_id, trakt_id, tvmaze_id \
             FROM episodes WHERE show_id = $1 ORDER BY episode_number",
        )
        .bind(show_id)
        .fetch_all(self.conn())
        .await
        .map_err(db_err)?;

        let mut by_season: HashMap<Uuid, Vec<Episode>> = HashMap::new();
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
            .map(|s: &PgRow| {
                let sid: Uuid = s.uuid("id")?;
                Ok(Season {
                    id: SeasonId::from(sid),
                    number: s.u32("season_number")?,
                    episodes: by_season.remove(&sid).unwrap_or_default(),
                    external_ids: decode::external_ids(s)?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let status: String = row.text("status")?;
        let mut show = Show::new(
            ShowId::from(row.uuid("id")?),
            required("show title", row.text("title")?, Title::parse)?,
            ShowStatus::parse(&status).ok_or_else(|| corrupt("show status", &status))?,
            genres("show genre", get(&row, "genres")?)?,
            seasons,
        )
        .map_err(|e| corrupt("show", e))?;
        show.external_ids = decode::external_ids(&row)?;
        Ok(Some(show))
    }

    /// Refuses (`Conflict`, naming the holder) an external id of `ids` that an item of the
    /// same kind owned by someone other than `owner` holds: `sql` is one of the `HELD_BY_*`
    /// queries, `owner` the movie's or the show's id. Checked before writing: a failed
    /// statement would abort the transaction.
    async fn refuse_held_ids(
        &mut self,
        sql: &'static str,
        kind: &str,
        owner: Uuid,
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
            Some(row) => Err(StoreError::Conflict(
                ids.held_by(kind, &row.uuid("id")?.to_string()),
            )),
            None => Ok(()),
        }
    }

    /// The first of `ids` that `sql` finds owned by another show.
    async fn owned_elsewhere(
        &mut self,
        sql: &'static str,
        show: ShowId,
        ids: Vec<Uuid>,
    ) -> StoreResult<Option<Uuid>> {
        let row = sqlx::query(sql)
            .bind(show.as_uuid())
            .bind(ids)
            .fetch_optional(self.conn())
            .await
            .map_err(db_err)?;
        row.map(|r| r.uuid("id")).transpose()
    }
}

/// Queries for an item of one kind, owned elsewhere (`$1`), holding one of the external ids
/// `$2`–`$6` (in [`Provider::ALL`](viewing_domain::Provider::ALL) order).
macro_rules! held_by {
    ($table:literal, $owner:literal) => {
        concat!(
            "SELECT id FROM ",
            $table,
            " WHERE ",
            $owner,
            " <> $1 AND (tmdb_id = $2 OR imdb_id = $3 OR tvdb_id = $4 OR trakt_id = $5 \
             OR tvmaze_id = $6) LIMIT 1"
        )
    };
}
const HELD_BY_MOVIE: &str = held_by!("movies", "id");
const HELD_BY_SHOW: &str = held_by!("shows", "id");
const HELD_BY_SEASON: &str = held_by!("seasons", "show_id");
const HELD_BY_EPISODE: &str = held_by!("episodes", "show_id");

/// Binds the values of the five external-id columns, in provider order.
fn bind_external_ids<'q>(
    query: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    ids: &ExternalIds,
) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
    adapters_sql::encode::external_id_values(ids)
        .into_iter()
        .fold(query, |q, v| q.bind(v))
}

/// Binds five `text[]`, one per provider (in provider order), of the items' external ids.
fn bind_external_id_arrays<'q, 'i>(
    query: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    items: impl Iterator<Item = &'i ExternalIds>,
) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
    let mut columns: [Vec<Option<String>>; 5] = Default::default();
    for ids in items {
        for (column, value) in columns
            .iter_mut()
            .zip(adapters_sql::encode::external_id_values(ids))
        {
            column.push(value);
        }
    }
    columns.into_iter().fold(query, |q, c| q.bind(c))
}

/// Movies and shows by title key (SPEC §10): `$1 <= title_key < $2` (see
/// `adapters_sql::encode::title_key_range`; the column compares as bytes), a movie's year
/// `$3`, the kind `$4` (`movie`, `show`, `any`), in the domain's rank order, at most `$5`.
const SEARCH_TITLES: &str = "SELECT kind, id, title, year, tmdb_id, imdb_id, tvdb_id, \
     trakt_id, tvmaze_id FROM ( \
     SELECT 'movie' AS kind, id, title, CAST(EXTRACT(YEAR FROM release_date) AS BIGINT) AS year, \
       tmdb_id, imdb_id, tvdb_id, trakt_id, tvmaze_id, title_key FROM movies \
     WHERE title_key >= $1 AND title_key < $2 AND $4 <> 'show' \
       AND ($3::int IS NULL OR EXTRACT(YEAR FROM release_date) = $3::int) \
     UNION ALL \
     SELECT 'show', id, title, NULL, tmdb_id, imdb_id, tvdb_id, trakt_id, tvmaze_id, title_key \
     FROM shows WHERE title_key >= $1 AND title_key < $2 AND $4 <> 'movie') AS hits \
     ORDER BY title_key <> $1, char_length(title_key), title COLLATE \"C\", id LIMIT $5";

const SEASONS_OWNED_ELSEWHERE: &str =
    "SELECT id FROM seasons WHERE show_id <> $1 AND id = ANY($2) LIMIT 1";
const EPISODES_OWNED_ELSEWHERE: &str =
    "SELECT id FROM episodes WHERE show_id <> $1 AND id = ANY($2) LIMIT 1";

/// The items holding an external id in column `$col` (`$1`), movies first.
macro_rules! find_external {
    ($col:literal) => {
        concat!(
            "SELECT 'movie' AS kind, id, NULL::uuid AS show_id FROM movies WHERE ",
            $col,
            " = $1 \
             UNION ALL SELECT 'show', id, NULL::uuid FROM shows WHERE ",
            $col,
            " = $1 \
             UNION ALL SELECT 'season', id, show_id FROM seasons WHERE ",
            $col,
            " = $1 \
             UNION ALL SELECT 'episode', id, show_id FROM episodes WHERE ",
            $col,
            " = $1"
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
impl CatalogRepository for PgUow {
    async fn movie(&mut self, movie_id: MovieId) -> StoreResult<Option<Movie>> {
        let Some(row) = sqlx::query(
            "SELECT id, title, runtime_minutes, release_date, tmdb_id, imdb_id, tvdb_id, \
             trakt_id, tvmaze_id, ARRAY(SELECT genre FROM \
             movie_genres g WHERE g.movie_id = m.id ORDER BY position) AS genres \
             FROM movies m WHERE id = $1",
        )
        .bind(movie_id.as_uuid())
        .fetch_optional(self.conn())
        .await
        .map_err(db_err)?
        else {
            return Ok(None);
        };
        Ok(Some(Movie {
            id: MovieId::from(row.uuid("id")?),
            title: required("movie title", row.text("title")?, Title::parse)?,
            runtime: minutes("movie runtime", row.int("runtime_minutes")?)?,
            genres: genres("movie genre", get(&row, "genres")?)?,
            release_date: row.date_opt("release_date")?,
            external_ids: decode::external_ids(&row)?,
        }))
    }

    async fn show(&mut self, show_id: ShowId) -> StoreResult<Option<Show>> {
        self.load_show(show_id.as_uuid()).await
    }

    async fn show_of_episode(&mut self, episode: EpisodeId) -> StoreResult<Option<Show>> {
        let show_id: Option<Uuid> = sqlx::query("SELECT show_id FROM episodes WHERE id = $1")
            .bind(episode.as_uuid())
            .fetch_optional(self.conn())
            .await
            .map_err(db_err)?
            .map(|r| r.uuid("show_id"))
            .transpose()?;
        match show_id {
            Some(s) => self.load_show(s).await,
            None => Ok(None),
        }
    }

    async fn titles(&mut self, ids: &[Uuid]) -> StoreResult<HashMap<Uuid, String>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let rows = sqlx::query(
            "SELECT id, title, 0 AS rank FROM movies WHERE id = ANY($1) \
             UNION ALL SELECT id, title, 1 FROM shows WHERE id = ANY($1) ORDER BY rank",
        )
        .bind(ids)
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
        self.refuse_held_ids(
            HELD_BY_MOVIE,
            "movie",
            movie.id.as_uuid(),
            &movie.external_ids,
        )
        .await?;
        sqlx::query("UPDATE catalog_version SET version = version + 1 WHERE id = 1")
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        let insert = sqlx::query(
            "INSERT INTO movies (id, title, runtime_minutes, release_date, tmdb_id, imdb_id, \
             tvdb_id, trakt_id, tvmaze_id, title_key) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT (id) DO UPDATE SET title = excluded.title, \
             runtime_minutes = excluded.runtime_minutes, release_date = excluded.release_date, \
             tmdb_id = excluded.tmdb_id, imdb_id = excluded.imdb_id, \
             tvdb_id = excluded.tvdb_id, trakt_id = excluded.trakt_id, \
             tvmaze_id = excluded.tvmaze_id, title_key = excluded.title_key",
        )
        .bind(movie.id.as_uuid())
        .bind(movie.title.as_str())
        .bind(int(movie.runtime.get())?)
        .bind(movie.release_date);
        bind_external_ids(insert, &movie.external_ids)
            .bind(title_key(movie.title.as_str()))
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        sqlx::query("DELETE FROM movie_genres WHERE movie_id = $1")
            .bind(movie.id.as_uuid())
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        let names: Vec<&str> = movie.genres.iter().map(Genre::as_str).collect();
        sqlx::query(
            "INSERT INTO movie_genres (movie_id, position, genre) \
             SELECT $1, g.ord - 1, g.genre FROM UNNEST($2::text[]) WITH ORDINALITY AS g(genre, ord)",
        )
        .bind(movie.id.as_uuid())
        .bind(names)
        .execute(self.conn())
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn upsert_show(&mut self, show: &Show) -> StoreResult<()> {
        // Refuse before writing anything: a failed statement would abort the transaction.
        let season_ids: Vec<Uuid> = show.seasons().iter().map(|s| s.id.as_uuid()).collect();
        if let Some(taken) = self
            .owned_elsewhere(SEASONS_OWNED_ELSEWHERE, show.id, season_ids.clone())
            .await?
        {
            return Err(StoreError::Conflict(format!(
                "season {taken} belongs to another show"
            )));
        }
        let episode_ids: Vec<Uuid> = show.episodes().map(|e| e.episode.id.as_uuid()).collect();
        if let Some(taken) = self
            .owned_elsewhere(EPISODES_OWNED_ELSEWHERE, show.id, episode_ids.clone())
            .await?
        {
            return Err(StoreError::Conflict(format!(
                "episode {taken} belongs to another show"
            )));
        }
        let show_id = show.id.as_uuid();
        self.refuse_held_ids(HELD_BY_SHOW, "show", show_id, &show.external_ids)
            .await?;
        for season in show.seasons() {
            self.refuse_held_ids(HELD_BY_SEASON, "season", show_id, &season.external_ids)
                .await?;
            for e in &season.episodes {
                self.refuse_held_ids(HELD_BY_EPISODE, "episode", show_id, &e.external_ids)
                    .await?;
            }
        }
        sqlx::query("UPDATE catalog_version SET version = version + 1 WHERE id = 1")
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        let insert = sqlx::query(
            "INSERT INTO shows (id, title, status, tmdb_id, imdb_id, tvdb_id, trakt_id, \
             tvmaze_id, title_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (id) DO UPDATE SET title = excluded.title, status = excluded.status, \
             tmdb_id = excluded.tmdb_id, imdb_id = excluded.imdb_id, \
             tvdb_id = excluded.tvdb_id, trakt_id = excluded.trakt_id, \
             tvmaze_id = excluded.tvmaze_id, title_key = excluded.title_key",
        )
        .bind(show_id)
        .bind(show.title.as_str())
        .bind(show.status.as_str());
        bind_external_ids(insert, &show.external_ids)
            .bind(title_key(show.title.as_str()))
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        for sql in [
            "DELETE FROM show_genres WHERE show_id = $1",
            "DELETE FROM episodes WHERE show_id = $1",
            "DELETE FROM seasons WHERE show_id = $1",
        ] {
            sqlx::query(sql)
                .bind(show_id)
                .execute(self.conn())
                .await
                .map_err(db_err)?;
        }
        let names: Vec<&str> = show.genres.iter().map(Genre::as_str).collect();
        sqlx::query(
            "INSERT INTO show_genres (show_id, position, genre) \
             SELECT $1, g.ord - 1, g.genre FROM UNNEST($2::text[]) WITH ORDINALITY AS g(genre, ord)",
        )
        .bind(show_id)
        .bind(names)
        .execute(self.conn())
        .await
        .map_err(db_err)?;
        let season_numbers = show
            .seasons()
            .iter()
            .map(|s| int(s.number))
            .collect::<StoreResult<Vec<i32>>>()?;
        let insert = sqlx::query(
            "INSERT INTO seasons (id, show_id, season_number, tmdb_id, imdb_id, tvdb_id, \
             trakt_id, tvmaze_id) \
             SELECT s.id, $1, s.number, s.tmdb, s.imdb, s.tvdb, s.trakt, s.tvmaze \
             FROM UNNEST($2::uuid[], $3::int4[], $4::text[], $5::text[], $6::text[], \
             $7::text[], $8::text[]) AS s(id, number, tmdb, imdb, tvdb, trakt, tvmaze)",
        )
        .bind(show_id)
        .bind(season_ids)
        .bind(season_numbers);
        bind_external_id_arrays(insert, show.seasons().iter().map(|s| &s.external_ids))
            .execute(self.conn())
            .await
            .map_err(db_err)?;

        let mut season_of = Vec::new();
        let mut numbers = Vec::new();
        let mut titles = Vec::new();
        let mut runtimes = Vec::new();
        let mut air_dates: Vec<Option<NaiveDate>> = Vec::new();
        for e in show.episodes() {
            season_of.push(e.season.id.as_uuid());
            numbers.push(int(e.episode.number)?);
            titles.push(e.episode.title.as_str());
            runtimes.push(int(e.episode.runtime.get())?);
            air_dates.push(e.episode.air_date);
        }
        let insert = sqlx::query(
            "INSERT INTO episodes (id, season_id, show_id, episode_number, title, \
             runtime_minutes, air_date, tmdb_id, imdb_id, tvdb_id, trakt_id, tvmaze_id) \
             SELECT e.id, e.season_id, $1, e.number, e.title, e.runtime, e.air_date, \
             e.tmdb, e.imdb, e.tvdb, e.trakt, e.tvmaze \
             FROM UNNEST($2::uuid[], $3::uuid[], $4::int4[], $5::text[], $6::int4[], \
             $7::date[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[]) \
             AS e(id, season_id, number, title, runtime, air_date, tmdb, imdb, tvdb, trakt, \
             tvmaze)",
        )
        .bind(show_id)
        .bind(episode_ids)
        .bind(season_of)
        .bind(numbers)
        .bind(titles)
        .bind(runtimes)
        .bind(air_dates);
        bind_external_id_arrays(insert, show.episodes().map(|e| &e.episode.external_ids))
            .execute(self.conn())
            .await
            .map_err(db_err)?;
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
        get(&row, "version")
    }
}

#[async_trait]
impl UserRepository for PgUow {
    async fn ensure_user(&mut self, user: UserId, now: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO users (id, created_at, revision) VALUES ($1, $2, 1) \
             ON CONFLICT (id) DO UPDATE SET revision = users.revision + 1",
        )
        .bind(user.as_uuid())
        .bind(now)
        .execute(self.conn())
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn user_revision(&mut self, user: UserId) -> StoreResult<i64> {
        let row = sqlx::query("SELECT revision FROM users WHERE id = $1")
            .bind(user.as_uuid())
            .fetch_optional(self.conn())
            .await
            .map_err(db_err)?;
        row.map_or(Ok(0), |r| r.int("revision"))
    }

    async fn user_revisions(
        &mut self,
        users: &[UserId],
    ) -> StoreResult<std::collections::HashMap<UserId, i64>> {
        let ids: Vec<uuid::Uuid> = users.iter().map(|u| u.as_uuid()).collect();
        let rows = sqlx::query("SELECT id, revision FROM users WHERE id = ANY($1)")
            .bind(&ids)
            .fetch_all(self.conn())
            .await
            .map_err(db_err)?;
        rows.iter()
            .map(adapters_sql::decode::user_revision)
            .collect()
    }
}
