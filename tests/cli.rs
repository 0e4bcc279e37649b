//! Golden tests of the command line on the fixtures. Expected outputs live in
//! `fixtures/golden/`; run with `WABILL_BLESS=1` to rewrite them on purpose (then review the diff).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn wabill(args: &[&str]) -> Run {
    wabill_stdin(args, None)
}

fn wabill_stdin(args: &[&str], stdin: Option<&[u8]>) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wabill"))
        .args(args)
        .current_dir(root())
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("wabill runs");
    if let Some(input) = stdin {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(input).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// Compares `actual` with the golden file `name`, or rewrites it under `WABILL_BLESS=1`.
fn golden(name: &str, actual: &str) {
    let path = root().join("fixtures/golden").join(name);
    if std::env::var_os("WABILL_BLESS").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected =
        std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("missing golden file {}", path.display()));
    assert!(
        expected == actual,
        "{} differs from the output:\n{actual}\n(WABILL_BLESS=1 rewrites it)",
        path.display()
    );
}

const EXAMPLE: [&str; 4] =
    ["price", "fixtures/example/log.csv", "--accounts", "fixtures/example/accounts.csv"];

#[test]
fn prices_the_example_log() {
    let dir = common::Scratch::new();
    let lines = dir.join("lines.csv");
    let mut args = EXAMPLE.to_vec();
    args.extend(["--lines", lines.to_str().unwrap()]);
    let run = wabill(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    golden("example.summary.txt", &run.stdout);
    golden("example.stderr.txt", &run.stderr);
    golden("example.lines.csv", &std::fs::read_to_string(&lines).unwrap());
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "no temporary file is left behind");
}

