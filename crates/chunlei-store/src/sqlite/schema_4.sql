-- Each merchant's activity per day (UTC, event time): counters the ledger writer adds to as
-- events arrive, so loan features never scan orders.
CREATE TABLE merchant_daily (
    merchant_id TEXT NOT NULL,
    -- Days since 1970-01-01.
    day INTEGER NOT NULL,
    orders INTEGER NOT NULL,
    gross INTEGER NOT NULL,
    refunds INTEGER NOT NULL,
    refunded INTEGER NOT NULL,
    settlements INTEGER NOT NULL,
    settled_net INTEGER NOT NULL,
    PRIMARY KEY (merchant_id, day)
) WITHOUT ROWID;
