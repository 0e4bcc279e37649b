//! Names kept once for the life of the process: the lines hold a business's names and a
//! market's name as plain references, so that a line costs no reference count (two atomic
//! operations each way, a tenth of pricing an event), and equal names share one address
//! (summaries and the lines writer find a line's group by it).
//!
//! Names are never freed: their number is bounded by the distinct businesses, WABAs,
//! portfolios and markets a process meets, a few bytes each.

use std::collections::HashSet;
use std::hash::Hash;
use std::sync::{Mutex, OnceLock};

/// The values kept of one type: each a single copy for the life of the process.
pub(crate) type Kept<T> = OnceLock<Mutex<HashSet<&'static T>>>;

/// The interned copy of `value`, made by `leak` the first time.
fn intern<T: ?Sized + Eq + Hash>(
    set: &'static Kept<T>,
    value: &T,
    leak: impl FnOnce() -> &'static T,
) -> &'static T {
    // A panic while holding the lock cannot leave the set half-changed: take it anyway.
    let mut set = set.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    if let Some(&kept) = set.get(value) {
        return kept;
    }
    let kept = leak();
    set.insert(kept);
    kept
}

/// The one copy of `name`.
pub(crate) fn name(name: &str) -> &'static str {
    static NAMES: Kept<str> = OnceLock::new();
    intern(&NAMES, name, || Box::leak(name.into()))
}

/// The one copy of a set of names, each itself interned by [`name`].
pub(crate) fn value<T: Eq + Hash + Clone>(set: &'static Kept<T>, value: &T) -> &'static T {
    intern(set, value, || Box::leak(Box::new(value.clone())))
}

/// A name as a key without its text: its address and length. Equal for the two copies of one
/// interned name, and never for two different texts (names that share an address, one a
/// prefix of the other, differ in length); two copies of one text that is not interned get two
/// keys, so a lookup by them must fall back on the text.
pub(crate) fn address(name: &str) -> [u64; 2] {
    [name.as_ptr() as u64, name.len() as u64]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_names_share_one_address() {
        let a = name(&String::from("India"));
        let b = name("India");
        assert!(std::ptr::eq(a, b));
        assert!(!std::ptr::eq(a, name("Indonesia")));
    }
}
