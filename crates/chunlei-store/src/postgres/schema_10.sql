-- Version 10: each merchant's activity as running totals instead of weeks. A row of
-- merchant_running holds the merchant's counters summed over every day from its first through
-- `day`, one row for each row of merchant_daily, so that the sum over any range of days is the
-- difference of two rows: the last on or before the range's end, less the last before its
-- start. A decision's four ranges of a year cost five index seeks whatever the history.
-- A trigger keeps it in the transaction that writes merchant_daily, which is only ever added
-- to: a change to a day adds to that day's row and to every later one (none, for today's
-- events; a few, for an event dated a little in the past).
DROP TRIGGER IF EXISTS merchant_weekly_add ON merchant_daily;
DROP FUNCTION IF EXISTS merchant_weekly_add();
DROP TABLE IF EXISTS merchant_weekly;
CREATE TABLE merchant_running (
    merchant_id TEXT NOT NULL,
    day BIGINT NOT NULL,
    orders BIGINT NOT NULL,
    gross BIGINT NOT NULL,
    refunded BIGINT NOT NULL,
    settlements BIGINT NOT NULL,
    -- Days with at least one order paid.
    active_days BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, day)
);
INSERT INTO merchant_running (merchant_id, day, orders, gross, refunded, settlements, active_days)
SELECT merchant_id, day, sum(orders) OVER w, sum(gross) OVER w, sum(refunded) OVER w,
       sum(settlements) OVER w, count(*) FILTER (WHERE orders > 0) OVER w
FROM merchant_daily
WINDOW w AS (PARTITION BY merchant_id ORDER BY day ROWS UNBOUNDED PRECEDING);
CREATE FUNCTION merchant_running_add() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    d_orders BIGINT := NEW.orders;
    d_gross BIGINT := NEW.gross;
    d_refunded BIGINT := NEW.refunded;
    d_settlements BIGINT := NEW.settlements;
    d_active BIGINT := CASE WHEN NEW.orders > 0 THEN 1 ELSE 0 END;
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO merchant_running
            (merchant_id, day, orders, gross, refunded, settlements, active_days)
        SELECT NEW.merchant_id, NEW.day,
               coalesce(b.orders, 0) + d_orders, coalesce(b.gross, 0) + d_gross,
               coalesce(b.refunded, 0) + d_refunded,
               coalesce(b.settlements, 0) + d_settlements,
               coalesce(b.active_days, 0) + d_active
        FROM (SELECT 1) AS one LEFT JOIN LATERAL (
            SELECT orders, gross, refunded, settlements, active_days FROM merchant_running
            WHERE merchant_id = NEW.merchant_id AND day < NEW.day ORDER BY day DESC LIMIT 1
        ) AS b ON true;
        UPDATE merchant_running SET
            orders = orders + d_orders,
            gross = gross + d_gross,
            refunded = refunded + d_refunded,
            settlements = settlements + d_settlements,
            active_days = active_days + d_active
        WHERE merchant_id = NEW.merchant_id AND day > NEW.day;
    ELSE
        UPDATE merchant_running SET
            orders = orders + d_orders - OLD.orders,
            gross = gross + d_gross - OLD.gross,
            refunded = refunded + d_refunded - OLD.refunded,
            settlements = settlements + d_settlements - OLD.settlements,
            active_days = active_days + d_active
                - (CASE WHEN OLD.orders > 0 THEN 1 ELSE 0 END)
        WHERE merchant_id = NEW.merchant_id AND day >= NEW.day;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER merchant_running_add AFTER INSERT OR UPDATE ON merchant_daily
    FOR EACH ROW EXECUTE FUNCTION merchant_running_add();
