//! The rules of pmp-2025 and pmp-2026 (`rules/pmp.rs`), priced through the engine.

use super::*;
use crate::domain::event::{Event, PricingCategory as PC, PricingModel, PricingType as PT};
use crate::engine::Options;
use crate::rules::{RuleChoice, RuleSet};

fn log() -> Log {
    Log::new(engine())
}

#[test]
fn marketing_and_authentication_are_charged_inside_the_window_too() {
    let mut l = log();
    assert_eq!(tc(&l.mt(at(0, 0), FR, MARKETING)), (PT::Regular, "0.0859".into()));
    l.mo(at(1, 0), FR);
    assert_eq!(tc(&l.mt(at(2, 0), FR, MARKETING)), (PT::Regular, "0.0859".into()));
    assert_eq!(tc(&l.mt(at(2, 0), FR, AUTH)), (PT::Regular, "0.03".into()));
}

#[test]
fn utility_is_free_inside_the_window_until_exactly_24h() {
    let mut l = log();
    l.mo(at(0, 0), FR);
    let inside = l.mt(at(23, 3599), FR, UTILITY);
    assert_eq!(tc(&inside), (PT::FreeCustomerService, "0".into()));
    assert_eq!(inside.pricing_category, Some(PC::Utility));
    assert_eq!(inside.rate, None);
    assert_eq!(tc(&l.mt(at(24, 0), FR, UTILITY)), (PT::Regular, "0.03".into()));
}

#[test]
fn non_templates_are_free_inside_the_window_and_violations_outside() {
    let mut l = log();
    assert_eq!(l.mt(at(0, 0), FR, TEXT).pricing_type, PT::Violation);
    l.mo(at(1, 0), FR);
    let reply = l.mt(at(1, 5), FR, TEXT);
    assert_eq!((reply.pricing_type, reply.pricing_category), (PT::FreeCustomerService, Some(PC::Service)));
    let late = l.mt(at(25, 0), FR, TEXT);
    assert_eq!(
        (late.pricing_type, late.pricing_category, late.charge.is_zero()),
        (PT::Violation, Some(PC::Service), true)
    );
}

#[test]
fn each_mo_reopens_the_window() {
    let mut l = log();
    l.mo(at(0, 0), FR);
    l.mo(at(20, 0), FR);
    assert_eq!(l.mt(at(43, 3599), FR, UTILITY).pricing_type, PT::FreeCustomerService);
    assert_eq!(l.mt(at(44, 0), FR, UTILITY).pricing_type, PT::Regular);
}

#[test]
fn ties_follow_input_order() {
    let mut l = log();
    // The MT listed before the MO of the same instant does not see it.
    assert_eq!(l.mt(at(0, 0), FR, UTILITY).pricing_type, PT::Regular);
    l.mo(at(0, 0), FR);
    assert_eq!(l.mt(at(0, 0), FR, UTILITY).pricing_type, PT::FreeCustomerService);
}

#[test]
fn an_entry_point_answered_within_24h_opens_72_free_hours() {
    let mut l = log();
    l.entry(at(0, 0), FR);
    let answer = l.mt(at(23, 3599), FR, MARKETING);
    assert_eq!(
        (answer.pricing_type, answer.pricing_category),
        (PT::FreeEntryPoint, Some(PC::ReferralConversion))
    );
    let opened = at(23, 3599);
    let last_free =
        l.mt(opened + chrono::TimeDelta::hours(72) - chrono::TimeDelta::seconds(1), FR, MARKETING);
    assert_eq!(last_free.pricing_type, PT::FreeEntryPoint);
    let after = l.mt(opened + chrono::TimeDelta::hours(72), FR, MARKETING);
    assert_eq!(tc(&after), (PT::Regular, "0.0859".into()));
}

#[test]
fn an_entry_point_answered_at_24h_opens_nothing() {
    let mut l = log();
    l.entry(at(0, 0), FR);
    assert_eq!(l.mt(at(24, 0), FR, MARKETING).pricing_type, PT::Regular);
    assert_eq!(l.mt(at(25, 0), FR, MARKETING).pricing_type, PT::Regular);
}

