//! Invoices of the example tariffs on a small log, computed by hand, and active users at a
//! month boundary in a non-UTC zone. The log (`fixtures/small/tariff-log.csv`, Europe/Paris,
//! one portfolio P1 of two numbers) priced with the test card of `common`:
//!
//! | row | what | Meta fee |
//! |---|---|---|
//! | w1, w2 | marketing to FR1, FR2 (delivered, read) | 0.0859 each |
//! | w3 | marketing to FR3, failed | 0 |
//! | w4..w6 | FR1 writes; free reply and utility inside the window | 0 |
//! | w7 | authentication to IN1 | 0.0014 |
//! | w8 | IN1 writes (and a duplicate of it) | 0 |
//! | w9 | FR4 writes on 30 Sept 23:00 Paris (21:00Z): September | 0 |
//! | w10 | utility to IN2 on 30 Sept 22:30Z = 1 Oct 00:30 Paris: October | 0.0014 |
//! | w11 | marketing to FR1 in October | 0.0859 |
//!
//! September: Meta fees 0.1732 on 3 lines, 9 counted lines (3 MOs, 5 delivered MTs, 1 failed).
//! October: Meta fees 0.0873 on 2 lines, 2 delivered MTs.

mod common;

use csv::StringRecord;
use rust_decimal::Decimal;
use wabill::billing::Tariff;
use wabill::billing::{Billing, Invoice};
use wabill::log::{price_logs, LogInput, ReadOptions, Row, Sink};
use wabill::{Engine, Error, Options, PricedLine};

struct Bill {
    billing: Billing,
    fees: Decimal,
}

impl Sink for Bill {
    fn begin(&mut self, _: &[StringRecord]) -> Result<(), Error> {
        Ok(())
    }
    fn priced(&mut self, row: &Row, line: &PricedLine) -> Result<(), Error> {
        self.fees += self.billing.add(&row.event().expect("a priced row has its event"), line)?;
        Ok(())
    }
    fn rejected(&mut self, _: &Row, e: &Error) -> Result<(), Error> {
        panic!("{e}")
    }
}

fn bill(tariff: Tariff) -> (Vec<Invoice>, Decimal) {
    let accounts = std::fs::read_to_string("fixtures/small/tariff-accounts.csv").unwrap();
    let mut engine = Engine::new(common::book(&accounts).into(), Options::default());
    let log = std::fs::read("fixtures/small/tariff-log.csv").unwrap();
    let input = vec![LogInput { name: "tariff-log.csv".into(), reader: &log[..] }];
    let mut sink = Bill { billing: Billing::new(tariff).unwrap(), fees: Decimal::ZERO };
    price_logs(input, &mut engine, &ReadOptions::default(), &mut sink).unwrap();
    (sink.billing.invoices().unwrap(), sink.fees)
}

/// The invoices of `tariff` over the log `log`, of business `B` in portfolio P1 (Paris).
fn bill_log(tariff: Tariff, log: &str) -> (Vec<Invoice>, Decimal) {
    let accounts = "business,portfolio,timezone\nB,P1,Europe/Paris\n";
    let mut engine = Engine::new(common::book(accounts).into(), Options::default());
    let input = vec![LogInput { name: "log.csv".into(), reader: log.as_bytes() }];
    let mut sink = Bill { billing: Billing::new(tariff).unwrap(), fees: Decimal::ZERO };
    price_logs(input, &mut engine, &ReadOptions::default(), &mut sink).unwrap();
    (sink.billing.invoices().unwrap(), sink.fees)
}

fn example(name: &str) -> Tariff {
    let path = format!("fixtures/tariffs/{name}.toml");
    Tariff::from_toml(&std::fs::read_to_string(&path).unwrap(), &path).unwrap()
}

/// Each invoice as `month: part quantity×price=amount, …; total`.
fn show(invoices: &[Invoice]) -> Vec<String> {
    invoices
        .iter()
        .map(|inv| {
            let lines: Vec<String> = inv
                .lines
                .iter()
                .map(|l| {
                    let price = l.unit_price.map(|p| format!("×{}", p.normalize())).unwrap_or_default();
                    format!("{} {}{price}={}", l.part, l.quantity.normalize(), l.amount)
                })
                .collect();
            format!("{} {}: {}; total {}", inv.unit, inv.month, lines.join(", "), inv.total)
        })
        .collect()
}

