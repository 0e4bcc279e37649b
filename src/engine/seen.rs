//! The message ids seen within the dedup window, for duplicates.
//!
//! An id is a 64-bit fingerprint (a seeded hash; two ids of one window share one with odds of
//! about n²/2⁶⁵, one in ten million for 2 million ids) with the second it was first seen,
//! counted from the first id: 16 bytes. Ids are kept by day of log time (from the first id):
//! - the current day's in a [`Slots`] table, the only one written: a day of ids is a few
//!   megabytes, which stay in cache;
//! - each earlier day's still within the window in its own table, no longer written; a day
//!   wholly older than the window is dropped whole;
//! - and a Bloom filter of every id held: a new id (nearly every id) is known new from one
//!   cache line of it, without reading the earlier days' tables.
//!
//! Why not one table for the whole window: it is read at a random place for every row, and a
//! table of tens of megabytes misses the cache on nearly every read (BENCHMARKS.md).

use std::collections::VecDeque;
use std::hash::BuildHasher;

use chrono::TimeDelta;

use crate::domain::time::Stamp;
use crate::util::cpu;
use crate::util::slots::{Slots, Spot};

/// A day, in seconds (the unit of [`SeenIds`]' times).
const SECONDS_A_DAY: i64 = 86_400;

/// The load past which a day's table grows.
const LOAD: usize = 75;

/// How many new ids a rebuilt filter takes, as a multiple of the ids held when it was built.
/// Each build is a pass over every id held: room for three times as many makes the builds
/// rarer (amortised O(1) an id) for a filter at most twice the size of one with room for as
/// many. (Ids of days dropped since a build count against its room.)
const ROOM: usize = 3;

#[derive(Debug)]
pub(crate) struct SeenIds {
    /// The second of the first id.
    epoch: Option<i64>,
    /// The day being written (counted from the epoch), and its ids.
    day: i64,
    today: Slots<u64, u32>,
    /// Earlier days that may hold ids within the window, oldest first.
    past: VecDeque<(i64, Slots<u64, u32>)>,
    /// Every id held, and those of days dropped since it was built: an id it does not hold
    /// was not seen within the window.
    filter: Bloom,
    /// How many more ids the filter takes before it is built again from the ids held.
    room: usize,
}

impl Default for SeenIds {
    fn default() -> SeenIds {
        SeenIds {
            epoch: None,
            day: 0,
            today: Slots::new(LOAD),
            past: VecDeque::new(),
            filter: Bloom::new(0),
            room: 0,
        }
    }
}

impl SeenIds {
    /// The fingerprint of an id; never zero (the empty key of a table).
    pub(crate) fn fingerprint(id: &str) -> u64 {
        foldhash::fast::FixedState::with_seed(0x1D5).hash_one(id).max(1)
    }

    /// Seconds since the first id, saturating (136 years of log).
    fn second(&self, t: Stamp) -> u32 {
        let since = t.seconds() - self.epoch.unwrap_or(t.seconds());
        u32::try_from(since.max(0)).unwrap_or(u32::MAX)
    }

    /// Starts loading the memory that checking `id` reads.
    pub(crate) fn prefetch(&self, id: u64) {
        self.today.prefetch(&id);
        self.filter.prefetch(id);
    }

    /// Where in the current day's table `id` will be recorded ([`SeenIds::insert`]) if it is
    /// new at `t`; `None` for a duplicate, an id first seen less than `window` before.
    pub(crate) fn unseen(&self, id: u64, t: Stamp, window: TimeDelta) -> Option<Spot> {
        let now = i64::from(self.second(t));
        let live = within(now, window);
        let (today, spot) = self.today.probe(&id);
        // Sightings at or before the horizon are out of the window; so is a day ending there.
        let horizon = now - window.num_seconds();
        let seen = self.filter.may_hold(id)
            && (today.is_some_and(live)
                || (self.past.iter().rev())
                    .take_while(|(day, _)| (day + 1) * SECONDS_A_DAY > horizon)
                    .any(|(_, ids)| ids.get(&id).is_some_and(live)));
        (!seen).then_some(spot)
    }

