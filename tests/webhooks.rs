//! Meta's webhooks as a log, against wabill's CSV log: the same generated traffic written both
//! ways prices to the same lines; and reconciled against Meta's verdicts made of wabill's own,
//! it agrees on every message, or disagrees on exactly the verdicts altered.

/// The command line's generator of synthetic traffic.
#[path = "../src/cli/generate.rs"]
#[allow(dead_code)]
mod generate;

use std::sync::Arc;

use std::collections::{HashMap, HashSet};

use proptest::prelude::*;
use serde_json::{json, Value};
use wabill::log::{
    price_logs, LogInput, ReadOptions, Row, Sink, WebhookOptions, WebhookReader, WEBHOOK_COLUMNS,
};
use wabill::reconcile::{Reconciler, Tolerance};
use wabill::{
    Accounts, Direction, Engine, Error, Kind, Markets, Options, Position, Pricebook, PricedLine,
    PricingModel, PricingType, RateCard,
};

/// The lines of a CSV log, duplicates left out (a repeated webhook is one message).
struct Lines(Vec<PricedLine>);

impl Sink for Lines {
    fn begin(&mut self, _: &[csv::StringRecord]) -> Result<(), Error> {
        Ok(())
    }
    fn priced(&mut self, _: &Row, line: &PricedLine) -> Result<(), Error> {
        if line.pricing_type != PricingType::Duplicate {
            self.0.push(line.clone());
        }
        Ok(())
    }
    fn rejected(&mut self, _: &Row, e: &Error) -> Result<(), Error> {
        panic!("{e}")
    }
}

