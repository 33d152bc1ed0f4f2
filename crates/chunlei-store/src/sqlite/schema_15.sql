-- Version 15: a fraud flag set or cleared counts as a change to the merchant registry, so
-- that loan decisions' inputs kept in memory, which include the flag, are read again after
-- it (the server checks this count before it stores a decision made from them).
CREATE TRIGGER merchants_changes_flag_insert AFTER INSERT ON merchant_fraud_flags BEGIN
    UPDATE merchants_changes SET changes = changes + 1 WHERE singleton = 1;
END;
CREATE TRIGGER merchants_changes_flag_delete AFTER DELETE ON merchant_fraud_flags BEGIN
    UPDATE merchants_changes SET changes = changes + 1 WHERE singleton = 1;
END;
CREATE TRIGGER merchants_changes_flag_update AFTER UPDATE ON merchant_fraud_flags BEGIN
    UPDATE merchants_changes SET changes = changes + 1 WHERE singleton = 1;
END;
