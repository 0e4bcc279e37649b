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
//! assert_eq!(line.market(), "France");
//! assert!(line.charge > rust_decimal::Decimal::ZERO);
//! # Ok::<(), wabill::Error>(())
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
mod counters;
mod keys;
mod line;
mod options;
mod pairs;
pub(crate) mod seen;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};

use crate::domain::error::{Error, Problem};
use rust_decimal::Decimal;

use crate::domain::event::{Category, Cost, Direction, Event, Kind, PricingCategory, PricingType};
use crate::domain::money::Country;
use crate::domain::time::{rfc3339, Stamp, Stamps, DAY};
use crate::domain::user::{bsuid_country, normalize_user, number_key, trim};
use crate::pricebook::account::Account;
use crate::pricebook::market::MarketId;
use crate::pricebook::ratecard::RateCategory;
use crate::pricebook::Pricebook;
use crate::rules::state::PairState;
use crate::rules::{Mt, Rate, Verdict};
use crate::util::numbering::Numbering;
use crate::util::slots::Spot;
use business::{Business, Day};
use counters::{Counters, Scope, TierKey};
pub(crate) use keys::{Extras, Facts, Keys};
#[cfg(test)]
pub(crate) use line::samples;
pub(crate) use line::AccountNames;
pub use line::{PricedLine, Why};
pub use options::{Options, OptionsBuilder};
use pairs::{Pairs, UserKey};
use seen::SeenIds;

/// The streaming pricer. Holds the live state of a log; see the module docs.
pub struct Engine {
    book: Arc<Pricebook>,
    options: Options,
    /// The businesses' names, numbered as `businesses`.
    by_name: Numbering,
    businesses: Vec<Business>,
    wabas: Numbering,
    portfolios: Numbering,
    /// The month's volume-tier counters and free allowances.
    counters: Counters,
    seen: SeenIds,
    /// Events' instants as stamps, the day of the last kept.
    stamps: Stamps,
    last: Option<Stamp>,
    /// When to next drop the pairs whose windows have all closed.
    next_sweep: Option<Stamp>,
    user: String,
    /// Business-scoped user ids known to stand for a phone number (its digits): one person.
    aliases: foldhash::HashMap<Box<str>, Box<str>>,
}

impl Engine {
    /// An engine pricing with `book` and `options`, with no state yet.
    pub fn new(book: Arc<Pricebook>, options: Options) -> Engine {
        Engine {
            book,
            options,
            by_name: Numbering::default(),
            businesses: Vec::new(),
            wabas: Numbering::default(),
            portfolios: Numbering::default(),
            counters: Counters::default(),
            seen: SeenIds::default(),
            stamps: Stamps::default(),
            last: None,
            next_sweep: None,
            user: String::new(),
            aliases: Default::default(),
        }
    }

    /// How it prices.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// What it looks prices up in.
    pub fn pricebook(&self) -> &Arc<Pricebook> {
        &self.book
    }

