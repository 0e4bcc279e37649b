//! Billing in 2026 (docs/rules.md §12): calls, groups, business-scoped user ids and the
//! Marketing Messages API's observed prices, priced through the engine.

use super::*;
use crate::domain::event::{Cost, Direction, PricingCategory as PC, PricingType as PT};

fn log() -> Log {
    Log::new(engine())
}

fn call(t: DateTime<Utc>, user: &str, direction: Direction, seconds: u32) -> Event<'_> {
    Event::call(t, "B", user, direction, seconds)
}

/// A business call pays ceil(seconds / 6) pulses at a tenth of the per-minute rate; an
/// unanswered one is `undelivered`. India: 0.0050 a minute, no tiers.
#[test]
fn a_call_of_0_1_6_7_and_56_seconds() {
    let mut l = log();
    let charges: Vec<_> =
        [0, 1, 6, 7, 56].iter().map(|&s| tc(&l.push(call(at(0, s.into()), IN, Direction::Mt, s)))).collect();
    assert_eq!(
        charges,
        [
            (PT::Undelivered, "0".into()),
            (PT::Regular, "0.0005".into()),
            (PT::Regular, "0.0005".into()),
            (PT::Regular, "0.001".into()),
            (PT::Regular, "0.005".into()),
        ]
    );
    let line = l.push(call(at(1, 0), IN, Direction::Mt, 60));
    assert_eq!((line.pricing_category, line.rate), (Some(PC::Call), Some("0.0050".parse().unwrap())));
}

/// Calls count minutes in their tier counter (per portfolio, market and local month); a call
/// that ends in a new band pays all its pulses at that band's rate. France: 0.0400 a minute
/// for minutes 1 and 2, then 0.0300.
#[test]
fn a_call_crossing_a_minute_tier_pays_the_new_bands_rate() {
    let mut l = log();
    // 100 s = 17 pulses: 1.7 minutes, in the first band.
    let first = l.push(call(at(0, 0), FR, Direction::Mt, 100));
    assert_eq!((tc(&first).1, first.tier.map(|t| t.to_string())), ("0.068".into(), Some("1:2".into())));
    // 30 s = 5 pulses: it ends in minute 3 (2.2 minutes), so all five pay 0.0300.
    let second = l.push(call(at(0, 200), FR, Direction::Mt, 30));
    assert_eq!((tc(&second).1, second.tier.map(|t| t.to_string())), ("0.015".into(), Some("3:MAX".into())));
    // Messages keep their own counters: a marketing template is not tiered by calls.
    assert_eq!(tc(&l.mt(at(0, 300), FR, MARKETING)).1, "0.0859");
}

/// docs/rules.md §2: only a call has a duration, and a call no template category.
#[test]
fn only_a_call_has_a_duration() {
    let mut l = log();
    let timed = Event { duration: 5, ..Event::mt(at(0, 0), "B", FR, TEXT) };
    let err = l.engine.push(&timed).unwrap_err();
    assert_eq!(err.to_string(), "duration: only a call has a duration (5)");
    assert_eq!(l.engine.live_pairs(), 0);
}

/// A user's call opens the window even unanswered: a free-form reply 23h59m later is free, one
/// at 24h is a violation. A user's call is `inbound`, category `call`.
#[test]
fn a_users_unanswered_call_opens_the_window() {
    let mut l = log();
    let inbound = l.push(call(at(0, 0), FR, Direction::Mo, 0));
    assert_eq!((tc(&inbound), inbound.pricing_category), ((PT::Inbound, "0".into()), Some(PC::Call)));
    assert_eq!(l.mt(at(23, 59 * 60), FR, TEXT).pricing_type, PT::FreeCustomerService);
    assert_eq!(l.mt(at(24, 0), FR, TEXT).pricing_type, PT::Violation);
}

