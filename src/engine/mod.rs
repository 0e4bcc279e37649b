//! The streaming pricer: push one event, get its priced line.
//!
//! ```
//! use wabill::{Accounts, Engine, Event, Kind, Category, Options, Pricebook, PricingType};
//! use chrono::{DateTime, Utc};
//!
//! let book = Pricebook::embedded(Accounts::default());
//! let mut engine = Engine::new(book.into(), Options::default());
//! let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
//! let mo = Event::mo(at("2025-07-01T09:00:00Z"), "33180000000", "+33 6 12 34 56 78");
//! let reply = Event::mt(at("2025-07-01T09:05:00Z"), "33180000000", "+33 6 12 34 56 78", Kind::NonTemplate);
//! let promo = Event::mt(at("2025-07-01T10:00:00Z"), "33180000000", "33612345678", Kind::Template(Category::Marketing));
//! assert_eq!(engine.push(&mo)?.pricing_type, PricingType::Inbound);
//! assert_eq!(engine.push(&reply)?.pricing_type, PricingType::FreeCustomerService);
//! let line = engine.push(&promo)?;
//! assert_eq!(line.pricing_type, PricingType::Regular);
//! assert_eq!(&*line.market, "France");
//! assert!(line.charge > rust_decimal::Decimal::ZERO);
//! # Ok::<(), wabill::Problem>(())
//! ```
//!
//! Order: events must come in order of timestamp (ties in input order); an event earlier than
//! the one before is refused. "The latest MO" is the latest MO already pushed, so an MT pushed
//! before an MO of the same instant does not see it.
//!
//! State: per (business, user) pair, the windows of [`crate::rules::state`]; per portfolio, market,
//! tier family and local month, the volume-tier counters; per WABA or business and month, the
//! free allowances; and the ids seen, for duplicates. A push that fails changes nothing.

mod business;
mod keys;
mod line;
mod options;
mod pairs;
pub(crate) mod seen;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use foldhash::{HashMap, HashMapExt};
use rust_decimal::Decimal;

use crate::domain::error::Problem;
use crate::domain::event::{Direction, Event, Kind, Month, PricingCategory, PricingType};
use crate::domain::money::Country;
use crate::domain::time::{Stamp, Stamps, DAY};
use crate::domain::user::{normalize_user, trim};
use crate::pricebook::account::Account;
use crate::pricebook::market::MarketId;
use crate::pricebook::ratecard::RateCategory;
use crate::pricebook::Pricebook;
use crate::rules::{Allowance, Context, Mt, Verdict};
use crate::util::numbering::Numbering;
use business::{Business, Day};
pub(crate) use keys::{Facts, Keys};
pub use line::{AccountNames, PricedLine};
pub use options::Options;
use pairs::{Pairs, UserKey};
use seen::SeenIds;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct TierKey {
    portfolio: u32,
    market: MarketId,
    family: RateCategory,
    month: Month,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct AllowanceKey {
    allowance: Allowance,
    /// The WABA (conversations) or the business (service messages).
    scope: u32,
    month: Month,
}

/// The streaming pricer. Holds the live state of a log; see the module docs.
pub struct Engine {
    book: Arc<Pricebook>,
    options: Options,
    /// The businesses' names, numbered as `businesses`.
    by_name: Numbering,
    businesses: Vec<Business>,
    wabas: Numbering,
    portfolios: Numbering,
    tiers: HashMap<TierKey, u64>,
    allowances: HashMap<AllowanceKey, u64>,
    seen: SeenIds,
    /// Events' instants as stamps, the day of the last kept.
    stamps: Stamps,
    last: Option<Stamp>,
    /// When to next drop the pairs whose windows have all closed.
    next_sweep: Option<Stamp>,
    user: String,
}

struct Cx<'a> {
    allowances: &'a HashMap<AllowanceKey, u64>,
    options: &'a Options,
    waba: u32,
    business: u32,
    month: Month,
}

impl Context for Cx<'_> {
    fn allowance_left(&self, allowance: Allowance) -> bool {
        let key = allowance_key(allowance, self.waba, self.business, self.month);
        self.allowances.get(&key).copied().unwrap_or(0) < limit(self.options, allowance)
    }
}