    /// Makes the business-scoped user id `bsuid` and the phone number `phone` one person from
    /// now on (docs/rules.md §12): events of either id share one window and one pair state.
    /// An `--aliases` file, a webhook's `contacts[]` or an event's [`Event::bsuid`] link them.
    pub fn link(&mut self, phone: &str, bsuid: &str) -> Result<(), Error> {
        let mut digits = String::new();
        let phone = normalize_user(phone, &mut digits);
        if number_key(phone).is_none() {
            return Err(Problem::column("phone", "not a phone number", phone).into());
        }
        let bsuid = trim(bsuid);
        if bsuid_country(bsuid).is_none() {
            return Err(Problem::column("bsuid", "not a business-scoped user id (CC.…)", bsuid).into());
        }
        self.aliases.insert(bsuid.into(), phone.into());
        Ok(())
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
            names: Arc::new(AccountNames {
                business: name.into(),
                waba: account.waba.as_str().into(),
                portfolio: account.portfolio.as_str().into(),
                book: self.book.clone(),
            }),
            waba_id: self.wabas.number(&account.waba),
            portfolio_id: self.portfolios.number(&account.portfolio),
            prices: self.book.currency_slot(account.currency),
            account,
            pairs: Pairs::default(),
            today: None,
            line: None,
        };
        self.businesses.push(business);
        let i = self.by_name.number(name);
        debug_assert_eq!(i as usize + 1, self.businesses.len(), "numbered as they are added");
        i
    }

    /// Prices one event. On error nothing changes: the event may be skipped and the next pushed.
    ///
    /// The line is the engine's, reused for the next event of the same business number, as the
    /// csv crate reuses a record: a loop that reads each line and moves on touches no
    /// allocation and no reference count. To keep a line, clone it (its names are shared, not
    /// copied).
    pub fn push(&mut self, ev: &Event) -> Result<&PricedLine, Error> {
        // The market is found while pricing: finding it ahead pays only on another thread.
        let keys = Keys::of(ev, &self.book.markets, None);
        let names = || [ev.business, ev.user];
        self.push_keyed(&Facts::of(ev), keys, None, names, || Extras::of(ev)).map_err(Error::from)
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
    /// its id is known by its key; `extras` gives its [`Extras`], asked for only when it has
    /// some. The priced line is the business's, reused (see [`PricedLine::begin`]).
    pub(crate) fn push_keyed<'s>(
        &mut self,
        ev: &Facts,
        keys: Keys,
        business: Option<u32>,
        names: impl Fn() -> [&'s str; 2],
        extras: impl Fn() -> Extras<'s>,
    ) -> Result<&PricedLine, Problem> {
        let now = self.in_order(ev.timestamp)?;
        check_event(ev)?;
        let extra = if ev.extras { extras() } else { Extras::default() };
        let bi = match business {
            Some(bi) => bi,
            None => self.business_named(names()[0])?,
        };
        let Engine { book, options, businesses, counters, seen, user: buf, aliases, .. } = self;
        let biz = &mut businesses[bi as usize];
        let day = biz.day(now, options);
        let who = user_key(&keys, &names, buf)?;
        let Person { who, place, absorb } = match who {
            UserKey::Number(_) if !ev.extras => Person { who, place: who, absorb: None },
            _ => identify(ev, who, extra.bsuid, aliases, &biz.pairs, &names)?,
        };
        let (country, market) = locate(book, ev, place, &keys, day.rate_date, &names)?;
        let currency = biz.account.currency;
        let line = PricedLine::begin(&mut biz.line, ev, &day, &biz.names, currency, market, country);

        let Some(new_id) = dedup(seen, &keys, now, options) else {
            if options.explain {
                line.why = Why::default();
            }
            self.last = Some(now);
            return Ok(self.line_of(bi)); // a duplicate: priced as such, and nothing else changes
        };
        // The windows of a group are its members' (docs/rules.md §12).
        let pair_key = extra.group.map(trim).map_or(who, UserKey::Group);
        let (mut pair, spot) = biz.pairs.get(&pair_key);
        if let Some(other) = &absorb {
            pair.absorb(other);
        }
        let scope = Scope { waba: biz.waba_id, business: bi, portfolio: biz.portfolio_id, month: day.month };
        let verdict = common_checks(ev, &mut pair, now).unwrap_or_else(|| {
            let mt = Mt { at: now, kind: ev.kind, local_date: day.date, csw_open: pair.csw_open(now) };
            Some(day.rules.rules().price(&mt, &mut pair, &counters.context(options, scope)))
        });
        let verdict = verdict.map(|v| if extra.group.is_some() { v.in_group() } else { v });
        let at = (biz.prices, market, country);
        let tier_use = price(book, &biz.account, counters, scope, &day, at, (verdict, ev.duration), line)?;
        if let Some(cost) = extra.cost {
            charge_observed(line, cost)?;
        }
        if verdict.is_some_and(|v| v.category == PricingCategory::Authentication)
            && line.pricing_category == Some(PricingCategory::AuthenticationInternational)
        {
            // A conversation it opened covers its lines at that category (docs/rules.md §4).
            pair.opened_international(now);
        }
        if options.explain {
            let uses = verdict.and_then(|v| v.uses);
            let category = line.pricing_category;
            let facts = Explained { bi, pair: &pair, key: &pair_key, now, tier_use, uses, category };
            line.why = facts.why(counters, options, scope);
        }

        // Commit: the line is priced.
        counters.commit(tier_use, verdict.and_then(|v| v.uses), scope);
        if pair.changed() {
            biz.pairs.set(&pair_key, spot, pair, now, options.evict_expired);
        }
        if let Some((id, spot)) = new_id {
            seen.insert(spot, now, id, options.dedup_window);
        }
        self.last = Some(now);
        self.sweep(now);
        Ok(self.line_of(bi))
    }

    /// The line of business `bi`'s latest event.
    fn line_of(&self, bi: u32) -> &PricedLine {
        self.businesses[bi as usize].line.as_ref().expect("a priced business has its line")
    }

    /// The event's instant as a stamp, if it is not earlier than the event before.
    fn in_order(&mut self, t: DateTime<Utc>) -> Result<Stamp, Problem> {
        let now = self.stamps.of(t);
        let earlier = |last: Stamp| match now {
            Some(now) => now < last,
            None => t < last.time(),
        };
        if let Some(last) = self.last.filter(|&last| earlier(last)) {
            return Err(Problem::column(
                "timestamp",
                format!("earlier than the event before, {}", rfc3339(last.time())),
                rfc3339(t),
            ));
        }
        now.ok_or_else(|| Problem::column("timestamp", "outside the years 1677 to 2262", rfc3339(t)))
    }

    /// The index of the business `name`, which must not be empty.
    fn business_named(&mut self, name: &str) -> Result<u32, Problem> {
        match trim(name) {
            "" => Err(Problem::column("business", "must not be empty", name)),
            trimmed => Ok(self.business_index(trimmed)),
        }
    }
}

