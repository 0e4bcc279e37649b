//! Invoices: an aggregator's [`Tariff`] applied to priced lines (docs/rules.md §8).
//!
//! [`Billing`] takes every priced line (with its event) and keeps, per invoice unit and local
//! month, what the tariff's parts need: the exact Meta fees, each per-message rule's count,
//! each user's counted messages, the businesses, WABAs and portfolios with traffic. Memory
//! follows the customers and their monthly active users, not the lines.
//!
//! [`Billing::invoices`] turns that into invoice lines, each rounded to the tariff currency's
//! minor unit (half away from zero); the total is the sum of the rounded lines. Duplicates never
//! count; every other line counts by its direction and status (a `violation` too).

use std::collections::BTreeMap;

use foldhash::{HashMap, HashSet};
use std::sync::Arc;

use rust_decimal::Decimal;

use crate::billing::tariff::{ActiveWhen, Tariff, Unit, UserPricing};
use crate::domain::error::{Error, Problem};
use crate::domain::event::{named_enum, Direction, Event, Kind, Month, PricingType, Status};
use crate::domain::money::{checked_add, format_fixed, Currency};
use crate::engine::PricedLine;

named_enum! {
    /// The part of a tariff an invoice line comes from.
    pub enum Part ("invoice part") {
        MetaFees = "meta_fees",
        Markup = "markup",
        PerMessage = "per_message",
        PerUser = "per_user",
        Fixed = "fixed",
        Minimum = "minimum",
    }
}

/// One line of an invoice: `amount` is `quantity × unit_price` rounded to the minor unit
/// (Meta fees: their exact sum, rounded; minimum: the top-up).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceLine {
    /// Which part of the tariff the line bills.
    pub part: Part,
    /// Which rule, band or fee, in words.
    pub description: String,
    /// What is counted: messages, users, units, or the fees a markup applies to.
    pub quantity: Decimal,
    /// The price of one, when the line has one.
    pub unit_price: Option<Decimal>,
    /// The amount, rounded to the currency's minor unit.
    pub amount: Decimal,
}

/// One customer's invoice for one local month.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invoice {
    /// The portfolio, WABA or business billed.
    pub unit: Arc<str>,
    /// The local month invoiced.
    pub month: Month,
    /// The tariff's currency.
    pub currency: Currency,
    /// The invoice's lines, in the order of docs/rules.md §8.
    pub lines: Vec<InvoiceLine>,
    /// The sum of the rounded lines.
    pub total: Decimal,
    /// Users with at least one user message or delivered business message in the month.
    pub active_users: u64,
    /// Messages counted (user messages and business messages of any status; no duplicates).
    pub messages: u64,
    /// Delivered business messages.
    pub delivered: u64,
}

/// An invoice's unit and month: owned in the map, borrowed from a line to look it up.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct UnitMonth<S>(S, Month);

impl hashbrown::Equivalent<UnitMonth<Box<str>>> for UnitMonth<&str> {
    fn equivalent(&self, key: &UnitMonth<Box<str>>) -> bool {
        self.0 == &*key.0 && self.1 == key.1
    }
}

