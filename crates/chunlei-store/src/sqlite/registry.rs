//! Which merchants' registry entries changed, as far as this process has learnt (SQLite).
//!
//! The registry (merchants and their fraud flags) is written through read connections, by
//! this process or by another (`chunlei import merchants` beside a running server). Triggers
//! number every change (`merchants_changes`, migrations 7 and 15) and give each merchant the
//! number of its latest (`merchants_changed`, migration 16). A copy of something read from
//! the registry (a parsed entry, a loan decision's inputs) carries the count it was read at,
//! and holds while its merchant has no later change: a write to one merchant leaves every
//! other merchant's copies good.
//!
//! What this process knows of the changes is a count, [`RegistryChanges::known`], and for the
//! changes up to it, the latest one of each of [`SLOTS`] groups of merchants (hashed onto
//! them: a change to one merchant also passes for a change to the others of its slot, which
//! costs them only a read). Whoever sees a count in the database above the one known catches
//! up ([`RegistryChanges::catch_up`]): it asks which merchants changed since, notes them,
//! and only then raises the count, so a copy checked against a count is checked against
//! every change up to it. A catch-up that finds more than [`NOTED_MAX`] merchants changed
//! notes a change to every merchant instead, as does the first, which has nothing to ask
//! from.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Mutex, PoisonError};

use rusqlite::{Connection, params};

use crate::StoreError;
use crate::shards::fnv1a;

/// Groups of merchants whose latest change is noted.
const SLOTS: usize = 4_096;
/// Merchants one catch-up notes one by one at most; past it, every merchant counts as changed
/// (a bulk import: the copies are worth less than reading so many ids).
pub(crate) const NOTED_MAX: usize = 1_024;

/// The registry's changes this process knows of (see the module's documentation).
#[derive(Debug)]
pub(crate) struct RegistryChanges {
    /// Every change up to this count is noted; `i64::MIN` before the first catch-up.
    known: AtomicI64,
    /// Every merchant counts as changed at this count.
    all: AtomicI64,
    /// The latest change noted of each slot's merchants.
    slots: Box<[AtomicI64]>,
    /// One catch-up at a time, so that none raises the count past changes another is noting.
    catching_up: Mutex<()>,
}

impl Default for RegistryChanges {
    fn default() -> RegistryChanges {
        RegistryChanges {
            known: AtomicI64::new(i64::MIN),
            all: AtomicI64::new(i64::MIN),
            slots: (0..SLOTS).map(|_| AtomicI64::new(i64::MIN)).collect(),
            catching_up: Mutex::new(()),
        }
    }
}

fn slot(merchant_id: &str) -> usize {
    (fnv1a(merchant_id) % SLOTS as u64) as usize
}

impl RegistryChanges {
    /// The count up to which every change is noted.
    pub(crate) fn known(&self) -> i64 {
        self.known.load(Ordering::Acquire)
    }

    /// Whether a copy of `merchant_id`'s entry read at count `read_at` is still its entry at
    /// count `at`, by the changes noted: both counts must be caught up to.
    pub(crate) fn holds(&self, merchant_id: &str, read_at: i64, at: i64) -> bool {
        let latest = self.slots[slot(merchant_id)]
            .load(Ordering::Acquire)
            .max(self.all.load(Ordering::Acquire));
        latest <= read_at.min(at)
    }

    /// Reads the registry's change count as `conn` sees it (in its snapshot, or the latest
    /// commit outside a transaction), notes every change up to it, and returns it.
    pub(crate) fn catch_up_with(&self, conn: &Connection) -> Result<i64, StoreError> {
        let count = super::registry_changes(conn)?;
        self.catch_up(conn, count)?;
        Ok(count)
    }

    /// Notes every change up to `count`, a count `conn` has seen: in its snapshot, or the
    /// latest commit when it is outside a transaction. A count already known costs nothing.
    pub(crate) fn catch_up(&self, conn: &Connection, count: i64) -> Result<(), StoreError> {
        if count <= self.known() {
            return Ok(());
        }
        let _one = self
            .catching_up
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let known = self.known();
        if count <= known {
            return Ok(());
        }
        let changed = if known == i64::MIN {
            None
        } else {
            changed_since(conn, known, NOTED_MAX)?
        };
        match changed {
            // Outside a transaction the rows may be newer than `count`, never older: a
            // merchant changed again since is noted at its later change, which covers both.
            Some(changed) => {
                for (merchant, at) in changed {
                    self.slots[slot(&merchant)].fetch_max(at, Ordering::AcqRel);
                }
            }
            None => {
                self.all.fetch_max(count, Ordering::AcqRel);
            }
        }
        self.known.fetch_max(count, Ordering::AcqRel);
        Ok(())
    }
}

