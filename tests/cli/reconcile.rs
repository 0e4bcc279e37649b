//! `wabill reconcile` on a realistic dump (fixtures/reconcile, made by its `make.py`): each
//! fault planted in Meta's side is found, message by message and bucket by bucket.

use super::*;

const RECONCILE: [&str; 8] = [
    "reconcile",
    "fixtures/reconcile/dump.ndjson",
    "--accounts",
    "fixtures/reconcile/accounts.csv",
    "--templates",
    "fixtures/reconcile/templates.csv",
    "--analytics",
    "fixtures/reconcile/pricing-analytics-104857600000001-2025-09.json",
];

fn reconcile(extra: &[&str]) -> Run {
    let mut args = RECONCILE.to_vec();
    args.extend([
        "fixtures/reconcile/pricing-analytics-204857600000002-2025-09.json",
        "fixtures/reconcile/conversation-analytics-104857600000001-2025-06.json",
    ]);
    args.extend(extra);
    wabill(&args)
}

/// The table a person reads: the counts, the money, the buckets that differ with why.
#[test]
fn reconcile_finds_the_faults_of_a_realistic_dump() {
    let run = reconcile(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    golden("reconcile.txt", &run.stdout);
    assert_eq!(run.stderr, "wabill: 313 rows read: 313 priced (0 duplicates), 0 rejected\n");
    // The README's worked example shows this output.
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    assert!(readme.contains(&format!("```text\n{}```", run.stdout)), "README.md shows another output");
}

/// The disagreements file: one row per message, each planted fault with its likely reason.
#[test]
fn each_disagreement_is_written_with_a_likely_reason() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("disagreements.csv");
    let run = reconcile(&["--disagreements", path.to_str().unwrap(), "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let written = std::fs::read_to_string(&path).unwrap();
    golden("reconcile.disagreements.csv", &written);
    let mut reader = csv::Reader::from_reader(written.as_bytes());
    let kinds: Vec<(String, String)> =
        reader.records().map(|r| r.unwrap()).map(|r| (r[0].to_string(), r[6].to_string())).collect();
    // The faults make.py planted, and nothing else.
    let expected = [
        ("wamid.HBgM000314", "pricing_model"),    // the WABA's zone given as UTC
        ("wamid.HBgM000307", "delivery"),         // a reply after a lost user message
        ("wamid.HBgM000308", "charged"),          // a utility template after it
        ("wamid.HBgM000310", "delivery"),         // a reply after a lost ad click
        ("wamid.HBgM000312", "pricing_category"), // recategorised by Meta
        ("wamid.HBgM000311", "charged"),          // a template inside the lost entry point
    ];
    let expected: Vec<(String, String)> =
        expected.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
    assert_eq!(kinds, expected);
    golden("reconcile.json", &run.stdout);
}

/// CSV: every row of the bucket table, agreeing or not.
#[test]
fn reconcile_as_csv_lists_every_bucket() {
    let run = reconcile(&["--format", "csv"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    golden("reconcile.csv", &run.stdout);
    let rows = csv::Reader::from_reader(run.stdout.as_bytes()).records().count();
    assert_eq!(rows, 12 + 19 + 9 + 9);
}

/// `--check` exits 3 when anything disagrees, 0 when all agrees; without it, 0 whatever the
/// check found.
#[test]
fn check_exits_3_on_a_disagreement() {
    assert_eq!(reconcile(&["--check"]).code, 3);
    let mut args = RECONCILE.to_vec();
    args[7] = "fixtures/reconcile/pricing-analytics-204857600000002-2025-09.json";
    args.extend(["--check", "--format", "json"]);
    let brazil = wabill(&args);
    // The Brazilian WABA's buckets agree, but messages of the Indian ones do not.
    assert_eq!(brazil.code, 3, "{}", brazil.stderr);
    let json: serde_json::Value = serde_json::from_str(&brazil.stdout).unwrap();
    assert_eq!(json["agrees"], false);
    assert!(json["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .all(|b| b["source"] == "messages" || b["volume_agrees"] == true));
    // A log whose every verdict is wabill's own agrees.
    let own = wabill(&["reconcile", "fixtures/webhooks/month.ndjson", "--check"]);
    assert_eq!(own.code, 0, "{}", own.stderr);
}

/// A tolerance as a share of Meta's cost; a bad one is bad usage.
#[test]
fn the_tolerance_is_an_amount_or_a_share() {
    let run = reconcile(&["--tolerance", "0%", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["tolerance"], "0%");
    // Meta rounds its costs to the cent: with no tolerance, buckets with a cost differ.
    let differ = json["buckets"].as_array().unwrap().iter().filter(|b| b["cost_agrees"] == false).count();
    assert!(differ > 5, "{differ}");
    let bad = reconcile(&["--tolerance", "a cent"]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("not a tolerance"), "{}", bad.stderr);
}

/// An analytics file that is not Meta's response says where.
#[test]
fn a_bad_analytics_file_names_the_json_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.json");
    std::fs::write(
        &path,
        r#"{"pricing_analytics":{"data":[{"data_points":[{"start":1,"end":2,"volume":-1}]}]}}"#,
    )
    .unwrap();
    let run = wabill(&["reconcile", "fixtures/webhooks/month.ndjson", "--analytics", path.to_str().unwrap()]);
    assert_eq!(run.code, 1);
    let expected = format!(
        "wabill: {}: $.pricing_analytics.data[0].data_points[0].volume: not a whole number (-1)\n",
        path.display()
    );
    assert_eq!(run.stderr, expected);
}

/// A gzip-compressed dump is read as is, its format told by its name without `.gz`.
#[test]
fn a_gzip_dump_reconciles_as_the_dump() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dump.ndjson.gz");
    let mut gz =
        flate2::write::GzEncoder::new(std::fs::File::create(&path).unwrap(), flate2::Compression::fast());
    gz.write_all(&std::fs::read(root().join("fixtures/reconcile/dump.ndjson")).unwrap()).unwrap();
    gz.finish().unwrap();
    let mut args = RECONCILE.to_vec();
    args[1] = path.to_str().unwrap();
    let (zipped, plain) = (wabill(&args), wabill(&RECONCILE));
    assert_eq!(zipped.code, 0, "{}", zipped.stderr);
    assert_eq!(zipped.stdout, plain.stdout);
}

/// A CSV log with Meta's verdict in `meta_*` columns (as `convert` writes a dump) reconciles
/// as the dump does.
#[test]
fn a_converted_dump_reconciles_as_the_dump() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("dump.csv");
    let converted = wabill(&[
        "convert",
        "fixtures/reconcile/dump.ndjson",
        "--to",
        "csv",
        "--templates",
        "fixtures/reconcile/templates.csv",
        "--output",
        csv.to_str().unwrap(),
    ]);
    assert_eq!(converted.code, 0, "{}", converted.stderr);
    let mut args = RECONCILE.to_vec();
    args[1] = csv.to_str().unwrap();
    let (from_csv, from_dump) = (wabill(&args), wabill(&RECONCILE));
    assert_eq!(from_csv.code, 0, "{}", from_csv.stderr);
    assert_eq!(from_csv.stdout, from_dump.stdout);
}
