//! Parquet logs and priced lines (feature `parquet`): the same log read from CSV and from
//! Parquet gives the same priced lines, written as CSV or as Parquet (money as
//! `decimal128(38, 10)`, the timestamp as `timestamp[us, UTC]`); a bad row of a Parquet log is
//! reported at its position.

use std::fs::File;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use wabill::log::arrow_array::cast::AsArray;
use wabill::log::arrow_array::types::{Decimal128Type, TimestampMicrosecondType};
use wabill::log::arrow_array::{Array, ArrayRef, RecordBatch, StringArray, TimestampMicrosecondArray};
use wabill::log::arrow_schema::{DataType, Field, Schema, TimeUnit};
use wabill::log::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use wabill::log::parquet::arrow::ArrowWriter;
use wabill::{DateTime, Decimal, Utc};

/// Writes the CSV log `csv` as Parquet: every column a string, the timestamp a
/// `timestamp[us, UTC]` when `typed`; in batches of 100 rows, a row group each.
fn csv_to_parquet(csv: &Path, out: &Path, typed: bool) {
    let mut reader = csv::Reader::from_path(csv).unwrap();
    let header = reader.headers().unwrap().clone();
    let fields: Vec<Field> = header
        .iter()
        .map(|name| match (name, typed) {
            ("timestamp", true) => {
                Field::new(name, DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())), true)
            }
            _ => Field::new(name, DataType::Utf8, true),
        })
        .collect();
    let schema = Arc::new(Schema::new(fields));
    let props = wabill::log::parquet::file::properties::WriterProperties::builder()
        .set_max_row_group_row_count(Some(100))
        .build();
    let mut w = ArrowWriter::try_new(File::create(out).unwrap(), schema.clone(), Some(props)).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    for chunk in rows.chunks(100) {
        let columns: Vec<ArrayRef> = (0..header.len())
            .map(|c| -> ArrayRef {
                if header[c] == *"timestamp" && typed {
                    let t = |r: &csv::StringRecord| {
                        DateTime::parse_from_rfc3339(&r[c]).unwrap().timestamp_micros()
                    };
                    Arc::new(
                        TimestampMicrosecondArray::from_iter_values(chunk.iter().map(t)).with_timezone("UTC"),
                    )
                } else {
                    Arc::new(StringArray::from_iter(
                        chunk.iter().map(|r| Some(&r[c]).filter(|s| !s.is_empty())),
                    ))
                }
            })
            .collect();
        w.write(&RecordBatch::try_new(schema.clone(), columns).unwrap()).unwrap();
    }
    w.close().unwrap();
}

fn wabill(args: &[&str]) -> std::process::Output {
    let out = Command::new(env!("CARGO_BIN_EXE_wabill")).args(args).output().unwrap();
    out
}