    /// Records `id` as first seen at `t` (a sighting older than the window is superseded), at
    /// the `spot` [`SeenIds::unseen`] gave for the same `t`.
    pub(crate) fn insert(&mut self, spot: Spot, t: Stamp, id: u64, window: TimeDelta) {
        self.epoch.get_or_insert(t.seconds());
        let at = self.second(t);
        let day = i64::from(at) / SECONDS_A_DAY;
        let mut spot = spot;
        if day > self.day {
            self.end_day(day, i64::from(at) - window.num_seconds());
            // A spot of the table just ended means nothing in the new one.
            spot = self.today.probe(&id).1;
        }
        self.today.put(spot, id, at, |_| true);
        match self.room.checked_sub(1) {
            Some(room) => {
                self.filter.add(id);
                self.room = room;
            }
            None => self.build_filter(),
        }
    }

    /// Files the current day's ids, starts `day`, and drops the days that end at or before
    /// `horizon`.
    fn end_day(&mut self, day: i64, horizon: i64) {
        let room = self.today.len();
        self.past.push_back((self.day, std::mem::replace(&mut self.today, Slots::new(LOAD))));
        self.day = day;
        // The days out of the window go before the next day's table comes (peak memory holds
        // one table less), and the last of them becomes that table when it has its size.
        let mut dropped = None;
        while self.past.front().is_some_and(|(day, _)| (day + 1) * SECONDS_A_DAY <= horizon) {
            dropped = self.past.pop_front().map(|(_, ids)| ids);
        }
        // The next day's table is made the size of this one's: most days are alike.
        self.today =
            dropped.and_then(|ids| ids.emptied_for(room)).unwrap_or_else(|| Slots::with_room(room, LOAD));
    }

    /// Builds the filter again from the ids held, with room for [`ROOM`] times as many more: a
    /// build costs one pass over the ids held, and comes after `ROOM` times as many new ones
    /// (O(1) an id, amortised).
    fn build_filter(&mut self) {
        let held: usize = self.tables().map(Slots::len).sum();
        // The new filter is built from the tables alone, in the old one's memory.
        let mut filter = std::mem::replace(&mut self.filter, Bloom::new(0));
        filter.empty_for((1 + ROOM) * held.max(1024));
        // Ids in runs of 16: each run's blocks are asked for together, so that their cache
        // misses overlap instead of following one another.
        let mut run = [0u64; 16];
        let mut len = 0;
        for (&id, _) in self.tables().flat_map(Slots::iter) {
            run[len] = id;
            len += 1;
            if len == run.len() {
                filter.add_all(&run);
                len = 0;
            }
        }
        filter.add_all(&run[..len]);
        self.room = ROOM * held.max(1024);
        self.filter = filter;
    }

    /// The ids seen less than `window` before `t`.
    pub(crate) fn live(&self, t: Stamp, window: TimeDelta) -> usize {
        let live = within(i64::from(self.second(t)), window);
        self.tables().flat_map(Slots::values).filter(|seen| live(seen)).count()
    }

    /// Every day's table held, the current one first.
    fn tables(&self) -> impl Iterator<Item = &Slots<u64, u32>> {
        std::iter::once(&self.today).chain(self.past.iter().map(|(_, ids)| ids))
    }
}

/// Whether an id first seen at second `seen` is within `window` of second `now`.
fn within(now: i64, window: TimeDelta) -> impl Fn(&u32) -> bool + Copy {
    move |&seen| now - i64::from(seen) < window.num_seconds()
}

/// A blocked Bloom filter of 64-bit fingerprints: each key sets one bit in each of the eight
/// words of one 64-byte block (a split block filter), with about 12 bits a key at capacity, so
/// a lookup reads one cache line, eight fixed words without a loop, and a key never added is
/// reported in fewer than one case in a hundred (each such case costs lookups in the earlier
/// days' tables).
#[derive(Debug)]
struct Bloom {
    blocks: Vec<Block>,
}

/// 512 bits in one cache line.
#[derive(Debug, Clone, Copy, Default)]
#[repr(align(64))]
struct Block([u64; 8]);

