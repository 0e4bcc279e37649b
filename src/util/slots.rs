//! An open-addressing hash table for the engine's large maps (pairs, and message ids by day).
//!
//! hashbrown serves every other map. These are looked up once per event at random places in
//! megabytes, so their cost is cache misses; this table adds what hashbrown cannot offer:
//! - [`Slots::prefetch`]: the pricing loop asks for the memory of the next events' entries
//!   while it prices the current one;
//! - expiry without tombstones: a new key takes the slot of an expired entry on its probe path,
//!   and a sweep closes up the runs it cuts, so a table that forgets as fast as it learns keeps
//!   its size; a map that deletes by tombstones doubles once they fill it.
//!
//! Linear probing over one array of `(key, value)` entries, aligned as the user chooses: a
//! lookup reads one or two neighbouring cache lines. The capacity is a power of two and the
//! table grows past `max_load` percent. `K::default()` marks an empty slot and is never a key.

use super::cpu;

/// A key of a [`Slots`] table.
pub(crate) trait SlotKey: Copy + Eq + Default {
    /// A well-mixed hash: its high bits choose the slot.
    fn hash(&self) -> u64;
}

/// A slot: a key and its value, aligned like `A` (e.g. [`HalfLine`], so that an entry of up
/// to 32 bytes sits in one cache line).
#[derive(Default)]
struct Slot<K, V, A> {
    _align: [A; 0],
    key: K,
    value: V,
}

/// An alignment of 32 bytes, half a cache line: an entry of up to 32 bytes never straddles two.
#[derive(Debug, Default, Clone, Copy)]
#[repr(align(32))]
pub(crate) struct HalfLine;

pub(crate) struct Slots<K, V, A = u64> {
    entries: Vec<Slot<K, V, A>>,
    len: usize,
    /// log2 of the capacity.
    bits: u32,
    /// The table grows past this percentage of its capacity.
    max_load: usize,
    /// Changes each time a key is added or entries move (a sweep or a resize): a spot found
    /// before is stale.
    shape: u32,
}

/// Where [`Slots::probe`] found a key, or would put it; good until a key is added or entries
/// move.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Spot {
    /// `u32::MAX` in an empty table. 8 bytes in all: a probe's answer comes back in registers.
    index: u32,
    shape: u32,
}

const MIN_BITS: u32 = 4;

impl<K: SlotKey, V: Default, A: Default> Slots<K, V, A> {
    /// A table that grows past `max_load` percent.
    pub(crate) fn new(max_load: usize) -> Slots<K, V, A> {
        assert!((10..=90).contains(&max_load), "a load between 10% and 90%");
        Slots { entries: Vec::new(), len: 0, bits: 0, max_load, shape: 0 }
    }

    /// A table with room for `keys` keys before it grows.
    pub(crate) fn with_room(keys: usize, max_load: usize) -> Slots<K, V, A> {
        let mut slots = Slots::new(max_load);
        slots.resize(Slots::<K, V, A>::bits_for(keys, max_load));
        slots
    }

    /// This table emptied, if it is the size [`Slots::with_room`] gives for `keys` keys:
    /// its memory serves again, where dropping it and allocating another may leave the
    /// allocator's heap fragmented.
    pub(crate) fn emptied_for(mut self, keys: usize) -> Option<Slots<K, V, A>> {
        if self.bits != Slots::<K, V, A>::bits_for(keys, self.max_load) {
            return None;
        }
        self.entries.fill_with(Slot::default);
        self.len = 0;
        self.shape = self.shape.wrapping_add(1);
        Some(self)
    }

    fn bits_for(keys: usize, max_load: usize) -> u32 {
        let mut bits = MIN_BITS;
        while (keys + 1) * 100 > (1 << bits) * max_load {
            bits += 1;
        }
        bits
    }

