//! Arrow record batches at the boundary: a log given as record batches read as the CSV log it
//! stands for ([`ArrowLog`]), so that its rows become events by the same path as a CSV log's;
//! and priced lines built into record batches ([`ArrowLines`]): every input column as read (the
//! `timestamp` as `timestamp[us, UTC]`), wabill's columns after them, money as
//! `decimal128(38, 10)`.

use std::io::{self, Read};
use std::sync::Arc;

use arrow_array::builder::{BooleanBuilder, Decimal128Builder, StringBuilder, TimestampMicrosecondBuilder};
use arrow_array::cast::AsArray;
use arrow_array::types::{
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType,
};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef, TimeUnit};
use chrono::{DateTime, Utc};
use csv::StringRecord;
use rust_decimal::Decimal;

use super::lines::{push_field, Layout};
use super::log::APPENDED;
use super::pipeline::Row;
use crate::domain::error::{Error, Problem};
use crate::engine::PricedLine;

/// The decimal type of money in record batches: 38 digits, 10 of them after the point (rates
/// are given to at most 4; a tariff's fee to a few more). A value with more decimals is an
/// error, never rounded.
pub const MONEY: DataType = DataType::Decimal128(MONEY_PRECISION, MONEY_SCALE);
const MONEY_PRECISION: u8 = 38;
const MONEY_SCALE: i8 = 10;

/// How many priced lines an [`ArrowLines`] puts in one record batch.
pub const LINES_BATCH: usize = 64 * 1024;

/// A log given as record batches (from a Parquet file, pyarrow, pandas, Polars), read as the
/// CSV log it stands for: a header of its columns' names, then a line a row. Strings are
/// written as they are (quoted when they must be, as the csv crate quotes), nulls as empty
/// fields, timestamps as RFC 3339 (`Z` when the column has a time zone, else without an
/// offset, which the log's rules refuse unless a zone is named for such values), any other
/// type as Arrow casts it to a string.
///
/// A row's position is the line it would have in that CSV: row 1 is line 2.
pub struct ArrowLog<I> {
    batches: I,
    /// Text rendered and not yet read, from `at`.
    text: Vec<u8>,
    at: usize,
    /// Rows rendered, for messages.
    rows: u64,
    schema: SchemaRef,
    done: bool,
}

impl<I: Iterator<Item = Result<RecordBatch, ArrowError>>> ArrowLog<I> {
    /// The log of the `batches` of `schema`.
    pub fn new(schema: SchemaRef, batches: I) -> ArrowLog<I> {
        let mut text = Vec::new();
        for f in schema.fields() {
            push_field(&mut text, f.name());
        }
        super::lines::end_line(&mut text);
        ArrowLog { batches, text, at: 0, rows: 0, schema, done: false }
    }

    /// Renders the next batch; `false` at the end.
    fn next_batch(&mut self) -> io::Result<bool> {
        let batch = match self.batches.next() {
            None => return Ok(false),
            Some(Ok(b)) => b,
            Some(Err(e)) => {
                return Err(io::Error::other(format!("after row {}: {e}", self.rows)));
            }
        };
        if batch.schema().fields().len() != self.schema.fields().len() {
            return Err(io::Error::other(format!("after row {}: a batch of another schema", self.rows)));
        }
        let columns: Vec<Column> = batch
            .columns()
            .iter()
            .zip(self.schema.fields())
            .map(|(c, f)| Column::of(c, f.name()))
            .collect::<io::Result<_>>()?;
        self.text.clear();
        self.at = 0;
        let mut buf = String::new();
        for r in 0..batch.num_rows() {
            for c in &columns {
                buf.clear();
                c.write(r, &mut buf);
                push_field(&mut self.text, &buf);
            }
            super::lines::end_line(&mut self.text);
        }
        self.rows += batch.num_rows() as u64;
        Ok(true)
    }
}