fn price(log: &Path, lines: &Path) {
    let out = wabill(&[
        "price",
        log.to_str().unwrap(),
        "--accounts",
        "fixtures/example/accounts.csv",
        "--tariff",
        "fixtures/tariffs/per-message.toml",
        "--lines",
        lines.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Priced lines written as Parquet, as text: a row a line of `column=value`, the timestamp as
/// its instant, money as its exact decimal, nulls empty.
fn parquet_lines(path: &Path) -> Vec<Vec<(String, String)>> {
    let reader =
        ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap()).unwrap().build().unwrap();
    let mut rows = Vec::new();
    for batch in reader {
        let batch = batch.unwrap();
        for r in 0..batch.num_rows() {
            let row = batch
                .schema()
                .fields()
                .iter()
                .zip(batch.columns())
                .map(|(f, c)| {
                    let value = match (c.is_null(r), f.data_type()) {
                        (true, _) => String::new(),
                        (_, DataType::Utf8) => c.as_string::<i32>().value(r).to_string(),
                        (_, DataType::Boolean) => c.as_boolean().value(r).to_string(),
                        (_, DataType::Decimal128(38, 10)) => {
                            Decimal::from_i128_with_scale(c.as_primitive::<Decimal128Type>().value(r), 10)
                                .normalize()
                                .to_string()
                        }
                        (_, DataType::Timestamp(TimeUnit::Microsecond, Some(tz))) if &**tz == "UTC" => {
                            let t = c.as_primitive::<TimestampMicrosecondType>().value(r);
                            DateTime::<Utc>::from_timestamp_micros(t).unwrap().to_rfc3339()
                        }
                        (_, other) => panic!("column {} of type {other}", f.name()),
                    };
                    (f.name().clone(), value)
                })
                .collect();
            rows.push(row);
        }
    }
    rows
}

/// Priced lines written as CSV, as [`parquet_lines`] reads them.
fn csv_lines(path: &Path) -> Vec<Vec<(String, String)>> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            header
                .iter()
                .zip(r.iter())
                .map(|(name, value)| {
                    let value = match name {
                        "timestamp" => {
                            DateTime::parse_from_rfc3339(value).unwrap().with_timezone(&Utc).to_rfc3339()
                        }
                        "rate" | "charge" | "aggregator_fee" if !value.is_empty() => {
                            value.parse::<Decimal>().unwrap().normalize().to_string()
                        }
                        _ => value.to_string(),
                    };
                    (name.to_string(), value)
                })
                .collect()
        })
        .collect()
}

#[test]
fn a_log_from_parquet_prices_as_from_csv() {
    let dir = tempfile::tempdir().unwrap();
    let csv = Path::new("fixtures/example/log.csv");
    let (typed, strings) = (dir.path().join("typed.parquet"), dir.path().join("strings.parquet"));
    csv_to_parquet(csv, &typed, true);
    csv_to_parquet(csv, &strings, false);
    let lines = |name: &str| dir.path().join(name);
    price(csv, &lines("csv.csv"));
    price(&strings, &lines("strings.csv"));
    price(&typed, &lines("typed.csv"));
    price(csv, &lines("csv.parquet"));
    price(&typed, &lines("typed-lines.parquet"));
    // A log of strings is the CSV log itself: the same bytes out.
    let read = |name: &str| std::fs::read_to_string(lines(name)).unwrap();
    assert_eq!(read("strings.csv"), read("csv.csv"));
    let expected = csv_lines(&lines("csv.csv"));
    assert_eq!(expected.len(), 386);
    assert!(expected[0].iter().any(|(c, v)| c == "aggregator_fee" && !v.is_empty()));
    assert_eq!(csv_lines(&lines("typed.csv")), expected);
    assert_eq!(parquet_lines(&lines("csv.parquet")), expected);
    assert_eq!(parquet_lines(&lines("typed-lines.parquet")), expected);
}

#[test]
fn priced_lines_as_parquet_have_the_types_of_money_and_time() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("lines.parquet");
    price(Path::new("fixtures/example/log.csv"), &out);
    let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(&out).unwrap()).unwrap();
    let schema = reader.schema();
    let type_of = |name: &str| schema.field_with_name(name).unwrap().data_type().clone();
    assert_eq!(type_of("timestamp"), DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())));
    for money in ["rate", "charge", "aggregator_fee"] {
        assert_eq!(type_of(money), DataType::Decimal128(38, 10));
    }
    assert_eq!(type_of("campaign"), DataType::Utf8);
    assert_eq!(type_of("rate_verified"), DataType::Boolean);
}

#[test]
fn a_bad_row_of_a_parquet_log_is_reported_at_its_row() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("bad.csv");
    let mut text = std::fs::read_to_string("fixtures/example/log.csv").unwrap();
    text = text.replacen(",mt,authentication,failed,", ",sideways,authentication,failed,", 1);
    std::fs::write(&csv, text).unwrap();
    // Named without `.parquet`: found by its first bytes.
    let log = dir.path().join("bad.log");
    csv_to_parquet(&csv, &log, true);
    let out = wabill(&["price", log.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    let expected = format!("{}:4: column direction: ", log.display());
    assert!(stderr.contains(&expected), "{stderr}");
}
