//! The CSV boundary: log rows to events (SPEC §2), several logs merged by timestamp, priced
//! lines and rejected rows back to CSV (SPEC §7), every problem with its file and line.
//!
//! Works on any `io::Read`/`io::Write`; opening files is the caller's business.

use std::io::{Read, Write};
use std::sync::Arc;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use csv::StringRecord;

use crate::engine::{Engine, Facts, Keys, Numbering, Pricebook, PricedLine};
use crate::error::{Error, Position, Problem};
use crate::event::{Direction, Event, Kind, PricingCategory, PricingModel, PricingType, Status};
use crate::handoff::Handoff;
use crate::money::{format_amount, Country, Currency};
use crate::ratecard::Tier;
use crate::rules::RuleSet;
use crate::table::{RowBuf, Table};

/// The columns wabill appends to every priced line, in order.
pub const APPENDED: [&str; 10] = [
    "rules",
    "pricing_model",
    "pricing_type",
    "pricing_category",
    "market",
    "country",
    "tier",
    "rate",
    "charge",
    "currency",
];

/// Where the columns of one log file are.
#[derive(Debug, Clone)]
struct Columns {
    timestamp: usize,
    business: usize,
    user: usize,
    direction: usize,
    category: Option<usize>,
    status: Option<usize>,
    entry_point: Option<usize>,
    id: Option<usize>,
    country: Option<usize>,
}

impl Columns {
    fn of<R: Read>(t: &Table<R>) -> Result<Columns, Error> {
        Ok(Columns {
            timestamp: t.require("timestamp")?,
            business: t.require("business")?,
            user: t.require("user")?,
            direction: t.require("direction")?,
            category: t.find("category"),
            status: t.find("status"),
            entry_point: t.find("entry_point"),
            id: t.find("id"),
            country: t.find("country"),
        })
    }
}

/// The fields of one row as read (UTF-8, untrimmed). Rows are stored by the batch, all
/// fields of a batch in one buffer.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    /// The row's fields, a comma between two.
    text: &'a str,
    /// Where each field ends in the text: ascending, each on a character boundary.
    ends: &'a [usize],
    /// Whether no field holds a comma, a quote or a line break, so that `text` is the row as
    /// CSV.
    plain: bool,
    /// Whether no field needs trimming (ASCII without a space or a control character).
    clean: bool,
}

impl<'a> Record<'a> {
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    #[inline]
    pub fn get(&self, i: usize) -> Option<&'a str> {
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { self.ends[i - 1] + 1 };
        debug_assert!(start <= end && self.text.is_char_boundary(start) && self.text.is_char_boundary(end));
        // SAFETY: a record's ends are ascending character boundaries of its text, a comma
        // between two fields ([`Batch::push`] writes them so).
        Some(unsafe { self.text.get_unchecked(start..end) })
    }

    pub fn iter(&self) -> impl Iterator<Item = &'a str> + 'a {
        let r = *self;
        (0..r.len()).filter_map(move |i| r.get(i))
    }

    /// Field `i` trimmed, "" when absent (or `None`).
    #[inline]
    fn field(&self, i: Option<usize>) -> &'a str {
        crate::table::trimmed(i.and_then(|i| self.get(i)), self.clean)
    }

    /// The row as a CSV line (without its line break) when no field needs quoting.
    pub fn as_csv(&self) -> Option<&'a str> {
        self.plain.then_some(self.text)
    }
}

/// Whether a field holding `bytes` must be quoted in CSV: it holds a comma, a quote or a line
/// break. Branch-free over each block of 16 bytes, so that it vectorises.
fn needs_quotes(bytes: &[u8]) -> bool {
    let special = |b: u8| (b == b',') | (b == b'"') | (b == b'\n') | (b == b'\r');
    let mut blocks = bytes.chunks_exact(16);
    blocks.by_ref().any(|block| block.iter().fold(false, |any, &b| any | special(b)))
        || blocks.remainder().iter().any(|&b| special(b))
}

/// An instant as RFC 3339 in UTC, e.g. `2025-07-01T09:30:00Z`.
pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

/// Parses an RFC 3339 timestamp. One without an offset is read in `naive_zone` when given.
pub fn parse_timestamp(s: &str, naive_zone: Option<Tz>) -> Result<DateTime<Utc>, Problem> {
    parse_timestamp_after(s, naive_zone, &mut LastDay::default())
}

/// What the timestamp parsed last had: its date as written (`YYYY-MM-DD`) with its day
/// number, and its UTC day with that day's date. Most rows of a sorted log fall on the day of
/// the row before, and these are the dearest steps of parsing a timestamp. Busy logs have
/// several rows a second: the whole text and its instant are kept too (when 16 to 32 bytes
/// long, compared as two overlapping 16-byte words).
#[derive(Debug)]
struct LastDay {
    written: Option<([u8; 10], i64)>,
    utc: Option<(i64, NaiveDate)>,
    /// The last text of 16 to 32 bytes as [`LastDay::words`] gives it (length 0 for none),
    /// and its instant.
    text: (usize, [u128; 2]),
    instant: DateTime<Utc>,
}

impl Default for LastDay {
    fn default() -> LastDay {
        LastDay { written: None, utc: None, text: (0, [0; 2]), instant: DateTime::<Utc>::MIN_UTC }
    }
}

impl LastDay {
    /// A timestamp's text as its length and two words (its first and last 16 bytes) when it
    /// has 16 to 32 bytes; else length 0.
    #[inline]
    fn words(s: &[u8]) -> (usize, [u128; 2]) {
        match (s.first_chunk::<16>(), s.last_chunk::<16>()) {
            (Some(first), Some(last)) if s.len() <= 32 => {
                (s.len(), [u128::from_le_bytes(*first), u128::from_le_bytes(*last)])
            }
            _ => (0, [0; 2]),
        }
    }
}

/// [`parse_timestamp`], with the day of the timestamp parsed before.
fn parse_timestamp_after(
    s: &str,
    naive_zone: Option<Tz>,
    last: &mut LastDay,
) -> Result<DateTime<Utc>, Problem> {
    if let Some(dt) = fast_rfc3339(s.as_bytes(), last) {
        return Ok(dt);
    }
    let t = s.trim();
    let parsed = parse_slow(t, s, naive_zone)?;
    // Within what the engine's instants hold (1677-09-21 to 2262-04-11).
    if !(FIRST_YEAR..=LAST_YEAR).contains(&parsed.year()) {
        return Err(Problem::column("timestamp", "out of range (years 1900 to 2261)", s));
    }
    Ok(parsed)
}

/// chrono's RFC 3339 parser, then the forms without an offset.
fn parse_slow(t: &str, s: &str, naive_zone: Option<Tz>) -> Result<DateTime<Utc>, Problem> {
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Ok(dt.with_timezone(&Utc));
    }
    let naive = ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(t, f).ok());
    match (naive, naive_zone) {
        (None, _) => Err(Problem::column("timestamp", "not an RFC 3339 timestamp", s)),
        (Some(_), None) => Err(Problem::column(
            "timestamp",
            "has no UTC offset (add one, e.g. Z or +02:00, or name a zone for such values)",
            s,
        )),
        (Some(n), Some(zone)) => match zone.from_local_datetime(&n) {
            chrono::LocalResult::Single(dt) => Ok(dt.with_timezone(&Utc)),
            chrono::LocalResult::Ambiguous(..) => {
                Err(Problem::column("timestamp", format!("is ambiguous in {zone} (a clock change)"), s))
            }
            chrono::LocalResult::None => {
                Err(Problem::column("timestamp", format!("does not exist in {zone} (a clock change)"), s))
            }
        },
    }
}

