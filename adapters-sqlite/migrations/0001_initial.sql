-- The viewing store on SQLite: the seed's six tables (snake_case) plus users, the catalog,
-- season completions, the outbox, processed events and idempotency keys.
--
-- Encodings (SQLite has no native types for these):
--   ids         lowercase hyphenated UUID text; text order equals UUID byte order, so
--               `(watch_date, id)` keyset paging orders exactly as PostgreSQL's uuid type does.
--   instants    UTC text 'YYYY-MM-DDTHH:MM:SS.ffffffZ', always six fraction digits (truncated
--               to microseconds, as TIMESTAMPTZ does), so text order is time order.
--   dates       'YYYY-MM-DD'.
--   booleans    0 / 1.
--   decimals    NUMERIC values as in the seed (rating 0.0-10.0, percent 0.00-100.00).

CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    created_at TEXT NOT NULL
);

-- Catalog ---------------------------------------------------------------------------------

CREATE TABLE movies (
    id TEXT PRIMARY KEY NOT NULL,
    title TEXT NOT NULL,
    runtime_minutes INTEGER NOT NULL CHECK (runtime_minutes >= 0),
    release_date TEXT
);

CREATE TABLE movie_genres (
    movie_id TEXT NOT NULL REFERENCES movies (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    genre TEXT NOT NULL,
    PRIMARY KEY (movie_id, position)
);

CREATE TABLE shows (
    id TEXT PRIMARY KEY NOT NULL,
    title TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('returning', 'ended', 'canceled'))
);

