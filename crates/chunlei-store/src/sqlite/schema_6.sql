-- Accepted loans (chunlei_lending::loans). A loan is its terms and its history: the servicing
-- state is rebuilt by replaying the history on the terms, so the rows below are the whole
-- truth. The mutable columns of `loans` summarise the loan as of its last operation for
-- queries by status; reports move it to the day they report on.
CREATE TABLE loans (
    loan_id TEXT PRIMARY KEY,
    -- Numbers the loan's ledger transfers.
    seq INTEGER NOT NULL UNIQUE,
    -- One loan per application.
    application_id TEXT NOT NULL UNIQUE,
    merchant_id TEXT NOT NULL,
    bank_id TEXT NOT NULL,
    -- The terms as `key=value` pairs (chunlei_lending::loans::spec_text).
    spec TEXT NOT NULL,
    principal INTEGER NOT NULL,
    -- The platform's part of a joint loan (0 when the bank lends it all).
    platform_part INTEGER NOT NULL,
    disbursed_on TEXT NOT NULL,
    -- Ledger time of the disbursement, nanoseconds since the Unix epoch.
    disbursed_at INTEGER NOT NULL,
    ops INTEGER NOT NULL,
    -- open, closed or written_off.
    status TEXT NOT NULL,
    outstanding INTEGER NOT NULL,
    as_of TEXT NOT NULL
);
CREATE INDEX loans_merchant ON loans (merchant_id);
CREATE INDEX loans_bank ON loans (bank_id);
CREATE INDEX loans_status ON loans (status);

-- Each loan's history, in order (n from 1).
CREATE TABLE loan_ops (
    loan_id TEXT NOT NULL,
    n INTEGER NOT NULL,
    kind TEXT NOT NULL,
    on_day TEXT NOT NULL,
    -- The last day of relief; NULL for other kinds.
    to_day TEXT,
    at INTEGER NOT NULL,
    amount INTEGER NOT NULL,
    taken INTEGER NOT NULL,
    reference TEXT NOT NULL,
    PRIMARY KEY (loan_id, n)
);

-- What each bank has lent, for its quotas and concentration limits: by day (key YYYY-MM-DD),
-- in all (key ''), by region (key: the province, the first two digits of the region code)
-- and by industry (key: the merchant's category). Added to by every disbursement.
CREATE TABLE loan_usage (
    bank_id TEXT NOT NULL,
    dimension TEXT NOT NULL,
    key TEXT NOT NULL,
    lent INTEGER NOT NULL,
    PRIMARY KEY (bank_id, dimension, key)
);
