-- The catalog's version: raised by every movie or show upsert in its transaction, so that
-- catalog caches (in this process and in every replica) can tell that they are current.
CREATE TABLE catalog_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO catalog_version (id, version) VALUES (1, 0);
