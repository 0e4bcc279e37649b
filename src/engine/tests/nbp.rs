//! The rules of nbp (`rules/nbp.rs`), priced through the engine.

use super::*;
use crate::domain::event::{PricingCategory as PC, PricingModel, PricingType as PT};
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
