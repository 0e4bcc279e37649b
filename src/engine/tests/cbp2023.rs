//! The rules of cbp-2023 (`rules/cbp2023.rs`), priced through the engine.

use super::*;
use crate::domain::event::{PricingCategory as PC, PricingModel, PricingType as PT};
use crate::engine::Options;
use crate::rules::{RuleChoice, RuleSet};
use chrono::{DateTime, TimeDelta, Utc};

/// 2024-03-10T00:00:00Z plus `h` hours and `s` seconds.
fn t(h: i64, s: i64) -> DateTime<Utc> {
    at(h, s) - TimeDelta::days(549)
}

fn log(free: u64) -> Log {
    Log::new(engine_with("business\n", Options { free_conversations: free, ..Options::default() }))
}

#[test]
fn each_template_category_opens_its_own_conversation() {
    let mut l = log(0);
    let m = l.mt(t(0, 0), FR, MARKETING);
    assert_eq!(
        (m.rules, m.pricing_model, tc(&m)),
        (RuleSet::Cbp2023, PricingModel::Cbp, (PT::Regular, "0.1432".into()))
    );
    assert_eq!(tc(&l.mt(t(1, 0), FR, MARKETING)), (PT::Conversation, "0".into()));
    assert_eq!(tc(&l.mt(t(2, 0), FR, UTILITY)), (PT::Regular, "0.0768".into()));
    let u = l.mt(t(3, 0), FR, UTILITY);
    assert_eq!((u.pricing_type, u.pricing_category), (PT::Conversation, Some(PC::Utility)));
    assert_eq!(tc(&l.mt(t(24, 0), FR, MARKETING)), (PT::Regular, "0.1432".into()));
}

#[test]
fn a_non_template_is_covered_by_the_earliest_open_conversation() {
    let mut l = log(0);
    l.mt(t(0, 0), FR, UTILITY);
    l.mt(t(1, 0), FR, MARKETING);
    l.mo(t(2, 0), FR);
    let text = l.mt(t(3, 0), FR, TEXT);
    assert_eq!((text.pricing_type, text.pricing_category), (PT::Conversation, Some(PC::Utility)));
    // The utility conversation expires at exactly 24h; marketing still covers.
    assert_eq!(l.mt(t(24, 0), FR, TEXT).pricing_category, Some(PC::Marketing));
}

/// docs/rules.md §4, `pricing_category`: among conversations opened at the same instant, the
/// one whose message was priced first covers a non-template, whatever the categories.
#[test]
fn conversations_opened_at_one_instant_cover_in_the_order_they_were_priced() {
    let mut l = log(0);
    let (other, third) = ("33600000001", "33600000002");
    l.mt(t(0, 0), FR, UTILITY);
    l.mt(t(0, 0), FR, MARKETING);
    l.mt(t(0, 0), other, MARKETING);
    l.mt(t(0, 0), other, UTILITY);
    for user in [FR, other, third] {
        l.mo(t(1, 0), user);
    }
    let text = l.mt(t(2, 0), FR, TEXT);
    assert_eq!((text.pricing_type, text.pricing_category), (PT::Conversation, Some(PC::Utility)));
    assert_eq!(l.mt(t(2, 0), other, TEXT).pricing_category, Some(PC::Marketing));
    // A service conversation priced first covers before a marketing one of the same instant
    // (slot order would say marketing).
    assert_eq!(l.mt(t(3, 0), third, TEXT).pricing_category, Some(PC::Service));
    assert_eq!(l.mt(t(3, 0), third, MARKETING).pricing_type, PT::Regular);
    assert_eq!(l.mt(t(4, 0), third, TEXT).pricing_category, Some(PC::Service));
}

