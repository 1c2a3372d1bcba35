-- Imports of other services' history (SPEC §12): each import with its summary, the outcome of
-- each of its rows, and what it made under each source key — a play, an abandon, a watchlist
-- entry or a rewatch reset (a second import of a key is a duplicate; an undo removes exactly
-- these).
CREATE TABLE imports (
    id UUID PRIMARY KEY,
    user_id UUID NOT NULL,
    source TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    rows_read INTEGER NOT NULL,
    imported INTEGER NOT NULL,
    duplicates INTEGER NOT NULL,
    unmatched INTEGER NOT NULL,
    skipped INTEGER NOT NULL,
    invalid INTEGER NOT NULL
);
CREATE INDEX ix_imports_user ON imports (user_id, created_at);

CREATE TABLE import_items (
    import_id UUID NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
    row_number INTEGER NOT NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    outcome TEXT NOT NULL,
    matched_by TEXT,
    content_id UUID,
    reason TEXT,
    PRIMARY KEY (import_id, row_number)
);
CREATE INDEX ix_import_items_outcome ON import_items (import_id, outcome, row_number);

CREATE TABLE import_plays (
    user_id UUID NOT NULL,
    source_key TEXT NOT NULL,
    import_id UUID NOT NULL,
    -- `play` (a record id), `abandon` (an abandon id), `watchlist` (a movie or show id) or
    -- `reset` (a show id).
    kind TEXT NOT NULL,
    item_id UUID NOT NULL,
    seq BIGINT GENERATED ALWAYS AS IDENTITY,
    PRIMARY KEY (user_id, source_key)
);
CREATE INDEX ix_import_plays_import ON import_plays (import_id, seq);
