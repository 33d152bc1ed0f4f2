-- Version 9: no index of loan decisions by merchant. Nothing reads decisions by merchant (a
-- decision is read by its application id), and every decision wrote a page of that index at a
-- random place: a third of the pages a group of decisions commits. An index can come back with
-- the first reader that needs it.
DROP INDEX loan_decisions_merchant;