/// docs/rules.md §4 and §6: a conversation opened at the authentication-international rate
/// gives its category to the lines it covers, templates and non-templates.
#[test]
fn a_conversation_opened_at_the_international_rate_labels_its_lines_international() {
    // The test card has Indonesia's international rate from 2025-07-01: force cbp-2023.
    let options = Options { rules: RuleChoice::Fixed(RuleSet::Cbp2023), ..Options::default() };
    let mut l = Log::new(engine_with("business,country,auth_intl_from\nB,IN,2025-01-01\n", options));
    let opening = l.mt(at(0, 0), ID, AUTH);
    assert_eq!(
        (tc(&opening), opening.pricing_category),
        ((PT::Regular, "0.136".into()), Some(PC::AuthenticationInternational))
    );
    // A domestic authentication conversation keeps its category.
    l.mt(at(0, 0), IN, AUTH);
    let again = l.mt(at(1, 0), ID, AUTH);
    assert_eq!(
        (tc(&again), again.pricing_category),
        ((PT::Conversation, "0".into()), Some(PC::AuthenticationInternational))
    );
    assert_eq!(l.mt(at(1, 0), IN, AUTH).pricing_category, Some(PC::Authentication));
    l.mo(at(2, 0), ID);
    let text = l.mt(at(3, 0), ID, TEXT);
    assert_eq!(
        (text.pricing_type, text.pricing_category),
        (PT::Conversation, Some(PC::AuthenticationInternational))
    );
    // After 24h the next one opens, again at the international rate.
    assert_eq!(tc(&l.mt(at(24, 0), ID, AUTH)), (PT::Regular, "0.136".into()));
}

/// docs/rules.md §7: `tier` only when the volume-tier rules chose the band; a tiered price read
/// at its first band outside them (here India's authentication under cbp-2023) has none.
#[test]
fn a_tiered_price_read_at_its_first_band_leaves_tier_empty() {
    let options = Options { rules: RuleChoice::Fixed(RuleSet::Cbp2023), ..Options::default() };
    let mut l = Log::new(engine_with("business\n", options));
    let line = l.mt(at(0, 0), IN, AUTH);
    assert_eq!((tc(&line), line.tier), ((PT::Regular, "0.0014".into()), None));
    // Under the tier rules the band is named.
    let mut l = log(0);
    assert_eq!(l.mt(at(0, 0), IN, AUTH).tier.map(|t| t.to_string()), Some("1:2".into()));
}

#[test]
fn a_template_in_a_service_conversation_opens_its_own() {
    let mut l = log(0);
    l.mo(t(0, 0), FR);
    assert_eq!(tc(&l.mt(t(1, 0), FR, TEXT)), (PT::Regular, "0.0859".into()));
    assert_eq!(tc(&l.mt(t(2, 0), FR, UTILITY)), (PT::Regular, "0.0768".into()));
}

#[test]
fn an_entry_point_opens_72h_and_closes_open_conversations() {
    let mut l = log(0);
    l.mt(t(0, 0), FR, MARKETING);
    l.entry(t(1, 0), FR);
    assert_eq!(l.mt(t(24, 3599), FR, TEXT).pricing_type, PT::FreeEntryPoint);
    assert_eq!(l.mt(t(96, 3598), FR, MARKETING).pricing_type, PT::FreeEntryPoint);
    // The marketing conversation was closed: the next marketing template opens a new one.
    assert_eq!(l.mt(t(96, 3599), FR, MARKETING).pricing_type, PT::Regular);
}

#[test]
fn an_entry_point_answered_at_24h_opens_a_paid_conversation() {
    let mut l = log(0);
    l.entry(t(0, 0), FR);
    assert_eq!(l.mt(t(24, 0), FR, MARKETING).pricing_type, PT::Regular);
}

