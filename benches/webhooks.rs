//! Webhook logs end to end: `cargo bench --bench webhooks`.
//!
//! Generates a webhook log once with `wabill generate --format webhooks` (default 1 million
//! messages, 100,000 users, 30 days: some 2 million documents, 0.8 GB of NDJSON; a business
//! message is one document per status, `sent` then `delivered` or `failed` then `read`, a user
//! message one document), then measures, side by side and as medians of several runs:
//! - the floor: serde_json alone reading every line of the file, in this process, in one pass
//!   (`BufRead::read_until` with a 64 KiB buffer, then `serde_json::from_slice`), into
//!   `serde::de::IgnoredAny` (the floor of record: the syntax checked, nothing kept) and into
//!   `serde_json::Value` (a tree of every document, what a generic reader pays). The floor of
//!   record runs before and after each wabill run, which is compared with the mean of the two;
//! - `wabill price` with the summary only (`--group-by type`), its time and peak memory from
//!   `--stats`;
//! - the reduction alone under two reorder windows (`wabill convert --reorder-window 1h` and
//!   the default `24h`, to `/dev/null`): `price` reads with the default window, so the window's
//!   effect on memory is measured where it can be set. Peak memory is the child's `VmHWM`, read
//!   from `/proc` every 2 ms until it exits.
//!
//! Environment: `WABILL_BENCH_EVENTS` (messages), `WABILL_BENCH_USERS`, `WABILL_BENCH_RUNS`
//! (default 5). The figures of record are in BENCHMARKS.md.
//!
//! The generated log (in `target/tmp/webhooks`) is removed when the bench ends, a failed run
//! included. `WABILL_BENCH_KEEP=1` keeps it, and a later run reuses a log of the same size
//! instead of generating it again.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[path = "common/mod.rs"]
mod common;
use common::{env, median, stats, wabill, Scratch, READ_BUFFER};

/// Runs wabill with its output discarded: the seconds it took and its peak memory in MiB
/// (`VmHWM`, polled while it runs: it never goes down, so the last reading is the peak but
/// for the last 2 ms).
fn wabill_peak(args: &[&str]) -> (f64, f64) {
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_wabill"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("wabill runs");
    let status = format!("/proc/{}/status", child.id());
    let mut peak_kib = 0u64;
    let exit = loop {
        if let Some(exit) = child.try_wait().expect("wabill is waited for") {
            break exit;
        }
        let hwm = std::fs::read_to_string(&status).ok().and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("VmHWM:"))?.to_string();
            line.split_whitespace().nth(1)?.parse::<u64>().ok()
        });
        peak_kib = peak_kib.max(hwm.unwrap_or(0));
        std::thread::sleep(Duration::from_millis(2));
    };
    let seconds = start.elapsed().as_secs_f64();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(exit.success(), "wabill {args:?} failed: {stderr}");
    (seconds, peak_kib as f64 / 1024.0)
}

/// Generates a webhook log, unless a kept one of this size exists (see `WABILL_BENCH_KEEP`).
fn log(dir: &Path, events: u64, users: u64) -> (PathBuf, PathBuf) {
    let path = dir.join(format!("webhooks-{events}-{users}-30.ndjson"));
    let accounts = dir.join("accounts.csv");
    if !path.exists() || !accounts.exists() {
        eprintln!("generating {} ({events} messages)…", path.display());
        let (e, u) = (events.to_string(), users.to_string());
        wabill(&[
            "generate",
            "--format",
            "webhooks",
            "--events",
            &e,
            "--users",
            &u,
            "--days",
            "30",
            "--output",
            path.to_str().unwrap(),
            "--accounts",
            accounts.to_str().unwrap(),
        ]);
    }
    (path, accounts)
}

/// serde_json alone reading every line of the file as `T`: the seconds it took and the
/// documents read.
fn floor<T: serde::de::DeserializeOwned>(path: &Path) -> (f64, u64) {
    let start = Instant::now();
    let file = std::fs::File::open(path).unwrap();
    let mut input = std::io::BufReader::with_capacity(READ_BUFFER, file);
    let mut line = Vec::new();
    let mut documents = 0u64;
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line).unwrap() == 0 {
            break;
        }
        std::hint::black_box(serde_json::from_slice::<T>(&line).unwrap());
        documents += 1;
    }
    (start.elapsed().as_secs_f64(), documents)
}