/// How much of a file each read takes: 64 KiB, so that a large log is read in a fraction of
/// the system calls the csv crate's default (8 KiB) makes, in a buffer that stays in cache.
/// The throughput benchmark's floor reads with it too.
pub const READ_BUFFER: usize = 64 * 1024;

/// The longest field wabill accepts: a longer one is an error, not a memory hog.
pub const MAX_FIELD: usize = 64 * 1024;

/// Refuses a row with a field longer than [`MAX_FIELD`], naming its column.
fn check_lengths(record: &RowBuf, header: &StringRecord) -> Result<(), Problem> {
    if record.text().len() <= MAX_FIELD {
        return Ok(());
    }
    match record.iter().enumerate().find(|(_, f)| f.len() > MAX_FIELD) {
        None => Ok(()),
        Some((i, f)) => Err(Problem::column(
            header.get(i).unwrap_or("?").to_string(),
            format!("longer than {MAX_FIELD} bytes"),
            f,
        )),
    }
}

/// The common shape `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` without chrono's general
/// parser; `None` for anything else (which then goes through chrono, errors included).
fn fast_rfc3339(s: &[u8], last: &mut LastDay) -> Option<DateTime<Utc>> {
    let words = LastDay::words(s);
    if words.0 != 0 && words == last.text {
        return Some(last.instant);
    }
    let t = fast_rfc3339_new(s, last)?;
    (last.text, last.instant) = (words, t);
    Some(t)
}

/// [`fast_rfc3339`] for a text other than the last one.
fn fast_rfc3339_new(s: &[u8], last: &mut LastDay) -> Option<DateTime<Utc>> {
    let digit = |i: usize| s.get(i).and_then(|c| c.checked_sub(b'0')).filter(|d| *d < 10).map(i64::from);
    let two = |i: usize| Some(digit(i)? * 10 + digit(i + 1)?);
    let written: [u8; 10] = s.get(..10)?.try_into().ok()?;
    let days = match last.written {
        Some((w, days)) if w == written => days,
        _ => {
            let days = civil_days(&written)?;
            last.written = Some((written, days));
            days
        }
    };
    let separators = [(13, b':'), (16, b':')];
    if separators.iter().any(|&(i, c)| s.get(i) != Some(&c)) || !matches!(s.get(10), Some(b'T' | b't' | b' '))
    {
        return None;
    }
    let (hour, minute, second) = (two(11)?, two(14)?, two(17)?);
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut i = 19;
    let mut nanos = 0u32;
    if s.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while let Some(d) = digit(i) {
            if i - start < 9 {
                nanos = nanos * 10 + d as u32;
            }
            i += 1;
        }
        if i == start {
            return None;
        }
        nanos *= 10u32.pow(9u32.saturating_sub((i - start) as u32));
    }
    let offset = match s.get(i)? {
        b'Z' | b'z' if s.len() == i + 1 => 0,
        &sign @ (b'+' | b'-') if s.len() == i + 6 && s[i + 3] == b':' => {
            let (h, m) = (two(i + 1)?, two(i + 4)?);
            if h > 23 || m > 59 {
                return None;
            }
            if sign == b'-' {
                -(h * 3600 + m * 60)
            } else {
                h * 3600 + m * 60
            }
        }
        _ => return None,
    };
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset;
    let (day, of_day) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let date = match last.utc {
        Some((d, date)) if d == day => date,
        _ => {
            let date = DateTime::from_timestamp(day * 86_400, 0)?.date_naive();
            last.utc = Some((day, date));
            date
        }
    };
    let time = NaiveTime::from_num_seconds_from_midnight_opt(of_day as u32, nanos)?;
    Some(NaiveDateTime::new(date, time).and_utc())
}

/// The years a log's timestamps may fall in.
const FIRST_YEAR: i32 = 1900;
const LAST_YEAR: i32 = 2261;

/// Days from 1970-01-01 to a date written `YYYY-MM-DD` (years 1900 to 2261), if it is one
/// (Howard Hinnant's algorithm).
fn civil_days(s: &[u8; 10]) -> Option<i64> {
    let digit = |i: usize| s[i].checked_sub(b'0').filter(|d| *d < 10).map(i64::from);
    let two = |i: usize| Some(digit(i)? * 10 + digit(i + 1)?);
    let (year, month, day) = (two(0)? * 100 + two(2)?, two(5)?, two(8)?);
    if !(i64::from(FIRST_YEAR)..=i64::from(LAST_YEAR)).contains(&year) || s[4] != b'-' || s[7] != b'-' {
        return None;
    }
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if !(1..=12).contains(&month) || day < 1 || day > month_days[(month - 1) as usize] {
        return None;
    }
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// Parses the columns of a row other than the timestamp into an event.
fn parse_event<'r>(c: &Columns, record: Record<'r>, timestamp: DateTime<Utc>) -> Result<Event<'r>, Problem> {
    let field = |i: Option<usize>| record.field(i);
    let direction = Direction::parse_log(field(Some(c.direction)))?;
    let category = field(c.category);
    let status = field(c.status);
    let entry_point = !field(c.entry_point).is_empty();
    let (kind, status) = match direction {
        Direction::Mo if !category.is_empty() => {
            return Err(Problem::column("category", "must be empty for an MO", category));
        }
        Direction::Mo if !status.is_empty() => {
            return Err(Problem::column("status", "must be empty for an MO", status));
        }
        Direction::Mo => (Kind::NonTemplate, Status::Delivered),
        Direction::Mt if entry_point => {
            return Err(Problem::column("entry_point", "must be empty for an MT", field(c.entry_point)));
        }
        Direction::Mt => (Kind::parse_log(category)?, Status::parse_log(status)?),
    };
    let country = match field(c.country) {
        "" => None,
        s => Some(s.parse()?),
    };
    let id = Some(field(c.id)).filter(|s| !s.is_empty());
    Ok(Event {
        timestamp,
        business: field(Some(c.business)),
        user: field(Some(c.user)),
        direction,
        kind,
        status,
        entry_point,
        id,
        country,
    })
}

/// An event as parsed, less its strings (which stay in the batch's buffer, found again by
/// their spans), with the engine's keys computed there too.
#[derive(Debug, Clone, Copy)]
struct Parsed {
    facts: Facts,
    keys: Keys,
    /// The business, numbered by the reader in order of appearance (see [`Reader::businesses`]).
    business: u32,
}

/// Where the business, the user and the id (trimmed) of a row's event lie in the row as the
/// batch holds it.
type Strings = [(u32, u32); 3];

impl Parsed {
    /// A row read but not yet parsed (see [`Batch::parse`]): its timestamp and business alone.
    fn pending(timestamp: DateTime<Utc>, business: u32) -> Parsed {
        let (direction, kind, status) = (Direction::Mo, Kind::NonTemplate, Status::Delivered);
        let facts = Facts { timestamp, direction, kind, status, entry_point: false, country: None };
        Parsed { facts, keys: Keys::default(), business }
    }

    /// The event again, with its strings `[business, user, id]`.
    fn event<'b>(&self, [business, user, id]: [&'b str; 3]) -> Event<'b> {
        self.facts.event(business, user, Some(id).filter(|s| !s.is_empty()))
    }
}

/// One log to read: its name (for messages) and its bytes.
pub struct LogInput<R> {
    pub name: String,
    pub reader: R,
}

/// How logs are read.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// Accept unsorted logs by buffering them whole and sorting by timestamp.
    pub sort: bool,
    /// Skip bad rows (reporting each to the sink) instead of stopping at the first.
    pub skip_invalid: bool,
    /// The zone of timestamps written without an offset.
    pub naive_zone: Option<Tz>,
}

