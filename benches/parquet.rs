//! Pricing a Parquet log: `cargo bench --features parquet --bench parquet`.
//!
//! Generates a log (default 10 million events, 1 million users, 30 days) and writes it as
//! Parquet (every column a string but the timestamp, a `timestamp[us, UTC]`; zstd; row groups
//! of 1M rows), then measures, as medians of several runs:
//! - the floor: the parquet crate alone reading every column of the file into record batches
//!   (in this process), before and after each wabill run, compared with the mean of the two;
//! - `wabill price LOG.parquet` with the summary only, and with `--lines FILE.parquet`;
//! - `wabill price LOG.csv` (the same log), for comparison;
//! - peak memory of each run (`--stats`).
//!
//! Environment: `WABILL_BENCH_EVENTS`, `WABILL_BENCH_USERS`, `WABILL_BENCH_RUNS` (default 3).
//! The figures of record are in BENCHMARKS.md. The files (in `target/tmp/parquet`) are removed
//! when the bench ends unless `WABILL_BENCH_KEEP` is set.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use wabill::log::arrow_array::{Array, ArrayRef, RecordBatch, StringArray, TimestampMicrosecondArray};
use wabill::log::arrow_schema::{DataType, Field, Schema, TimeUnit};
use wabill::log::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use wabill::log::parquet::arrow::ArrowWriter;
use wabill::log::parquet::basic::{Compression, ZstdLevel};
use wabill::log::parquet::file::properties::WriterProperties;
use wabill::DateTime;

#[path = "common/mod.rs"]
#[allow(dead_code)]
mod common;
use common::{env, median, stats, wabill, Scratch};

/// Writes the CSV log as Parquet, 64K rows a batch.
fn to_parquet(csv: &Path, out: &Path) {
    let mut reader = csv::Reader::from_path(csv).unwrap();
    let header = reader.headers().unwrap().clone();
    let time = header.iter().position(|h| h == "timestamp").unwrap();
    let fields: Vec<Field> = header
        .iter()
        .enumerate()
        .map(|(i, name)| match i == time {
            true => Field::new(name, DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())), false),
            false => Field::new(name, DataType::Utf8, true),
        })
        .collect();
    let schema = Arc::new(Schema::new(fields));
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_max_row_group_row_count(Some(1 << 20))
        .build();
    let mut w = ArrowWriter::try_new(File::create(out).unwrap(), schema.clone(), Some(props)).unwrap();
    let mut rows: Vec<csv::StringRecord> = Vec::with_capacity(1 << 16);
    let mut record = csv::StringRecord::new();
    let mut flush = |rows: &mut Vec<csv::StringRecord>| {
        let columns: Vec<ArrayRef> = (0..header.len())
            .map(|c| -> ArrayRef {
                if c == time {
                    let t = |r: &csv::StringRecord| {
                        DateTime::parse_from_rfc3339(&r[c]).unwrap().timestamp_micros()
                    };
                    Arc::new(
                        TimestampMicrosecondArray::from_iter_values(rows.iter().map(t)).with_timezone("UTC"),
                    )
                } else {
                    Arc::new(StringArray::from_iter(
                        rows.iter().map(|r| Some(&r[c]).filter(|s| !s.is_empty())),
                    ))
                }
            })
            .collect();
        w.write(&RecordBatch::try_new(schema.clone(), columns).unwrap()).unwrap();
        rows.clear();
    };
    while reader.read_record(&mut record).unwrap() {
        rows.push(record.clone());
        if rows.len() == 1 << 16 {
            flush(&mut rows);
        }
    }
    if !rows.is_empty() {
        flush(&mut rows);
    }
    w.close().unwrap();
}

/// The parquet crate alone reading every column of the file.
fn floor(path: &Path) -> f64 {
    let start = Instant::now();
    let reader =
        ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap()).unwrap().build().unwrap();
    let mut cells = 0usize;
    for batch in reader {
        let batch = batch.unwrap();
        cells += batch.columns().iter().map(|c| c.len() - c.null_count()).sum::<usize>();
    }
    std::hint::black_box(cells);
    start.elapsed().as_secs_f64()
}

