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

use crate::domain::event::PricingCategory;
use crate::domain::time::{Stamp, DAY};
use crate::rules::RuleSet;

/// The length of a free entry point window, in nanoseconds.
pub(crate) const FEP_WINDOW: i64 = 3 * DAY;

/// One open (or expired) conversation, 16 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conversation {
    /// The conversation's category: its template category or `service` (cbp-2023;
    /// `authentication_international` when opened at that rate), or its kind
    /// (`user_initiated`, `business_initiated`, `referral_conversion`; cbp-2022).
    pub category: PricingCategory,
    /// The rule set it was opened under (a carried conversation keeps its own).
    pub rules: RuleSet,
    /// Its place among the pair's conversations opened at the same instant, in the order
    /// their messages were priced (0 first); set by [`PairState::open_conversation`].
    rank: u8,
    pub opened: Stamp,
}

impl Conversation {
    /// A conversation of `category` opened at `opened` under `rules`.
    pub(crate) fn new(category: PricingCategory, rules: RuleSet, opened: Stamp) -> Conversation {
        Conversation { category, rules, rank: 0, opened }
    }

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
    pub(crate) fn are_live(&self, t: Stamp) -> bool {
        let day_before = t.day_before();
        let opened_since = |o: Option<Stamp>| o.is_some_and(|o| o.nanos() > day_before);
        opened_since(self.last_mo) || opened_since(self.entry_point) || self.fep_until.is_some_and(|u| u > t)
    }
}

/// A pair's conversations, at most one per slot (cbp-2023: one per category; cbp-2022: one).
pub type Conversations = [Option<Conversation>; 4];

/// Whether a conversation held is still open at `t`.
pub(crate) fn any_live(conversations: &Conversations, t: Stamp) -> bool {
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
    /// The state as stored: these windows and conversations, nothing changed yet.
    pub(crate) fn stored(windows: Windows, conversations: Conversations) -> PairState {
        PairState { windows, conversations, changed: Changed::default() }
    }

    /// What this copy changed since it was stored: its windows, its conversations, or both.
    pub(crate) fn changes(&self) -> (Option<&Windows>, Option<&Conversations>) {
        let Changed { windows, conversations } = self.changed;
        (windows.then_some(&self.windows), conversations.then_some(&self.conversations))
    }

    pub(crate) fn windows(&self) -> &Windows {
        &self.windows
    }

    #[cfg(test)]
    pub(crate) fn conversations(&self) -> &Conversations {
        &self.conversations
    }

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

    /// Takes in the state of the same person known by another id (a phone number and its
    /// business-scoped id, docs/rules.md §12): each window at its later instant, each
    /// conversation slot this state leaves empty filled from `other`'s.
    #[cold]
    pub(crate) fn absorb(&mut self, other: &PairState) {
        let later = |a: Option<Stamp>, b: Option<Stamp>| a.max(b);
        let w = &mut self.windows;
        let o = &other.windows;
        (w.last_mo, w.entry_point, w.fep_until) = (
            later(w.last_mo, o.last_mo),
            later(w.entry_point, o.entry_point),
            later(w.fep_until, o.fep_until),
        );
        for (mine, theirs) in self.conversations.iter_mut().zip(&other.conversations) {
            if mine.is_none() {
                *mine = *theirs;
            }
        }
        self.changed = Changed { windows: true, conversations: true };
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

    /// The open conversations at `t`, earliest opened first; those opened at the same instant
    /// in the order their messages were priced (docs/rules.md §4, `pricing_category`).
    pub(crate) fn open_conversations(&self, t: Stamp) -> impl Iterator<Item = &Conversation> {
        let mut open: [Option<&Conversation>; 4] = [None; 4];
        for (slot, c) in self.slots().filter(|c| c.open_at(t)).enumerate() {
            open[slot] = Some(c);
        }
        // `None` sorts first, and is skipped.
        open.sort_by_key(|c| c.map(|c| (c.opened, c.rank)));
        open.into_iter().flatten()
    }

    /// The open conversation of `category` at `t`, if any.
    pub(crate) fn conversation(&self, category: PricingCategory, t: Stamp) -> Option<&Conversation> {
        self.slots().find(|c| c.category == category && c.open_at(t))
    }

    /// The conversation in `slot` if it is open at `t`.
    pub(crate) fn open_in(&self, slot: usize, t: Stamp) -> Option<&Conversation> {
        self.conversations[slot].as_ref().filter(|c| c.open_at(t))
    }

    /// Opens a conversation in `slot`, replacing whatever expired conversation was there. It
    /// ranks after the conversations already opened at the same instant: their messages were
    /// priced before its own.
    pub(crate) fn open_conversation(&mut self, slot: usize, conversation: Conversation) {
        let others = self.conversations.iter().enumerate().filter(|&(i, _)| i != slot);
        let rank = others.filter_map(|(_, c)| *c).filter(|c| c.opened == conversation.opened).count();
        let rank = u8::try_from(rank).expect("at most 3 other slots");
        self.conversations[slot] = Some(Conversation { rank, ..conversation });
        self.changed.conversations = true;
    }

    /// The authentication conversation opened at `t`, if any, was opened at the
    /// authentication-international rate (docs/rules.md §6): it and the lines it covers take
    /// that category (docs/rules.md §4, `pricing_category`).
    pub(crate) fn opened_international(&mut self, t: Stamp) {
        let opened_now =
            |c: &&mut Conversation| c.category == PricingCategory::Authentication && c.opened == t;
        if let Some(c) = self.conversations.iter_mut().flatten().find(opened_now) {
            c.category = PricingCategory::AuthenticationInternational;
            self.changed.conversations = true;
        }
    }

    /// Every conversation held, open or expired.
    fn slots(&self) -> impl Iterator<Item = &Conversation> {
        self.conversations.iter().flatten()
    }

    /// Whether some window or conversation is still open at `t`: see [`Windows::are_live`].
    pub(crate) fn is_live(&self, t: Stamp) -> bool {
        self.windows.are_live(t) || any_live(&self.conversations, t)
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
    fn the_pricing_order_costs_the_pairs_table_no_room() {
        assert_eq!(std::mem::size_of::<Windows>(), 24);
        assert_eq!(std::mem::size_of::<Option<Conversation>>(), 16);
    }

    #[test]
    fn conversations_opened_at_one_instant_rank_in_the_order_they_were_opened() {
        let mut p = PairState::default();
        let open = |category| Conversation::new(category, RuleSet::Cbp2023, at(0));
        p.open_conversation(3, open(PricingCategory::Service));
        p.open_conversation(1, open(PricingCategory::Utility));
        p.open_conversation(0, open(PricingCategory::Marketing));
        let order: Vec<_> = p.open_conversations(at(1)).map(|c| c.category).collect();
        assert_eq!(order, [PricingCategory::Service, PricingCategory::Utility, PricingCategory::Marketing]);
        // An earlier opening still comes first, whatever its rank.
        p.open_conversation(2, Conversation::new(PricingCategory::Authentication, RuleSet::Cbp2023, at(-1)));
        assert_eq!(
            p.open_conversations(at(1)).next().map(|c| c.category),
            Some(PricingCategory::Authentication)
        );
    }

    #[test]
    fn fep_window_closes_conversations() {
        let mut p = PairState::default();
        p.open_conversation(0, Conversation::new(PricingCategory::Marketing, RuleSet::Cbp2023, at(0)));
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
}
