//! The live state of one (business, user) pair: the customer service window, the free entry
//! point, and the conversations of the conversation-based eras.
//!
//! Every window is half-open: a window opened at `t` for `d` contains `m` when
//! `t <= m < t + d`. An instant exactly `d` after the opening is outside.
//! - The CSW is `[latest MO, latest MO + 24h)`; each MO reopens it.
//! - The latest entry-point MO is usable for `[t, t + 24h)`, once: it is used up when it opens
//!   a free entry point window (or conversation).
//! - A free entry point window lasts 72h (24h for a cbp-2022 entry-point conversation) from the
//!   delivery of the answer that opened it, and closes every open conversation.
//! - A conversation lasts 24h from the delivery that opened it.

use chrono::{DateTime, TimeDelta, Utc};

use crate::event::PricingCategory;
use crate::rules::RuleSet;
use crate::slots::{CacheLine, Slots};

pub(crate) const DAY: TimeDelta = TimeDelta::hours(24);
pub(crate) const FEP_WINDOW: TimeDelta = TimeDelta::hours(72);

/// One open (or expired) conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conversation {
    /// The conversation's category: its template category or `service` (cbp-2023), or its kind
    /// (`user_initiated`, `business_initiated`, `referral_conversion`; cbp-2022).
    pub category: PricingCategory,
    /// The rule set it was opened under (a carried conversation keeps its own).
    pub rules: RuleSet,
    pub opened: DateTime<Utc>,
}

impl Conversation {
    pub(crate) fn open_at(&self, t: DateTime<Utc>) -> bool {
        self.opened <= t && t < self.opened + DAY
    }
}

/// The state of one (business, user) pair. Small (48 bytes): the engine works on a copy and
/// stores it back only when the event is priced, so a failed event changes nothing.
/// Conversations exist only in the conversation eras (and shortly after), so they live out of
/// line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PairState {
    /// The latest MO: the CSW is `[last_mo, last_mo + 24h)`.
    pub last_mo: Option<DateTime<Utc>>,
    /// The latest entry-point MO, while not used up.
    pub entry_point: Option<DateTime<Utc>>,
    /// The end of the free entry point window.
    pub fep_until: Option<DateTime<Utc>>,
    /// Conversations, at most one per slot (cbp-2023: one per category; cbp-2022: one).
    pub conversations: Option<Box<[Option<Conversation>; 4]>>,
}

impl PairState {
    pub(crate) fn csw_open(&self, t: DateTime<Utc>) -> bool {
        self.last_mo.is_some_and(|m| m <= t && t < m + DAY)
    }

    pub(crate) fn fep_open(&self, t: DateTime<Utc>) -> bool {
        self.fep_until.is_some_and(|until| t < until)
    }

    /// Uses up the latest entry point if it is usable at `t`.
    pub(crate) fn take_entry_point(&mut self, t: DateTime<Utc>) -> bool {
        let usable = self.entry_point.is_some_and(|e| e <= t && t < e + DAY);
        if usable {
            self.entry_point = None;
        }
        usable
    }

    /// Opens a free entry point window at `t` for `length`, closing every open conversation.
    pub(crate) fn open_fep(&mut self, t: DateTime<Utc>, length: TimeDelta) {
        self.fep_until = Some(t + length);
        self.conversations = None;
    }

    /// Whether some window this state holds is still open at `t`, given `day_before` = `t - 24h`.
    /// Once none is, the state behaves exactly like no state at all.
    pub(crate) fn is_live(&self, t: DateTime<Utc>, day_before: DateTime<Utc>) -> bool {
        let opened_since = |o: Option<DateTime<Utc>>| o.is_some_and(|o| o > day_before);
        opened_since(self.last_mo)
            || opened_since(self.entry_point)
            || self.fep_until.is_some_and(|until| until > t)
            || self.slots().any(|c| c.opened > day_before)
    }

    /// The open conversations at `t`, earliest opened first.
    pub(crate) fn open_conversations(&self, t: DateTime<Utc>) -> impl Iterator<Item = &Conversation> {
        let mut open: [Option<&Conversation>; 4] = [None; 4];
        for (slot, c) in self.slots().filter(|c| c.open_at(t)).enumerate() {
            open[slot] = Some(c);
        }
        open.sort_by_key(|c| c.map(|c| c.opened));
        open.into_iter().flatten()
    }

    /// The open conversation of `category` at `t`, if any.
    pub(crate) fn conversation(&self, category: PricingCategory, t: DateTime<Utc>) -> Option<&Conversation> {
        self.slots().find(|c| c.category == category && c.open_at(t))
    }

    /// Opens a conversation at `t` in `slot`, replacing whatever expired conversation was there.
    pub(crate) fn open_conversation(&mut self, slot: usize, conversation: Conversation) {
        self.conversations.get_or_insert_with(Default::default)[slot] = Some(conversation);
    }

