//! The one error type of wabill, and the problems of single values it carries.
//!
//! Three families, told apart by [`Error::kind`]:
//! - [`ErrorKind::Data`]: a row of some file (a log, a rate card, an accounts file) is wrong.
//!   The message reads `FILE:LINE: column NAME: what is wrong (the value)`.
//! - [`ErrorKind::Config`]: the configuration as a whole is wrong (a business listed twice,
//!   a WABA whose rows disagree, a currency mismatch).
//! - [`ErrorKind::Io`]: a file could not be read or written.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

/// Where a problem is: a file name (as the user gave it) and a 1-based line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    /// The file, as the user named it.
    pub file: Arc<str>,
    /// The line the row starts on, from 1.
    pub line: u64,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// What is wrong with one value of one row: the column, the problem, the value.
///
/// The library's pure parts (the engine, the parsers of single values) report a `Problem`;
/// the CSV boundary adds the [`Position`] and makes it an [`Error`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    place: Option<Place>,
    what: Cow<'static, str>,
    value: Option<String>,
}

/// Where in a row or document a problem is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Place {
    /// A CSV column.
    Column(Cow<'static, str>),
    /// A TOML key, e.g. `per_user.tiers`.
    Key(Cow<'static, str>),
    /// A JSON path, e.g. `$.entry[0].changes[0].value.statuses[2].timestamp`.
    Path(String),
}

impl Problem {
    /// A problem with no column and no value (e.g. a missing rate).
    pub(crate) fn new(what: impl Into<Cow<'static, str>>) -> Problem {
        Problem { place: None, what: what.into(), value: None }
    }

    /// A problem with the value of `column`.
    pub(crate) fn column(
        column: impl Into<Cow<'static, str>>,
        what: impl Into<Cow<'static, str>>,
        value: impl Into<String>,
    ) -> Problem {
        Problem { place: Some(Place::Column(column.into())), what: what.into(), value: Some(value.into()) }
    }

    /// A problem with the value of a TOML `key`.
    pub(crate) fn key(
        key: impl Into<Cow<'static, str>>,
        what: impl Into<Cow<'static, str>>,
        value: impl Into<String>,
    ) -> Problem {
        Problem { place: Some(Place::Key(key.into())), what: what.into(), value: Some(value.into()) }
    }

    /// A problem with the value at a JSON `path`.
    pub(crate) fn path(
        path: String,
        what: impl Into<Cow<'static, str>>,
        value: impl Into<String>,
    ) -> Problem {
        Problem { place: Some(Place::Path(path)), what: what.into(), value: Some(value.into()) }
    }

    /// The problem of one value read from a JSON document: a problem that names a column
    /// (found by a reader of single values, e.g. [`crate::domain::money::parse_amount`]) names
    /// the value's path instead, `path` making it from the column.
    pub(crate) fn at_path(mut self, path: impl FnOnce(&str) -> String) -> Problem {
        if let Some(Place::Column(c)) = &self.place {
            self.place = Some(Place::Path(path(c)));
        }
        self
    }

    /// Names the TOML key this problem is at, if it names no place yet.
    pub(crate) fn at_key(mut self, key: impl Into<Cow<'static, str>>) -> Problem {
        if self.place.is_none() {
            self.place = Some(Place::Key(key.into()));
        }
        self
    }

    /// Gives the problem a position, making it an [`Error`].
    pub(crate) fn at(self, at: Position) -> Error {
        Error(Box::new(Inner::Data { at: Some(at), problem: self }))
    }

    /// The problem as a CSV file's row reports it: `column NAME: what is wrong (the value)`
    /// (its [`Display`](fmt::Display), without a file, reads `NAME: what is wrong (the value)`).
    pub(crate) fn in_csv(&self) -> impl fmt::Display + '_ {
        InCsv(self)
    }

    fn write(&self, f: &mut fmt::Formatter<'_>, in_csv: bool) -> fmt::Result {
        match &self.place {
            Some(Place::Column(c)) if in_csv => write!(f, "column {c}: ")?,
            Some(Place::Column(c)) => write!(f, "{c}: ")?,
            Some(Place::Key(k)) => write!(f, "key {k}: ")?,
            Some(Place::Path(p)) => write!(f, "{p}: ")?,
            None => {}
        }
        f.write_str(&self.what)?;
        if let Some(value) = self.value.as_deref().filter(|v| !v.is_empty()) {
            write!(f, " ({})", Shown(value))?;
        }
        Ok(())
    }
}

/// Without a file (e.g. an event pushed through the engine) a problem names the event's field
/// alone: `user: must not be empty`.
impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f, false)
    }
}

/// A problem as a CSV file's row reports it (see [`Problem::in_csv`]).
struct InCsv<'a>(&'a Problem);

impl fmt::Display for InCsv<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.write(f, true)
    }
}

impl std::error::Error for Problem {}

/// A value as shown in a message: cut to 60 characters, so that a 10 MB field stays readable.
struct Shown<'a>(&'a str);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const MAX: usize = 60;
        match self.0.char_indices().nth(MAX) {
            None => f.write_str(self.0),
            Some((cut, _)) => write!(f, "{}… ({} bytes)", &self.0[..cut], self.0.len()),
        }
    }
}

