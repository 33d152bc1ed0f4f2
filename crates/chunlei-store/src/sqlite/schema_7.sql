-- Version 7: a count of changes to the merchant registry. The ledger writer keeps registry
-- records between commits; the registry is written by other connections (and other
-- processes), so the writer reads this count in each group's snapshot and forgets what it
-- kept when the count has moved. Triggers keep it, in the transaction that changes a row.
CREATE TABLE merchants_changes (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    changes INTEGER NOT NULL
);
INSERT INTO merchants_changes (singleton, changes) VALUES (1, 0);
CREATE TRIGGER merchants_changes_insert AFTER INSERT ON merchants BEGIN
    UPDATE merchants_changes SET changes = changes + 1 WHERE singleton = 1;
END;
CREATE TRIGGER merchants_changes_update AFTER UPDATE ON merchants BEGIN
    UPDATE merchants_changes SET changes = changes + 1 WHERE singleton = 1;
END;
CREATE TRIGGER merchants_changes_delete AFTER DELETE ON merchants BEGIN
    UPDATE merchants_changes SET changes = changes + 1 WHERE singleton = 1;
END;