#[test]
fn service_conversations_use_the_free_tier_until_october_2024() {
    let mut l = log(1);
    let other = "33600000001";
    l.mo(t(0, 0), FR);
    l.mo(t(0, 0), other);
    assert_eq!(l.mt(t(0, 1), FR, TEXT).pricing_type, PT::FreeTier);
    assert_eq!(l.mt(t(0, 1), other, MARKETING).pricing_type, PT::Regular); // templates do not count
    let other_text = l.mt(t(0, 2), other, TEXT); // covered by the marketing conversation
    assert_eq!(other_text.pricing_type, PT::Conversation);
    l.mo(t(0, 0) + TimeDelta::days(1), "33600000002");
    assert_eq!(tc(&l.mt(t(24, 1), "33600000002", TEXT)), (PT::Regular, "0.0859".into()));
}

#[test]
fn service_conversations_are_free_from_november_2024() {
    let accounts = "business,timezone\nB,Asia/Kolkata\n";
    let mut l = Log::new(engine_with(accounts, Options { free_conversations: 0, ..Options::default() }));
    let t = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
    // 2024-10-31 23:59:59 in Kolkata is 18:29:59Z.
    l.mo(t("2024-10-31T10:00:00Z"), FR);
    l.mo(t("2024-10-31T10:00:00Z"), "33600000001");
    assert_eq!(l.mt(t("2024-10-31T18:29:59Z"), FR, TEXT).pricing_type, PT::Regular);
    let free = l.mt(t("2024-10-31T18:30:00Z"), "33600000001", TEXT);
    assert_eq!((free.pricing_type, free.pricing_category), (PT::FreeCustomerService, Some(PC::Service)));
    // The free service conversation still opens for 24h.
    assert_eq!(l.mt(t("2024-10-31T19:00:00Z"), "33600000001", TEXT).pricing_type, PT::Conversation);
}

#[test]
fn open_cbp_2022_conversations_carry_into_cbp_2023() {
    let mut l = log(0);
    let t = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
    l.mt(t("2023-05-31T20:00:00Z"), FR, MARKETING);
    let carried = l.mt(t("2023-06-01T19:59:59Z"), FR, UTILITY);
    assert_eq!(
        (carried.rules, carried.pricing_type, carried.pricing_category),
        (RuleSet::Cbp2023, PT::Conversation, Some(PC::BusinessInitiated))
    );
    assert_eq!(l.mt(t("2023-06-01T20:00:00Z"), FR, UTILITY).pricing_type, PT::Regular);
}

#[test]
fn open_utility_conversations_carry_into_pmp_2025_for_utility_only() {
    let mut l = log(0);
    let t = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
    l.mt(t("2025-06-30T20:00:00Z"), FR, UTILITY);
    let carried = l.mt(t("2025-07-01T19:59:59Z"), FR, UTILITY);
    assert_eq!(
        (carried.rules, carried.pricing_model, carried.pricing_type),
        (RuleSet::Pmp2025, PricingModel::Cbp, PT::Conversation)
    );
    assert_eq!(l.mt(t("2025-07-01T19:59:59Z"), FR, MARKETING).pricing_type, PT::Regular);
    assert_eq!(l.mt(t("2025-07-01T20:00:00Z"), FR, UTILITY).pricing_type, PT::Regular);
}

#[test]
fn a_forced_rule_set_carries_nothing_over() {
    let options = Options { rules: RuleChoice::Fixed(RuleSet::Pmp2025), ..Options::default() };
    let mut l = Log::new(engine_with("business\n", options));
    let t = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
    l.mt(t("2025-06-30T20:00:00Z"), FR, UTILITY);
    assert_eq!(l.mt(t("2025-07-01T10:00:00Z"), FR, UTILITY).pricing_type, PT::Regular);
}

/// A Marketing Messages API template opens (or joins) a marketing conversation.
#[test]
fn a_marketing_lite_template_opens_a_marketing_conversation() {
    let mut l = log(0);
    let lite = l.mt(t(0, 0), FR, Kind::Template(Category::MarketingLite));
    assert_eq!((tc(&lite), lite.pricing_category), ((PT::Regular, "0.1432".into()), Some(PC::Marketing)));
    assert_eq!(tc(&l.mt(t(1, 0), FR, MARKETING)), (PT::Conversation, "0".into()));
}
