-- The settlement book: orders, the events applied to them, the merchants' settlement state,
-- payouts and the programme's counters. Written only by the ledger writer, in the same
-- transaction as the transfers they caused.
CREATE TABLE settlement_orders (
    order_id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL,
    category TEXT NOT NULL,
    channel TEXT NOT NULL,
    paid INTEGER NOT NULL CHECK (paid > 0),
    refunded INTEGER NOT NULL CHECK (refunded >= 0 AND refunded <= paid),
    status TEXT NOT NULL,
    shipping TEXT,
    -- Event times, nanoseconds since the Unix epoch; 0 when not yet.
    paid_at INTEGER NOT NULL,
    shipped_at INTEGER NOT NULL,
    confirmed_at INTEGER NOT NULL,
    auto_confirm_at INTEGER NOT NULL,
    -- The settlement, once there is one: all NULL before.
    advanced INTEGER,
    settled_at INTEGER,
    gross INTEGER,
    fee_standard INTEGER,
    fee_charged INTEGER,
    withholding INTEGER,
    reserve INTEGER,
    net INTEGER,
    receivable_recovered INTEGER,
    not_advanced TEXT,
    reserve_release_at INTEGER NOT NULL,
    reserve_released INTEGER NOT NULL,
    -- Of the reserve held for the order, what its refunds took back.
    reserve_used INTEGER NOT NULL,
    -- The earliest scheduled work (automatic confirmation, reserve release); 0 for none.
    due_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX settlement_orders_due ON settlement_orders (due_at) WHERE due_at > 0;
CREATE INDEX settlement_orders_merchant ON settlement_orders (merchant_id, order_id);

CREATE TABLE settlement_events (
    event_id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL,
    fingerprint INTEGER NOT NULL,
    effect TEXT NOT NULL,
    reason TEXT
) WITHOUT ROWID;

CREATE TABLE settlement_merchants (
    merchant_id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL UNIQUE,
    orders INTEGER NOT NULL,
    refunded_orders INTEGER NOT NULL,
    cap_granted INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE payouts (
    payout_id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL,
    requested INTEGER,
    amount INTEGER NOT NULL CHECK (amount > 0),
    status TEXT NOT NULL CHECK (status IN ('pending', 'paid', 'failed')),
    transfer_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    settled_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX payouts_status ON payouts (status, payout_id);
CREATE INDEX payouts_merchant ON payouts (merchant_id, payout_id);

CREATE TABLE settlement_meta (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    next_transfer_seq INTEGER NOT NULL,
    next_merchant_seq INTEGER NOT NULL,
    pool_funded INTEGER NOT NULL,
    -- The latest event time applied: scheduled work runs on it.
    event_clock INTEGER NOT NULL,
    advanced_count INTEGER NOT NULL,
    advanced_gross INTEGER NOT NULL,
    exposure_released INTEGER NOT NULL,
    advanced_confirmed INTEGER NOT NULL,
    days_saved_seconds INTEGER NOT NULL,
    fee_standard INTEGER NOT NULL,
    fee_charged INTEGER NOT NULL,
    withheld INTEGER NOT NULL,
    clawed_back INTEGER NOT NULL,
    receivable_booked INTEGER NOT NULL,
    receivable_recovered INTEGER NOT NULL,
    paid_out INTEGER NOT NULL
);
