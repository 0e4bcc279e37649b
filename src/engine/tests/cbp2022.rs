//! The rules of cbp-2022 (`rules/cbp2022.rs`), priced through the engine.

use super::*;
use crate::domain::event::{Event, PricingCategory as PC, PricingModel, PricingType as PT};
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
    assert_eq!((thousandth.pricing_type, thousandth.month().to_string()), (PT::FreeTier, "2022-09".into()));
    assert_eq!(tc(&l.mt(start, &users[1000], MARKETING)), (PT::Regular, "0.1432".into()));
    // 03:00Z is midnight in São Paulo: October starts with a fresh allowance.
    let october = l.mt("2022-10-01T03:00:00Z".parse().unwrap(), "33700000000", MARKETING);
    assert_eq!((october.pricing_type, october.month().to_string()), (PT::FreeTier, "2022-10".into()));
}
