//! The priced line: one message, what it costs and why (docs/rules.md §7).

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;

use super::business::{Business, Day};
use super::keys::Facts;
use crate::domain::event::{Direction, Month, PricingCategory, PricingModel, PricingType};
use crate::domain::money::{Country, Currency};
use crate::pricebook::ratecard::Tier;
use crate::rules::RuleSet;

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
        static KEPT: crate::util::intern::Kept<AccountNames> = std::sync::OnceLock::new();
        let names = AccountNames {
            business: crate::util::intern::name(business),
            waba: crate::util::intern::name(waba),
            portfolio: crate::util::intern::name(portfolio),
        };
        crate::util::intern::value(&KEPT, &names)
    }
}

/// One priced message: why it costs what it costs (docs/rules.md §7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricedLine {
    /// The event's instant.
    pub timestamp: DateTime<Utc>,
    /// The local date in the WABA's time zone.
    pub local_date: NaiveDate,
    /// The business, its WABA and its portfolio (one shared value per business).
    pub account: &'static AccountNames,
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
    pub market: &'static str,
    /// The recipient's country, when known.
    pub country: Option<Country>,
    /// The volume tier, when the price came from tier rows.
    pub tier: Option<Tier>,
    /// The rate, on `regular` lines.
    pub rate: Option<Decimal>,
    /// The Meta fee of this line, exact; zero when free.
    pub charge: Decimal,
    /// The WABA's currency.
    pub currency: Currency,
}

impl PricedLine {
    /// Starts the line of an event: what is known before any rule decides (an inbound or
    /// duplicate line is this and its type).
    pub(super) fn begin(
        &mut self,
        ev: &Facts,
        day: &Day,
        business: &Business,
        market: &'static str,
        country: Option<Country>,
    ) {
        *self = PricedLine {
            timestamp: ev.timestamp,
            local_date: day.date,
            account: business.names,
            direction: ev.direction,
            rules: day.rules,
            pricing_model: day.rules.model(),
            pricing_type: PricingType::Duplicate,
            pricing_category: None,
            market,
            country,
            tier: None,
            rate: None,
            charge: Decimal::ZERO,
            currency: business.account.currency,
        };
    }

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

    /// The business number's name, as the log gives it.
    pub fn business(&self) -> &str {
        self.account.business
    }

    /// The business's WABA.
    pub fn waba(&self) -> &str {
        self.account.waba
    }

    /// The WABA's portfolio.
    pub fn portfolio(&self) -> &str {
        self.account.portfolio
    }
}
