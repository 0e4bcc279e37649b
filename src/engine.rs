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
//! State: per (business, user) pair, the windows of [`crate::window`]; per portfolio, market,
//! tier family and local month, the volume-tier counters; per WABA or business and month, the
//! free allowances; and the ids seen, for duplicates. A push that fails changes nothing.

use foldhash::{HashMap, HashMapExt};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, TimeDelta, TimeZone, Utc};
use rust_decimal::Decimal;

use crate::account::{Account, Accounts};
use crate::error::Problem;
use crate::event::{Direction, Event, Kind, Month, PricingCategory, PricingModel, PricingType, Status};
use crate::market::{MarketId, Markets};
use crate::money::{Country, Currency};
use crate::ratecard::{in_force, Price, RateCard, RateCategory, Tier};
use crate::rules::{Allowance, Context, Mt, RuleChoice, RuleSet, Verdict};
use crate::seen::SeenIds;
use crate::window::{number_key, Pairs, Stamp, Stamps, UserKey, DAY};

/// Everything prices are looked up in: markets, the rate card, accounts. Immutable, shared.
#[derive(Debug)]
pub struct Pricebook {
    markets: Markets,
    accounts: Accounts,
    /// Per currency (a book has few), the dated prices of each market and rate category, at
    /// [`Pricebook::slot`]: a lookup is two indexings, no hashing.
    prices: Vec<(Currency, Vec<Dated>)>,
}

/// A market and rate category's prices, by the date they take effect.
type Dated = Vec<(NaiveDate, Price)>;

impl Pricebook {
    pub fn new(markets: Markets, card: &RateCard, accounts: Accounts) -> Pricebook {
        let mut markets = markets;
        let mut prices: Vec<(Currency, Vec<Dated>)> = Vec::new();
        for ((currency, market, category), dated) in card.entries() {
            let slot = Pricebook::slot(markets.intern(market), *category);
            let table = match prices.iter().position(|(c, _)| c == currency) {
                Some(i) => &mut prices[i].1,
                None => {
                    prices.push((*currency, Vec::new()));
                    &mut prices.last_mut().expect("just pushed").1
                }
            };
            if table.len() <= slot {
                table.resize(slot + 1, Vec::new());
            }
            table[slot] = dated.clone();
        }
        Pricebook { markets, accounts, prices }
    }

    /// Where the prices of a market and rate category are in a currency's table.
    fn slot(market: MarketId, category: RateCategory) -> usize {
        // A fieldless enum: its discriminant is its place in `ALL`.
        usize::from(market.0) * RateCategory::ALL.len() + category as usize
    }

    /// The embedded markets table and rate card, with these accounts.
    pub fn embedded(accounts: Accounts) -> Pricebook {
        Pricebook::new(Markets::embedded(), &RateCard::embedded(), accounts)
    }

    pub fn markets(&self) -> &Markets {
        &self.markets
    }

    fn price(
        &self,
        currency: Currency,
        market: MarketId,
        category: RateCategory,
        date: NaiveDate,
    ) -> Option<&Price> {
        let (_, table) = self.prices.iter().find(|(c, _)| *c == currency)?;
        in_force(table.get(Pricebook::slot(market, category))?, date)
    }
}

/// How an engine prices: which rules, which card date, the allowances that are parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// `auto` (the rule set of each event's local date) or one rule set for every event.
    pub rules: RuleChoice,
    /// Price every event with the rate card (and markets table) in force on this local date.
    pub rates_date: Option<NaiveDate>,
    /// pmp-2026: free non-template messages per business phone number per local month.
    pub service_allowance: u64,
    /// cbp: free conversations per WABA per local month.
    pub free_conversations: u64,
    /// How long a message id is remembered: a row repeating an id seen less than this long
    /// before is a duplicate. Meta retries a webhook for up to 7 days, the default.
    pub dedup_window: TimeDelta,
    /// Drop the state of pairs whose windows have all closed (prices are the same either way;
    /// `false` keeps every pair, for checking exactly that).
    pub evict_expired: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            rules: RuleChoice::Auto,
            rates_date: None,
            service_allowance: 1000,
            free_conversations: 1000,
            dedup_window: TimeDelta::days(7),
            evict_expired: true,
        }
    }
}