/// What an event must be whatever the rules: an MO has no category, a message no duration.
fn check_event(ev: &Facts) -> Result<(), Problem> {
    if ev.kind != Kind::Call && ev.duration != 0 {
        return Err(not_a_call(ev.duration));
    }
    if ev.direction == Direction::Mo && !matches!(ev.kind, Kind::NonTemplate | Kind::Call) {
        let category = ev.kind.pricing_category().to_string();
        return Err(Problem::column("category", "must be empty for an MO", category));
    }
    Ok(())
}

/// The user as a key of its business's pairs: a number by its key (its text is not read
/// again), any other id normalised.
fn user_key<'u, 's>(
    keys: &Keys,
    names: &impl Fn() -> [&'s str; 2],
    buf: &'u mut String,
) -> Result<UserKey<'u>, Problem>
where
    's: 'u,
{
    match keys.user() {
        Some(n) => Ok(UserKey::Number(n)),
        None => match normalize_user(names()[1], buf) {
            "" => Err(Problem::column("user", "must not be empty", names()[1])),
            user => Ok(UserKey::Id(user)),
        },
    }
}

/// The recipient's country and market on the day whose markets apply: from the event's
/// country, else from the number's prefix (found ahead when it could not change that day).
fn locate<'s>(
    book: &Pricebook,
    ev: &Facts,
    who: UserKey,
    keys: &Keys,
    rate_date: NaiveDate,
    names: &impl Fn() -> [&'s str; 2],
) -> Result<(Option<Country>, MarketId), Problem> {
    Ok(match (ev.country, who) {
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
        // A business-scoped user id: its country is its prefix (docs/rules.md §2).
        (None, UserKey::Id(user)) if bsuid_country(user).is_some() => {
            let c = bsuid_country(user).expect("just checked");
            (Some(c), book.markets.of_country(c, rate_date))
        }
        (None, UserKey::Id(_) | UserKey::Group(_)) => {
            return Err(Problem::column("user", "not a phone number and no country given", names()[1]));
        }
    })
}

/// A new message id and where it will be recorded (`Some(None)` for an event without an id),
/// or `None` for a repeat within the dedup window.
#[allow(clippy::option_option)]
#[inline(always)]
fn dedup(seen: &SeenIds, keys: &Keys, now: Stamp, options: &Options) -> Option<Option<(u64, Spot)>> {
    match keys.id() {
        None => Some(None),
        Some(id) => seen.unseen(id, now, options.dedup_window).map(|spot| Some((id, spot))),
    }
}

/// Who an event's user is: the key of their pair state, the id their market is found by (a
/// business-scoped id's linked number), and the state their other id held until linked now.
struct Person<'u> {
    who: UserKey<'u>,
    place: UserKey<'u>,
    absorb: Option<PairState>,
}

/// The person of an event whose user is not a plain number or that names a business-scoped
/// id: one person under a phone number and a business-scoped id (docs/rules.md §12).
#[inline(never)]
fn identify<'u, 's>(
    ev: &Facts,
    who: UserKey<'u>,
    bsuid: Option<&str>,
    aliases: &'u mut foldhash::HashMap<Box<str>, Box<str>>,
    pairs: &Pairs,
    names: &impl Fn() -> [&'s str; 2],
) -> Result<Person<'u>, Problem> {
    let mut absorb = None;
    if let (Some(bsuid), UserKey::Number(_)) = (bsuid.map(trim), who) {
        if !aliases.contains_key(bsuid) && bsuid_country(bsuid).is_some() {
            let mut digits = String::new();
            aliases.insert(bsuid.into(), normalize_user(names()[1], &mut digits).into());
            absorb = Some(pairs.get(&UserKey::Id(bsuid)).0);
        }
    }
    let UserKey::Id(id) = who else { return Ok(Person { who, place: who, absorb }) };
    match aliases.get(id) {
        Some(phone) => {
            let number = UserKey::Number(number_key(phone).expect("a linked number"));
            Ok(Person { who: number, place: UserKey::Id(phone), absorb })
        }
        None if bsuid_country(id).is_some() && refused_to_bsuid(ev) => Err(Problem::column(
            "user",
            "an authentication template delivered to a business-scoped user id (Meta sends them only to phone numbers)",
            id,
        )),
        None => Ok(Person { who, place: who, absorb }),
    }
}

