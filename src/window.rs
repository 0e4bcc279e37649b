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
//!
//! Instants are [`Stamp`]s, integers: a window's test is two integer comparisons.

use std::num::NonZeroU64;

use chrono::{DateTime, NaiveDate, NaiveTime, Timelike, Utc};

use crate::event::PricingCategory;
use crate::rules::RuleSet;
use crate::slots::{HalfLine, Slots, Spot};

const HOUR: i64 = 3_600_000_000_000;
/// The length of the CSW, of an entry point's use, and of a conversation, in nanoseconds.
pub(crate) const DAY: i64 = 24 * HOUR;
/// The length of a free entry point window, in nanoseconds.
pub(crate) const FEP_WINDOW: i64 = 72 * HOUR;

/// An instant to the nanosecond, as an integer: nanoseconds since 1970-01-01T00:00:00Z, which
/// reaches from 1677-09-21 to 2262-04-11 ([`Stamp::of`]). 8 bytes, and so is an
/// `Option<Stamp>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Stamp(NonZeroU64);

/// Stored with the sign bit flipped: ordered like the nanoseconds, and zero only for the
/// earliest one (never a stamp).
const FLIP: u64 = 1 << 63;

/// [`Stamp::of`] for instants that mostly fall on the day of the one before: that day's
/// midnight is kept, so that a date's arithmetic happens once a day, not once an instant.
#[derive(Debug, Default)]
pub(crate) struct Stamps {
    /// The last date met whose every instant (leap second included) is within range, and its
    /// midnight in nanoseconds.
    day: Option<(NaiveDate, i64)>,
}

impl Stamps {
    pub(crate) fn of(&mut self, t: DateTime<Utc>) -> Option<Stamp> {
        // The UTC fields themselves (`date_naive` and `time` would add a zero offset).
        let (date, time) = (t.naive_utc().date(), t.naive_utc().time());
        let midnight = match self.day {
            Some((d, midnight)) if d == date => midnight,
            _ => {
                let midnight = date.and_time(NaiveTime::MIN).and_utc().timestamp_nanos_opt();
                // The range's first and last days are left to chrono.
                match midnight.filter(|m| m.checked_add(86_401 * 1_000_000_000).is_some()) {
                    Some(m) => self.day.insert((date, m)).1,
                    None => return Stamp::of(t),
                }
            }
        };
        // A leap second's nanoseconds run past a billion, as in chrono's own count.
        Stamp::of_nanos(
            midnight
                + i64::from(time.num_seconds_from_midnight()) * 1_000_000_000
                + i64::from(time.nanosecond()),
        )
    }
}

impl Stamp {
    /// The stamp of `t`, if within range.
    pub fn of(t: DateTime<Utc>) -> Option<Stamp> {
        Stamp::of_nanos(t.timestamp_nanos_opt()?)
    }

    pub(crate) fn of_nanos(nanos: i64) -> Option<Stamp> {
        NonZeroU64::new(nanos as u64 ^ FLIP).map(Stamp)
    }

    /// The instant itself.
    pub fn time(self) -> DateTime<Utc> {
        DateTime::from_timestamp_nanos(self.nanos())
    }

    pub fn nanos(self) -> i64 {
        (self.0.get() ^ FLIP) as i64
    }

    /// Whole seconds since 1970 (rounded down, like [`DateTime::timestamp`]).
    pub(crate) fn seconds(self) -> i64 {
        self.nanos().div_euclid(1_000_000_000)
    }

    /// The end of a window of `length` nanoseconds opened at this instant (the latest stamp
    /// at most: a window that ends after 2262 ends then).
    fn plus(self, length: i64) -> i64 {
        self.nanos().saturating_add(length)
    }

    /// The instant 24 hours before, in nanoseconds: a window opened then or earlier that lasts
    /// a day has closed.
    fn day_before(self) -> i64 {
        self.nanos().saturating_sub(DAY)
    }

