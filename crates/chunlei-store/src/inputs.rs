//! What a loan decision is made from, and on SQLite a copy of it kept between decisions.
//!
//! A decision reads the merchant's registry entry, a year of its activity in four sums, its
//! loans, its fraud flag and what every bank has lent: a dozen lookups in a snapshot, most of
//! a decision's cost. They change far less often than merchants apply, so the SQLite store
//! keeps what it read, per merchant and day, and answers from it for as long as nothing it
//! was made from has changed. Two kinds of writes change it:
//!
//! - **The writer's**: activity (settlements), loans and banks' usage (disbursements,
//!   payments). There is one writer per SQLite database, in this process, so it knows: after
//!   each commit, before any caller hears of it, the committer counts a change for every
//!   merchant whose activity or loans the commit changed, and for the banks' usage when it
//!   lent ([`InputsCache::changed`]). A copy is good only while the counts it was read at are
//!   the current ones.
//! - **The registry's and the fraud flags'**, made through read connections, by this process
//!   or by another (`chunlei import merchants` beside a running server). Triggers number them
//!   in the database, with the number of each merchant's latest change (SQLite migrations 7,
//!   15 and 16; [`crate::sqlite::registry`]). A copy is good only while its merchant has no
//!   change after the count it was read at, among those this process knows of; its own
//!   registry writes make it know theirs before they return. Another process's write is known
//!   at the latest when a decision made from a copy is stored: the committer catches up with
//!   the latest count before it stores decisions made from copies, and refuses those whose
//!   merchant changed after they were read ([`StoreError::InputsChanged`]); the caller decides
//!   again from a fresh read. A decision is therefore never stored from inputs older than a
//!   registry write that finished before it was asked for, and a write to one merchant leaves
//!   the others' copies in use.
//!
//! A copy is read with its counts taken before its snapshot begins ([`Ticket`]): a commit
//! landing in between leaves the copy with counts already out of date, so it is never used,
//! rather than a stale copy with current counts.
//!
//! PostgreSQL keeps no copies: several processes may write its database.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chunlei_lending::decision::{ACTIVITY_WINDOWS, ActivityTotals};
use chunlei_lending::loans::LoanRecord;
use chunlei_settlement::Merchant;

use crate::BankLent;
use crate::shards::{SHARDS, Shards, fnv1a};
use crate::sqlite::registry::RegistryChanges;

/// Loans of one merchant a decision reads at most; a merchant has a handful.
pub const DECISION_LOANS_MAX: u32 = 100;

/// Everything a loan decision reads from the store about one merchant on one day.
#[derive(Clone, Debug)]
pub struct DecisionInputs {
    /// Shared with the store's registry cache (SQLite).
    pub merchant: Arc<Merchant>,
    /// Activity summed over [`ACTIVITY_WINDOWS`], counted back from the day asked.
    pub totals: [ActivityTotals; ACTIVITY_WINDOWS.len()],
    /// The merchant's loans, at most [`DECISION_LOANS_MAX`].
    pub loans: Vec<LoanRecord>,
    pub fraud_flagged: bool,
    /// What every bank has lent, on the day and in the merchant's province and industry.
    pub lent: Vec<BankLent>,
}

/// Decision inputs served from memory, with the registry change count they were read at:
/// decisions made from them are stored with it ([`crate::Store::record_decisions_as_of`]).
#[derive(Clone, Debug)]
pub struct CachedInputs {
    pub inputs: Arc<DecisionInputs>,
    pub as_of: RegistryVersion,
}

/// How loan decisions got their inputs since the store opened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InputsStats {
    /// From memory.
    pub from_memory: u64,
    /// Read from the database (and kept).
    pub read: u64,
    /// Decisions made from memory that the writer refused, since their merchant's registry
    /// entry had changed (each then made again from a fresh read).
    pub refused: u64,
    /// Snapshots the decision reader read inputs in: applications waiting together share one.
    pub snapshots: u64,
}

/// A count of the merchant registry's changes (fraud flags included).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct RegistryVersion(pub(crate) i64);

/// Merchants whose copies are kept at most; past it each new copy takes an old one's place
/// among those of its shard.
const ENTRIES_MAX: usize = 1 << 16;
const SHARD_ENTRIES_MAX: usize = ENTRIES_MAX / SHARDS;
/// Counters of the writer's changes, merchants hashed onto them. A change to one merchant
/// also drops the copies of the others on its counter: rare, and only a re-read.
const SLOTS: usize = 4_096;