#[test]
fn prices_a_log_spanning_every_era_in_one_run() {
    let dir = common::Scratch::new();
    let lines = dir.join("lines.csv");
    let run = wabill(&[
        "price",
        "fixtures/eras/log.csv",
        "--accounts",
        "fixtures/eras/accounts.csv",
        "--group-by",
        "rules,model,category,type",
        "--lines",
        lines.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    golden("eras.summary.txt", &run.stdout);
    golden("eras.lines.csv", &std::fs::read_to_string(&lines).unwrap());
    for rules in ["nbp", "cbp-2022", "cbp-2023", "pmp-2025", "pmp-2026"] {
        assert!(run.stdout.lines().any(|l| l.starts_with(rules)), "no {rules} line");
    }
    // The same log repriced under today's rules and card.
    let run = wabill(&[
        "price",
        "fixtures/eras/log.csv",
        "--accounts",
        "fixtures/eras/accounts.csv",
        "--rules",
        "pmp-2026",
        "--rates-date",
        "2026-10-01",
        "--group-by",
        "rules,type",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    golden("eras.repriced.txt", &run.stdout);
}

#[test]
fn summaries_in_every_format_and_grouping() {
    for (format, group, name) in [
        ("csv", "month,type", "example.by-month-type.csv"),
        ("json", "portfolio,market", "example.by-portfolio-market.json"),
        ("table", "waba,category,rules,model", "example.by-waba-category.txt"),
    ] {
        let mut args = EXAMPLE.to_vec();
        args.extend(["--format", format, "--group-by", group]);
        let run = wabill(&args);
        assert_eq!(run.code, 0, "{}", run.stderr);
        golden(name, &run.stdout);
    }
}

#[test]
fn lines_to_stdout_send_the_summary_to_stderr() {
    let run = wabill(&["price", "fixtures/small/marketing.csv", "--lines", "-", "--group-by", "type"]);
    assert_eq!(run.code, 0);
    assert!(
        run.stdout.starts_with("timestamp,id,business,user,direction,category,status,rules,pricing_model"),
        "{}",
        run.stdout
    );
    assert!(run.stderr.contains("regular"), "{}", run.stderr);
}

#[test]
fn reads_stdin() {
    let log = std::fs::read(root().join("fixtures/small/marketing.csv")).unwrap();
    let run = wabill_stdin(&["price", "-", "--format", "csv", "--group-by", "market"], Some(&log));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "market,currency,lines,charged,charge\nFrance,USD,1,1,0.1432\n");
}

#[test]
fn a_header_only_log_is_an_empty_zero_cost_result() {
    let run = wabill(&["price", "fixtures/small/header-only.csv"]);
    assert_eq!((run.code, run.stdout.as_str()), (0, "(no lines)\n"));
    assert_eq!(run.stderr, "wabill: 0 rows read: 0 priced (0 duplicates), 0 rejected\n");
}

#[test]
fn an_unsorted_log_is_refused_unless_sorting_is_asked_for() {
    let run = wabill(&["price", "fixtures/small/unsorted.csv"]);
    assert_eq!(run.code, 1);
    let run =
        wabill(&["price", "fixtures/small/unsorted.csv", "--sort", "--format", "csv", "--group-by", "type"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "type,currency,lines,charged,charge\nfree_customer_service,USD,1,0,0.00\ninbound,USD,1,0,0.00\n"
    );
    assert!(run.stderr.starts_with("wabill: --sort: reading the whole log into memory to sort it\n"));
}

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
        "type,currency,lines,charged,charge\nfree_customer_service,USD,1,0,0.00\ninbound,USD,1,0,0.00\n"
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

/// docs/rules.md §9: an output may not overwrite an input (a log, --accounts, --rates, --markets,
/// a tariff) or another output, however the paths are spelt, and only one output may be stdout
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
    assert_eq!(left, ["accounts.csv", "log.csv", "markets.csv", "rates.csv", "sub", "tariff.toml"]);
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

#[test]
fn bad_usage_exits_with_2() {
    for args in [
        &["price"][..],
        &["price", "fixtures/small/marketing.csv", "--strict-accounts"],
        &["price", "fixtures/small/marketing.csv", "--rules", "pmp"],
        &["price", "fixtures/small/marketing.csv", "--format", "xml"],
        &["price", "fixtures/small/marketing.csv", "--rates-date", "2025-13-01"],
        &["price", "fixtures/small/marketing.csv", "--group-by", "colour"],
        &["bill"],
    ] {
        let run = wabill(args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.starts_with("error:"), "{}", run.stderr);
    }
}

#[test]
fn the_readme_shows_current_output() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let lines = wabill(&["price", "fixtures/readme/log.csv", "--lines", "-"]);
    assert!(readme.contains(lines.stdout.trim_end()), "README's priced lines are stale:\n{}", lines.stdout);
    let summary = wabill(&["price", "fixtures/readme/log.csv", "--group-by", "category,type"]);
    assert!(readme.contains(summary.stdout.trim_end()), "README's summary is stale:\n{}", summary.stdout);
    assert!(readme.contains("cargo run --release -- price fixtures/example/log.csv --accounts fixtures/example/accounts.csv\ncargo test\n"));
    let example = wabill(&EXAMPLE);
    assert!(
        readme.contains(&format!("`{}`", example.stderr.trim_end())),
        "README's closing counts are stale:\n{}",
        example.stderr
    );
    let compare = std::fs::read_to_string(root().join("fixtures/golden/compare.txt")).unwrap();
    assert!(readme.contains(compare.trim_end()), "README's comparison is stale");
}

/// Every command of the README's `sh` blocks runs as written (`cargo run --release --` and
/// `wabill` standing for the binary; `cargo test` and `cargo bench` left out), in a directory
/// whose `fixtures` is the repository's, so that the files they write land there.
#[cfg(unix)]
#[test]
fn every_command_of_the_readme_runs_as_written() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let dir = common::Scratch::new();
    std::os::unix::fs::symlink(root().join("fixtures"), dir.join("fixtures")).unwrap();
    let (mut commands, mut pending, mut in_sh) = (Vec::new(), String::new(), false);
    for line in readme.lines() {
        match line {
            "```sh" => in_sh = true,
            l if l.starts_with("```") => in_sh = false,
            l if !in_sh || l.trim().is_empty() || l.trim_start().starts_with('#') => {}
            l => match l.trim().strip_suffix('\\') {
                Some(part) => pending.push_str(part),
                None => commands.push(std::mem::take(&mut pending) + l.trim()),
            },
        }
    }
    let mut ran = 0;
    for command in &commands {
        let Some(args) = command.strip_prefix("cargo run --release -- ").or(command.strip_prefix("wabill "))
        else {
            assert!(command == "cargo test" || command.starts_with("cargo bench "), "{command}");
            continue;
        };
        assert!(!args.contains(['"', '\'', '|', '>', '<', '$', '*']), "{command}: not a plain command");
        let out = Command::new(env!("CARGO_BIN_EXE_wabill"))
            .args(args.split_whitespace())
            .current_dir(&*dir)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(out.status.success(), "{command}: {}", String::from_utf8_lossy(&out.stderr));
        ran += 1;
    }
    assert_eq!(ran, 12, "{commands:#?}");
}

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

/// docs/rules.md §3, markets CSV: a number's market is the row in force on the event's local date in
/// its WABA's zone (or on `--rates-date`). The embedded table moves 263 (Zimbabwe) from Other to
/// Rest of Africa on 2025-10-01; that local midnight falls on different UTC days at UTC+14 and
/// UTC−11, so the same UTC instant prices in both markets.
#[test]
fn a_numbers_market_is_the_row_in_force_on_the_wabas_local_date() {
    let dir = common::Scratch::new();
    let accounts = dir.file(
        "accounts.csv",
        b"business,waba,portfolio,timezone\nEAST,W1,P1,Pacific/Kiritimati\nWEST,W2,P2,Pacific/Pago_Pago\n",
    );
    let mut log = String::from("timestamp,business,user,direction\n");
    let instants =
        ["2025-09-30T09:59:59Z", "2025-09-30T10:00:00Z", "2025-10-01T10:59:59Z", "2025-10-01T11:00:00Z"];
    for t in instants {
        for business in ["EAST", "WEST"] {
            log.push_str(&format!("{t},{business},263771234567,mo\n"));
        }
    }
    let log = dir.file("log.csv", log.as_bytes());
    let markets = |extra: &[&str]| {
        let mut args = vec!["price", log.to_str().unwrap(), "--accounts", accounts.to_str().unwrap()];
        args.extend(["--lines", "-", "--format", "csv"]);
        args.extend(extra);
        let run = wabill(&args);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let mut r = csv::Reader::from_reader(run.stdout.split("\n\n").next().unwrap().as_bytes());
        let at = r.headers().unwrap().iter().position(|h| h == "market").unwrap();
        r.records().map(|rec| rec.unwrap()[at].to_string()).collect::<Vec<_>>()
    };
    let (old, new) = ("Other", "Rest of Africa");
    // Local dates (EAST, WEST) for each instant: (09-30, 09-29), (10-01, 09-29), (10-02, 09-30),
    // (10-02, 10-01).
    assert_eq!(markets(&[]), [old, old, new, old, new, old, new, new]);
    assert_eq!(markets(&["--rates-date", "2025-09-30"]), [old; 8]);
    assert_eq!(markets(&["--rates-date", "2025-10-01"]), [new; 8]);
}
