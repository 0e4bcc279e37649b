//! Invariants over arbitrary valid logs (proptest).

mod common;

use chrono::{DateTime, TimeDelta, Utc};
use csv::StringRecord;
use proptest::prelude::*;
use rust_decimal::Decimal;
use wabill::billing::Tariff;
use wabill::billing::{Billing, Part};
use wabill::log::{price_logs, LogInput, ReadOptions, Row, Sink};
use wabill::report::{GroupBy, Summary};
use wabill::{
    Category, Engine, Error, Event, Kind, Options, PricedLine, PricingType, RuleChoice, RuleSet, Status,
};

const ACCOUNTS: &str = "business,waba,portfolio,timezone\n\
    B0,W0,P0,Europe/Paris\n\
    B1,W1,P0,Asia/Kolkata\n\
    B2,W2,P1,America/Sao_Paulo\n";

const USERS: [&str; 6] =
    ["33612345678", "+33 6 00 00 00 01", "5511912345678", "55-11-90000-0002", "919876543210", "919800000003"];

/// One generated row: seconds after the previous row, business, user, direction, category,
/// status, entry point, and whether it repeats the id of an earlier row.
#[derive(Debug, Clone)]
struct Spec {
    gap: u32,
    business: usize,
    user: usize,
    mo: bool,
    category: usize,
    status: usize,
    entry: bool,
    repeat: Option<usize>,
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        0u32..30_000,
        0usize..3,
        0usize..6,
        any::<bool>(),
        0usize..5,
        0usize..5,
        prop::bool::weighted(0.2),
        prop::option::weighted(0.05, any::<usize>()),
    )
        .prop_map(|(gap, business, user, mo, category, status, entry, repeat)| Spec {
            gap,
            business,
            user,
            mo,
            category,
            status,
            entry,
            repeat,
        })
}

/// A log in CSV, starting 2025-09-28 (so it crosses a month boundary in every zone).
fn csv_of(specs: &[Spec], users: &[&str]) -> String {
    csv_from("2025-09-28T00:00:00Z", specs, users)
}

fn csv_from(start: &str, specs: &[Spec], users: &[&str]) -> String {
    let mut t: DateTime<Utc> = start.parse().unwrap();
    let mut out = String::from("timestamp,id,business,user,direction,category,status,entry_point\n");
    for (i, s) in specs.iter().enumerate() {
        t += TimeDelta::seconds(i64::from(s.gap));
        let id = match s.repeat {
            Some(r) if i > 0 => format!("m{}", r % i),
            _ => format!("m{i}"),
        };
        let (direction, category, status, entry) = if s.mo {
            ("mo", "", "", if s.entry { "ctwa" } else { "" })
        } else {
            let category = ["", "service", "marketing", "utility", "authentication"][s.category];
            let status = ["", "delivered", "read", "sent", "failed"][s.status];
            ("mt", category, status, "")
        };
        let user = users[s.user % users.len()];
        out.push_str(&format!(
            "{},{id},B{},{user},{direction},{category},{status},{entry}\n",
            t.to_rfc3339(),
            s.business
        ));
    }
    out
}

/// A sink that keeps every line, and bills the tariffs given.
#[derive(Default)]
struct Collect {
    lines: Vec<(usize, PricedLine)>,
    users: Vec<String>,
    billings: Vec<Billing>,
    /// Per billing, the sum of the lines' per-message fees.
    fees: Vec<Decimal>,
}

impl Sink for Collect {
    fn begin(&mut self, _: &[StringRecord]) -> Result<(), Error> {
        Ok(())
    }
    fn priced(&mut self, row: &Row, line: &PricedLine) -> Result<(), Error> {
        let event = row.event().expect("a priced row has its event");
        self.lines.push((row.log(), line.clone()));
        self.fees.resize(self.billings.len(), Decimal::ZERO);
        for (b, fee) in self.billings.iter_mut().zip(&mut self.fees) {
            *fee += b.add(&event, line)?;
        }
        self.users.push(event.user.replace(['+', ' ', '-'], ""));
        Ok(())
    }
    fn rejected(&mut self, _: &Row, error: &Error) -> Result<(), Error> {
        panic!("valid logs have no bad rows: {error}")
    }
}

