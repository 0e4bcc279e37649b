//! Tariffs: invoices and comparisons.

use super::*;

const TARIFFS: [&str; 4] = ["per-message", "licence", "per-user", "fair-use"];

#[test]
fn prices_a_tariff_and_writes_its_invoices() {
    for tariff in TARIFFS {
        let dir = common::Scratch::new();
        let invoices = dir.join("invoices.csv");
        let lines = dir.join("lines.csv");
        let path = format!("fixtures/tariffs/{tariff}.toml");
        let mut args = EXAMPLE.to_vec();
        args.extend(["--tariff", &path, "--group-by", "month", "--invoices", invoices.to_str().unwrap()]);
        args.extend(["--lines", lines.to_str().unwrap()]);
        let run = wabill(&args);
        assert_eq!(run.code, 0, "{}", run.stderr);
        golden(&format!("example.{tariff}.txt"), &run.stdout);
        golden(&format!("example.{tariff}.invoices.csv"), &std::fs::read_to_string(&invoices).unwrap());
        let lines = std::fs::read_to_string(&lines).unwrap();
        assert!(
            lines.starts_with("timestamp,")
                && lines.lines().next().unwrap().ends_with(",currency,aggregator_fee")
        );
    }
    let mut args = EXAMPLE.to_vec();
    args.extend(["--tariff", "fixtures/tariffs/per-user.toml", "--format", "json", "--group-by", "month"]);
    let run = wabill(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    golden("example.per-user.json", &run.stdout);
}

#[test]
fn compares_tariffs() {
    let mut args = vec!["compare", "fixtures/example/log.csv", "--accounts", "fixtures/example/accounts.csv"];
    let paths: Vec<String> = TARIFFS.iter().map(|t| format!("fixtures/tariffs/{t}.toml")).collect();
    for p in &paths {
        args.extend(["--tariff", p]);
    }
    for (format, name) in [("table", "compare.txt"), ("csv", "compare.csv"), ("json", "compare.json")] {
        let mut a = args.clone();
        a.extend(["--format", format]);
        let run = wabill(&a);
        assert_eq!(run.code, 0, "{}", run.stderr);
        golden(name, &run.stdout);
    }
}

/// `wabill compare` on the example with the bundled tariffs, plus tariffs written to a scratch
/// directory: each `(file name, tariff it copies, TOML line replaced, by)`.
fn compare_with(extra: &[(&str, &str, &str, &str)], format: &str) -> Run {
    let dir = common::Scratch::new();
    let mut args: Vec<String> =
        ["compare", "fixtures/example/log.csv", "--accounts", "fixtures/example/accounts.csv"]
            .map(String::from)
            .into();
    for (name, from, line, by) in extra {
        let text = std::fs::read_to_string(root().join(format!("fixtures/tariffs/{from}.toml"))).unwrap();
        assert!(text.contains(line), "{from}.toml has no {line}");
        let path = dir.file(name, text.replace(line, by).as_bytes());
        args.extend(["--tariff".to_string(), path.to_str().unwrap().to_string()]);
    }
    args.extend(["--format".to_string(), format.to_string()]);
    wabill(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

/// docs/rules.md §8, compare: tariffs that invoice by different units have no invoices to set
/// side by side; the table says so in a line, JSON in a field (`invoices_omitted`, null
/// otherwise), and both still compare the totals.
#[test]
fn compare_says_why_there_is_no_comparison_per_invoice() {
    let by_business = [
        ("per-message.toml", "per-message", "", ""),
        ("licence.toml", "licence", "invoice_by = \"portfolio\"", "invoice_by = \"business\""),
    ];
    let run = compare_with(&by_business, "table");
    assert_eq!(run.code, 0, "{}", run.stderr);
    golden("compare.units.txt", &run.stdout);
    assert!(run.stdout.starts_with(
        "no comparison per invoice: the tariffs invoice by different units (per message by portfolio, \
         number licence by business)\n"
    ));
    let json: serde_json::Value = serde_json::from_str(&compare_with(&by_business, "json").stdout).unwrap();
    assert_eq!(json["invoices"], serde_json::json!([]));
    assert_eq!(
        json["invoices_omitted"],
        "the tariffs invoice by different units (per message by portfolio, number licence by business)"
    );
    let same = compare_with(&by_business[..1], "json");
    let json: serde_json::Value = serde_json::from_str(&same.stdout).unwrap();
    assert_eq!(json["invoices_omitted"], serde_json::Value::Null);
}

/// No row of the comparison can be taken for a tariff: the table's rows are invoices (a unit
/// and a month) in one table and tariffs, in a column of their own, in the other; CSV's totals
/// have an empty invoice and month. Tariffs named like the rows of the table before
/// (`total`, `per active user`, `per delivered message`) show it. Two tariffs of one name are refused (their columns could not be told apart).
#[test]
fn no_row_label_of_the_comparison_is_a_tariffs_name() {
    let named = [
        ("total.toml", "per-message", "name = \"per message\"", "name = \"total\""),
        ("per-user.toml", "per-user", "", ""),
        (
            "licence.toml",
            "licence",
            "name = \"number licence\"\ncurrency",
            "name = \"per delivered message\"\ncurrency",
        ),
    ];
    let run = compare_with(&named, "table");
    assert_eq!(run.code, 0, "{}", run.stderr);
    golden("compare.named.txt", &run.stdout);
    let (invoices, tariffs) = run.stdout.split_once("\n\n").unwrap();
    for row in invoices.lines().skip(2) {
        assert!(row.starts_with("bm-"), "{row}");
    }
    let labels: Vec<&str> = tariffs.lines().skip(2).take(3).map(|l| l.split("  ").next().unwrap()).collect();
    assert_eq!(labels, ["total", "per active user", "per delivered message"]);
    let csv = compare_with(&named, "csv").stdout;
    let mut r = csv::Reader::from_reader(csv.as_bytes());
    for rec in r.records() {
        let rec = rec.unwrap();
        assert!(rec[0].starts_with("bm-") || (rec[0].is_empty() && rec[1].is_empty()), "{rec:?}");
    }
    let twice = [("a.toml", "per-message", "", ""), ("b.toml", "per-message", "", "")];
    let run = compare_with(&twice, "table");
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.ends_with(
            "wabill: two tariffs are named \"per message\": give each its own name to compare them\n"
        ),
        "{}",
        run.stderr
    );
}

/// "Above cheapest" means the same wherever it is shown: a tariff's amount less the cheapest
/// tariff's, per invoice (CSV, JSON) and in total (the table's second part, CSV, JSON); the
/// table's per-invoice column is the dearest tariff's.
#[test]
fn above_cheapest_means_the_same_in_the_table_csv_and_json() {
    let all: Vec<(String, &str, &str, &str)> =
        TARIFFS.iter().map(|t| (format!("{t}.toml"), *t, "", "")).collect();
    let all: Vec<(&str, &str, &str, &str)> =
        all.iter().map(|(n, t, a, b)| (n.as_str(), *t, *a, *b)).collect();
    let (table, csv, json) = (
        compare_with(&all, "table").stdout,
        compare_with(&all, "csv").stdout,
        compare_with(&all, "json").stdout,
    );
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    let mut r = csv::Reader::from_reader(csv.as_bytes());
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    let above = |invoice: &str, month: &str| -> Vec<String> {
        rows.iter().filter(|r| &r[0] == invoice && &r[1] == month).map(|r| r[6].to_string()).collect()
    };
    let dec = |s: &str| s.parse::<rust_decimal::Decimal>().unwrap();
    let (per_invoice, per_tariff) = table.split_once("\n\n").unwrap();
    for (n, line) in per_invoice.lines().skip(2).enumerate() {
        let cells: Vec<&str> = line.split("  ").map(str::trim).filter(|c| !c.is_empty()).collect();
        let csv_above = above(cells[0], cells[1]);
        let dearest = csv_above.iter().map(|a| dec(a)).max().unwrap();
        assert_eq!(dec(cells.last().unwrap()), dearest, "{line}");
        let from_json: Vec<String> = json["invoices"][n]["tariffs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["above_cheapest"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(from_json, csv_above);
        assert_eq!(json["invoices"][n]["dearest_above_cheapest"], cells.last().unwrap().to_string());
    }
    let table_totals: Vec<String> = per_tariff
        .lines()
        .skip(2)
        .take(TARIFFS.len())
        .map(|l| l.split("  ").map(str::trim).filter(|c| !c.is_empty()).nth(2).unwrap().to_string())
        .collect();
    let json_totals: Vec<String> = json["totals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["above_cheapest"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(table_totals, above("", ""));
    assert_eq!(json_totals, above("", ""));
}

/// Tariffs that are refused, each with its file, line and key: one fixture for each in
/// `fixtures/bad/` (each per-user.toml with one thing wrong).
#[test]
fn bad_tariffs_are_positioned_errors() {
    let mut transcript = String::new();
    for name in ["unknown-key", "float", "bad-decimal", "tiers-order", "open-band", "eur"] {
        let path = format!("fixtures/bad/tariff-{name}.toml");
        let run = wabill(&["price", "fixtures/small/marketing.csv", "--tariff", &path]);
        assert_eq!((run.code, run.stdout.as_str()), (1, ""), "{name}");
        transcript.push_str(&run.stderr);
    }
    golden("tariff-errors.txt", &transcript);
}
