//! Reading a CSV file whose columns are found by name: the one mechanism behind the log, the
//! rate card, the markets table and the accounts file.
//!
//! Header names are matched ignoring case and surrounding spaces (a UTF-8 byte-order mark is
//! dropped). Values are trimmed. Every problem carries the file and line.

use std::io::Read;
use std::sync::Arc;

use csv::StringRecord;

use crate::error::{Error, Position, Problem};

pub(crate) struct Table<R> {
    file: Arc<str>,
    reader: csv::Reader<R>,
    header: StringRecord,
    record: StringRecord,
}

impl<R: Read> Table<R> {
    /// Opens a table and reads its header. `file` names it in messages.
    pub(crate) fn new(reader: R, file: &str) -> Result<Table<R>, Error> {
        let file: Arc<str> = file.into();
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .buffer_capacity(crate::csvlog::READ_BUFFER)
            .from_reader(reader);
        let mut header = StringRecord::new();
        let at = Position { file: file.clone(), line: 1 };
        match reader.read_record(&mut header) {
            Ok(true) => {}
            Ok(false) => return Err(Problem::new("empty file, expected a header row").at(at)),
            Err(e) => return Err(csv_error(&file, None, e)),
        }
        let mut names: Vec<String> = Vec::with_capacity(header.len());
        for (i, name) in header.iter().enumerate() {
            let name = name.trim_start_matches('\u{feff}').trim().to_ascii_lowercase();
            if name.is_empty() {
                return Err(Problem::new(format!("header: column {} has no name", i + 1)).at(at));
            }
            if names.contains(&name) {
                return Err(Problem::new(format!("header: column {name} appears twice")).at(at));
            }
            names.push(name);
        }
        let header = StringRecord::from(names);
        Ok(Table { file, reader, header, record: StringRecord::new() })
    }

    /// The header names, lower-cased and trimmed.
    pub(crate) fn header(&self) -> &StringRecord {
        &self.header
    }

    /// The index of a column, if the header has it.
    pub(crate) fn find(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    /// The index of a required column, or an error naming it.
    pub(crate) fn require(&self, name: &str) -> Result<usize, Error> {
        self.find(name).ok_or_else(|| {
            Problem::new(format!("missing required column {name}"))
                .at(Position { file: self.file.clone(), line: 1 })
        })
    }

    /// Refuses columns outside `known` (for configuration files, where a typo must not pass).
    pub(crate) fn only(&self, known: &[&str]) -> Result<(), Error> {
        match self.header.iter().find(|h| !known.contains(h)) {
            None => Ok(()),
            Some(h) => Err(Problem::new(format!("unknown column {h} (expected {})", known.join(", ")))
                .at(Position { file: self.file.clone(), line: 1 })),
        }
    }

    /// Reads the next row; `false` at the end.
    pub(crate) fn next_row(&mut self) -> Result<bool, Error> {
        let mut record = std::mem::take(&mut self.record);
        let more = self.read_into(&mut record);
        self.record = record;
        more
    }

    /// The current row's value in column `i`, trimmed ("" when absent).
    pub(crate) fn get(&self, i: Option<usize>) -> &str {
        field(&self.record, i)
    }

    /// The current row's position.
    pub(crate) fn position(&self) -> Position {
        Position { file: self.file.clone(), line: self.line() }
    }

    pub(crate) fn line(&self) -> u64 {
        self.record.position().map_or(0, |p| p.line())
    }

    /// Reads the next row into `record` (not the table's own); `false` at the end.
    pub(crate) fn read_into(&mut self, record: &mut StringRecord) -> Result<bool, Error> {
        self.reader.read_record(record).map_err(|e| csv_error(&self.file, Some(&self.header), e))
    }

    pub(crate) fn file(&self) -> &Arc<str> {
        &self.file
    }
}

/// Field `i` (if any) of `record`, trimmed; "" when absent.
pub(crate) fn field(record: &StringRecord, i: Option<usize>) -> &str {
    trimmed(|i| record.get(i), i)
}

/// Field `i` (if any) as `get` gives it, trimmed; "" when absent.
pub(crate) fn trimmed<'r>(get: impl Fn(usize) -> Option<&'r str>, i: Option<usize>) -> &'r str {
    crate::engine::trim(i.and_then(get).unwrap_or(""))
}

/// A csv crate error, positioned (and naming the column, when the header is known).
pub(crate) fn csv_error(file: &Arc<str>, header: Option<&StringRecord>, e: csv::Error) -> Error {
    let line = e.position().map_or(0, |p| p.line());
    let at = Position { file: file.clone(), line };
    let text = e.to_string();
    match e.into_kind() {
        csv::ErrorKind::Utf8 { err, .. } => match header.and_then(|h| h.get(err.field())) {
            Some(name) => Problem::column(name.to_string(), "invalid UTF-8", "").at(at),
            None => Problem::new(format!("invalid UTF-8 in field {}", err.field() + 1)).at(at),
        },
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            Problem::new(format!("expected {expected_len} fields, found {len}")).at(at)
        }
        csv::ErrorKind::Io(source) => Error::io(file.to_string(), source),
        _ => Problem::new(format!("malformed CSV: {text}")).at(at),
    }
}

/// Attaches a position to a problem of a configuration row.
pub(crate) trait At<T> {
    fn at(self, at: impl FnOnce() -> Position) -> Result<T, Error>;
}

impl<T> At<T> for Result<T, Problem> {
    fn at(self, at: impl FnOnce() -> Position) -> Result<T, Error> {
        self.map_err(|p| p.at(at()))
    }
}