    /// Whether a window of `length` opened at this instant contains `t`.
    fn holds(self, length: i64, t: Stamp) -> bool {
        self <= t && t.nanos() < self.plus(length)
    }
}

/// One open (or expired) conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conversation {
    /// The conversation's category: its template category or `service` (cbp-2023), or its kind
    /// (`user_initiated`, `business_initiated`, `referral_conversion`; cbp-2022).
    pub category: PricingCategory,
    /// The rule set it was opened under (a carried conversation keeps its own).
    pub rules: RuleSet,
    pub opened: Stamp,
}

impl Conversation {
    pub(crate) fn open_at(&self, t: Stamp) -> bool {
        self.opened.holds(DAY, t)
    }
}

/// The windows of a pair, 24 bytes: what the pairs table holds for each number.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Windows {
    /// The latest MO: the CSW is `[last_mo, last_mo + 24h)`.
    pub last_mo: Option<Stamp>,
    /// The latest entry-point MO, while not used up.
    pub entry_point: Option<Stamp>,
    /// The end of the free entry point window.
    pub fep_until: Option<Stamp>,
}

impl Windows {
    /// Whether some window is still open at `t`. Once none is, they behave exactly like no
    /// windows at all.
    fn are_live(&self, t: Stamp) -> bool {
        let day_before = t.day_before();
        let opened_since = |o: Option<Stamp>| o.is_some_and(|o| o.nanos() > day_before);
        opened_since(self.last_mo) || opened_since(self.entry_point) || self.fep_until.is_some_and(|u| u > t)
    }
}

/// A pair's conversations, at most one per slot (cbp-2023: one per category; cbp-2022: one).
pub type Conversations = [Option<Conversation>; 4];

/// Whether a conversation held is still open at `t`.
fn any_live(conversations: &Conversations, t: Stamp) -> bool {
    conversations.iter().flatten().any(|c| c.opened.nanos() > t.day_before())
}

/// The state of one (business, user) pair, as the rules see it: the engine works on a copy and
/// stores it back only when the event is priced, so a failed event changes nothing.
#[derive(Debug, Clone, Default)]
pub struct PairState {
    windows: Windows,
    /// Only the conversation eras (and the day after) open them.
    conversations: Conversations,
    /// What changed on this copy (only its methods change it): [`Pairs::set`] stores just
    /// that, and most events change nothing.
    changed: Changed,
}

#[derive(Debug, Clone, Copy, Default)]
struct Changed {
    windows: bool,
    conversations: bool,
}

impl PartialEq for PairState {
    fn eq(&self, other: &PairState) -> bool {
        self.windows == other.windows && self.conversations == other.conversations
    }
}

impl Eq for PairState {}

impl PairState {
    /// Whether the rules changed anything on this copy, to be stored by [`Pairs::set`].
    pub(crate) fn changed(&self) -> bool {
        self.changed.windows || self.changed.conversations
    }

    pub(crate) fn csw_open(&self, t: Stamp) -> bool {
        self.windows.last_mo.is_some_and(|m| m.holds(DAY, t))
    }

    pub(crate) fn fep_open(&self, t: Stamp) -> bool {
        self.windows.fep_until.is_some_and(|until| t < until)
    }

    /// Records an MO at `t` (an entry-point one, if `entry_point`).
    pub(crate) fn mo(&mut self, t: Stamp, entry_point: bool) {
        self.windows.last_mo = Some(t);
        if entry_point {
            self.windows.entry_point = Some(t);
        }
        self.changed.windows = true;
    }

    /// Uses up the latest entry point if it is usable at `t`.
    pub(crate) fn take_entry_point(&mut self, t: Stamp) -> bool {
        let usable = self.windows.entry_point.is_some_and(|e| e.holds(DAY, t));
        if usable {
            self.windows.entry_point = None;
            self.changed.windows = true;
        }
        usable
    }

    /// Opens a free entry point window at `t` for `length` nanoseconds, closing every open
    /// conversation.
    pub(crate) fn open_fep(&mut self, t: Stamp, length: i64) {
        self.windows.fep_until = Stamp::of_nanos(t.plus(length));
        self.conversations = Conversations::default();
        self.changed = Changed { windows: true, conversations: true };
    }