impl Bloom {
    /// An empty filter for `keys` keys: its size follows `keys`, not the next power of two,
    /// so that peak memory moves smoothly with the ids held.
    fn new(keys: usize) -> Bloom {
        Bloom { blocks: vec![Block::default(); Bloom::blocks_for(keys)] }
    }

    /// Empties the filter and sizes it for `keys` keys, in the memory it has when that is
    /// enough: a new one each time would leave the allocator's heap fragmented, and peak
    /// memory growing with the log's length. A filter that must grow gives its memory back
    /// first, then takes exactly what it needs: `resize` alone would double its capacity, so a
    /// filter growing by a few percent would take twice the memory.
    fn empty_for(&mut self, keys: usize) {
        let blocks = Bloom::blocks_for(keys);
        if blocks > self.blocks.capacity() {
            self.blocks = Vec::new();
            self.blocks.reserve_exact(blocks);
        }
        self.blocks.clear();
        self.blocks.resize(blocks, Block::default());
    }

    fn blocks_for(keys: usize) -> usize {
        keys * 12 / 512 + 1
    }

    fn add(&mut self, key: u64) {
        let block = self.block(key);
        let block = &mut self.blocks[block];
        #[cfg(target_arch = "x86_64")]
        if cpu::has_avx2() {
            // SAFETY: the CPU has AVX2.
            return unsafe { cpu::or_bits_avx2(&mut block.0, key.wrapping_mul(Bloom::MIX)) };
        }
        for (word, mask) in block.0.iter_mut().zip(Bloom::masks(key)) {
            *word |= mask;
        }
    }

    /// Adds `keys`, their blocks loaded together first.
    fn add_all(&mut self, keys: &[u64]) {
        keys.iter().for_each(|&key| self.prefetch(key));
        keys.iter().for_each(|&key| self.add(key));
    }

    fn block(&self, key: u64) -> usize {
        // A second mix of the key, scaled to the number of blocks (its high bits choose).
        let mixed = key.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        ((u128::from(mixed) * self.blocks.len() as u128) >> 64) as usize
    }

    /// The key's bit in each word of its block: word `i` has bit `(m >> (16 + 6i)) & 63` of
    /// a second mix `m` of the key (its 48 high bits, the best mixed).
    fn masks(key: u64) -> [u64; 8] {
        let mixed = key.wrapping_mul(Bloom::MIX);
        std::array::from_fn(|i| 1 << ((mixed >> (16 + 6 * i)) & 63))
    }

    const MIX: u64 = 0xC2B2_AE3D_27D4_EB4F;

    /// Tests a word at a time: a key never added nearly always misses a bit in the first or
    /// second word, so the loop stops early (an AVX2 test reads all eight every time).
    fn may_hold(&self, key: u64) -> bool {
        let (block, mixed) = (&self.blocks[self.block(key)], key.wrapping_mul(Bloom::MIX));
        block.0.iter().enumerate().all(|(i, word)| word >> ((mixed >> (16 + 6 * i)) & 63) & 1 != 0)
    }

