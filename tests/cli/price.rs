//! Golden tests of `wabill price` on the fixtures: summaries, lines, the README's commands.

use super::*;

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

/// The 2026 fixture as the README prices it: calls, a group, business-scoped ids (one linked by
/// the aliases file, one refused an authentication template), observed costs, two currencies.
const Y2026: [&str; 11] = [
    "price",
    "fixtures/y2026/log.csv",
    "--accounts",
    "fixtures/y2026/accounts.csv",
    "--aliases",
    "fixtures/y2026/aliases.csv",
    "--service-allowance",
    "6",
    "--skip-invalid",
    "--group-by",
    "business,category,type",
];

#[test]
fn prices_calls_groups_ids_and_observed_costs_of_2026() {
    let dir = common::Scratch::new();
    let lines = dir.join("lines.csv");
    let mut args = Y2026.to_vec();
    args.extend(["--lines", lines.to_str().unwrap()]);
    let run = wabill(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    golden("y2026.summary.txt", &run.stdout);
    golden("y2026.stderr.txt", &run.stderr);
    golden("y2026.lines.csv", &std::fs::read_to_string(&lines).unwrap());
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    assert!(readme.contains(&format!("```text\n{}```", run.stdout)), "README's 2026 summary is stale");
}

#[test]
fn summaries_in_every_format_and_grouping() {
    for (format, group, name) in [
        ("csv", "month,type", "example.by-month-type.csv"),
        ("json", "portfolio,market", "example.by-portfolio-market.json"),
        ("table", "waba,category,rules,model", "example.by-waba-category.txt"),
        // The log's own column `campaign` as a key, first (subtotals) and alone.
        ("table", "campaign,month", "example.by-campaign-month.txt"),
        ("json", "campaign", "example.by-campaign.json"),
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
    assert_eq!(run.stdout, "market,currency,lines,charged,unverified,charge\nFrance,USD,1,1,0,0.1432\n");
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
        "type,currency,lines,charged,unverified,charge\nfree_customer_service,USD,1,0,0,0.00\ninbound,USD,1,0,0,0.00\n"
    );
    assert!(run.stderr.starts_with("wabill: --sort: reading the whole log into memory to sort it\n"));
}

#[test]
fn the_readme_shows_current_output() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let lines = wabill(&["price", "fixtures/readme/log.csv", "--lines", "-"]);
    assert!(readme.contains(lines.stdout.trim_end()), "README's priced lines are stale:\n{}", lines.stdout);
    let summary = wabill(&["price", "fixtures/readme/log.csv", "--group-by", "category,type"]);
    assert!(readme.contains(summary.stdout.trim_end()), "README's summary is stale:\n{}", summary.stdout);
    assert!(readme.contains("cargo run --release -- price fixtures/example/log.csv --accounts fixtures/example/accounts.csv\n./test.sh\n"));
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
            assert!(command == "./test.sh" || command.starts_with("cargo bench "), "{command}");
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
    assert_eq!(ran, 23, "{commands:#?}");
}

/// docs/rules.md §5, markets CSV: a number's market is the row in force on the event's local date in
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

/// The README's rate card and INR example show what the commands print.
#[test]
fn the_readme_shows_the_inr_card_and_an_inr_account() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let rates = wabill(&["rates", "--date", "2026-10-01", "--currency", "INR", "--market", "India"]);
    assert_eq!(rates.code, 0, "{}", rates.stderr);
    golden("rates.inr.india.txt", &rates.stdout);
    assert!(readme.contains(&format!("```text\n{}```", rates.stdout)), "README's card is stale");
    let args = ["price", "fixtures/example/log.csv", "--accounts", "fixtures/example/accounts-inr.csv"];
    let inr = wabill(&[&args[..], &["--group-by", "month,category"]].concat());
    assert_eq!(inr.code, 0, "{}", inr.stderr);
    golden("example.inr.txt", &inr.stdout);
    assert!(readme.contains(&format!("```text\n{}```", inr.stdout)), "README's INR example is stale");
}

/// The example traffic billed in EUR prices from the embedded EUR card (data/rates.md), its
/// estimated figures counted as unverified.
#[test]
fn the_example_prices_in_eur() {
    let args = ["price", "fixtures/example/log.csv", "--accounts", "fixtures/example/accounts-eur.csv"];
    let eur = wabill(&[&args[..], &["--group-by", "month,category"]].concat());
    assert_eq!(eur.code, 0, "{}", eur.stderr);
    golden("example.eur.txt", &eur.stdout);
}

/// The example traffic billed in COP, priced on each date the embedded COP card covers (Meta's
/// cards of 2026-07-01 and 2026-10-01, data/rates.md), every figure verified; on the traffic's
/// own dates (2025) the COP card has no price yet.
#[test]
fn the_example_prices_in_cop_on_the_dates_of_its_card() {
    let args = ["price", "fixtures/example/log.csv", "--accounts", "fixtures/example/accounts-cop.csv"];
    let mut priced = String::new();
    for date in ["2026-07-01", "2026-10-01"] {
        let cop = wabill(&[&args[..], &["--rates-date", date, "--group-by", "month,category"]].concat());
        assert_eq!(cop.code, 0, "{}", cop.stderr);
        priced.push_str(&format!("--rates-date {date}\n{}\n", cop.stdout));
    }
    golden("example.cop.txt", &priced);
    let own_dates = wabill(&args);
    assert_eq!(own_dates.code, 1);
    assert_eq!(
        own_dates.stderr,
        "wabill: fixtures/example/log.csv:2: no rate for COP India authentication on 2025-09-29\n"
    );
}

/// An account billed in a currency the card has no price in is an error that says so, at the
/// first charged row (the embedded card has no SGD figures yet: data/rates.md).
#[test]
fn a_currency_without_a_card_says_so() {
    let dir = common::Scratch::new();
    let accounts = dir.join("accounts.csv");
    let text = std::fs::read_to_string(root().join("fixtures/example/accounts.csv")).unwrap();
    std::fs::write(&accounts, text.replace(",USD,", ",SGD,")).unwrap();
    let run = wabill(&["price", "fixtures/example/log.csv", "--accounts", accounts.to_str().unwrap()]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        "wabill: fixtures/example/log.csv:2: no rate for SGD India authentication on 2025-09-29: \
         the rate card has no price in that currency\n"
    );
}

/// `--explain` on the README's worked example: each line's sentence and facts (each sentence
/// read against docs/rules.md §4 by hand when the golden file was written).
#[test]
fn explains_each_line_of_the_worked_example() {
    let run = wabill(&["price", "fixtures/readme/log.csv", "--lines", "-", "--explain"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    golden("readme.explain.csv", &run.stdout);
    let mut said = String::new();
    for row in csv::Reader::from_reader(run.stdout.as_bytes())
        .deserialize::<std::collections::HashMap<String, String>>()
    {
        let row = row.unwrap();
        said.push_str(&format!("{}  {}: {}\n", row["timestamp"], row["pricing_type"], row["why"]));
    }
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    assert!(readme.contains(&format!("```text\n{said}```")), "README's explained lines are stale:\n{said}");
    // The 2026 fixture: calls (pulses, minute bands), a group, the allowance, observed costs.
    let mut args = Y2026.to_vec();
    args.extend(["--lines", "-", "--explain"]);
    let run = wabill(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    golden("y2026.explain.csv", &run.stdout);
}