    /// The open conversations at `t`, earliest opened first.
    pub(crate) fn open_conversations(&self, t: Stamp) -> impl Iterator<Item = &Conversation> {
        let mut open: [Option<&Conversation>; 4] = [None; 4];
        for (slot, c) in self.slots().filter(|c| c.open_at(t)).enumerate() {
            open[slot] = Some(c);
        }
        open.sort_by_key(|c| c.map(|c| c.opened));
        open.into_iter().flatten()
    }

    /// The open conversation of `category` at `t`, if any.
    pub(crate) fn conversation(&self, category: PricingCategory, t: Stamp) -> Option<&Conversation> {
        self.slots().find(|c| c.category == category && c.open_at(t))
    }

    /// Opens a conversation at `t` in `slot`, replacing whatever expired conversation was there.
    pub(crate) fn open_conversation(&mut self, slot: usize, conversation: Conversation) {
        self.conversations[slot] = Some(conversation);
        self.changed.conversations = true;
    }

    /// Every conversation held, open or expired.
    fn slots(&self) -> impl Iterator<Item = &Conversation> {
        self.conversations.iter().flatten()
    }

    /// Whether some window or conversation is still open at `t`: see [`Windows::are_live`].
    fn is_live(&self, t: Stamp) -> bool {
        self.windows.are_live(t) || any_live(&self.conversations, t)
    }
}

