-- Version 1: the ledger, its owners, pending state, balance history and API keys.

CREATE TABLE accounts (
    id BLOB PRIMARY KEY,
    debits_pending INTEGER NOT NULL,
    debits_posted INTEGER NOT NULL,
    credits_pending INTEGER NOT NULL,
    credits_posted INTEGER NOT NULL,
    user_data_128 BLOB,
    user_data_64 INTEGER NOT NULL,
    user_data_32 INTEGER NOT NULL,
    ledger INTEGER NOT NULL,
    code INTEGER NOT NULL,
    flags INTEGER NOT NULL,
    timestamp INTEGER NOT NULL
) WITHOUT ROWID;

-- Who owns an account, outside the rows the writer rewrites on every transfer.
CREATE TABLE account_owners (
    account_id BLOB PRIMARY KEY,
    kind TEXT NOT NULL,
    owner_id TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX account_owners_by_owner ON account_owners (kind, owner_id, account_id);

-- The timestamp is the rowid: unique, increasing, so inserts append.
CREATE TABLE transfers (
    timestamp INTEGER PRIMARY KEY,
    id BLOB NOT NULL UNIQUE,
    debit_account_id BLOB NOT NULL,
    credit_account_id BLOB NOT NULL,
    amount INTEGER NOT NULL,
    pending_id BLOB,
    user_data_128 BLOB,
    user_data_64 INTEGER NOT NULL,
    user_data_32 INTEGER NOT NULL,
    timeout_s INTEGER NOT NULL,
    ledger INTEGER NOT NULL,
    code INTEGER NOT NULL,
    flags INTEGER NOT NULL
);

-- Each account's transfer timestamps, in chunks. Written only when a chunk fills up (and at
-- every checkpoint), so a commit touches a few pages instead of one page per account; the
-- entries since the last checkpoint are rebuilt from `transfers` when the store opens.
CREATE TABLE account_transfer_chunks (
    account_id BLOB NOT NULL,
    last_ts INTEGER NOT NULL,
    timestamps BLOB NOT NULL,
    PRIMARY KEY (account_id, last_ts)
) WITHOUT ROWID;

-- Transfer ids refused for a reason that depended on the ledger's state; re-sending one
-- answers id_already_failed.
CREATE TABLE failed_transfers (
    id BLOB PRIMARY KEY,
    result TEXT NOT NULL
) WITHOUT ROWID;

-- 0 pending, 1 posted, 2 voided, 3 expired.
CREATE TABLE pending_transfers (
    id BLOB PRIMARY KEY,
    status INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX pending_transfers_due ON pending_transfers (expires_at) WHERE status = 0 AND expires_at > 0;

CREATE TABLE account_balances (
    account_id BLOB NOT NULL,
    timestamp INTEGER NOT NULL,
    debits_pending INTEGER NOT NULL,
    debits_posted INTEGER NOT NULL,
    credits_pending INTEGER NOT NULL,
    credits_posted INTEGER NOT NULL,
    PRIMARY KEY (account_id, timestamp)
) WITHOUT ROWID;

-- `chunks_through`: every transfer with a timestamp at or below it is in
-- account_transfer_chunks.
CREATE TABLE ledger_clock (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    timestamp INTEGER NOT NULL,
    chunks_through INTEGER NOT NULL
);
INSERT INTO ledger_clock (singleton, timestamp, chunks_through) VALUES (1, 0, 0);

CREATE TABLE api_keys (
    key_id TEXT PRIMARY KEY,
    secret_sha256 BLOB NOT NULL UNIQUE,
    role TEXT NOT NULL,
    merchant_id TEXT,
    bank_id TEXT,
    created_at INTEGER NOT NULL
);
