//! Pricing logs: several logs merged by timestamp, read on a second thread, priced in order on
//! the calling thread, each line and each rejected row handed to a [`Sink`].

use std::io::{BufRead, BufReader, Read};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use csv::StringRecord;

use super::batch::{time, Bad, Batch, Parse, Parsed};
use super::log::{check_lengths, parse_extras, Columns, Record};
use super::timestamp::{parse_timestamp_after, LastDay};
use super::webhook::{WebhookOptions, WebhookRows};
use crate::domain::error::{Error, Position, Problem};
use crate::domain::event::{Event, PricingType};
use crate::domain::time::rfc3339;
use crate::engine::{Engine, Extras, Keys, PricedLine};
use crate::pricebook::Pricebook;
use crate::util::handoff::Handoff;
use crate::util::numbering::Numbering;
use crate::util::rows::RowBuf;
use crate::util::table::Table;

/// One log to read: its name (for messages) and its bytes.
pub struct LogInput<R> {
    /// The log's name, as messages and positions give it.
    pub name: String,
    /// Its bytes.
    pub reader: R,
}

/// A log's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFormat {
    /// wabill's CSV log (docs/rules.md §2).
    Csv,
    /// Meta's webhooks: notifications, one a line or in a JSON array (docs/rules.md §10).
    Webhooks,
}

impl std::str::FromStr for InputFormat {
    type Err = Error;
    /// `csv` or `webhooks`.
    fn from_str(s: &str) -> Result<InputFormat, Error> {
        match s {
            "csv" => Ok(InputFormat::Csv),
            "webhooks" => Ok(InputFormat::Webhooks),
            _ => Err(Error::config(format!("not a log format (csv, webhooks): {s}"))),
        }
    }
}

/// How logs are read.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// Accept unsorted logs by buffering them whole and sorting by timestamp. Without
    /// `skip_invalid`, a row that cannot be read or parsed stops the run before any is
    /// priced (the first such row as read); one the engine refuses is met in timestamp order.
    pub sort: bool,
    /// Skip bad rows (reporting each to the sink) instead of stopping at the first (the first
    /// in the log: a row that cannot be read, e.g. with the wrong number of fields or invalid
    /// UTF-8, is a bad row like one that cannot be priced).
    pub skip_invalid: bool,
    /// The zone of timestamps written without an offset.
    pub naive_zone: Option<Tz>,
    /// Every log's format; by default each log's name or first byte tells.
    pub input_format: Option<InputFormat>,
    /// How webhook logs are read (the reorder window, the sender's template records).
    pub webhooks: WebhookOptions,
}

/// A row of a log as read: where it came from, its fields, and its event. Each is read when
/// asked for: once its batch is parsed, the pricing thread reads no more of a row than the
/// sink asks for (with the summary alone, nothing but its event's scalars).
pub struct Row<'a> {
    pub(super) batch: &'a Batch,
    /// Its index in the batch.
    pub(super) n: usize,
    /// The logs' names.
    pub(super) files: &'a [Arc<str>],
    /// The logs' columns.
    pub(super) columns: &'a [Columns],
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

    /// Its fields as read.
    pub fn record(&self) -> Record<'a> {
        self.batch.record(self.n)
    }

    /// Its event, when it has one (every priced row has).
    pub fn event(&self) -> Option<Event<'a>> {
        let parsed = self.batch.parses[self.n].as_ref().ok()?;
        Some(parsed.event(self.batch.strings(self.n), self.extras(parsed)))
    }

    /// The extras of its event, read again from its fields when it has some (few do).
    #[cold]
    #[inline(never)]
    fn extras(&self, parsed: &Parsed) -> Extras<'a> {
        if !parsed.facts.extras {
            return Extras::default();
        }
        let columns = &self.columns[self.log()];
        parse_extras(columns, self.record()).expect("extras checked when the row was parsed")
    }

    /// Its file and line.
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
    /// A business of the logs (trimmed), once, with the first row that has an event (shortly
    /// before that row is priced). E.g. to check it against the accounts.
    fn business(&mut self, name: &str, first: Position) {
        let _ = (name, first);
    }
    /// The counts so far, after each batch of rows (a hundred or so; not after each row), e.g.
    /// to show progress.
    fn progress(&mut self, counts: &Counts) {
        let _ = counts;
    }
}

/// The closing counts of a run: `rows = priced + rejected`; duplicates are priced lines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    /// Rows read (header lines and blank lines not counted).
    pub rows: u64,
    /// Rows priced into a line (duplicates included).
    pub priced: u64,
    /// Bad rows skipped.
    pub rejected: u64,
    /// Priced lines of type `duplicate`.
    pub duplicates: u64,
}