/// A row of a log as read: where it came from, its fields, and its event. Each is read when
/// asked for: once its batch is parsed, the pricing thread reads no more of a row than the
/// sink asks for (with the summary alone, nothing but its event's scalars).
pub struct Row<'a> {
    batch: &'a Batch,
    /// Its index in the batch.
    n: usize,
    /// The logs' names.
    files: &'a [Arc<str>],
}

impl<'a> Row<'a> {
    /// The index of its log among the inputs.
    pub fn log(&self) -> usize {
        self.batch.places[self.n].log as usize
    }

    /// The log's name, as given.
    pub fn file(&self) -> &'a Arc<str> {
        &self.files[self.log()]
    }

    /// The line the row starts on.
    pub fn line(&self) -> u64 {
        self.batch.places[self.n].line
    }

    pub fn record(&self) -> Record<'a> {
        self.batch.record(self.n)
    }

    /// Its event, when it has one (every priced row has).
    pub fn event(&self) -> Option<Event<'a>> {
        let parsed = self.batch.parses[self.n].as_ref().ok()?;
        Some(parsed.event(self.batch.strings(self.n)))
    }

    pub fn position(&self) -> Position {
        Position { file: self.file().clone(), line: self.line() }
    }
}

/// What receives the result of a run: every priced line and every rejected row.
pub trait Sink {
    /// Called once before any row, with the header of each log (lower-cased, trimmed).
    fn begin(&mut self, headers: &[StringRecord]) -> Result<(), Error>;
    /// A priced row (its event: [`Row::event`]).
    fn priced(&mut self, row: &Row, line: &PricedLine) -> Result<(), Error>;
    /// A bad row, when skipping them.
    fn rejected(&mut self, row: &Row, error: &Error) -> Result<(), Error>;
}

/// The closing counts of a run: `rows = priced + rejected`; duplicates are priced lines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    pub rows: u64,
    pub priced: u64,
    pub rejected: u64,
    pub duplicates: u64,
}

/// Where a row read from a log is: its log and line, its text in the batch, and its event's
/// strings there. Kept apart from its event ([`Parse`]), and read only when a sink asks.
struct Place {
    line: u64,
    /// Where its text starts in the batch's buffer, and its first field's end in the batch's
    /// list of ends.
    start: usize,
    first: usize,
    fields: u32,
    /// The length of its text.
    len: u32,
    log: u32,
    /// Whether no field needs quoting (see [`Record::as_csv`]).
    plain: bool,
    /// Whether no field needs trimming (see [`Record::clean`]).
    clean: bool,
    /// Set when the batch is parsed.
    strings: Strings,
}

/// A row's event, or why it cannot be priced.
type Parse = Result<Parsed, Box<Bad>>;

/// Where the merge and `--sort` put a row.
fn time(parsed: &Parse) -> DateTime<Utc> {
    match parsed {
        Ok(p) => p.facts.timestamp,
        Err(bad) => bad.time.unwrap_or(DateTime::<Utc>::MIN_UTC),
    }
}

/// A row that cannot be priced, and its timestamp when that was good (`--sort` orders by it).
struct Bad {
    time: Option<DateTime<Utc>>,
    problem: Problem,
}

/// Rows read together: the text of all their fields in one buffer, a comma between two, so
/// that the pricing thread reads them in order from a few contiguous blocks, not from one
/// allocation per row. Their events apart from their places: pricing reads the events alone
/// unless the sink asks for more (each line of them comes from the other core: 56 bytes a
/// row instead of 112).
///
/// A batch is read on the reading thread, and parsed ([`Batch::parse`]) on whichever thread
/// has time for it.
#[derive(Default)]
struct Batch {
    text: String,
    /// Where each field of each row ends from its row's start.
    ends: Vec<usize>,
    places: Vec<Place>,
    parses: Vec<Parse>,
    /// Whether its good rows are parsed: until then, a good row's [`Parsed`] holds its
    /// timestamp and business alone ([`Parsed::pending`]), and its place no strings.
    parsed: bool,
}

/// The strings of a row without an event.
const NO_STRINGS: Strings = [(0, 0); 3];

impl Batch {
    fn clear(&mut self) {
        self.text.clear();
        self.ends.clear();
        self.places.clear();
        self.parses.clear();
        self.parsed = false;
    }

    fn len(&self) -> usize {
        self.parses.len()
    }

    /// Sorts the rows by timestamp ([`time`]), stably.
    fn sort(&mut self) {
        let mut rows: Vec<(Place, Parse)> = self.places.drain(..).zip(self.parses.drain(..)).collect();
        rows.sort_by_key(|(_, parsed)| time(parsed));
        (self.places, self.parses) = rows.into_iter().unzip();
    }

    /// Adds a row read, and its event as far as it is known ([`Parsed::pending`], or why it
    /// cannot be priced): a plain line as it was read, any other row a field at a time, with
    /// a comma between two (and checked for fields that need quoting, see
    /// [`Record::as_csv`]).
    fn push(&mut self, log: usize, line: u64, record: &RowBuf, parsed: Parse) {
        let (start, first) = (self.text.len(), self.ends.len());
        let (log, strings) = (log as u32, NO_STRINGS);
        let (Ok(fields), Ok(_)) =
            (u32::try_from(record.len()), u32::try_from(record.text().len() + record.len()))
        else {
            let problem = Problem::new("row longer than 4 GiB");
            let (fields, plain, clean) = (0, false, false);
            self.places.push(Place { line, start, first, fields, len: 0, log, plain, clean, strings });
            self.parses.push(Err(Box::new(Bad { time: None, problem })));
            return;
        };
        let split = record.sep() == 1;
        let plain = split || !needs_quotes(record.text().as_bytes());
        if split {
            self.text.push_str(record.text());
            self.ends.extend_from_slice(record.ends());
        } else {
            for (n, f) in record.iter().enumerate() {
                if n > 0 {
                    self.text.push(',');
                }
                self.text.push_str(f);
                self.ends.push(self.text.len() - start);
            }
        }
        let len = (self.text.len() - start) as u32;
        let clean = record.is_clean();
        self.places.push(Place { line, start, first, fields, len, log, plain, clean, strings });
        self.parses.push(parsed);
    }

    /// Parses the events of its good rows read ([`Parsed::pending`]), once.
    fn parse(&mut self, parser: &mut Parser) {
        if std::mem::replace(&mut self.parsed, true) {
            return;
        }
        let Batch { text, ends, places, parses, .. } = self;
        for (place, parse) in places.iter_mut().zip(parses.iter_mut()) {
            let Ok(pending) = parse else { continue };
            let (t, business) = (pending.facts.timestamp, pending.business);
            let record = Batch::record_of(text, ends, place);
            let c = &parser.columns[place.log as usize];
            *parse = match parse_event(c, record, t) {
                Ok(ev) => {
                    let keys = parser.keys(&ev);
                    // A field's span in the row: the distance from the row's text.
                    let span = |s: &str| {
                        let start = (s.as_ptr() as usize).wrapping_sub(record.text.as_ptr() as usize);
                        match s.is_empty() {
                            true => (0, 0),
                            false => (start as u32, (start + s.len()) as u32),
                        }
                    };
                    place.strings = [span(ev.business), span(ev.user), span(ev.id.unwrap_or(""))];
                    Ok(Parsed { facts: Facts::of(&ev), keys, business })
                }
                Err(problem) => Err(Box::new(Bad { time: Some(t), problem })),
            };
        }
    }