/// The user's accepting a business's call opens the window; an unanswered one does not.
#[test]
fn an_answered_business_call_opens_the_window() {
    let mut l = log();
    l.push(call(at(0, 0), FR, Direction::Mt, 0));
    assert_eq!(l.mt(at(0, 1), FR, TEXT).pricing_type, PT::Violation);
    l.push(call(at(1, 0), FR, Direction::Mt, 12));
    assert_eq!(l.mt(at(1, 1), FR, TEXT).pricing_type, PT::FreeCustomerService);
}

/// A phone number and its business-scoped id are one person: one window, whichever id the
/// rows use and whichever comes first; the id's market is the number's.
#[test]
fn a_bsuid_and_the_same_persons_phone_number_share_one_window() {
    let mut l = log();
    l.push(Event::mo(at(0, 0), "B", FR).with_bsuid("FR.8f3k2"));
    let reply = l.mt(at(1, 0), "FR.8f3k2", TEXT);
    assert_eq!((reply.pricing_type, reply.market()), (PT::FreeCustomerService, "France"));

    // The id alone first: its window is the number's once they are linked.
    l.mo(at(2, 0), "IN.77x");
    let linked = l.push(Event::mt(at(3, 0), "B", IN, TEXT).with_bsuid("IN.77x"));
    assert_eq!(linked.pricing_type, PT::FreeCustomerService);

    // Linked ahead (an aliases file).
    l.engine.link("+62 812 3456 7890", "ID.q1").unwrap();
    l.mo(at(4, 0), "ID.q1");
    assert_eq!(l.mt(at(4, 1), ID, TEXT).pricing_type, PT::FreeCustomerService);
    assert_eq!(
        l.engine.link("ID.q1", "6281234567890").unwrap_err().to_string(),
        "phone: not a phone number (ID.q1)"
    );
}

/// Meta sends authentication templates to phone numbers only: one delivered to an id with no
/// known number is refused with the reason; to a linked id it is priced.
#[test]
fn an_authentication_template_delivered_to_a_bsuid_is_reported() {
    let mut l = log();
    let err = l.engine.push(&Event::mt(at(0, 0), "B", "FR.8f3k2", AUTH)).unwrap_err();
    assert!(
        err.to_string().contains("authentication template delivered to a business-scoped user id"),
        "{err}"
    );
    let failed = l.push(Event::mt(at(0, 1), "B", "FR.8f3k2", AUTH).with_status(Status::Failed));
    assert_eq!(failed.pricing_type, PT::Undelivered);
    l.engine.link(FR, "FR.8f3k2").unwrap();
    assert_eq!(tc(&l.push(Event::mt(at(0, 2), "B", "FR.8f3k2", AUTH))), (PT::Regular, "0.03".into()));
}

/// A member's message opens the group's window for every member; a business message is one
/// row per member, each priced at its member's market, under Meta's group words; an
/// undelivered member pays nothing. One message id for all members is no duplicate.
#[test]
fn a_group_message_with_one_member_undelivered() {
    let mut l = log();
    l.push(Event::mo(at(0, 0), "B", FR).in_group("G1"));
    let to = |user, status| {
        Event::mt(at(0, 5), "B", user, TEXT).in_group("G1").with_id("wamid.g").with_status(status)
    };
    let lines: Vec<_> = [(FR, Status::Delivered), (IN, Status::Read), (ID, Status::Failed)]
        .into_iter()
        .map(|(user, status)| {
            let line = l.push(to(user, status));
            (line.pricing_type, line.pricing_category, line.market().to_string())
        })
        .collect();
    assert_eq!(
        lines,
        [
            (PT::FreeGroupCustomerService, Some(PC::GroupService), "France".into()),
            (PT::FreeGroupCustomerService, Some(PC::GroupService), "India".into()),
            (PT::Undelivered, Some(PC::GroupService), "Indonesia".into()),
        ]
    );
    // A marketing template to the group: each member at their market's rate.
    let promo = |user| Event::mt(at(1, 0), "B", user, MARKETING).in_group("G1").with_id("wamid.h");
    assert_eq!(tc(&l.push(promo(FR))), (PT::Regular, "0.0859".into()));
    let india = l.push(promo(IN));
    assert_eq!(
        (tc(&india), india.pricing_category),
        ((PT::Regular, "0.0107".into()), Some(PC::GroupMarketing))
    );
    // The group's window is not the member's own.
    assert_eq!(l.mt(at(1, 1), IN, TEXT).pricing_type, PT::Violation);
}

