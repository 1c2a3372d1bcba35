-- Imports of other services' history (SPEC §12): each import with its summary, the outcome of
-- each of its rows, and what it made under each source key — a play, an abandon, a watchlist
-- entry or a rewatch reset (a second import of a key is a duplicate; an undo removes exactly
-- these).
CREATE TABLE imports (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    source TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    rows_read INTEGER NOT NULL,
    imported INTEGER NOT NULL,
    duplicates INTEGER NOT NULL,
    unmatched INTEGER NOT NULL,
    skipped INTEGER NOT NULL,
    invalid INTEGER NOT NULL
);
CREATE INDEX ix_imports_user ON imports (user_id, created_at);

CREATE TABLE import_items (
    import_id TEXT NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
    row_number INTEGER NOT NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    outcome TEXT NOT NULL,
    matched_by TEXT,
    content_id TEXT,
    reason TEXT,
    PRIMARY KEY (import_id, row_number)
);
CREATE INDEX ix_import_items_outcome ON import_items (import_id, outcome, row_number);

CREATE TABLE import_plays (
    user_id TEXT NOT NULL,
    source_key TEXT NOT NULL,
    import_id TEXT NOT NULL,
    -- `play` (a record id), `abandon` (an abandon id), `watchlist` (a movie or show id) or
    -- `reset` (a show id).
    kind TEXT NOT NULL,
    item_id TEXT NOT NULL,
    PRIMARY KEY (user_id, source_key)
);
-- Read back in insertion (rowid) order.
CREATE INDEX ix_import_plays_import ON import_plays (import_id);