    /// Row `n` as CSV, without reading it.
    fn record(&self, n: usize) -> Record<'_> {
        Batch::record_of(&self.text, &self.ends, &self.places[n])
    }

    /// The row at `place` of a batch's `text` and `ends`.
    #[inline]
    fn record_of<'b>(text: &'b str, ends: &'b [usize], place: &Place) -> Record<'b> {
        let (start, end) = (place.start, place.start + place.len as usize);
        debug_assert!(text.is_char_boundary(start) && text.is_char_boundary(end) && start <= end);
        // SAFETY: rows are appended whole to the text, so a row's ends are characters'
        // boundaries.
        let text = unsafe { text.get_unchecked(start..end) };
        let ends = &ends[place.first..place.first + place.fields as usize];
        Record { text, ends, plain: place.plain, clean: place.clean }
    }

    /// The strings of row `n`'s event (`[business, user, id]`), without reading them.
    fn strings(&self, n: usize) -> [&str; 3] {
        let place = &self.places[n];
        place.strings.map(|(start, end)| self.slice(place.start + start as usize, place.start + end as usize))
    }

    /// The text from `start` to `end`, which are the ends of one of a row's strings' spans
    /// (see [`Batch::parse`]), without reading it: a checked slice reads the bytes at its
    /// ends, and the pricing thread reads no more of a row than it must.
    fn slice(&self, start: usize, end: usize) -> &str {
        debug_assert!(self.text.is_char_boundary(start) && self.text.is_char_boundary(end) && start <= end);
        // SAFETY: a span is where a slice of the row's text lies in it, so its ends are
        // characters' boundaries.
        unsafe { self.text.get_unchecked(start..end) }
    }
}

/// How many rows travel together from the reading thread to the pricing one. Small batches
/// (some 25 KB) are still in cache when the other thread reads or refills them: against 1,024
/// rows, 10% less CPU time on the 10M benchmark; 64 paid more in handing over than it saved.
const BATCH: usize = 128;

/// How many full batches may wait for the pricing thread (64K rows, some 15 MB): enough for
/// the reading thread to keep reading through the pricing thread's pauses (once a day of log
/// time it files the day's ids and drops expired pairs, a few milliseconds; once in three
/// weeks of ids it builds the id filter again, 20 to 50) and through a loaded host taking a
/// core away, instead of waiting and then being waited for. With 16 batches each thread spent
/// a tenth of the run waiting for the other, and on a loaded host the two took turns.
const WAITING: usize = 512;

/// How many rows ahead the pricing loop prefetches the engine's state.
const PREFETCH: usize = 8;

/// How many batches must wait for the pricing thread for the reading thread to parse the
/// next one itself; with fewer, the pricing thread parses it. The thread with time to spare
/// parses: which one that is depends on the log, the sink and how fast each core runs on a
/// shared host.
const AHEAD: usize = 8;

/// Prices logs through `engine`, merging them by timestamp (ties: earlier log first), and
/// sends every line and rejected row to `sink`.
///
/// Reading (CSV, UTF-8, the timestamps and their order, the merge) runs on a second thread, a
/// batch of rows ahead of pricing; each batch is parsed into events and keys on the thread
/// with time to spare ([`AHEAD`]). `--sort` reads everything first. Either way the lines
/// come out in the same order, the same as reading on one thread.
pub fn price_logs<R: Read + Send>(
    inputs: Vec<LogInput<R>>,
    engine: &mut Engine,
    options: &ReadOptions,
    sink: &mut dyn Sink,
) -> Result<Counts, Error> {
    price_logs_parsing(inputs, engine, options, sink, AHEAD)
}

/// [`price_logs`], the reading thread parsing a batch when `ahead` batches wait.
fn price_logs_parsing<R: Read + Send>(
    inputs: Vec<LogInput<R>>,
    engine: &mut Engine,
    options: &ReadOptions,
    sink: &mut dyn Sink,
    ahead: usize,
) -> Result<Counts, Error> {
    let mut cursors = Vec::with_capacity(inputs.len());
    for input in inputs {
        let table = Table::new(input.reader, &input.name)?;
        let columns = Columns::of(&table)?;
        cursors.push(Cursor {
            table,
            columns,
            record: RowBuf::default(),
            current: None,
            last: None,
            day: LastDay::default(),
            done: false,
        });
    }
    let headers: Vec<StringRecord> = cursors.iter().map(|c| c.table.header().clone()).collect();
    sink.begin(&headers)?;
    let columns: Vec<Columns> = cursors.iter().map(|c| c.columns.clone()).collect();
    let files: Vec<Arc<str>> = cursors.iter().map(|c| c.table.file().clone()).collect();
    let parser = Parser {
        columns,
        book: engine.pricebook().clone(),
        rates_date: engine.options().rates_date,
        dates: (None, None),
    };
    let mut reader = Reader {
        cursors,
        businesses: Default::default(),
        sort: options.sort,
        naive_zone: options.naive_zone,
    };
    let mut reading_parser = parser.clone();
    let mut run = Run {
        engine,
        businesses: Vec::new(),
        options,
        sink,
        counts: Counts::default(),
        parser,
        files,
        line: PricedLine::blank(),
    };
    if options.sort {
        let mut batch = Batch::default();
        while reader.fill(&mut batch, usize::MAX)? {}
        batch.sort();
        run.items(&mut batch)?;
        return Ok(run.counts);
    }
    let queue = Handoff::<Result<Batch, Error>>::new(WAITING);
    std::thread::scope(|scope| {
        // Both ends are dropped when this returns, before the scope waits for the reading
        // thread: an error here stops it.
        let (full, batches) = queue.ends();
        scope.spawn(move || {
            // The latest batch given back is the likeliest to be in cache still (a few
            // percent faster than the oldest).
            let (mut spare, mut waiting) = (None, 0);
            loop {
                let mut batch: Batch = spare.take().and_then(Result::ok).unwrap_or_default();
                batch.clear();
                let more = reader.fill(&mut batch, BATCH);
                if waiting >= ahead {
                    batch.parse(&mut reading_parser);
                }
                let last = !matches!(more, Ok(true));
                match full.send(more.map(|_| batch)) {
                    Ok(sent) if !last => (spare, waiting) = (sent.given_back, sent.waiting),
                    _ => return,
                }
            }
        });
        let mut used = None;
        while let Some(batch) = batches.recv(used.take()) {
            let mut batch = batch?;
            run.items(&mut batch)?;
            used = Some(Ok(batch));
        }
        Ok(run.counts)
    })
}

struct Cursor<R> {
    table: Table<R>,
    columns: Columns,
    /// The row last read.
    record: RowBuf,
    /// The row last read when it has a good timestamp, waiting for the merge: its line, and
    /// its event as far as it is known ([`Parsed::pending`]) or why it cannot be priced.
    current: Option<(u64, Parse)>,
    /// The last good timestamp and its line, for the order check.
    last: Option<(DateTime<Utc>, u64)>,
    day: LastDay,
    done: bool,
}

/// Reads the logs into batches in merged order: the mechanism of both the threaded and the
/// sorting path.
struct Reader<R> {
    cursors: Vec<Cursor<R>>,
    /// The businesses met, numbered in order of appearance: the pricing thread finds a row's
    /// business by this number, without hashing its name.
    businesses: Numbering,
    sort: bool,
    naive_zone: Option<Tz>,
}

impl<R: Read> Reader<R> {
    /// Adds up to `max` rows to `batch`, not parsed; `false` once every log is read. Bad rows
    /// go out as they are read, good ones in timestamp order.
    fn fill(&mut self, batch: &mut Batch, max: usize) -> Result<bool, Error> {
        while batch.len() < max {
            for i in 0..self.cursors.len() {
                self.advance(i, batch)?;
            }
            let next = self
                .cursors
                .iter()
                .enumerate()
                .filter_map(|(i, c)| c.current.as_ref().map(|(_, p)| (time(p), i)))
                .min();
            let Some((_, i)) = next else { return Ok(false) };
            let c = &mut self.cursors[i];
            let (line, parsed) = c.current.take().expect("chosen cursors have a row");
            batch.push(i, line, &c.record, parsed);
        }
        Ok(true)
    }

