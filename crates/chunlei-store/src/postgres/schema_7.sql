-- Version 7: the loan listings (by merchant, bank or status, in loan id order from a cursor)
-- read their index in that order. The indexes of version 6 held the column alone, so every
-- page sorted all of the merchant's, bank's or status's loans after the cursor first.
DROP INDEX loans_merchant;
DROP INDEX loans_bank;
DROP INDEX loans_status;
CREATE INDEX loans_merchant ON loans (merchant_id, loan_id);
CREATE INDEX loans_bank ON loans (bank_id, loan_id);
CREATE INDEX loans_status ON loans (status, loan_id);
