-- Capacity (issue 10): a claim leaves out the users that have an event which is leased to a
-- relay or waiting for its retry. Both sets are small at any time, and these partial indexes
-- hold exactly them, so finding them does not walk the backlog.
CREATE INDEX ix_outbox_handlers_leased ON outbox (claimed_until)
    WHERE delivered_at IS NULL AND claimed_until IS NOT NULL;
CREATE INDEX ix_outbox_handlers_retrying ON outbox (next_attempt_at)
    WHERE delivered_at IS NULL AND attempts > 0;
CREATE INDEX ix_outbox_broker_leased ON outbox (broker_claimed_until)
    WHERE broker_delivered_at IS NULL AND broker_claimed_until IS NOT NULL;
CREATE INDEX ix_outbox_broker_retrying ON outbox (broker_next_attempt_at)
    WHERE broker_delivered_at IS NULL AND broker_attempts > 0;