/// How many rows travel together from the reading thread to the pricing one. Small batches
/// (tens of kilobytes) are still in cache when the other thread reads or refills them; much
/// smaller ones would be handed over more often than they save (BENCHMARKS.md).
pub(super) const BATCH: usize = 128;

/// How many full batches may wait for the pricing thread (64K rows): enough for the reading
/// thread to keep reading through the pricing thread's pauses (once a day of log time it files
/// the day's ids and drops expired pairs; now and then it builds the id filter again) and
/// through a loaded host taking a core away, instead of waiting and then being waited for.
/// With a short queue each thread waits for the other at every pause (BENCHMARKS.md).
pub(super) const WAITING: usize = 512;

/// How many rows ahead the pricing loop prefetches the engine's state.
pub(super) const PREFETCH: usize = 8;

/// How many batches must wait for the pricing thread for the reading thread to parse the
/// next one itself; with fewer, the pricing thread parses it. The thread with time to spare
/// parses: which one that is depends on the log, the sink and how fast each core runs on a
/// shared host.
pub(super) const AHEAD: usize = 8;

/// Prices logs through `engine`, merging them by timestamp (ties: earlier log first), and
/// sends every line and rejected row to `sink`.
///
/// Reading (CSV, UTF-8, the timestamps and their order, the merge) runs on a second thread, a
/// batch of rows ahead of pricing; each batch is parsed into events and keys on the thread
/// with time to spare. `--sort` reads everything first. Either way the lines
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
pub(super) fn price_logs_parsing<R: Read + Send>(
    inputs: Vec<LogInput<R>>,
    engine: &mut Engine,
    options: &ReadOptions,
    sink: &mut dyn Sink,
    ahead: usize,
) -> Result<Counts, Error> {
    let mut cursors = Vec::with_capacity(inputs.len());
    for input in inputs {
        let table = Source::open(input, options)?;
        let columns = table.columns()?;
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
    let mut run =
        Run { engine, businesses: Vec::new(), options, sink, counts: Counts::default(), parser, files };
    if options.sort {
        let mut batch = Batch::default();
        while reader.fill(&mut batch, usize::MAX)? {}
        if !options.skip_invalid {
            // Sorting puts a row without a timestamp first: the first bad row as read is the
            // one to report.
            batch.parse(&mut run.parser);
            if let Some((n, Err(bad))) = batch.parses.iter().enumerate().find(|(_, p)| p.is_err()) {
                let row = Row { batch: &batch, n, files: &run.files, columns: &run.parser.columns };
                return Err(bad.problem.clone().at(row.position()));
            }
        }
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
            // The latest batch given back is the likeliest to be in cache still.
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
            run.sink.progress(&run.counts);
            used = Some(Ok(batch));
        }
        Ok(run.counts)
    })
}

/// A log as rows: a CSV file, or Meta's webhooks reduced to one row per message. There is one
/// a log, read in place: its size does not matter, where a box would add a pointer to follow
/// at each row.
#[allow(clippy::large_enum_variant)]
pub(super) enum Source<R> {
    Csv(Table<BufReader<R>>),
    Webhooks(WebhookRows<BufReader<R>>),
}

impl<R: Read> Source<R> {
    /// Opens a log in `format`, or in the format its name or first byte says: webhooks when
    /// the name ends in `.json`, `.jsonl` or `.ndjson`, or the first byte that is not blank is
    /// `{` or `[`; CSV otherwise.
    fn open(input: LogInput<R>, options: &ReadOptions) -> Result<Source<R>, Error> {
        // A small buffer to look at the first bytes: reads larger than it go past it, so a
        // CSV log is read without a copy more.
        let mut reader = BufReader::with_capacity(4096, input.reader);
        // A compressed log's name tells its format without its `.gz`.
        let name = input.name.to_ascii_lowercase();
        let name = name.strip_suffix(".gz").unwrap_or(&name);
        let named = [".json", ".jsonl", ".ndjson"].iter().any(|e| name.ends_with(e));
        let format = match options.input_format {
            Some(f) => f,
            None if named => InputFormat::Webhooks,
            None => {
                let first = reader.fill_buf().map_err(|e| Error::io(input.name.as_str(), e))?;
                match first.iter().find(|b| !b.is_ascii_whitespace()) {
                    Some(b'{' | b'[') => InputFormat::Webhooks,
                    _ => InputFormat::Csv,
                }
            }
        };
        Ok(match format {
            InputFormat::Csv => Source::Csv(Table::new(reader, &input.name)?),
            InputFormat::Webhooks => {
                Source::Webhooks(WebhookRows::new(reader, &input.name, options.webhooks.clone()))
            }
        })
    }

