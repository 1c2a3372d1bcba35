-- Rewatch passes (SPEC §11): when the current pass started, and the passes a reset closed
-- (JSON: each pass's start and the completions it holds). The other columns of a progress
-- row describe the current pass.
ALTER TABLE show_progress ADD COLUMN reset_at TEXT;
ALTER TABLE show_progress ADD COLUMN earlier_passes TEXT NOT NULL DEFAULT '[]';
