//! The priced line: one message, what it costs and why (docs/rules.md §7).

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;

use super::business::Day;
use super::keys::Facts;
use crate::domain::event::{Direction, Month, PricingCategory, PricingModel, PricingType};
use crate::domain::money::{Country, Currency};
use crate::pricebook::market::MarketId;
use crate::pricebook::ratecard::{RateCategory, Tier};
use crate::pricebook::Pricebook;
use crate::rules::RuleSet;

/// What a line's names are read from: its business number's name and those of its WABA and
/// portfolio, and the pricebook whose markets table names its market. One value per business
/// of an engine, shared by its lines and freed with the last of them.
pub(crate) struct AccountNames {
    pub(crate) business: Box<str>,
    pub(crate) waba: Box<str>,
    pub(crate) portfolio: Box<str>,
    pub(crate) book: Arc<Pricebook>,
}

impl AccountNames {
    fn same(&self, other: &AccountNames) -> bool {
        (&self.business, &self.waba, &self.portfolio) == (&other.business, &other.waba, &other.portfolio)
    }
}

impl fmt::Debug for AccountNames {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccountNames")
            .field("business", &self.business)
            .field("waba", &self.waba)
            .field("portfolio", &self.portfolio)
            .finish_non_exhaustive()
    }
}

/// One priced message: why it costs what it costs (docs/rules.md §7).
///
/// Names are shared, not copied: a line holds its business's names, and through them the
/// pricebook its market's name is in, by one reference count.
#[derive(Clone)]
pub struct PricedLine {
    /// The event's instant.
    pub timestamp: DateTime<Utc>,
    /// The local date in the WABA's time zone.
    pub local_date: NaiveDate,
    /// The date of the rate card it was priced with (its local date, or the engine's
    /// `rates_date`).
    pub(crate) rate_date: NaiveDate,
    /// The business, its WABA and its portfolio, and the pricebook naming `market`.
    pub(crate) account: Arc<AccountNames>,
    /// Who sent the message.
    pub direction: Direction,
    /// The rule set that priced it.
    pub rules: RuleSet,
    /// Meta's pricing model of the verdict (`CBP` for a conversation carried into per-message pricing).
    pub pricing_model: PricingModel,
    /// Why it costs what it costs: `regular`, `free_customer_service`, `inbound`, ...
    pub pricing_type: PricingType,
    /// Empty for `inbound` and `duplicate`.
    pub pricing_category: Option<PricingCategory>,
    /// The recipient's rate-card market.
    pub(crate) market: MarketId,
    /// The recipient's country, when known.
    pub country: Option<Country>,
    /// The volume tier, when the volume-tier rules chose the band.
    pub tier: Option<Tier>,
    /// The rate, on `regular` lines.
    pub rate: Option<Decimal>,
    /// Whether the rate's figure is verified (its card's source is not marked `?`); `None`
    /// without a rate.
    pub rate_verified: Option<bool>,
    /// The Meta fee of this line, exact; zero when free.
    pub charge: Decimal,
    /// The WABA's currency.
    pub currency: Currency,
    /// The facts behind the verdict, when the engine's options ask ([`Options::explain`]);
    /// else empty.
    ///
    /// [`Options::explain`]: crate::engine::Options::explain
    pub why: Why,
}

/// The facts behind a line's verdict (docs/rules.md §13), filled when the engine explains.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Why {
    /// Which pair (or group) of its business the line belongs to: equal for the lines of one
    /// pair, so that a caller can find the user message that opened a window.
    pub pair: u64,
    /// The latest user message of the pair (or group), when the line is inside the customer
    /// service window it opened (which closes 24 hours later).
    pub window_opened: Option<DateTime<Utc>>,
    /// The end of the free entry point window that covers the line (or that it opened).
    pub free_until: Option<DateTime<Utc>>,
    /// When the conversation that covers the line, or that it opened, opened (it lasts 24 hours).
    pub conversation_opened: Option<DateTime<Utc>>,
    /// The line's place in its month's volume-tier counter: the k-th message, or for a call the
    /// minute it ends in.
    pub tier_position: Option<u64>,
    /// A call's six-second pulses.
    pub pulses: Option<u64>,
    /// The line's place in its month's free allowance, free or not, and the allowance's size.
    pub allowance: Option<(u64, u64)>,
}

