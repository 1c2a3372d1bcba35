-- SPEC §3: an Idempotency-Key is bound to the request that first used it — method, path and a
-- SHA-256 of the body — not only to the user. Rows kept before this migration get an empty
-- fingerprint, which no request has: a repeat of such a key within its lifetime is refused
-- (422 idempotency-key-reused) rather than run a second time.
ALTER TABLE idempotency_keys ADD COLUMN request_method TEXT NOT NULL DEFAULT '';
ALTER TABLE idempotency_keys ADD COLUMN request_path TEXT NOT NULL DEFAULT '';
ALTER TABLE idempotency_keys ADD COLUMN body_digest BLOB NOT NULL DEFAULT x'';
