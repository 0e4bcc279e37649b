//! Every CPU-specific path, each beside the plain code it must agree with: the prefetch hint,
//! the search of a 32-byte block for the bytes a plain CSV line cares about (SSE2, AVX2, a byte
//! at a time), and the setting of a key's bits in a Bloom filter's block (AVX2).
//!
//! The AVX2 paths run only after [`has_avx2`]; callers pass the choice explicitly (no global
//! switch), so tests run the plain and the vector code side by side on any host, and the
//! plain code is what other targets compile.

/// Asks the processor to load the cache line at `at`, without waiting for it.
pub(crate) fn prefetch<T>(at: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint that never faults and changes no memory, whatever the
    // address (it may be past the end of a table).
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(at.cast());
    }
    let _ = at;
}

/// Whether the processor has AVX2 (checked once, then cached by the standard library): the
/// code that uses it runs only when it does.
pub(crate) fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    return std::is_x86_feature_detected!("avx2");
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// How many bytes [`find`] looks at together: two SSE2 registers, or one AVX2 register.
pub(crate) const BLOCK: usize = 32;

/// For each of `bytes`, where it is in `block`; where the bytes outside ASCII are; and
/// where the bytes below `!` are, as signed bytes (so outside ASCII too): one SSE2
/// comparison of each half of the block for each (SSE2 is part of every x86-64).
#[cfg(target_arch = "x86_64")]
#[inline]
pub(crate) fn find(block: &[u8; BLOCK], bytes: [u8; 4]) -> ([u32; 4], u32, u32) {
    use std::arch::x86_64::{
        _mm_cmpeq_epi8, _mm_cmplt_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8,
    };
    // SAFETY: SSE2 is available on every x86-64; the loads read the block's two halves of
    // 16 bytes, unaligned.
    unsafe {
        let low = _mm_loadu_si128(block.as_ptr().cast());
        let high = _mm_loadu_si128(block.as_ptr().add(16).cast());
        let mask = |v| _mm_movemask_epi8(v) as u32 & 0xFFFF;
        let found = bytes.map(|b| {
            let b = _mm_set1_epi8(b as i8);
            mask(_mm_cmpeq_epi8(low, b)) | mask(_mm_cmpeq_epi8(high, b)) << 16
        });
        let bang = _mm_set1_epi8(b'!' as i8);
        let below = mask(_mm_cmplt_epi8(low, bang)) | mask(_mm_cmplt_epi8(high, bang)) << 16;
        (found, mask(low) | mask(high) << 16, below)
    }
}

/// [`find`] with AVX2: the block in one register.
///
/// # Safety
/// The CPU must have AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
pub(crate) unsafe fn find_avx2(block: &[u8; BLOCK], bytes: [u8; 4]) -> ([u32; 4], u32, u32) {
    use std::arch::x86_64::{
        _mm256_cmpeq_epi8, _mm256_cmpgt_epi8, _mm256_loadu_si256, _mm256_movemask_epi8, _mm256_set1_epi8,
    };
    // SAFETY: the load reads the block's 32 bytes, unaligned.
    let all = unsafe { _mm256_loadu_si256(block.as_ptr().cast()) };
    let found = bytes.map(|b| _mm256_movemask_epi8(_mm256_cmpeq_epi8(all, _mm256_set1_epi8(b as i8))) as u32);
    let below = _mm256_movemask_epi8(_mm256_cmpgt_epi8(_mm256_set1_epi8(b'!' as i8), all)) as u32;
    (found, _mm256_movemask_epi8(all) as u32, below)
}

/// [`find`], a byte at a time.
#[cfg(any(not(target_arch = "x86_64"), test))]
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
pub(crate) fn find_bytewise(block: &[u8; BLOCK], bytes: [u8; 4]) -> ([u32; 4], u32, u32) {
    let mask = |f: &dyn Fn(u8) -> bool| block.iter().rev().fold(0, |m, &x| m << 1 | u32::from(f(x)));
    (bytes.map(|b| mask(&|x| x == b)), mask(&|x| !x.is_ascii()), mask(&|x| (x as i8) < b'!' as i8))
}

#[cfg(not(target_arch = "x86_64"))]
pub(crate) fn find(block: &[u8; BLOCK], bytes: [u8; 4]) -> ([u32; 4], u32, u32) {
    find_bytewise(block, bytes)
}

/// Sets in each word `i` of `words` the bit `(mixed >> (16 + 6i)) & 63`, four words at a time
/// (a variable shift per word makes each word's mask in one instruction). The plain code is
/// the Bloom filter's own.
///
/// # Safety
/// The CPU must have AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn or_bits_avx2(words: &mut [u64; 8], mixed: u64) {
    use std::arch::x86_64::{
        __m256i, _mm256_and_si256, _mm256_loadu_si256, _mm256_or_si256, _mm256_set1_epi64x,
        _mm256_setr_epi64x, _mm256_sllv_epi64, _mm256_srlv_epi64, _mm256_storeu_si256,
    };
    let mixed = _mm256_set1_epi64x(mixed as i64);
    let (six, one) = (_mm256_set1_epi64x(63), _mm256_set1_epi64x(1));
    let shifts = [_mm256_setr_epi64x(16, 22, 28, 34), _mm256_setr_epi64x(40, 46, 52, 58)];
    let halves: *mut __m256i = words.as_mut_ptr().cast();
    for (half, shift) in shifts.into_iter().enumerate() {
        let mask = _mm256_sllv_epi64(one, _mm256_and_si256(_mm256_srlv_epi64(mixed, shift), six));
        // SAFETY: `words` is 64 bytes: two halves of 32, read and written unaligned.
        unsafe {
            let at = halves.add(half);
            _mm256_storeu_si256(at, _mm256_or_si256(_mm256_loadu_si256(at), mask));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The bytes a plain line looks for are found as a byte at a time finds them.
        #[test]
        fn blocks_are_searched_as_bytewise(
            block in proptest::array::uniform32(proptest::sample::select(
                vec![b'a', b'0', b',', b'"', b'\r', b'\n', b' ', b'!', b'\t', 0x00, 0x7F, 0x80, 0xC3, 0xFF],
            )),
        ) {
            let bytes = [b'\n', b',', b'"', b'\r'];
            proptest::prop_assert_eq!(find(&block, bytes), find_bytewise(&block, bytes));
            #[cfg(target_arch = "x86_64")]
            if has_avx2() {
                // SAFETY: the CPU has AVX2.
                let avx2 = unsafe { find_avx2(&block, bytes) };
                proptest::prop_assert_eq!(avx2, find_bytewise(&block, bytes));
            }
        }
    }
}
