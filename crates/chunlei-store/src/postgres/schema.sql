-- Version 1: the ledger, its owners, pending state, balance history and API keys.
--
-- Ids are 16 big-endian bytes, so byte order is numeric order. Amounts and balances are
-- bigint and never negative; unsigned 32-bit fields are bigint with a range check, 16-bit ones
-- integer. Unsigned 64-bit user data is stored bit-for-bit in a bigint. Timestamps are
-- nanoseconds since the Unix epoch.

-- The writer rewrites the balances of every account a transfer touches. Free space on each
-- page lets PostgreSQL keep the new row version on the same page without index updates.
CREATE TABLE accounts (
    id bytea PRIMARY KEY CHECK (octet_length(id) = 16),
    debits_pending bigint NOT NULL CHECK (debits_pending >= 0),
    debits_posted bigint NOT NULL CHECK (debits_posted >= 0),
    credits_pending bigint NOT NULL CHECK (credits_pending >= 0),
    credits_posted bigint NOT NULL CHECK (credits_posted >= 0),
    user_data_128 bytea CHECK (octet_length(user_data_128) = 16),
    user_data_64 bigint NOT NULL,
    user_data_32 bigint NOT NULL CHECK (user_data_32 BETWEEN 0 AND 4294967295),
    ledger bigint NOT NULL CHECK (ledger BETWEEN 0 AND 4294967295),
    code integer NOT NULL CHECK (code BETWEEN 0 AND 65535),
    flags integer NOT NULL CHECK (flags BETWEEN 0 AND 65535),
    timestamp bigint NOT NULL CHECK (timestamp > 0)
) WITH (fillfactor = 50);

-- Who owns an account, outside the rows the writer rewrites on every transfer.
CREATE TABLE account_owners (
    account_id bytea PRIMARY KEY,
    kind text NOT NULL,
    owner_id text NOT NULL
);
CREATE INDEX account_owners_by_owner ON account_owners (kind, owner_id, account_id);

-- The timestamp is the primary key: unique and increasing, so inserts append to its index.
CREATE TABLE transfers (
    timestamp bigint PRIMARY KEY CHECK (timestamp > 0),
    id bytea NOT NULL UNIQUE CHECK (octet_length(id) = 16),
    debit_account_id bytea NOT NULL,
    credit_account_id bytea NOT NULL,
    amount bigint NOT NULL CHECK (amount >= 0),
    pending_id bytea,
    user_data_128 bytea,
    user_data_64 bigint NOT NULL,
    user_data_32 bigint NOT NULL CHECK (user_data_32 BETWEEN 0 AND 4294967295),
    timeout_s bigint NOT NULL CHECK (timeout_s BETWEEN 0 AND 4294967295),
    ledger bigint NOT NULL CHECK (ledger BETWEEN 0 AND 4294967295),
    code integer NOT NULL CHECK (code BETWEEN 0 AND 65535),
    flags integer NOT NULL CHECK (flags BETWEEN 0 AND 65535)
);

-- Each account's transfer timestamps, one row per account a commit touches (see chunks.rs):
-- a commit adds one index entry per account instead of one per side of every transfer.
CREATE TABLE account_transfer_chunks (
    account_id bytea NOT NULL,
    last_ts bigint NOT NULL,
    timestamps bytea NOT NULL,
    PRIMARY KEY (account_id, last_ts)
);

-- Transfer ids refused for a reason that depended on the ledger's state; re-sending one
-- answers id_already_failed.
CREATE TABLE failed_transfers (
    id bytea PRIMARY KEY,
    result text NOT NULL
);

-- 0 pending, 1 posted, 2 voided, 3 expired.
CREATE TABLE pending_transfers (
    id bytea PRIMARY KEY,
    status integer NOT NULL CHECK (status BETWEEN 0 AND 3),
    expires_at bigint NOT NULL CHECK (expires_at >= 0)
);
CREATE INDEX pending_transfers_due ON pending_transfers (expires_at) WHERE status = 0 AND expires_at > 0;

CREATE TABLE account_balances (
    account_id bytea NOT NULL,
    timestamp bigint NOT NULL,
    debits_pending bigint NOT NULL CHECK (debits_pending >= 0),
    debits_posted bigint NOT NULL CHECK (debits_posted >= 0),
    credits_pending bigint NOT NULL CHECK (credits_pending >= 0),
    credits_posted bigint NOT NULL CHECK (credits_posted >= 0),
    PRIMARY KEY (account_id, timestamp)
);

-- One row. Every write transaction locks it first (SELECT ... FOR UPDATE): that lock is what
-- serialises the writers of all processes sharing the database.
CREATE TABLE ledger_clock (
    singleton integer PRIMARY KEY CHECK (singleton = 1),
    timestamp bigint NOT NULL CHECK (timestamp >= 0)
);
INSERT INTO ledger_clock (singleton, timestamp) VALUES (1, 0);

CREATE TABLE api_keys (
    key_id text PRIMARY KEY,
    secret_sha256 bytea NOT NULL UNIQUE CHECK (octet_length(secret_sha256) = 32),
    role text NOT NULL,
    merchant_id text,
    bank_id text,
    created_at bigint NOT NULL
);
