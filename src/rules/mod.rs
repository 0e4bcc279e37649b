//! Meta's pricing rules, one module per rule set (docs/rules.md §4), and the contract between them and
//! the engine.
//!
//! The engine makes the checks common to every era (duplicate, inbound, undelivered,
//! violation) and hands each delivered MT that passed them to the rule set of its local date
//! (or the forced one). The rule set decides the pricing type and category, updates the pair's
//! windows and conversations, and says which rate (if any) the message pays; the engine looks
//! the rate up, applies volume tiers, authentication-international and free allowances, and
//! commits the new state only when the whole line is priced.

mod cbp2022;
mod cbp2023;
mod nbp;
mod pmp;
pub(crate) mod state;

use chrono::NaiveDate;

use crate::domain::error::Problem;
use crate::domain::event::{named_enum, Kind, PricingCategory, PricingModel, PricingType};
use crate::domain::time::Stamp;
use crate::pricebook::ratecard::RateCategory;
use crate::rules::state::PairState;

named_enum! {
    /// A set of Meta's pricing rules (docs/rules.md §4), named after the era it belongs to.
    pub enum RuleSet ("rule set") {
        Nbp = "nbp",
        Cbp2022 = "cbp-2022",
        Cbp2023 = "cbp-2023",
        Pmp2025 = "pmp-2025",
        Pmp2026 = "pmp-2026",
    }
}

impl RuleSet {
    /// The first local date of the rule set's era (`None`: from the start).
    pub fn starts(self) -> Option<NaiveDate> {
        let ymd = |y, m| NaiveDate::from_ymd_opt(y, m, 1);
        match self {
            RuleSet::Nbp => None,
            RuleSet::Cbp2022 => ymd(2022, 2),
            RuleSet::Cbp2023 => ymd(2023, 6),
            RuleSet::Pmp2025 => ymd(2025, 7),
            RuleSet::Pmp2026 => ymd(2026, 10),
        }
    }

    /// The rule set in force on a local date.
    pub fn for_date(date: NaiveDate) -> RuleSet {
        RuleSet::ALL
            .iter()
            .rev()
            .copied()
            .find(|r| r.starts().is_none_or(|s| date >= s))
            .expect("nbp has no start")
    }

    /// Meta's pricing model of lines priced under this rule set.
    pub fn model(self) -> PricingModel {
        match self {
            RuleSet::Nbp => PricingModel::Nbp,
            RuleSet::Cbp2022 | RuleSet::Cbp2023 => PricingModel::Cbp,
            RuleSet::Pmp2025 | RuleSet::Pmp2026 => PricingModel::Pmp,
        }
    }

    /// The rules of this set, where wabill has them: the registry of rule sets.
    pub(crate) fn rules(self) -> &'static dyn Rules {
        match self {
            RuleSet::Nbp => &nbp::NBP,
            RuleSet::Cbp2022 => &cbp2022::CBP_2022,
            RuleSet::Cbp2023 => &cbp2023::CBP_2023,
            RuleSet::Pmp2025 => &pmp::PMP_2025,
            RuleSet::Pmp2026 => &pmp::PMP_2026,
        }
    }
}

/// Which rule set prices an event: the one of its local date (`auto`), or one for every event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RuleChoice {
    #[default]
    /// The rule set of each event's local date (docs/rules.md §4).
    Auto,
    /// One rule set for every event.
    Fixed(RuleSet),
}

impl RuleChoice {
    /// The rule set that prices an event of local date `date`.
    pub fn for_date(self, date: NaiveDate) -> RuleSet {
        match self {
            RuleChoice::Auto => RuleSet::for_date(date),
            RuleChoice::Fixed(r) => r,
        }
    }
}

crate::domain::error::from_str_by_parse_text!(RuleChoice);

impl RuleChoice {
    /// Reads the value from its text, or says what is wrong with it.
    pub(crate) fn parse_text(s: &str) -> Result<RuleChoice, Problem> {
        if s == "auto" {
            return Ok(RuleChoice::Auto);
        }
        s.parse().map(RuleChoice::Fixed).map_err(|_| {
            let names: Vec<&str> = RuleSet::ALL.iter().map(RuleSet::as_str).collect();
            Problem::new(format!("unknown rule set {s} (expected auto, {})", names.join(", ")))
        })
    }
}

