-- Capacity (issue 10): every write of a user's viewing data raises the user's revision in its
-- transaction, so a progress cache can tell with one indexed read whether what it keeps is
-- still the user's current state (SPEC §14: never older than the last acknowledged write).
ALTER TABLE users ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;