fn book(g: &generate::Generate) -> Arc<Pricebook> {
    let mut accounts = Vec::new();
    generate::write_accounts(g, &mut accounts).unwrap();
    Arc::new(Pricebook::embedded(Accounts::from_csv(accounts.as_slice(), "accounts.csv").unwrap()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Generated traffic (support exchanges, campaigns, OTPs, entry points, failures, repeated
    /// webhooks, businesses in six time zones), written as a CSV log and as Meta's webhooks,
    /// prices to the same lines: the reduction of statuses loses nothing a CSV row says.
    #[test]
    fn the_same_traffic_as_csv_and_as_webhooks_prices_alike(
        seed in any::<u64>(),
        events in 50u64..1500,
        users in 5u64..400,
        days in 1u32..4,
    ) {
        let start = chrono::NaiveDate::from_ymd_opt(2025, 9, 28).unwrap();
        let g = generate::Generate { events, users, businesses: 6, seed, start, days };
        let (mut csv, mut webhooks) = (Vec::new(), Vec::new());
        generate::write_log_as(&g, generate::Format::Csv, &mut csv).unwrap();
        generate::write_log_as(&g, generate::Format::Webhooks, &mut webhooks).unwrap();
        let book = book(&g);

        let mut engine = Engine::new(book.clone(), Options::default());
        let mut from_csv = Lines(Vec::new());
        let input = vec![LogInput { name: "log.csv".into(), reader: csv.as_slice() }];
        price_logs(input, &mut engine, &ReadOptions::default(), &mut from_csv).unwrap();

        let mut engine = Engine::new(book, Options::default());
        let mut from_webhooks = Vec::new();
        for message in WebhookReader::new(webhooks.as_slice(), "log.ndjson", WebhookOptions::default()) {
            let message = message.unwrap();
            from_webhooks.push(engine.push(&message.event()).unwrap().clone());
        }
        prop_assert_eq!(from_csv.0.len(), from_webhooks.len());
        for (a, b) in from_csv.0.iter().zip(&from_webhooks) {
            prop_assert_eq!(a, b);
        }
    }
}

/// Meta's pricing object saying what wabill's line says (docs/rules.md §11, read backwards).
fn verdict_of(line: &PricedLine) -> Value {
    let category = line.pricing_category.map_or("", |c| c.as_str());
    match line.pricing_model {
        PricingModel::Cbp => json!({
            "billable": line.pricing_type != PricingType::FreeEntryPoint,
            "pricing_model": "CBP",
            "category": category,
        }),
        _ => json!({
            "billable": line.pricing_type == PricingType::Regular,
            "pricing_model": "PMP",
            "type": line.pricing_type.as_str(),
            "category": category,
        }),
    }
}

/// The dump with every status's pricing replaced by `verdicts` (by message id).
fn with_verdicts(dump: &[u8], verdicts: &HashMap<String, Value>) -> Vec<u8> {
    let mut out = Vec::new();
    for line in dump.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        let mut doc: Value = serde_json::from_slice(line).unwrap();
        let value = &mut doc["entry"][0]["changes"][0]["value"];
        if let Some(statuses) = value.get_mut("statuses").and_then(Value::as_array_mut) {
            for s in statuses {
                if let Some(v) = verdicts.get(s["id"].as_str().unwrap()) {
                    s["pricing"] = v.clone();
                }
            }
        }
        serde_json::to_writer(&mut out, &doc).unwrap();
        out.push(b'\n');
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    /// Generated traffic across the switch from conversations to per-message pricing (with
    /// carried-over conversations), its webhooks carrying Meta's verdicts made of wabill's own
    /// lines: reconciled, every delivered message is compared and agrees. With the category of
    /// some verdicts altered, exactly those messages disagree.
    #[test]
    fn reconcile_finds_exactly_the_verdicts_altered(
        seed in any::<u64>(),
        events in 50u64..1200,
        users in 5u64..300,
        one_in in 2u64..40,
    ) {
        let start = chrono::NaiveDate::from_ymd_opt(2025, 6, 29).unwrap();
        let g = generate::Generate { events, users, businesses: 6, seed, start, days: 4 };
        let mut dump = Vec::new();
        generate::write_log_as(&g, generate::Format::Webhooks, &mut dump).unwrap();
        let book = book(&g);

        // wabill's verdicts, and the sender's records of each message's kind.
        let mut engine = Engine::new(book.clone(), Options::default());
        let (mut ours, mut kinds) = (HashMap::new(), HashMap::<String, Kind>::new());
        for message in WebhookReader::new(dump.as_slice(), "log.ndjson", WebhookOptions::default()) {
            let message = message.unwrap();
            let line = engine.push(&message.event()).unwrap();
            if let (Direction::Mt, Some(id)) = (line.direction, &message.id) {
                kinds.insert(id.clone(), message.kind);
                if line.pricing_type != PricingType::Undelivered {
                    ours.insert(id.clone(), verdict_of(line));
                }
            }
        }
        // Some verdicts altered: another category.
        let mut altered = HashSet::new();
        let mut theirs = ours.clone();
        for (i, (id, v)) in theirs.iter_mut().enumerate() {
            if (i as u64).wrapping_add(seed).is_multiple_of(one_in) {
                let other = if v["category"] == "marketing" { "utility" } else { "marketing" };
                v["category"] = json!(other);
                altered.insert(id.clone());
            }
        }
        for (verdicts, expected) in [(&ours, HashSet::new()), (&theirs, altered)] {
            let dump = with_verdicts(&dump, verdicts);
            let options = WebhookOptions { templates: kinds.clone(), ..WebhookOptions::default() };
            let mut engine = Engine::new(book.clone(), Options::default());
            let mut check = Reconciler::new(Vec::new(), Tolerance::default());
            let mut disagree = HashSet::new();
            for message in WebhookReader::new(dump.as_slice(), "log.ndjson", options) {
                let message = message.unwrap();
                let line = engine.push(&message.event()).unwrap();
                let at = Position { file: "log.ndjson".into(), line: message.line };
                if let Some(d) = check.message(&message.event(), line, message.meta_says(), &at, Default::default()) {
                    prop_assert!(!d.reason.is_empty());
                    disagree.insert(message.id.clone().unwrap());
                }
            }
            let result = check.finish();
            prop_assert_eq!(result.messages.compared, ours.len() as u64);
            prop_assert_eq!(result.messages.disagreements(), expected.len() as u64);
            prop_assert_eq!(&disagree, &expected);
        }
    }
}

/// The embedded USD card with a per-minute call rate for France (the embedded cards have no
/// call rates), and the fixture's business billed in USD in UTC.
fn book_2026() -> Arc<Pricebook> {
    let mut card = include_str!("../data/rates-usd.csv").to_string();
    card.push_str("2026-01-01,USD,France,call,0.0400,,,test\n");
    let card = RateCard::from_csv(card.as_bytes(), "rates.csv").unwrap();
    let accounts = "business,waba,portfolio,timezone,currency,country\n\
                    106540352242922,102290129340398,P,UTC,USD,\n";
    let accounts = Accounts::from_csv(accounts.as_bytes(), "accounts.csv").unwrap();
    Arc::new(Pricebook::new(Markets::embedded(), &card, accounts))
}

const Y2026: &[u8] = include_bytes!("../fixtures/webhooks/y2026.ndjson");

/// The fixture's messages and calls, each with its line, priced as read.
fn priced_2026() -> Vec<(wabill::log::WebhookMessage, PricedLine)> {
    let mut engine = Engine::new(book_2026(), Options::default());
    WebhookReader::new(Y2026, "y2026.ndjson", WebhookOptions::default())
        .map(|m| {
            let m = m.unwrap();
            let line = engine.push(&m.event()).unwrap().clone();
            (m, line)
        })
        .collect()
}

/// docs/rules.md §10 and §12, through Meta's 2026 payloads (fixtures/webhooks/y2026.ndjson): a
/// user known only by business-scoped id writes, and the reply's statuses name them by phone
/// number and id: one person, one window, the reply free. A `marketing_lite` delivery with a
/// maximum price costs what Meta says. A user's call (connect, then terminate) is free and
/// opens the window for a free-form reply; a business's answered call of 100 s pays 17 pulses
/// of France's 0.0400 a minute, an unanswered one nothing. A group member's message carries
/// its group; the group's own status is not a row.
#[test]
fn metas_2026_payloads_price_as_meta_bills_them() {
    let lines = priced_2026();
    let got: Vec<_> = lines
        .iter()
        .map(|(m, l)| {
            let category = l.pricing_category.map_or(String::new(), |c| c.to_string());
            (m.id.clone().unwrap(), l.pricing_type, category, l.charge.to_string())
        })
        .collect();
    let row = |id: &str, t: PricingType, category: &str, charge: &str| {
        (id.to_string(), t, category.to_string(), charge.to_string())
    };
    assert_eq!(
        got,
        [
            row("wamid.Y1", PricingType::Inbound, "", "0"),
            row("wamid.Y2", PricingType::FreeCustomerService, "service", "0"),
            row("wamid.L1", PricingType::Regular, "marketing_lite", "0.0123"),
            row("wacid.U1", PricingType::Inbound, "call", "0"),
            row("wamid.R1", PricingType::FreeCustomerService, "service", "0"),
            row("wacid.B1", PricingType::Regular, "call", "0.0680"),
            row("wacid.B2", PricingType::Undelivered, "call", "0"),
            row("wamid.G1", PricingType::Inbound, "", "0"),
        ]
    );
    let (group, _) = lines.iter().find(|(m, _)| m.id.as_deref() == Some("wamid.G1")).unwrap();
    assert_eq!(group.group.as_deref(), Some("Y2FwaV9ncm91cDox"));
    let (_, lite) = &lines[2];
    assert_eq!(lite.rate, None, "an observed cost has no list rate");
}

/// Without the link the fixture's statuses make, the reply to the phone number has no open
/// window: the business-scoped id on the statuses is what makes it free.
#[test]
fn the_reply_is_free_only_through_the_link() {
    let unlinked: Vec<u8> =
        std::str::from_utf8(Y2026).unwrap().replace(r#""recipient_user_id":"FR.8f3k2Q","#, "").into_bytes();
    let mut engine = Engine::new(book_2026(), Options::default());
    let reply = WebhookReader::new(unlinked.as_slice(), "y2026.ndjson", WebhookOptions::default())
        .map(|m| m.unwrap())
        .find_map(|m| {
            let line = engine.push(&m.event()).unwrap().clone();
            (m.id.as_deref() == Some("wamid.Y2")).then_some(line)
        })
        .unwrap();
    assert_ne!(reply.pricing_type, PricingType::FreeCustomerService);
}

/// The dump and the CSV `wabill convert` makes of it price to the same lines: the 2026 columns
/// (kind, duration, group, bsuid, cost, cost_currency) carry all the engine reads.
#[test]
fn a_2026_dump_and_its_converted_csv_price_alike() {
    let direct: Vec<PricedLine> = priced_2026().into_iter().map(|(_, l)| l).collect();
    let mut csv = csv::Writer::from_writer(Vec::new());
    csv.write_record(WEBHOOK_COLUMNS).unwrap();
    for m in WebhookReader::new(Y2026, "y2026.ndjson", WebhookOptions::default()) {
        csv.write_record(m.unwrap().fields()).unwrap();
    }
    let csv = csv.into_inner().unwrap();
    let mut engine = Engine::new(book_2026(), Options::default());
    let mut converted = Lines(Vec::new());
    let input = vec![LogInput { name: "y2026.csv".into(), reader: csv.as_slice() }];
    price_logs(input, &mut engine, &ReadOptions::default(), &mut converted).unwrap();
    assert_eq!(converted.0, direct);
}

/// Malformed 2026 payloads (a contact's business-scoped id that is not one, a cost's currency
/// and amount, a call's direction, length and id) are each named by file, document line and
/// JSON path; the reader goes on past each.
#[test]
fn malformed_2026_payloads_are_named_by_json_path() {
    let dump = include_bytes!("../fixtures/webhooks/bad-2026.ndjson");
    let (mut rows, mut problems) = (Vec::new(), Vec::new());
    for r in WebhookReader::new(&dump[..], "bad-2026.ndjson", WebhookOptions::default()) {
        match r {
            Ok(m) => rows.push(m.id.unwrap()),
            Err(e) => problems.push(e.to_string()),
        }
    }
    let value = "$.entry[0].changes[0].value";
    assert_eq!(
        problems,
        [
            format!("bad-2026.ndjson:1: {value}.contacts[0].user_id: not a business-scoped user id (CC.…) (8f3k2Q)"),
            format!("bad-2026.ndjson:2: {value}.statuses[0].pricing.cost.currency: not an ISO 4217 currency code (US$)"),
            format!("bad-2026.ndjson:3: {value}.statuses[0].pricing.cost.amount: not a decimal number (n/a)"),
            format!("bad-2026.ndjson:4: {value}.calls[0].direction: not USER_INITIATED nor BUSINESS_INITIATED (INBOUND)"),
            format!("bad-2026.ndjson:5: {value}.calls[0].duration: not whole seconds (12.5)"),
            format!("bad-2026.ndjson:6: {value}.calls[0].id: missing"),
        ]
    );
    assert_eq!(rows, ["wacid.3"]);
}