impl std::fmt::Display for RuleChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RuleChoice::Auto => f.pad("auto"),
            RuleChoice::Fixed(r) => r.fmt(f),
        }
    }
}

/// A free allowance counted by the engine, per local month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Allowance {
    /// cbp free tier: conversations per WABA.
    Conversations,
    /// pmp-2026: non-template messages per business phone number.
    ServiceMessages,
}

/// What a delivered MT is, as the rule set sees it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Mt {
    pub at: Stamp,
    pub kind: Kind,
    pub local_date: NaiveDate,
    /// Whether the CSW is open at `at` (a non-template outside it never reaches the rules).
    pub csw_open: bool,
}

/// What the rules may ask of the engine while deciding.
pub(crate) trait Context {
    /// Whether the allowance still has room this month (without using it).
    fn allowance_left(&self, allowance: Allowance) -> bool;
}

/// The rule set's decision on one delivered MT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Verdict {
    pub pricing_type: PricingType,
    pub category: PricingCategory,
    /// `Some`: the model, when it differs from the rule set's (a carried conversation).
    pub model: Option<PricingModel>,
    /// The rate the message pays, for `regular` lines.
    pub rate: Option<Rate>,
    /// The allowance this message uses (counted whether or not it was free).
    pub uses: Option<Allowance>,
}

impl Verdict {
    /// A free line of the given type and category.
    pub(crate) fn free(pricing_type: PricingType, category: PricingCategory) -> Verdict {
        Verdict { pricing_type, category, model: None, rate: None, uses: None }
    }

    /// A `regular` line paying the rate of `rate.category`.
    pub(crate) fn regular(category: PricingCategory, rate: Rate) -> Verdict {
        Verdict { rate: Some(rate), ..Verdict::free(PricingType::Regular, category) }
    }

    pub(crate) fn using(self, allowance: Allowance) -> Verdict {
        Verdict { uses: Some(allowance), ..self }
    }

    /// The verdict on a message to a group (Groups API): Meta's group category, and
    /// `free_group_customer_service` for a free service delivery.
    pub(crate) fn in_group(self) -> Verdict {
        let pricing_type = match self.pricing_type {
            PricingType::FreeCustomerService => PricingType::FreeGroupCustomerService,
            t => t,
        };
        Verdict { pricing_type, category: self.category.in_group(), ..self }
    }
}

/// Which rate a `regular` line pays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rate {
    pub category: RateCategory,
    /// Whether the volume tiers of docs/rules.md §5 apply.
    pub tiered: bool,
}

/// One rule set.
///
/// Carry-overs need no flag: under a forced rule set every conversation was opened by that
/// rule set, so a conversation "opened under an earlier rule set" exists only under `auto`.
pub(crate) trait Rules: Sync {
    /// Prices a delivered MT that passed the common checks, updating the pair's state.
    fn price(&self, mt: &Mt, pair: &mut PairState, cx: &dyn Context) -> Verdict;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn eras_switch_on_their_first_local_date() {
        assert_eq!(RuleSet::for_date(date("2022-01-31")), RuleSet::Nbp);
        assert_eq!(RuleSet::for_date(date("2022-02-01")), RuleSet::Cbp2022);
        assert_eq!(RuleSet::for_date(date("2023-06-01")), RuleSet::Cbp2023);
        assert_eq!(RuleSet::for_date(date("2025-06-30")), RuleSet::Cbp2023);
        assert_eq!(RuleSet::for_date(date("2025-07-01")), RuleSet::Pmp2025);
        assert_eq!(RuleSet::for_date(date("2026-10-01")), RuleSet::Pmp2026);
    }

    #[test]
    fn choices_parse() {
        assert_eq!("auto".parse::<RuleChoice>().unwrap(), RuleChoice::Auto);
        assert_eq!("pmp-2025".parse::<RuleChoice>().unwrap(), RuleChoice::Fixed(RuleSet::Pmp2025));
        assert_eq!(
            "pmp".parse::<RuleChoice>().unwrap_err().to_string(),
            "unknown rule set pmp (expected auto, nbp, cbp-2022, cbp-2023, pmp-2025, pmp-2026)"
        );
    }
}
