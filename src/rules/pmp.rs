//! Per-message pricing: `pmp-2025` (from 2025-07-01) and `pmp-2026` (from 2026-10-01, service
//! messages charged). docs/rules.md §4.
//!
//! In order, for a delivered MT that passed the common checks:
//! 1. an open free entry point window makes it `free_entry_point`;
//! 2. a utility template inside a utility conversation opened under cbp-2023 and still open is
//!    `conversation` (pricing model `CBP`);
//! 3. an unused entry point less than 24h old opens a 72h window: `free_entry_point`;
//! 4. the per-message rules: marketing and authentication templates are `regular` (inside the
//!    CSW too); a utility template is `free_customer_service` inside the CSW and `regular`
//!    outside it; a non-template (always inside the CSW) is `free_customer_service`.
//!    pmp-2026 charges utility inside the CSW, and non-templates at the `service` rate after a
//!    monthly allowance per business phone number; the free ones within the allowance are
//!    `free_customer_service`, category `service`, as Meta labels them (`free_tier` belongs to
//!    the conversation eras only).
//!
//! Utility and authentication pay volume tiers; marketing and service do not.
//!
//! Its tests price scenarios through the engine: `src/engine/tests/pmp.rs`.

use super::{Allowance, Context, Mt, Rate, RuleSet, Rules, Verdict};
use crate::domain::event::{Category, Kind, PricingCategory, PricingModel, PricingType};
use crate::pricebook::ratecard::RateCategory;
use crate::rules::state::{PairState, FEP_WINDOW};

pub(crate) struct Pmp {
    /// pmp-2026: non-templates and in-window utility templates are charged.
    service_charged: bool,
}

pub(crate) static PMP_2025: Pmp = Pmp { service_charged: false };
pub(crate) static PMP_2026: Pmp = Pmp { service_charged: true };

impl Rules for Pmp {
    fn price(&self, mt: &Mt, pair: &mut PairState, cx: &dyn Context) -> Verdict {
        let free_entry_point =
            Verdict::free(PricingType::FreeEntryPoint, PricingCategory::ReferralConversion);
        if pair.fep_open(mt.at) {
            return free_entry_point;
        }
        if mt.kind == Kind::Template(Category::Utility) {
            let carried = pair.conversation(PricingCategory::Utility, mt.at);
            if carried.is_some_and(|c| c.rules == RuleSet::Cbp2023) {
                return Verdict {
                    model: Some(PricingModel::Cbp),
                    ..Verdict::free(PricingType::Conversation, PricingCategory::Utility)
                };
            }
        }
        if pair.take_entry_point(mt.at) {
            pair.open_fep(mt.at, FEP_WINDOW);
            return free_entry_point;
        }
        match mt.kind {
            Kind::Call => unreachable!("the engine prices calls before the rules"),
            Kind::NonTemplate if !self.service_charged => {
                Verdict::free(PricingType::FreeCustomerService, PricingCategory::Service)
            }
            Kind::NonTemplate if cx.allowance_left(Allowance::ServiceMessages) => {
                // Meta's label for the allowance's free messages (docs/rules.md §4, pmp-2026).
                Verdict::free(PricingType::FreeCustomerService, PricingCategory::Service)
                    .using(Allowance::ServiceMessages)
            }
            Kind::NonTemplate => {
                let rate = Rate { category: RateCategory::Service, tiered: false };
                Verdict::regular(PricingCategory::Service, rate).using(Allowance::ServiceMessages)
            }
            Kind::Template(Category::Utility) if mt.csw_open && !self.service_charged => {
                Verdict::free(PricingType::FreeCustomerService, PricingCategory::Utility)
            }
            Kind::Template(c) => {
                // Marketing (and the Marketing Messages API's) has no volume tiers.
                let rate = Rate { category: c.into(), tiered: c.family() != Category::Marketing };
                Verdict::regular(c.into(), rate)
            }
        }
    }
}