fn main() {
    let events = env("WABILL_BENCH_EVENTS", 1_000_000);
    let users = env("WABILL_BENCH_USERS", 100_000);
    let runs = env("WABILL_BENCH_RUNS", 5).max(1) as usize;
    let scratch = Scratch(PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("webhooks"));
    let dir = scratch.0.clone();
    std::fs::create_dir_all(&dir).unwrap();
    let (path, accounts) = log(&dir, events, users);
    let (a, p) = (accounts.to_str().unwrap(), path.to_str().unwrap());
    let mb = std::fs::metadata(&path).unwrap().len() as f64 / 1e6;
    // Each wabill run sits between two runs of the floor of record, and is compared with
    // their mean: the host's speed drifts within seconds.
    let (first, documents) = floor::<serde::de::IgnoredAny>(&path);
    let mut floors = vec![first];
    let (mut values, mut price, mut day, mut hour) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for run in 0..runs {
        eprintln!("run {}/{runs}…", run + 1);
        price.push(stats(&wabill(&["price", p, "--accounts", a, "--group-by", "type", "--stats"])));
        floors.push(floor::<serde::de::IgnoredAny>(&path).0);
        values.push(floor::<serde_json::Value>(&path).0);
        let convert = |window: &str| {
            wabill_peak(&["convert", p, "--to", "csv", "--output", "/dev/null", "--reorder-window", window])
        };
        day.push(convert("24h"));
        hour.push(convert("1h"));
    }
    let ratios: Vec<f64> = (0..runs).map(|r| price[r].0 / ((floors[r] + floors[r + 1]) / 2.0)).collect();
    let floor_s = median(floors.clone());
    let value_s = median(values.clone());
    let spread = |v: &[f64]| {
        let (lo, hi) = v.iter().fold((f64::MAX, 0f64), |(lo, hi), &x| (lo.min(x), hi.max(x)));
        format!("{lo:.2}–{hi:.2} s")
    };
    let time = |v: &[(f64, f64)]| median(v.iter().map(|x| x.0).collect());
    let peak = |v: &[(f64, f64)]| median(v.iter().map(|x| x.1).collect());
    println!(
        "{events} messages, {users} users, 30 days: {documents} documents, {mb:.0} MB; medians of {runs} runs\n"
    );
    println!("| run | time (spread) | MB/s | documents/s | vs floor: median (each run) | peak memory |");
    println!("|---|---|---|---|---|---|");
    let docs = |s: f64| documents as f64 / s / 1e6;
    println!(
        "| serde_json into IgnoredAny (floor of record) | {floor_s:.2} s ({}) | {:.0} | {:.2} M | 1.00x | - |",
        spread(&floors),
        mb / floor_s,
        docs(floor_s)
    );
    println!(
        "| serde_json into Value | {value_s:.2} s ({}) | {:.0} | {:.2} M | {:.2}x | - |",
        spread(&values),
        mb / value_s,
        docs(value_s),
        value_s / floor_s
    );
    let each: Vec<String> = ratios.iter().map(|r| format!("{r:.2}")).collect();
    let price_s = time(&price);
    println!(
        "| wabill price, summary only (window 24h) | {price_s:.2} s ({}) | {:.0} | {:.2} M | {:.2}x ({}) | {:.0} MiB |",
        spread(&price.iter().map(|x| x.0).collect::<Vec<_>>()),
        mb / price_s,
        docs(price_s),
        median(ratios.clone()),
        each.join(", "),
        peak(&price)
    );
    for (name, v) in [("wabill convert, window 24h", &day), ("wabill convert, window 1h", &hour)] {
        let s = time(v);
        println!(
            "| {name} | {s:.2} s ({}) | {:.0} | {:.2} M | {:.2}x | {:.0} MiB |",
            spread(&v.iter().map(|x| x.0).collect::<Vec<_>>()),
            mb / s,
            docs(s),
            s / floor_s,
            peak(v)
        );
    }
}
