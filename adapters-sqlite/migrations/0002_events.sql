-- Event side (issue 5): relay channels, statistics buckets and the handlers' state.

-- The outbox's own delivery columns serve the `handlers` channel; these add its lease and the
-- whole state of the `broker` channel. '' as a next attempt sorts before every instant: due.
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
ALTER TABLE outbox ADD COLUMN claimed_until TEXT;
ALTER TABLE outbox ADD COLUMN broker_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN broker_next_attempt_at TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN broker_delivered_at TEXT;
ALTER TABLE outbox ADD COLUMN broker_last_error TEXT;
ALTER TABLE outbox ADD COLUMN broker_claimed_by TEXT;
ALTER TABLE outbox ADD COLUMN broker_claimed_until TEXT;

CREATE INDEX ix_outbox_handlers_user ON outbox (user_id, seq) WHERE delivered_at IS NULL;
CREATE INDEX ix_outbox_broker_pending ON outbox (seq) WHERE broker_delivered_at IS NULL;
CREATE INDEX ix_outbox_broker_user ON outbox (user_id, seq) WHERE broker_delivered_at IS NULL;

-- One row per user and UTC bucket (granularity quarter/day/month/year/all).
CREATE TABLE stats_buckets (
    user_id TEXT NOT NULL,
    granularity TEXT NOT NULL,
    bucket_start TEXT NOT NULL,
    watched INTEGER NOT NULL DEFAULT 0,
    movies INTEGER NOT NULL DEFAULT 0,
    episodes INTEGER NOT NULL DEFAULT 0,
    rewatches INTEGER NOT NULL DEFAULT 0,
    minutes INTEGER NOT NULL DEFAULT 0,
    shows_completed INTEGER NOT NULL DEFAULT 0,
    seasons_completed INTEGER NOT NULL DEFAULT 0,
    abandoned INTEGER NOT NULL DEFAULT 0,
    binge_sessions INTEGER NOT NULL DEFAULT 0,
    longest_binge INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, granularity, bucket_start)
);

-- Type, genre and platform tallies of a bucket.
CREATE TABLE stats_bucket_dimensions (
    user_id TEXT NOT NULL,
    granularity TEXT NOT NULL,
    bucket_start TEXT NOT NULL,
    dimension TEXT NOT NULL,
    dim_key TEXT NOT NULL,
    count INTEGER NOT NULL DEFAULT 0,
    minutes INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, granularity, bucket_start, dimension, dim_key)
);

CREATE TABLE stats_binge_sessions (
    session_id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL,
    start TEXT NOT NULL,
    episodes INTEGER NOT NULL
);

CREATE TABLE achievement_counters (
    user_id TEXT NOT NULL,
    counter TEXT NOT NULL,
    value INTEGER NOT NULL,
    PRIMARY KEY (user_id, counter)
);

CREATE TABLE achievements (
    user_id TEXT NOT NULL,
    code TEXT NOT NULL,
    title TEXT NOT NULL,
    unlocked_at TEXT NOT NULL,
    PRIMARY KEY (user_id, code)
);

CREATE TABLE watchlist (
    user_id TEXT NOT NULL,
    content_id TEXT NOT NULL,
    item_type TEXT NOT NULL CHECK (item_type IN ('movie', 'show')),
    added_at TEXT NOT NULL,
    PRIMARY KEY (user_id, content_id)
);

CREATE TABLE reminders (
    user_id TEXT NOT NULL,
    show_id TEXT NOT NULL,
    id TEXT NOT NULL,
    episode_id TEXT NOT NULL,
    season_number INTEGER NOT NULL,
    episode_number INTEGER NOT NULL,
    last_watch_at TEXT NOT NULL,
    due_at TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('scheduled', 'sent', 'cancelled', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    sent_at TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (user_id, show_id)
);

CREATE INDEX ix_reminders_due ON reminders (due_at) WHERE status = 'scheduled';

CREATE TABLE genre_scores (
    user_id TEXT NOT NULL,
    genre TEXT NOT NULL,
    points INTEGER NOT NULL,
    PRIMARY KEY (user_id, genre)
);