    /// Starts loading the block of `key`.
    fn prefetch(&self, key: u64) {
        cpu::prefetch(&self.blocks[self.block(key)]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    fn at(second: i64) -> Stamp {
        Stamp::of_nanos((1_757_462_400 + second) * 1_000_000_000).expect("in range")
    }

    proptest! {
        /// An id is a duplicate exactly when it was first seen less than the window before,
        /// across days, the days' ends and the window's.
        #[test]
        fn ids_are_duplicates_exactly_within_the_window(
            steps in proptest::collection::vec((1u64..40, 0i64..30_000), 1..400),
            window_s in 1i64..(4 * SECONDS_A_DAY),
        ) {
            let window = TimeDelta::seconds(window_s);
            let mut seen = SeenIds::default();
            let mut first: HashMap<u64, i64> = HashMap::new();
            let mut t = 0;
            for (id, step) in steps {
                t += step;
                let expected = first.get(&id).is_some_and(|&s| t - s < window_s);
                let unseen = seen.unseen(id, at(t), window);
                prop_assert_eq!(unseen.is_none(), expected, "id {} at {}", id, t);
                if let Some(spot) = unseen {
                    seen.insert(spot, at(t), id, window);
                    first.insert(id, t);
                }
                let live = first.values().filter(|&&s| t - s < window_s).count();
                prop_assert_eq!(seen.live(at(t), window), live);
            }
        }

        /// A filter holds every key added to it.
        #[test]
        fn a_filter_holds_every_key_added(keys in proptest::collection::vec(any::<u64>(), 0..2000)) {
            let mut bloom = Bloom::new(keys.len());
            keys.iter().for_each(|&k| bloom.add(k));
            prop_assert!(keys.iter().all(|&k| bloom.may_hold(k)));
        }

        /// With AVX2, a key sets the bits the plain code does ([`Bloom::masks`]).
        #[cfg(target_arch = "x86_64")]
        #[test]
        fn avx2_sets_the_same_bits(key in any::<u64>(), words in any::<[u64; 8]>()) {
            if cpu::has_avx2() {
                let masks = Bloom::masks(key);
                let mut block = Block(words);
                // SAFETY: the CPU has AVX2.
                unsafe { cpu::or_bits_avx2(&mut block.0, key.wrapping_mul(Bloom::MIX)) };
                prop_assert_eq!(block.0, std::array::from_fn(|i| words[i] | masks[i]));
            }
        }
    }

    #[test]
    fn a_filter_rarely_holds_a_key_never_added() {
        let mut bloom = Bloom::new(100_000);
        (1..=100_000u64).for_each(|n| bloom.add(SeenIds::fingerprint_of(n)));
        let false_hits =
            (100_001..=200_000u64).filter(|&k| bloom.may_hold(SeenIds::fingerprint_of(k))).count();
        assert!(false_hits < 2_000, "{false_hits} false hits in 100,000");
    }

    /// Ids enough for the filter to be built again several times (after 3,072 new ids, then
    /// three times the ids held), over four days and a window of two: all along, an id seen
    /// half a day before is found, and one seen more than the window before is new again.
    #[test]
    fn ids_held_are_found_across_the_filters_builds() {
        let window = TimeDelta::days(2);
        let step = 9;
        let (half_day, past) = (SECONDS_A_DAY / 2 / step, (window.num_seconds() / step + 1) as u64);
        let mut seen = SeenIds::default();
        for k in 0..40_000u64 {
            let (t, id) = (at(k as i64 * step), SeenIds::fingerprint_of(k));
            let spot = seen.unseen(id, t, window).expect("a new id");
            seen.insert(spot, t, id, window);
            if let Some(held) = k.checked_sub(half_day as u64) {
                assert!(seen.unseen(SeenIds::fingerprint_of(held), t, window).is_none(), "id {held} at {k}");
            }
            if let Some(gone) = k.checked_sub(past) {
                assert!(seen.unseen(SeenIds::fingerprint_of(gone), t, window).is_some(), "id {gone} at {k}");
            }
        }
    }

    #[test]
    fn a_growing_filter_takes_exactly_the_memory_it_needs() {
        let mut bloom = Bloom::new(1_000_000);
        bloom.empty_for(1_060_000);
        assert_eq!(bloom.blocks.capacity(), Bloom::blocks_for(1_060_000));
        // A smaller one stays in the memory it has.
        bloom.empty_for(900_000);
        assert_eq!(bloom.blocks.len(), Bloom::blocks_for(900_000));
        assert_eq!(bloom.blocks.capacity(), Bloom::blocks_for(1_060_000));
    }

    #[test]
    fn days_wholly_older_than_the_window_are_dropped() {
        let week = TimeDelta::days(7);
        let mut seen = SeenIds::default();
        for day in 0..30 {
            let t = at(day * SECONDS_A_DAY);
            let id = SeenIds::fingerprint(&format!("wamid.{day}"));
            let spot = seen.unseen(id, t, week).expect("a new id");
            seen.insert(spot, t, id, week);
        }
        assert_eq!(seen.past.len(), 7);
        assert_eq!(seen.live(at(29 * SECONDS_A_DAY), week), 7);
    }

    impl SeenIds {
        fn fingerprint_of(n: u64) -> u64 {
            SeenIds::fingerprint(&format!("wamid.{n:012}"))
        }
    }
}
