//! Bad, hostile and odd input: nothing lost, nothing priced twice, no panic.

mod common;

/// The command line's generator of synthetic traffic.
#[path = "../src/cli/generate.rs"]
#[allow(dead_code)]
mod generate;

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use csv::StringRecord;
use proptest::prelude::*;
use rust_decimal::Decimal;
use wabill::log::{price_logs, LogInput, ReadOptions, Row, Sink};
use wabill::{Accounts, Engine, Error, ErrorKind, Markets, Options, PricedLine, RateCard};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn wabill(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_wabill")).args(args).current_dir(root()).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// A file holding `bytes`, in a directory removed when the first value is dropped.
fn temp(name: &str, bytes: &[u8]) -> (common::Scratch, PathBuf) {
    let dir = common::Scratch::new();
    let path = dir.file(name, bytes);
    (dir, path)
}

/// The appended columns of every priced line of a log (the pricing, not the pass-through).
fn pricing(path: &str) -> Vec<Vec<String>> {
    let (code, stdout, stderr) = wabill(&["price", path, "--lines", "-"]);
    assert_eq!(code, 0, "{path}: {stderr}");
    let mut r = csv::Reader::from_reader(stdout.as_bytes());
    let headers = r.headers().unwrap().clone();
    let from = headers.iter().position(|h| h == "rules").unwrap();
    r.records().map(|rec| rec.unwrap().iter().skip(from).map(String::from).collect()).collect()
}

#[test]
fn odd_but_valid_inputs_price_like_their_plain_form() {
    let plain = std::fs::read_to_string(root().join("fixtures/readme/log.csv")).unwrap();
    let expected = pricing("fixtures/readme/log.csv");
    let mut variants: Vec<(&str, String)> = vec![
        ("bom.csv", format!("\u{feff}{plain}")),
        ("crlf.csv", plain.replace('\n', "\r\n")),
        (
            "upper.csv",
            plain
                .replace(",mt,", ",MT,")
                .replace(",mo,", ",Inbound,")
                .replace("marketing", "MARKETING")
                .replace("read", "Read"),
        ),
        (
            "spaces.csv",
            plain.replace(",mt,", ", mt ,").replace(",utility,", ",  utility,").replace(",shop,", ", shop ,"),
        ),
    ];
    // Quoted fields holding commas, quotes and newlines, in an extra column.
    let mut quoted = String::new();
    for (i, line) in plain.lines().enumerate() {
        let extra = if i == 0 { "note".to_string() } else { format!("\"said \"\"hi\"\", then\nleft, {i}\"") };
        quoted.push_str(&format!("{line},{extra}\n"));
    }
    variants.push(("quoted.csv", quoted));
    // Quoted ordinary fields and a header in another order and case.
    let mut reordered = String::from("Direction,USER,Timestamp,Business,Category,Status,Entry_Point\n");
    for line in plain.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        reordered
            .push_str(&format!("\"{}\",\"{}\",{},{},{},{},{}\n", f[3], f[2], f[0], f[1], f[4], f[5], f[6]));
    }
    variants.push(("reordered.csv", reordered));
    for (name, text) in variants {
        let (_path_dir, path) = temp(name, text.as_bytes());
        assert_eq!(pricing(path.to_str().unwrap()), expected, "{name}");
    }
}