/// `FromStr` for values the library reads through their `parse_text` (which answers a
/// [`Problem`], without a box): the public parse answers the one public error type.
macro_rules! from_str_by_parse_text {
    ($($t:ty),+) => {$(
        impl std::str::FromStr for $t {
            type Err = $crate::domain::error::Error;
            fn from_str(s: &str) -> Result<$t, Self::Err> {
                <$t>::parse_text(s).map_err(Into::into)
            }
        }
    )+};
}
pub(crate) use from_str_by_parse_text;

/// The family of an [`Error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A value of the data is wrong: a row of a file (a log, a rate card, an accounts file, a
    /// tariff), or one event given to the engine. [`Error::position`] says where, when there
    /// is a file.
    Data,
    /// The configuration as a whole is wrong: a business listed twice, a WABA whose rows
    /// disagree, a currency that does not match.
    Config,
    /// A file could not be read or written; the cause is the error's `source`.
    Io,
}

/// Every error wabill reports: what kind it is ([`Error::kind`]), where it is
/// ([`Error::position`]), and a message that says both, e.g.
/// `log.csv:7: column direction: unknown direction, expected mo or mt (sideways)`.
///
/// Opaque and one pointer wide, so that a `Result` of it costs little where nothing fails.
pub struct Error(Box<Inner>);

#[derive(Debug)]
enum Inner {
    Data { at: Option<Position>, problem: Problem },
    Config(String),
    Io { path: String, source: std::io::Error },
}

impl Error {
    /// Which family this error belongs to.
    pub fn kind(&self) -> ErrorKind {
        match &*self.0 {
            Inner::Data { .. } => ErrorKind::Data,
            Inner::Config(_) => ErrorKind::Config,
            Inner::Io { .. } => ErrorKind::Io,
        }
    }

    /// The file and line of the value that is wrong, for an error of the data read from a file.
    pub fn position(&self) -> Option<&Position> {
        match &*self.0 {
            Inner::Data { at, .. } => at.as_ref(),
            _ => None,
        }
    }

    /// The column (or TOML key) of the value that is wrong, when the error names one.
    pub fn field(&self) -> Option<&str> {
        match &*self.0 {
            Inner::Data {
                problem: Problem { place: Some(Place::Column(c) | Place::Key(c)), .. }, ..
            } => Some(c),
            _ => None,
        }
    }

    /// An error of the data, at a row of a file: `FILE:LINE: column NAME: what (value)`.
    pub fn data(at: Position, column: &str, what: &str, value: &str) -> Error {
        Problem::column(column.to_string(), what.to_string(), value).at(at)
    }

    /// A file that could not be read or written, named as the user gave it.
    pub fn io(path: impl Into<String>, source: std::io::Error) -> Error {
        Error(Box::new(Inner::Io { path: path.into(), source }))
    }

    /// A configuration that is wrong as a whole.
    pub(crate) fn config(message: impl Into<String>) -> Error {
        Error(Box::new(Inner::Config(message.into())))
    }

    /// The problem of an error of the data.
    pub(crate) fn problem(&self) -> Option<&Problem> {
        match &*self.0 {
            Inner::Data { problem, .. } => Some(problem),
            _ => None,
        }
    }

    /// The problem of an error of the data, or the error itself.
    pub(crate) fn into_problem(self) -> Result<Problem, Error> {
        match *self.0 {
            Inner::Data { problem, .. } => Ok(problem),
            inner => Err(Error(Box::new(inner))),
        }
    }

    /// The error placed at `at`, if it is an error of the data without a place yet (e.g. what
    /// a summary says of a line, placed at the line's row).
    pub fn at(mut self, at: Position) -> Error {
        if let Inner::Data { at: place @ None, .. } = &mut *self.0 {
            *place = Some(at);
        }
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &*self.0 {
            Inner::Data { at: Some(at), problem } => write!(f, "{at}: {}", problem.in_csv()),
            Inner::Data { at: None, problem } => write!(f, "{problem}"),
            Inner::Config(message) => f.write_str(message),
            Inner::Io { path, .. } => f.write_str(path),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &*self.0 {
            Inner::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl From<Problem> for Error {
    fn from(problem: Problem) -> Error {
        Error(Box::new(Inner::Data { at: None, problem }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_error_reads_file_line_column_value() {
        let at = Position { file: "log.csv".into(), line: 7 };
        let e = Problem::column("direction", "unknown direction", "sideways").at(at);
        assert_eq!(e.to_string(), "log.csv:7: column direction: unknown direction (sideways)");
        assert_eq!(e.kind(), ErrorKind::Data);
    }

    #[test]
    fn long_values_are_cut() {
        let p = Problem::column("user", "too long", "x".repeat(100));
        assert_eq!(p.to_string(), format!("user: too long ({}… (100 bytes))", "x".repeat(60)));
    }

    /// Without a CSV file (an event pushed through the engine) a problem names the event's
    /// field, not a column; with a file and line it names the column, as docs/rules.md §2 has it.
    #[test]
    fn a_problem_without_a_file_names_the_field_not_a_column() {
        let p = Problem::column("user", "must not be empty", " + - ");
        assert_eq!(p.to_string(), "user: must not be empty ( + - )");
        assert_eq!(Error::from(p.clone()).to_string(), "user: must not be empty ( + - )");
        assert_eq!(p.in_csv().to_string(), "column user: must not be empty ( + - )");
        let at = Position { file: "log.csv".into(), line: 3 };
        assert_eq!(p.at(at).to_string(), "log.csv:3: column user: must not be empty ( + - )");
        let key = Problem::key("per_user.tiers", "bands out of order", "");
        assert_eq!(key.to_string(), "key per_user.tiers: bands out of order");
    }
}
