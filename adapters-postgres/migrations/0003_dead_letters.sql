-- Dead letters (issue 8): an event the relay could not deliver on a channel — its payload
-- cannot be read, or it failed too often — is parked there: never claimed again, and holding
-- back no other event, until an operator retries it (parked_at back to NULL).
ALTER TABLE outbox
    ADD COLUMN parked_at TIMESTAMPTZ,
    ADD COLUMN broker_parked_at TIMESTAMPTZ;

CREATE INDEX ix_outbox_parked ON outbox (parked_at, seq) WHERE parked_at IS NOT NULL;
CREATE INDEX ix_outbox_broker_parked ON outbox (broker_parked_at, seq)
    WHERE broker_parked_at IS NOT NULL;
