//! Rows read together, and parsed into events on whichever thread has time for it.

use chrono::{DateTime, Utc};

use super::log::{needs_quotes, parse_event, Record, Span, Strings};
use super::pipeline::Parser;
use crate::domain::error::Problem;
use crate::domain::event::{Direction, Event, Kind, Status};
use crate::engine::{Extras, Facts, Keys};
use crate::util::rows::RowBuf;

/// An event as parsed, less its strings (which stay in the batch's buffer, found again by
/// their spans), with the engine's keys computed there too.
#[derive(Debug, Clone, Copy)]
pub(super) struct Parsed {
    pub(super) facts: Facts,
    pub(super) keys: Keys,
    /// The business, numbered by the reader in order of appearance (see [`Reader::businesses`]).
    pub(super) business: u32,
}

impl Parsed {
    /// A row read but not yet parsed (see [`Batch::parse`]): its timestamp and business alone.
    pub(super) fn pending(timestamp: DateTime<Utc>, business: u32) -> Parsed {
        let (direction, kind, status) = (Direction::Mo, Kind::NonTemplate, Status::Delivered);
        let facts = Facts {
            timestamp,
            direction,
            kind,
            status,
            entry_point: false,
            country: None,
            duration: 0,
            extras: false,
        };
        Parsed { facts, keys: Keys::default(), business }
    }

    /// The event again, with its strings `[business, user, id]` and its extras.
    pub(super) fn event<'b>(&self, [business, user, id]: [&'b str; 3], extras: Extras<'b>) -> Event<'b> {
        self.facts.event(business, user, Some(id).filter(|s| !s.is_empty()), extras)
    }
}

/// Where a row read from a log is: its log and line, its text in the batch, and its event's
/// strings there. Kept apart from its event ([`Parse`]), and read only when a sink asks.
pub(super) struct Place {
    pub(super) line: u64,
    /// Where its text starts in the batch's buffer, and its first field's end in the batch's
    /// list of ends.
    pub(super) start: usize,
    pub(super) first: usize,
    pub(super) fields: u32,
    /// The length of its text.
    pub(super) len: u32,
    pub(super) log: u32,
    /// Whether no field needs quoting (see [`Record::as_csv`]).
    pub(super) plain: bool,
    /// Whether no field needs trimming (see [`Record::clean`]).
    pub(super) clean: bool,
    /// Set when the batch is parsed.
    pub(super) strings: Strings,
}

/// A row's event, or why it cannot be priced.
pub(super) type Parse = Result<Parsed, Box<Bad>>;

/// Where the merge and `--sort` put a row.
pub(super) fn time(parsed: &Parse) -> DateTime<Utc> {
    match parsed {
        Ok(p) => p.facts.timestamp,
        Err(bad) => bad.time.unwrap_or(DateTime::<Utc>::MIN_UTC),
    }
}

/// A row that cannot be priced, and its timestamp when that was good (`--sort` orders by it).
pub(super) struct Bad {
    pub(super) time: Option<DateTime<Utc>>,
    pub(super) problem: Problem,
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
pub(super) struct Batch {
    pub(super) text: String,
    /// Where each field of each row ends from its row's start.
    pub(super) ends: Vec<usize>,
    pub(super) places: Vec<Place>,
    pub(super) parses: Vec<Parse>,
    /// Whether its good rows are parsed: until then, a good row's [`Parsed`] holds its
    /// timestamp and business alone ([`Parsed::pending`]), and its place no strings.
    pub(super) parsed: bool,
}

/// The strings of a row without an event.
pub(super) const NO_STRINGS: Strings = [Span::EMPTY; 3];

impl Batch {
    pub(super) fn clear(&mut self) {
        self.text.clear();
        self.ends.clear();
        self.places.clear();
        self.parses.clear();
        self.parsed = false;
    }

    pub(super) fn len(&self) -> usize {
        self.parses.len()
    }

    /// Sorts the rows by timestamp ([`time`]), stably.
    pub(super) fn sort(&mut self) {
        let mut rows: Vec<(Place, Parse)> = self.places.drain(..).zip(self.parses.drain(..)).collect();
        rows.sort_by_key(|(_, parsed)| time(parsed));
        (self.places, self.parses) = rows.into_iter().unzip();
    }

    /// Adds a row read, and its event as far as it is known ([`Parsed::pending`], or why it
    /// cannot be priced): a plain line as it was read, any other row a field at a time, with
    /// a comma between two (and checked for fields that need quoting, see
    /// [`Record::as_csv`]).
    pub(super) fn push(&mut self, log: usize, line: u64, record: &RowBuf, parsed: Parse) {
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
    pub(super) fn parse(&mut self, parser: &mut Parser) {
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
                    let id = ev.id.unwrap_or("");
                    place.strings = [ev.business, ev.user, id].map(|s| record.span_of(s));
                    let keys = parser.keys(&ev);
                    Ok(Parsed { facts: Facts::of(&ev), keys, business })
                }
                Err(problem) => Err(Box::new(Bad { time: Some(t), problem })),
            };
        }
    }

    /// Row `n` as CSV, without reading it.
    pub(super) fn record(&self, n: usize) -> Record<'_> {
        Batch::record_of(&self.text, &self.ends, &self.places[n])
    }

    /// The row at `place` of a batch's `text` and `ends`.
    #[inline]
    pub(super) fn record_of<'b>(text: &'b str, ends: &'b [usize], place: &Place) -> Record<'b> {
        let (start, end) = (place.start, place.start + place.len as usize);
        debug_assert!(text.is_char_boundary(start) && text.is_char_boundary(end) && start <= end);
        // SAFETY: rows are appended whole to the text, so a row's ends are characters'
        // boundaries.
        let text = unsafe { text.get_unchecked(start..end) };
        let ends = &ends[place.first..place.first + place.fields as usize];
        Record { text, ends, plain: place.plain, clean: place.clean }
    }

    /// The strings of row `n`'s event (`[business, user, id]`), without reading them.
    pub(super) fn strings(&self, n: usize) -> [&str; 3] {
        let place = &self.places[n];
        place.strings.map(|span| self.slice(place.start, span))
    }

    /// The text of `span` of the row starting at `start`: a checked slice, read only when a
    /// sink or the engine asks for one of an event's strings (see [`Batch::strings`]).
    pub(super) fn slice(&self, start: usize, span: Span) -> &str {
        &self.text[span.within(start)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::table::Table;

    proptest::proptest! {
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
                let trimmed: Vec<_> = e.iter().map(crate::domain::user::trim).collect();
                proptest::prop_assert_eq!((0..3).map(|i| record.field(Some(i))).collect::<Vec<_>>(), trimmed);
                if let Some(line) = record.as_csv() {
                    let mut one = csv::Writer::from_writer(Vec::new());
                    one.write_record(e).unwrap();
                    proptest::prop_assert_eq!(format!("{line}\n"), String::from_utf8(one.into_inner().unwrap()).unwrap());
                }
            }
        }
    }
}