/// The merchants changed after count `after`, each with the count of its latest change, as
/// `conn` sees them; `None` when there are more than `max`.
pub(crate) fn changed_since(
    conn: &Connection,
    after: i64,
    max: usize,
) -> Result<Option<Vec<(String, i64)>>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT merchant_id, changes FROM merchants_changed WHERE changes > ?1 LIMIT ?2",
    )?;
    let limit = i64::try_from(max).unwrap_or(i64::MAX).saturating_add(1);
    let rows = stmt.query_map(params![after, limit], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let changed: Vec<(String, i64)> = rows.collect::<Result<_, _>>()?;
    Ok((changed.len() <= max).then_some(changed))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry() -> Connection {
        let mut conn = Connection::open_in_memory().expect("open");
        super::super::migrate(&mut conn).expect("migrate");
        conn
    }

    fn count(conn: &Connection) -> i64 {
        super::super::registry_changes(conn).expect("count")
    }

    fn register(conn: &Connection, id: &str) {
        conn.execute(
            "INSERT INTO merchants (id, name, kind, foreign_trade, region_code, category, \
             joined_on, cluster_id, agriculture_base_id, risk_tier, bank_code, \
             account_number, holder_name, created_at, updated_at, version) \
             VALUES (?1, 'n', 'factory', 1, '330782', 'toys', 17000, '', '', 'B', 'MYBK', \
             '6222000011112222', 'h', 0, 0, 1) \
             ON CONFLICT (id) DO UPDATE SET version = version + 1",
            [id],
        )
        .expect("register");
    }

    /// Two merchants that do not share a slot.
    const A: &str = "m-1";
    const B: &str = "m-2";

    /// A registry holding `merchants`, and changes caught up with it, at the count returned.
    fn caught_up(merchants: &[&str]) -> (Connection, RegistryChanges, i64) {
        let conn = registry();
        let changes = RegistryChanges::default();
        for merchant in merchants {
            register(&conn, merchant);
        }
        let at = count(&conn);
        changes.catch_up(&conn, at).expect("catch up");
        (conn, changes, at)
    }

    #[test]
    fn a_change_to_one_merchant_leaves_the_others_copies_holding() {
        assert_ne!(slot(A), slot(B));
        let (conn, changes, read_at) = caught_up(&[A, B]);
        assert!(
            !changes.holds(A, read_at - 1, read_at),
            "the first catch-up takes every earlier change for a change to every merchant"
        );
        assert!(changes.holds(A, read_at, read_at));

        register(&conn, A);
        let now = count(&conn);
        assert_eq!(now, read_at + 1);
        changes.catch_up(&conn, now).expect("catch up");
        assert_eq!(changes.known(), now);
        assert!(!changes.holds(A, read_at, now));
        assert!(changes.holds(A, now, now));
        assert!(changes.holds(B, read_at, now));
        // A copy read at the new count does not hold in a snapshot from before the change.
        assert!(!changes.holds(A, now, read_at));
        assert!(changes.holds(B, now, read_at));
    }

    #[test]
    fn fraud_flags_and_deletions_are_changes_to_their_merchant() {
        let (conn, changes, read_at) = caught_up(&[A, B]);
        conn.execute(
            "INSERT INTO merchant_fraud_flags (merchant_id, reason, flagged_at, flagged_by) \
             VALUES (?1, 'r', 0, 'k')",
            [A],
        )
        .expect("flag");
        changes.catch_up(&conn, count(&conn)).expect("catch up");
        assert!(!changes.holds(A, read_at, changes.known()));
        assert!(changes.holds(B, read_at, changes.known()));
        let read_at = changes.known();
        conn.execute("DELETE FROM merchants WHERE id = ?1", [B])
            .expect("delete");
        changes.catch_up(&conn, count(&conn)).expect("catch up");
        assert!(changes.holds(A, read_at, changes.known()));
        assert!(!changes.holds(B, read_at, changes.known()));
    }

    #[test]
    fn a_bulk_change_counts_as_a_change_to_every_merchant() {
        let (conn, changes, read_at) = caught_up(&[A]);
        for n in 0..=NOTED_MAX {
            register(&conn, &format!("bulk-{n}"));
        }
        assert_eq!(changed_since(&conn, read_at, NOTED_MAX).expect("ask"), None);
        let now = count(&conn);
        changes.catch_up(&conn, now).expect("catch up");
        assert!(!changes.holds(A, read_at, now));
        assert!(changes.holds(A, now, now));
    }

    #[test]
    fn a_count_already_known_asks_nothing() {
        let (conn, changes, now) = caught_up(&[A]);
        // Without the table, asking would fail: nothing is asked.
        conn.execute_batch("DROP TABLE merchants_changed")
            .expect("drop");
        changes.catch_up(&conn, now).expect("known already");
        changes.catch_up(&conn, now - 1).expect("older");
        assert!(changes.catch_up(&conn, now + 1).is_err());
        assert_eq!(changes.known(), now, "a failed catch-up raises nothing");
    }

    /// One step of the property below.
    #[derive(Clone, Debug)]
    enum Step {
        /// Registers the merchant, or writes its entry again.
        Write(usize),
        /// Flags the merchant, or clears its flag.
        Flag(usize),
        /// Reads a copy of the merchant's entry at the latest count.
        Read(usize),
    }

    fn step() -> impl proptest::strategy::Strategy<Value = Step> {
        use proptest::prelude::*;
        prop_oneof![
            (0..MERCHANTS).prop_map(Step::Write),
            (0..MERCHANTS).prop_map(Step::Flag),
            (0..MERCHANTS).prop_map(Step::Read),
        ]
    }

    const MERCHANTS: usize = 8;

    /// `MERCHANTS` ids, the last sharing the first's slot.
    fn merchant_ids() -> Vec<String> {
        let mut ids: Vec<String> = (0..MERCHANTS - 1).map(|n| format!("m-{n}")).collect();
        let shares = (0..)
            .map(|n| format!("shares-{n}"))
            .find(|id| slot(id) == slot(&ids[0]))
            .unwrap_or_default();
        ids.push(shares);
        ids
    }

    proptest::proptest! {
        /// Whatever the order of writes, flags and reads, a copy holds exactly when no
        /// merchant of its slot changed between the count it was read at and the count asked
        /// for, and every change before the first catch-up counts for all: never a copy of a
        /// merchant changed since it was read.
        #[test]
        fn a_copy_holds_exactly_while_its_slot_is_unchanged(
            steps in proptest::collection::vec(step(), 1..60),
        ) {
            let ids = merchant_ids();
            proptest::prop_assert_eq!(slot(&ids[0]), slot(&ids[MERCHANTS - 1]));
            // Registered before anything is caught up with: the first catch-up takes every
            // change up to it for a change to all.
            let (conn, changes, first) = caught_up(&ids.iter().map(String::as_str).collect::<Vec<_>>());
            // The count of each merchant's latest change, and whether it is flagged.
            let mut latest = [first; MERCHANTS];
            let mut flagged = [false; MERCHANTS];
            let mut copies: Vec<(usize, i64)> = Vec::new();
            for step in steps {
                match step {
                    Step::Write(m) => register(&conn, &ids[m]),
                    Step::Flag(m) if flagged[m] => {
                        conn.execute("DELETE FROM merchant_fraud_flags WHERE merchant_id = ?1", [&ids[m]])
                            .expect("clear");
                        flagged[m] = false;
                    }
                    Step::Flag(m) => {
                        conn.execute(
                            "INSERT INTO merchant_fraud_flags (merchant_id, reason, flagged_at, \
                             flagged_by) VALUES (?1, 'r', 0, 'k')",
                            [&ids[m]],
                        )
                        .expect("flag");
                        flagged[m] = true;
                    }
                    Step::Read(m) => {
                        let at = count(&conn);
                        changes.catch_up(&conn, at).expect("catch up");
                        copies.push((m, at));
                    }
                }
                if let Step::Write(m) | Step::Flag(m) = step {
                    latest[m] = count(&conn);
                }
                let now = count(&conn);
                changes.catch_up(&conn, now).expect("catch up");
                proptest::prop_assert_eq!(changes.known(), now);
                for &(m, read_at) in &copies {
                    for at in [read_at, now, (read_at + now) / 2] {
                        let newest = (0..MERCHANTS)
                            .filter(|&o| slot(&ids[o]) == slot(&ids[m]))
                            .map(|o| latest[o])
                            .max()
                            .unwrap_or(first);
                        let expected = newest.max(first) <= read_at.min(at);
                        proptest::prop_assert_eq!(
                            changes.holds(&ids[m], read_at, at),
                            expected,
                            "merchant {} read at {} asked at {}", m, read_at, at
                        );
                        if latest[m] > read_at.min(at) {
                            proptest::prop_assert!(!changes.holds(&ids[m], read_at, at));
                        }
                    }
                }
            }
        }
    }
}
