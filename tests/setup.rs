//! `log::Setup`, the options of a run by name, prices as the command line does: the 2026
//! fixture (aliases, allowance, skipped rows) gzipped, into a summary grouped as the README's,
//! gives the golden summary; an accounts file with a typo gives the CLI's notes.

mod common;

use std::io::Write;

use wabill::log::{open_log, price_logs, Businesses, LogInput, Row, RowSummary, Setup, Sink};
use wabill::report::{Render, Summary};
use wabill::{Error, Position, PricedLine};

/// The summary of a run, and its businesses.
struct Collect {
    summary: RowSummary,
    businesses: Businesses,
    logs: Vec<String>,
}

impl Sink for Collect {
    fn begin(&mut self, headers: &[csv::StringRecord]) -> Result<(), Error> {
        self.summary.begin(headers, &self.logs)
    }

    fn priced(&mut self, row: &Row, line: &PricedLine) -> Result<(), Error> {
        self.summary.add(row, line)
    }

    fn rejected(&mut self, _: &Row, _: &Error) -> Result<(), Error> {
        Ok(())
    }

    fn business(&mut self, name: &str, first: Position) {
        self.businesses.add(name, first);
    }
}

/// The run of `setup` on one log, grouped by `keys`; the table and the accounts' notes.
fn run(setup: &Setup, log: &str, keys: &str) -> (String, Vec<String>) {
    let keys: Vec<_> = keys.split(',').map(|k| k.parse().unwrap()).collect();
    let mut engine = setup.engine().unwrap();
    let logs = vec![log.to_string()];
    let mut sink = Collect {
        summary: RowSummary::new(Summary::with_keys(&keys)),
        businesses: Businesses::default(),
        logs,
    };
    let input = LogInput { name: log.to_string(), reader: open_log(log).unwrap() };
    price_logs(vec![input], &mut engine, &setup.read_options().unwrap(), &mut sink).unwrap();
    let notes = setup.check_accounts(&engine, &sink.businesses).unwrap().notes();
    let mut table = Vec::new();
    sink.summary.summary().table(&mut table).unwrap();
    (String::from_utf8(table).unwrap(), notes)
}

#[test]
fn a_setup_by_name_prices_a_gzipped_log_as_the_cli() {
    let dir = common::Scratch::new();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&std::fs::read("fixtures/y2026/log.csv").unwrap()).unwrap();
    let log = dir.file("log.csv.gz", &gz.finish().unwrap());
    let mut setup = Setup::default();
    for (name, value) in [
        ("accounts", "fixtures/y2026/accounts.csv"),
        ("aliases", "fixtures/y2026/aliases.csv"),
        ("service_allowance", "6"),
        ("skip_invalid", "true"),
    ] {
        setup.set(name, Some(value)).unwrap();
    }
    let (table, notes) = run(&setup, log.to_str().unwrap(), "business,category,type");
    assert_eq!(table, std::fs::read_to_string("fixtures/golden/y2026.summary.txt").unwrap());
    assert_eq!(notes, Vec::<String>::new());
}

#[test]
fn the_accounts_check_notes_what_the_cli_says() {
    let mut setup = Setup::default();
    setup.accounts = Some("fixtures/small/accounts-typo.csv".into());
    let (_, notes) = run(&setup, "fixtures/example/log.csv", "month");
    let golden = std::fs::read_to_string("fixtures/golden/accounts-typo.stderr.txt").unwrap();
    let said: Vec<&str> = golden.lines().skip(1).map(|l| l.strip_prefix("wabill: ").unwrap()).collect();
    assert_eq!(notes, said);
    setup.strict_accounts = true;
    let mut engine = setup.engine().unwrap();
    let mut businesses = Businesses::default();
    let input = LogInput {
        name: "fixtures/example/log.csv".into(),
        reader: open_log("fixtures/example/log.csv").unwrap(),
    };
    price_logs(vec![input], &mut engine, &setup.read_options().unwrap(), &mut businesses).unwrap();
    let e = setup.check_accounts(&engine, &businesses).unwrap_err();
    assert_eq!(
        e.to_string(),
        "fixtures/example/log.csv:119: column business: not in the accounts file \
         fixtures/small/accounts-typo.csv (--strict-accounts) (33186950002)"
    );
}