/// What one commit changed of the decisions' inputs.
#[derive(Debug, Default)]
pub(crate) struct Touched {
    /// Merchants whose activity or loans changed.
    pub merchants: Vec<String>,
    /// Whether any bank's usage changed.
    pub usage: bool,
}

/// The writer's counts as one read found them before its snapshot began.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ticket {
    merchant: u64,
    usage: u64,
}

#[derive(Debug)]
struct Entry {
    day: i32,
    ticket: Ticket,
    registry: i64,
    inputs: Arc<DecisionInputs>,
}

/// The copies and the counts they are checked against (see the module's documentation).
#[derive(Debug)]
pub(crate) struct InputsCache {
    /// The registry's changes known here, shared with the registry's own cache.
    pub(crate) registry: Arc<RegistryChanges>,
    merchants: Box<[AtomicU64]>,
    usage: AtomicU64,
    /// The copies, split by merchant over [`SHARDS`] locks (see [`crate::shards`]).
    entries: Shards<HashMap<String, Entry>>,
    /// [`InputsStats`]' counters.
    from_memory: AtomicU64,
    read: AtomicU64,
    refused: AtomicU64,
    snapshots: AtomicU64,
}

impl Default for InputsCache {
    fn default() -> InputsCache {
        InputsCache {
            registry: Arc::default(),
            merchants: (0..SLOTS).map(|_| AtomicU64::new(0)).collect(),
            usage: AtomicU64::new(0),
            entries: Shards::default(),
            from_memory: AtomicU64::new(0),
            read: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            snapshots: AtomicU64::new(0),
        }
    }
}

fn slot(merchant_id: &str) -> usize {
    (fnv1a(merchant_id) % SLOTS as u64) as usize
}

impl InputsCache {
    /// The copy for `merchant_id` on `day`, if nothing it was read from has changed since.
    pub(crate) fn get(&self, merchant_id: &str, day: i32) -> Option<CachedInputs> {
        let now = self.ticket(merchant_id);
        let known = self.registry.known();
        let entries = self.entries.lock(merchant_id);
        let entry = entries.get(merchant_id)?;
        let fresh = entry.day == day
            && self.registry.holds(merchant_id, entry.registry, known)
            && entry.ticket.merchant == now.merchant
            && entry.ticket.usage == now.usage;
        if !fresh {
            return None;
        }
        self.from_memory.fetch_add(1, Ordering::Relaxed);
        Some(CachedInputs {
            inputs: entry.inputs.clone(),
            as_of: RegistryVersion(entry.registry),
        })
    }

    pub(crate) fn stats(&self) -> InputsStats {
        InputsStats {
            from_memory: self.from_memory.load(Ordering::Relaxed),
            read: self.read.load(Ordering::Relaxed),
            refused: self.refused.load(Ordering::Relaxed),
            snapshots: self.snapshots.load(Ordering::Relaxed),
        }
    }

