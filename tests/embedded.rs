//! The embedded markets table and rate card: every market in force has a rate for every
//! category its era charges, so a log priced with the defaults never meets a missing rate.

use wabill::{Currency, Markets, RateCard, RateCategory as C, RuleSet};

#[test]
fn every_market_in_force_has_the_rates_of_its_era() {
    let markets = Markets::embedded();
    let card = RateCard::embedded();
    let mut checked = 0;
    for (date, rules) in [
        ("2018-08-01", RuleSet::Nbp),
        ("2022-01-31", RuleSet::Nbp),
        ("2022-02-01", RuleSet::Cbp2022),
        ("2023-06-01", RuleSet::Cbp2023),
        ("2024-11-01", RuleSet::Cbp2023),
        ("2025-07-01", RuleSet::Pmp2025),
        ("2025-10-01", RuleSet::Pmp2025),
        ("2026-07-01", RuleSet::Pmp2025),
        ("2026-10-01", RuleSet::Pmp2026),
    ] {
        let date = date.parse().unwrap();
        let needed: &[C] = match rules {
            RuleSet::Nbp => &[C::Template],
            RuleSet::Cbp2022 => &[C::UserInitiated, C::BusinessInitiated],
            RuleSet::Cbp2023 => &[C::Marketing, C::Utility, C::Authentication, C::Service],
            RuleSet::Pmp2025 => &[C::Marketing, C::Utility, C::Authentication],
            RuleSet::Pmp2026 => &[C::Marketing, C::Utility, C::Authentication, C::Service],
        };
        let in_force = markets.in_force(date);
        assert!(in_force.len() >= 32, "{date}: {} markets", in_force.len());
        for market in in_force {
            for category in needed {
                assert!(
                    card.price(Currency::USD, market, *category, date).is_some(),
                    "no {category} rate for {market} on {date}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 800, "{checked} rates checked");
}

#[test]
fn the_embedded_table_routes_the_documented_cases() {
    let m = Markets::embedded();
    let d = |s: &str| s.parse().unwrap();
    assert_eq!(m.lookup("18095550100", None, d("2025-07-01")).1, "Rest of Latin America");
    assert_eq!(m.lookup("18765550100", None, d("2025-07-01")).1, "Rest of Latin America");
    assert_eq!(m.lookup("12125550100", None, d("2025-07-01")).1, "North America");
    assert_eq!(m.lookup("", Some("CA".parse().unwrap()), d("2025-07-01")).1, "North America");
    assert_eq!(m.lookup("263771234567", None, d("2025-09-30")).1, "Other");
    assert_eq!(m.lookup("263771234567", None, d("2025-10-01")).1, "Rest of Africa");
    assert_eq!(m.lookup("48601234567", None, d("2026-06-30")).1, "Rest of Central & Eastern Europe");
    assert_eq!(m.lookup("48601234567", None, d("2026-07-01")).1, "Poland");
    assert_eq!(m.lookup("201001234567", None, d("2025-07-01")).1, "Egypt");
    assert_eq!(m.lookup("99912345", None, d("2025-07-01")), (None, "Other"));
}

/// The COP card is Meta's of 2026-07-01 and 2026-10-01 (data/rates.md): every market in force
/// on either date has each rate its era charges, every figure verified, and authentication-
/// international for the 9 (then 18) markets that have it. Before the July card it has no price.
#[test]
fn the_cop_card_prices_every_market_on_the_dates_it_covers() {
    let markets = Markets::embedded();
    let card = RateCard::embedded();
    let cop: Currency = "COP".parse().unwrap();
    for (date, needed, intl) in [
        ("2026-07-01", &[C::Marketing, C::Utility, C::Authentication][..], 9),
        ("2026-10-01", &[C::Marketing, C::Utility, C::Authentication, C::Service][..], 18),
    ] {
        let date = date.parse().unwrap();
        let in_force = markets.in_force(date);
        for market in &in_force {
            for category in needed {
                let price = card.price(cop, market, *category, date);
                let price = price.unwrap_or_else(|| panic!("no COP {category} rate for {market} on {date}"));
                assert!(price.verified(), "COP {market} {category} on {date}: {}", price.source());
            }
        }
        let with_intl = in_force
            .iter()
            .filter(|m| card.price(cop, m, C::AuthenticationInternational, date).is_some())
            .count();
        assert_eq!(with_intl, intl, "{date}");
    }
    let june = "2026-06-30".parse().unwrap();
    assert!(card.price(cop, "Colombia", C::Marketing, june).is_none());
}
