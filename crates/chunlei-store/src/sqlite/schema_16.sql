-- Version 16: which merchant each registry change was to. The count of version 7 says only
-- that something in the registry changed, so copies of what was read from it (the parsed
-- entries, loan decisions' inputs) were all dropped at every change, and a one-merchant import
-- sent every merchant's next loan application back to the database. Each merchant's row here
-- holds the count of its own latest change; a reader that sees the count move asks, by the
-- index, which merchants changed since the count it knew, and drops only their copies.
CREATE TABLE merchants_changed (
    merchant_id TEXT PRIMARY KEY,
    changes INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX merchants_changed_by_changes ON merchants_changed (changes);

DROP TRIGGER merchants_changes_insert;
DROP TRIGGER merchants_changes_update;
DROP TRIGGER merchants_changes_delete;
DROP TRIGGER merchants_changes_flag_insert;
DROP TRIGGER merchants_changes_flag_delete;
DROP TRIGGER merchants_changes_flag_update;

-- Each trigger counts the change, then gives the changed merchant (both, where an update
-- changed the id) the new count. The WHERE in each SELECT also keeps SQLite from reading
-- ON CONFLICT as part of a join.
CREATE TRIGGER merchants_changes_insert AFTER INSERT ON merchants BEGIN
    UPDATE merchants_changes SET changes = changes + 1 WHERE singleton = 1;
    INSERT INTO merchants_changed (merchant_id, changes)
        SELECT NEW.id, changes FROM merchants_changes WHERE singleton = 1
        ON CONFLICT (merchant_id) DO UPDATE SET changes = excluded.changes;
END;
CREATE TRIGGER merchants_changes_update AFTER UPDATE ON merchants BEGIN
    UPDATE merchants_changes SET changes = changes + 1 WHERE singleton = 1;
    INSERT INTO merchants_changed (merchant_id, changes)
        SELECT NEW.id, changes FROM merchants_changes WHERE singleton = 1
        ON CONFLICT (merchant_id) DO UPDATE SET changes = excluded.changes;
    INSERT INTO merchants_changed (merchant_id, changes)
        SELECT OLD.id, changes FROM merchants_changes WHERE singleton = 1 AND OLD.id <> NEW.id
        ON CONFLICT (merchant_id) DO UPDATE SET changes = excluded.changes;
END;
CREATE TRIGGER merchants_changes_delete AFTER DELETE ON merchants BEGIN
    UPDATE merchants_changes SET changes = changes + 1 WHERE singleton = 1;
    INSERT INTO merchants_changed (merchant_id, changes)
        SELECT OLD.id, changes FROM merchants_changes WHERE singleton = 1
        ON CONFLICT (merchant_id) DO UPDATE SET changes = excluded.changes;
END;
CREATE TRIGGER merchants_changes_flag_insert AFTER INSERT ON merchant_fraud_flags BEGIN
    UPDATE merchants_changes SET changes = changes + 1 WHERE singleton = 1;
    INSERT INTO merchants_changed (merchant_id, changes)
        SELECT NEW.merchant_id, changes FROM merchants_changes WHERE singleton = 1
        ON CONFLICT (merchant_id) DO UPDATE SET changes = excluded.changes;
END;
CREATE TRIGGER merchants_changes_flag_delete AFTER DELETE ON merchant_fraud_flags BEGIN
    UPDATE merchants_changes SET changes = changes + 1 WHERE singleton = 1;
    INSERT INTO merchants_changed (merchant_id, changes)
        SELECT OLD.merchant_id, changes FROM merchants_changes WHERE singleton = 1
        ON CONFLICT (merchant_id) DO UPDATE SET changes = excluded.changes;
END;
CREATE TRIGGER merchants_changes_flag_update AFTER UPDATE ON merchant_fraud_flags BEGIN
    UPDATE merchants_changes SET changes = changes + 1 WHERE singleton = 1;
    INSERT INTO merchants_changed (merchant_id, changes)
        SELECT NEW.merchant_id, changes FROM merchants_changes WHERE singleton = 1
        ON CONFLICT (merchant_id) DO UPDATE SET changes = excluded.changes;
    INSERT INTO merchants_changed (merchant_id, changes)
        SELECT OLD.merchant_id, changes FROM merchants_changes
        WHERE singleton = 1 AND OLD.merchant_id <> NEW.merchant_id
        ON CONFLICT (merchant_id) DO UPDATE SET changes = excluded.changes;
END;