#[test]
fn per_message_tariff() {
    let (invoices, fees) = bill(example("per-message"));
    assert_eq!(
        show(&invoices),
        [
            // 3 MOs + 5 delivered MTs at 0.005; the failed MT at 0.001 rounds to 0.00.
            "P1 2025-09: meta_fees 3=0.17, per_message 8×0.005=0.04, per_message 1×0.001=0.00; total 0.21",
            "P1 2025-10: meta_fees 2=0.09, per_message 2×0.005=0.01; total 0.10",
        ]
    );
    // The per-message fees of the lines add up to the per-message invoice lines (exact).
    let exact: Decimal = invoices
        .iter()
        .flat_map(|i| &i.lines)
        .filter(|l| l.part.as_str() == "per_message")
        .map(|l| l.quantity * l.unit_price.unwrap())
        .sum();
    assert_eq!(fees, exact);
    assert_eq!(fees.to_string(), "0.051");
}

#[test]
fn licence_tariff() {
    let (invoices, _) = bill(example("licence"));
    assert_eq!(
        show(&invoices),
        [
            "P1 2025-09: meta_fees 3=0.17, fixed 2×49=98.00; total 98.17",
            "P1 2025-10: meta_fees 2=0.09, fixed 2×49=98.00; total 98.09",
        ]
    );
}

#[test]
fn per_user_tariff_with_included_users_markup_and_minimum() {
    let (invoices, _) = bill(example("per-user"));
    assert_eq!(
        show(&invoices),
        [
            // 4 active users (FR1, FR2, IN1, FR4; FR3's only message failed), all included;
            // 5% of 0.1732 = 0.00866; the minimum tops 0.18 up to 99.
            "P1 2025-09: meta_fees 3=0.17, markup 0.1732×0.05=0.01, per_user 4×0=0.00, minimum 1×98.82=98.82; total 99.00",
            "P1 2025-10: meta_fees 2=0.09, markup 0.0873×0.05=0.00, per_user 2×0=0.00, minimum 1×98.91=98.91; total 99.00",
        ]
    );
}

#[test]
fn fair_use_tariff() {
    let (invoices, _) = bill(example("fair-use"));
    assert_eq!(
        show(&invoices),
        [
            // Active with both directions: FR1 (4 messages: one block of 50) and IN1 (2).
            "P1 2025-09: meta_fees 3=0.17, per_user 2×0.1=0.20; total 0.37",
            // In October nobody wrote: no active user.
            "P1 2025-10: meta_fees 2=0.09; total 0.09",
        ]
    );
}

/// A per-user tariff billing each active user 1, with bands too small to matter.
fn users_tariff(active_when: &str, extra: &str) -> Tariff {
    let text = format!(
        "name = \"u\"\ncurrency = \"USD\"\n[meta]\npass_through = false\n[per_user]\nactive_when = \"{active_when}\"\n{extra}tiers = [{{ price = \"1\" }}]\n"
    );
    Tariff::from_toml(&text, "u.toml").unwrap()
}

#[test]
fn active_users_by_definition_at_a_paris_month_boundary() {
    for (when, september, october) in [("mo", 3, 0), ("mt", 3, 2), ("any", 4, 2), ("both", 2, 0)] {
        let (invoices, _) = bill(users_tariff(when, ""));
        let users: Vec<u64> = invoices.iter().map(|i| i.total.try_into().unwrap()).collect();
        assert_eq!(users, [september, october], "active_when = {when}");
    }
    // Counting failed messages too makes FR3 active in September.
    let (invoices, _) = bill(users_tariff("mt", "statuses = [\"delivered\", \"read\", \"failed\"]\n"));
    assert_eq!(invoices[0].total, Decimal::from(4));
}

#[test]
fn fair_use_blocks_count_started_blocks() {
    // FR1 has 4 counted messages in September, IN1 2, FR2 1, FR4 1: with blocks of 3,
    // FR1 counts 2 users and every other active user 1.
    let (invoices, _) = bill(users_tariff("any", "messages_per_user = 3\n"));
    assert_eq!(invoices[0].total, Decimal::from(5));
}

#[test]
fn graduated_and_volume_bands() {
    let tiers = "tiers = [{ up_to = 1, price = \"0\" }, { up_to = 3, price = \"2\" }, { price = \"1\" }]";
    let graduated = Tariff::from_toml(
        &format!("name = \"g\"\ncurrency = \"USD\"\n[meta]\npass_through = false\n[per_user]\n{tiers}\n"),
        "g.toml",
    )
    .unwrap();
    let (invoices, _) = bill(graduated);
    // 4 users: 1 included, 2 at 2, 1 at 1.
    assert_eq!(
        show(&invoices)[0],
        "P1 2025-09: per_user 1×0=0.00, per_user 2×2=4.00, per_user 1×1=1.00; total 5.00"
    );
    let volume = Tariff::from_toml(&format!("name = \"v\"\ncurrency = \"USD\"\n[meta]\npass_through = false\n[per_user]\npricing = \"volume\"\n{tiers}\n"), "v.toml").unwrap();
    let (invoices, _) = bill(volume);
    // 4 users, all at the band holding 4.
    assert_eq!(show(&invoices)[0], "P1 2025-09: per_user 4×1=4.00; total 4.00");
    // 2 users in October: all at the band holding 2.
    assert_eq!(show(&invoices)[1], "P1 2025-10: per_user 2×2=4.00; total 4.00");
}