/// A business number's name and those of its WABA and portfolio, shared by its lines: one
/// copy for the life of the process (see [`AccountNames::of`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AccountNames {
    pub business: &'static str,
    pub waba: &'static str,
    pub portfolio: &'static str,
}

impl AccountNames {
    /// The one copy of these names: equal names are one address, kept for the life of the
    /// process (a line holds them without a reference count).
    pub fn of(business: &str, waba: &str, portfolio: &str) -> &'static AccountNames {
        static KEPT: crate::intern::Kept<AccountNames> = std::sync::OnceLock::new();
        let names = AccountNames {
            business: crate::intern::name(business),
            waba: crate::intern::name(waba),
            portfolio: crate::intern::name(portfolio),
        };
        crate::intern::value(&KEPT, &names)
    }
}

/// One priced message: why it costs what it costs (SPEC §7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricedLine {
    pub timestamp: DateTime<Utc>,
    /// The local date in the WABA's time zone.
    pub local_date: NaiveDate,
    /// The business, its WABA and its portfolio (one shared value per business).
    pub account: &'static AccountNames,
    pub direction: Direction,
    pub rules: RuleSet,
    pub pricing_model: PricingModel,
    pub pricing_type: PricingType,
    /// Empty for `inbound` and `duplicate`.
    pub pricing_category: Option<PricingCategory>,
    pub market: &'static str,
    pub country: Option<Country>,
    /// The volume tier, when the price came from tier rows.
    pub tier: Option<Tier>,
    /// The rate, on `regular` lines.
    pub rate: Option<Decimal>,
    /// The Meta fee of this line, exact; zero when free.
    pub charge: Decimal,
    pub currency: Currency,
}

impl PricedLine {
    /// A line to be overwritten by [`Engine::push_keyed`]: it means nothing.
    pub(crate) fn blank() -> PricedLine {
        static NO_NAMES: AccountNames = AccountNames { business: "", waba: "", portfolio: "" };
        PricedLine {
            timestamp: DateTime::<Utc>::MIN_UTC,
            local_date: NaiveDate::MIN,
            account: &NO_NAMES,
            direction: Direction::Mo,
            rules: RuleSet::Nbp,
            pricing_model: PricingModel::Nbp,
            pricing_type: PricingType::Duplicate,
            pricing_category: None,
            market: "",
            country: None,
            tier: None,
            rate: None,
            charge: Decimal::ZERO,
            currency: Currency::NONE,
        }
    }

    /// The local month of the line (its WABA's time zone).
    pub fn month(&self) -> Month {
        Month::of(self.local_date)
    }

    pub fn business(&self) -> &str {
        self.account.business
    }

    pub fn waba(&self) -> &str {
        self.account.waba
    }

    pub fn portfolio(&self) -> &str {
        self.account.portfolio
    }
}

/// What the engine keys an event on, computed from the event and the markets table alone: a
/// loop may compute them ahead, on another thread.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Keys {
    /// The user's [`number_key`], when it is a number; else 0 (never a key).
    user: u64,
    /// The fingerprint of the message id, when there is one; else 0 (never a fingerprint).
    id: u64,
    /// When the user is a number and the event names no country: the number's longest prefix
    /// with rows in the markets table ([`Markets::prefix_of`]).
    prefix: u32,
    /// The country and market of that prefix ([`Keys::market`]) when they are the same on
    /// every local date the event may fall on, packed: the market's id plus one, then the
    /// country's code (0 for none); 0 when not known.
    market: u32,
}

/// An event less its strings: what pricing reads of every event (its business and user are
/// read only when the keys and the business's index do not stand for them, see
/// [`Engine::push_keyed`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Facts {
    pub(crate) timestamp: DateTime<Utc>,
    pub(crate) direction: Direction,
    pub(crate) kind: Kind,
    pub(crate) status: Status,
    pub(crate) entry_point: bool,
    pub(crate) country: Option<Country>,
}

