-- Where each play came from (SPEC §11): the user, an import, a player, a media server.
ALTER TABLE viewing_records ADD COLUMN origin TEXT NOT NULL DEFAULT 'manual'
    CHECK (origin IN ('manual', 'import', 'playback', 'webhook'));
