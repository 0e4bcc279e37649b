//! End-to-end throughput and memory: `cargo bench --bench throughput`.
//!
//! Generates a log (default 10 million events, 1 million users, 30 days), then measures, side
//! by side and as medians of several runs:
//! - the floor: the `csv` crate alone reading the file's records (in this process, with the
//!   read buffer wabill uses), before and after each wabill run, which is compared with the
//!   mean of the two;
//! - `wabill price` with the summary only, and with `--lines` written to a file;
//! - peak memory of each run (`--stats`, from `/proc/self/status`), and of a log twice as long
//!   with the same users active per day (60 days).
//!
//! Environment: `WABILL_BENCH_EVENTS`, `WABILL_BENCH_USERS`, `WABILL_BENCH_RUNS` (default 5).
//! The figures of record are in BENCHMARKS.md.
//!
//! The generated logs (some 3 GB with the defaults, in `target/tmp/throughput`) are removed when
//! the bench ends, a failed run included. `WABILL_BENCH_KEEP=1` keeps them, and a later run
//! reuses a log of the same size instead of generating it again.

use std::path::{Path, PathBuf};
use std::time::Instant;

#[path = "common/mod.rs"]
mod common;
use common::{env, median, stats, wabill, Scratch, READ_BUFFER};

/// Generates a log, unless a kept one of this size exists (see `WABILL_BENCH_KEEP`).
fn log(dir: &Path, events: u64, users: u64, days: u64) -> (PathBuf, PathBuf) {
    let path = dir.join(format!("log-{events}-{users}-{days}.csv"));
    let accounts = dir.join("accounts.csv");
    if !path.exists() {
        eprintln!("generating {} ({events} events)…", path.display());
        let (e, u, d) = (events.to_string(), users.to_string(), days.to_string());
        wabill(&[
            "generate",
            "--events",
            &e,
            "--users",
            &u,
            "--days",
            &d,
            "--output",
            path.to_str().unwrap(),
            "--accounts",
            accounts.to_str().unwrap(),
        ]);
    }
    (path, accounts)
}

fn floor(path: &Path) -> f64 {
    let start = Instant::now();
    let mut reader = csv::ReaderBuilder::new().buffer_capacity(READ_BUFFER).from_path(path).unwrap();
    let mut record = csv::ByteRecord::new();
    let mut fields = 0usize;
    while reader.read_byte_record(&mut record).unwrap() {
        fields += record.len();
    }
    std::hint::black_box(fields);
    start.elapsed().as_secs_f64()
}

fn main() {
    let events = env("WABILL_BENCH_EVENTS", 10_000_000);
    let users = env("WABILL_BENCH_USERS", 1_000_000);
    let runs = env("WABILL_BENCH_RUNS", 5).max(1) as usize;
    let scratch = Scratch(PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("throughput"));
    let dir = scratch.0.clone();
    std::fs::create_dir_all(&dir).unwrap();
    let (path, accounts) = log(&dir, events, users, 30);
    let (a, p) = (accounts.to_str().unwrap(), path.to_str().unwrap());
    let lines = dir.join("lines.csv");
    // Each wabill run sits between two floor runs, and is compared with their mean: the
    // host's speed drifts within seconds.
    let (mut floors, mut summary, mut with_lines) = (vec![floor(&path)], Vec::new(), Vec::new());
    for run in 0..runs {
        eprintln!("run {}/{runs}…", run + 1);
        summary.push(stats(&wabill(&["price", p, "--accounts", a, "--group-by", "type", "--stats"])));
        floors.push(floor(&path));
        with_lines.push(stats(&wabill(&[
            "price",
            p,
            "--accounts",
            a,
            "--group-by",
            "type",
            "--stats",
            "--lines",
            lines.to_str().unwrap(),
        ])));
        // The lines file (over a gigabyte) is written back to disk now, not during the runs
        // that follow: the kernel's writeback took some 0.4 s of them.
        std::fs::File::open(&lines).and_then(|f| f.sync_all()).unwrap();
        floors.push(floor(&path));
    }
    let around = |i: usize| (floors[i] + floors[i + 1]) / 2.0;
    let floor_s: Vec<f64> = (0..runs).map(|r| around(2 * r)).collect();
    let floor_l: Vec<f64> = (0..runs).map(|r| around(2 * r + 1)).collect();
    let _ = std::fs::remove_file(&lines);
    let (double, _) = log(&dir, events * 2, users, 60);
    let doubled = stats(&wabill(&[
        "price",
        double.to_str().unwrap(),
        "--accounts",
        a,
        "--group-by",
        "type",
        "--stats",
    ]));
    // The ratio is taken within each run (against the floor runs just before and after),
    // then its median: on a shared machine the speed drifts between runs more than within one.
    let ratios = |v: &[(f64, f64)], f: &[f64]| v.iter().zip(f).map(|(x, f)| x.0 / f).collect::<Vec<_>>();
    let rate = |s: f64| events as f64 / s / 1e6;
    let row = |name: &str, v: &[(f64, f64)], f: &[f64]| {
        let s = median(v.iter().map(|x| x.0).collect());
        let m = median(v.iter().map(|x| x.1).collect());
        let each: Vec<String> = ratios(v, f).iter().map(|r| format!("{r:.2}")).collect();
        println!(
            "| {name} | {s:.2} s | {:.2} M/s | {:.2}x ({}) | {m:.0} MiB |",
            rate(s),
            median(ratios(v, f)),
            each.join(", ")
        );
    };
    let floor_m = median(floors.clone());
    println!("{events} events, {users} users, 30 days; medians of {runs} runs\n");
    println!("| run | time | events/s | vs csv floor: median (each run) | peak memory |");
    println!("|---|---|---|---|---|");
    println!(
        "| csv crate reading the records (floor) | {floor_m:.2} s | {:.2} M/s | 1.00x | - |",
        rate(floor_m)
    );
    row("wabill price, summary only", &summary, &floor_s);
    row("wabill price --lines FILE", &with_lines, &floor_l);
    println!(
        "\nTwice the log (60 days, same users per day), summary only: {:.2} s, peak memory {:.0} MiB ({:+.1}% vs {:.0} MiB)",
        doubled.0,
        doubled.1,
        (doubled.1 / median(summary.iter().map(|x| x.1).collect()) - 1.0) * 100.0,
        median(summary.iter().map(|x| x.1).collect())
    );
}