/// Group service deliveries use the business number's pmp-2026 allowance.
#[test]
fn group_service_deliveries_use_the_numbers_allowance() {
    let mut l = pmp_2026(1);
    l.mo(at(0, 0), FR);
    l.push(Event::mo(at(0, 0), "B", FR).in_group("G1"));
    assert_eq!(l.mt(at(0, 1), FR, TEXT).pricing_type, PT::FreeCustomerService);
    let group = l.push(Event::mt(at(0, 2), "B", FR, TEXT).in_group("G1"));
    assert_eq!((tc(&group), group.pricing_category), ((PT::Regular, "0.03".into()), Some(PC::GroupService)));
}

/// With a maximum price, Meta charges what it observed: a `cost` is the charge of a charged
/// `marketing_lite` line (no rate); without one, the list rate; a cost in another currency
/// than the WABA's is refused; free lines stay free.
#[test]
fn a_max_price_delivery_with_and_without_cost() {
    let lite = Kind::Template(Category::MarketingLite);
    let mut l = log();
    let cost = |amount: &str, currency: Option<&str>| Cost {
        amount: amount.parse().unwrap(),
        currency: currency.map(|c| c.parse().unwrap()),
    };
    let observed = l.push(Event::mt(at(0, 0), "B", FR, lite).with_cost(cost("0.0612", Some("USD"))));
    assert_eq!((tc(&observed), observed.rate), ((PT::Regular, "0.0612".into()), None));
    let listed = l.mt(at(0, 1), FR, lite);
    assert_eq!((tc(&listed), listed.rate), ((PT::Regular, "0.0859".into()), Some("0.0859".parse().unwrap())));
    let err =
        l.engine.push(&Event::mt(at(0, 2), "B", FR, lite).with_cost(cost("0.05", Some("EUR")))).unwrap_err();
    assert_eq!(err.to_string(), "cost: in EUR, but the WABA is billed in USD (0.05)");
    let failed =
        l.push(Event::mt(at(0, 3), "B", FR, lite).with_cost(cost("0.05", None)).with_status(Status::Failed));
    assert_eq!(tc(&failed), (PT::Undelivered, "0".into()));
}

/// The 1,000 free service messages are counted per local month: in Kolkata (UTC+5:30), the
/// 1,000th of October is free at 23:59:59 local, the 1,001st at 00:00 local on 1 November
/// is the new month's first (free), and the month's 1,001st is charged.
#[test]
fn the_1000th_and_1001st_service_message_of_a_month_at_local_midnight() {
    let accounts = "business,timezone\nB,Asia/Kolkata\n";
    let options = Options { rates_date: Some("2026-10-01".parse().unwrap()), ..Options::default() };
    let mut l = Log::new(engine_with(accounts, options));
    let t = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
    let october = t("2026-10-31T18:29:59Z"); // 23:59:59 local
    l.mo(october - chrono::TimeDelta::hours(1), FR);
    for _ in 1..1000 {
        assert_eq!(l.mt(october, FR, TEXT).pricing_type, PT::FreeCustomerService);
    }
    let thousandth = l.mt(october, FR, TEXT);
    assert_eq!(
        (thousandth.pricing_type, thousandth.local_date.to_string()),
        (PT::FreeCustomerService, "2026-10-31".into())
    );
    let november = t("2026-10-31T18:30:00Z"); // 00:00 local
    let next = l.mt(november, FR, TEXT);
    assert_eq!(
        (next.pricing_type, next.local_date.to_string()),
        (PT::FreeCustomerService, "2026-11-01".into())
    );
    for _ in 2..=1000 {
        l.mt(november, FR, TEXT);
    }
    assert_eq!(tc(&l.mt(november, FR, TEXT)), (PT::Regular, "0.03".into()));
}
