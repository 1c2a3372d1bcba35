-- The viewing store on PostgreSQL: the seed's six tables (snake_case) plus users, the catalog,
-- season completions, the outbox, processed events and idempotency keys. Native types: UUID,
-- TIMESTAMPTZ (microseconds), DATE, BOOLEAN, NUMERIC(3,1) ratings, NUMERIC(5,2) percents.

CREATE TABLE users (
    id UUID PRIMARY KEY,
    created_at TIMESTAMPTZ NOT NULL
);

-- Catalog ---------------------------------------------------------------------------------

CREATE TABLE movies (
    id UUID PRIMARY KEY,
    title TEXT NOT NULL,
    runtime_minutes INTEGER NOT NULL CHECK (runtime_minutes >= 0),
    release_date DATE
);

CREATE TABLE movie_genres (
    movie_id UUID NOT NULL REFERENCES movies (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    genre TEXT NOT NULL,
    PRIMARY KEY (movie_id, position)
);

CREATE TABLE shows (
    id UUID PRIMARY KEY,
    title TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('returning', 'ended', 'canceled'))
);

CREATE TABLE show_genres (
    show_id UUID NOT NULL REFERENCES shows (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    genre TEXT NOT NULL,
    PRIMARY KEY (show_id, position)
);

CREATE TABLE seasons (
    id UUID PRIMARY KEY,
    show_id UUID NOT NULL REFERENCES shows (id) ON DELETE CASCADE,
    season_number INTEGER NOT NULL CHECK (season_number >= 0),
    UNIQUE (show_id, season_number)
);

CREATE TABLE episodes (
    id UUID PRIMARY KEY,
    season_id UUID NOT NULL REFERENCES seasons (id) ON DELETE CASCADE,
    -- Denormalised so "the show of this episode" is one index lookup.
    show_id UUID NOT NULL REFERENCES shows (id) ON DELETE CASCADE,
    episode_number INTEGER NOT NULL CHECK (episode_number >= 0),
    title TEXT NOT NULL,
    runtime_minutes INTEGER NOT NULL CHECK (runtime_minutes >= 0),
    air_date DATE,
    UNIQUE (season_id, episode_number)
);

CREATE INDEX ix_episodes_show_id ON episodes (show_id);

-- Viewing (the seed's tables) -------------------------------------------------------------

-- Records refer to catalog content without a foreign key: replacing a show's tree must never
-- be blocked by, or delete, anyone's history.
CREATE TABLE viewing_records (
    id UUID PRIMARY KEY,
    user_id UUID NOT NULL REFERENCES users (id),
    content_id UUID NOT NULL,
    content_type VARCHAR(20) NOT NULL CHECK (content_type IN ('movie', 'episode')),
    watch_date TIMESTAMPTZ NOT NULL,
    viewing_platform VARCHAR(100),
    viewing_location VARCHAR(200),
    viewing_context VARCHAR(50),
    is_rewatch BOOLEAN NOT NULL DEFAULT FALSE,
    viewing_duration INTEGER, -- whole minutes
    -- No foreign key: a unit of work may move records and delete sessions in any order.
    binge_session_id UUID,
    binge_session_pinned BOOLEAN NOT NULL DEFAULT FALSE,
    backfilled BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMPTZ NOT NULL
);

-- History reads walk this index newest first; `id` is the keyset tie-breaker, so
-- `(watch_date, id) < (cursor)` is an index range scan whatever the depth.
CREATE INDEX ix_viewing_records_user_id_watch_date ON viewing_records (user_id, watch_date, id);
CREATE INDEX ix_viewing_records_content_id ON viewing_records (content_id, user_id);

-- The episode details of a viewing record (same id).
CREATE TABLE episode_viewing_records (
    id UUID PRIMARY KEY REFERENCES viewing_records (id) ON DELETE CASCADE,
    user_id UUID NOT NULL REFERENCES users (id),
    episode_id UUID NOT NULL,
    show_id UUID NOT NULL,
    season_number INTEGER NOT NULL,
    episode_number INTEGER NOT NULL,
    watch_date TIMESTAMPTZ NOT NULL,
    platform VARCHAR(100),
    binge_session_id UUID,
    viewing_duration INTEGER,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX ix_episode_viewing_records_user_id_show_id
    ON episode_viewing_records (user_id, show_id);

CREATE TABLE viewing_companions (
    id UUID PRIMARY KEY,
    viewing_record_id UUID NOT NULL REFERENCES viewing_records (id) ON DELETE CASCADE,
    -- Names come back in the order they were given.
    position INTEGER NOT NULL,
    companion_name VARCHAR(200) NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (viewing_record_id, position)
);

CREATE TABLE binge_sessions (
    id UUID PRIMARY KEY,
    user_id UUID NOT NULL REFERENCES users (id),
    show_id UUID NOT NULL,
    start_time TIMESTAMPTZ NOT NULL,
    end_time TIMESTAMPTZ NOT NULL,
    episodes_watched INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX ix_binge_sessions_user_id_show_id ON binge_sessions (user_id, show_id, start_time);

CREATE TABLE show_progress (
    id UUID PRIMARY KEY,
    user_id UUID NOT NULL REFERENCES users (id),
    show_id UUID NOT NULL,
    last_watched_season INTEGER,
    last_watched_episode INTEGER,
    last_watched_episode_id UUID,
    last_watch_date TIMESTAMPTZ,
    total_episodes_watched INTEGER NOT NULL DEFAULT 0,
    -- How many rows `season_completions` has for this show (the seed's column).
    completed_seasons INTEGER NOT NULL DEFAULT 0,
    is_completed BOOLEAN NOT NULL DEFAULT FALSE,
    completion_date TIMESTAMPTZ,
    last_activity_at TIMESTAMPTZ,
    inactivity_reported_at TIMESTAMPTZ,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (user_id, show_id)
);

CREATE INDEX ix_show_progress_user_id_last_activity_at
    ON show_progress (user_id, last_activity_at);
-- The daily inactivity job's candidates only.
CREATE INDEX ix_show_progress_idle ON show_progress (last_activity_at)
    WHERE NOT is_completed AND inactivity_reported_at IS NULL AND total_episodes_watched > 0;

-- Seasons watched in full for the first time, with their dates.
CREATE TABLE season_completions (
    user_id UUID NOT NULL,
    show_id UUID NOT NULL,
    season_number INTEGER NOT NULL,
    season_id UUID NOT NULL,
    completed_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, show_id, season_number),
    FOREIGN KEY (user_id, show_id) REFERENCES show_progress (user_id, show_id) ON DELETE CASCADE
);

CREATE TABLE abandoned_content (
    id UUID PRIMARY KEY,
    user_id UUID NOT NULL REFERENCES users (id),
    content_id UUID NOT NULL,
    content_type VARCHAR(20) NOT NULL CHECK (content_type IN ('movie', 'show')),
    abandon_date TIMESTAMPTZ NOT NULL,
    progress_percent NUMERIC(5, 2) NOT NULL CHECK (progress_percent BETWEEN 0 AND 100),
    abandon_reason VARCHAR(500),
    quality_rating NUMERIC(3, 1) CHECK (quality_rating BETWEEN 0 AND 10),
    would_retry BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX ix_abandoned_content_user_id ON abandoned_content (user_id, abandon_date);
CREATE INDEX ix_abandoned_content_user_id_content_id ON abandoned_content (user_id, content_id);

-- Events ----------------------------------------------------------------------------------

-- Written in the same transaction as the records they describe; a relay delivers them in
-- `seq` order. Note for the relay: a BIGSERIAL is drawn at insert, not at commit, so a
-- concurrent transaction can commit a smaller `seq` after a larger one became visible.
CREATE TABLE outbox (
    seq BIGSERIAL PRIMARY KEY,
    event_id UUID NOT NULL UNIQUE,
    user_id UUID NOT NULL,
    event_type TEXT NOT NULL,
    occurred_at TIMESTAMPTZ NOT NULL,
    -- The whole envelope as JSON text, exactly what the relay publishes (JSONB would
    -- reorder keys, and nothing queries inside it).
    payload TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    delivered_at TIMESTAMPTZ,
    last_error TEXT
);

CREATE INDEX ix_outbox_pending ON outbox (next_attempt_at, seq) WHERE delivered_at IS NULL;

-- Which handler has already applied which event (handlers are idempotent).
CREATE TABLE processed_events (
    handler TEXT NOT NULL,
    event_id UUID NOT NULL,
    processed_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (handler, event_id)
);

-- No foreign key to users: a key is claimed before the request creates its user.
CREATE TABLE idempotency_keys (
    user_id UUID NOT NULL,
    idempotency_key TEXT NOT NULL,
    claimed_at TIMESTAMPTZ NOT NULL,
    -- Null while the request runs.
    completed_at TIMESTAMPTZ,
    response_status INTEGER,
    response_location TEXT,
    response_body BYTEA,
    PRIMARY KEY (user_id, idempotency_key)
);
