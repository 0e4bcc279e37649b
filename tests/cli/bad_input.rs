//! Bad input and bad usage: every bad row named, skipped when asked, outputs that clash refused.

use super::*;

#[test]
fn skipped_rows_go_to_the_rejects_file_and_the_counts_add_up() {
    let dir = common::Scratch::new();
    let rejects = dir.join("rejects.csv");
    let run = wabill(&[
        "price",
        "fixtures/small/mixed.csv",
        "--rejects",
        rejects.to_str().unwrap(),
        "--group-by",
        "type",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    golden("mixed.rejects.csv", &std::fs::read_to_string(&rejects).unwrap());
    assert_eq!(run.stderr, "wabill: 7 rows read: 4 priced (1 duplicate), 3 rejected\n");
    // Without a rejects file, each skipped row is reported on stderr.
    let run = wabill(&["price", "fixtures/small/mixed.csv", "--skip-invalid", "--group-by", "type"]);
    golden("mixed.skipped.stderr.txt", &run.stderr);
}

/// docs/rules.md §9: a row with the wrong number of fields, or with bytes that are not UTF-8, is
/// a bad row like any other: skipped with its file, line and reason, the counts adding up. In
/// the rejects file its fields are as read, invalid UTF-8 replaced by U+FFFD; a short row's
/// missing fields are empty, a long row's extra fields left out (the file keeps the header's
/// columns).
#[test]
fn rows_with_the_wrong_number_of_fields_or_invalid_utf8_are_skipped_like_any_bad_row() {
    let dir = common::Scratch::new();
    let rejects = dir.join("rejects.csv");
    let log = "fixtures/small/unreadable.csv";
    let run = wabill(&["price", log, "--rejects", rejects.to_str().unwrap(), "--format", "csv"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    golden("unreadable.rejects.csv", &std::fs::read_to_string(&rejects).unwrap());
    assert_eq!(run.stderr, "wabill: 6 rows read: 2 priced (0 duplicates), 4 rejected\n");
    let run = wabill(&["price", log, "--skip-invalid", "--format", "csv", "--group-by", "type"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    golden("unreadable.skipped.stderr.txt", &run.stderr);
    assert_eq!(
        run.stdout,
        "type,currency,lines,charged,unverified,charge\nfree_customer_service,USD,1,0,0,0.00\ninbound,USD,1,0,0,0.00\n"
    );
}

/// docs/rules.md §9: without skipping, a bad row stops the run with its position: the first bad
/// row of the log, whatever comes after it (rows that cannot be read are found on the reading
/// thread, ahead of the rows before them being parsed and priced), with `--sort` too.
#[test]
fn without_skipping_the_first_bad_row_of_the_log_is_the_one_reported() {
    let first = "wabill: fixtures/small/unreadable.csv:3: column direction: unknown direction, expected mo or mt (sideways)\n";
    let run = wabill(&["price", "fixtures/small/unreadable.csv"]);
    assert_eq!((run.code, run.stdout.as_str(), run.stderr.as_str()), (1, "", first));
    let run = wabill(&["price", "fixtures/small/unreadable.csv", "--sort"]);
    assert_eq!(run.code, 1);
    assert_eq!(run.stderr, format!("wabill: --sort: reading the whole log into memory to sort it\n{first}"));
    // A row without a good timestamp after it: sorting would put that one first.
    let dir = common::Scratch::new();
    let mut text = std::fs::read(root().join("fixtures/small/unreadable.csv")).unwrap();
    text.extend_from_slice(b"yesterday,m7,B1,33612345678,mo,,\n");
    let log = dir.file("log.csv", &text);
    let run = wabill(&["price", log.to_str().unwrap(), "--sort"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.ends_with(":3: column direction: unknown direction, expected mo or mt (sideways)\n"),
        "{}",
        run.stderr
    );
}

/// Every malformed input: its message and exit code, and no output file left behind.
#[test]
fn malformed_inputs_are_positioned_errors() {
    let cases: &[&[&str]] = &[
        &["price", "fixtures/bad/missing-column.csv"],
        &["price", "fixtures/bad/missing-columns.csv"],
        &["price", "fixtures/bad/unknown-direction.csv"],
        &["price", "fixtures/bad/mo-category.csv"],
        &["price", "fixtures/bad/bad-status.csv"],
        &["price", "fixtures/bad/no-offset.csv"],
        &["price", "fixtures/bad/bad-timestamp.csv"],
        &["price", "fixtures/bad/empty-user.csv"],
        &["price", "fixtures/bad/opaque-user.csv"],
        &["price", "fixtures/bad/bad-country.csv"],
        &["price", "fixtures/bad/unknown-country.csv"],
        &["price", "fixtures/bad/far-future.csv"],
        &["price", "fixtures/bad/backwards.csv"],
        &["price", "fixtures/bad/empty.csv"],
        &["price", "fixtures/bad/invalid-utf8.csv"],
        &["price", "fixtures/bad/short-row.csv"],
        &["price", "fixtures/bad/long-field.csv"],
        &["price", "fixtures/small/marketing.csv", "--rates", "fixtures/bad/rates-no-marketing.csv"],
        &["price", "fixtures/small/marketing.csv", "--rates", "fixtures/bad/rates-negative.csv"],
        &["price", "fixtures/small/marketing.csv", "--rates", "fixtures/bad/rates-bad-decimal.csv"],
        &["price", "fixtures/small/marketing.csv", "--rates", "fixtures/bad/rates-overlap.csv"],
        &["price", "fixtures/small/marketing.csv", "--accounts", "fixtures/bad/accounts-bad-zone.csv"],
        &["price", "fixtures/small/marketing.csv", "--accounts", "fixtures/bad/accounts-twice.csv"],
        &["price", "fixtures/small/marketing.csv", "--accounts", "fixtures/bad/accounts-waba-two-ways.csv"],
        &["price", "fixtures/small/no-such-file.csv"],
    ];
    let dir = common::Scratch::new();
    let lines = dir.join("lines.csv");
    let mut transcript = String::new();
    for case in cases {
        let mut args = case.to_vec();
        args.extend(["--lines", lines.to_str().unwrap()]);
        let run = wabill(&args);
        transcript.push_str(&format!("$ wabill {}\nexit {}\n{}\n", case.join(" "), run.code, run.stderr));
        assert_eq!(run.code, 1, "{case:?}");
        assert_eq!(run.stdout, "", "{case:?}");
        assert!(!Path::new(&lines).exists(), "{case:?} left a lines file");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "{case:?} left a temporary file");
    }
    golden("errors.txt", &transcript);
}

/// A header lacking several required columns names them all at once.
#[test]
fn a_header_missing_several_required_columns_names_them_all() {
    let run = wabill(&["price", "fixtures/bad/missing-columns.csv"]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        "wabill: fixtures/bad/missing-columns.csv:1: missing required columns user, direction\n"
    );
}

/// docs/rules.md §2: a timestamp without an offset is an error unless the user names a zone for
/// such values: the message says how (`--naive-zone`), and that option prices the log.
#[test]
fn a_timestamp_without_an_offset_names_the_option_that_reads_it() {
    let run = wabill(&["price", "fixtures/bad/no-offset.csv"]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        "wabill: fixtures/bad/no-offset.csv:2: column timestamp: has no UTC offset (add one, e.g. Z or \
         +02:00, or give the zone of such values with --naive-zone, e.g. --naive-zone Europe/Paris) \
         (2025-09-10 09:00:00)\n"
    );
    let run =
        wabill(&["price", "fixtures/bad/no-offset.csv", "--naive-zone", "Europe/Paris", "--lines", "-"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.lines().nth(1).unwrap().starts_with("2025-09-10 09:00:00,m1,"), "{}", run.stdout);
}

/// docs/rules.md §9: an output file is complete or absent, and a failure to write it names the
/// path the user gave, never the temporary file's: a directory that does not exist, a path
/// that is a directory, a device that refuses the writes. A missing directory fails the run
/// before any row is read.
#[test]
fn a_failed_output_names_the_users_path_not_the_temporary_files() {
    let dir = common::Scratch::new();
    let d = dir.to_str().unwrap();
    let missing = format!("{d}/missing/lines.csv");
    for option in ["--lines", "--rejects"] {
        let run = wabill(&["price", "fixtures/small/marketing.csv", option, &missing]);
        assert_eq!((run.code, run.stdout.as_str()), (1, ""));
        assert_eq!(run.stderr, format!("wabill: {missing}: No such file or directory (os error 2)\n"));
    }
    let run = wabill(&["price", "fixtures/small/marketing.csv", "--lines", d]);
    assert_eq!((run.code, run.stderr), (1, format!("wabill: {d}: a directory, not a file\n")));
    let run = wabill(&[
        "price",
        "fixtures/small/marketing.csv",
        "--tariff",
        "fixtures/tariffs/licence.toml",
        "--invoices",
        &missing,
    ]);
    assert_eq!(
        (run.code, run.stderr),
        (1, format!("wabill: {missing}: No such file or directory (os error 2)\n"))
    );
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "a temporary file was left behind");
    // A device is written in place, never replaced by a renamed file.
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::FileTypeExt;
        let device = || std::fs::metadata("/dev/full").is_ok_and(|m| m.file_type().is_char_device());
        if device() {
            let run = wabill(&["price", "fixtures/small/marketing.csv", "--lines", "/dev/full"]);
            assert!(device(), "/dev/full was replaced");
            assert_eq!(run.code, 1);
            assert!(
                run.stderr.ends_with("\nwabill: /dev/full: No space left on device (os error 28)\n"),
                "{}",
                run.stderr
            );
        }
        let run = wabill(&["price", "fixtures/small/marketing.csv", "--lines", "/dev/null"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
}

/// docs/rules.md §9: an output may not overwrite an input (a log, --accounts, --aliases, --rates,
/// --markets, a tariff) or another output, however the paths are spelt, and only one output may be stdout
/// (`-`), one input stdin: bad usage (exit status 2), found before anything is read (the log of
/// the cases with two outputs does not exist), naming the path and both options.
#[test]
fn an_output_on_an_input_or_another_output_is_bad_usage() {
    let dir = common::Scratch::new();
    let d = dir.to_str().unwrap().to_string();
    let log = dir.file("log.csv", &std::fs::read(root().join("fixtures/small/marketing.csv")).unwrap());
    let log = log.to_str().unwrap();
    let copy = |name: &str, from: &str| {
        let path = dir.file(name, &std::fs::read(root().join(from)).unwrap());
        path.to_str().unwrap().to_string()
    };
    let accounts = copy("accounts.csv", "fixtures/small/tariff-accounts.csv");
    let rates = copy("rates.csv", "fixtures/bad/rates-no-marketing.csv");
    let markets = copy("markets.csv", "data/markets.csv");
    let tariff = copy("tariff.toml", "fixtures/tariffs/licence.toml");
    let aliases = copy("aliases.csv", "fixtures/y2026/aliases.csv");
    std::fs::create_dir(dir.join("sub")).unwrap();
    let respelt = format!("{d}/sub/../log.csv");
    let absent = format!("{d}/absent.csv");
    let out = format!("{d}/out.csv");
    let out_respelt = format!("{d}/sub/../out.csv");
    let cases: Vec<Vec<&str>> = vec![
        vec!["price", log, "--lines", log],
        vec!["price", log, "--rejects", &respelt],
        vec!["price", log, "--accounts", &accounts, "--lines", &accounts],
        vec!["price", log, "--rates", &rates, "--rejects", &rates],
        vec!["price", log, "--markets", &markets, "--lines", &markets],
        vec!["price", log, "--aliases", &aliases, "--lines", &aliases],
        vec!["price", log, "--tariff", &tariff, "--invoices", &tariff],
        vec!["compare", "-", "--tariff", &tariff, "--tariff", "-"],
        vec!["price", &absent, "--lines", &out, "--invoices", &out, "--tariff", &tariff],
        vec!["price", &absent, "--lines", &out, "--rejects", &out_respelt],
        vec!["price", &absent, "--lines", "-", "--invoices", "-", "--tariff", &tariff],
        vec!["price", &absent, "--rejects", "-", "--lines", "-"],
        vec!["price", "-", "--accounts", "-"],
        vec!["generate", "--output", &out, "--accounts", &out],
        vec!["generate", "--accounts", "-"],
    ];
    let mut transcript = String::new();
    for case in &cases {
        let run = wabill(case);
        let shown = |s: &str| s.replace(&d, "DIR");
        transcript.push_str(&format!(
            "$ wabill {}\nexit {}\n{}\n",
            shown(&case.join(" ")),
            run.code,
            shown(&run.stderr)
        ));
        assert_eq!(run.code, 2, "{case:?}: {}", run.stderr);
        assert_eq!(run.stdout, "", "{case:?}");
    }
    golden("usage-paths.txt", &transcript);
    // Nothing was written: the inputs are as they were, and no output or temporary file exists.
    assert_eq!(
        std::fs::read(log).unwrap(),
        std::fs::read(root().join("fixtures/small/marketing.csv")).unwrap()
    );
    let mut left: Vec<String> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    left.sort();
    assert_eq!(
        left,
        ["accounts.csv", "aliases.csv", "log.csv", "markets.csv", "rates.csv", "sub", "tariff.toml"]
    );
    // A link to a log names the log.
    #[cfg(unix)]
    {
        let link = dir.join("link.csv");
        std::os::unix::fs::symlink(log, &link).unwrap();
        let run = wabill(&["price", log, "--lines", link.to_str().unwrap()]);
        assert_eq!(run.code, 2, "{}", run.stderr);
    }
}

/// docs/rules.md §3: a business absent from the accounts file gets every default, so a typo
/// there moves a business to UTC and USD. With `--accounts`, each business of the log the file
/// does not list, and each business it lists that no row names, is reported after the closing
/// counts; `--strict-accounts` makes the first of the former an error naming it and its first
/// line, and writes nothing.
#[test]
fn businesses_missing_from_the_accounts_file_or_from_the_log_are_reported() {
    let dir = common::Scratch::new();
    let lines = dir.join("lines.csv");
    let base = ["price", "fixtures/example/log.csv", "--accounts", "fixtures/small/accounts-typo.csv"];
    let mut args = base.to_vec();
    args.extend(["--lines", lines.to_str().unwrap()]);
    let run = wabill(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    golden("accounts-typo.stderr.txt", &run.stderr);
    std::fs::remove_file(&lines).unwrap();
    args.push("--strict-accounts");
    let run = wabill(&args);
    assert_eq!((run.code, run.stdout.as_str()), (1, ""));
    assert_eq!(
        run.stderr,
        "wabill: 386 rows read: 386 priced (4 duplicates), 0 rejected\n\
         wabill: fixtures/example/log.csv:119: column business: not in the accounts file \
         fixtures/small/accounts-typo.csv (--strict-accounts) (33186950002)\n"
    );
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "an output was written");
    // An accounts file listing every business of the log, and only those: nothing to report.
    let mut args = EXAMPLE.to_vec();
    args.push("--strict-accounts");
    let run = wabill(&args);
    assert_eq!(
        (run.code, run.stderr.as_str()),
        (0, "wabill: 386 rows read: 386 priced (4 duplicates), 0 rejected\n")
    );
}

/// A summary key that is neither the priced line's nor a column of the log is known once the
/// log's header is read: a configuration error naming both lists.
#[test]
fn an_unknown_summary_key_names_the_keys_and_the_columns() {
    let run = wabill(&["price", "fixtures/small/marketing.csv", "--group-by", "month,colour"]);
    let header = std::fs::read_to_string(root().join("fixtures/small/marketing.csv")).unwrap();
    let columns = header.lines().next().unwrap().replace(',', ", ");
    assert_eq!(
        (run.code, run.stderr.as_str()),
        (
            1,
            format!(
                "wabill: summary key colour: neither a key of the priced line (month, business, waba, \
                 portfolio, market, country, category, type, rules, model) nor a column of \
                 fixtures/small/marketing.csv ({columns})\n"
            )
            .as_str()
        )
    );
}

/// Every log must have a column the summary groups by: the one that lacks it is named.
#[test]
fn a_summary_column_missing_from_one_log_names_that_log() {
    let run = wabill(&[
        "price",
        "fixtures/example/log.csv",
        "fixtures/small/marketing.csv",
        "--group-by",
        "campaign",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.starts_with("wabill: summary key campaign: neither a key of the priced line")
            && run.stderr.contains("nor a column of fixtures/small/marketing.csv ("),
        "{}",
        run.stderr
    );
}

#[test]
fn bad_usage_exits_with_2() {
    for args in [
        &["price"][..],
        &["price", "fixtures/small/marketing.csv", "--strict-accounts"],
        &["price", "fixtures/small/marketing.csv", "--rules", "pmp"],
        &["price", "fixtures/small/marketing.csv", "--format", "xml"],
        &["price", "fixtures/small/marketing.csv", "--rates-date", "2025-13-01"],
        &["bill"],
    ] {
        let run = wabill(args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.starts_with("error:"), "{}", run.stderr);
    }
}

/// A Parquet log (by its first bytes, whatever its name) is read by a build with the feature
/// `parquet`; a build without it says so, naming the file.
#[cfg(not(feature = "parquet"))]
#[test]
fn a_parquet_log_needs_the_parquet_build() {
    let dir = common::Scratch::new();
    let log = dir.join("log.bin");
    std::fs::write(&log, b"PAR1 not a real file").unwrap();
    let run = wabill(&["price", log.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("log.bin") && run.stderr.contains("built without Parquet"), "{}", run.stderr);
}