impl PricedLine {
    /// The line of an event, started: what is known before any rule decides (an inbound or
    /// duplicate line is this and its type). Into `slot`, reusing the line there: its names
    /// are replaced only when they differ, so that pricing a business's events into its line
    /// touches no reference count.
    pub(super) fn begin<'s>(
        slot: &'s mut Option<PricedLine>,
        ev: &Facts,
        day: &Day,
        names: &Arc<AccountNames>,
        currency: Currency,
        market: MarketId,
        country: Option<Country>,
    ) -> &'s mut PricedLine {
        let line = match slot {
            Some(line) => {
                if !Arc::ptr_eq(&line.account, names) {
                    line.account = names.clone();
                }
                line
            }
            None => slot.insert(PricedLine {
                timestamp: ev.timestamp,
                local_date: day.date,
                rate_date: day.rate_date,
                account: names.clone(),
                direction: ev.direction,
                rules: day.rules,
                pricing_model: day.rules.model(),
                pricing_type: PricingType::Duplicate,
                pricing_category: None,
                market,
                country,
                tier: None,
                rate: None,
                rate_verified: None,
                charge: Decimal::ZERO,
                currency,
                why: Why::default(),
            }),
        };
        line.timestamp = ev.timestamp;
        line.local_date = day.date;
        line.rate_date = day.rate_date;
        line.direction = ev.direction;
        line.rules = day.rules;
        line.pricing_model = day.rules.model();
        line.pricing_type = PricingType::Duplicate;
        line.pricing_category = None;
        line.market = market;
        line.country = country;
        line.tier = None;
        line.rate = None;
        line.rate_verified = None;
        line.charge = Decimal::ZERO;
        line.currency = currency;
        // `why` is left as it is: the engine fills it whole when it explains, and it stays
        // empty otherwise.
        line
    }

    /// The recipient's rate-card market, e.g. `India`, `Rest of Africa`.
    pub fn market(&self) -> &str {
        self.account.book.markets.name(self.market)
    }

    /// The local month of the line (its WABA's time zone).
    pub fn month(&self) -> Month {
        Month::of(self.local_date)
    }

    /// The business number's name, as the log gives it.
    pub fn business(&self) -> &str {
        &self.account.business
    }

    /// The business's WABA.
    pub fn waba(&self) -> &str {
        &self.account.waba
    }

    /// The WABA's portfolio.
    pub fn portfolio(&self) -> &str {
        &self.account.portfolio
    }

    /// The list rate (a tiered price's first band) of a pricing category in the line's
    /// market, currency and card date: what the message would have cost at that category,
    /// e.g. to price Meta's verdict where it differs from wabill's.
    pub fn list_rate(&self, category: PricingCategory) -> Option<Decimal> {
        let rate = match category.one_to_one() {
            PricingCategory::Marketing | PricingCategory::MarketingLite => RateCategory::Marketing,
            PricingCategory::Utility => RateCategory::Utility,
            PricingCategory::Call => RateCategory::Call,
            PricingCategory::Authentication => RateCategory::Authentication,
            PricingCategory::AuthenticationInternational => RateCategory::AuthenticationInternational,
            PricingCategory::Service => RateCategory::Service,
            PricingCategory::UserInitiated => RateCategory::UserInitiated,
            PricingCategory::BusinessInitiated => RateCategory::BusinessInitiated,
            PricingCategory::ReferralConversion => return Some(Decimal::ZERO),
            PricingCategory::GroupMarketing
            | PricingCategory::GroupUtility
            | PricingCategory::GroupService => {
                unreachable!("one_to_one")
            }
        };
        let book = &self.account.book;
        book.price(self.currency, self.market, rate, self.rate_date).map(|p| p.first())
    }
}

