//! The live pairs of each business: what the rules' [`PairState`] is stored in.

use crate::domain::time::Stamp;
use crate::rules::state::{any_live, Conversations, PairState, Windows};
use crate::util::slots::{HalfLine, Slots, Spot};

/// The live pairs of one business, by user: E.164 numbers keyed by their digits as an integer
/// (no string to compare on lookup), other ids by string.
#[derive(Debug)]
pub(crate) struct Pairs {
    /// 32-byte entries (an 8-byte key and the windows), two per cache line.
    numbers: Slots<u64, Windows, HalfLine>,
    /// The conversations of the numbers that hold some: none outside the conversation eras
    /// and the day after, so that a lookup there costs nothing.
    conversations: foldhash::HashMap<u64, Conversations>,
    ids: foldhash::HashMap<Box<str>, PairState>,
    /// The groups' windows (Groups API): one per group, whichever member wrote.
    groups: foldhash::HashMap<Box<str>, PairState>,
}

impl Default for Pairs {
    fn default() -> Pairs {
        Pairs {
            numbers: Slots::new(75),
            conversations: Default::default(),
            ids: Default::default(),
            groups: Default::default(),
        }
    }
}

/// Tells live windows from expired ones at `t`, for [`Slots::put`]: asked of the entries a
/// new key passes on its probe path, few. Without `evict`, none expire.
fn live_at(t: Stamp, evict: bool) -> impl Fn(&Windows) -> bool {
    move |w: &Windows| !evict || w.are_live(t)
}

/// Gives back the room of a map that has become mostly empty.
fn shrink_if_sparse<K: std::hash::Hash + Eq, V>(map: &mut foldhash::HashMap<K, V>) {
    if map.capacity() > 4 * map.len().max(64) {
        map.shrink_to_fit();
    }
}

/// A user as a key of [`Pairs`].
#[derive(Clone, Copy)]
pub(crate) enum UserKey<'a> {
    Number(u64),
    Id(&'a str),
    /// A group's id: its members share its windows.
    Group(&'a str),
}

impl Pairs {
    /// Starts loading the memory of `user`'s windows (see [`Slots::prefetch`]).
    pub(crate) fn prefetch(&self, user: &UserKey) {
        if let UserKey::Number(n) = user {
            self.numbers.prefetch(n);
        }
    }

    /// A copy of `user`'s state (the empty state if none is held), and where its windows go
    /// ([`Pairs::set`]).
    // Inlined into the engine's push: left to the compiler once a third kind of key came, it
    // was not (callgrind, 300,000 rows of a generated log: 25M instructions).
    #[inline(always)]
    pub(crate) fn get(&self, user: &UserKey) -> (PairState, Option<Spot>) {
        match user {
            UserKey::Number(n) => {
                let (windows, spot) = self.numbers.probe(n);
                let conversations = if self.conversations.is_empty() {
                    Conversations::default()
                } else {
                    self.conversations.get(n).copied().unwrap_or_default()
                };
                let windows = windows.copied().unwrap_or_default();
                (PairState::stored(windows, conversations), Some(spot))
            }
            UserKey::Id(_) | UserKey::Group(_) => (self.get_by_name(user), None),
        }
    }

    /// The state of a user or group known by name, not number (few are).
    #[inline(never)]
    fn get_by_name(&self, user: &UserKey) -> PairState {
        let found = match user {
            UserKey::Number(_) => None,
            UserKey::Id(id) => self.ids.get(*id),
            UserKey::Group(id) => self.groups.get(*id),
        };
        found.cloned().unwrap_or_default()
    }

    /// Stores what changed of `user`'s state `after`, a copy [`Pairs::get`] gave (with
    /// `spot`). With `evict`, a new pair's windows may take the slot of windows that have all
    /// closed at `t` (they behave exactly like no windows).
    #[inline(always)]
    pub(crate) fn set(
        &mut self,
        user: &UserKey,
        spot: Option<Spot>,
        after: PairState,
        t: Stamp,
        evict: bool,
    ) {
        match user {
            UserKey::Number(n) => {
                let (windows, conversations) = after.changes();
                if let Some(&windows) = windows {
                    let spot = spot.unwrap_or_else(|| self.numbers.probe(n).1);
                    self.numbers.put(spot, *n, windows, live_at(t, evict));
                }
                if let Some(&conversations) = conversations {
                    if conversations == Conversations::default() {
                        self.conversations.remove(n);
                    } else {
                        self.conversations.insert(*n, conversations);
                    }
                }
            }
            UserKey::Id(_) | UserKey::Group(_) => self.set_by_name(user, after),
        }
    }

    /// Stores the state of a user or group known by name.
    #[inline(never)]
    fn set_by_name(&mut self, user: &UserKey, after: PairState) {
        let (map, id) = match *user {
            UserKey::Number(_) => return,
            UserKey::Id(id) => (&mut self.ids, id),
            UserKey::Group(id) => (&mut self.groups, id),
        };
        match map.get_mut(id) {
            Some(s) => *s = after,
            None => {
                map.insert(id.into(), after);
            }
        }
    }

    /// Drops the windows and conversations that have all closed by `t`.
    pub(crate) fn retain_live(&mut self, t: Stamp) {
        self.numbers.retain(|_, w| w.are_live(t));
        self.conversations.retain(|_, c| any_live(c, t));
        self.ids.retain(|_, p| p.is_live(t));
        self.groups.retain(|_, p| p.is_live(t));
        shrink_if_sparse(&mut self.conversations);
        shrink_if_sparse(&mut self.ids);
        shrink_if_sparse(&mut self.groups);
    }

    /// The pairs with a window or conversation still open at `t`.
    pub(crate) fn live(&self, t: Stamp) -> usize {
        let windows = |n: &u64| self.numbers.get(n).is_some_and(|w| w.are_live(t));
        let numbers = self.numbers.iter().filter(|(_, w)| w.are_live(t)).count();
        let conversations_only =
            self.conversations.iter().filter(|(n, c)| any_live(c, t) && !windows(n)).count();
        let ids = self.ids.values().chain(self.groups.values()).filter(|p| p.is_live(t)).count();
        numbers + conversations_only + ids
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::event::PricingCategory;
    use crate::domain::user::number_key;
    use crate::rules::state::Conversation;
    use crate::rules::RuleSet;

    fn at(h: i64) -> Stamp {
        Stamp::of_nanos((1_751_328_000 + h * 3600) * 1_000_000_000).unwrap()
    }

    #[test]
    fn a_pairs_conversations_are_kept_apart_from_its_windows() {
        let mut pairs = Pairs::default();
        let user = UserKey::Number(number_key("33612345678").unwrap());
        let (empty, spot) = pairs.get(&user);
        let mut p = empty.clone();
        p.mo(at(0), false);
        p.open_conversation(1, Conversation::new(PricingCategory::Utility, RuleSet::Cbp2023, at(1)));
        pairs.set(&user, spot, p.clone(), at(1), true);
        assert_eq!(pairs.get(&user).0, p);
        assert_eq!(pairs.live(at(24)), 1);
        // The windows closed at 24h, the conversation at 25h: each is dropped on its own.
        pairs.retain_live(at(24));
        assert_eq!(*pairs.get(&user).0.windows(), Windows::default());
        assert_eq!(pairs.get(&user).0.conversations(), p.conversations());
        assert_eq!(pairs.live(at(24)), 1);
        pairs.retain_live(at(25));
        assert_eq!(pairs.get(&user).0, PairState::default());
        assert_eq!(pairs.live(at(25)), 0);
    }
}