#[test]
fn quoted_and_spaced_fields_price_and_dedup_like_plain_ones() {
    // Each row's id, user and business, plain; a repeated id is a duplicate.
    // Non-ASCII ids and business: the strings' spans in a re-assembled row fall between
    // characters of several bytes.
    let rows =
        [("wé1", "+33 6 12 34 56 78", "mo"), ("w2", "33612345678", "mt"), ("wé1", "33612345678", "mt")];
    let mut plain = String::from("timestamp,id,business,user,direction,category\n");
    let mut quoted = plain.clone();
    for (i, (id, user, direction)) in rows.iter().enumerate() {
        let category = if *direction == "mt" { "utility" } else { "" };
        plain.push_str(&format!("2025-09-10T09:00:0{i}Z,{id},shöp,{user},{direction},{category}\n"));
        // Every field quoted, the strings with spaces inside the quotes.
        quoted.push_str(&format!(
            "\"2025-09-10T09:00:0{i}Z\",\" {id} \",\"shöp \",\" {user}\",\"{direction}\",\"{category}\"\n"
        ));
    }
    let (_plain_dir, plain) = temp("plain.csv", plain.as_bytes());
    let (_quoted_dir, quoted) = temp("quoted.csv", quoted.as_bytes());
    let expected = pricing(plain.to_str().unwrap());
    assert_eq!(
        expected.iter().filter(|line| line.iter().any(|v| v == "duplicate")).count(),
        1,
        "{expected:?}"
    );
    assert_eq!(pricing(quoted.to_str().unwrap()), expected);
}

/// docs/rules.md §2: unknown columns are kept and passed through to the output. A plain line goes out
/// as it was read (non-ASCII included); a row with quotes, or ended by CRLF, is read by
/// csv_core and written again, quoted where a field needs it.
#[test]
fn unknown_columns_pass_through_whatever_the_row_looks_like() {
    let log = "timestamp,business,user,direction,note\n\
        2025-09-10T09:00:00Z,shop,33612345678,mo,café crème\n\
        2025-09-10T09:00:01Z,shop,33612345678,mo,\"said \"\"hi\"\", then left\"\n\
        2025-09-10T09:00:02Z,shop,33612345678,mo,line ended by CRLF\r\n\
        2025-09-10T09:00:03Z,shop,33612345678,mo,\"plain, but quoted\"\n";
    let (_dir, path) = temp("notes.csv", log.as_bytes());
    let (code, stdout, stderr) = wabill(&["price", path.to_str().unwrap(), "--lines", "-"]);
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[1].starts_with("2025-09-10T09:00:00Z,shop,33612345678,mo,café crème,"), "{}", lines[1]);
    assert!(
        lines[4].starts_with("2025-09-10T09:00:03Z,shop,33612345678,mo,\"plain, but quoted\","),
        "{}",
        lines[4]
    );
    let mut r = csv::Reader::from_reader(stdout.as_bytes());
    let notes: Vec<String> = r.records().map(|rec| rec.unwrap()[4].to_string()).collect();
    assert_eq!(notes, ["café crème", "said \"hi\", then left", "line ended by CRLF", "plain, but quoted"]);
}

/// What `wabill price` says of a log it refuses (the log's path written `LOG`), having checked
/// that it failed and printed nothing.
fn refused(log: &[u8]) -> String {
    let (_dir, path) = temp("log.csv", log);
    let (code, stdout, stderr) = wabill(&["price", path.to_str().unwrap()]);
    assert_eq!((code, stdout.as_str()), (1, ""), "{stderr}");
    stderr.replace(&path.display().to_string(), "LOG")
}

#[test]
fn a_10_mb_field_is_refused_with_its_column() {
    let mut log = b"timestamp,business,user,direction\n2025-09-10T09:00:00Z,B1,".to_vec();
    log.extend(std::iter::repeat_n(b'9', 10 * 1024 * 1024));
    log.extend(b",mo\n");
    let expected = format!(
        "wabill: LOG:2: column user: longer than 65536 bytes ({}… (10485760 bytes))\n",
        "9".repeat(60)
    );
    assert_eq!(refused(&log), expected);
}

#[test]
fn rows_that_are_not_utf8_or_miss_a_field_are_refused_with_their_place() {
    let latin1 = b"timestamp,business,user,direction\n2025-09-10T09:00:00Z,B\xe9,u_1,mo\n";
    assert_eq!(refused(latin1), "wabill: LOG:2: column business: invalid UTF-8\n");
    let short = b"timestamp,business,user,direction\n2025-09-10T09:00:00Z,B1,33612345678,mo\n\
        2025-09-10T09:00:01Z,B1,33612345678\n";
    assert_eq!(refused(short), "wabill: LOG:3: expected 4 fields, found 3\n");
    // A bad row before it is the one reported: the first of the log.
    let after =
        b"timestamp,business,user,direction\n2025-09-10T09:00:00Z,B1,u_1,mo\n2025-09-10T09:00:01Z,B1,u_1\n";
    assert_eq!(refused(after), "wabill: LOG:2: column user: not a phone number and no country given (u_1)\n");
}

