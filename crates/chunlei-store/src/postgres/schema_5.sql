-- Every loan decision, with what it was made from, for audit and idempotency: the
-- application id is the key, so a decision is stored once and a re-sent application gets the
-- stored decision back. Features, the chosen offer, the reasons and every bank's answer are
-- text of `key=value` lines (chunlei_lending::decision::audit).
CREATE TABLE loan_decisions (
    application_id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL,
    requested BIGINT NOT NULL,
    term_months BIGINT NOT NULL,
    -- Nanoseconds since the Unix epoch.
    decided_at BIGINT NOT NULL,
    model_version TEXT NOT NULL,
    score BIGINT NOT NULL,
    grade TEXT NOT NULL,
    policy_version TEXT NOT NULL,
    -- approved or declined.
    outcome TEXT NOT NULL,
    -- The bank of the chosen offer; NULL when declined.
    bank_id TEXT,
    features TEXT NOT NULL,
    offer TEXT,
    reasons TEXT NOT NULL,
    answers TEXT NOT NULL
);
CREATE INDEX loan_decisions_merchant ON loan_decisions (merchant_id);
