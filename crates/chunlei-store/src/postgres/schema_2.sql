-- The merchant registry. Not ledger data: written through the read connections in their own
-- transactions, never by the ledger writer. Ids compare byte-wise (COLLATE "C") so that pages
-- by id come in the same order as on SQLite, whatever the database's locale.
CREATE TABLE merchants (
    id text COLLATE "C" PRIMARY KEY,
    name text NOT NULL,
    kind text NOT NULL,
    foreign_trade boolean NOT NULL,
    region_code text NOT NULL,
    category text NOT NULL,
    -- Days since 1970-01-01.
    joined_on integer NOT NULL,
    cluster_id text,
    agriculture_base_id text,
    risk_tier text NOT NULL,
    bank_code text NOT NULL,
    account_number text NOT NULL,
    holder_name text NOT NULL,
    -- Nanoseconds since the Unix epoch.
    created_at bigint NOT NULL CHECK (created_at >= 0),
    updated_at bigint NOT NULL CHECK (updated_at >= created_at),
    -- 1 when created, one more at every update.
    version bigint NOT NULL CHECK (version >= 1)
);