#[test]
fn an_unknown_country_is_refused() {
    let log = b"timestamp,business,user,direction,country\n2025-09-10T09:00:00Z,B1,u_1,mo,ZZ\n";
    assert_eq!(refused(log), "wabill: LOG:2: column country: not an ISO 3166-1 alpha-2 country code (ZZ)\n");
}

#[test]
fn sums_that_overflow_are_errors_naming_the_group() {
    let (_rates_dir, rates) = temp("huge-rates.csv", b"effective_from,currency,market,category,rate\n2025-07-01,USD,France,marketing,50000000000000000000000000000\n");
    let (_log_dir, log) = temp(
        "two.csv",
        b"timestamp,business,user,direction,category\n2025-09-10T09:00:00Z,B1,33612345678,mt,marketing\n2025-09-10T09:01:00Z,B1,33612345678,mt,marketing\n",
    );
    let (code, _, stderr) = wabill(&["price", log.to_str().unwrap(), "--rates", rates.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(stderr, format!("wabill: {}:3: amount overflows in the summary of USD\n", log.display()));
}

#[test]
fn a_closed_stdout_ends_the_run_quietly() {
    let mut log = String::from("timestamp,business,user,direction,category\n");
    for i in 0..200_000 {
        log.push_str(&format!("2025-09-10T09:00:00Z,B1,3361{:07},mt,marketing\n", i));
    }
    let (_path_dir, path) = temp("long.csv", log.as_bytes());
    let mut child = Command::new(env!("CARGO_BIN_EXE_wabill"))
        .args(["price", path.to_str().unwrap(), "--lines", "-"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 100];
    child.stdout.as_mut().unwrap().read_exact(&mut first).unwrap();
    drop(child.stdout.take()); // like `| head`
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert_eq!(stderr, "");
}

/// A sink that keeps lines and counts rejections.
#[derive(Default)]
struct Keep {
    lines: Vec<PricedLine>,
    rejected: u64,
}

impl Sink for Keep {
    fn begin(&mut self, _: &[StringRecord]) -> Result<(), Error> {
        Ok(())
    }
    fn priced(&mut self, _: &Row, line: &PricedLine) -> Result<(), Error> {
        self.lines.push(line.clone());
        Ok(())
    }
    fn rejected(&mut self, _: &Row, e: &Error) -> Result<(), Error> {
        assert!(e.kind() == ErrorKind::Data && e.position().is_some(), "{e}");
        self.rejected += 1;
        Ok(())
    }
}

fn price(log: &[u8], skip: bool) -> (Result<wabill::log::Counts, Error>, Keep) {
    let mut engine = Engine::new(common::book("business\n").into(), Options::default());
    let mut sink = Keep::default();
    let options = ReadOptions { skip_invalid: skip, ..ReadOptions::default() };
    let input = vec![LogInput { name: "fuzz.csv".into(), reader: log }];
    (price_logs(input, &mut engine, &options, &mut sink), sink)
}

/// Text that looks like a log: a known header, then fields from the log's vocabulary and noise.
fn loglike() -> impl Strategy<Value = String> {
    let field = prop_oneof![
        Just(String::new()),
        Just("mo".to_string()),
        Just("MT".to_string()),
        Just("marketing".to_string()),
        Just("utility".to_string()),
        Just("failed".to_string()),
        Just("33612345678".to_string()),
        Just("919876543210".to_string()),
        Just("2025-09-10T09:00:00Z".to_string()),
        Just("2025-09-10T09:00:00+02:00".to_string()),
        Just("2025-13-40T25:61:61Z".to_string()),
        Just("\"a,b\"".to_string()),
        Just("\"".to_string()),
        "[ -~]{0,12}",
        "\\PC{0,6}",
    ];
    let row = prop::collection::vec(field, 0..9).prop_map(|f| f.join(","));
    prop::collection::vec(row, 0..12).prop_map(|rows| {
        format!(
            "timestamp,business,user,direction,category,status,entry_point,id,country\n{}\n",
            rows.join("\n")
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600), skip in any::<bool>()) {
        let (result, sink) = price(&bytes, skip);
        match result {
            Ok(c) => {
                prop_assert_eq!(c.rows, c.priced + c.rejected);
                prop_assert_eq!(c.priced, sink.lines.len() as u64);
            }
            Err(e) => prop_assert!(matches!(e.kind(), ErrorKind::Data | ErrorKind::Io), "{}", e),
        }
    }

    #[test]
    fn loglike_text_never_panics_and_counts_reconcile(text in loglike(), skip in any::<bool>()) {
        let (result, sink) = price(text.as_bytes(), skip);
        match result {
            Ok(c) => {
                prop_assert_eq!(c.rows, c.priced + c.rejected);
                prop_assert_eq!(c.rejected, sink.rejected);
                prop_assert!(sink.lines.iter().all(|l| l.charge >= Decimal::ZERO));
            }
            Err(e) => prop_assert!(e.kind() == ErrorKind::Data && e.position().is_some(), "{}", e),
        }
    }

    #[test]
    fn arbitrary_configuration_never_panics(text in "\\PC{0,300}", csvish in "[a-z0-9_,.:\\-\n ]{0,300}") {
        for t in [&text, &csvish] {
            let _ = RateCard::from_csv(t.as_bytes(), "r.csv");
            let _ = Markets::from_csv(t.as_bytes(), "m.csv");
            let _ = Accounts::from_csv(t.as_bytes(), "a.csv");
            let _ = wabill::billing::Tariff::from_toml(t, "t.toml");
        }
        let card = format!("effective_from,currency,market,category,rate,tier_from,tier_to\n{csvish}");
        let _ = RateCard::from_csv(card.as_bytes(), "r.csv");
        let toml = format!("name = \"x\"\ncurrency = \"USD\"\n[per_user]\ntiers = [{text}]\n");
        let _ = wabill::billing::Tariff::from_toml(&toml, "t.toml");
    }

    #[test]
    fn every_row_repeated_by_id_gives_the_same_charges(n in 1usize..60, seed in any::<u64>()) {
        let text = wabill_log(n, seed);
        let mut doubled = String::new();
        for (i, line) in text.lines().enumerate() {
            doubled.push_str(line);
            doubled.push('\n');
            if i > 0 {
                doubled.push_str(line);
                doubled.push('\n');
            }
        }
        let (once, a) = price(text.as_bytes(), false);
        let (twice, b) = price(doubled.as_bytes(), false);
        let (once, twice) = (once.unwrap(), twice.unwrap());
        prop_assert_eq!(twice.duplicates, once.rows + once.duplicates);
        let charges = |k: &Keep| k.lines.iter().map(|l| l.charge).sum::<Decimal>();
        prop_assert_eq!(charges(&a), charges(&b));
        let priced = |k: &Keep| -> Vec<PricedLine> {
            k.lines.iter().filter(|l| l.pricing_type != wabill::PricingType::Duplicate).cloned().collect()
        };
        prop_assert_eq!(priced(&b), priced(&a));
    }
}

/// A small generated log (the `generate` module), in the test card's markets.
fn wabill_log(n: usize, seed: u64) -> String {
    let g = generate::Generate {
        events: n as u64,
        users: 20,
        businesses: 2,
        seed,
        start: "2025-09-01".parse().unwrap(),
        days: 3,
    };
    let mut out = Vec::new();
    generate::write_log_as(&g, generate::Format::Csv, &mut out).unwrap();
    // Keep only users of the test card's markets (France, India, Brazil).
    let text = String::from_utf8(out).unwrap();
    text.lines()
        .filter(|l| l.starts_with("timestamp") || [",33", ",91", ",55"].iter().any(|p| l.contains(p)))
        .map(|l| format!("{l}\n"))
        .collect()
}
