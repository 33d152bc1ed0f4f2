-- The merchant registry. Not ledger data: written through the read connections in their own
-- transactions, never by the ledger writer.
CREATE TABLE merchants (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    foreign_trade INTEGER NOT NULL CHECK (foreign_trade IN (0, 1)),
    region_code TEXT NOT NULL,
    category TEXT NOT NULL,
    -- Days since 1970-01-01.
    joined_on INTEGER NOT NULL,
    cluster_id TEXT,
    agriculture_base_id TEXT,
    risk_tier TEXT NOT NULL,
    bank_code TEXT NOT NULL,
    account_number TEXT NOT NULL,
    holder_name TEXT NOT NULL,
    -- Nanoseconds since the Unix epoch.
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    -- 1 when created, one more at every update.
    version INTEGER NOT NULL CHECK (version >= 1)
);
