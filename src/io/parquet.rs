//! Parquet at the boundary: a Parquet log read a record batch at a time as the CSV log it
//! stands for ([`ArrowLog`]), and priced lines written a record batch at a time
//! ([`ParquetLinesWriter`], the columns of [`ArrowLines`]).

use std::fs::File;
use std::io::Write;
use std::sync::mpsc::{sync_channel, SyncSender};
use std::thread::JoinHandle;

use arrow_array::{RecordBatch, RecordBatchReader};
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
/// lines at a time: the columns of [`ArrowLines`]. The lines are built into record batches on
/// the calling thread and encoded and written on a thread of the writer's own, a batch or two
/// behind (encoding and compressing take longer than building).
pub struct ParquetLinesWriter<W: Write + Send + 'static> {
    lines: ArrowLines,
    batches: Option<SyncSender<RecordBatch>>,
    writer: Option<JoinHandle<std::io::Result<W>>>,
}

fn parquet_io(e: parquet::errors::ParquetError) -> std::io::Error {
    match e {
        parquet::errors::ParquetError::External(e) => std::io::Error::other(e),
        e => std::io::Error::other(e),
    }
}

impl<W: Write + Send + 'static> ParquetLinesWriter<W> {
    /// A writer of the priced lines of logs with these headers, with `extra` money columns
    /// (e.g. `aggregator_fee`).
    pub fn new(out: W, headers: &[StringRecord], extra: &[&str]) -> std::io::Result<ParquetLinesWriter<W>> {
        let lines = ArrowLines::new(headers, extra);
        let props =
            WriterProperties::builder().set_compression(Compression::ZSTD(ZstdLevel::default())).build();
        let mut out = ArrowWriter::try_new(out, lines.schema(), Some(props)).map_err(parquet_io)?;
        let (batches, received) = sync_channel::<RecordBatch>(1);
        let writer = std::thread::spawn(move || {
            for batch in received {
                out.write(&batch).map_err(parquet_io)?;
            }
            out.into_inner().map_err(parquet_io)
        });
        Ok(ParquetLinesWriter { lines, batches: Some(batches), writer: Some(writer) })
    }

    /// Writes a priced row's line, with its extra columns' values. A value that does not fit
    /// the columns' types is an error at the row; the outer result is the writing's.
    pub fn write(
        &mut self,
        row: &Row,
        line: &PricedLine,
        extra: &[Option<Decimal>],
    ) -> Result<std::io::Result<()>, Error> {
        Ok(match self.lines.push(row, line, extra)? {
            Some(batch) => self.send(batch),
            None => Ok(()),
        })
    }

    fn send(&mut self, batch: RecordBatch) -> std::io::Result<()> {
        let sent = self.batches.as_ref().map(|b| b.send(batch).is_ok());
        match sent {
            Some(true) => Ok(()),
            // The writing thread ended: its error.
            _ => self.join().map(drop),
        }
    }

    fn join(&mut self) -> std::io::Result<W> {
        self.batches = None;
        match self.writer.take().map(JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(panic)) => std::panic::resume_unwind(panic),
            None => Err(std::io::Error::other("the writer has failed before")),
        }
    }

    /// Writes the lines waiting and the footer; the output.
    pub fn into_inner(mut self) -> std::io::Result<W> {
        if let Some(batch) = self.lines.finish() {
            self.send(batch)?;
        }
        self.join()
    }
}