impl From<&UnitMonth<&str>> for UnitMonth<Box<str>> {
    fn from(key: &UnitMonth<&str>) -> UnitMonth<Box<str>> {
        UnitMonth(key.0.into(), key.1)
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct UserUse {
    mo: u64,
    /// MTs whose status is in the per-user part's statuses.
    mt: u64,
    /// Delivered MTs.
    delivered: u64,
}

#[derive(Debug, Default)]
struct Usage {
    meta_charge: Decimal,
    meta_lines: u64,
    per_message: Vec<u64>,
    users: HashMap<Box<str>, UserUse>,
    businesses: HashSet<Box<str>>,
    wabas: HashSet<Box<str>>,
    portfolios: HashSet<Box<str>>,
    messages: u64,
    delivered: u64,
}

/// The running bill of one tariff over a log.
#[derive(Debug)]
pub struct Billing {
    tariff: Tariff,
    usage: hashbrown::HashMap<UnitMonth<Box<str>>, Usage, foldhash::fast::RandomState>,
    user: String,
}

impl Billing {
    /// Starts billing `tariff`, checking it first (a tariff built in code gets the checks a
    /// TOML one does).
    pub fn new(tariff: Tariff) -> Result<Billing, Error> {
        tariff.validate().map_err(|p| Error::config(format!("tariff {}: {p}", tariff.name)))?;
        Ok(Billing { tariff, usage: hashbrown::HashMap::default(), user: String::new() })
    }

    /// The tariff this billing applies.
    pub fn tariff(&self) -> &Tariff {
        &self.tariff
    }

    /// Adds one priced line; returns its per-message fee (exact: the sum of the prices of the
    /// rules it matches).
    pub fn add(&mut self, event: &Event, line: &PricedLine) -> Result<Decimal, Error> {
        if line.pricing_type == PricingType::Duplicate {
            return Ok(Decimal::ZERO);
        }
        let t = &self.tariff;
        if t.meta.pass_through && line.currency != t.currency {
            let problem = Problem::key(
                "currency",
                format!(
                    "the tariff is in {} but WABA {}'s Meta fees are in {} (meta.pass_through = true)",
                    t.currency,
                    line.waba(),
                    line.currency
                ),
                "",
            );
            return Err(match &t.currency_at {
                Some(at) => problem.at(at.clone()),
                None => Error::config(format!("tariff {}: {problem}", t.name)),
            });
        }
        let unit = match t.invoice_by {
            Unit::Business => line.business(),
            Unit::Waba => line.waba(),
            Unit::Portfolio => line.portfolio(),
        };
        let usage = self.usage.entry_ref(&UnitMonth(unit, line.month())).or_default();
        usage.meta_charge =
            checked_add(usage.meta_charge, line.charge, &format_args!("the Meta fees of {unit}"))?;
        usage.meta_lines += u64::from(!line.charge.is_zero());
        usage.per_message.resize(t.per_message.len(), 0);
        // A business call not answered was not delivered (docs/rules.md §8).
        let status = match event.kind {
            Kind::Call if event.duration == 0 && event.status.is_delivered() => Status::Failed,
            _ => event.status,
        };
        let mut fee = Decimal::ZERO;
        for (rule, count) in t.per_message.iter().zip(&mut usage.per_message) {
            if rule.matches(event.direction, event.kind, status) {
                *count += 1;
                fee = checked_add(fee, rule.price, &"a line's per-message fee")?;
            }
        }
        let user = crate::domain::user::normalize_user(event.user, &mut self.user);
        let u = match usage.users.get_mut(user) {
            Some(u) => u,
            None => usage.users.entry(user.into()).or_default(),
        };
        let delivered = event.direction == Direction::Mt && status.is_delivered();
        match event.direction {
            Direction::Mo => u.mo += 1,
            Direction::Mt => {
                let statuses =
                    t.per_user.as_ref().map_or(&crate::billing::tariff::DELIVERED[..], |p| &p.statuses);
                u.mt += u64::from(statuses.contains(&status));
                u.delivered += u64::from(delivered);
            }
        }
        for (set, name) in [
            (&mut usage.businesses, line.business()),
            (&mut usage.wabas, line.waba()),
            (&mut usage.portfolios, line.portfolio()),
        ] {
            if !set.contains(name) {
                set.insert(name.into());
            }
        }
        usage.messages += 1;
        usage.delivered += u64::from(delivered);
        Ok(fee)
    }

    /// The invoices, by unit then month.
    pub fn invoices(&self) -> Result<Vec<Invoice>, Error> {
        self.profiles().iter().map(|p| p.invoice(&self.tariff, Decimal::ONE)).collect()
    }

    /// What each invoice's amounts depend on, by unit then month.
    pub fn profiles(&self) -> Vec<Profile> {
        let mut profiles: Vec<Profile> = self.usage.iter().map(|(key, u)| self.profile(key, u)).collect();
        profiles.sort_by(|a, b| (&a.unit, a.month).cmp(&(&b.unit, b.month)));
        profiles
    }

    fn profile(&self, UnitMonth(unit, month): &UnitMonth<Box<str>>, u: &Usage) -> Profile {
        let mut billed: BTreeMap<u64, u64> = BTreeMap::new();
        if let Some(p) = &self.tariff.per_user {
            let active = u.users.values().filter(|x| match p.active_when {
                ActiveWhen::Mo => x.mo > 0,
                ActiveWhen::Mt => x.mt > 0,
                ActiveWhen::Any => x.mo + x.mt > 0,
                ActiveWhen::Both => x.mo > 0 && x.mt > 0,
            });
            for x in active {
                *billed.entry(x.mo + x.mt).or_default() += 1;
            }
        }
        let mut per_message = u.per_message.clone();
        per_message.resize(self.tariff.per_message.len(), 0);
        Profile {
            unit: Arc::from(&**unit),
            month: *month,
            meta_charge: u.meta_charge,
            meta_lines: u.meta_lines,
            per_message,
            billed,
            businesses: u.businesses.len() as u64,
            wabas: u.wabas.len() as u64,
            portfolios: u.portfolios.len() as u64,
            active_users: u.users.values().filter(|x| x.mo + x.delivered > 0).count() as u64,
            messages: u.messages,
            delivered: u.delivered,
        }
    }
}

/// What one invoice's amounts depend on: enough to compute it, and to compute it again with
/// every user's traffic multiplied (for break-even levels), without the lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// The invoice unit (a portfolio, WABA or business).
    pub unit: Arc<str>,
    /// The local month.
    pub month: Month,
    meta_charge: Decimal,
    meta_lines: u64,
    per_message: Vec<u64>,
    /// The per-user part's active users, by their counted messages.
    billed: BTreeMap<u64, u64>,
    businesses: u64,
    wabas: u64,
    portfolios: u64,
    /// Users with a counted message in the month.
    pub active_users: u64,
    /// Messages counted (duplicates never count).
    pub messages: u64,
    /// Delivered business messages.
    pub delivered: u64,
}

impl Profile {
    /// The invoice under `tariff`, with every user's traffic multiplied by `k` (1: as logged).
    /// Meta fees, per-message counts and fair-use blocks scale; active users and fixed fees
    /// do not.
    pub fn invoice(&self, t: &Tariff, k: Decimal) -> Result<Invoice, Error> {
        let (unit, month) = (&self.unit, self.month);
        let c = t.currency;
        let overflow = || Problem::new(format!("an amount overflows in the invoice of {unit} for {month}"));
        let mul = |a: Decimal, b: Decimal| a.checked_mul(b).ok_or_else(overflow);
        let mut lines = Vec::new();
        let mut line =
            |part, description: String, quantity: Decimal, unit_price: Option<Decimal>, exact: Decimal| {
                lines.push(InvoiceLine { part, description, quantity, unit_price, amount: c.round(exact) });
            };
        let meta = mul(self.meta_charge, k)?;
        if t.meta.pass_through {
            line(Part::MetaFees, "Meta fees".into(), mul(self.meta_lines.into(), k)?, None, meta);
        }
        if !t.meta.markup_percent.is_zero() {
            let rate = t.meta.markup_percent / Decimal::ONE_HUNDRED;
            let description = format!("{}% of Meta fees", t.meta.markup_percent.normalize());
            line(Part::Markup, description, meta, Some(rate), mul(meta, rate)?);
        }
        for (rule, &count) in t.per_message.iter().zip(&self.per_message) {
            let quantity = mul(count.into(), k)?;
            if !quantity.is_zero() {
                line(
                    Part::PerMessage,
                    rule.describe(),
                    quantity,
                    Some(rule.price),
                    mul(quantity, rule.price)?,
                );
            }
        }
        if let Some(p) = &t.per_user {
            let users = self.billed_users(p.messages_per_user, k)?;
            for (description, quantity, price) in user_bands(p.pricing, &p.tiers, users) {
                line(Part::PerUser, description, quantity.into(), Some(price), mul(quantity.into(), price)?);
            }
        }
        for f in &t.fixed {
            let count = match f.per {
                Unit::Business => self.businesses,
                Unit::Waba => self.wabas,
                Unit::Portfolio => self.portfolios,
            };
            let description = format!("{} (per {})", f.name, f.per);
            line(Part::Fixed, description, count.into(), Some(f.price), mul(count.into(), f.price)?);
        }
        let mut total = Decimal::ZERO;
        for l in &lines {
            total = total.checked_add(l.amount).ok_or_else(overflow)?;
        }
        if let Some(minimum) = t.minimum.filter(|m| *m > total) {
            let top_up = minimum - total;
            let description = format!("monthly minimum {}", format_fixed(minimum, c.minor_units()));
            let amount = c.round(top_up);
            lines.push(InvoiceLine {
                part: Part::Minimum,
                description,
                quantity: Decimal::ONE,
                unit_price: Some(top_up),
                amount,
            });
            total += amount;
        }
        Ok(Invoice {
            unit: unit.clone(),
            month,
            currency: c,
            lines,
            total,
            active_users: self.active_users,
            messages: self.messages,
            delivered: self.delivered,
        })
    }

