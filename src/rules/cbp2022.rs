//! User- and business-initiated conversations (`cbp-2022`, from 2022-02-01). docs/rules.md §4.
//!
//! One conversation at most per (business, user), lasting 24h from the delivery that opened it.
//! In order, for a delivered MT that passed the common checks:
//! 1. an open conversation covers it: `conversation`, category the conversation's kind
//!    (`user_initiated`, `business_initiated`, `referral_conversion`);
//! 2. an unused entry point less than 24h old opens a free 24h entry-point conversation:
//!    `free_entry_point`, `referral_conversion` (not counted in the free tier);
//! 3. otherwise it opens a conversation, `user_initiated` if the CSW is open, else
//!    `business_initiated`: the first 1,000 of a WABA's local month are `free_tier`, later ones
//!    `regular` at the market's rate of that kind.
//!
//! Its tests price scenarios through the engine: `src/engine/tests/cbp2022.rs`.

use super::{Allowance, Context, Mt, Rate, RuleSet, Rules, Verdict};
use crate::domain::event::{PricingCategory, PricingType};
use crate::pricebook::ratecard::RateCategory;
use crate::rules::state::{Conversation, PairState};

pub(crate) struct Cbp2022;

pub(crate) static CBP_2022: Cbp2022 = Cbp2022;

/// The slot of the one conversation of this era.
const SLOT: usize = 0;

impl Rules for Cbp2022 {
    fn price(&self, mt: &Mt, pair: &mut PairState, cx: &dyn Context) -> Verdict {
        if let Some(c) = pair.open_conversations(mt.at).next() {
            return Verdict::free(PricingType::Conversation, c.category);
        }
        let open = |category| Conversation::new(category, RuleSet::Cbp2022, mt.at);
        if pair.take_entry_point(mt.at) {
            pair.open_conversation(SLOT, open(PricingCategory::ReferralConversion));
            return Verdict::free(PricingType::FreeEntryPoint, PricingCategory::ReferralConversion);
        }
        let (category, rate) = if mt.csw_open {
            (PricingCategory::UserInitiated, RateCategory::UserInitiated)
        } else {
            (PricingCategory::BusinessInitiated, RateCategory::BusinessInitiated)
        };
        pair.open_conversation(SLOT, open(category));
        let verdict = if cx.allowance_left(Allowance::Conversations) {
            Verdict::free(PricingType::FreeTier, category)
        } else {
            Verdict::regular(category, Rate { category: rate, tiered: false })
        };
        verdict.using(Allowance::Conversations)
    }
}
