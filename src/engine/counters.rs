//! The counters of a month: volume-tier positions per portfolio, market and family, and the
//! free allowances per WABA (conversations) or business number (service messages).

use foldhash::HashMap;

use super::options::Options;
use crate::domain::event::Month;
use crate::pricebook::market::MarketId;
use crate::pricebook::ratecard::RateCategory;
use crate::rules::{Allowance, Context};

/// Where an event counts: its WABA, business and portfolio (as the engine numbers them) and
/// its local month.
#[derive(Debug, Clone, Copy)]
pub(super) struct Scope {
    pub(super) waba: u32,
    pub(super) business: u32,
    pub(super) portfolio: u32,
    pub(super) month: Month,
}

/// A volume-tier counter: one per portfolio, market, tier family and local month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct TierKey {
    pub(super) portfolio: u32,
    pub(super) market: MarketId,
    pub(super) family: RateCategory,
    pub(super) month: Month,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct AllowanceKey {
    allowance: Allowance,
    /// The WABA (conversations) or the business (service messages).
    scope: u32,
    month: Month,
}

impl AllowanceKey {
    fn of(allowance: Allowance, scope: Scope) -> AllowanceKey {
        let within = match allowance {
            Allowance::Conversations => scope.waba,
            Allowance::ServiceMessages => scope.business,
        };
        AllowanceKey { allowance, scope: within, month: scope.month }
    }
}

/// The counters of every month met so far.
#[derive(Debug, Default)]
pub(super) struct Counters {
    tiers: HashMap<TierKey, u64>,
    allowances: HashMap<AllowanceKey, u64>,
}

impl Counters {
    /// What the rules may ask of the counters for an event in `scope`.
    pub(super) fn context<'a>(&'a self, options: &'a Options, scope: Scope) -> impl Context + 'a {
        Cx { counters: self, options, scope }
    }

    /// The count in `key` once the next item, of `units` (a message is 1, a call its pulses),
    /// is counted: 1 for the month's first message.
    #[inline(always)]
    pub(super) fn next_in(&self, key: TierKey, units: u64) -> u64 {
        self.tiers.get(&key).copied().unwrap_or(0) + units
    }

    /// How many items the allowance counted in `scope`'s month so far.
    pub(super) fn used(&self, allowance: Allowance, scope: Scope) -> u64 {
        self.allowances.get(&AllowanceKey::of(allowance, scope)).copied().unwrap_or(0)
    }

    /// Counts a priced item: its units in its tier counter, and itself in the allowance it used.
    #[inline(always)]
    pub(super) fn commit(
        &mut self,
        tier: Option<(TierKey, u64)>,
        allowance: Option<Allowance>,
        scope: Scope,
    ) {
        if let Some((key, units)) = tier {
            *self.tiers.entry(key).or_insert(0) += units;
        }
        if let Some(a) = allowance {
            *self.allowances.entry(AllowanceKey::of(a, scope)).or_insert(0) += 1;
        }
    }
}

struct Cx<'a> {
    counters: &'a Counters,
    options: &'a Options,
    scope: Scope,
}

impl Context for Cx<'_> {
    fn allowance_left(&self, allowance: Allowance) -> bool {
        let used = self.counters.allowances.get(&AllowanceKey::of(allowance, self.scope)).copied();
        let limit = match allowance {
            Allowance::Conversations => self.options.free_conversations,
            Allowance::ServiceMessages => self.options.service_allowance,
        };
        used.unwrap_or(0) < limit
    }
}