    /// Gives cursor `i` a current row with a good timestamp if it has none, sending rows with
    /// a bad one on the way.
    fn advance(&mut self, i: usize, batch: &mut Batch) -> Result<(), Error> {
        let c = &mut self.cursors[i];
        while c.current.is_none() && !c.done {
            if !c.table.read_into(&mut c.record)? {
                c.done = true;
                return Ok(());
            }
            let record = &c.record;
            let line = record.line();
            let raw = record.field(Some(c.columns.timestamp));
            let time = parse_timestamp_after(raw, self.naive_zone, &mut c.day).and_then(|t| match c.last {
                Some((last, before)) if t < last && !self.sort => Err(Problem::column(
                    "timestamp",
                    format!("earlier than line {before}, {} (--sort accepts an unsorted log)", rfc3339(last)),
                    raw,
                )),
                _ => Ok(t),
            });
            match time {
                Ok(t) => {
                    c.last = Some((t, line));
                    let parsed = match check_lengths(record, c.table.header()) {
                        Ok(()) => Ok(Parsed::pending(
                            t,
                            self.businesses.number(record.field(Some(c.columns.business))),
                        )),
                        Err(problem) => Err(Box::new(Bad { time: Some(t), problem })),
                    };
                    c.current = Some((line, parsed));
                }
                Err(problem) => batch.push(i, line, record, Err(Box::new(Bad { time: None, problem }))),
            }
        }
        Ok(())
    }
}

/// What parsing a batch's events takes (one for each thread that parses): the logs' columns,
/// and the engine's pricebook for the events' keys.
#[derive(Clone)]
struct Parser {
    columns: Vec<Columns>,
    book: Arc<Pricebook>,
    rates_date: Option<NaiveDate>,
    /// The last UTC date met, and its [`Keys::dates`].
    dates: (Option<NaiveDate>, Option<(NaiveDate, NaiveDate)>),
}

impl Parser {
    /// The engine's keys of `ev`.
    #[inline]
    fn keys(&mut self, ev: &Event) -> Keys {
        let utc = ev.timestamp.naive_utc().date();
        if self.dates.0 != Some(utc) {
            self.dates = (Some(utc), Keys::dates(ev.timestamp, self.rates_date));
        }
        Keys::of(ev, self.book.markets(), self.dates.1)
    }
}

struct Run<'a> {
    engine: &'a mut Engine,
    /// The engine's index of each business the reader numbered, once known.
    businesses: Vec<Option<u32>>,
    options: &'a ReadOptions,
    sink: &'a mut dyn Sink,
    counts: Counts,
    parser: Parser,
    files: Vec<Arc<str>>,
    /// The line being priced (one, reused).
    line: PricedLine,
}

impl Run<'_> {
    /// Prices (or rejects) the rows of a batch in order (parsing them first if the reading
    /// thread did not), prefetching the engine's state for the rows [`PREFETCH`] ahead.
    fn items(&mut self, batch: &mut Batch) -> Result<(), Error> {
        batch.parse(&mut self.parser);
        let batch = &*batch;
        let mut businesses = [None; PREFETCH];
        for (n, business) in businesses.iter_mut().enumerate().take(batch.len()) {
            *business = self.prefetch(batch, n);
        }
        for (n, parsed) in batch.parses.iter().enumerate() {
            let business = businesses[n % PREFETCH];
            if n + PREFETCH < batch.len() {
                businesses[n % PREFETCH] = self.prefetch(batch, n + PREFETCH);
            }
            self.counts.rows += 1;
            let row = Row { batch, n, files: &self.files };
            let parsed = match parsed {
                Ok(p) => p,
                Err(bad) => {
                    Self::bad(self.options, &mut self.counts, self.sink, &row, bad.problem.clone())?;
                    continue;
                }
            };
            // The engine asks for the business and the user only when the keys and the
            // business's number do not stand for them: most rows' places are not read.
            let names = || {
                let [business, user, _] = batch.strings(n);
                [business, user]
            };
            match self.engine.push_keyed(&parsed.facts, parsed.keys, business, names, &mut self.line) {
                Ok(()) => {
                    self.counts.priced += 1;
                    self.counts.duplicates += u64::from(self.line.pricing_type == PricingType::Duplicate);
                    self.sink.priced(&row, &self.line)?;
                }
                Err(p) => Self::bad(self.options, &mut self.counts, self.sink, &row, p)?,
            }
        }
        Ok(())
    }

    /// Prefetches the engine's state for row `n` of the batch; its business's index in the
    /// engine, when the row is good.
    fn prefetch(&mut self, batch: &Batch, n: usize) -> Option<u32> {
        let parsed = batch.parses[n].as_ref().ok()?;
        let number = parsed.business as usize;
        if number >= self.businesses.len() {
            self.businesses.resize(number + 1, None);
        }
        let bi = match self.businesses[number] {
            Some(bi) => bi,
            None => {
                let name = batch.record(n).get(self.parser.columns[batch.places[n].log as usize].business);
                let name = crate::engine::trim(name.unwrap_or(""));
                if name.is_empty() {
                    return None;
                }
                *self.businesses[number].insert(self.engine.business_index(name))
            }
        };
        self.engine.prefetch(bi, &parsed.keys);
        Some(bi)
    }

    fn bad(
        options: &ReadOptions,
        counts: &mut Counts,
        sink: &mut dyn Sink,
        row: &Row,
        p: Problem,
    ) -> Result<(), Error> {
        let error = p.at(row.position());
        if !options.skip_invalid {
            return Err(error);
        }
        counts.rejected += 1;
        sink.rejected(row, &error)
    }
}

/// The union of the logs' columns, and where each log's fields go in it.
#[derive(Debug, Clone)]
pub struct Layout {
    columns: Vec<String>,
    /// Per log: for each output column, the log's field index.
    maps: Vec<Vec<Option<usize>>>,
}

impl Layout {
    /// The input columns of all logs, in order of first appearance, less those in `replaced`.
    pub fn new(headers: &[StringRecord], replaced: &[&str]) -> Layout {
        let mut columns: Vec<String> = Vec::new();
        for h in headers {
            for name in h.iter() {
                if !replaced.contains(&name) && !columns.iter().any(|c| c == name) {
                    columns.push(name.to_string());
                }
            }
        }
        let maps =
            headers.iter().map(|h| columns.iter().map(|c| h.iter().position(|n| n == c)).collect()).collect();
        Layout { columns, maps }
    }

    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// Appends the output's input columns of a row of log `log` to `line`, each followed by a
    /// comma.
    fn push_fields(&self, line: &mut Vec<u8>, log: usize, record: Record) {
        for i in &self.maps[log] {
            push_field(line, i.and_then(|i| record.get(i)).unwrap_or(""));
        }
    }
}

/// Writes priced lines as CSV: every input column as read, then [`APPENDED`] and any extra
/// columns (e.g. `aggregator_fee`). An input column of an appended name is replaced.
///
/// Fields are quoted as the csv crate quotes them (when they hold a comma, a quote or a line
/// break), but each line is put together in one buffer, and in the common case quickly:
/// - a row is copied whole, when its log's columns are the output's and the reading thread
///   found that none of its fields needs quoting (it stores rows as CSV for such a sink);
/// - the appended columns, which few lines tell apart (a rate card has few rates), are
///   formatted once per distinct set of values, and then their text is copied.
pub struct LinesWriter<W: Write> {
    out: W,
    layout: Layout,
    /// Per log: whether its columns are the output's input columns, in order.
    whole: Vec<bool>,
    appended: foldhash::HashMap<Appended, Box<[u8]>>,
    line: Vec<u8>,
}