impl<I: Iterator<Item = Result<RecordBatch, ArrowError>>> Read for ArrowLog<I> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.at == self.text.len() {
            if self.done || !self.next_batch()? {
                self.done = true;
                return Ok(0);
            }
        }
        let n = out.len().min(self.text.len() - self.at);
        out[..n].copy_from_slice(&self.text[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// A column of a batch, as text.
enum Column {
    Text(ArrayRef),
    /// Microseconds since the epoch, and whether the column has a time zone.
    Time(Vec<Option<i64>>, bool),
}

impl Column {
    fn of(array: &ArrayRef, name: &str) -> io::Result<Column> {
        let unsupported =
            |e: ArrowError| io::Error::other(format!("column {name}: cannot be read as text ({e})"));
        Ok(match array.data_type() {
            DataType::Utf8 => Column::Text(array.clone()),
            DataType::Timestamp(unit, tz) => {
                let micros = |v: i64| match unit {
                    TimeUnit::Second => v.checked_mul(1_000_000),
                    TimeUnit::Millisecond => v.checked_mul(1_000),
                    TimeUnit::Microsecond => Some(v),
                    TimeUnit::Nanosecond => Some(v.div_euclid(1_000)),
                };
                let values: Vec<Option<i64>> = match unit {
                    TimeUnit::Second => array.as_primitive::<TimestampSecondType>().iter().collect(),
                    TimeUnit::Millisecond => {
                        array.as_primitive::<TimestampMillisecondType>().iter().collect()
                    }
                    TimeUnit::Microsecond => {
                        array.as_primitive::<TimestampMicrosecondType>().iter().collect()
                    }
                    TimeUnit::Nanosecond => array.as_primitive::<TimestampNanosecondType>().iter().collect(),
                };
                if *unit == TimeUnit::Nanosecond {
                    // Nanoseconds are kept: the timestamp is written with them below.
                    return Ok(Column::Time(values, tz.is_some()).nanos());
                }
                Column::Time(values.into_iter().map(|v| v.and_then(micros)).collect(), tz.is_some())
            }
            _ => Column::Text(arrow_cast::cast(array, &DataType::Utf8).map_err(unsupported)?),
        })
    }

    /// A column of nanoseconds kept as they are (see [`Column::write`]).
    fn nanos(self) -> Column {
        match self {
            Column::Time(v, tz) => Column::Text(Arc::new(arrow_array::StringArray::from_iter(
                v.into_iter().map(|v| v.map(|n| format_time(DateTime::from_timestamp_nanos(n), tz))),
            ))),
            text => text,
        }
    }

    fn write(&self, r: usize, out: &mut String) {
        match self {
            Column::Text(a) => {
                let a = a.as_string::<i32>();
                if a.is_valid(r) {
                    out.push_str(a.value(r));
                }
            }
            Column::Time(v, tz) => {
                if let Some(t) = v[r].and_then(DateTime::from_timestamp_micros) {
                    let mut buf = [0; 20];
                    match crate::domain::time::rfc3339_seconds(t, &mut buf).filter(|_| *tz) {
                        Some(text) => out.push_str(text),
                        None => out.push_str(&format_time(t, *tz)),
                    }
                }
            }
        }
    }
}

/// An instant as the log writes it: RFC 3339, `Z` when `zoned`, else without an offset.
fn format_time(t: DateTime<Utc>, zoned: bool) -> String {
    if zoned {
        crate::domain::time::rfc3339(t)
    } else {
        t.naive_utc().format("%Y-%m-%dT%H:%M:%S%.f").to_string()
    }
}

/// Builds priced lines into record batches of [`LINES_BATCH`] lines: every input column as
/// read (strings; the `timestamp` as `timestamp[us, UTC]`, the instant priced), then wabill's
/// columns (docs/rules.md §7: `rate` and `charge` as [`MONEY`], `rate_verified` a boolean,
/// empty values null), the `extra` money columns (e.g. `aggregator_fee`), then Meta's verdict
/// (`meta_…`). The same columns, in the same order, as [`LinesWriter`](super::lines::LinesWriter)
/// writes.
pub struct ArrowLines {
    layout: Layout,
    schema: SchemaRef,
    /// Where the input column `timestamp` is among the layout's.
    timestamp: Option<usize>,
    inputs: Vec<StringBuilder>,
    time: TimestampMicrosecondBuilder,
    words: [StringBuilder; 7],
    rate: Decimal128Builder,
    rate_verified: BooleanBuilder,
    charge: Decimal128Builder,
    currency: StringBuilder,
    extra: Vec<Decimal128Builder>,
    len: usize,
}

impl ArrowLines {
    /// A builder of the priced lines of logs with these headers, with `extra` money columns.
    pub fn new(headers: &[StringRecord], extra: &[&str]) -> ArrowLines {
        let replaced: Vec<&str> = APPENDED.iter().chain(extra).copied().collect();
        let layout = Layout::new(headers, &replaced);
        let timestamp = layout.columns.iter().position(|c| c == "timestamp");
        let text = |name: &str, nullable| Field::new(name, DataType::Utf8, nullable);
        let input = |(i, name): (usize, &String)| match Some(i) == timestamp {
            true => Field::new(name, DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())), false),
            false => text(name, false),
        };
        let n = layout.columns.len() - layout.trailing;
        let mut fields: Vec<Field> = layout.columns[..n].iter().enumerate().map(input).collect();
        for name in APPENDED {
            fields.push(match name {
                "rate" => Field::new(name, MONEY, true),
                "charge" => Field::new(name, MONEY, false),
                "rate_verified" => Field::new(name, DataType::Boolean, true),
                "pricing_category" | "country" | "tier" => text(name, true),
                _ => text(name, false),
            });
        }
        fields.extend(extra.iter().map(|name| Field::new(*name, MONEY, true)));
        fields.extend(layout.columns[n..].iter().map(|name| text(name, false)));
        let money = || Decimal128Builder::new().with_data_type(MONEY);
        ArrowLines {
            schema: Arc::new(Schema::new(fields)),
            inputs: (0..layout.columns.len()).map(|_| StringBuilder::new()).collect(),
            timestamp,
            layout,
            time: TimestampMicrosecondBuilder::new().with_timezone("UTC"),
            words: Default::default(),
            rate: money(),
            rate_verified: BooleanBuilder::new(),
            charge: money(),
            currency: StringBuilder::new(),
            extra: extra.iter().map(|_| money()).collect(),
            len: 0,
        }
    }

    /// The schema of the batches.
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// Adds a priced row's line, with its `extra` columns' values; a batch once
    /// [`LINES_BATCH`] lines are waiting. A value with more than 10 decimals (or more than 28
    /// digits before the point) is an error at the row's position.
    pub fn push(
        &mut self,
        row: &Row,
        line: &PricedLine,
        extra: &[Option<Decimal>],
    ) -> Result<Option<RecordBatch>, Error> {
        let money = |column: &str, d: Decimal| {
            money(d).map_err(|p| Problem::column(column.to_string(), p, d.to_string()).at(row.position()))
        };
        let rate = line.rate.map(|r| money("rate", r)).transpose()?;
        let charge = money("charge", line.charge)?;
        let fees = extra
            .iter()
            .zip(
                self.schema
                    .fields()
                    .iter()
                    .skip(self.layout.columns.len() - self.layout.trailing + APPENDED.len()),
            )
            .map(|(d, f)| d.map(|d| money(f.name(), d)).transpose())
            .collect::<Result<Vec<_>, Error>>()?;
        let (log, record) = (row.log(), row.record());
        for (c, (b, i)) in self.inputs.iter_mut().zip(&self.layout.maps[log]).enumerate() {
            if Some(c) == self.timestamp {
                self.time.append_value(line.timestamp.timestamp_micros());
            } else {
                b.append_value(i.and_then(|i| record.get(i)).unwrap_or(""));
            }
        }
        let [rules, model, pricing_type, category, market, country, tier] = &mut self.words;
        rules.append_value(line.rules.as_str());
        model.append_value(line.pricing_model.as_str());
        pricing_type.append_value(line.pricing_type.as_str());
        category.append_option(line.pricing_category.map(|c| c.as_str()));
        market.append_value(line.market());
        country.append_option(line.country.as_ref().map(|c| c.code()));
        tier.append_option(line.tier.map(|t| t.to_string()));
        self.rate.append_option(rate);
        self.rate_verified.append_option(line.rate_verified);
        self.charge.append_value(charge);
        self.currency.append_value(line.currency.code());
        for (b, fee) in self.extra.iter_mut().zip(fees) {
            b.append_option(fee);
        }
        self.len += 1;
        Ok((self.len >= LINES_BATCH).then(|| self.take()))
    }

    /// The lines waiting, as a batch (none when none wait).
    pub fn finish(&mut self) -> Option<RecordBatch> {
        (self.len > 0).then(|| self.take())
    }

    fn take(&mut self) -> RecordBatch {
        let n = self.layout.columns.len() - self.layout.trailing;
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(self.schema.fields().len());
        for (c, b) in self.inputs[..n].iter_mut().enumerate() {
            columns.push(match Some(c) == self.timestamp {
                true => Arc::new(self.time.finish()),
                false => Arc::new(b.finish()),
            });
        }
        let [rules, model, pricing_type, category, market, country, tier] = &mut self.words;
        for b in [rules, model, pricing_type, category, market, country, tier] {
            columns.push(Arc::new(b.finish()));
        }
        columns.push(Arc::new(self.rate.finish()));
        columns.push(Arc::new(self.rate_verified.finish()));
        columns.push(Arc::new(self.charge.finish()));
        columns.push(Arc::new(self.currency.finish()));
        for b in &mut self.extra {
            columns.push(Arc::new(b.finish()));
        }
        for b in &mut self.inputs[n..] {
            columns.push(Arc::new(b.finish()));
        }
        self.len = 0;
        RecordBatch::try_new(self.schema.clone(), columns).expect("columns built to the schema")
    }
}

/// `d` as a [`MONEY`] value: its digits at scale 10, when it fits without rounding.
pub fn money(d: Decimal) -> Result<i128, &'static str> {
    let d = d.normalize();
    let scale = d.scale() as i8;
    if scale > MONEY_SCALE {
        return Err("more than 10 decimals for decimal128(38, 10)");
    }
    let digits = d
        .mantissa()
        .checked_mul(10i128.pow((MONEY_SCALE - scale) as u32))
        .filter(|v| v.unsigned_abs() < 10u128.pow(MONEY_PRECISION as u32));
    digits.ok_or("more than 28 digits before the point for decimal128(38, 10)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_keeps_every_digit_or_refuses() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(money(d("0.0107")), Ok(107_000_000));
        assert_eq!(money(d("-1.50")), Ok(-15_000_000_000));
        assert_eq!(money(d("0.00000000001")), Err("more than 10 decimals for decimal128(38, 10)"));
        assert_eq!(money(Decimal::MAX), Err("more than 28 digits before the point for decimal128(38, 10)"));
        let large = Decimal::from_i128_with_scale(10i128.pow(28) - 1, 0);
        assert_eq!(money(large), Ok((10i128.pow(28) - 1) * 10i128.pow(10)));
    }
}