/// Equal lines say the same: every public field, the names and the market's name (not which
/// pricebook or allocation holds them).
impl PartialEq for PricedLine {
    fn eq(&self, other: &PricedLine) -> bool {
        let PricedLine {
            timestamp,
            local_date,
            rate_date: _,
            account,
            direction,
            rules,
            pricing_model,
            pricing_type,
            pricing_category,
            market: _,
            country,
            tier,
            rate,
            rate_verified,
            charge,
            currency,
            why,
        } = self;
        (timestamp, local_date, direction, rules, pricing_model, pricing_type, pricing_category)
            == (
                &other.timestamp,
                &other.local_date,
                &other.direction,
                &other.rules,
                &other.pricing_model,
                &other.pricing_type,
                &other.pricing_category,
            )
            && (country, tier, rate, rate_verified, charge, currency)
                == (
                    &other.country,
                    &other.tier,
                    &other.rate,
                    &other.rate_verified,
                    &other.charge,
                    &other.currency,
                )
            && why == &other.why
            && account.same(&other.account)
            && self.market() == other.market()
    }
}

impl Eq for PricedLine {}

impl fmt::Debug for PricedLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PricedLine")
            .field("timestamp", &self.timestamp)
            .field("local_date", &self.local_date)
            .field("business", &self.business())
            .field("waba", &self.waba())
            .field("portfolio", &self.portfolio())
            .field("direction", &self.direction)
            .field("rules", &self.rules)
            .field("pricing_model", &self.pricing_model)
            .field("pricing_type", &self.pricing_type)
            .field("pricing_category", &self.pricing_category)
            .field("market", &self.market())
            .field("country", &self.country)
            .field("tier", &self.tier)
            .field("rate", &self.rate)
            .field("rate_verified", &self.rate_verified)
            .field("charge", &self.charge)
            .field("currency", &self.currency)
            .field("why", &self.why)
            .finish()
    }
}

/// Lines made by hand, for the tests of what is made of lines (summaries, writers).
#[cfg(test)]
pub(crate) mod samples {
    use super::*;
    use crate::pricebook::account::Accounts;
    use crate::pricebook::market::Markets;
    use crate::pricebook::ratecard::RateCard;

    /// A pricebook whose markets table names `markets` (and `Other`), with an empty card.
    pub(crate) fn book(markets: &[&str]) -> Arc<Pricebook> {
        let mut table =
            Markets::from_csv("effective_from,prefix,country,market\n".as_bytes(), "m.csv").unwrap();
        for m in markets {
            table.intern(m);
        }
        let card =
            RateCard::from_csv("effective_from,currency,market,category,rate\n".as_bytes(), "r.csv").unwrap();
        Arc::new(Pricebook::new(table, &card, Accounts::default()))
    }

    /// A regular marketing line of `business` (of WABA `W`, portfolio `P`) to `market`, one of
    /// `book`'s, charged 1 USD on 2025-09-01.
    pub(crate) fn line(book: &Arc<Pricebook>, business: &str, market: &str) -> PricedLine {
        let id = (0..u16::MAX)
            .map(MarketId)
            .find(|&id| book.markets.name(id) == market)
            .expect("a market of the book");
        PricedLine {
            timestamp: "2025-09-01T10:00:00Z".parse().unwrap(),
            local_date: "2025-09-01".parse().unwrap(),
            rate_date: "2025-09-01".parse().unwrap(),
            account: Arc::new(AccountNames {
                business: business.into(),
                waba: "W".into(),
                portfolio: "P".into(),
                book: book.clone(),
            }),
            direction: Direction::Mt,
            rules: RuleSet::Pmp2025,
            pricing_model: PricingModel::Pmp,
            pricing_type: PricingType::Regular,
            pricing_category: Some(PricingCategory::Marketing),
            market: id,
            country: None,
            tier: None,
            rate: Some(Decimal::ONE),
            rate_verified: Some(true),
            charge: Decimal::ONE,
            currency: "USD".parse().unwrap(),
            why: Why::default(),
        }
    }
}