impl Facts {
    pub(crate) fn of(ev: &Event) -> Facts {
        let Event { timestamp, direction, kind, status, entry_point, country, .. } = *ev;
        Facts { timestamp, direction, kind, status, entry_point, country }
    }

    /// The event of these facts and strings.
    pub(crate) fn event<'a>(&self, business: &'a str, user: &'a str, id: Option<&'a str>) -> Event<'a> {
        let Facts { timestamp, direction, kind, status, entry_point, country } = *self;
        Event { timestamp, business, user, direction, kind, status, entry_point, id, country }
    }
}

impl Keys {
    /// The keys of `ev` with the engine's `markets`. With `dates`, [`Keys::dates`] of its
    /// timestamp, a number's market is found too when it cannot change between them;
    /// without, the engine finds it.
    pub(crate) fn of(ev: &Event, markets: &Markets, dates: Option<(NaiveDate, NaiveDate)>) -> Keys {
        let id = ev.id.map(trim).filter(|id| !id.is_empty());
        let user = number_key(ev.user).unwrap_or(0);
        let (mut prefix, mut market) = (0, 0);
        if user != 0 && ev.country.is_none() {
            prefix = markets.prefix_of(trim(ev.user));
            let found = dates.and_then(|(first, last)| markets.of_prefix_from(prefix, first, last));
            if let Some((country, MarketId(m))) = found.filter(|(_, MarketId(m))| *m < u16::MAX) {
                market = (u32::from(m) + 1) << 16 | u32::from(country.map_or(0, |c| c.as_u16()));
            }
        }
        Keys { user, id: id.map_or(0, SeenIds::fingerprint), prefix, market }
    }

    /// The first and last dates whose rate card and markets may price an event at `t`: its
    /// local date, within a day of its UTC date in any zone, unless the engine prices every
    /// event on its `rates_date`.
    pub(crate) fn dates(t: DateTime<Utc>, rates_date: Option<NaiveDate>) -> Option<(NaiveDate, NaiveDate)> {
        let utc = t.naive_utc().date();
        match rates_date {
            Some(d) => Some((d, d)),
            None => utc.pred_opt().zip(utc.succ_opt()),
        }
    }

    /// The country and market of a number user's prefix, when they were found ahead.
    fn market(&self) -> Option<(Option<Country>, MarketId)> {
        let (m, c) = ((self.market >> 16) as u16, self.market as u16);
        let country = (c != 0).then(|| Country::from_u16(c));
        m.checked_sub(1).map(|m| (country, MarketId(m)))
    }

    fn user(&self) -> Option<u64> {
        Some(self.user).filter(|&n| n != 0)
    }

    fn id(&self) -> Option<u64> {
        Some(self.id).filter(|&id| id != 0)
    }
}

struct Business {
    names: &'static AccountNames,
    waba_id: u32,
    portfolio_id: u32,
    account: Account,
    pairs: Pairs,
    /// The local day of the latest event, kept: events come in order, and most fall on the
    /// day of the one before.
    today: Option<Day>,
}

/// A local day of a WABA, and what follows from it.
#[derive(Debug, Clone, Copy)]
struct Day {
    /// Its first instant, and the next day's.
    start: Stamp,
    end: Stamp,
    date: NaiveDate,
    month: Month,
    rules: RuleSet,
    /// The date whose rate card and markets apply.
    rate_date: NaiveDate,
}