/// The values of the appended columns of a line: the key of their text.
#[derive(PartialEq, Eq, Hash)]
struct Appended {
    rules: RuleSet,
    model: PricingModel,
    pricing_type: PricingType,
    category: Option<PricingCategory>,
    /// The market's name by [`crate::intern::address`] (a name never freed: `'static`).
    market: [u64; 2],
    country: Option<Country>,
    tier: Option<Tier>,
    /// Decimals by their bits: quicker to hash than by value, and equal bits format alike.
    rate: Option<[u8; 16]>,
    charge: [u8; 16],
    currency: Currency,
}

impl Appended {
    fn of(line: &PricedLine) -> Appended {
        Appended {
            rules: line.rules,
            model: line.pricing_model,
            pricing_type: line.pricing_type,
            category: line.pricing_category,
            market: crate::intern::address(line.market),
            country: line.country,
            tier: line.tier,
            rate: line.rate.map(|r| r.serialize()),
            charge: line.charge.serialize(),
            currency: line.currency,
        }
    }
}

/// How many distinct sets of appended values the writer keeps the text of.
const APPENDED_CACHE: usize = 4096;

/// Appends `field` and a comma to `line`, quoted when it must be.
fn push_field(line: &mut Vec<u8>, field: &str) {
    if needs_quotes(field.as_bytes()) {
        line.push(b'"');
        for b in field.bytes() {
            if b == b'"' {
                line.push(b'"');
            }
            line.push(b);
        }
        line.push(b'"');
    } else {
        line.extend_from_slice(field.as_bytes());
    }
    line.push(b',');
}

/// Ends a line of fields each followed by a comma: the last comma becomes a line break.
fn end_line(line: &mut [u8]) {
    if let Some(last) = line.last_mut() {
        *last = b'\n';
    }
}

/// Appends the appended columns of `line` to `out`, each followed by a comma (once per
/// distinct set of values: see [`LinesWriter`]).
fn push_appended(out: &mut Vec<u8>, line: &PricedLine) {
    push_field(out, line.rules.as_str());
    push_field(out, line.pricing_model.as_str());
    push_field(out, line.pricing_type.as_str());
    push_field(out, line.pricing_category.map_or("", |c| c.as_str()));
    push_field(out, line.market);
    push_field(out, line.country.as_ref().map_or("", |c| c.code()));
    push_field(out, &line.tier.map(|t| t.to_string()).unwrap_or_default());
    push_field(out, &line.rate.map(|r| format_amount(r, 0)).unwrap_or_default());
    push_field(out, &format_amount(line.charge, 0));
    push_field(out, line.currency.code());
}

impl<W: Write> LinesWriter<W> {
    pub fn new(out: W, headers: &[StringRecord], extra: &[&str]) -> csv::Result<LinesWriter<W>> {
        let replaced: Vec<&str> = APPENDED.iter().chain(extra).copied().collect();
        let layout = Layout::new(headers, &replaced);
        let whole = layout
            .maps
            .iter()
            .zip(headers)
            .map(|(map, h)| map.len() == h.len() && map.iter().enumerate().all(|(i, &f)| f == Some(i)))
            .collect();
        let mut w = LinesWriter { out, layout, whole, appended: Default::default(), line: Vec::new() };
        for name in w.layout.columns.iter().map(String::as_str).chain(replaced.iter().copied()) {
            push_field(&mut w.line, name);
        }
        w.end_line()?;
        Ok(w)
    }

    /// Ends the line; writes once 64 KiB are waiting.
    fn end_line(&mut self) -> csv::Result<()> {
        end_line(&mut self.line);
        if self.line.len() >= 1 << 16 {
            self.out.write_all(&self.line)?;
            self.line.clear();
        }
        Ok(())
    }

    /// Writes one line; `extra` holds the values of the extra columns.
    pub fn write(
        &mut self,
        log: usize,
        record: Record,
        line: &PricedLine,
        extra: &[&str],
    ) -> csv::Result<()> {
        let out = &mut self.line;
        if let Some(text) =
            record.as_csv().filter(|_| self.whole[log] && record.len() == self.layout.maps[log].len())
        {
            out.extend_from_slice(text.as_bytes());
            out.push(b',');
        } else {
            self.layout.push_fields(out, log, record);
        }
        if self.appended.len() >= APPENDED_CACHE {
            self.appended.clear();
        }
        let text = self.appended.entry(Appended::of(line)).or_insert_with(|| {
            let mut text = Vec::new();
            push_appended(&mut text, line);
            text.into()
        });
        out.extend_from_slice(text);
        for e in extra {
            push_field(out, e);
        }
        self.end_line()
    }