    fn columns(&self) -> Result<Columns, Error> {
        match self {
            Source::Csv(t) => Columns::of(t),
            Source::Webhooks(w) => Ok(Columns::of_header(w.header())),
        }
    }

    pub(super) fn header(&self) -> &StringRecord {
        match self {
            Source::Csv(t) => t.header(),
            Source::Webhooks(w) => w.header(),
        }
    }

    fn file(&self) -> &Arc<str> {
        match self {
            Source::Csv(t) => t.file(),
            Source::Webhooks(w) => w.file(),
        }
    }

    fn read_into(&mut self, row: &mut RowBuf) -> Result<bool, Error> {
        match self {
            Source::Csv(t) => t.read_into(row),
            Source::Webhooks(w) => w.read_into(row),
        }
    }
}

pub(super) struct Cursor<R> {
    pub(super) table: Source<R>,
    pub(super) columns: Columns,
    /// The row last read.
    pub(super) record: RowBuf,
    /// The row last read when it has a good timestamp, waiting for the merge: its line, and
    /// its event as far as it is known ([`Parsed::pending`]) or why it cannot be priced.
    pub(super) current: Option<(u64, Parse)>,
    /// The last good timestamp and its line, for the order check.
    pub(super) last: Option<(DateTime<Utc>, u64)>,
    pub(super) day: LastDay,
    pub(super) done: bool,
}

/// Reads the logs into batches in merged order: the mechanism of both the threaded and the
/// sorting path.
pub(super) struct Reader<R> {
    pub(super) cursors: Vec<Cursor<R>>,
    /// The businesses met, numbered in order of appearance: the pricing thread finds a row's
    /// business by this number, without hashing its name.
    pub(super) businesses: Numbering,
    pub(super) sort: bool,
    pub(super) naive_zone: Option<Tz>,
}