impl Business {
    /// The local day of `now` in the WABA's zone.
    fn day(&mut self, now: Stamp, options: &Options) -> Day {
        if let Some(day) = self.today.filter(|d| d.start <= now && now < d.end) {
            return day;
        }
        let t = now.time();
        let zone = self.account.timezone;
        let date = t.with_timezone(&zone).date_naive();
        let first = |d: NaiveDate| {
            d.and_hms_opt(0, 0, 0)
                .and_then(|m| zone.from_local_datetime(&m).earliest())
                .and_then(|m| Stamp::of(m.to_utc()))
        };
        let day = |start, end| Day {
            start,
            end,
            date,
            month: Month::of(date),
            rules: options.rules.for_date(date),
            rate_date: options.rates_date.unwrap_or(date),
        };
        // A day whose midnight is skipped by a clock change is not kept: each event computes it.
        match (first(date), date.succ_opt().and_then(first)) {
            (Some(start), Some(end)) if start <= now && now < end => {
                let kept = day(start, end);
                self.today = Some(kept);
                kept
            }
            _ => {
                self.today = None;
                day(now, now)
            }
        }
    }
}

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

/// Names numbered from 0 in order of first appearance. A name of up to 15 bytes (most) is
/// found by its bytes packed in two words ([`Packed`]), in a table of its own: one multiply
/// to hash them, a comparison of two words a probe (a third of the instructions of a general
/// map's lookup). A longer name, by a map of strings.
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
    #[inline]
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

/// `s` without surrounding whitespace; the common cases (none, or an empty field) without a
/// char scan: a field that starts and ends with a visible ASCII character is kept whole.
pub(crate) fn trim(s: &str) -> &str {
    let visible = |b: Option<&u8>| b.is_some_and(|&b| (b'!'..=b'~').contains(&b));
    if s.is_empty() || visible(s.as_bytes().first()) && visible(s.as_bytes().last()) {
        s
    } else {
        s.trim()
    }
}

