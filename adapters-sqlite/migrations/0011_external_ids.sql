-- External ids (SPEC §10): how other services name each movie, show, season and episode. One
-- column per provider; an id names at most one item of its kind (partial unique indexes: most
-- items have none).
ALTER TABLE movies ADD COLUMN tmdb_id TEXT;
ALTER TABLE movies ADD COLUMN imdb_id TEXT;
ALTER TABLE movies ADD COLUMN tvdb_id TEXT;
ALTER TABLE movies ADD COLUMN trakt_id TEXT;
ALTER TABLE movies ADD COLUMN tvmaze_id TEXT;

ALTER TABLE shows ADD COLUMN tmdb_id TEXT;
ALTER TABLE shows ADD COLUMN imdb_id TEXT;
ALTER TABLE shows ADD COLUMN tvdb_id TEXT;
ALTER TABLE shows ADD COLUMN trakt_id TEXT;
ALTER TABLE shows ADD COLUMN tvmaze_id TEXT;

ALTER TABLE seasons ADD COLUMN tmdb_id TEXT;
ALTER TABLE seasons ADD COLUMN imdb_id TEXT;
ALTER TABLE seasons ADD COLUMN tvdb_id TEXT;
ALTER TABLE seasons ADD COLUMN trakt_id TEXT;
ALTER TABLE seasons ADD COLUMN tvmaze_id TEXT;

ALTER TABLE episodes ADD COLUMN tmdb_id TEXT;
ALTER TABLE episodes ADD COLUMN imdb_id TEXT;
ALTER TABLE episodes ADD COLUMN tvdb_id TEXT;
ALTER TABLE episodes ADD COLUMN trakt_id TEXT;
ALTER TABLE episodes ADD COLUMN tvmaze_id TEXT;

CREATE UNIQUE INDEX ux_movies_tmdb_id ON movies (tmdb_id) WHERE tmdb_id IS NOT NULL;
CREATE UNIQUE INDEX ux_movies_imdb_id ON movies (imdb_id) WHERE imdb_id IS NOT NULL;
CREATE UNIQUE INDEX ux_movies_tvdb_id ON movies (tvdb_id) WHERE tvdb_id IS NOT NULL;
CREATE UNIQUE INDEX ux_movies_trakt_id ON movies (trakt_id) WHERE trakt_id IS NOT NULL;
CREATE UNIQUE INDEX ux_movies_tvmaze_id ON movies (tvmaze_id) WHERE tvmaze_id IS NOT NULL;
CREATE UNIQUE INDEX ux_shows_tmdb_id ON shows (tmdb_id) WHERE tmdb_id IS NOT NULL;
CREATE UNIQUE INDEX ux_shows_imdb_id ON shows (imdb_id) WHERE imdb_id IS NOT NULL;
CREATE UNIQUE INDEX ux_shows_tvdb_id ON shows (tvdb_id) WHERE tvdb_id IS NOT NULL;
CREATE UNIQUE INDEX ux_shows_trakt_id ON shows (trakt_id) WHERE trakt_id IS NOT NULL;
CREATE UNIQUE INDEX ux_shows_tvmaze_id ON shows (tvmaze_id) WHERE tvmaze_id IS NOT NULL;
CREATE UNIQUE INDEX ux_seasons_tmdb_id ON seasons (tmdb_id) WHERE tmdb_id IS NOT NULL;
CREATE UNIQUE INDEX ux_seasons_imdb_id ON seasons (imdb_id) WHERE imdb_id IS NOT NULL;
CREATE UNIQUE INDEX ux_seasons_tvdb_id ON seasons (tvdb_id) WHERE tvdb_id IS NOT NULL;
CREATE UNIQUE INDEX ux_seasons_trakt_id ON seasons (trakt_id) WHERE trakt_id IS NOT NULL;
CREATE UNIQUE INDEX ux_seasons_tvmaze_id ON seasons (tvmaze_id) WHERE tvmaze_id IS NOT NULL;
CREATE UNIQUE INDEX ux_episodes_tmdb_id ON episodes (tmdb_id) WHERE tmdb_id IS NOT NULL;
CREATE UNIQUE INDEX ux_episodes_imdb_id ON episodes (imdb_id) WHERE imdb_id IS NOT NULL;
CREATE UNIQUE INDEX ux_episodes_tvdb_id ON episodes (tvdb_id) WHERE tvdb_id IS NOT NULL;
CREATE UNIQUE INDEX ux_episodes_trakt_id ON episodes (trakt_id) WHERE trakt_id IS NOT NULL;
CREATE UNIQUE INDEX ux_episodes_tvmaze_id ON episodes (tvmaze_id) WHERE tvmaze_id IS NOT NULL;