#[test]
fn an_entry_point_is_used_once() {
    let mut l = log();
    l.entry(at(0, 0), FR);
    assert_eq!(l.mt(at(1, 0), FR, MARKETING).pricing_type, PT::FreeEntryPoint);
    assert_eq!(l.mt(at(73, 0), FR, MARKETING).pricing_type, PT::Regular);
}

#[test]
fn only_the_latest_entry_point_counts() {
    let mut l = log();
    l.entry(at(0, 0), FR);
    l.mo(at(5, 0), FR); // a plain MO keeps the entry point
    l.entry(at(10, 0), FR);
    assert_eq!(l.mt(at(33, 3599), FR, MARKETING).pricing_type, PT::FreeEntryPoint);
}

#[test]
fn failed_replies_change_nothing() {
    let mut l = log();
    l.entry(at(0, 0), FR);
    let failed = l.failed(at(1, 0), FR, MARKETING);
    assert_eq!((failed.pricing_type, failed.pricing_category), (PT::Undelivered, Some(PC::Marketing)));
    assert_eq!(l.failed(at(1, 0), FR, TEXT).pricing_category, Some(PC::Service));
    assert_eq!(l.mt(at(2, 0), FR, MARKETING).pricing_type, PT::FreeEntryPoint);
}

#[test]
fn a_non_template_in_the_fep_window_but_outside_the_csw_is_a_violation() {
    let mut l = log();
    l.entry(at(0, 0), FR);
    assert_eq!(l.mt(at(1, 0), FR, TEXT).pricing_type, PT::FreeEntryPoint);
    assert_eq!(l.mt(at(30, 0), FR, TEXT).pricing_type, PT::Violation);
    assert_eq!(l.mt(at(30, 0), FR, UTILITY).pricing_type, PT::FreeEntryPoint);
}

#[test]
fn duplicates_change_nothing() {
    let mut l = log();
    l.push(Event::mo(at(0, 0), "B", FR).with_id("m1"));
    let dup = l.push(Event::mo(at(30, 0), "B", FR).with_id("m1"));
    assert_eq!((dup.pricing_type, dup.pricing_category), (PT::Duplicate, None));
    assert_eq!(l.mt(at(30, 1), FR, UTILITY).pricing_type, PT::Regular);
}

#[test]
fn tiers_are_telescopic_per_portfolio_market_family_month() {
    let accounts = "business,waba,portfolio,timezone\nB,W1,P,Asia/Kolkata\nB2,W2,P,UTC\n";
    let mut l = Log::new(engine_with(accounts, Options::default()));
    let rates: Vec<String> = (0..3).map(|i| l.mt(at(1, i), IN, AUTH).charge.to_string()).collect();
    assert_eq!(rates, ["0.0014", "0.0014", "0.0012"]);
    // Another WABA of the portfolio adds to the same counter.
    let other = l.push(Event::mt(at(1, 10), "B2", IN, AUTH));
    assert_eq!((other.charge.to_string(), other.tier.unwrap().to_string()), ("0.0012".into(), "3:4".into()));
    let fifth = l.mt(at(1, 11), IN, AUTH);
    assert_eq!(
        (fifth.charge.to_string(), fifth.tier.unwrap().to_string()),
        ("0.0010".into(), "5:MAX".into())
    );
}

#[test]
fn tier_counters_reset_at_local_midnight_of_the_month() {
    let accounts = "business,timezone\nB,Asia/Kolkata\n";
    let mut l = Log::new(engine_with(accounts, Options::default()));
    let t = |s: &str| s.parse::<chrono::DateTime<chrono::Utc>>().unwrap();
    for s in ["2025-09-30T18:29:57Z", "2025-09-30T18:29:58Z", "2025-09-30T18:29:59Z"] {
        l.push(Event::mt(t(s), "B", IN, AUTH));
    }
    // 18:30:00Z is 2025-10-01 00:00 in Kolkata: a new month, back to the first tier.
    let october = l.push(Event::mt(t("2025-09-30T18:30:00Z"), "B", IN, AUTH));
    assert_eq!(
        (october.month().to_string(), october.charge.to_string()),
        ("2025-10".into(), "0.0014".into())
    );
}

#[test]
fn free_messages_do_not_count_towards_tiers() {
    let mut l = log();
    l.mo(at(0, 0), IN);
    l.mt(at(0, 1), IN, UTILITY); // free, uncounted (utility has no tiers here anyway)
    l.entry(at(0, 2), IN);
    assert_eq!(l.mt(at(0, 3), IN, AUTH).pricing_type, PT::FreeEntryPoint);
    let charged = l.mt(at(80, 0), IN, AUTH);
    assert_eq!(charged.tier.unwrap().to_string(), "1:2");
}