fn allowance_key(allowance: Allowance, waba: u32, business: u32, month: Month) -> AllowanceKey {
    let scope = match allowance {
        Allowance::Conversations => waba,
        Allowance::ServiceMessages => business,
    };
    AllowanceKey { allowance, scope, month }
}

fn limit(options: &Options, allowance: Allowance) -> u64 {
    match allowance {
        Allowance::Conversations => options.free_conversations,
        Allowance::ServiceMessages => options.service_allowance,
    }
}

impl Engine {
    pub fn new(book: Arc<Pricebook>, options: Options) -> Engine {
        Engine {
            book,
            options,
            by_name: Numbering::default(),
            businesses: Vec::new(),
            wabas: Numbering::default(),
            portfolios: Numbering::default(),
            tiers: HashMap::new(),
            allowances: HashMap::new(),
            seen: SeenIds::default(),
            stamps: Stamps::default(),
            last: None,
            next_sweep: None,
            user: String::new(),
        }
    }

    pub fn options(&self) -> &Options {
        &self.options
    }

    pub fn pricebook(&self) -> &Arc<Pricebook> {
        &self.book
    }

    /// Prices every event of an iterator, in order.
    pub fn price_all<'e, 'a, I: Iterator<Item = Event<'a>>>(&'e mut self, events: I) -> Priced<'e, I> {
        Priced { engine: self, events }
    }

    /// The index of business `name` (trimmed, not empty), known from now on.
    pub(crate) fn business_index(&mut self, name: &str) -> u32 {
        self.by_name.find(name).unwrap_or_else(|| self.add_business(name))
    }

    #[cold]
    fn add_business(&mut self, name: &str) -> u32 {
        let account = self.book.accounts.get(name);
        let business = Business {
            names: AccountNames::of(name, &account.waba, &account.portfolio),
            waba_id: self.wabas.number(&account.waba),
            portfolio_id: self.portfolios.number(&account.portfolio),
            account,
            pairs: Pairs::default(),
            today: None,
        };
        self.businesses.push(business);
        let i = self.by_name.number(name);
        debug_assert_eq!(i as usize + 1, self.businesses.len(), "numbered as they are added");
        i
    }

    /// Prices one event. On error nothing changes: the event may be skipped and the next pushed.
    pub fn push(&mut self, ev: &Event) -> Result<PricedLine, Problem> {
        let mut line = PricedLine::blank();
        // The market is found while pricing: finding it ahead pays only on another thread.
        let keys = Keys::of(ev, &self.book.markets, None);
        self.push_keyed(&Facts::of(ev), keys, None, || [ev.business, ev.user], &mut line)?;
        Ok(line)
    }

    /// Starts loading the memory that pricing an event of business `bi` (see
    /// [`Engine::business_index`]) with `keys` will read: its pair's state and its id's slot.
    /// So a loop can ask for the next events' while it prices the current one.
    pub(crate) fn prefetch(&self, bi: u32, keys: &Keys) {
        if let Some(id) = keys.id() {
            self.seen.prefetch(id);
        }
        if let Some(n) = keys.user() {
            self.businesses[bi as usize].pairs.prefetch(&UserKey::Number(n));
        }
    }

    /// [`Engine::push`] of the event `ev` with what was computed ahead: `facts` are
    /// `Facts::of(ev)`, `keys` must be `Keys::of(ev, markets, dates)` with the engine's markets
    /// and `dates` `None` or `Keys::dates` with the engine's `rates_date`, and `business` the
    /// index of its business if known. `names` gives its business and user, asked for only
    /// when these do not stand for them (no business index; a user that is not a number);
    /// its id is known by its key. The priced line is written into `line` (a loop reuses one:
    /// it is not moved out), which means nothing after an error.
    pub(crate) fn push_keyed<'s>(
        &mut self,
        ev: &Facts,
        keys: Keys,
        business: Option<u32>,
        names: impl Fn() -> [&'s str; 2],
        line: &mut PricedLine,
    ) -> Result<(), Problem> {
        let t = ev.timestamp;
        let now = self.stamps.of(t);
        let earlier = |last: Stamp| match now {
            Some(now) => now < last,
            None => t < last.time(),
        };
        if let Some(last) = self.last.filter(|&last| earlier(last)) {
            return Err(Problem::column(
                "timestamp",
                format!("earlier than the event before, {}", crate::domain::time::rfc3339(last.time())),
                crate::domain::time::rfc3339(t),
            ));
        }
        let now = now.ok_or_else(|| {
            Problem::column("timestamp", "outside the years 1677 to 2262", crate::domain::time::rfc3339(t))
        })?;
        if ev.direction == Direction::Mo && ev.kind != Kind::NonTemplate {
            let category = ev.kind.pricing_category().to_string();
            return Err(Problem::column("category", "must be empty for an MO", category));
        }
        // A business numbered by name has one: its name is read only to number it.
        let bi = match business {
            Some(bi) => bi,
            None => match names() {
                [name, _] if trim(name).is_empty() => {
                    return Err(Problem::column("business", "must not be empty", name));
                }
                [name, _] => self.business_index(trim(name)),
            },
        };
        let Engine { book, options, businesses, tiers, allowances, seen, user: buf, .. } = self;
        let biz = &mut businesses[bi as usize];
        let Day { date: local_date, month, rules, rate_date, .. } = biz.day(now, options);
        let account = &biz.account;

        // A number is known by its key and its prefix: its text is not read again.
        let who = match keys.user() {
            Some(n) => UserKey::Number(n),
            None => match normalize_user(names()[1], buf) {
                "" => return Err(Problem::column("user", "must not be empty", names()[1])),
                user => UserKey::Id(user),
            },
        };
        let (country, market) = match (ev.country, who) {
            (Some(c), _) => (Some(c), book.markets.of_country(c, rate_date)),
            (None, UserKey::Number(_)) => match keys.market() {
                Some(found) => {
                    debug_assert_eq!(found, book.markets.of_prefix(keys.prefix, rate_date), "{rate_date}");
                    found
                }
                None => book.markets.of_prefix(keys.prefix, rate_date),
            },
            (None, UserKey::Id(user)) if user.bytes().all(|b| b.is_ascii_digit()) => {
                book.markets.of_number(user, rate_date)
            }
            (None, UserKey::Id(_)) => {
                return Err(Problem::column("user", "not a phone number and no country given", names()[1]));
            }
        };

        *line = PricedLine {
            timestamp: t,
            local_date,
            account: biz.names,
            direction: ev.direction,
            rules,
            pricing_model: rules.model(),
            pricing_type: PricingType::Duplicate,
            pricing_category: None,
            market: book.markets.name(market),
            country,
            tier: None,
            rate: None,
            charge: Decimal::ZERO,
            currency: account.currency,
        };
        // A new id, and where it will be recorded; a duplicate is priced as such, and nothing
        // else changes.
        let mut new_id = None;
        if let Some(id) = keys.id() {
            match seen.unseen(id, now, options.dedup_window) {
                Some(spot) => new_id = Some((id, spot)),
                None => {
                    self.last = Some(now);
                    return Ok(());
                }
            }
        }

        let (mut pair, spot) = biz.pairs.get(&who);
        let verdict = if ev.direction == Direction::Mo {
            pair.mo(now, ev.entry_point);
            None
        } else if !ev.status.is_delivered() {
            Some(Verdict::free(PricingType::Undelivered, ev.kind.pricing_category()))
        } else {
            let csw_open = pair.csw_open(now);
            if ev.kind == Kind::NonTemplate && !csw_open {
                Some(Verdict::free(PricingType::Violation, PricingCategory::Service))
            } else {
                let mt = Mt { at: now, kind: ev.kind, local_date, csw_open };
                let cx = Cx { allowances, options, waba: biz.waba_id, business: bi, month };
                Some(rules.rules().price(&mt, &mut pair, &cx))
            }
        };

        let mut tier_use = None;
        match verdict {
            None => line.pricing_type = PricingType::Inbound,
            Some(v) => {
                line.pricing_type = v.pricing_type;
                line.pricing_category = Some(v.category);
                line.pricing_model = v.model.unwrap_or(line.pricing_model);
                if let Some(rate) = v.rate {
                    let mut category = rate.category;
                    if category == RateCategory::Authentication
                        && auth_intl(account, country, t, local_date)
                        && book
                            .price(
                                account.currency,
                                market,
                                RateCategory::AuthenticationInternational,
                                rate_date,
                            )
                            .is_some()
                    {
                        category = RateCategory::AuthenticationInternational;
                        line.pricing_category = Some(PricingCategory::AuthenticationInternational);
                    }
                    let price =
                        book.price(account.currency, market, category, rate_date).ok_or_else(|| {
                            Problem::new(format!(
                                "no rate for {} {} {category} on {rate_date}",
                                account.currency,
                                book.markets.name(market)
                            ))
                        })?;
                    let (r, tier) = if rate.tiered {
                        let family = match category {
                            RateCategory::AuthenticationInternational => RateCategory::Authentication,
                            c => c,
                        };
                        let key = TierKey { portfolio: biz.portfolio_id, market, family, month };
                        let k = tiers.get(&key).copied().unwrap_or(0) + 1;
                        tier_use = Some(key);
                        price.for_message(k).ok_or_else(|| {
                            Problem::new(format!(
                                "no tier band of {} {} {category} on {rate_date} holds message {k} of {month}",
                                account.currency,
                                book.markets.name(market)
                            ))
                        })?
                    } else {
                        price.first()
                    };
                    line.rate = Some(r);
                    line.tier = tier;
                    line.charge = r;
                }
                if let Some(a) = v.uses {
                    *allowances.entry(allowance_key(a, biz.waba_id, bi, month)).or_insert(0) += 1;
                }
            }
        }

        // Commit: the line is priced.
        if let Some(key) = tier_use {
            *tiers.entry(key).or_insert(0) += 1;
        }
        if pair.changed() {
            biz.pairs.set(&who, spot, pair, now, options.evict_expired);
        }
        if let Some((id, spot)) = new_id {
            seen.insert(spot, now, id, options.dedup_window);
        }
        self.last = Some(now);
        self.sweep(now);
        Ok(())
    }
}

