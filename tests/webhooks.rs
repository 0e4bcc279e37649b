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
use wabill::log::{price_logs, LogInput, ReadOptions, Row, Sink, WebhookOptions, WebhookReader};
use wabill::reconcile::{Reconciler, Tolerance};
use wabill::{
    Accounts, Direction, Engine, Error, Kind, Options, Position, Pricebook, PricedLine, PricingModel,
    PricingType,
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