#[test]
fn authentication_international_applies_from_its_start_abroad_only() {
    let accounts = "business,country,auth_intl_from\nB,IN,2025-09-10T06:00:00Z\n";
    let mut l = Log::new(engine_with(accounts, Options::default()));
    let before = l.mt(at(5, 3599), ID, AUTH);
    assert_eq!(
        (before.pricing_category, before.charge.to_string()),
        (Some(PC::Authentication), "0.0250".into())
    );
    let after = l.mt(at(6, 0), ID, AUTH);
    assert_eq!(
        (after.pricing_category, after.charge.to_string()),
        (Some(PC::AuthenticationInternational), "0.1360".into())
    );
    // Domestic recipients and markets without such a rate keep the authentication rate.
    assert_eq!(l.mt(at(6, 1), IN, AUTH).pricing_category, Some(PC::Authentication));
    assert_eq!(l.mt(at(6, 2), FR, AUTH).pricing_category, Some(PC::Authentication));
}

#[test]
fn authentication_international_needs_both_countries() {
    let accounts = "business,auth_intl_from\nB,2025-01-01\n";
    let mut l = Log::new(engine_with(accounts, Options::default()));
    assert_eq!(l.mt(at(0, 0), ID, AUTH).pricing_category, Some(PC::Authentication));
}

#[test]
fn a_missing_rate_is_an_error_and_changes_nothing() {
    let mut l = log();
    let err = l.engine.push(&Event::mt(at(0, 0), "B", "6599999999", MARKETING)).unwrap_err();
    assert_eq!(err.to_string(), "no rate for USD Other marketing on 2025-09-10");
    // pmp-2026 with an allowance of 1: the second service message needs a service rate
    // India lacks; its failure must not use the allowance nor touch the pair.
    let options =
        Options { rules: RuleChoice::Fixed(RuleSet::Pmp2026), service_allowance: 1, ..Options::default() };
    let mut l = Log::new(engine_with("business\n", options));
    l.mo(at(0, 0), IN);
    assert_eq!(l.mt(at(0, 1), IN, TEXT).pricing_type, PT::FreeCustomerService);
    let before = l.engine.debug_state();
    let err = l.engine.push(&Event::mt(at(0, 2), "B", IN, TEXT)).unwrap_err();
    assert_eq!(err.to_string(), "no rate for USD India service on 2025-09-10");
    assert_eq!(before, l.engine.debug_state());
}

#[test]
fn pmp_2026_charges_utility_in_the_window_and_service_after_the_allowance() {
    let options =
        Options { rules: RuleChoice::Fixed(RuleSet::Pmp2026), service_allowance: 2, ..Options::default() };
    let mut l = Log::new(engine_with("business\n", options));
    l.mo(at(0, 0), FR);
    assert_eq!(tc(&l.mt(at(0, 1), FR, UTILITY)), (PT::Regular, "0.03".into()));
    // Service rates exist from 2026-10-01 only in the test card: price with that card.
    let mut l = pmp_2026(2);
    l.mo(at(0, 0), FR);
    let types: Vec<_> = (1..=3).map(|s| tc(&l.mt(at(0, s), FR, TEXT))).collect();
    let free = (PT::FreeCustomerService, "0".into());
    assert_eq!(types, [free.clone(), free, (PT::Regular, "0.03".into())]);
    // The FEP window stays free and does not use the allowance.
    l.entry(at(1, 0), ID);
    assert_eq!(l.mt(at(1, 1), ID, TEXT).pricing_type, PT::FreeEntryPoint);
}

