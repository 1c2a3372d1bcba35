-- Title search (SPEC §10) and import matching (§12): each movie's and show's title key (case,
-- accents and punctuation ignored; computed by the domain's `title_key`), indexed for exact and
-- prefix lookups. Rows written before this migration get theirs when the store opens.
ALTER TABLE movies ADD COLUMN title_key TEXT;
ALTER TABLE shows ADD COLUMN title_key TEXT;
CREATE INDEX ix_movies_title_key ON movies (title_key);
CREATE INDEX ix_shows_title_key ON shows (title_key);
