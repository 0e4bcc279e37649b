//! User- and business-initiated conversations (`cbp-2022`, from 2022-02-01). SPEC §4.
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
        let open = |category| Conversation { category, rules: RuleSet::Cbp2022, opened: mt.at };
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

#[cfg(test)]
mod tests {
    use crate::domain::event::{Event, PricingCategory as PC, PricingModel, PricingType as PT};
    use crate::engine::testing::*;
    use crate::engine::Options;
    use crate::rules::RuleSet;
    use chrono::{DateTime, TimeDelta, Utc};

    /// 2022-09-10T00:00:00Z plus `h` hours and `s` seconds.
    fn t(h: i64, s: i64) -> DateTime<Utc> {
        at(h, s) - TimeDelta::days(1096)
    }

    fn log(free: u64) -> Log {
        Log::new(engine_with("business\n", Options { free_conversations: free, ..Options::default() }))
    }

    #[test]
    fn a_conversation_covers_every_message_for_exactly_24h() {
        let mut l = log(0);
        let opening = l.mt(t(0, 0), FR, MARKETING);
        assert_eq!((opening.rules, opening.pricing_model), (RuleSet::Cbp2022, PricingModel::Cbp));
        assert_eq!(
            (tc(&opening), opening.pricing_category),
            ((PT::Regular, "0.1432".into()), Some(PC::BusinessInitiated))
        );
        let covered = l.mt(t(23, 3599), FR, UTILITY);
        assert_eq!(
            (tc(&covered), covered.pricing_category),
            ((PT::Conversation, "0".into()), Some(PC::BusinessInitiated))
        );
        assert_eq!(l.mt(t(24, 0), FR, UTILITY).pricing_type, PT::Regular);
    }

    #[test]
    fn a_reply_inside_the_window_opens_a_user_initiated_conversation() {
        let mut l = log(0);
        l.mo(t(0, 0), FR);
        let reply = l.mt(t(1, 0), FR, TEXT);
        assert_eq!(
            (tc(&reply), reply.pricing_category),
            ((PT::Regular, "0.0859".into()), Some(PC::UserInitiated))
        );
        assert_eq!(l.mt(t(2, 0), FR, TEXT).pricing_category, Some(PC::UserInitiated));
    }

    #[test]
    fn an_entry_point_opens_a_free_24h_conversation() {
        let mut l = log(0);
        l.entry(t(0, 0), FR);
        let answer = l.mt(t(23, 3599), FR, TEXT);
        assert_eq!(
            (answer.pricing_type, answer.pricing_category),
            (PT::FreeEntryPoint, Some(PC::ReferralConversion))
        );
        let inside = l.mt(t(47, 3598), FR, MARKETING);
        assert_eq!(
            (inside.pricing_type, inside.pricing_category),
            (PT::Conversation, Some(PC::ReferralConversion))
        );
        assert_eq!(l.mt(t(47, 3599), FR, MARKETING).pricing_type, PT::Regular);
    }

    #[test]
    fn an_entry_point_answered_at_24h_is_an_ordinary_conversation() {
        let mut l = log(0);
        l.entry(t(0, 0), FR);
        l.mo(t(10, 0), FR);
        let late = l.mt(t(24, 0), FR, TEXT);
        assert_eq!((late.pricing_type, late.pricing_category), (PT::Regular, Some(PC::UserInitiated)));
    }

    #[test]
    fn the_free_tier_is_the_first_1000_conversations_of_the_wabas_local_month() {
        let accounts = "business,waba,timezone\nB,W,America/Sao_Paulo\nB2,W,America/Sao_Paulo\n";
        let mut l = Log::new(engine_with(accounts, Options::default()));
        // 2022-09-30 22:00 in São Paulo (UTC-3) is 2022-10-01T01:00Z.
        let start: DateTime<Utc> = "2022-10-01T01:00:00Z".parse().unwrap();
        let users: Vec<String> = (0..1001).map(|i| format!("3361{i:07}")).collect();
        for (i, u) in users.iter().take(999).enumerate() {
            let business = if i % 2 == 0 { "B" } else { "B2" };
            assert_eq!(l.push(Event::mt(start, business, u, MARKETING)).pricing_type, PT::FreeTier);
        }
        // An entry-point conversation does not count.
        l.entry(start, "33699999999");
        assert_eq!(l.mt(start, "33699999999", MARKETING).pricing_type, PT::FreeEntryPoint);
        let thousandth = l.mt(start, &users[999], MARKETING);
        assert_eq!(
            (thousandth.pricing_type, thousandth.month().to_string()),
            (PT::FreeTier, "2022-09".into())
        );
        assert_eq!(tc(&l.mt(start, &users[1000], MARKETING)), (PT::Regular, "0.1432".into()));
        // 03:00Z is midnight in São Paulo: October starts with a fresh allowance.
        let october = l.mt("2022-10-01T03:00:00Z".parse().unwrap(), "33700000000", MARKETING);
        assert_eq!((october.pricing_type, october.month().to_string()), (PT::FreeTier, "2022-10".into()));
    }
}
