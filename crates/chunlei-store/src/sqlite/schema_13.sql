-- Version 13: fraud flags on merchants, one per merchant at most. While a flag stands the
-- merchant's loan applications are declined and its offers are not disbursed.
CREATE TABLE merchant_fraud_flags (
    merchant_id TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    -- Nanoseconds since the Unix epoch.
    flagged_at INTEGER NOT NULL,
    -- The id of the API key that set it.
    flagged_by TEXT NOT NULL
) WITHOUT ROWID;
