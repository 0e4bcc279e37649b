//! Names numbered from 0 in order of first appearance.

use foldhash::HashMap;

/// Names numbered from 0 in order of first appearance. A name of up to 15 bytes (most) is
/// found by its bytes packed in two words ([`Packed`]), in a table of its own: one multiply
/// to hash them, a comparison of two words a probe, no string compared. A longer name, by a
/// map of strings.
#[derive(Debug, Default)]
pub(crate) struct Numbering {
    /// The short names and their numbers by open addressing, at most half full; a slot
    /// without a name has the number [`Numbering::NONE`].
    short: Vec<(Packed, u32)>,
    /// How many names are numbered.
    count: u32,
    long: HashMap<Box<str>, u32>,
}

impl Numbering {
    const NONE: u32 = u32::MAX;

    /// The number of `name`, if it has one.
    #[inline(always)]
    pub(crate) fn find(&self, name: &str) -> Option<u32> {
        match Packed::of(name) {
            Some(p) => self.short.get(self.slot(p)).map(|&(_, n)| n).filter(|&n| n != Numbering::NONE),
            None => self.long.get(name).copied(),
        }
    }

    /// Where `p` is in the table of short names, or the free slot where it would go (0 when
    /// the table is empty).
    #[inline]
    fn slot(&self, p: Packed) -> usize {
        const K: u64 = 0x9E37_79B9_7F4A_7C15;
        let mask = self.short.len().wrapping_sub(1);
        // The top bits of the product, where every bit of both words has reached.
        let hash = (p.0[0].wrapping_mul(K) ^ p.0[1]).wrapping_mul(K);
        // An empty table (no bits) keeps the whole hash, past its end.
        let mut i = (hash >> (64 - self.short.len().trailing_zeros())) as usize & mask;
        while let Some(&(kept, n)) = self.short.get(i) {
            if n == Numbering::NONE || kept == p {
                break;
            }
            i = (i + 1) & mask;
        }
        i
    }

    /// The number of `name`, given it the first time.
    #[inline(always)]
    pub(crate) fn number(&mut self, name: &str) -> u32 {
        self.find(name).unwrap_or_else(|| self.add(name))
    }

    #[cold]
    fn add(&mut self, name: &str) -> u32 {
        let n = self.count;
        assert!(n < Numbering::NONE, "fewer than 2^32 - 1 names");
        self.count += 1;
        match Packed::of(name) {
            Some(p) => {
                let held = n as usize - self.long.len();
                if 2 * (held + 1) > self.short.len() {
                    let old = std::mem::replace(
                        &mut self.short,
                        vec![(Packed([0; 2]), Numbering::NONE); (4 * (held + 1)).next_power_of_two()],
                    );
                    for (kept, n) in old.into_iter().filter(|&(_, n)| n != Numbering::NONE) {
                        let i = self.slot(kept);
                        self.short[i] = (kept, n);
                    }
                }
                let i = self.slot(p);
                self.short[i] = (p, n);
            }
            None => {
                self.long.insert(name.into(), n);
            }
        }
        n
    }
}

/// A name of up to 15 bytes as two words: its bytes, zero-padded, and its length in the top
/// byte; two such names are equal exactly when their words are. Read a few bytes at a time,
/// never past the name's end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Packed([u64; 2]);

impl Packed {
    fn of(name: &str) -> Option<Packed> {
        let b = name.as_bytes();
        let n = b.len();
        let four = |at: usize| u64::from(u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]));
        let eight = |at: usize| u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"));
        // Where two reads overlap, they read the same bytes into the same places.
        let (low, high) = match n {
            0..=3 => (b.iter().rev().fold(0, |w, &byte| w << 8 | u64::from(byte)), 0),
            4..=7 => (four(0) | four(n - 4) << (8 * (n - 4)), 0),
            8 => (eight(0), 0),
            9..=15 => (eight(0), eight(n - 8) >> (8 * (16 - n))),
            _ => return None,
        };
        Some(Packed([low, high | (n as u64) << 56]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Names keep their numbers as the table grows; short and long names, and names alike
    /// but for their length or a byte, are told apart.
    #[test]
    fn names_are_numbered_in_order_of_first_appearance() {
        let mut names: Vec<String> = (0..40).map(|i| format!("B{}0{}", i % 7, i / 7)).collect();
        names.extend((0..20).map(|n| "a".repeat(n)));
        names.extend(
            ["\0", "a\0", "aaaaaaaaaaaaaaa\0", "aaaaaaaaaaaaaaa\0\0", "Bé", "aaaaaaaaaaaaaaaaaaaaaaaé"]
                .map(String::from),
        );
        let mut numbering = Numbering::default();
        for (i, name) in names.iter().enumerate() {
            assert_eq!(numbering.find(name), None);
            assert_eq!(numbering.number(name), i as u32);
            for (j, seen) in names[..=i].iter().enumerate() {
                assert_eq!(numbering.find(seen), Some(j as u32), "{seen} after {name}");
            }
        }
        assert_eq!(numbering.find("B"), None);
    }

    proptest::proptest! {
        /// Two names of up to 15 bytes pack alike exactly when they are equal; longer ones do
        /// not pack.
        #[test]
        fn names_pack_alike_exactly_when_equal(a in "[a\0é]{0,17}", b in "[a\0é]{0,17}") {
            let (pa, pb) = (Packed::of(&a), Packed::of(&b));
            proptest::prop_assert_eq!(pa.is_some(), a.len() <= 15);
            if pa.is_some() && pb.is_some() {
                proptest::prop_assert_eq!(pa == pb, a == b);
            }
        }
    }
}