fn engine() -> Engine {
    Engine::new(common::book(ACCOUNTS).into(), Options::default())
}

fn price(engine: &mut Engine, logs: &[&str]) -> Collect {
    let inputs = logs
        .iter()
        .enumerate()
        .map(|(i, l)| LogInput { name: format!("log{i}.csv"), reader: l.as_bytes() })
        .collect();
    let mut sink = Collect::default();
    price_logs(inputs, engine, &ReadOptions::default(), &mut sink).unwrap();
    sink
}

fn lines(c: &Collect) -> Vec<PricedLine> {
    c.lines.iter().map(|(_, l)| l.clone()).collect()
}

fn summary(lines: &[PricedLine]) -> Summary {
    let mut s = Summary::new(&GroupBy::DEFAULT);
    for l in lines {
        s.add(l).unwrap();
    }
    s
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn free_lines_cost_zero_and_charges_are_never_negative(specs in prop::collection::vec(spec(), 1..150)) {
        let whole = price(&mut engine(), &[&csv_of(&specs, &USERS)]);
        for line in lines(&whole) {
            prop_assert!(line.charge >= Decimal::ZERO);
            if line.pricing_type == PricingType::Regular {
                prop_assert_eq!(Some(line.charge), line.rate);
                prop_assert!(line.charge > Decimal::ZERO);
            } else {
                prop_assert_eq!(line.charge, Decimal::ZERO);
                prop_assert_eq!(line.rate, None);
                prop_assert_eq!(line.tier, None);
            }
        }
    }

    #[test]
    fn the_summary_equals_the_sum_of_the_lines(specs in prop::collection::vec(spec(), 1..150)) {
        let all = lines(&price(&mut engine(), &[&csv_of(&specs, &USERS)]));
        let totals = summary(&all).totals().unwrap();
        let total = totals.values().next().unwrap();
        prop_assert_eq!(total.lines, all.len() as u64);
        prop_assert_eq!(total.charged, all.iter().filter(|l| !l.charge.is_zero()).count() as u64);
        prop_assert_eq!(total.charge, all.iter().map(|l| l.charge).sum::<Decimal>());
        let by_groups: Decimal = summary(&all).groups().iter().map(|g| g.totals.charge).sum();
        prop_assert_eq!(by_groups, total.charge);
    }

    /// Whatever the grouping, each group holds exactly the lines with its key values (a line's
    /// values as a summary of that line alone shows them).
    #[test]
    fn each_group_holds_exactly_the_lines_with_its_keys(
        specs in prop::collection::vec(spec(), 1..150),
        by in prop::sample::subsequence(GroupBy::ALL.to_vec(), 0..=GroupBy::ALL.len()).prop_shuffle(),
    ) {
        let all = lines(&price(&mut engine(), &[&csv_of(&specs, &USERS)]));
        let mut expected = std::collections::BTreeMap::new();
        for l in &all {
            let mut alone = Summary::new(&by);
            alone.add(l).unwrap();
            let g = alone.groups().remove(0);
            let (lines, charge) = expected.entry((g.currency, g.keys)).or_insert((0, Decimal::ZERO));
            (*lines, *charge) = (*lines + 1, *charge + l.charge);
        }
        let mut s = Summary::new(&by);
        for l in &all {
            s.add(l).unwrap();
        }
        let got: std::collections::BTreeMap<_, _> =
            s.groups().into_iter().map(|g| ((g.currency, g.keys), (g.totals.lines, g.totals.charge))).collect();
        prop_assert_eq!(got, expected);
    }

    #[test]
    fn a_log_priced_in_chunks_equals_the_log_priced_whole(specs in prop::collection::vec(spec(), 2..150), cut in any::<prop::sample::Index>()) {
        let text = csv_of(&specs, &USERS);
        let whole = lines(&price(&mut engine(), &[&text]));
        let rows: Vec<&str> = text.lines().collect();
        let k = 1 + cut.index(rows.len() - 1);
        let first = format!("{}\n", rows[..k].join("\n"));
        let second = format!("{}\n{}\n", rows[0], rows[k..].join("\n"));
        // Chunks one after the other, state carried in the engine.
        let mut e = engine();
        let a = lines(&price(&mut e, &[&first]));
        let b = lines(&price(&mut e, &[&second]));
        prop_assert_eq!(&[a.clone(), b.clone()].concat(), &whole);
        let mut merged = summary(&a);
        merged.merge(&summary(&b)).unwrap();
        prop_assert_eq!(merged.groups(), summary(&whole).groups());
        // The two chunks given together are merged by timestamp into the same order.
        prop_assert_eq!(lines(&price(&mut engine(), &[&first, &second])), whole);
    }

    #[test]
    fn reading_on_a_second_thread_gives_the_single_threaded_lines(specs in prop::collection::vec(spec(), 1..150)) {
        // `--sort` reads and prices on the calling thread; a sorted log gives the same lines.
        let text = csv_of(&specs, &USERS);
        let threaded = lines(&price(&mut engine(), &[&text]));
        let mut sink = Collect::default();
        let input = vec![LogInput { name: "log.csv".into(), reader: text.as_bytes() }];
        let sorted = ReadOptions { sort: true, ..ReadOptions::default() };
        price_logs(input, &mut engine(), &sorted, &mut sink).unwrap();
        prop_assert_eq!(lines(&sink), threaded);
    }

    #[test]
    fn the_csv_path_prices_as_the_library_does(specs in prop::collection::vec(spec(), 1..150)) {
        // The reading thread computes part of each event's keys (a number's key, its market
        // prefix, the id's fingerprint); `Engine::push` computes them all itself.
        let text = csv_of(&specs, &USERS);
        let read = lines(&price(&mut engine(), &[&text]));
        let mut library = engine();
        let mut t: DateTime<Utc> = "2025-09-28T00:00:00Z".parse().unwrap();
        let mut pushed = Vec::new();
        for (i, s) in specs.iter().enumerate() {
            t += TimeDelta::seconds(i64::from(s.gap));
            let id = match s.repeat {
                Some(r) if i > 0 => format!("m{}", r % i),
                _ => format!("m{i}"),
            };
            let (business, user) = (format!("B{}", s.business), USERS[s.user % USERS.len()]);
            let ev = if s.mo {
                let ev = Event::mo(t, &business, user);
                if s.entry { ev.with_entry_point() } else { ev }
            } else {
                let kind = [
                    Kind::NonTemplate,
                    Kind::NonTemplate,
                    Kind::Template(Category::Marketing),
                    Kind::Template(Category::Utility),
                    Kind::Template(Category::Authentication),
                ][s.category];
                let status = [Status::Delivered, Status::Delivered, Status::Read, Status::Sent, Status::Failed][s.status];
                Event::mt(t, &business, user, kind).with_status(status)
            };
            pushed.push(library.push(&ev.with_id(&id)).unwrap().clone());
        }
        prop_assert_eq!(read, pushed);
    }

    #[test]
    fn forcing_the_rule_set_of_the_logs_era_changes_nothing(specs in prop::collection::vec(spec(), 1..150), era in 0usize..5) {
        // Starts well inside each era: the log (at most ~52 days) stays in it.
        let (start, rules) = [
            ("2021-03-01T00:00:00Z", RuleSet::Nbp),
            ("2022-06-01T00:00:00Z", RuleSet::Cbp2022),
            ("2024-09-20T00:00:00Z", RuleSet::Cbp2023),
            ("2025-09-01T00:00:00Z", RuleSet::Pmp2025),
            ("2026-10-05T00:00:00Z", RuleSet::Pmp2026),
        ][era];
        let text = csv_from(start, &specs, &USERS);
        let auto = lines(&price(&mut engine(), &[&text]));
        prop_assert!(auto.iter().all(|l| l.rules == rules));
        let forced = Options::builder().rules(RuleChoice::Fixed(rules)).build().unwrap();
        let fixed = lines(&price(&mut Engine::new(common::book(ACCOUNTS).into(), forced), &[&text]));
        prop_assert_eq!(fixed, auto);
    }

    #[test]
    fn invoices_add_up(specs in prop::collection::vec(spec(), 1..150)) {
        let billings = ["per-message", "licence", "per-user", "fair-use"].iter().map(|t| {
            let path = format!("fixtures/tariffs/{t}.toml");
            Billing::new(Tariff::from_toml(&std::fs::read_to_string(&path).unwrap(), &path).unwrap()).unwrap()
        }).collect();
        let mut sink = Collect { billings, ..Collect::default() };
        let text = csv_of(&specs, &USERS);
        let input = vec![LogInput { name: "log.csv".into(), reader: text.as_bytes() }];
        price_logs(input, &mut engine(), &ReadOptions::default(), &mut sink).unwrap();
        let meta: Decimal = sink.lines.iter().map(|(_, l)| l.charge).sum();
        sink.fees.resize(sink.billings.len(), Decimal::ZERO);
        for (b, fees) in sink.billings.iter().zip(&sink.fees) {
            let invoices = b.invoices().unwrap();
            let mut per_message = Decimal::ZERO;
            let mut meta_billed = Decimal::ZERO;
            for inv in &invoices {
                prop_assert_eq!(inv.total, inv.lines.iter().map(|l| l.amount).sum::<Decimal>());
                for l in &inv.lines {
                    prop_assert_eq!(l.amount, inv.currency.round(l.amount));
                    prop_assert!(l.amount >= Decimal::ZERO);
                    if l.part == Part::PerMessage {
                        per_message += l.quantity * l.unit_price.unwrap();
                    }
                    if l.part == Part::MetaFees {
                        meta_billed += l.amount;
                    }
                }
                if let Some(min) = b.tariff().minimum {
                    prop_assert!(inv.total >= min);
                }
            }
            prop_assert_eq!(*fees, per_message);
            // Each invoice rounds its Meta fees once: within half a cent per invoice of the exact sum.
            let slack = Decimal::new(5, 3) * Decimal::from(invoices.len() as u64);
            prop_assert!((meta_billed - meta).abs() <= slack);
        }
    }

    #[test]
    fn other_users_events_change_no_users_lines(specs in prop::collection::vec(spec(), 1..150), who in 0usize..4) {
        // Users without volume tiers (France, Brazil), so users share no counter.
        let users = &USERS[..4];
        let specs: Vec<Spec> = specs.into_iter().map(|s| Spec { repeat: None, ..s }).collect();
        let whole = price(&mut engine(), &[&csv_of(&specs, users)]);
        let alone_specs: Vec<Spec> = {
            // Keep the timestamps: fold the gaps of dropped rows into the next kept row.
            let mut kept = Vec::new();
            let mut gap = 0;
            for s in &specs {
                gap += s.gap;
                if s.user % users.len() == who {
                    kept.push(Spec { gap, ..s.clone() });
                    gap = 0;
                }
            }
            kept
        };
        let key = users[who].replace(['+', ' ', '-'], "");
        let mine: Vec<PricedLine> = whole.lines.iter().zip(&whole.users).filter(|(_, u)| **u == key).map(|((_, l), _)| l.clone()).collect();
        let alone = lines(&price(&mut engine(), &[&csv_of(&alone_specs, users)]));
        prop_assert_eq!(mine, alone);
    }
}
