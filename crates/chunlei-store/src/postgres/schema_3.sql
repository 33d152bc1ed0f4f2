-- The settlement book: orders, the events applied to them, the merchants' settlement state,
-- payouts and the programme's counters. Written only by the ledger writer, in the same
-- transaction as the transfers they caused.
CREATE TABLE settlement_orders (
    order_id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL,
    category TEXT NOT NULL,
    channel TEXT NOT NULL,
    paid BIGINT NOT NULL CHECK (paid > 0),
    refunded BIGINT NOT NULL CHECK (refunded >= 0 AND refunded <= paid),
    status TEXT NOT NULL,
    shipping TEXT,
    -- Event times, nanoseconds since the Unix epoch; 0 when not yet.
    paid_at BIGINT NOT NULL,
    shipped_at BIGINT NOT NULL,
    confirmed_at BIGINT NOT NULL,
    auto_confirm_at BIGINT NOT NULL,
    -- The settlement, once there is one: all NULL before.
    advanced BIGINT,
    settled_at BIGINT,
    gross BIGINT,
    fee_standard BIGINT,
    fee_charged BIGINT,
    withholding BIGINT,
    reserve BIGINT,
    net BIGINT,
    receivable_recovered BIGINT,
    not_advanced TEXT,
    reserve_release_at BIGINT NOT NULL,
    reserve_released BIGINT NOT NULL,
    -- Of the reserve held for the order, what its refunds took back.
    reserve_used BIGINT NOT NULL,
    -- The earliest scheduled work (automatic confirmation, reserve release); 0 for none.
    due_at BIGINT NOT NULL
);
CREATE INDEX settlement_orders_due ON settlement_orders (due_at) WHERE due_at > 0;
CREATE INDEX settlement_orders_merchant ON settlement_orders (merchant_id, order_id);

CREATE TABLE settlement_events (
    event_id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL,
    fingerprint BIGINT NOT NULL,
    effect TEXT NOT NULL,
    reason TEXT
);

CREATE TABLE settlement_merchants (
    merchant_id TEXT PRIMARY KEY,
    seq BIGINT NOT NULL UNIQUE,
    orders BIGINT NOT NULL,
    refunded_orders BIGINT NOT NULL,
    cap_granted BIGINT NOT NULL
);

CREATE TABLE payouts (
    payout_id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL,
    requested BIGINT,
    amount BIGINT NOT NULL CHECK (amount > 0),
    status TEXT NOT NULL CHECK (status IN ('pending', 'paid', 'failed')),
    transfer_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    settled_at BIGINT NOT NULL
);
CREATE INDEX payouts_status ON payouts (status, payout_id);
CREATE INDEX payouts_merchant ON payouts (merchant_id, payout_id);

CREATE TABLE settlement_meta (
    singleton BIGINT PRIMARY KEY CHECK (singleton = 1),
    next_transfer_seq BIGINT NOT NULL,
    next_merchant_seq BIGINT NOT NULL,
    pool_funded BIGINT NOT NULL,
    -- The latest event time applied: scheduled work runs on it.
    event_clock BIGINT NOT NULL,
    advanced_count BIGINT NOT NULL,
    advanced_gross BIGINT NOT NULL,
    exposure_released BIGINT NOT NULL,
    advanced_confirmed BIGINT NOT NULL,
    days_saved_seconds BIGINT NOT NULL,
    fee_standard BIGINT NOT NULL,
    fee_charged BIGINT NOT NULL,
    withheld BIGINT NOT NULL,
    clawed_back BIGINT NOT NULL,
    receivable_booked BIGINT NOT NULL,
    receivable_recovered BIGINT NOT NULL,
    paid_out BIGINT NOT NULL
);
