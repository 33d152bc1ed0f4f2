//! A value split over [`SHARDS`] locks by a hash of the key it is asked for: the caches every
//! first loan application goes through (the parsed registry entries, the decision inputs).
//!
//! Behind one lock, such a cache stopped everything that used it whenever its table grew: a
//! server that had just started and saw tens of thousands of merchants apply doubled the
//! table every time it filled, and moving tens of thousands of parsed merchants into tens of
//! megabytes of new memory (which the kernel zeroes as it is first touched) held every reader,
//! and every decision waiting on the inputs, meanwhile (`docs/benchmarks.md`: 90 ms of the
//! readers' time in a run of 60,000 first applications). Split, each table is a sixty-fourth as
//! large, grows in steps as small, and readers of different merchants do not wait for each
//! other.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// Locks a cache is split over.
pub(crate) const SHARDS: usize = 64;

/// `SHARDS` values of `T`, each behind its own lock; a key always finds the same one.
#[derive(Debug)]
pub(crate) struct Shards<T> {
    shards: Box<[Mutex<T>]>,
}

impl<T: Default> Default for Shards<T> {
    fn default() -> Shards<T> {
        Shards {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
        }
    }
}

impl<T> Shards<T> {
    /// The shard `key` belongs to, locked. A panic while a shard was held leaves it as the
    /// panic found it; the caches here check every entry before they answer from it, so it is
    /// used as it stands.
    pub(crate) fn lock(&self, key: &str) -> MutexGuard<'_, T> {
        let index = (fnv1a(key) % SHARDS as u64) as usize;
        self.shards[index]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Every shard, locked one after another.
    #[cfg(test)]
    pub(crate) fn each(&self) -> impl Iterator<Item = MutexGuard<'_, T>> {
        self.shards
            .iter()
            .map(|shard| shard.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// FNV-1a: stable from run to run, cheap on short ids, and enough to spread merchant ids.
pub(crate) fn fnv1a(key: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in key.bytes() {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::{SHARDS, Shards};

    #[test]
    fn a_key_always_finds_its_shard_and_keys_spread_over_all_of_them() {
        let shards: Shards<Vec<String>> = Shards::default();
        for n in 0..SHARDS * 64 {
            let key = format!("merchant-{n}");
            shards.lock(&key).push(key);
        }
        for n in 0..SHARDS * 64 {
            let key = format!("merchant-{n}");
            assert!(shards.lock(&key).contains(&key), "{key} is where it went");
        }
        let sizes: Vec<usize> = shards.each().map(|shard| shard.len()).collect();
        assert_eq!(sizes.iter().sum::<usize>(), SHARDS * 64);
        // 64 keys a shard on average: none empty, none with a quarter of them.
        assert!(sizes.iter().all(|&n| n > 0 && n < SHARDS * 16), "{sizes:?}");
    }

    #[test]
    fn a_shard_poisoned_by_a_panic_is_still_used() {
        let shards: Shards<Vec<u32>> = Shards::default();
        shards.lock("m-1").push(1);
        let held = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _guard = shards.lock("m-1");
            panic!("while holding the shard");
        }));
        assert!(held.is_err());
        assert_eq!(*shards.lock("m-1"), vec![1]);
    }
}
