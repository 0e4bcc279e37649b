//! docs/rules.md §4 "Meta's own worked examples": each must hold.

mod common;

use common::{engine, h, instant};
use wabill::{Category, Event, Kind, Options, PricingType as PT, RuleChoice, RuleSet};

const B: &str = "33180000000";
const U: &str = "33612345678";

#[test]
fn pmp_worked_example() {
    let mut e = engine(Options::default());
    let t0 = instant("2025-09-01T08:00:00Z");
    let mut push = |hours, ev: fn(chrono::DateTime<chrono::Utc>) -> Event<'static>| {
        e.push(&ev(h(t0, hours))).unwrap().clone()
    };
    // h0 marketing template: charged.
    let l = push(0, |t| Event::mt(t, B, U, Kind::Template(Category::Marketing)));
    assert_eq!(l.pricing_type, PT::Regular);
    assert!(l.charge > rust_decimal::Decimal::ZERO);
    // h2 user message.
    assert_eq!(push(2, |t| Event::mo(t, B, U)).pricing_type, PT::Inbound);
    // h3 text: free.
    assert_eq!(push(3, |t| Event::mt(t, B, U, Kind::NonTemplate)).pricing_type, PT::FreeCustomerService);
    // h4 utility template: free (CSW).
    let l = push(4, |t| Event::mt(t, B, U, Kind::Template(Category::Utility)));
    assert_eq!((l.pricing_type, l.charge.is_zero()), (PT::FreeCustomerService, true));
    // h26 the CSW closes; h30 utility template: charged.
    let l = push(30, |t| Event::mt(t, B, U, Kind::Template(Category::Utility)));
    assert_eq!((l.pricing_type, l.charge.to_string()), (PT::Regular, "0.0300".into()));
}

#[test]
fn cbp_2023_worked_example() {
    let mut e = engine(Options::builder().rules(RuleChoice::Fixed(RuleSet::Cbp2023)).build().unwrap());
    let t0 = instant("2024-02-05T08:00:00Z");
    let mut push = |hours, ev: fn(chrono::DateTime<chrono::Utc>) -> Event<'static>| {
        e.push(&ev(h(t0, hours))).unwrap().clone()
    };
    // h0 marketing template: opens a marketing conversation, charged.
    let l = push(0, |t| Event::mt(t, B, U, Kind::Template(Category::Marketing)));
    assert_eq!((l.pricing_type, l.charge.to_string()), (PT::Regular, "0.1432".into()));
    // h4 user message.
    push(4, |t| Event::mo(t, B, U));
    // h5 interactive message: no new conversation.
    let l = push(5, |t| Event::mt(t, B, U, Kind::NonTemplate));
    assert_eq!((l.pricing_type, l.pricing_category.unwrap().as_str()), (PT::Conversation, "marketing"));
    // h24 the marketing conversation expires; h25 text: opens a service conversation.
    let l = push(25, |t| Event::mt(t, B, U, Kind::NonTemplate));
    assert_eq!((l.pricing_type, l.pricing_category.unwrap().as_str()), (PT::FreeTier, "service"));
    // h26 text: no new conversation.
    let l = push(26, |t| Event::mt(t, B, U, Kind::NonTemplate));
    assert_eq!((l.pricing_type, l.pricing_category.unwrap().as_str()), (PT::Conversation, "service"));
}

#[test]
fn tier_worked_example() {
    // The card's tier boundary is after the A-th (A = 3) authentication message of the month
    // in India: the first A at the list rate, the (A+1)-th onward at the next tier's rate.
    let mut e = engine(Options::default());
    let t0 = instant("2025-09-01T08:00:00Z");
    let charges: Vec<String> = (0..5)
        .map(|i| {
            let ev = Event::mt(h(t0, i), B, "919876543210", Kind::Template(Category::Authentication));
            let l = e.push(&ev).unwrap();
            format!("{} {}", l.charge, l.tier.unwrap())
        })
        .collect();
    assert_eq!(charges, ["0.0014 1:3", "0.0014 1:3", "0.0014 1:3", "0.0011 4:MAX", "0.0011 4:MAX"]);
}

#[test]
fn auto_switches_at_local_midnight_of_each_waba() {
    // 2025-06-30T18:30:00Z is 2025-07-01 00:00 in Kolkata but 15:30 on 2025-06-30 in São Paulo.
    let accounts = "business,timezone\nKOL,Asia/Kolkata\nSAO,America/Sao_Paulo\n";
    let mut e = wabill::Engine::new(common::book(accounts).into(), Options::default());
    let utility = Kind::Template(Category::Utility);
    let rules = |e: &mut wabill::Engine, t: &str, b: &'static str| {
        e.push(&Event::mt(instant(t), b, U, utility)).unwrap().rules
    };
    assert_eq!(rules(&mut e, "2025-06-30T18:29:59Z", "KOL"), RuleSet::Cbp2023);
    assert_eq!(rules(&mut e, "2025-06-30T18:30:00Z", "KOL"), RuleSet::Pmp2025);
    assert_eq!(rules(&mut e, "2025-06-30T18:30:00Z", "SAO"), RuleSet::Cbp2023);
    assert_eq!(rules(&mut e, "2025-07-01T02:59:59Z", "SAO"), RuleSet::Cbp2023);
    assert_eq!(rules(&mut e, "2025-07-01T03:00:00Z", "SAO"), RuleSet::Pmp2025);
}

/// docs/rules.md §2: a business-scoped user id is a user of the country its prefix names,
/// kept as written (never read as a number).
#[test]
fn a_business_scoped_user_id_is_priced_in_its_country() {
    use wabill::{Accounts, Category, Engine, Event, Kind, Options, Pricebook};
    let mut engine = Engine::new(Pricebook::embedded(Accounts::default()).into(), Options::default());
    let t = "2025-09-01T08:00:00Z".parse().unwrap();
    let line = engine
        .push(&Event::mt(t, "b", "BR.13491208655302741918", Kind::Template(Category::Marketing)))
        .unwrap();
    assert_eq!((line.market(), line.country.map(|c| c.to_string())), ("Brazil", Some("BR".into())));
    let line = engine.push(&Event::mt(t, "b", "IN.ENT.x9", Kind::Template(Category::Marketing))).unwrap();
    assert_eq!(line.market(), "India");
    assert!(engine.push(&Event::mt(t, "b", "XX.123", Kind::Template(Category::Marketing))).is_err());
}