    /// The users the per-user part bills: each active user counts `ceil(messages × k / N)`
    /// under fair use (at least one), else one.
    fn billed_users(&self, messages_per_user: u64, k: Decimal) -> Result<u64, Problem> {
        let too_many =
            || Problem::new(format!("too many users in the invoice of {} for {}", self.unit, self.month));
        if messages_per_user == 0 {
            return Ok(self.billed.values().sum());
        }
        let n = Decimal::from(messages_per_user);
        let mut users = 0u64;
        for (&m, &count) in &self.billed {
            let blocks = (Decimal::from(m) * k / n).ceil().max(Decimal::ONE);
            let blocks = u64::try_from(blocks).map_err(|_| too_many())?;
            users = blocks.checked_mul(count).and_then(|b| users.checked_add(b)).ok_or_else(too_many)?;
        }
        Ok(users)
    }
}

/// The per-user lines: (description, users, price) for each band used.
fn user_bands(
    pricing: UserPricing,
    tiers: &[crate::billing::tariff::UserBand],
    users: u64,
) -> Vec<(String, u64, Decimal)> {
    let mut out = Vec::new();
    let mut from = 1u64;
    for band in tiers {
        let name = match band.up_to {
            Some(to) => format!("users {from}-{to}"),
            None => format!("users {from}+"),
        };
        let in_band = |total: u64| band.up_to.is_none_or(|to| total <= to) && total >= from;
        match pricing {
            UserPricing::Graduated => {
                let upto = band.up_to.map_or(users, |to| users.min(to));
                if upto >= from {
                    out.push((format!("active {name}"), upto - from + 1, band.price));
                }
            }
            UserPricing::Volume if users > 0 && in_band(users) => {
                out.push((format!("active users, all at the band of {name}"), users, band.price));
            }
            UserPricing::Volume => {}
        }
        match band.up_to {
            Some(to) => from = to.saturating_add(1),
            None => break,
        }
    }
    out
}
