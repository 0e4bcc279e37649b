//! Category conversations (`cbp-2023`, from 2023-06-01). docs/rules.md §4.
//!
//! Conversations are kept per (business, user, category), categories `marketing`, `utility`,
//! `authentication` and `service`, each lasting 24h from the delivery that opened it.
//! In order, for a delivered MT that passed the common checks:
//! 1. a cbp-2022 conversation still open after the switch covers every MT (`conversation`);
//! 2. an open free entry point window makes it `free_entry_point`;
//! 3. an unused entry point less than 24h old opens a 72h window that closes every open
//!    conversation (no conversation opens while it lasts): `free_entry_point`;
//! 4. a template of category c is `conversation` if a conversation of c is open, else it opens
//!    one and is `regular` at c's rate (authentication-international where docs/rules.md §6 says
//!    so: the engine then marks the conversation `authentication_international`, and so are the
//!    lines it covers);
//! 5. a non-template is `conversation` if any conversation is open (category: the earliest
//!    opened; among those opened at one instant, the first priced), else it opens a `service`
//!    conversation: until 2024-10-31 the first 1,000 of a WABA's local month are `free_tier`,
//!    later ones `regular` at the `service` rate; from 2024-11-01 it is `free_customer_service`.
//!
//! Its tests price scenarios through the engine: `src/engine/tests/cbp2023.rs`.

use chrono::NaiveDate;

use super::{Allowance, Context, Mt, Rate, RuleSet, Rules, Verdict};
use crate::domain::event::{Kind, PricingCategory, PricingType};
use crate::pricebook::ratecard::RateCategory;
use crate::rules::state::{Conversation, PairState, FEP_WINDOW};

pub(crate) struct Cbp2023;

pub(crate) static CBP_2023: Cbp2023 = Cbp2023;

/// Service conversations are free from this local date on.
fn service_free_from() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 11, 1).expect("a valid date")
}

/// Each category's conversation slot.
fn slot(category: PricingCategory) -> usize {
    match category {
        PricingCategory::Marketing | PricingCategory::MarketingLite => 0,
        PricingCategory::Utility => 1,
        PricingCategory::Authentication | PricingCategory::AuthenticationInternational => 2,
        _ => 3,
    }
}

impl Rules for Cbp2023 {
    fn price(&self, mt: &Mt, pair: &mut PairState, cx: &dyn Context) -> Verdict {
        let carried = pair.open_conversations(mt.at).find(|c| c.rules == RuleSet::Cbp2022);
        if let Some(c) = carried {
            return Verdict::free(PricingType::Conversation, c.category);
        }
        let free_entry_point =
            Verdict::free(PricingType::FreeEntryPoint, PricingCategory::ReferralConversion);
        if pair.fep_open(mt.at) {
            return free_entry_point;
        }
        if pair.take_entry_point(mt.at) {
            pair.open_fep(mt.at, FEP_WINDOW);
            return free_entry_point;
        }
        let open = |category| Conversation::new(category, RuleSet::Cbp2023, mt.at);
        match mt.kind {
            Kind::Call => unreachable!("the engine prices calls before the rules"),
            Kind::Template(c) => {
                // A Marketing Messages API template opens or joins a marketing conversation.
                let category = PricingCategory::from(c.family());
                if let Some(open) = pair.open_in(slot(category), mt.at) {
                    // Its category: `authentication_international` if opened at that rate.
                    return Verdict::free(PricingType::Conversation, open.category);
                }
                pair.open_conversation(slot(category), open(category));
                Verdict::regular(category, Rate { category: RateCategory::from(c), tiered: false })
            }
            Kind::NonTemplate => {
                if let Some(c) = pair.open_conversations(mt.at).next() {
                    return Verdict::free(PricingType::Conversation, c.category);
                }
                let service = PricingCategory::Service;
                pair.open_conversation(slot(service), open(service));
                if mt.local_date >= service_free_from() {
                    Verdict::free(PricingType::FreeCustomerService, service)
                } else if cx.allowance_left(Allowance::Conversations) {
                    Verdict::free(PricingType::FreeTier, service).using(Allowance::Conversations)
                } else {
                    let rate = Rate { category: RateCategory::Service, tiered: false };
                    Verdict::regular(service, rate).using(Allowance::Conversations)
                }
            }
        }
    }
}