    /// The entries held, live or expired.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    fn home(&self, key: &K) -> usize {
        (key.hash() >> (64 - self.bits)) as usize
    }

    fn mask(&self) -> usize {
        self.entries.len() - 1
    }

    /// Asks the processor to load the memory where `key` would be, without waiting for it.
    pub(crate) fn prefetch(&self, key: &K) {
        if self.entries.is_empty() {
            return;
        }
        let slot: *const Slot<K, V, A> = &self.entries[self.home(key)];
        // The 64 bytes from the home slot on, where a probe often goes on: one line, or two
        // when the home slot is not the first of its line.
        let next = slot.cast::<u8>().wrapping_add(63);
        cpu::prefetch(slot);
        if slot as usize / 64 != next as usize / 64 {
            cpu::prefetch(next);
        }
    }

    pub(crate) fn get(&self, key: &K) -> Option<&V> {
        self.probe(key).0
    }

    /// Looks `key` up: its value if held, and its [`Spot`], where [`Slots::put`] will write
    /// it (for a new key, the empty slot that ends its probe path).
    #[inline]
    pub(crate) fn probe(&self, key: &K) -> (Option<&V>, Spot) {
        debug_assert!(*key != K::default(), "the empty key is not a key");
        let spot = |index: usize| Spot { index: index as u32, shape: self.shape };
        if self.entries.is_empty() {
            return (None, spot(u32::MAX as usize));
        }
        let mask = self.mask();
        let mut i = self.home(key);
        loop {
            let e = &self.entries[i];
            if e.key == *key {
                return (Some(&e.value), spot(i));
            }
            if e.key == K::default() {
                return (None, spot(i));
            }
            i = (i + 1) & mask;
        }
    }

    /// Sets the value of `key` at the spot [`Slots::probe`] gave (probing again if the table
    /// grew or was swept since), adding the key if absent; a full table grows (its owner drops
    /// expired entries with [`Slots::retain`]). In a table whose entries expire (`live` tells
    /// a live value from an expired one), a new key takes the first expired entry on its probe
    /// path, else the empty slot that ends it: the run stays unbroken, and the expired key was
    /// as good as absent. (Asked only here: most lookups find their key or add nothing.)
    #[inline(always)]
    pub(crate) fn put(&mut self, spot: Spot, key: K, value: V, live: impl Fn(&V) -> bool) {
        let mut spot = spot;
        if spot.shape != self.shape {
            spot = self.probe(&key).1;
        }
        // A spot holds its key, or is the empty slot where a new one goes.
        let found = self.entries.get(spot.index as usize).is_some_and(|e| e.key == key);
        let mut at = spot.index as usize;
        if !found {
            if self.is_full() {
                self.resize(self.bits.max(MIN_BITS - 1) + 1);
                at = self.probe(&key).1.index as usize;
            }
            let mask = self.mask();
            let mut i = self.home(&key);
            while i != at && live(&self.entries[i].value) {
                i = (i + 1) & mask;
            }
            at = i;
            self.len += usize::from(self.entries[at].key == K::default());
            self.shape = self.shape.wrapping_add(1);
        }
        self.entries[at] = Slot { _align: [], key, value };
    }

    /// [`Slots::probe`] then [`Slots::put`].
    #[cfg(test)]
    fn insert_expiring(&mut self, key: K, value: V, live: impl Fn(&V) -> bool) {
        let spot = self.probe(&key).1;
        self.put(spot, key, value, live);
    }

    /// The values held, live or expired.
    pub(crate) fn values(&self) -> impl Iterator<Item = &V> {
        self.iter().map(|(_, v)| v)
    }

    /// Whether inserting a new key would grow the table.
    fn is_full(&self) -> bool {
        (self.len + 1) * 100 > self.entries.len() * self.max_load
    }

    /// Keeps the entries for which `keep` is true, and shrinks the table when it has become
    /// mostly empty.
    ///
    /// One pass in probe order from a slot that was empty (no probe run crosses it): each entry
    /// is dropped, or moved back to the first empty slot between its home and itself, so every
    /// run cut by a removal is closed up and every entry stays reachable.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&K, &V) -> bool) {
        if self.len == 0 {
            return;
        }
        self.shape = self.shape.wrapping_add(1);
        let start = self.entries.iter().position(|e| e.key == K::default()).expect("never full");
        let mask = self.mask();
        // Positions are counted in steps from `start`: runs begin after it, so no wrapping.
        let at = |step: usize| (start + step) & mask;
        // The latest empty slot seen.
        let mut empty = 0;
        for step in 1..self.entries.len() {
            let i = at(step);
            let k = self.entries[i].key;
            if k == K::default() {
                empty = step;
                continue;
            }
            if !keep(&k, &self.entries[i].value) {
                self.entries[i] = Slot::default();
                self.len -= 1;
                empty = step;
                continue;
            }
            let home = self.home(&k).wrapping_sub(start) & mask;
            if empty < home {
                // Every slot from its home to it is taken: it stays.
                continue;
            }
            let target =
                (home..step).find(|&s| self.entries[at(s)].key == K::default()).expect("one is empty");
            self.entries[at(target)] = std::mem::take(&mut self.entries[i]);
            empty = step;
        }
        let mut bits = self.bits;
        while bits > MIN_BITS && self.len * 100 * 4 < (1 << bits) * self.max_load {
            bits -= 1;
        }
        if bits < self.bits {
            self.resize(bits);
        }
    }

    fn resize(&mut self, bits: u32) {
        // A spot's index is a u32, and u32::MAX is none.
        assert!(bits < 32, "fewer than 2^31 slots");
        self.shape = self.shape.wrapping_add(1);
        let old = std::mem::take(&mut self.entries);
        self.entries.resize_with(1 << bits, Default::default);
        self.bits = bits;
        self.len = 0;
        for e in old {
            if e.key != K::default() {
                let spot = self.probe(&e.key).1;
                self.entries[spot.index as usize] = e;
                self.len += 1;
            }
        }
    }

    /// The entries held, live or expired.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.entries.iter().filter(|e| e.key != K::default()).map(|e| (&e.key, &e.value))
    }
}

impl<K: SlotKey, V: Default, A: Default> std::fmt::Debug for Slots<K, V, A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Slots").field("len", &self.len).field("capacity", &self.entries.len()).finish()
    }
}

