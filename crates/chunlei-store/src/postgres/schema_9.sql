-- Version 9: each merchant's activity per week as well as per day, so that summing a range of
-- days reads the whole weeks inside it from here and only the days at its two ends from
-- merchant_daily (at most twelve), whatever the merchant's history. The week of a day is
-- day / 7 (days since 1970-01-01, never negative). A trigger keeps it in the transaction that
-- writes merchant_daily, which is only ever added to (nothing deletes from it).
CREATE TABLE merchant_weekly (
    merchant_id TEXT NOT NULL,
    week BIGINT NOT NULL,
    orders BIGINT NOT NULL,
    gross BIGINT NOT NULL,
    refunded BIGINT NOT NULL,
    settlements BIGINT NOT NULL,
    -- Days of the week with at least one order paid.
    active_days BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, week)
);
INSERT INTO merchant_weekly (merchant_id, week, orders, gross, refunded, settlements, active_days)
SELECT merchant_id, day / 7, sum(orders)::bigint, sum(gross)::bigint, sum(refunded)::bigint,
       sum(settlements)::bigint, count(*) FILTER (WHERE orders > 0)
FROM merchant_daily GROUP BY merchant_id, day / 7;
CREATE FUNCTION merchant_weekly_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO merchant_weekly
            (merchant_id, week, orders, gross, refunded, settlements, active_days)
        VALUES (NEW.merchant_id, NEW.day / 7, NEW.orders, NEW.gross, NEW.refunded,
                NEW.settlements, CASE WHEN NEW.orders > 0 THEN 1 ELSE 0 END)
        ON CONFLICT (merchant_id, week) DO UPDATE SET
            orders = merchant_weekly.orders + excluded.orders,
            gross = merchant_weekly.gross + excluded.gross,
            refunded = merchant_weekly.refunded + excluded.refunded,
            settlements = merchant_weekly.settlements + excluded.settlements,
            active_days = merchant_weekly.active_days + excluded.active_days;
    ELSE
        UPDATE merchant_weekly SET
            orders = orders + NEW.orders - OLD.orders,
            gross = gross + NEW.gross - OLD.gross,
            refunded = refunded + NEW.refunded - OLD.refunded,
            settlements = settlements + NEW.settlements - OLD.settlements,
            active_days = active_days + (CASE WHEN NEW.orders > 0 THEN 1 ELSE 0 END)
                - (CASE WHEN OLD.orders > 0 THEN 1 ELSE 0 END)
        WHERE merchant_id = NEW.merchant_id AND week = NEW.day / 7;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER merchant_weekly_add AFTER INSERT OR UPDATE ON merchant_daily
    FOR EACH ROW EXECUTE FUNCTION merchant_weekly_add();
