//! The ledger's records: accounts, transfers, and the state of pending transfers.

use crate::Fen;

/// Events per request and per `create_*` call, as in TigerBeetle (8,189 transfers fill one
/// 1 MiB message there; here it bounds the memory and the transaction of one request).
pub const BATCH_EVENTS_MAX: usize = 8_189;

/// Ids must be neither zero nor `u128::MAX`; both are reserved as sentinels.
pub const ID_INT_MAX: u128 = u128::MAX;

macro_rules! flags {
    ($(#[$meta:meta])* $name:ident { $($(#[$fmeta:meta])* $flag:ident = $bit:expr, $label:literal;)* }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
        pub struct $name(u16);

        impl $name {
            $($(#[$fmeta])* pub const $flag: $name = $name($bit);)*
            /// Every flag with its wire name, in bit order.
            pub const ALL: &'static [($name, &'static str)] = &[$(($name::$flag, $label)),*];

            pub const fn empty() -> $name { $name(0) }
            pub const fn bits(self) -> u16 { self.0 }
            /// `None` when `bits` has a bit that names no flag.
            pub const fn from_bits(bits: u16) -> Option<$name> {
                let known = 0 $(| $bit)*;
                if bits & !known == 0 { Some($name(bits)) } else { None }
            }
            pub const fn contains(self, other: $name) -> bool { self.0 & other.0 == other.0 }
            pub const fn union(self, other: $name) -> $name { $name(self.0 | other.0) }
            /// The wire names of the flags that are set.
            pub fn names(self) -> Vec<&'static str> {
                $name::ALL.iter().filter(|(f, _)| self.contains(*f)).map(|(_, n)| *n).collect()
            }
            pub fn from_name(name: &str) -> Option<$name> {
                $name::ALL.iter().find(|(_, n)| *n == name).map(|(f, _)| *f)
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}", self.names().join("|"))
            }
        }
    };
}

flags! {
    /// Account flags. `linked` chains account creations like transfer creations.
    AccountFlags {
        LINKED = 1, "linked";
        /// The account's debits (pending and posted) may never exceed its posted credits:
        /// an asset the holder cannot overdraw, e.g. a merchant's available balance.
        DEBITS_MUST_NOT_EXCEED_CREDITS = 2, "debits_must_not_exceed_credits";
        /// The account's credits may never exceed its posted debits.
        CREDITS_MUST_NOT_EXCEED_DEBITS = 4, "credits_must_not_exceed_debits";
        /// Keep a balance snapshot after every transfer that touches the account.
        HISTORY = 8, "history";
        /// No further transfers may touch the account.
        CLOSED = 16, "closed";
    }
}

flags! {
    /// Transfer flags.
    TransferFlags {
        /// This transfer succeeds or fails together with the next one in the batch.
        LINKED = 1, "linked";
        /// Reserve the amount (two-phase); post or void it later, or let it time out.
        PENDING = 2, "pending";
        POST_PENDING_TRANSFER = 4, "post_pending_transfer";
        VOID_PENDING_TRANSFER = 8, "void_pending_transfer";
        /// Transfer at most the debit account's available credit balance.
        BALANCING_DEBIT = 16, "balancing_debit";
        /// Transfer at most the credit account's available debit balance.
        BALANCING_CREDIT = 32, "balancing_credit";
    }
}

/// Who an account belongs to. Kept out of the balance fields; the HTTP edge uses it to decide
/// which merchant or bank may read the account.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Owner {
    pub kind: OwnerKind,
    /// The merchant's or bank's id; empty for the platform.
    pub id: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OwnerKind {
    Platform,
    Merchant,
    Bank,
}

impl OwnerKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            OwnerKind::Platform => "platform",
            OwnerKind::Merchant => "merchant",
            OwnerKind::Bank => "bank",
        }
    }

    pub fn parse(text: &str) -> Option<OwnerKind> {
        match text {
            "platform" => Some(OwnerKind::Platform),
            "merchant" => Some(OwnerKind::Merchant),
            "bank" => Some(OwnerKind::Bank),
            _ => None,
        }
    }
}