impl<R: Read> Reader<R> {
    /// Adds up to `max` rows to `batch`, not parsed; `false` once every log is read. Bad rows
    /// go out as they are read, good ones in timestamp order.
    pub(super) fn fill(&mut self, batch: &mut Batch, max: usize) -> Result<bool, Error> {
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
    pub(super) fn advance(&mut self, i: usize, batch: &mut Batch) -> Result<(), Error> {
        let c = &mut self.cursors[i];
        while c.current.is_none() && !c.done {
            match c.table.read_into(&mut c.record) {
                Ok(true) => {}
                Ok(false) => {
                    c.done = true;
                    return Ok(());
                }
                // A row that could not be read as one (the wrong number of fields, invalid
                // UTF-8) is a bad row like any other: the row buffer holds it as lossy text.
                Err(e) => {
                    let problem = e.into_problem()?;
                    let bad = Box::new(Bad { time: None, problem });
                    batch.push(i, c.record.line(), &c.record, Err(bad));
                    continue;
                }
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
pub(super) struct Parser {
    pub(super) columns: Vec<Columns>,
    pub(super) book: Arc<Pricebook>,
    pub(super) rates_date: Option<NaiveDate>,
    /// The last UTC date met, and its [`Keys::dates`].
    pub(super) dates: (Option<NaiveDate>, Option<(NaiveDate, NaiveDate)>),
}

impl Parser {
    /// The engine's keys of `ev`.
    #[inline]
    pub(super) fn keys(&mut self, ev: &Event) -> Keys {
        let utc = ev.timestamp.naive_utc().date();
        if self.dates.0 != Some(utc) {
            self.dates = (Some(utc), Keys::dates(ev.timestamp, self.rates_date));
        }
        Keys::of(ev, self.book.markets(), self.dates.1)
    }
}

pub(super) struct Run<'a> {
    pub(super) engine: &'a mut Engine,
    /// The engine's index of each business the reader numbered, once known.
    pub(super) businesses: Vec<Option<u32>>,
    pub(super) options: &'a ReadOptions,
    pub(super) sink: &'a mut dyn Sink,
    pub(super) counts: Counts,
    pub(super) parser: Parser,
    pub(super) files: Vec<Arc<str>>,
}

impl Run<'_> {
    /// Prices (or rejects) the rows of a batch in order (parsing them first if the reading
    /// thread did not), prefetching the engine's state for the rows [`PREFETCH`] ahead.
    pub(super) fn items(&mut self, batch: &mut Batch) -> Result<(), Error> {
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
            let row = Row { batch, n, files: &self.files, columns: &self.parser.columns };
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
            let extras = || row.extras(parsed);
            match self.engine.push_keyed(&parsed.facts, parsed.keys, business, names, extras) {
                Ok(line) => {
                    self.counts.priced += 1;
                    self.counts.duplicates += u64::from(line.pricing_type == PricingType::Duplicate);
                    self.sink.priced(&row, line)?;
                }
                Err(p) => Self::bad(self.options, &mut self.counts, self.sink, &row, p)?,
            }
        }
        Ok(())
    }

    /// Prefetches the engine's state for row `n` of the batch; its business's index in the
    /// engine, when the row is good.
    #[inline(never)]
    pub(super) fn prefetch(&mut self, batch: &Batch, n: usize) -> Option<u32> {
        let parsed = batch.parses[n].as_ref().ok()?;
        let number = parsed.business as usize;
        if number >= self.businesses.len() {
            self.businesses.resize(number + 1, None);
        }
        let bi = match self.businesses[number] {
            Some(bi) => bi,
            None => {
                let name = batch.record(n).get(self.parser.columns[batch.places[n].log as usize].business);
                let name = crate::domain::user::trim(name.unwrap_or(""));
                if name.is_empty() {
                    return None;
                }
                let place = &batch.places[n];
                self.sink.business(
                    name,
                    Position { file: self.files[place.log as usize].clone(), line: place.line },
                );
                *self.businesses[number].insert(self.engine.business_index(name))
            }
        };
        self.engine.prefetch(bi, &parsed.keys);
        Some(bi)
    }

    pub(super) fn bad(
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

/// The command line's generator of synthetic traffic, for a realistic log in the tests.
#[cfg(test)]
#[path = "../cli/generate.rs"]
#[allow(dead_code)]
mod generate;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::rows::MAX_FIELD;

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
    /// reported as docs/rules.md §2 has it (`FILE:LINE: column NAME: ...`; a row earlier than the one
    /// before is one of them; a row with the wrong number of fields is one too), skipped as §9
    /// has it (the counts add up), and alike whichever thread parses its batch.
    #[test]
    fn a_batch_parsed_on_either_thread_prices_alike() {
        let g = super::generate::Generate {
            events: 5_000,
            users: 300,
            businesses: 4,
            seed: 7,
            start: NaiveDate::from_ymd_opt(2025, 9, 28).unwrap(),
            days: 3,
        };
        let (mut log, mut accounts) = (Vec::new(), Vec::new());
        super::generate::write_log_as(&g, super::generate::Format::Csv, &mut log).unwrap();
        super::generate::write_accounts(&g, &mut accounts).unwrap();
        let mut lines: Vec<String> = String::from_utf8(log).unwrap().lines().map(String::from).collect();
        assert_eq!(lines[0], "timestamp,id,business,user,direction,category,status,entry_point");
        // Each a row of the log made bad, put before it.
        let long: &str = "x".repeat(MAX_FIELD + 1).leak();
        type Spoil<'a> = &'a dyn Fn(&mut Vec<&str>);
        let bad: [(usize, &str, Spoil); 7] = [
            (100, "column category: must be empty for an MO", &|f| {
                (f[4], f[5], f[6]) = ("mo", "marketing", "")
            }),
            (700, "column timestamp: not an RFC 3339 timestamp", &|f| f[0] = "yesterday"),
            (1500, "column timestamp: earlier than line 1502", &|f| f[0] = "2025-09-28T00:00:00Z"),
            (2500, "column status: ", &|f| (f[4], f[6], f[7]) = ("mt", "lost", "")),
            (3300, "column id: longer than 65536 bytes", &|f| f[1] = long),
            (4000, "column category: unknown category", &|f| (f[4], f[5], f[7]) = ("mt", "promotion", "")),
            (4500, "expected 8 fields, found 5", &|f| f.truncate(5)),
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
            crate::pricebook::account::Accounts::from_csv(accounts.as_slice(), "accounts.csv").unwrap(),
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
        assert_eq!((counts.rows, counts.priced, counts.rejected), (5_007, 5_000, 7));
        // The header is line 1, and each bad row moves those after it a line down: the `k`th
        // is on line `n + 1 + k` (the order check names the line before it).
        for (k, ((n, what, _), error)) in bad.iter().zip(&alone.1).enumerate() {
            let place = format!("log.csv:{}: {what}", n + 1 + k);
            assert!(error.starts_with(&place), "{error} is not {place}...");
        }
        for ahead in [0, AHEAD] {
            assert!(
                run(ahead) == (counts, alone.clone()),
                "reading thread parsing with {ahead} batches waiting"
            );
        }
    }
}
