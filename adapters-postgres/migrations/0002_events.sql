-- Event side (issue 5) on PostgreSQL: relay channels, statistics buckets and the handlers'
-- state. The same tables as SQLite's 0002_events, with native types (UUID, TIMESTAMPTZ,
-- BIGINT counters) and CHECKs on the enumerations.

-- The outbox's own delivery columns serve the `handlers` channel; these add its lease and the
-- whole state of the `broker` channel. '-infinity' as a next attempt is before every instant:
-- an event is due on the broker channel at once. (It is only ever compared, never decoded:
-- chrono has no infinite instants.)
ALTER TABLE outbox
    ADD COLUMN claimed_by UUID,
    ADD COLUMN claimed_until TIMESTAMPTZ,
    ADD COLUMN broker_attempts INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN broker_next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT '-infinity',
    ADD COLUMN broker_delivered_at TIMESTAMPTZ,
    ADD COLUMN broker_last_error TEXT,
    ADD COLUMN broker_claimed_by UUID,
    ADD COLUMN broker_claimed_until TIMESTAMPTZ;

-- A claim walks each channel's undelivered events in `seq` order; the order check looks up
-- the claimed users' undelivered events.
CREATE INDEX ix_outbox_handlers_seq ON outbox (seq) WHERE delivered_at IS NULL;
CREATE INDEX ix_outbox_handlers_user ON outbox (user_id, seq) WHERE delivered_at IS NULL;
CREATE INDEX ix_outbox_broker_seq ON outbox (seq) WHERE broker_delivered_at IS NULL;
CREATE INDEX ix_outbox_broker_user ON outbox (user_id, seq) WHERE broker_delivered_at IS NULL;

-- One row per user and UTC bucket.
CREATE TABLE stats_buckets (
    user_id UUID NOT NULL,
    granularity TEXT NOT NULL CHECK (granularity IN ('quarter', 'day', 'month', 'year', 'all')),
    bucket_start TIMESTAMPTZ NOT NULL,
    watched BIGINT NOT NULL DEFAULT 0,
    movies BIGINT NOT NULL DEFAULT 0,
    episodes BIGINT NOT NULL DEFAULT 0,
    rewatches BIGINT NOT NULL DEFAULT 0,
    minutes BIGINT NOT NULL DEFAULT 0,
    shows_completed BIGINT NOT NULL DEFAULT 0,
    seasons_completed BIGINT NOT NULL DEFAULT 0,
    abandoned BIGINT NOT NULL DEFAULT 0,
    binge_sessions BIGINT NOT NULL DEFAULT 0,
    longest_binge BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, granularity, bucket_start)
);

-- Type, genre and platform tallies of a bucket.
CREATE TABLE stats_bucket_dimensions (
    user_id UUID NOT NULL,
    granularity TEXT NOT NULL,
    bucket_start TIMESTAMPTZ NOT NULL,
    dimension TEXT NOT NULL CHECK (dimension IN ('type', 'genre', 'platform')),
    dim_key TEXT NOT NULL,
    count BIGINT NOT NULL DEFAULT 0,
    minutes BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, granularity, bucket_start, dimension, dim_key)
);

CREATE TABLE stats_binge_sessions (
    session_id UUID PRIMARY KEY,
    user_id UUID NOT NULL,
    start TIMESTAMPTZ NOT NULL,
    episodes INTEGER NOT NULL CHECK (episodes >= 0)
);

CREATE TABLE achievement_counters (
    user_id UUID NOT NULL,
    counter TEXT NOT NULL,
    value BIGINT NOT NULL,
    PRIMARY KEY (user_id, counter)
);

CREATE TABLE achievements (
    user_id UUID NOT NULL,
    code TEXT NOT NULL,
    title TEXT NOT NULL,
    unlocked_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, code)
);

CREATE TABLE watchlist (
    user_id UUID NOT NULL,
    content_id UUID NOT NULL,
    item_type TEXT NOT NULL CHECK (item_type IN ('movie', 'show')),
    added_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, content_id)
);

CREATE TABLE reminders (
    user_id UUID NOT NULL,
    show_id UUID NOT NULL,
    id UUID NOT NULL,
    episode_id UUID NOT NULL,
    season_number INTEGER NOT NULL,
    episode_number INTEGER NOT NULL,
    last_watch_at TIMESTAMPTZ NOT NULL,
    due_at TIMESTAMPTZ NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('scheduled', 'sent', 'cancelled', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    sent_at TIMESTAMPTZ,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, show_id)
);

CREATE INDEX ix_reminders_due ON reminders (due_at) WHERE status = 'scheduled';

CREATE TABLE genre_scores (
    user_id UUID NOT NULL,
    genre TEXT NOT NULL,
    points BIGINT NOT NULL,
    PRIMARY KEY (user_id, genre)
);