impl Engine {
    /// Once a day of log time, drops the pairs whose windows have all closed: their state
    /// behaves exactly like no state, and timestamps only move forward. (Between sweeps, a new
    /// pair may take the slot of such a pair.)
    fn sweep(&mut self, t: Stamp) {
        if self.next_sweep.is_some_and(|next| t < next) {
            return;
        }
        self.next_sweep = Stamp::of_nanos(t.nanos().saturating_add(DAY));
        if !self.options.evict_expired {
            return;
        }
        for b in &mut self.businesses {
            b.pairs.retain_live(t);
        }
    }

    /// The number of message ids remembered for duplicates: those seen within the dedup window
    /// before the latest event. (The oldest day held may also have older ones.)
    pub fn remembered_ids(&self) -> usize {
        self.last.map_or(0, |t| self.seen.live(t, self.options.dedup_window))
    }

    /// The number of (business, user) pairs with a window still open at the latest event.
    /// (The tables may hold expired ones, until they need their room.)
    pub fn live_pairs(&self) -> usize {
        self.last.map_or(0, |t| self.businesses.iter().map(|b| b.pairs.live(t)).sum())
    }
}

/// Whether an authentication template pays the authentication-international rate (docs/rules.md §6),
/// the card permitting.
fn auth_intl(account: &Account, recipient: Option<Country>, at: DateTime<Utc>, local: NaiveDate) -> bool {
    match (account.auth_intl_from, account.country, recipient) {
        (Some(from), Some(home), Some(to)) => home != to && from.reached(at, local),
        _ => false,
    }
}

/// The priced lines of an iterator of events: [`Engine::price_all`].
pub struct Priced<'e, I> {
    engine: &'e mut Engine,
    events: I,
}

impl<'a, I: Iterator<Item = Event<'a>>> Iterator for Priced<'_, I> {
    type Item = Result<PricedLine, Problem>;
    fn next(&mut self) -> Option<Self::Item> {
        self.events.next().map(|ev| self.engine.push(&ev))
    }
}