#[test]
fn pass_through_in_another_currency_is_refused() {
    let text =
        std::fs::read_to_string("fixtures/tariffs/licence.toml").unwrap().replace("\"USD\"", "\"EUR\"");
    let tariff = Tariff::from_toml(&text, "licence-eur.toml").unwrap();
    let accounts = std::fs::read_to_string("fixtures/small/tariff-accounts.csv").unwrap();
    let mut engine = Engine::new(common::book(&accounts).into(), Options::default());
    let log = std::fs::read("fixtures/small/tariff-log.csv").unwrap();
    let input = vec![LogInput { name: "tariff-log.csv".into(), reader: &log[..] }];
    let mut sink = Bill { billing: Billing::new(tariff).unwrap(), fees: Decimal::ZERO };
    let e = price_logs(input, &mut engine, &ReadOptions::default(), &mut sink).unwrap_err();
    assert_eq!(
        e.to_string(),
        "licence-eur.toml:4: key currency: the tariff is in EUR but WABA W1's Meta fees are in USD (meta.pass_through = true)"
    );
}

#[test]
fn a_tariff_built_in_code_is_checked_like_a_toml_one() {
    use wabill::billing::{ActiveWhen, PerUser, UserBand, UserPricing, DELIVERED};
    let mut t = Tariff::new("coded", wabill::Currency::USD);
    let band = |up_to, price: u32| UserBand { up_to, price: price.into() };
    t.per_user = Some(PerUser {
        active_when: ActiveWhen::Any,
        statuses: DELIVERED.to_vec(),
        messages_per_user: 0,
        pricing: UserPricing::Graduated,
        tiers: vec![band(Some(100), 0), band(Some(50), 1), band(None, 2)],
    });
    assert_eq!(
        Billing::new(t).unwrap_err().to_string(),
        "tariff coded: bands out of order: up_to = 50 after 100"
    );
}

#[test]
fn fixed_fees_count_the_businesses_wabas_or_portfolios_with_traffic() {
    // September: B1 and B2 (in W1 and W2, both of P1) have rows; October too.
    let text = "name = \"f\"\ncurrency = \"USD\"\n[meta]\npass_through = false\n\
        [[fixed]]\nname = \"number\"\nper = \"business\"\nprice = \"1\"\n\
        [[fixed]]\nname = \"account\"\nper = \"waba\"\nprice = \"10\"\n\
        [[fixed]]\nname = \"platform\"\nper = \"portfolio\"\nprice = \"100\"\n";
    let (invoices, _) = bill(Tariff::from_toml(text, "f.toml").unwrap());
    assert_eq!(
        show(&invoices)[0],
        "P1 2025-09: fixed 2×1=2.00, fixed 2×10=20.00, fixed 1×100=100.00; total 122.00"
    );
}

/// docs/rules.md §8 and §12: a call is one item of a per-message tariff (a business call
/// delivered only when answered), and a business message to a group one item per member.
#[test]
fn calls_and_group_deliveries_are_items_of_a_per_message_tariff() {
    let log = "timestamp,business,user,direction,category,status,kind,duration,group,id\n\
        2025-09-02T09:00:00Z,B,33600000001,mo,,,call,0,,c1\n\
        2025-09-02T09:05:00Z,B,33600000001,mt,,,call,60,,c2\n\
        2025-09-02T09:06:00Z,B,33600000002,mt,,,call,,,c3\n\
        2025-09-02T10:00:00Z,B,33600000003,mo,,,,,G,m1\n\
        2025-09-02T10:01:00Z,B,33600000003,mt,,delivered,,,G,m2\n\
        2025-09-02T10:01:00Z,B,33600000004,mt,,read,,,G,m2\n\
        2025-09-02T10:01:00Z,B,33600000005,mt,,failed,,,G,m2\n";
    let (invoices, fees) = bill_log(example("per-message"), log);
    // Items at 0.005: the user's call, the answered business call, the member's message and
    // two delivered members; at 0.001: the unanswered call and the failed member.
    assert_eq!(
        show(&invoices),
        ["P1 2025-09: meta_fees 1=0.04, per_message 5×0.005=0.03, per_message 2×0.001=0.00; total 0.07"]
    );
    assert_eq!(fees.to_string(), "0.027");
}
