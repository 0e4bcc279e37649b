//! Notification-based pricing (`nbp`, until 2022-01-31). docs/rules.md §4.
//!
//! Inside the CSW every MT is free (`free_customer_service`), templates included; a template
//! outside it is `regular` at the market's `template` rate. (A non-template outside the CSW
//! never reaches the rules: it is a violation.) There are no entry points and no
//! conversations.
//!
//! Its tests price scenarios through the engine: `src/engine/tests/nbp.rs`.

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
