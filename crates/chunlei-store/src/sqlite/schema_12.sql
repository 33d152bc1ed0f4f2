-- Version 12: a decision looks up each bank's usage by dimension and key (today, the total,
-- its region, its industry), for every bank at once. The primary key starts with the bank, so
-- that lookup scanned every bank's usage of every day; this index finds the rows directly.
CREATE INDEX loan_usage_by_key ON loan_usage (dimension, key);
