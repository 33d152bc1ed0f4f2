-- Version 13: every fraud flag set or cleared, with who did it and when, kept after the flag
-- itself is cleared.
CREATE TABLE merchant_fraud_flag_events (
    -- In the order recorded.
    id bigserial PRIMARY KEY,
    merchant_id text NOT NULL,
    -- Nanoseconds since the Unix epoch.
    at bigint NOT NULL,
    -- set or cleared.
    action text NOT NULL,
    -- The flag's reason (for cleared, the reason of the flag cleared).
    reason text NOT NULL,
    -- The id of the API key that did it.
    actor text NOT NULL
);
CREATE INDEX merchant_fraud_flag_events_by_merchant ON merchant_fraud_flag_events (merchant_id, at);
