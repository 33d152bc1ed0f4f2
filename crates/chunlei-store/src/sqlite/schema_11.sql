-- Version 11: each merchant's activity as running totals instead of weeks. A row of
-- merchant_running holds the merchant's counters summed over every day from its first through
-- `day`, one row for each row of merchant_daily, so that the sum over any range of days is the
-- difference of two rows: the last on or before the range's end, less the last before its
-- start. A decision's four ranges of a year cost five index seeks whatever the history.
-- Triggers keep it in the transaction that writes merchant_daily, which is only ever added to:
-- a change to a day adds to that day's row and to every later one (none, for today's events;
-- a few, for an event dated a little in the past).
DROP TRIGGER IF EXISTS merchant_weekly_insert;
DROP TRIGGER IF EXISTS merchant_weekly_update;
DROP TABLE IF EXISTS merchant_weekly;
CREATE TABLE merchant_running (
    merchant_id TEXT NOT NULL,
    day INTEGER NOT NULL,
    orders INTEGER NOT NULL,
    gross INTEGER NOT NULL,
    refunded INTEGER NOT NULL,
    settlements INTEGER NOT NULL,
    -- Days with at least one order paid.
    active_days INTEGER NOT NULL,
    PRIMARY KEY (merchant_id, day)
) WITHOUT ROWID;
INSERT INTO merchant_running (merchant_id, day, orders, gross, refunded, settlements, active_days)
SELECT merchant_id, day, sum(orders) OVER w, sum(gross) OVER w, sum(refunded) OVER w,
       sum(settlements) OVER w, sum(orders > 0) OVER w
FROM merchant_daily
WINDOW w AS (PARTITION BY merchant_id ORDER BY day ROWS UNBOUNDED PRECEDING);
CREATE TRIGGER merchant_running_insert AFTER INSERT ON merchant_daily BEGIN
    INSERT INTO merchant_running
        (merchant_id, day, orders, gross, refunded, settlements, active_days)
    SELECT NEW.merchant_id, NEW.day,
           coalesce(before.orders, 0) + NEW.orders,
           coalesce(before.gross, 0) + NEW.gross,
           coalesce(before.refunded, 0) + NEW.refunded,
           coalesce(before.settlements, 0) + NEW.settlements,
           coalesce(before.active_days, 0) + (NEW.orders > 0)
    FROM (SELECT 1) LEFT JOIN (
        SELECT orders, gross, refunded, settlements, active_days FROM merchant_running
        WHERE merchant_id = NEW.merchant_id AND day < NEW.day ORDER BY day DESC LIMIT 1
    ) AS before ON 1;
    UPDATE merchant_running SET
        orders = orders + NEW.orders,
        gross = gross + NEW.gross,
        refunded = refunded + NEW.refunded,
        settlements = settlements + NEW.settlements,
        active_days = active_days + (NEW.orders > 0)
    WHERE merchant_id = NEW.merchant_id AND day > NEW.day;
END;
CREATE TRIGGER merchant_running_update AFTER UPDATE ON merchant_daily BEGIN
    UPDATE merchant_running SET
        orders = orders + NEW.orders - OLD.orders,
        gross = gross + NEW.gross - OLD.gross,
        refunded = refunded + NEW.refunded - OLD.refunded,
        settlements = settlements + NEW.settlements - OLD.settlements,
        active_days = active_days + (NEW.orders > 0) - (OLD.orders > 0)
    WHERE merchant_id = NEW.merchant_id AND day >= NEW.day;
END;