/// The user id as a key: `+`, spaces and `-` removed.
pub(crate) fn normalize_user<'a>(user: &'a str, buf: &'a mut String) -> &'a str {
    let user = trim(user);
    if !user.bytes().any(|b| matches!(b, b'+' | b' ' | b'-')) {
        return user;
    }
    buf.clear();
    buf.extend(user.chars().filter(|c| !matches!(c, '+' | ' ' | '-')));
    buf
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
                format!("earlier than the event before, {}", crate::csvlog::rfc3339(last.time())),
                crate::csvlog::rfc3339(t),
            ));
        }
        let now = now.ok_or_else(|| {
            Problem::column("timestamp", "outside the years 1677 to 2262", crate::csvlog::rfc3339(t))
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

/// Whether an authentication template pays the authentication-international rate (SPEC §6),
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

/// A small pricebook and helpers for the rules' unit tests.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;
    use crate::event::{Category, Event, Kind, Status};

    pub(crate) const MARKETS: &str = "effective_from,prefix,country,market\n\
        2000-01-01,33,FR,France\n\
        2000-01-01,91,IN,India\n\
        2000-01-01,62,ID,Indonesia\n\
        2000-01-01,1,US,North America\n";

    /// India authentication in tiers of 2 messages: 0.0014, then 0.0012, then 0.0010.
    pub(crate) const RATES: &str = "effective_from,currency,market,category,rate,tier_from,tier_to\n\
        2018-01-01,USD,France,template,0.0500,,\n\
        2022-02-01,USD,France,user_initiated,0.0859,,\n\
        2022-02-01,USD,France,business_initiated,0.1432,,\n\
        2023-06-01,USD,France,marketing,0.1432,,\n\
        2023-06-01,USD,France,utility,0.0768,,\n\
        2023-06-01,USD,France,authentication,0.0691,,\n\
        2023-06-01,USD,France,service,0.0859,,\n\
        2025-07-01,USD,France,marketing,0.0859,,\n\
        2025-07-01,USD,France,utility,0.0300,,\n\
        2025-07-01,USD,France,authentication,0.0300,,\n\
        2026-10-01,USD,France,service,0.0300,,\n\
        2025-07-01,USD,India,marketing,0.0107,,\n\
        2025-07-01,USD,India,utility,0.0014,,\n\
        2025-07-01,USD,India,authentication,0.0014,1,2\n\
        2025-07-01,USD,India,authentication,0.0012,3,4\n\
        2025-07-01,USD,India,authentication,0.0010,5,\n\
        2025-07-01,USD,Indonesia,authentication,0.0250,,\n\
        2025-07-01,USD,Indonesia,authentication_international,0.1360,,\n\
        2025-07-01,USD,North America,marketing,0.0250,,\n";

    pub(crate) const FR: &str = "33612345678";
    pub(crate) const IN: &str = "919876543210";
    pub(crate) const ID: &str = "6281234567890";

    /// 2025-09-10T00:00:00Z, a day inside pmp-2025, plus `h` hours and `s` seconds.
    pub(crate) fn at(h: i64, s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_757_462_400 + h * 3600 + s, 0).expect("in range")
    }

    pub(crate) fn engine_with(accounts: &str, options: Options) -> Engine {
        let markets = Markets::from_csv(MARKETS.as_bytes(), "markets.csv").expect("valid");
        let card = RateCard::from_csv(RATES.as_bytes(), "rates.csv").expect("valid");
        let accounts = Accounts::from_csv(accounts.as_bytes(), "accounts.csv").expect("valid");
        Engine::new(Pricebook::new(markets, &card, accounts).into(), options)
    }

    impl Engine {
        /// The live state, for checking that a failed push changed nothing.
        pub(crate) fn debug_state(&self) -> String {
            let pairs: Vec<_> = self.businesses.iter().map(|b| format!("{:?}", b.pairs)).collect();
            format!("{:?} {:?} {:?} {:?} {pairs:?}", self.tiers, self.allowances, self.seen, self.last)
        }
    }

    /// SPEC §2, `user`: E.164 digits with `+`, spaces and `-` ignored, or an opaque id when
    /// `country` is given; a number's market comes from its calling code, an id's from its
    /// country.
    #[test]
    fn a_user_is_a_number_or_an_id_with_a_country() {
        let mut e = engine();
        let market = |e: &mut Engine, user: &str, country: Option<&str>| {
            let ev = Event::mo(at(0, 0), "B", user);
            let ev = match country {
                Some(c) => ev.with_country(c.parse().unwrap()),
                None => ev,
            };
            e.push(&ev).map(|line| line.market).map_err(|p| p.to_string())
        };
        assert_eq!(market(&mut e, FR, None), Ok("France"));
        assert_eq!(market(&mut e, " +33 6-12 34 56 78 ", None), Ok("France"));
        assert_eq!(market(&mut e, "hash:0a1b", Some("FR")), Ok("France"));
        assert_eq!(
            market(&mut e, "hash:0a1b", None),
            Err("column user: not a phone number and no country given (hash:0a1b)".into())
        );
        assert_eq!(market(&mut e, " + - ", None), Err("column user: must not be empty ( + - )".into()));
    }

    #[test]
    fn ids_are_remembered_for_the_dedup_window() {
        let mut l = Log::new(engine());
        let week = chrono::TimeDelta::days(7);
        l.push(Event::mo(at(0, 0), "B", FR).with_id("wamid.1"));
        let again =
            l.push(Event::mo(at(0, 0) + week - chrono::TimeDelta::seconds(1), "B", FR).with_id("wamid.1"));
        assert_eq!(again.pricing_type, PricingType::Duplicate);
        let later = l.push(Event::mo(at(0, 0) + week, "B", FR).with_id("wamid.1"));
        assert_eq!(later.pricing_type, PricingType::Inbound);
    }

    /// SPEC §4, order of the checks, and §7: a repeated id is a duplicate before anything
    /// else, even when its status differs (a failed or read retry of a delivered message is
    /// neither `undelivered` nor priced again), and it changes nothing.
    #[test]
    fn a_repeated_id_is_a_duplicate_whatever_its_status() {
        let mut l = Log::new(engine());
        let first = l.push(Event::mt(at(0, 0), "B", FR, MARKETING).with_id("wamid.1"));
        assert_eq!(first.pricing_type, PricingType::Regular);
        for status in [Status::Failed, Status::Read, Status::Delivered] {
            let again =
                l.push(Event::mt(at(0, 5), "B", FR, MARKETING).with_id("wamid.1").with_status(status));
            assert_eq!(
                (again.pricing_type, again.pricing_category),
                (PricingType::Duplicate, None),
                "{status}"
            );
            assert_eq!(again.charge, Decimal::ZERO);
        }
        // An MO repeated by id opens no window: a reply outside the first one's CSW is still a
        // violation.
        l.push(Event::mo(at(1, 0), "B", FR).with_id("wamid.2"));
        l.push(Event::mo(at(30, 0), "B", FR).with_id("wamid.2"));
        assert_eq!(l.mt(at(30, 1), FR, Kind::NonTemplate).pricing_type, PricingType::Violation);
    }

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

        /// The shortcut for fields that need no trimming agrees with `str::trim`, Unicode
        /// spaces and control characters included.
        #[test]
        fn trim_is_str_trim(s in "[ \t\x01a~\u{a0}\u{3000}é]{0,6}") {
            proptest::prop_assert_eq!(trim(&s), s.trim());
        }
    }

    #[test]
    fn a_rate_categorys_discriminant_is_its_place_in_all() {
        assert!(RateCategory::ALL.iter().enumerate().all(|(i, c)| *c as usize == i));
    }

    #[test]
    fn instants_beyond_what_a_stamp_holds_are_refused() {
        let mut engine = engine();
        let t: DateTime<Utc> = "2262-04-12T00:00:00Z".parse().expect("valid");
        let err = engine.push(&Event::mo(t, "B", FR)).expect_err("refused");
        assert!(err.to_string().contains("outside the years 1677 to 2262"), "{err}");
        assert_eq!(engine.live_pairs(), 0);
    }

    #[test]
    fn pairs_whose_windows_closed_are_dropped() {
        let mut l = Log::new(engine());
        l.entry(at(0, 0), FR);
        l.mt(at(1, 0), FR, Kind::Template(Category::Marketing)); // opens a 72h FEP window
        l.mo(at(2, 0), IN);
        assert_eq!(l.engine.live_pairs(), 2);
        l.mo(at(30, 0), "33600000009"); // the day's sweep: IN's window closed at 26h
        assert_eq!(l.engine.live_pairs(), 2);
        l.mo(at(73, 0), "33600000009"); // FR's FEP window closed at 73h
        assert_eq!(l.engine.live_pairs(), 1);
    }

    pub(crate) fn engine() -> Engine {
        engine_with("business\n", Options::default())
    }

    /// Pushes events for business `B` and returns each line's (type, charge as a string).
    pub(crate) struct Log {
        pub engine: Engine,
    }

    impl Log {
        pub(crate) fn new(engine: Engine) -> Log {
            Log { engine }
        }

        pub(crate) fn push(&mut self, ev: Event) -> PricedLine {
            self.engine.push(&ev).expect("priced")
        }

        pub(crate) fn mo(&mut self, t: DateTime<Utc>, user: &str) -> PricedLine {
            self.push(Event::mo(t, "B", user))
        }

        pub(crate) fn entry(&mut self, t: DateTime<Utc>, user: &str) -> PricedLine {
            self.push(Event::mo(t, "B", user).with_entry_point())
        }

        pub(crate) fn mt(&mut self, t: DateTime<Utc>, user: &str, kind: Kind) -> PricedLine {
            self.push(Event::mt(t, "B", user, kind))
        }

        pub(crate) fn failed(&mut self, t: DateTime<Utc>, user: &str, kind: Kind) -> PricedLine {
            self.push(Event::mt(t, "B", user, kind).with_status(Status::Failed))
        }
    }

    pub(crate) const MARKETING: Kind = Kind::Template(Category::Marketing);
    pub(crate) const UTILITY: Kind = Kind::Template(Category::Utility);
    pub(crate) const AUTH: Kind = Kind::Template(Category::Authentication);
    pub(crate) const TEXT: Kind = Kind::NonTemplate;

    /// A line's pricing type and charge, for compact assertions.
    pub(crate) fn tc(line: &PricedLine) -> (PricingType, String) {
        (line.pricing_type, line.charge.normalize().to_string())
    }
}
