//! Meta's rate cards as Meta publishes them against wabill's own CSV: the same figures written
//! both ways make the same card, for any figures (a property test), and Meta's fixture files
//! (list, tiers, XLSX) price a log as their wabill CSV does.

use chrono::NaiveDate;
use proptest::prelude::*;
use wabill::{Markets, RateCard};

/// A card's figures without their sources: (currency, market, category, date, bands).
fn figures(card: &RateCard) -> Vec<String> {
    card.prices()
        .map(|(cur, market, cat, date, price)| {
            let bands: Vec<String> = price
                .bands()
                .iter()
                .map(|b| format!("{}-{:?}@{}", b.from, b.to, b.rate.normalize()))
                .collect();
            format!("{cur} {market} {cat} {date} {}", bands.join(" "))
        })
        .collect()
}

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/cards").join(name)).unwrap()
}

/// Meta's list and tier cards, and the list card as an XLSX workbook, read as the wabill CSV
/// cards of the same figures.
#[test]
fn metas_fixture_files_are_the_cards_of_their_figures() {
    let m = Markets::embedded();
    let date = Some(d("2026-10-01"));
    let list = RateCard::from_either(&fixture("meta-list-inr.csv"), "l.csv", date, None, &m).unwrap();
    let ours = RateCard::from_either(&fixture("card-inr.csv"), "c.csv", None, None, &m).unwrap();
    assert_eq!(figures(&list), figures(&ours));
    let xlsx = RateCard::from_either(&fixture("meta-list-inr.xlsx"), "l.xlsx", date, None, &m).unwrap();
    assert_eq!(figures(&xlsx), figures(&ours));
    let tiers = RateCard::from_either(&fixture("meta-tier-inr.csv"), "t.csv", date, None, &m).unwrap();
    let both = list.merge(tiers).unwrap();
    let ours = RateCard::from_either(&fixture("card-inr-tiered.csv"), "c.csv", None, None, &m).unwrap();
    assert_eq!(figures(&both), figures(&ours));
}

const MARKETS: [&str; 8] =
    ["India", "Brazil", "Germany", "Indonesia", "Rest of Africa", "North America", "Other", "United Kingdom"];
const HEADER: &str =
    "Market,Currency,Marketing,Utility,Authentication,\"Authentication-\r\nInternational\",Service";

proptest! {
    /// Any figures (rates of up to four decimals, `n/a` cells), in Meta's list layout with its
    /// preamble and token, and in wabill's CSV: the same card.
    #[test]
    fn a_list_card_reads_as_the_wabill_card_of_its_figures(
        rows in proptest::collection::vec((proptest::sample::select(&MARKETS[..]), proptest::collection::vec(proptest::option::weighted(0.8, 0u32..200_000), 5)), 1..8),
        (token, code) in proptest::sample::select(&[("₹", "INR"), ("$US", "USD"), ("€", "EUR"), ("GBD", "GBP"), ("RP", "IDR")][..]),
    ) {
        let categories = ["marketing", "utility", "authentication", "authentication_international", "service"];
        let mut meta = format!("\"Cost per message in {code}\",,,,,,\r\n,,,,,,\r\n{HEADER}\r\n");
        let mut ours = String::from("effective_from,currency,market,category,rate\n");
        let mut seen = std::collections::HashSet::new();
        for (market, rates) in &rows {
            if !seen.insert(*market) {
                continue;
            }
            let cells: Vec<String> = rates
                .iter()
                .map(|r| r.map_or("n/a".to_string(), |r| format!("{}.{:04}", r / 10_000, r % 10_000)))
                .collect();
            meta.push_str(&format!("{market},{token},{}\r\n", cells.join(",")));
            for (cell, category) in cells.iter().zip(categories) {
                if cell != "n/a" {
                    ours.push_str(&format!("2026-10-01,{code},{market},{category},{cell}\n"));
                }
            }
        }
        let m = Markets::embedded();
        let theirs = RateCard::from_meta_csv(meta.as_bytes(), "meta.csv", d("2026-10-01"), None, &m).unwrap();
        let ours = RateCard::from_csv(ours.as_bytes(), "ours.csv").unwrap();
        prop_assert_eq!(figures(&theirs), figures(&ours));
    }
}

/// Overlapping bands in Meta's tier card, and a file that claims to be a workbook but is not:
/// each an error naming the file and the place.
#[test]
fn bad_meta_cards_say_where() {
    let m = Markets::embedded();
    let date = Some(d("2026-10-01"));
    let tiers =
        String::from_utf8(fixture("meta-tier-inr.csv")).unwrap().replacen("\"100,001\"", "\"90,001\"", 1);
    let e = RateCard::from_either(tiers.as_bytes(), "t.csv", date, None, &m).unwrap_err().to_string();
    assert!(
        e.starts_with("t.csv:") && e.contains("tiers of Argentina utility") && e.contains("overlaps"),
        "{e}"
    );
    let e = RateCard::from_either(b"PK\x03\x04 not a zip", "c.xlsx", date, None, &m).unwrap_err().to_string();
    assert!(e.starts_with("c.xlsx: not an XLSX workbook"), "{e}");
    let e = RateCard::from_either(&fixture("meta-list-inr.csv"), "l.csv", None, None, &m)
        .unwrap_err()
        .to_string();
    assert!(e.contains("Meta's card carries no date"), "{e}");
}
