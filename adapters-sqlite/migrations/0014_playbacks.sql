-- Players' playbacks (SPEC §13): one per user and movie or episode, playing (the user's
-- "now watching" item until expires_at) or paused at its resume point.
CREATE TABLE playbacks (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    content_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    show_id TEXT,
    state TEXT NOT NULL,
    progress_hundredths INTEGER NOT NULL,
    started_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    UNIQUE (user_id, content_id)
);
CREATE INDEX ix_playbacks_user ON playbacks (user_id, updated_at);