CREATE TABLE show_genres (
    show_id TEXT NOT NULL REFERENCES shows (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    genre TEXT NOT NULL,
    PRIMARY KEY (show_id, position)
);

CREATE TABLE seasons (
    id TEXT PRIMARY KEY NOT NULL,
    show_id TEXT NOT NULL REFERENCES shows (id) ON DELETE CASCADE,
    season_number INTEGER NOT NULL CHECK (season_number >= 0),
    UNIQUE (show_id, season_number)
);

CREATE TABLE episodes (
    id TEXT PRIMARY KEY NOT NULL,
    season_id TEXT NOT NULL REFERENCES seasons (id) ON DELETE CASCADE,
    -- Denormalised so "the show of this episode" is one index lookup.
    show_id TEXT NOT NULL REFERENCES shows (id) ON DELETE CASCADE,
    episode_number INTEGER NOT NULL CHECK (episode_number >= 0),
    title TEXT NOT NULL,
    runtime_minutes INTEGER NOT NULL CHECK (runtime_minutes >= 0),
    air_date TEXT,
    UNIQUE (season_id, episode_number)
);

CREATE INDEX ix_episodes_show_id ON episodes (show_id);

-- Viewing (the seed's tables) -------------------------------------------------------------

-- Records refer to catalog content without a foreign key: replacing a show's tree must never
-- be blocked by, or delete, anyone's history.
CREATE TABLE viewing_records (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    content_id TEXT NOT NULL,
    content_type TEXT NOT NULL CHECK (content_type IN ('movie', 'episode')),
    watch_date TEXT NOT NULL,
    viewing_platform TEXT,
    viewing_location TEXT,
    viewing_context TEXT,
    is_rewatch INTEGER NOT NULL DEFAULT 0,
    viewing_duration INTEGER, -- whole minutes
    -- No foreign key: a unit of work may move records and delete sessions in any order.
    binge_session_id TEXT,
    binge_session_pinned INTEGER NOT NULL DEFAULT 0,
    backfilled INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);

-- History reads walk this index newest first; `id` is the keyset tie-breaker.
CREATE INDEX ix_viewing_records_user_id_watch_date ON viewing_records (user_id, watch_date, id);
CREATE INDEX ix_viewing_records_content_id ON viewing_records (content_id, user_id);

-- The episode details of a viewing record (same id).
CREATE TABLE episode_viewing_records (
    id TEXT PRIMARY KEY NOT NULL REFERENCES viewing_records (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id),
    episode_id TEXT NOT NULL,
    show_id TEXT NOT NULL,
    season_number INTEGER NOT NULL,
    episode_number INTEGER NOT NULL,
    watch_date TEXT NOT NULL,
    platform TEXT,
    binge_session_id TEXT,
    viewing_duration INTEGER,
    created_at TEXT NOT NULL
);

CREATE INDEX ix_episode_viewing_records_user_id_show_id
    ON episode_viewing_records (user_id, show_id);

CREATE TABLE viewing_companions (
    id TEXT PRIMARY KEY NOT NULL,
    viewing_record_id TEXT NOT NULL REFERENCES viewing_records (id) ON DELETE CASCADE,
    -- Names come back in the order they were given.
    position INTEGER NOT NULL,
    companion_name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (viewing_record_id, position)
);

CREATE TABLE binge_sessions (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    show_id TEXT NOT NULL,
    start_time TEXT NOT NULL,
    end_time TEXT NOT NULL,
    episodes_watched INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);

CREATE INDEX ix_binge_sessions_user_id_show_id ON binge_sessions (user_id, show_id, start_time);

CREATE TABLE show_progress (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    show_id TEXT NOT NULL,
    last_watched_season INTEGER,
    last_watched_episode INTEGER,
    last_watched_episode_id TEXT,
    last_watch_date TEXT,
    total_episodes_watched INTEGER NOT NULL DEFAULT 0,
    -- How many rows `season_completions` has for this show (the seed's column).
    completed_seasons INTEGER NOT NULL DEFAULT 0,
    is_completed INTEGER NOT NULL DEFAULT 0,
    completion_date TEXT,
    last_activity_at TEXT,
    inactivity_reported_at TEXT,
    updated_at TEXT NOT NULL,
    UNIQUE (user_id, show_id)
);

CREATE INDEX ix_show_progress_user_id_last_activity_at
    ON show_progress (user_id, last_activity_at);
-- The daily inactivity job's candidates only.
CREATE INDEX ix_show_progress_idle ON show_progress (last_activity_at)
    WHERE is_completed = 0 AND inactivity_reported_at IS NULL AND total_episodes_watched > 0;

-- Seasons watched in full for the first time, with their dates.
CREATE TABLE season_completions (
    user_id TEXT NOT NULL,
    show_id TEXT NOT NULL,
    season_number INTEGER NOT NULL,
    season_id TEXT NOT NULL,
    completed_at TEXT NOT NULL,
    PRIMARY KEY (user_id, show_id, season_number),
    FOREIGN KEY (user_id, show_id) REFERENCES show_progress (user_id, show_id) ON DELETE CASCADE
);

CREATE TABLE abandoned_content (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    content_id TEXT NOT NULL,
    content_type TEXT NOT NULL CHECK (content_type IN ('movie', 'show')),
    abandon_date TEXT NOT NULL,
    progress_percent NUMERIC NOT NULL CHECK (progress_percent BETWEEN 0 AND 100),
    abandon_reason TEXT,
    quality_rating NUMERIC CHECK (quality_rating BETWEEN 0 AND 10),
    would_retry INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);

CREATE INDEX ix_abandoned_content_user_id ON abandoned_content (user_id, abandon_date);
CREATE INDEX ix_abandoned_content_user_id_content_id ON abandoned_content (user_id, content_id);

-- Events ----------------------------------------------------------------------------------

-- Written in the same transaction as the records they describe; a relay delivers them in
-- `seq` order. AUTOINCREMENT keeps `seq` from ever being reused, even after deletes.
CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    user_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    -- The whole envelope as JSON text, exactly what the relay publishes.
    payload TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    delivered_at TEXT,
    last_error TEXT
);

CREATE INDEX ix_outbox_pending ON outbox (next_attempt_at, seq) WHERE delivered_at IS NULL;

-- Which handler has already applied which event (handlers are idempotent).
CREATE TABLE processed_events (
    handler TEXT NOT NULL,
    event_id TEXT NOT NULL,
    processed_at TEXT NOT NULL,
    PRIMARY KEY (handler, event_id)
);

-- No foreign key to users: a key is claimed before the request creates its user.
CREATE TABLE idempotency_keys (
    user_id TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    claimed_at TEXT NOT NULL,
    -- Null while the request runs.
    completed_at TEXT,
    response_status INTEGER,
    response_location TEXT,
    response_body BLOB,
    PRIMARY KEY (user_id, idempotency_key)
);