    /// Every conversation held, open or expired.
    fn slots(&self) -> impl Iterator<Item = &Conversation> {
        self.conversations.iter().flat_map(|slots| slots.iter().flatten())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(h: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_751_328_000 + h * 3600, 0).unwrap()
    }

    #[test]
    fn csw_is_half_open() {
        let p = PairState { last_mo: Some(at(0)), ..PairState::default() };
        assert!(p.csw_open(at(0)));
        assert!(p.csw_open(at(24) - TimeDelta::nanoseconds(1)));
        assert!(!p.csw_open(at(24)));
    }

    #[test]
    fn entry_point_is_used_once_within_24h() {
        let mut p = PairState { entry_point: Some(at(0)), ..PairState::default() };
        assert!(!p.clone().take_entry_point(at(24)));
        assert_eq!(std::mem::size_of::<PairState>(), 48);
        assert!(p.take_entry_point(at(23)));
        assert!(!p.take_entry_point(at(23)));
    }

    #[test]
    fn fep_window_closes_conversations() {
        let mut p = PairState::default();
        p.open_conversation(
            0,
            Conversation { category: PricingCategory::Marketing, rules: RuleSet::Cbp2023, opened: at(0) },
        );
        p.open_fep(at(1), FEP_WINDOW);
        assert!(p.open_conversations(at(2)).next().is_none());
        assert!(p.fep_open(at(72)));
        assert!(!p.fep_open(at(73)));
    }
}

/// The live pairs of one business, by user: E.164 numbers keyed by their digits as an integer
/// (no string to compare on lookup), other ids by string.
#[derive(Debug)]
pub(crate) struct Pairs {
    /// 64-byte entries (an 8-byte key and a 48-byte state), one per cache line.
    numbers: Slots<u64, PairState, CacheLine>,
    ids: foldhash::HashMap<Box<str>, PairState>,
}

impl Default for Pairs {
    fn default() -> Pairs {
        Pairs { numbers: Slots::new(50, false), ids: Default::default() }
    }
}

/// A user number of 1 to 17 digits (ignoring surrounding whitespace and the `+`, spaces and
/// `-` that [`crate::engine::normalize_user`] removes) as one integer, its length in the top
/// bits so that `033` and `33` stay apart; never zero. `None` for any other user id.
pub(crate) fn number_key(user: &str) -> Option<u64> {
    let mut value = 0u64;
    let mut digits = 0u64;
    for b in crate::engine::trim(user).bytes() {
        match b {
            b'0'..=b'9' if digits < 17 => {
                value = value * 10 + u64::from(b - b'0');
                digits += 1;
            }
            b'+' | b' ' | b'-' => {}
            _ => return None,
        }
    }
    (digits > 0).then_some(value | (digits << 57))
}

/// The number of digits of a [`number_key`].
pub(crate) fn number_digits(key: u64) -> usize {
    (key >> 57) as usize
}

/// A user as a key of [`Pairs`].
pub(crate) enum UserKey<'a> {
    Number(u64),
    Id(&'a str),
}

impl Pairs {
    /// Starts loading the memory of `user`'s state (see [`Slots::prefetch`]).
    pub(crate) fn prefetch(&self, user: &UserKey) {
        if let UserKey::Number(n) = user {
            self.numbers.prefetch(n);
        }
    }

    pub(crate) fn get(&self, user: &UserKey) -> Option<&PairState> {
        match user {
            UserKey::Number(n) => self.numbers.get(n),
            UserKey::Id(id) => self.ids.get(*id),
        }
    }

    /// Sets the state of `user` at `t`. With `evict`, a new pair may take the slot of a pair
    /// whose windows have all closed (its state behaves exactly like no state).
    pub(crate) fn set(&mut self, user: &UserKey, state: PairState, t: DateTime<Utc>, evict: bool) {
        match user {
            UserKey::Number(n) => {
                // Asked of the entries a new key passes on its probe path: few.
                self.numbers.insert_expiring(*n, state, |p| !evict || p.is_live(t, t - DAY));
            }
            UserKey::Id(id) => match self.ids.get_mut(*id) {
                Some(s) => *s = state,
                None => {
                    self.ids.insert((*id).into(), state);
                }
            },
        }
    }

    /// Drops the pairs whose windows have all closed by `t`.
    pub(crate) fn retain_live(&mut self, t: DateTime<Utc>) {
        let day_before = t - DAY;
        let live = |p: &PairState| p.is_live(t, day_before);
        self.numbers.retain(|_, p| live(p));
        self.ids.retain(|_, p| live(p));
        if self.ids.capacity() > 4 * self.ids.len().max(64) {
            self.ids.shrink_to_fit();
        }
    }

    /// The pairs with a window still open at `t`.
    pub(crate) fn live(&self, t: DateTime<Utc>) -> usize {
        let day_before = t - DAY;
        let states = self.numbers.values().chain(self.ids.values());
        states.filter(|p| p.is_live(t, day_before)).count()
    }
}