    /// Counts a snapshot of the decision reader's.
    pub(crate) fn snapshot_read(&self) {
        self.snapshots.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts decisions made from memory that the writer refused.
    pub(crate) fn refused(&self, decisions: usize) {
        self.refused.fetch_add(decisions as u64, Ordering::Relaxed);
    }

    /// The writer's counts for `merchant_id`, taken before a read's snapshot begins.
    pub(crate) fn ticket(&self, merchant_id: &str) -> Ticket {
        Ticket {
            merchant: self.merchants[slot(merchant_id)].load(Ordering::Acquire),
            usage: self.usage.load(Ordering::Acquire),
        }
    }

    /// Keeps `inputs`, read on `day` in a snapshot that began after `ticket` was taken and
    /// saw the registry at `registry`, a count [`InputsCache::registry`] has caught up to.
    pub(crate) fn keep(
        &self,
        day: i32,
        ticket: Ticket,
        registry: i64,
        inputs: Arc<DecisionInputs>,
    ) {
        self.read.fetch_add(1, Ordering::Relaxed);
        let id = inputs.merchant.id.as_str();
        let mut entries = self.entries.lock(id);
        if entries.len() >= SHARD_ENTRIES_MAX && !entries.contains_key(id) {
            // One arbitrary copy goes: dropping them all at once would hold every decision
            // behind the lock while tens of thousands are freed.
            let evicted = entries.keys().next().cloned();
            if let Some(evicted) = evicted {
                entries.remove(&evicted);
            }
        }
        entries.insert(
            id.to_owned(),
            Entry {
                day,
                ticket,
                registry,
                inputs,
            },
        );
    }

    /// Counts a commit's changes: called after it is durable, before anyone hears of it.
    pub(crate) fn changed(&self, touched: &Touched) {
        for merchant in &touched.merchants {
            self.merchants[slot(merchant)].fetch_add(1, Ordering::AcqRel);
        }
        if touched.usage {
            self.usage.fetch_add(1, Ordering::AcqRel);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chunlei_settlement::MerchantFields;

    fn inputs(id: &str) -> Arc<DecisionInputs> {
        let fields = MerchantFields {
            id,
            name: "Yiwu Socks",
            kind: "factory",
            foreign_trade: "true",
            region_code: "330782",
            category: "apparel",
            joined_on: "2018-03-01",
            cluster_id: "",
            agriculture_base_id: "",
            risk_tier: "B",
            bank_code: "MYBK",
            account_number: "6222000011112222",
            holder_name: "Yiwu Socks Co",
        };
        Arc::new(DecisionInputs {
            merchant: Arc::new(Merchant::parse(&fields).expect("a valid merchant")),
            totals: Default::default(),
            loans: Vec::new(),
            fraud_flagged: false,
            lent: Vec::new(),
        })
    }

    fn kept(cache: &InputsCache, id: &str, registry: i64) {
        let ticket = cache.ticket(id);
        cache.keep(100, ticket, registry, inputs(id));
    }

    #[test]
    fn a_copy_answers_until_its_merchant_changes() {
        let cache = InputsCache::default();
        kept(&cache, "m-1", 7);
        kept(&cache, "m-2", 7);
        assert_eq!(
            cache.get("m-1", 100).map(|c| c.as_of),
            Some(RegistryVersion(7))
        );
        assert!(cache.get("m-1", 101).is_none(), "another day reads again");
        cache.changed(&Touched {
            merchants: vec!["m-1".into()],
            usage: false,
        });
        assert!(cache.get("m-1", 100).is_none());
        assert!(cache.get("m-2", 100).is_some() || slot("m-1") == slot("m-2"));
    }

    #[test]
    fn the_counts_say_where_inputs_came_from() {
        let cache = InputsCache::default();
        assert!(cache.get("m-1", 100).is_none());
        kept(&cache, "m-1", 7);
        cache.get("m-1", 100);
        cache.get("m-1", 100);
        cache.refused(1);
        cache.snapshot_read();
        assert_eq!(
            cache.stats(),
            InputsStats {
                from_memory: 2,
                read: 1,
                refused: 1,
                snapshots: 1,
            }
        );
    }

    #[test]
    fn a_full_cache_makes_room_one_copy_at_a_time() {
        let cache = InputsCache::default();
        let kept_in_all =
            |cache: &InputsCache| cache.entries.each().map(|s| s.len()).sum::<usize>();
        // Twice as many merchants as it holds: every shard fills, none holds more.
        for n in 0..2 * ENTRIES_MAX {
            kept(&cache, &format!("m-{n}"), 7);
        }
        assert_eq!(kept_in_all(&cache), ENTRIES_MAX);
        let last = format!("m-{}", 2 * ENTRIES_MAX - 1);
        assert!(cache.get(&last, 100).is_some(), "the newest copy is kept");
        // Replacing a kept copy evicts nothing.
        kept(&cache, &last, 7);
        assert_eq!(kept_in_all(&cache), ENTRIES_MAX);
        assert_eq!(cache.entries.lock(&last).len(), SHARD_ENTRIES_MAX);
    }

    #[test]
    fn a_change_to_usage_drops_every_copy() {
        let cache = InputsCache::default();
        kept(&cache, "m-1", 7);
        cache.changed(&Touched {
            merchants: Vec::new(),
            usage: true,
        });
        assert!(cache.get("m-1", 100).is_none());
        kept(&cache, "m-1", 7);
        assert!(cache.get("m-1", 100).is_some());
    }

    #[test]
    fn a_copy_read_across_a_commit_is_not_answered() {
        let cache = InputsCache::default();
        let ticket = cache.ticket("m-1");
        // The commit lands after the ticket, while the read runs.
        cache.changed(&Touched {
            merchants: vec!["m-1".into()],
            usage: false,
        });
        cache.keep(100, ticket, 7, inputs("m-1"));
        assert!(cache.get("m-1", 100).is_none());
    }
}
