//! Reading a CSV file whose columns are found by name: the one mechanism behind the log, the
//! rate card, the markets table and the accounts file.
//!
//! Header names are matched ignoring case and surrounding spaces (a UTF-8 byte-order mark is
//! dropped). Values are trimmed. Every problem carries the file and line.

use std::io::Read;
use std::sync::Arc;

use csv::StringRecord;

use super::rows::{RowBuf, RowError, Rows};
use crate::domain::error::{Error, Position, Problem};

pub(crate) struct Table<R> {
    file: Arc<str>,
    rows: Rows<R>,
    header: StringRecord,
    row: RowBuf,
}

impl<R: Read> Table<R> {
    /// Opens a table and reads its header. `file` names it in messages.
    pub(crate) fn new(reader: R, file: &str) -> Result<Table<R>, Error> {
        let file: Arc<str> = file.into();
        let mut rows = Rows::new(reader);
        let mut header = RowBuf::default();
        let at = Position { file: file.clone(), line: 1 };
        match rows.next(&mut header) {
            Ok(true) => {}
            Ok(false) => return Err(Problem::new("empty file, expected a header row").at(at)),
            Err(e) => return Err(row_error(&file, None, &header, e)),
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
        Ok(Table { file, rows, header, row: RowBuf::default() })
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
        self.require_all([name]).map(|[i]| i)
    }

    /// The indexes of required columns, or an error naming every one the header lacks.
    pub(crate) fn require_all<const N: usize>(&self, names: [&str; N]) -> Result<[usize; N], Error> {
        let found = names.map(|name| self.find(name));
        let missing: Vec<&str> =
            names.iter().zip(&found).filter(|(_, i)| i.is_none()).map(|(name, _)| *name).collect();
        let what = match missing.as_slice() {
            [] => return Ok(found.map(|i| i.expect("every column found"))),
            [one] => format!("missing required column {one}"),
            many => format!("missing required columns {}", many.join(", ")),
        };
        Err(Problem::new(what).at(Position { file: self.file.clone(), line: 1 }))
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
        let mut row = std::mem::take(&mut self.row);
        let more = self.read_into(&mut row);
        self.row = row;
        more
    }

    /// The current row's value in column `i`, trimmed ("" when absent).
    pub(crate) fn get(&self, i: Option<usize>) -> &str {
        self.row.field(i)
    }

    /// The current row's position.
    pub(crate) fn position(&self) -> Position {
        Position { file: self.file.clone(), line: self.line() }
    }

    pub(crate) fn line(&self) -> u64 {
        self.row.line()
    }

    /// Reads the next row into `row` (not the table's own); `false` at the end.
    pub(crate) fn read_into(&mut self, row: &mut RowBuf) -> Result<bool, Error> {
        self.rows.next(row).map_err(|e| row_error(&self.file, Some(&self.header), row, e))
    }

    pub(crate) fn file(&self) -> &Arc<str> {
        &self.file
    }
}

/// A row that could not be read, positioned (and naming the column, when the header is known).
fn row_error(file: &Arc<str>, header: Option<&StringRecord>, row: &RowBuf, e: RowError) -> Error {
    let at = Position { file: file.clone(), line: row.line() };
    match e {
        RowError::Io(source) => Error::io(file.to_string(), source),
        RowError::Utf8 { field } => match header.and_then(|h| h.get(field)) {
            Some(name) => Problem::column(name.to_string(), "invalid UTF-8", "").at(at),
            None => Problem::new(format!("invalid UTF-8 in field {}", field + 1)).at(at),
        },
        RowError::Width { expected, found } => {
            Problem::new(format!("expected {expected} fields, found {found}")).at(at)
        }
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

/// An error of the data without a place yet (a value's `FromStr`) gets one.
impl<T> At<T> for Result<T, Error> {
    fn at(self, at: impl FnOnce() -> Position) -> Result<T, Error> {
        self.map_err(|e| e.at(at()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::rows::READ_BUFFER;
    use proptest::prelude::*;

    /// Gives its bytes a few at a time, so that rows and characters cross every boundary.
    struct Trickle<'a> {
        bytes: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.step.min(buf.len()).min(self.bytes.len());
            buf[..n].copy_from_slice(&self.bytes[..n]);
            self.bytes = &self.bytes[n..];
            Ok(n)
        }
    }

    /// Each row as (line, fields), or its error as (line, what).
    type Outcome = Vec<Result<(u64, Vec<String>), (u64, String)>>;

    /// Reads with AVX2 when the CPU has it and `avx2`.
    fn ours(bytes: &[u8], step: usize, avx2: bool) -> Outcome {
        ours_with(bytes, step, avx2, READ_BUFFER)
    }

    /// [`ours`], reading `buffer` bytes at a time.
    fn ours_with(bytes: &[u8], step: usize, avx2: bool, buffer: usize) -> Outcome {
        let mut rows = Rows::with_buffer(Trickle { bytes, step }, buffer);
        rows.avx2 &= avx2;
        let mut row = RowBuf::default();
        let mut out = Vec::new();
        loop {
            match rows.next(&mut row) {
                Ok(false) => return out,
                Ok(true) => {
                    for (i, f) in row.iter().enumerate() {
                        assert_eq!(row.field(Some(i)), f.trim(), "field {i} of {row:?}");
                        assert!(
                            !row.is_clean() || (f.is_ascii() && f.trim() == f),
                            "clean field {i} of {row:?}"
                        );
                    }
                    out.push(Ok((row.line(), row.iter().map(String::from).collect())))
                }
                Err(RowError::Utf8 { field }) => out.push(Err((row.line(), format!("utf8 {field}")))),
                Err(RowError::Width { expected, found }) => {
                    out.push(Err((row.line(), format!("width {expected} {found}"))))
                }
                Err(RowError::Io(e)) => panic!("{e}"),
            }
        }
    }

    fn theirs(bytes: &[u8]) -> Outcome {
        let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(bytes);
        let mut record = StringRecord::new();
        let mut out = Vec::new();
        loop {
            let line = |p: Option<&csv::Position>| p.map_or(0, |p| p.line());
            match reader.read_record(&mut record) {
                Ok(false) => return out,
                Ok(true) => {
                    out.push(Ok((line(record.position()), record.iter().map(String::from).collect())))
                }
                Err(e) => {
                    let at = line(e.position());
                    match e.into_kind() {
                        csv::ErrorKind::Utf8 { err, .. } => {
                            out.push(Err((at, format!("utf8 {}", err.field()))))
                        }
                        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
                            out.push(Err((at, format!("width {expected_len} {len}"))))
                        }
                        kind => panic!("{kind:?}"),
                    }
                }
            }
        }
    }

    proptest! {
        /// Rows, their lines and their errors are what the csv crate reads, however the input
        /// arrives and whatever the read buffer's size (lines cross its end and move to its
        /// front): quotes, every kind of line break, blank lines, a last row without a line
        /// break, characters split across fields and invalid UTF-8.
        #[test]
        fn rows_are_what_the_csv_crate_reads(
            bytes in proptest::collection::vec(
                proptest::sample::select(vec![
                    b'a', b'b', b',', b',', b'"', b'\r', b'\n', b'\n', b' ', b'\t', 0xC3, 0xA9, 0xC2, 0xA0, 0xFF,
                ]),
                0..300,
            ),
            step in prop_oneof![1usize..9, Just(4096)],
            buffer in prop_oneof![Just(READ_BUFFER), 1usize..200],
        ) {
            let expected = theirs(&bytes);
            prop_assert_eq!(&ours_with(&bytes, step, true, buffer), &expected);
            prop_assert_eq!(&ours_with(&bytes, step, false, buffer), &expected);
        }
    }

    /// A row that cannot be read (invalid UTF-8, the wrong number of fields) keeps its fields
    /// as lossy text, so that a log can report it as it was; the next row reads as usual.
    #[test]
    fn a_bad_row_keeps_its_fields_as_lossy_text() {
        let text = b"a,b,c\n1,x\xffy,3\n\"q\xff\",2\n4,5,6\n";
        for avx2 in [true, false] {
            let mut table = Table::new(&text[..], "t.csv").unwrap();
            table.rows.avx2 &= avx2;
            let mut row = RowBuf::default();
            let e = table.read_into(&mut row).unwrap_err();
            assert_eq!(e.to_string(), "t.csv:2: column b: invalid UTF-8");
            assert_eq!((row.line(), row.iter().collect::<Vec<_>>()), (2, vec!["1", "x\u{FFFD}y", "3"]));
            let e = table.read_into(&mut row).unwrap_err();
            assert_eq!(e.to_string(), "t.csv:3: expected 3 fields, found 2");
            assert_eq!((row.line(), row.iter().collect::<Vec<_>>()), (3, vec!["q\u{FFFD}", "2"]));
            assert_eq!(row.field(Some(0)), "q\u{FFFD}");
            assert!(table.read_into(&mut row).unwrap());
            assert_eq!((row.line(), row.iter().collect::<Vec<_>>()), (4, vec!["4", "5", "6"]));
        }
    }

    #[test]
    fn long_rows_grow_the_row_buffer() {
        let field = "x".repeat(100_000);
        let text = format!("a,b\n{field},\"{field}\"\"\"\n");
        assert_eq!(ours(text.as_bytes(), 4096, true), theirs(text.as_bytes()));
        assert_eq!(ours(text.as_bytes(), 4096, true)[1].as_ref().map(|(_, f)| f[1].len()), Ok(100_001));
        // Plain lines of 30,000 bytes arriving a few bytes at a time (each scanned once as it
        // arrives), and one longer than the read buffer (left to csv_core).
        let long = "y".repeat(30_000);
        let text = format!("a,b\n{long},{field}\n{long},1\n{long},2");
        assert_eq!(ours(text.as_bytes(), 3, true), theirs(text.as_bytes()));
        assert_eq!(ours(text.as_bytes(), 3, false), theirs(text.as_bytes()));
    }
}