impl SlotKey for u64 {
    fn hash(&self) -> u64 {
        self.wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    /// A key whose hash puts every key in one of five slots: long runs that wrap around.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash, PartialOrd, Ord)]
    struct Crowded(u64);

    impl SlotKey for Crowded {
        fn hash(&self) -> u64 {
            (self.0 % 5) << 61 | (self.0 % 5)
        }
    }

    fn check<K: SlotKey + std::hash::Hash + Ord + std::fmt::Debug>(
        ops: &[(bool, u64, u32)],
        load: usize,
        key: impl Fn(u64) -> K,
    ) -> Result<(), TestCaseError> {
        let mut slots = Slots::<K, u32>::new(load);
        let mut map = HashMap::new();
        for &(retain, k, v) in ops {
            if retain {
                slots.retain(|_, x| x % 3 != v % 3);
                map.retain(|_, x: &mut u32| *x % 3 != v % 3);
            } else {
                slots.insert_expiring(key(k), v, |_| true);
                map.insert(key(k), v);
            }
            prop_assert_eq!(slots.len(), map.len());
            for (k, v) in &map {
                prop_assert_eq!(slots.get(k), Some(v));
            }
            prop_assert!(slots.len() * 100 <= slots.entries.len() * load);
        }
        let mut all: Vec<(K, u32)> = slots.iter().map(|(k, v)| (*k, *v)).collect();
        all.sort();
        let mut expected: Vec<(K, u32)> = map.into_iter().collect();
        expected.sort();
        prop_assert_eq!(all, expected);
        Ok(())
    }

    proptest! {
        /// Any sequence of inserts and retains leaves the table holding what a HashMap holds.
        #[test]
        fn behaves_like_a_map(
            ops in proptest::collection::vec((proptest::bool::weighted(0.1), 1u64..300, any::<u32>()), 0..500),
            load in 10usize..=90,
        ) {
            check(&ops, load, |k| k)?;
            check(&ops, load, Crowded)?;
        }
    }

    proptest! {
        /// A spot made stale by a sweep, a resize or another key's insert still puts its key
        /// where lookups find it.
        #[test]
        fn stale_spots_are_found_again(
            ops in proptest::collection::vec((1u64..300, 1u64..300, proptest::bool::weighted(0.2)), 0..300),
        ) {
            let mut slots = Slots::<u64, u32>::new(50);
            let mut map = HashMap::new();
            for (n, &(a, b, sweep)) in ops.iter().enumerate() {
                let n = n as u32;
                let (_, spot) = slots.probe(&a);
                if sweep {
                    slots.retain(|k, _| k % 7 != u64::from(n % 7));
                    map.retain(|k: &u64, _| k % 7 != u64::from(n % 7));
                } else {
                    slots.insert_expiring(b, n, |_| true);
                    map.insert(b, n);
                }
                slots.put(spot, a, n, |_| true);
                map.insert(a, n);
                prop_assert_eq!(slots.len(), map.len());
                for (k, v) in &map {
                    prop_assert_eq!(slots.get(k), Some(v));
                }
            }
        }
    }

    #[test]
    fn a_table_that_forgets_as_fast_as_it_learns_keeps_its_size() {
        let mut slots = Slots::<u64, u32>::new(75);
        for day in 0..60u64 {
            for i in 0..10_000 {
                slots.insert_expiring(day * 1_000_000 + i + 1, day as u32, |_| true);
            }
            slots.retain(|_, d| u64::from(*d) + 7 > day);
        }
        assert_eq!(slots.len(), 70_000);
        assert_eq!(slots.entries.len(), 1 << 17);
    }

    proptest! {
        /// With expiring entries, the live ones are what a map holding only live entries holds.
        #[test]
        fn expiring_entries_behave_like_a_map_of_the_live_ones(
            ops in proptest::collection::vec((1u64..300, 0u32..4), 0..600),
            load in 10usize..=90,
        ) {
            fn run<K: SlotKey + std::hash::Hash + std::fmt::Debug>(ops: &[(u64, u32)], load: usize, key: impl Fn(u64) -> K) -> Result<(), TestCaseError> {
                let mut slots = Slots::<K, u32>::new(load);
                let mut map = HashMap::new();
                for (n, &(k, _)) in ops.iter().enumerate() {
                    // Time moves on by `step`; an entry lives for 20 steps of time.
                    let now = ops[..=n].iter().map(|(_, s)| s).sum::<u32>();
                    let live = |at: &u32| at + 20 > now;
                    slots.insert_expiring(key(k), now, live);
                    map.insert(key(k), now);
                    map.retain(|_, at| live(at));
                    for (k, v) in &map {
                        prop_assert_eq!(slots.get(k), Some(v));
                    }
                    prop_assert_eq!(slots.values().filter(|v| live(v)).count(), map.len());
                    prop_assert!(slots.len() * 100 <= slots.entries.len() * load);
                }
                Ok(())
            }
            run(&ops, load, |k| k)?;
            run(&ops, load, Crowded)?;
        }
    }
}
