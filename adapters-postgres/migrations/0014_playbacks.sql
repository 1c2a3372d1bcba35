-- Players' playbacks (SPEC §13): one per user and movie or episode, playing (the user's
-- "now watching" item until expires_at) or paused at its resume point.
CREATE TABLE playbacks (
    id UUID PRIMARY KEY,
    user_id UUID NOT NULL,
    content_id UUID NOT NULL,
    kind TEXT NOT NULL,
    show_id UUID,
    state TEXT NOT NULL,
    progress_hundredths INTEGER NOT NULL,
    started_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    UNIQUE (user_id, content_id)
);
CREATE INDEX ix_playbacks_user ON playbacks (user_id, updated_at);