fn main() {
    let events = env("WABILL_BENCH_EVENTS", 10_000_000);
    let users = env("WABILL_BENCH_USERS", 1_000_000);
    let runs = env("WABILL_BENCH_RUNS", 3).max(1) as usize;
    let scratch = Scratch(PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("parquet"));
    let dir = scratch.0.clone();
    std::fs::create_dir_all(&dir).unwrap();
    let (csv, accounts) = (dir.join(format!("log-{events}-{users}.csv")), dir.join("accounts.csv"));
    let parquet = dir.join(format!("log-{events}-{users}.parquet"));
    if !parquet.exists() {
        eprintln!("generating {} ({events} events)…", csv.display());
        let (e, u) = (events.to_string(), users.to_string());
        let (c, a) = (csv.to_str().unwrap(), accounts.to_str().unwrap());
        wabill(&["generate", "--events", &e, "--users", &u, "--output", c, "--accounts", a]);
        eprintln!("writing {}…", parquet.display());
        to_parquet(&csv, &parquet);
    }
    let size = |p: &Path| std::fs::metadata(p).unwrap().len() as f64 / (1 << 20) as f64;
    let (a, p, c) = (accounts.to_str().unwrap(), parquet.to_str().unwrap(), csv.to_str().unwrap());
    let lines = dir.join("lines.parquet");
    let price = |log: &str, out: Option<&Path>| {
        let mut args = vec!["price", log, "--accounts", a, "--group-by", "type", "--stats"];
        if let Some(out) = out {
            args.extend(["--lines", out.to_str().unwrap()]);
        }
        stats(&wabill(&args))
    };
    let (mut floors, mut summary, mut with_lines, mut from_csv) =
        (vec![floor(&parquet)], vec![], vec![], vec![]);
    for run in 0..runs {
        eprintln!("run {}/{runs}…", run + 1);
        summary.push(price(p, None));
        floors.push(floor(&parquet));
        with_lines.push(price(p, Some(&lines)));
        floors.push(floor(&parquet));
        from_csv.push(price(c, None));
    }
    let lines_size = size(&lines);
    let around = |i: usize| (floors[i] + floors[i + 1]) / 2.0;
    let floor_s: Vec<f64> = (0..runs).map(|r| around(2 * r)).collect();
    let floor_l: Vec<f64> = (0..runs).map(|r| around(2 * r + 1)).collect();
    let rate = |s: f64| events as f64 / s / 1e6;
    let row = |name: &str, v: &[(f64, f64)], f: Option<&[f64]>| {
        let s = median(v.iter().map(|x| x.0).collect());
        let m = median(v.iter().map(|x| x.1).collect());
        let vs = match f {
            Some(f) => format!("{:.2}x", median(v.iter().zip(f).map(|(x, f)| x.0 / f).collect())),
            None => "-".to_string(),
        };
        println!("| {name} | {s:.2} s | {:.2} M/s | {vs} | {m:.0} MiB |", rate(s));
    };
    let floor_m = median(floors.clone());
    println!(
        "{events} events, {users} users, 30 days; Parquet log {:.0} MiB (CSV {:.0} MiB), priced lines as Parquet {lines_size:.0} MiB; medians of {runs} runs\n",
        size(&parquet),
        size(&csv)
    );
    println!("| run | time | events/s | vs parquet floor | peak memory |");
    println!("|---|---|---|---|---|");
    println!(
        "| parquet crate reading every column (floor) | {floor_m:.2} s | {:.2} M/s | 1.00x | - |",
        rate(floor_m)
    );
    row("wabill price LOG.parquet, summary only", &summary, Some(&floor_s));
    row("wabill price LOG.parquet --lines FILE.parquet", &with_lines, Some(&floor_l));
    row("wabill price LOG.csv, summary only (the same log)", &from_csv, None);
}
