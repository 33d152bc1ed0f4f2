//! One result per event, one variant per reason, in the order the engine checks them.
//!
//! The names are TigerBeetle's and are the stable machine-readable codes of the API.

macro_rules! results {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $label:literal,)* }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name { $($variant,)* }

        impl $name {
            /// Every result, in the order the engine checks them.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The stable snake_case code.
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $label,)* }
            }

            /// True when the event took effect now or had already taken effect identically.
            pub const fn is_success(self) -> bool {
                matches!(self, $name::Ok | $name::Exists)
            }
        }
    };
}

results! {
    /// The outcome of one account creation.
    CreateAccountResult {
        Ok = "ok",
        LinkedEventFailed = "linked_event_failed",
        LinkedEventChainOpen = "linked_event_chain_open",
        IdMustNotBeZero = "id_must_not_be_zero",
        IdMustNotBeIntMax = "id_must_not_be_int_max",
        FlagsAreMutuallyExclusive = "flags_are_mutually_exclusive",
        LedgerMustNotBeZero = "ledger_must_not_be_zero",
        CodeMustNotBeZero = "code_must_not_be_zero",
        ExistsWithDifferentFlags = "exists_with_different_flags",
        ExistsWithDifferentUserData128 = "exists_with_different_user_data_128",
        ExistsWithDifferentUserData64 = "exists_with_different_user_data_64",
        ExistsWithDifferentUserData32 = "exists_with_different_user_data_32",
        ExistsWithDifferentLedger = "exists_with_different_ledger",
        ExistsWithDifferentCode = "exists_with_different_code",
        ExistsWithDifferentOwner = "exists_with_different_owner",
        Exists = "exists",
    }
}

results! {
    /// The outcome of one transfer.
    CreateTransferResult {
        Ok = "ok",
        LinkedEventFailed = "linked_event_failed",
        LinkedEventChainOpen = "linked_event_chain_open",
        IdMustNotBeZero = "id_must_not_be_zero",
        IdMustNotBeIntMax = "id_must_not_be_int_max",
        FlagsAreMutuallyExclusive = "flags_are_mutually_exclusive",
        DebitAccountIdMustNotBeZero = "debit_account_id_must_not_be_zero",
        DebitAccountIdMustNotBeIntMax = "debit_account_id_must_not_be_int_max",
        CreditAccountIdMustNotBeZero = "credit_account_id_must_not_be_zero",
        CreditAccountIdMustNotBeIntMax = "credit_account_id_must_not_be_int_max",
        AccountsMustBeDifferent = "accounts_must_be_different",
        PendingIdMustBeZero = "pending_id_must_be_zero",
        PendingIdMustNotBeZero = "pending_id_must_not_be_zero",
        PendingIdMustNotBeIntMax = "pending_id_must_not_be_int_max",
        PendingIdMustBeDifferent = "pending_id_must_be_different",
        TimeoutReservedForPendingTransfer = "timeout_reserved_for_pending_transfer",
        AmountMustNotBeZero = "amount_must_not_be_zero",
        LedgerMustNotBeZero = "ledger_must_not_be_zero",
        CodeMustNotBeZero = "code_must_not_be_zero",
        ExistsWithDifferentFlags = "exists_with_different_flags",
        ExistsWithDifferentDebitAccountId = "exists_with_different_debit_account_id",
        ExistsWithDifferentCreditAccountId = "exists_with_different_credit_account_id",
        ExistsWithDifferentAmount = "exists_with_different_amount",
        ExistsWithDifferentPendingId = "exists_with_different_pending_id",
        ExistsWithDifferentUserData128 = "exists_with_different_user_data_128",
        ExistsWithDifferentUserData64 = "exists_with_different_user_data_64",
        ExistsWithDifferentUserData32 = "exists_with_different_user_data_32",
        ExistsWithDifferentTimeout = "exists_with_different_timeout",
        ExistsWithDifferentLedger = "exists_with_different_ledger",
        ExistsWithDifferentCode = "exists_with_different_code",
        Exists = "exists",
        IdAlreadyFailed = "id_already_failed",
        DebitAccountNotFound = "debit_account_not_found",
        CreditAccountNotFound = "credit_account_not_found",
        AccountsMustHaveTheSameLedger = "accounts_must_have_the_same_ledger",
        TransferMustHaveTheSameLedgerAsAccounts = "transfer_must_have_the_same_ledger_as_accounts",
        PendingTransferNotFound = "pending_transfer_not_found",
        PendingTransferNotPending = "pending_transfer_not_pending",
        PendingTransferHasDifferentDebitAccountId = "pending_transfer_has_different_debit_account_id",
        PendingTransferHasDifferentCreditAccountId = "pending_transfer_has_different_credit_account_id",
        PendingTransferHasDifferentLedger = "pending_transfer_has_different_ledger",
        PendingTransferHasDifferentCode = "pending_transfer_has_different_code",
        ExceedsPendingTransferAmount = "exceeds_pending_transfer_amount",
        PendingTransferHasDifferentAmount = "pending_transfer_has_different_amount",
        PendingTransferAlreadyPosted = "pending_transfer_already_posted",
        PendingTransferAlreadyVoided = "pending_transfer_already_voided",
        PendingTransferExpired = "pending_transfer_expired",
        DebitAccountAlreadyClosed = "debit_account_already_closed",
        CreditAccountAlreadyClosed = "credit_account_already_closed",
        OverflowsDebitsPending = "overflows_debits_pending",
        OverflowsCreditsPending = "overflows_credits_pending",
        OverflowsDebitsPosted = "overflows_debits_posted",
        OverflowsCreditsPosted = "overflows_credits_posted",
        OverflowsDebits = "overflows_debits",
        OverflowsCredits = "overflows_credits",
        OverflowsTimeout = "overflows_timeout",
        ExceedsCredits = "exceeds_credits",
        ExceedsDebits = "exceeds_debits",
    }
}

impl CreateTransferResult {
    /// True for a failure that depends on the ledger's state at the time (an account not yet
    /// created, a balance too low, the amount a balancing pending transfer in the same chain
    /// happened to reserve, ...) rather than on the event alone. Such a failure is
    /// remembered under the transfer's id, as TigerBeetle does, so that re-sending the event
    /// later answers `id_already_failed` instead of possibly moving money.
    pub const fn is_transient(self) -> bool {
        use CreateTransferResult as R;
        matches!(
            self,
            R::DebitAccountNotFound
                | R::CreditAccountNotFound
                | R::PendingTransferNotFound
                | R::PendingTransferExpired
                | R::ExceedsPendingTransferAmount
                | R::PendingTransferHasDifferentAmount
                | R::DebitAccountAlreadyClosed
                | R::CreditAccountAlreadyClosed
                | R::OverflowsDebitsPending
                | R::OverflowsCreditsPending
                | R::OverflowsDebitsPosted
                | R::OverflowsCreditsPosted
                | R::OverflowsDebits
                | R::OverflowsCredits
                | R::ExceedsCredits
                | R::ExceedsDebits
        )
    }

    /// Looks a result up by its code.
    pub fn parse(code: &str) -> Option<CreateTransferResult> {
        CreateTransferResult::ALL
            .iter()
            .copied()
            .find(|r| r.as_str() == code)
    }
}
