//! Meta's webhooks as a log, against wabill's CSV log: the same generated traffic written both
//! ways prices to the same lines.

/// The command line's generator of synthetic traffic.
#[path = "../src/cli/generate.rs"]
#[allow(dead_code)]
mod generate;

use std::sync::Arc;

use proptest::prelude::*;
use wabill::log::{price_logs, LogInput, ReadOptions, Row, Sink, WebhookOptions, WebhookReader};
use wabill::{Accounts, Engine, Error, Options, Pricebook, PricedLine, PricingType};

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
