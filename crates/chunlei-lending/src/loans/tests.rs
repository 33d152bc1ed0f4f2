//! Tests of the loan book on the real ledger engine.
