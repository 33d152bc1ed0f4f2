-- Version 14: every fraud flag set or cleared, with who did it and when, kept after the flag
-- itself is cleared.
CREATE TABLE merchant_fraud_flag_events (
    -- In the order recorded.
    id INTEGER PRIMARY KEY,
    merchant_id TEXT NOT NULL,
    -- Nanoseconds since the Unix epoch.
    at INTEGER NOT NULL,
    -- set or cleared.
    action TEXT NOT NULL,
    -- The flag's reason (for cleared, the reason of the flag cleared).
    reason TEXT NOT NULL,
    -- The id of the API key that did it.
    actor TEXT NOT NULL
);
CREATE INDEX merchant_fraud_flag_events_by_merchant ON merchant_fraud_flag_events (merchant_id, at);