/// The verdict on a call, whatever the era (docs/rules.md §12): the user's call, answered or
/// not, and the user's accepting a business's call open or refresh the window.
#[cold]
fn call_verdict(ev: &Facts, pair: &mut PairState, now: Stamp) -> Verdict {
    let answered = ev.status.is_delivered() && ev.duration > 0;
    if ev.direction == Direction::Mo || answered {
        pair.mo(now, false);
    }
    let call = PricingCategory::Call;
    match (ev.direction, answered) {
        (Direction::Mo, _) => Verdict::free(PricingType::Inbound, call),
        (Direction::Mt, false) => Verdict::free(PricingType::Undelivered, call),
        (Direction::Mt, true) => Verdict::regular(call, Rate { category: RateCategory::Call, tiered: true }),
    }
}

#[cold]
fn not_a_call(duration: u32) -> Problem {
    Problem::column("duration", "only a call has a duration", duration.to_string())
}

/// What a priced line's facts (docs/rules.md §13) are read from, before the line is committed.
struct Explained<'p> {
    bi: u32,
    pair: &'p PairState,
    key: &'p UserKey<'p>,
    now: Stamp,
    tier_use: Option<(TierKey, u64)>,
    uses: Option<crate::rules::Allowance>,
    /// The line's category: the covering conversation's.
    category: Option<PricingCategory>,
}

impl Explained<'_> {
    #[inline(never)]
    fn why(&self, counters: &Counters, options: &Options, scope: Scope) -> Why {
        let Explained { bi, pair, key, now, tier_use, uses, category } = *self;
        let pair_id = match *key {
            UserKey::Number(n) => n,
            UserKey::Id(id) => SeenIds::fingerprint(id),
            UserKey::Group(id) => SeenIds::fingerprint(id).rotate_left(1),
        };
        let windows = pair.windows();
        let call = tier_use.is_some_and(|(key, _)| key.family == RateCategory::Call);
        let position = tier_use.map(|(key, units)| {
            let k = counters.next_in(key, units);
            if call {
                k.div_ceil(PULSES_A_MINUTE)
            } else {
                k
            }
        });
        let limit = |a| match a {
            crate::rules::Allowance::Conversations => options.free_conversations,
            crate::rules::Allowance::ServiceMessages => options.service_allowance,
        };
        Why {
            pair: pair_id ^ u64::from(bi).rotate_left(40),
            window_opened: windows.last_mo.filter(|_| pair.csw_open(now)).map(|t| t.time()),
            free_until: windows.fep_until.filter(|_| pair.fep_open(now)).map(|t| t.time()),
            conversation_opened: (pair.open_conversations(now))
                .find(|c| Some(c.category) == category)
                .map(|c| c.opened.time()),
            tier_position: position,
            pulses: tier_use.filter(|_| call).map(|(_, units)| units),
            allowance: uses.map(|a| (counters.used(a, scope) + 1, limit(a))),
        }
    }
}

/// Whether Meta refuses to send this event to a business-scoped user id: a delivered
/// authentication template (docs/rules.md §12).
fn refused_to_bsuid(ev: &Facts) -> bool {
    ev.direction == Direction::Mt
        && ev.kind == Kind::Template(Category::Authentication)
        && ev.status.is_delivered()
}

/// The checks before the rule set's own (docs/rules.md §4): an MO is inbound (and reopens the
/// window), an MT not delivered is undelivered, a delivered non-template outside the window
/// is a violation; a call is priced whatever the era (docs/rules.md §12). `None` when the
/// rule set decides.
fn common_checks(ev: &Facts, pair: &mut PairState, now: Stamp) -> Option<Option<Verdict>> {
    if ev.kind == Kind::Call {
        return Some(Some(call_verdict(ev, pair, now)));
    }
    if ev.direction == Direction::Mo {
        pair.mo(now, ev.entry_point);
        Some(None)
    } else if !ev.status.is_delivered() {
        Some(Some(Verdict::free(PricingType::Undelivered, ev.kind.pricing_category())))
    } else if ev.kind == Kind::NonTemplate && !pair.csw_open(now) {
        Some(Some(Verdict::free(PricingType::Violation, PricingCategory::Service)))
    } else {
        None
    }
}

