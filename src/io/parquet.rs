//! Parquet at the boundary: a Parquet log read a record batch at a time as the CSV log it
//! stands for ([`ArrowLog`]), and priced lines written a record batch at a time
//! ([`ParquetLinesWriter`], the columns of [`ArrowLines`]).

use std::fs::File;
use std::io::Write;

use arrow_array::RecordBatchReader;
use csv::StringRecord;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use rust_decimal::Decimal;

use super::arrow::{ArrowLines, ArrowLog};
use super::pipeline::Row;
use crate::domain::error::Error;
use crate::engine::PricedLine;

/// The first bytes of a Parquet file (and its last).
pub const MAGIC: &[u8; 4] = b"PAR1";

/// Whether a log is Parquet, by its name (`.parquet`, `.parq`) or its first bytes.
pub fn is_parquet(name: &str, first: &[u8]) -> bool {
    let name = name.to_ascii_lowercase();
    name.ends_with(".parquet") || name.ends_with(".parq") || first.starts_with(MAGIC)
}

/// A Parquet log, read a record batch at a time (a row group's rows at most), as a CSV log.
pub type ParquetLog = ArrowLog<ParquetRecordBatchReader>;

/// Opens the Parquet log `file` (`name` in messages): its footer is read now, its rows as they
/// are read.
pub fn open_parquet_log(file: File, name: &str) -> Result<ParquetLog, Error> {
    let bad = |e: parquet::errors::ParquetError| Error::io(name, std::io::Error::other(e));
    let reader = ParquetRecordBatchReaderBuilder::try_new(file).map_err(bad)?.build().map_err(bad)?;
    let schema = reader.schema();
    Ok(ArrowLog::new(schema, reader))
}

/// Writes priced lines as Parquet (zstd), a row group of [`LINES_BATCH`](super::arrow::LINES_BATCH)
/// lines at a time: the columns of [`ArrowLines`].
pub struct ParquetLinesWriter<W: Write + Send> {
    lines: ArrowLines,
    out: ArrowWriter<W>,
}

fn parquet_io(e: parquet::errors::ParquetError) -> std::io::Error {
    match e {
        parquet::errors::ParquetError::External(e) => std::io::Error::other(e),
        e => std::io::Error::other(e),
    }
}

impl<W: Write + Send> ParquetLinesWriter<W> {
    /// A writer of the priced lines of logs with these headers, with `extra` money columns
    /// (e.g. `aggregator_fee`).
    pub fn new(out: W, headers: &[StringRecord], extra: &[&str]) -> std::io::Result<ParquetLinesWriter<W>> {
        let lines = ArrowLines::new(headers, extra);
        let props =
            WriterProperties::builder().set_compression(Compression::ZSTD(ZstdLevel::default())).build();
        let out = ArrowWriter::try_new(out, lines.schema(), Some(props)).map_err(parquet_io)?;
        Ok(ParquetLinesWriter { lines, out })
    }

    /// Writes a priced row's line, with its extra columns' values.
    pub fn write(
        &mut self,
        row: &Row,
        line: &PricedLine,
        extra: &[Option<Decimal>],
    ) -> Result<std::io::Result<()>, Error> {
        Ok(match self.lines.push(row, line, extra)? {
            Some(batch) => self.out.write(&batch).map_err(parquet_io),
            None => Ok(()),
        })
    }

    /// Writes the lines waiting and the footer; the output.
    pub fn into_inner(mut self) -> std::io::Result<W> {
        if let Some(batch) = self.lines.finish() {
            self.out.write(&batch).map_err(parquet_io)?;
        }
        self.out.into_inner().map_err(parquet_io)
    }
}
