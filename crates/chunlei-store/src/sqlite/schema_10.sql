-- Version 10: each merchant's activity per week as well as per day, so that summing a range of
-- days reads the whole weeks inside it from here and only the days at its two ends from
-- merchant_daily (at most twelve), whatever the merchant's history. The week of a day is
-- day / 7 (days since 1970-01-01, never negative). Triggers keep it in the transaction that
-- writes merchant_daily, which is only ever added to (nothing deletes from it).
CREATE TABLE merchant_weekly (
    merchant_id TEXT NOT NULL,
    week INTEGER NOT NULL,
    orders INTEGER NOT NULL,
    gross INTEGER NOT NULL,
    refunded INTEGER NOT NULL,
    settlements INTEGER NOT NULL,
    -- Days of the week with at least one order paid.
    active_days INTEGER NOT NULL,
    PRIMARY KEY (merchant_id, week)
) WITHOUT ROWID;
INSERT INTO merchant_weekly (merchant_id, week, orders, gross, refunded, settlements, active_days)
SELECT merchant_id, day / 7, sum(orders), sum(gross), sum(refunded), sum(settlements),
       sum(orders > 0)
FROM merchant_daily GROUP BY merchant_id, day / 7;
CREATE TRIGGER merchant_weekly_insert AFTER INSERT ON merchant_daily BEGIN
    INSERT INTO merchant_weekly (merchant_id, week, orders, gross, refunded, settlements, active_days)
    VALUES (NEW.merchant_id, NEW.day / 7, NEW.orders, NEW.gross, NEW.refunded, NEW.settlements,
            NEW.orders > 0)
    ON CONFLICT (merchant_id, week) DO UPDATE SET
        orders = orders + excluded.orders,
        gross = gross + excluded.gross,
        refunded = refunded + excluded.refunded,
        settlements = settlements + excluded.settlements,
        active_days = active_days + excluded.active_days;
END;
CREATE TRIGGER merchant_weekly_update AFTER UPDATE ON merchant_daily BEGIN
    UPDATE merchant_weekly SET
        orders = orders + NEW.orders - OLD.orders,
        gross = gross + NEW.gross - OLD.gross,
        refunded = refunded + NEW.refunded - OLD.refunded,
        settlements = settlements + NEW.settlements - OLD.settlements,
        active_days = active_days + (NEW.orders > 0) - (OLD.orders > 0)
    WHERE merchant_id = NEW.merchant_id AND week = NEW.day / 7;
END;
