//! Notification-based pricing (`nbp`, until 2022-01-31). SPEC §4.
//!
//! Inside the CSW every MT is free (`free_customer_service`), templates included; a template
//! outside it is `regular` at the market's `template` rate. (A non-template outside the CSW
//! never reaches the rules: it is a violation.) There are no entry points and no
//! conversations.

use super::{Context, Mt, Rate, Rules, Verdict};
use crate::domain::event::PricingType;
use crate::pricebook::ratecard::RateCategory;
use crate::rules::state::PairState;

pub(crate) struct Nbp;

pub(crate) static NBP: Nbp = Nbp;

impl Rules for Nbp {
    fn price(&self, mt: &Mt, _pair: &mut PairState, _cx: &dyn Context) -> Verdict {
        let category = mt.kind.pricing_category();
        if mt.csw_open {
            Verdict::free(PricingType::FreeCustomerService, category)
        } else {
            Verdict::regular(category, Rate { category: RateCategory::Template, tiered: false })
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::domain::event::{PricingCategory as PC, PricingModel, PricingType as PT};
    use crate::engine::testing::*;
    use crate::rules::RuleSet;

    /// 2021-06-10T00:00:00Z plus `h` hours.
    fn t(h: i64) -> chrono::DateTime<chrono::Utc> {
        at(h, 0) - chrono::TimeDelta::days(1553)
    }

    #[test]
    fn templates_are_free_inside_the_window_and_charged_outside() {
        let mut l = Log::new(engine());
        let first = l.mt(t(0), FR, UTILITY);
        assert_eq!((first.rules, first.pricing_model), (RuleSet::Nbp, PricingModel::Nbp));
        assert_eq!((tc(&first), first.pricing_category), ((PT::Regular, "0.05".into()), Some(PC::Utility)));
        l.mo(t(1), FR);
        assert_eq!(tc(&l.mt(t(2), FR, MARKETING)), (PT::FreeCustomerService, "0".into()));
        assert_eq!(l.mt(t(3), FR, TEXT).pricing_type, PT::FreeCustomerService);
        assert_eq!(l.mt(t(25), FR, MARKETING).pricing_type, PT::Regular);
        assert_eq!(l.mt(t(25), FR, TEXT).pricing_type, PT::Violation);
    }

    #[test]
    fn entry_points_mean_nothing_before_conversations() {
        let mut l = Log::new(engine());
        l.entry(t(0), FR);
        assert_eq!(l.mt(t(30), FR, MARKETING).pricing_type, PT::Regular);
    }
}