    /// Writes what is waiting and gives the writer back, flushed.
    pub fn into_inner(mut self) -> Result<W, std::io::Error> {
        self.out.write_all(&self.line)?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Writes rejected rows as CSV: `file,line,error`, then the row's fields as read.
pub struct RejectsWriter<W: Write> {
    out: W,
    layout: Layout,
    line: Vec<u8>,
}

impl<W: Write> RejectsWriter<W> {
    pub fn new(out: W, headers: &[StringRecord]) -> csv::Result<RejectsWriter<W>> {
        let layout = Layout::new(headers, &[]);
        let mut w = RejectsWriter { out, layout, line: Vec::new() };
        for name in ["file", "line", "error"].into_iter().chain(w.layout.columns().iter().map(String::as_str))
        {
            push_field(&mut w.line, name);
        }
        w.end_line()?;
        Ok(w)
    }

    pub fn write(&mut self, row: &Row, error: &Error) -> csv::Result<()> {
        let problem = error.problem().map_or_else(|| error.to_string(), |(p, _)| p.to_string());
        push_field(&mut self.line, row.file());
        push_field(&mut self.line, &row.line().to_string());
        push_field(&mut self.line, &problem);
        self.layout.push_fields(&mut self.line, row.log(), row.record());
        self.end_line()
    }

    fn end_line(&mut self) -> csv::Result<()> {
        end_line(&mut self.line);
        self.out.write_all(&self.line)?;
        self.line.clear();
        Ok(())
    }

    pub fn into_inner(mut self) -> Result<W, std::io::Error> {
        self.out.flush()?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn the_fast_path_agrees_with_chrono(
            y in 1900i64..2200, mo in 1u32..=12, d in 1u32..=31, h in 0u32..24, mi in 0u32..60, se in 0u32..60,
            frac in proptest::option::of("[0-9]{1,12}"), off in proptest::option::of((any::<bool>(), 0u32..24, 0u32..60)),
        ) {
            let mut text = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{se:02}");
            if let Some(f) = frac {
                text.push('.');
                text.push_str(&f);
            }
            match off {
                None => text.push('Z'),
                Some((neg, oh, om)) => text.push_str(&format!("{}{oh:02}:{om:02}", if neg { '-' } else { '+' })),
            }
            let chrono = DateTime::parse_from_rfc3339(&text).ok().map(|t| t.with_timezone(&Utc));
            // With no day known, with another day's, and with its own.
            let mut last = LastDay::default();
            proptest::prop_assert_eq!(fast_rfc3339(text.as_bytes(), &mut last), chrono, "{}", text);
            let mut other = LastDay::default();
            fast_rfc3339(b"2000-02-29T12:00:00Z", &mut other).unwrap();
            proptest::prop_assert_eq!(fast_rfc3339(text.as_bytes(), &mut other), chrono, "{}", text);
            proptest::prop_assert_eq!(fast_rfc3339(text.as_bytes(), &mut last), chrono, "{}", text);
        }
    }

    #[test]
    fn timestamps_in_a_row_reuse_days_only_when_they_match() {
        // One cache across rows whose written date and UTC day part ways (SPEC §2: any offset).
        let rows = [
            "2025-07-01T23:30:00-02:00",
            "2025-07-01T23:40:00Z",
            "2025-07-02T00:10:00+01:00",
            "2025-07-02T01:30:00Z",
            "2025-02-29T00:00:00Z",
            "2025-02-28T12:00:00+14:00",
            "2024-12-31T23:59:59.999999999-00:30",
            "2025-01-01T00:00:00+00:30",
        ];
        let mut last = LastDay::default();
        for text in rows {
            let chrono = DateTime::parse_from_rfc3339(text).ok().map(|t| t.with_timezone(&Utc));
            assert_eq!(fast_rfc3339(text.as_bytes(), &mut last), chrono, "{text}");
            // Again (the whole text kept), and then texts that differ from it in one byte at
            // either end, or are one byte shorter or longer.
            assert_eq!(fast_rfc3339(text.as_bytes(), &mut last), chrono, "{text} again");
            let mut start = text.to_string();
            start.replace_range(2..3, if &text[2..3] == "1" { "2" } else { "1" });
            let shorter = &text[..text.len() - 1];
            let longer = format!("{}.5{}", &text[..19], &text[19..]);
            for other in [start.as_str(), shorter, &longer, text] {
                let chrono = DateTime::parse_from_rfc3339(other).ok().map(|t| t.with_timezone(&Utc));
                assert_eq!(fast_rfc3339(other.as_bytes(), &mut last), chrono, "{other} after {text}");
            }
        }
    }

    use proptest::prelude::any;

    proptest::proptest! {
        #[test]
        fn lines_are_quoted_as_the_csv_crate_quotes(
            fields in proptest::collection::vec("[a-z0-9,\"\r\n é.+-]{0,12}", 2..8)
        ) {
            let mut ours = Vec::new();
            for f in &fields {
                push_field(&mut ours, f);
            }
            *ours.last_mut().unwrap() = b'\n';
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record(&fields).unwrap();
            proptest::prop_assert_eq!(ours, w.into_inner().unwrap());
        }

        /// Rows of every kind (plain lines, quoted fields with commas, quotes and line breaks,
        /// spaces, other scripts), as a batch holds them, have the fields the csv crate reads.
        #[test]
        fn a_batch_holds_the_fields_read(
            rows in proptest::collection::vec(proptest::collection::vec("[a-z,\" é\r\n]{0,5}", 3), 1..40)
        ) {
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record(["a", "b", "c"]).unwrap();
            for r in &rows {
                w.write_record(r).unwrap();
            }
            let text = w.into_inner().unwrap();
            let expected: Vec<csv::StringRecord> =
                csv::Reader::from_reader(text.as_slice()).records().map(Result::unwrap).collect();
            let mut table = Table::new(text.as_slice(), "log.csv").unwrap();
            let (mut batch, mut row) = (Batch::default(), RowBuf::default());
            while table.read_into(&mut row).unwrap() {
                batch.push(0, row.line(), &row, Err(Box::new(Bad { time: None, problem: Problem::new("-") })));
            }
            proptest::prop_assert_eq!(batch.len(), expected.len());
            for (n, e) in expected.iter().enumerate() {
                let record = batch.record(n);
                proptest::prop_assert_eq!(record.iter().collect::<Vec<_>>(), e.iter().collect::<Vec<_>>());
                proptest::prop_assert_eq!(record.get(3), None);
                let trimmed: Vec<_> = e.iter().map(crate::engine::trim).collect();
                proptest::prop_assert_eq!((0..3).map(|i| record.field(Some(i))).collect::<Vec<_>>(), trimmed);
                if let Some(line) = record.as_csv() {
                    let mut one = csv::Writer::from_writer(Vec::new());
                    one.write_record(e).unwrap();
                    proptest::prop_assert_eq!(format!("{line}\n"), String::from_utf8(one.into_inner().unwrap()).unwrap());
                }
            }
        }
    }

    /// What a sink is given, as text, and the rejections' messages apart.
    #[derive(Default)]
    struct Seen(Vec<String>, Vec<String>);

    impl Sink for Seen {
        fn begin(&mut self, _: &[StringRecord]) -> Result<(), Error> {
            Ok(())
        }

        fn priced(&mut self, row: &Row, line: &PricedLine) -> Result<(), Error> {
            self.0.push(format!("{} {:?} {:?} {:?}", row.line(), row.record(), row.event(), line));
            Ok(())
        }

        fn rejected(&mut self, row: &Row, error: &Error) -> Result<(), Error> {
            self.0.push(format!("{} {:?} {error}", row.line(), row.record()));
            self.1.push(error.to_string());
            Ok(())
        }
    }

    /// Some 40 batches of a generated log, with bad rows of every kind among them: each is
    /// reported as SPEC §2 has it (`FILE:LINE: column NAME: ...`; a row earlier than the one
    /// before is one of them), skipped as §9 has it (the counts add up), and alike whichever
    /// thread parses its batch.
    #[test]
    fn a_batch_parsed_on_either_thread_prices_alike() {
        let g = crate::generate::Generate {
            events: 5_000,
            users: 300,
            businesses: 4,
            seed: 7,
            start: NaiveDate::from_ymd_opt(2025, 9, 28).unwrap(),
            days: 3,
        };
        let (mut log, mut accounts) = (Vec::new(), Vec::new());
        crate::generate::write_log(&g, &mut log).unwrap();
        crate::generate::write_accounts(&g, &mut accounts).unwrap();
        let mut lines: Vec<String> = String::from_utf8(log).unwrap().lines().map(String::from).collect();
        assert_eq!(lines[0], "timestamp,id,business,user,direction,category,status,entry_point");
        // Each a row of the log made bad, put before it.
        let long: &str = "x".repeat(MAX_FIELD + 1).leak();
        type Spoil<'a> = &'a dyn Fn(&mut Vec<&str>);
        let bad: [(usize, &str, Spoil); 6] = [
            (100, "category: must be empty for an MO", &|f| (f[4], f[5], f[6]) = ("mo", "marketing", "")),
            (700, "timestamp: not an RFC 3339 timestamp", &|f| f[0] = "yesterday"),
            (1500, "timestamp: earlier than line 1502", &|f| f[0] = "2025-09-28T00:00:00Z"),
            (2500, "status: ", &|f| (f[4], f[6], f[7]) = ("mt", "lost", "")),
            (3300, "id: longer than 65536 bytes", &|f| f[1] = long),
            (4000, "category: unknown category", &|f| (f[4], f[5], f[7]) = ("mt", "promotion", "")),
        ];
        for (n, _, spoil) in bad.iter().rev() {
            let line = lines[*n].clone();
            let mut fields: Vec<&str> = line.split(',').collect();
            spoil(&mut fields);
            let row = fields.join(",");
            lines.insert(*n, row);
        }
        let text = lines.join("\n") + "\n";
        let book = Arc::new(Pricebook::embedded(
            crate::account::Accounts::from_csv(accounts.as_slice(), "accounts.csv").unwrap(),
        ));
        let skip = ReadOptions { skip_invalid: true, ..ReadOptions::default() };
        let run = |ahead: usize| {
            let mut engine = Engine::new(book.clone(), crate::engine::Options::default());
            let input = vec![LogInput { name: "log.csv".to_string(), reader: text.as_bytes() }];
            let mut seen = Seen::default();
            let counts = price_logs_parsing(input, &mut engine, &skip, &mut seen, ahead).unwrap();
            (counts, (seen.0, seen.1))
        };
        // The pricing thread parses every batch; the reading thread does; either, by turns.
        let (counts, alone) = run(usize::MAX);
        assert_eq!((counts.rows, counts.priced, counts.rejected), (5_006, 5_000, 6));
        // The header is line 1, and each bad row moves those after it a line down: the `k`th
        // is on line `n + 1 + k` (the order check names the line before it).
        for (k, ((n, what, _), error)) in bad.iter().zip(&alone.1).enumerate() {
            let place = format!("log.csv:{}: column {what}", n + 1 + k);
            assert!(error.starts_with(&place), "{error} is not {place}...");
        }
        for ahead in [0, AHEAD] {
            assert!(
                run(ahead) == (counts, alone.clone()),
                "reading thread parsing with {ahead} batches waiting"
            );
        }
    }
    /// A line of each kind the cache must tell apart: equal values of another scale, another
    /// market, two market names at one address, no rate, a tier.
    fn sample_lines() -> Vec<PricedLine> {
        let base = PricedLine {
            timestamp: DateTime::from_timestamp(1_751_328_000, 0).unwrap(),
            local_date: chrono::NaiveDate::from_ymd_opt(2025, 7, 1).unwrap(),
            account: crate::engine::AccountNames::of("B", "W", "P"),
            direction: Direction::Mt,
            rules: RuleSet::Pmp2025,
            pricing_model: PricingModel::Pmp,
            pricing_type: PricingType::Regular,
            pricing_category: Some(PricingCategory::Marketing),
            market: "India",
            country: "IN".parse().ok(),
            tier: None,
            rate: Some("0.0107".parse().unwrap()),
            charge: "0.0107".parse().unwrap(),
            currency: "USD".parse().unwrap(),
        };
        let d = |s: &str| s.parse::<rust_decimal::Decimal>().unwrap();
        vec![
            base.clone(),
            PricedLine { rate: Some(d("0.01070")), charge: d("0.010700"), ..base.clone() },
            PricedLine { market: "Rest of \"Asia\", Pacific", ..base.clone() },
            PricedLine { market: &"Indonesia"[..5], ..base.clone() },
            PricedLine { market: "Indonesia", ..base.clone() },
            PricedLine { market: "India", country: None, ..base.clone() },
            PricedLine {
                pricing_type: PricingType::FreeCustomerService,
                pricing_category: Some(PricingCategory::Service),
                rate: None,
                charge: d("0"),
                ..base.clone()
            },
            PricedLine { tier: Some(Tier { from: 1, to: Some(25_000) }), ..base.clone() },
            PricedLine { pricing_type: PricingType::Inbound, pricing_category: None, ..base },
        ]
    }

    proptest::proptest! {
        #[test]
        fn lines_are_what_the_csv_crate_writes(
            rows in proptest::collection::vec(
                (0usize..2, proptest::collection::vec("[a-z0-9,\"\r\n .+-]{0,6}", 3), 0..sample_lines().len(), "[0-9.]{0,4}"),
                1..40,
            ),
            one_log in proptest::bool::ANY,
        ) {
            // One log whose columns are the output's (rows copied whole when plain), or two
            // logs whose columns are merged, one of them replaced by an appended column.
            let headers = match one_log {
                true => vec![StringRecord::from(vec!["a", "b", "c"])],
                false => vec![StringRecord::from(vec!["a", "b", "market"]), StringRecord::from(vec!["b", "c", "d"])],
            };
            let rows: Vec<_> = rows.into_iter().map(|(log, f, n, fee)| (log * usize::from(!one_log), f, n, fee)).collect();
            let lines = sample_lines();
            let mut batch = Batch::default();
            for (log, fields, _, _) in &rows {
                let bad = Err(Box::new(Bad { time: None, problem: Problem::new("-") }));
                batch.push(*log, 2, &RowBuf::of(fields), bad);
            }
            let mut ours = LinesWriter::new(Vec::new(), &headers, &["fee"]).unwrap();
            for (i, (log, _, n, fee)) in rows.iter().enumerate() {
                ours.write(*log, batch.record(i), &lines[*n], &[fee]).unwrap();
            }
            let mut theirs = csv::Writer::from_writer(Vec::new());
            let columns: &[&str] = if one_log { &["a", "b", "c"] } else { &["a", "b", "c", "d"] };
            theirs.write_record(columns.iter().chain(&APPENDED).chain(&["fee"])).unwrap();
            for (log, f, n, fee) in &rows {
                let line = &lines[*n];
                let input: Vec<&str> = match (one_log, log) {
                    (true, _) => vec![&f[0], &f[1], &f[2]],
                    (false, 0) => vec![&f[0], &f[1], "", ""],
                    (false, _) => vec!["", &f[0], &f[1], &f[2]],
                };
                let appended = [
                    line.rules.as_str().to_string(),
                    line.pricing_model.as_str().to_string(),
                    line.pricing_type.as_str().to_string(),
                    line.pricing_category.map_or("", |c| c.as_str()).to_string(),
                    line.market.to_string(),
                    line.country.map_or(String::new(), |c| c.code().to_string()),
                    line.tier.map_or(String::new(), |t| t.to_string()),
                    line.rate.map_or(String::new(), |r| r.normalize().to_string()),
                    line.charge.normalize().to_string(),
                    line.currency.code().to_string(),
                ];
                theirs.write_record(input.iter().copied().chain(appended.iter().map(String::as_str)).chain([fee.as_str()])).unwrap();
            }
            let (ours, theirs) = (ours.into_inner().unwrap(), theirs.into_inner().unwrap());
            proptest::prop_assert_eq!(String::from_utf8(ours).unwrap(), String::from_utf8(theirs).unwrap());
        }
    }

    #[test]
    fn an_input_column_named_like_an_appended_one_is_not_repeated() {
        let a = StringRecord::from(vec!["timestamp", "country", "note"]);
        let b = StringRecord::from(vec!["note", "charge", "extra"]);
        let layout = Layout::new(&[a, b], &APPENDED);
        // The union of the logs' columns in order of first appearance, less the appended names.
        assert_eq!(layout.columns(), ["timestamp", "note", "extra"]);
        assert_eq!(layout.maps, [vec![Some(0), Some(2), None], vec![None, Some(0), Some(2)]]);
    }

    #[test]
    fn timestamps_need_an_offset_or_a_zone() {
        let t = parse_timestamp("2025-07-01T11:30:00+02:00", None).unwrap();
        assert_eq!(t, parse_timestamp("2025-07-01T09:30:00Z", None).unwrap());
        assert!(parse_timestamp("2025-07-01T09:30:00.250Z", None).is_ok());
        assert_eq!(
            parse_timestamp("2025-07-01T09:30:00", None).unwrap_err().to_string(),
            "column timestamp: has no UTC offset (add one, e.g. Z or +02:00, or name a zone for such values) (2025-07-01T09:30:00)"
        );
        let paris = Some(chrono_tz::Europe::Paris);
        assert_eq!(parse_timestamp("2025-07-01T11:30:00", paris).unwrap(), t);
        assert_eq!(
            parse_timestamp("2025-03-30T02:30:00", paris).unwrap_err().to_string(),
            "column timestamp: does not exist in Europe/Paris (a clock change) (2025-03-30T02:30:00)"
        );
        assert_eq!(
            parse_timestamp("yesterday", None).unwrap_err().to_string(),
            "column timestamp: not an RFC 3339 timestamp (yesterday)"
        );
    }

    #[test]
    fn timestamps_outside_1900_to_2261_are_refused() {
        assert!(parse_timestamp("2261-12-31T23:59:59Z", None).is_ok());
        for t in ["2262-01-01T00:00:00Z", "1899-12-31T23:59:59Z"] {
            assert_eq!(
                parse_timestamp(t, None).unwrap_err().to_string(),
                format!("column timestamp: out of range (years 1900 to 2261) ({t})")
            );
        }
    }
}
