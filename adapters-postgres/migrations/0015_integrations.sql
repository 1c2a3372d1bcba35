-- Media servers' webhook integrations (SPEC §13): the secret is kept as its SHA-256 only; the
-- account filter as an array. Every delivery stays in the integration's inbox with its
-- outcome, so none is ever lost and each can be replayed.
CREATE TABLE integrations (
    id UUID PRIMARY KEY,
    user_id UUID NOT NULL,
    kind TEXT NOT NULL,
    secret_hash TEXT NOT NULL UNIQUE,
    accounts TEXT[] NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ
);
CREATE INDEX ix_integrations_user ON integrations (user_id, created_at);

CREATE TABLE deliveries (
    id UUID PRIMARY KEY,
    integration_id UUID NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    received_at TIMESTAMPTZ NOT NULL,
    payload TEXT NOT NULL,
    outcome TEXT NOT NULL,
    reason TEXT,
    record_id UUID,
    handled_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX ix_deliveries_integration ON deliveries (integration_id, received_at);