impl Owner {
    pub fn platform() -> Owner {
        Owner {
            kind: OwnerKind::Platform,
            id: String::new(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub id: u128,
    pub debits_pending: Fen,
    pub debits_posted: Fen,
    pub credits_pending: Fen,
    pub credits_posted: Fen,
    pub user_data_128: u128,
    pub user_data_64: u64,
    pub user_data_32: u32,
    /// The currency or asset; transfers only move value between accounts of one ledger.
    pub ledger: u32,
    /// The kind of account in the chart of accounts (escrow, advance pool, ...).
    pub code: u16,
    pub flags: AccountFlags,
    pub owner: Owner,
    /// Assigned by the engine when the account is created: nanoseconds since the Unix epoch,
    /// unique across all accounts and transfers.
    pub timestamp: u64,
}

impl Account {
    /// A new account as a client submits it: zero balances, no timestamp yet.
    pub fn new(id: u128, ledger: u32, code: u16) -> Account {
        Account {
            id,
            debits_pending: Fen::ZERO,
            debits_posted: Fen::ZERO,
            credits_pending: Fen::ZERO,
            credits_posted: Fen::ZERO,
            user_data_128: 0,
            user_data_64: 0,
            user_data_32: 0,
            ledger,
            code,
            flags: AccountFlags::empty(),
            owner: Owner::platform(),
            timestamp: 0,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transfer {
    pub id: u128,
    pub debit_account_id: u128,
    pub credit_account_id: u128,
    /// For a post, zero means "the full pending amount"; the stored transfer holds the
    /// amount actually moved (also for balancing transfers).
    pub amount: Fen,
    /// For a post or void: the pending transfer it resolves.
    pub pending_id: u128,
    pub user_data_128: u128,
    pub user_data_64: u64,
    pub user_data_32: u32,
    /// For a pending transfer: seconds until it expires; zero never expires.
    pub timeout_s: u32,
    pub ledger: u32,
    pub code: u16,
    pub flags: TransferFlags,
    pub timestamp: u64,
}

impl Transfer {
    /// A plain transfer as a client submits it.
    pub fn new(id: u128, debit_account_id: u128, credit_account_id: u128, amount: Fen) -> Transfer {
        Transfer {
            id,
            debit_account_id,
            credit_account_id,
            amount,
            pending_id: 0,
            user_data_128: 0,
            user_data_64: 0,
            user_data_32: 0,
            timeout_s: 0,
            ledger: 1,
            code: 1,
            flags: TransferFlags::empty(),
            timestamp: 0,
        }
    }

    /// True for a post or a void, which resolve an earlier pending transfer.
    pub fn resolves_pending(&self) -> bool {
        self.flags.contains(TransferFlags::POST_PENDING_TRANSFER)
            || self.flags.contains(TransferFlags::VOID_PENDING_TRANSFER)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PendingStatus {
    Pending,
    Posted,
    Voided,
    Expired,
}

impl PendingStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            PendingStatus::Pending => "pending",
            PendingStatus::Posted => "posted",
            PendingStatus::Voided => "voided",
            PendingStatus::Expired => "expired",
        }
    }

    pub fn parse(text: &str) -> Option<PendingStatus> {
        match text {
            "pending" => Some(PendingStatus::Pending),
            "posted" => Some(PendingStatus::Posted),
            "voided" => Some(PendingStatus::Voided),
            "expired" => Some(PendingStatus::Expired),
            _ => None,
        }
    }
}

/// The mutable part of a pending transfer: whether it is still pending and when it expires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PendingInfo {
    pub status: PendingStatus,
    /// Nanoseconds since the epoch; zero never expires.
    pub expires_at: u64,
}