/// A user number of 1 to 17 digits (ignoring surrounding whitespace and the `+`, spaces and
/// `-` that [`crate::engine::normalize_user`] removes) as one integer, its length in the top
/// bits so that `033` and `33` stay apart; never zero. `None` for any other user id.
pub(crate) fn number_key(user: &str) -> Option<u64> {
    let user = crate::engine::trim(user);
    if let Some(value) = plain_number(user.as_bytes()) {
        return Some(value | ((user.len() as u64) << 57));
    }
    let mut value = 0u64;
    let mut digits = 0u64;
    for b in user.bytes() {
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

/// The value of 8 to 16 ASCII digits and nothing else (a number as most logs write it), read
/// eight at a time; `None` for anything else, left to the byte-by-byte path.
fn plain_number(s: &[u8]) -> Option<u64> {
    const ZEROS: u64 = u64::from_le_bytes([b'0'; 8]);
    let (head, tail) = s.split_first_chunk::<8>()?;
    let low = match tail.len() {
        0 => return eight_digits(*head),
        1..=8 => s.last_chunk::<8>()?,
        _ => return None,
    };
    // The first `k` digits, behind `8 - k` zeros (the first byte is the lowest): the rest of
    // `head` is the start of `low`.
    let k = tail.len();
    let high = u64::from_le_bytes(*head) << (8 * (8 - k)) | ZEROS.checked_shr(8 * k as u32).unwrap_or(0);
    Some(eight_digits(high.to_le_bytes())? * 100_000_000 + eight_digits(*low)?)
}

/// The value of eight ASCII digits, if they all are; three multiplications (each step joins
/// neighbouring groups: digits into pairs, pairs into fours, fours into eight).
fn eight_digits(bytes: [u8; 8]) -> Option<u64> {
    const HIGH: u64 = 0xF0F0_F0F0_F0F0_F0F0;
    const ASCII_0: u64 = 0x3030_3030_3030_3030;
    let x = u64::from_le_bytes(bytes);
    // Every byte 0x30..=0x3F, and still so after adding 6: exactly '0'..='9'.
    if x & HIGH != ASCII_0 || (x + 0x0606_0606_0606_0606) & HIGH != ASCII_0 {
        return None;
    }
    let v = x & 0x0F0F_0F0F_0F0F_0F0F;
    let v = (v * 10 + (v >> 8)) & 0x00FF_00FF_00FF_00FF;
    let v = (v * 100 + (v >> 16)) & 0x0000_FFFF_0000_FFFF;
    Some((v * 10_000 + (v >> 32)) & 0xFFFF_FFFF)
}

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
}

impl Default for Pairs {
    fn default() -> Pairs {
        Pairs { numbers: Slots::new(75), conversations: Default::default(), ids: Default::default() }
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
    #[inline]
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
                (PairState { windows, conversations, changed: Changed::default() }, Some(spot))
            }
            UserKey::Id(id) => (self.ids.get(*id).cloned().unwrap_or_default(), None),
        }
    }

    /// Stores what changed of `user`'s state `after`, a copy [`Pairs::get`] gave (with
    /// `spot`). With `evict`, a new pair's windows may take the slot of windows that have all
    /// closed at `t` (they behave exactly like no windows).
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
                if after.changed.windows {
                    let spot = spot.unwrap_or_else(|| self.numbers.probe(n).1);
                    self.numbers.put(spot, *n, after.windows, live_at(t, evict));
                }
                if after.changed.conversations {
                    if after.conversations == Conversations::default() {
                        self.conversations.remove(n);
                    } else {
                        self.conversations.insert(*n, after.conversations);
                    }
                }
            }
            UserKey::Id(id) => match self.ids.get_mut(*id) {
                Some(s) => *s = after,
                None => {
                    self.ids.insert((*id).into(), after);
                }
            },
        }
    }

    /// Drops the windows and conversations that have all closed by `t`.
    pub(crate) fn retain_live(&mut self, t: Stamp) {
        self.numbers.retain(|_, w| w.are_live(t));
        self.conversations.retain(|_, c| any_live(c, t));
        self.ids.retain(|_, p| p.is_live(t));
        shrink_if_sparse(&mut self.conversations);
        shrink_if_sparse(&mut self.ids);
    }

    /// The pairs with a window or conversation still open at `t`.
    pub(crate) fn live(&self, t: Stamp) -> usize {
        let windows = |n: &u64| self.numbers.get(n).is_some_and(|w| w.are_live(t));
        let numbers = self.numbers.iter().filter(|(_, w)| w.are_live(t)).count();
        let conversations_only =
            self.conversations.iter().filter(|(n, c)| any_live(c, t) && !windows(n)).count();
        let ids = self.ids.values().filter(|p| p.is_live(t)).count();
        numbers + conversations_only + ids
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(h: i64) -> Stamp {
        Stamp::of_nanos((1_751_328_000 + h * 3600) * 1_000_000_000).unwrap()
    }

    fn before(t: Stamp) -> Stamp {
        Stamp::of_nanos(t.nanos() - 1).unwrap()
    }

    proptest::proptest! {
        /// Stamps made with the day kept are chrono's, across the whole range and its edges,
        /// leap seconds included, whether the day before was the same or not.
        #[test]
        fn stamps_of_a_kept_day_are_chronos(
            instants in proptest::collection::vec((-106_751i64..106_752, 0u32..86_400, 0u32..2_000_000_000), 1..20),
        ) {
            let mut stamps = Stamps::default();
            for (day, second, nanos) in instants {
                // Two instants of each day, the second maybe a leap second's.
                for (second, nanos) in [(second, nanos % 1_000_000_000), (86_399, nanos)] {
                    let date = NaiveDate::from_num_days_from_ce_opt(719_163 + day as i32).unwrap();
                    let Some(time) = NaiveTime::from_num_seconds_from_midnight_opt(second, nanos) else { continue };
                    let t = date.and_time(time).and_utc();
                    proptest::prop_assert_eq!(stamps.of(t), Stamp::of(t), "{}", t);
                }
            }
        }
    }

    #[test]
    fn stamps_are_ordered_like_instants_and_optional_for_free() {
        let t = |s: &str| Stamp::of(s.parse().unwrap());
        assert!(t("1969-12-31T23:59:59.999999999Z") < t("1970-01-01T00:00:00Z"));
        assert!(t("1970-01-01T00:00:00Z") < t("2025-07-01T09:00:00.000000001Z"));
        assert_eq!(t("1677-09-20T00:00:00Z"), None);
        assert_eq!(t("2262-04-12T00:00:00Z"), None);
        assert_eq!(std::mem::size_of::<Option<Stamp>>(), 8);
        assert_eq!(std::mem::size_of::<Windows>(), 24);
    }

    #[test]
    fn csw_is_half_open() {
        let p = PairState {
            windows: Windows { last_mo: Some(at(0)), ..Windows::default() },
            ..PairState::default()
        };
        assert!(p.csw_open(at(0)));
        assert!(p.csw_open(before(at(24))));
        assert!(!p.csw_open(at(24)));
        assert!(!p.csw_open(before(at(0))));
    }

    #[test]
    fn entry_point_is_used_once_within_24h() {
        let mut p = PairState::default();
        p.mo(at(0), true);
        assert!(!p.clone().take_entry_point(at(24)));
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

    #[test]
    fn windows_near_the_last_stamp_end_there() {
        let last = Stamp::of("2262-04-11T00:00:00Z".parse().unwrap()).unwrap();
        let mut p = PairState::default();
        p.mo(last, true);
        assert!(p.csw_open(last));
        assert!(p.take_entry_point(last));
        p.open_fep(last, FEP_WINDOW);
        assert!(p.fep_open(last));
    }

    #[test]
    fn a_pairs_conversations_are_kept_apart_from_its_windows() {
        let mut pairs = Pairs::default();
        let user = UserKey::Number(number_key("33612345678").unwrap());
        let (empty, spot) = pairs.get(&user);
        let mut p = empty.clone();
        p.mo(at(0), false);
        p.open_conversation(
            1,
            Conversation { category: PricingCategory::Utility, rules: RuleSet::Cbp2023, opened: at(1) },
        );
        pairs.set(&user, spot, p.clone(), at(1), true);
        assert_eq!(pairs.get(&user).0, p);
        assert_eq!(pairs.live(at(24)), 1);
        // The windows closed at 24h, the conversation at 25h: each is dropped on its own.
        pairs.retain_live(at(24));
        assert_eq!(pairs.get(&user).0.windows, Windows::default());
        assert_eq!(pairs.get(&user).0.conversations, p.conversations);
        assert_eq!(pairs.live(at(24)), 1);
        pairs.retain_live(at(25));
        assert_eq!(pairs.get(&user).0, PairState::default());
        assert_eq!(pairs.live(at(25)), 0);
    }

    /// A number key is the digits' value and count, whatever the path: the eight-at-a-time
    /// one (8 to 16 plain digits) or the byte-by-byte one (separators, other lengths).
    #[test]
    fn number_keys_are_the_digits_value_and_count() {
        assert_eq!(number_key("33612345678"), Some(33_612_345_678 | 11 << 57));
        assert_eq!(number_key("+33 6 12-34"), Some(3_361_234 | 7 << 57));
        assert_eq!(number_key("0000000000000000"), Some(16 << 57));
        assert_eq!(number_key("12345678901234567"), Some(12_345_678_901_234_567 | 17 << 57));
        for bad in ["", "+", "3361234567a", "123456789012345678", "33612345678/", "3361:345678"] {
            assert_eq!(number_key(bad), None, "{bad}");
        }
    }

    proptest::proptest! {
        #[test]
        fn number_keys_agree_with_parsing(
            user in proptest::prop_oneof!["[0-9]{1,18}", "[ ]?[+]?[0-9:/ -]{0,18}[ ]?"]
        ) {
            let digits: String = user.chars().filter(char::is_ascii_digit).collect();
            let only_numeric = user.chars().all(|c| c.is_ascii_digit() || "+ -".contains(c));
            let expected = (only_numeric && (1..=17).contains(&digits.len()))
                .then(|| digits.parse::<u64>().unwrap() | (digits.len() as u64) << 57);
            proptest::prop_assert_eq!(number_key(&user), expected);
        }
    }
}
