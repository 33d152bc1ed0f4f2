-- Each merchant's activity per day (UTC, event time): counters the ledger writer adds to as
-- events arrive, so loan features never scan orders.
CREATE TABLE merchant_daily (
    merchant_id TEXT NOT NULL,
    -- Days since 1970-01-01.
    day BIGINT NOT NULL,
    orders BIGINT NOT NULL,
    gross BIGINT NOT NULL,
    refunds BIGINT NOT NULL,
    refunded BIGINT NOT NULL,
    settlements BIGINT NOT NULL,
    settled_net BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, day)
);
