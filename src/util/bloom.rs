//! A blocked Bloom filter of 64-bit fingerprints, for the ids the engine has seen: a key
//! never added is known new from one cache line, nearly always.

use super::cpu;

/// A blocked Bloom filter of 64-bit fingerprints: each key sets one bit in each of the eight
/// words of one 64-byte block (a split block filter), with about 12 bits a key at capacity, so
/// a lookup reads one cache line, eight fixed words without a loop, and a key never added is
/// reported in fewer than one case in a hundred (each such case costs lookups in the earlier
/// days' tables).
#[derive(Debug)]
pub(crate) struct Bloom {
    blocks: Vec<Block>,
}

/// 512 bits in one cache line.
#[derive(Debug, Clone, Copy, Default)]
#[repr(align(64))]
pub(crate) struct Block([u64; 8]);

impl Bloom {
    /// An empty filter for `keys` keys: its size follows `keys`, not the next power of two,
    /// so that peak memory moves smoothly with the ids held.
    pub(crate) fn new(keys: usize) -> Bloom {
        Bloom { blocks: vec![Block::default(); Bloom::blocks_for(keys)] }
    }

    /// Empties the filter and sizes it for `keys` keys, in the memory it has when that is
    /// enough: a new one each time would leave the allocator's heap fragmented, and peak
    /// memory growing with the log's length. A filter that must grow gives its memory back
    /// first, then takes exactly what it needs: `resize` alone would double its capacity, so a
    /// filter growing by a few percent would take twice the memory.
    pub(crate) fn empty_for(&mut self, keys: usize) {
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

    pub(crate) fn add(&mut self, key: u64) {
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
    pub(crate) fn add_all(&mut self, keys: &[u64]) {
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
    #[inline(always)]
    pub(crate) fn may_hold(&self, key: u64) -> bool {
        let (block, mixed) = (&self.blocks[self.block(key)], key.wrapping_mul(Bloom::MIX));
        block.0.iter().enumerate().all(|(i, word)| word >> ((mixed >> (16 + 6 * i)) & 63) & 1 != 0)
    }

    /// Starts loading the block of `key`.
    pub(crate) fn prefetch(&self, key: u64) {
        cpu::prefetch(&self.blocks[self.block(key)]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A well-mixed 64-bit key of `n`, as fingerprints of message ids are.
    fn fingerprint(n: u64) -> u64 {
        (n ^ 0x5DEE_CE66_D1CE_4E5B)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .rotate_left(29)
            .wrapping_mul(0xBF58_476D_1CE4_E5B9)
    }

    proptest! {
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
        (1..=100_000u64).for_each(|n| bloom.add(fingerprint(n)));
        let false_hits = (100_001..=200_000u64).filter(|&k| bloom.may_hold(fingerprint(k))).count();
        assert!(false_hits < 2_000, "{false_hits} false hits in 100,000");
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
}
