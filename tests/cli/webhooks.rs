//! Meta's webhooks: `wabill convert` reduces a dump to one row per message, with Meta's verdict,
//! and says where each bad document is.

use super::*;

/// A month's dump with the ugly cases (statuses repeated and out of order, pricing only on
/// `sent`, a failure after `sent`, a BSP envelope, batched changes, a reaction, an ad's entry
/// point, a business-scoped user id, a bare `value`, a status word Meta may add, another
/// field): one row per message, in time order, that prices as Meta did.
#[test]
fn a_webhook_dump_converts_to_one_row_per_message() {
    let run = wabill(&["convert", "fixtures/webhooks/month.ndjson", "--to", "csv"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    golden("webhooks.month.csv", &run.stdout);
    let priced = wabill_stdin(&["price", "-", "--lines", "-"], Some(run.stdout.as_bytes()));
    assert_eq!(priced.code, 0, "{}", priced.stderr);
    // Meta's verdict (its type and category) and wabill's agree on every delivered message.
    let mut lines = csv::Reader::from_reader(priced.stdout.as_bytes());
    let header = lines.headers().unwrap().clone();
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    let mut compared = 0;
    for record in lines.records() {
        let record = record.unwrap();
        if record[column("meta_pricing_type")].is_empty() {
            continue;
        }
        compared += 1;
        assert_eq!(&record[column("pricing_type")], &record[column("meta_pricing_type")], "{record:?}");
        let category = &record[column("meta_pricing_category")];
        assert_eq!(&record[column("pricing_category")], category, "{record:?}");
    }
    assert_eq!(compared, 5);
}

/// A JSON array of CBP-era notifications: conversation objects, pricing without a type.
#[test]
fn a_json_array_of_conversation_era_notifications_converts() {
    let run = wabill(&["convert", "fixtures/webhooks/cbp.json", "--to", "csv"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    golden("webhooks.cbp.csv", &run.stdout);
}

/// Truncated JSON, a document that is not a webhook, a status without an id, a timestamp that
/// is not Unix seconds, a status three days after its message was priced: each named by file,
/// document line and JSON path; skipped when asked, else the first stops the run. A pricing
/// object with words wabill does not know, and a recipient named by both its phone number and
/// its business-scoped user id, are data Meta may send: read (the phone number is the user),
/// and the words are reported by `reconcile`.
#[test]
fn bad_webhook_documents_are_named_by_line_and_json_path() {
    let skipped = wabill(&["convert", "fixtures/webhooks/bad.ndjson", "--to", "csv", "--skip-invalid"]);
    assert_eq!(skipped.code, 0, "{}", skipped.stderr);
    golden("webhooks.bad.stderr.txt", &skipped.stderr);
    assert_eq!(skipped.stdout.lines().count(), 4, "the header and the three good messages");
    assert!(skipped.stdout.contains(",16505551234,mt,service,delivered,,wamid.X,"), "{}", skipped.stdout);
    let checked =
        wabill(&["reconcile", "fixtures/webhooks/bad.ndjson", "--skip-invalid", "--disagreements", "-"]);
    assert_eq!(checked.code, 0, "{}", checked.stderr);
    assert!(
        checked.stdout.ends_with(",unknown_word,pmp-2025,PMP,violation,service,,,,,USD,0,0,0,\"Meta's type \"\"premium\"\" is not a word wabill knows (docs/rules.md §11)\"\n"),
        "{}",
        checked.stdout
    );
    let stopped = wabill(&["convert", "fixtures/webhooks/bad.ndjson", "--to", "csv"]);
    assert_eq!(stopped.code, 1);
    assert_eq!(
        stopped.stderr,
        "wabill: fixtures/webhooks/bad.ndjson:1: $: truncated JSON at column 108: EOF while parsing a value\n"
    );
}

/// The sender's own record of a template (`--templates id,category`) wins over Meta's word.
#[test]
fn the_senders_templates_win_over_metas_category() {
    let dir = tempfile::tempdir().unwrap();
    let templates = dir.path().join("templates.csv");
    std::fs::write(&templates, "id,category\nwamid.E,marketing\n").unwrap();
    let run = wabill(&[
        "convert",
        "fixtures/webhooks/month.ndjson",
        "--to",
        "csv",
        "--templates",
        templates.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let line = run.stdout.lines().find(|l| l.contains("wamid.E")).unwrap();
    assert!(line.contains(",mt,marketing,delivered,"), "{line}");
}

/// `price` reads a webhook dump as it reads a CSV log (found by its name or its first byte):
/// the lines carry the derived columns, Meta's `meta_*` and wabill's own, and a bad document
/// is a rejected row at its document line.
#[test]
fn price_reads_a_webhook_dump_directly() {
    let run = wabill(&["price", "fixtures/webhooks/month.ndjson", "--lines", "-"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    golden("webhooks.month.lines.csv", &run.stdout);
    // The same from stdin: the first byte tells.
    let dump = std::fs::read(root().join("fixtures/webhooks/month.ndjson")).unwrap();
    let piped = wabill_stdin(&["price", "-", "--lines", "-"], Some(&dump));
    assert_eq!(piped.stdout, run.stdout);
    // And as named by --input-format.
    let named = wabill_stdin(&["price", "-", "--input-format", "webhooks", "--lines", "-"], Some(&dump));
    assert_eq!(named.stdout, run.stdout);
    let skipped = wabill(&["price", "fixtures/webhooks/bad.ndjson", "--skip-invalid", "--group-by", "type"]);
    assert_eq!(skipped.code, 0, "{}", skipped.stderr);
    assert!(
        skipped.stderr.ends_with("wabill: 8 rows read: 3 priced (0 duplicates), 5 rejected\n"),
        "{}",
        skipped.stderr
    );
}

/// Meta's 2026 payloads convert to rows with the 2026 columns (kind, duration, group, bsuid,
/// cost, cost_currency); priced with a card that has a call rate, the dump and its converted
/// CSV give the same lines.
#[test]
fn a_2026_dump_converts_with_its_columns_and_prices_as_its_csv() {
    let run = wabill(&["convert", "fixtures/webhooks/y2026.ndjson", "--to", "csv"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    golden("webhooks.y2026.csv", &run.stdout);
    let mut rows = csv::Reader::from_reader(run.stdout.as_bytes());
    let header = rows.headers().unwrap().clone();
    for column in ["kind", "duration", "group", "bsuid", "cost", "cost_currency"] {
        assert!(header.iter().any(|h| h == column), "{column}");
    }
    let dir = tempfile::tempdir().unwrap();
    let calls = dir.path().join("calls.csv");
    std::fs::write(&calls, "effective_from,currency,market,category,rate,tier_from,tier_to,source\n2026-01-01,USD,France,call,0.0400,,,test\n").unwrap();
    let converted = dir.path().join("y2026.csv");
    std::fs::write(&converted, &run.stdout).unwrap();
    let price = |log: &str| {
        let run = wabill(&[
            "price",
            log,
            "--rates",
            "data/rates-usd.csv",
            "--rates",
            calls.to_str().unwrap(),
            "--lines",
            "-",
        ]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        run.stdout
    };
    let (dump, csv) = (price("fixtures/webhooks/y2026.ndjson"), price(converted.to_str().unwrap()));
    assert_eq!(dump, csv);
    golden("webhooks.y2026.lines.csv", &dump);
}