/// Writes the verdict and its price on the line: the rate of the card in force (at the
/// authentication-international rate where docs/rules.md §6 says so), at the band of the
/// month's counter when tiered. Returns the tier counter to count the message in.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn price(
    book: &Pricebook,
    account: &Account,
    counters: &Counters,
    scope: Scope,
    day: &Day,
    (prices, market, country): (Option<u16>, MarketId, Option<Country>),
    (verdict, seconds): (Option<Verdict>, u32),
    line: &mut PricedLine,
) -> Result<Option<(TierKey, u64)>, Problem> {
    let Some(v) = verdict else {
        line.pricing_type = PricingType::Inbound;
        return Ok(None);
    };
    line.pricing_type = v.pricing_type;
    line.pricing_category = Some(v.category);
    line.pricing_model = v.model.unwrap_or(line.pricing_model);
    let Some(rate) = v.rate else { return Ok(None) };
    let (currency, date) = (account.currency, day.rate_date);
    let mut category = rate.category;
    if category == RateCategory::Authentication
        && auth_intl(account, country, line.timestamp, day.date)
        && book.price_in(prices, market, RateCategory::AuthenticationInternational, date).is_some()
    {
        category = RateCategory::AuthenticationInternational;
        line.pricing_category = Some(PricingCategory::AuthenticationInternational);
    }
    let name = || book.markets.name(market);
    let price = book.price_in(prices, market, category, date).ok_or_else(|| {
        let why = if prices.is_some() { "" } else { ": the rate card has no price in that currency" };
        Problem::new(format!("no rate for {currency} {} {category} on {date}{why}", name()))
    })?;
    // A call pays its six-second pulses at a tenth of the per-minute rate, and counts them in
    // its tier counter; its band is the one of the minute it ends in (docs/rules.md §12).
    let call = category == RateCategory::Call;
    let units = if call { u64::from(seconds.div_ceil(CALL_PULSE)) } else { 1 };
    let mut tier_use = None;
    let (r, tier) = if rate.tiered {
        let key =
            TierKey { portfolio: scope.portfolio, market, family: category.family(), month: scope.month };
        let k = counters.next_in(key, units);
        let k = if call { k.div_ceil(PULSES_A_MINUTE) } else { k };
        tier_use = Some((key, units));
        let what = if call { "minute" } else { "message" };
        price.for_message(k).ok_or_else(|| {
            Problem::new(format!(
                "no tier band of {currency} {} {category} on {date} holds {what} {k} of {}",
                name(),
                scope.month
            ))
        })?
    } else {
        // Outside the volume-tier rules: the first band, and no tier (docs/rules.md §7).
        (price.first(), None)
    };
    line.rate = Some(r);
    line.rate_verified = Some(price.verified());
    line.tier = tier;
    line.charge = if call { pulses_charge(r, units) } else { r };
    Ok(tier_use)
}

/// What `pulses` pulses cost at the per-minute rate `rate`.
#[cold]
fn pulses_charge(rate: Decimal, pulses: u64) -> Decimal {
    rate * Decimal::from(pulses) / Decimal::from(PULSES_A_MINUTE)
}

/// A call is charged by pulses of this many seconds, a fraction rounding up.
pub const CALL_PULSE: u32 = 6;
const PULSES_A_MINUTE: u64 = 60 / CALL_PULSE as u64;

/// A Marketing Messages API delivery that Meta says it charged `cost` (a maximum price): that
/// amount is its charge, not the list rate (docs/rules.md §12). Other lines keep theirs.
#[cold]
fn charge_observed(line: &mut PricedLine, cost: Cost) -> Result<(), Problem> {
    let observed = line.pricing_type == PricingType::Regular
        && line.pricing_category.is_some_and(|c| c.one_to_one() == PricingCategory::MarketingLite);
    if !observed {
        return Ok(());
    }
    if let Some(other) = cost.currency.filter(|&c| c != line.currency) {
        return Err(Problem::column(
            "cost",
            format!("in {other}, but the WABA is billed in {}", line.currency),
            cost.amount.to_string(),
        ));
    }
    line.rate = None;
    line.rate_verified = None;
    line.charge = cost.amount;
    Ok(())
}

impl Engine {
    /// Once a day of log time, drops the pairs whose windows have all closed: their state
    /// behaves exactly like no state, and timestamps only move forward. (Between sweeps, a new
    /// pair may take the slot of such a pair.)
    #[inline(always)]
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
    type Item = Result<PricedLine, Error>;
    fn next(&mut self) -> Option<Self::Item> {
        self.events.next().map(|ev| self.engine.push(&ev).cloned())
    }
}