/// docs/rules.md §4, pmp-2026: Meta labels the allowance's free messages
/// `free_customer_service`, category `service`; `free_tier` belongs to the conversation eras.
#[test]
fn pmp_2026_labels_the_allowances_free_messages_free_customer_service() {
    let options = Options { service_allowance: 1, ..Options::default() };
    let mut l = Log::new(engine_with("business\n", options));
    let t = |s: &str| s.parse::<chrono::DateTime<chrono::Utc>>().unwrap();
    l.mo(t("2026-10-05T09:00:00Z"), FR);
    let free = l.mt(t("2026-10-05T09:00:01Z"), FR, TEXT);
    assert_eq!(
        (free.rules, free.pricing_type, free.pricing_category, free.rate, tc(&free).1),
        (RuleSet::Pmp2026, PT::FreeCustomerService, Some(PC::Service), None, "0".into())
    );
    let paid = l.mt(t("2026-10-05T09:00:02Z"), FR, TEXT);
    assert_eq!((tc(&paid), paid.pricing_category), ((PT::Regular, "0.03".into()), Some(PC::Service)));
}

#[test]
fn the_service_allowance_is_per_business_number_and_local_month() {
    let mut l = pmp_2026(1);
    l.mo(at(0, 0), FR);
    l.push(Event::mo(at(0, 0), "B2", FR));
    assert_eq!(l.mt(at(0, 1), FR, TEXT).pricing_type, PT::FreeCustomerService);
    assert_eq!(l.push(Event::mt(at(0, 1), "B2", FR, TEXT)).pricing_type, PT::FreeCustomerService);
    assert_eq!(l.mt(at(0, 2), FR, TEXT).pricing_type, PT::Regular);
}

#[test]
fn each_currency_has_its_own_card_and_nothing_is_converted() {
    let mut l = Log::new(engine_with("business,currency\nB,EUR\n", Options::default()));
    let err = l.engine.push(&Event::mt(at(0, 0), "B", FR, MARKETING)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "no rate for EUR France marketing on 2025-09-10: the rate card has no price in that currency"
    );
    // Free lines need no rate, and carry the WABA's currency.
    let free = l.mo(at(0, 1), FR);
    assert_eq!(free.currency.code(), "EUR");
}

#[test]
fn lines_name_their_rules_and_model() {
    let mut l = log();
    let line = l.mt(at(0, 0), FR, MARKETING);
    assert_eq!((line.rules, line.pricing_model), (RuleSet::Pmp2025, PricingModel::Pmp));
}

/// docs/rules.md §4: a Marketing Messages API template (`marketing_lite`) is priced as
/// marketing (inside the window too, no volume tiers) and labelled `marketing_lite`.
#[test]
fn a_marketing_lite_template_is_priced_as_marketing_and_labelled_apart() {
    let lite = Kind::Template(Category::MarketingLite);
    let mut l = log();
    let line = l.mt(at(0, 0), FR, lite);
    assert_eq!(tc(&line), (PT::Regular, "0.0859".into()));
    assert_eq!((line.pricing_category, line.tier), (Some(PC::MarketingLite), None));
    l.mo(at(1, 0), FR);
    assert_eq!(tc(&l.mt(at(2, 0), FR, lite)), (PT::Regular, "0.0859".into()));
}

/// docs/rules.md §13: with `explain`, a line carries the facts behind its verdict; without,
/// none.
#[test]
fn an_explained_line_carries_its_facts() {
    let options = Options { explain: true, service_allowance: 2, ..Options::default() };
    let mut l = Log::new(engine_with("business\n", options));
    let t = |s: &str| s.parse::<chrono::DateTime<chrono::Utc>>().unwrap();
    let mo = l.mo(t("2026-10-05T09:00:00Z"), FR);
    let reply = l.mt(t("2026-10-05T09:01:00Z"), FR, TEXT);
    assert_eq!(reply.why.window_opened, Some(t("2026-10-05T09:00:00Z")));
    assert_eq!((reply.why.allowance, reply.why.pair), (Some((1, 2)), mo.why.pair));
    let auth = l.mt(t("2026-10-05T09:02:00Z"), IN, AUTH);
    assert_eq!((auth.why.tier_position, auth.why.window_opened), (Some(1), None));
    assert_ne!(auth.why.pair, mo.why.pair);
    l.entry(t("2026-10-05T10:00:00Z"), ID);
    let free = l.mt(t("2026-10-05T10:01:00Z"), ID, MARKETING);
    assert_eq!(free.why.free_until, Some(t("2026-10-08T10:01:00Z")));
    let mut plain = log();
    plain.mo(t("2026-10-05T09:00:00Z"), FR);
    assert_eq!(plain.mt(t("2026-10-05T09:01:00Z"), FR, TEXT).why, crate::engine::Why::default());
}
