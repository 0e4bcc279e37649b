//! The CSV boundary: log rows to events (docs/rules.md §2), several logs merged by timestamp, priced
//! lines and rejected rows back to CSV (docs/rules.md §7), every problem with its file and line.
//!
//! Works on any `io::Read`/`io::Write`; opening files is the caller's business.

use std::io::Read;

use chrono::{DateTime, Utc};
use csv::StringRecord;

use crate::domain::error::{Error, Problem};
use crate::domain::event::{Cost, Direction, Event, Kind, Status};
use crate::domain::money::Country;
use crate::engine::{Extras, Facts};
use crate::util::rows::{RowBuf, MAX_FIELD};
use crate::util::table::Table;

/// The columns wabill appends to every priced line, in order.
pub const APPENDED: [&str; 11] = [
    "rules",
    "pricing_model",
    "pricing_type",
    "pricing_category",
    "market",
    "country",
    "tier",
    "rate",
    "rate_verified",
    "charge",
    "currency",
];

/// The first bytes of a Parquet file (and its last).
pub const PARQUET_MAGIC: &[u8; 4] = b"PAR1";

/// Whether a log is Parquet, by its name (`.parquet`, `.parq`) or its first bytes: known
/// whether or not this build reads Parquet, so that one that does not can say so.
pub fn is_parquet(name: &str, first: &[u8]) -> bool {
    let name = name.to_ascii_lowercase();
    name.ends_with(".parquet") || name.ends_with(".parq") || first.starts_with(PARQUET_MAGIC)
}

/// Where the columns of one log file are.
#[derive(Debug, Clone)]
pub(super) struct Columns {
    pub(super) timestamp: usize,
    pub(super) business: usize,
    pub(super) user: usize,
    pub(super) direction: usize,
    pub(super) category: Option<usize>,
    pub(super) status: Option<usize>,
    pub(super) entry_point: Option<usize>,
    pub(super) id: Option<usize>,
    pub(super) country: Option<usize>,
    pub(super) kind: Option<usize>,
    pub(super) duration: Option<usize>,
    /// The columns of [`Extras`]: `group`, `bsuid`, `cost`, `cost_currency`.
    pub(super) extras: [Option<usize>; 4],
    /// Whether the log has a column of calls, groups, ids or costs (docs/rules.md §12): most
    /// logs have none, and their rows skip reading them.
    pub(super) of_2026: bool,
}

/// The optional columns of docs/rules.md §2 and §12, beside the four required ones.
const OPTIONAL: [&str; 10] =
    ["category", "status", "entry_point", "id", "country", "kind", "duration", "group", "bsuid", "cost"];

impl Columns {
    /// The columns of a header known to have the four required ones.
    pub(super) fn of_header(header: &StringRecord) -> Columns {
        let find = |name: &str| header.iter().position(|h| h == name);
        let required = |name: &str| find(name).expect("a required column");
        Columns::with(
            [required("timestamp"), required("business"), required("user"), required("direction")],
            find,
        )
    }

    fn with(
        [timestamp, business, user, direction]: [usize; 4],
        find: impl Fn(&str) -> Option<usize>,
    ) -> Columns {
        let [category, status, entry_point, id, country, kind, duration, group, bsuid, cost] =
            OPTIONAL.map(&find);
        Columns {
            timestamp,
            business,
            user,
            direction,
            category,
            status,
            entry_point,
            id,
            country,
            kind,
            duration,
            extras: [group, bsuid, cost, find("cost_currency")],
            of_2026: kind.is_some()
                || duration.is_some()
                || group.is_some()
                || bsuid.is_some()
                || cost.is_some(),
        }
    }

    pub(super) fn of<R: Read>(t: &Table<R>) -> Result<Columns, Error> {
        let required = t.require_all(["timestamp", "business", "user", "direction"])?;
        Ok(Columns::with(required, |name| t.find(name)))
    }
}

/// The fields of one row as read (UTF-8, untrimmed). Rows are stored by the batch, all
/// fields of a batch in one buffer.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    /// The row's fields, a comma between two.
    pub(super) text: &'a str,
    /// Where each field ends in the text: ascending, each on a character boundary.
    pub(super) ends: &'a [usize],
    /// Whether no field holds a comma, a quote or a line break, so that `text` is the row as
    /// CSV.
    pub(super) plain: bool,
    /// Whether no field needs trimming (ASCII without a space or a control character).
    pub(super) clean: bool,
}

impl<'a> Record<'a> {
    /// The number of fields.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether the row has no field.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    #[inline]
    /// Field `i` as read (not trimmed), if the row has it.
    pub fn get(&self, i: usize) -> Option<&'a str> {
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { self.ends[i - 1] + 1 };
        debug_assert!(start <= end && self.text.is_char_boundary(start) && self.text.is_char_boundary(end));
        // SAFETY: a record's ends are ascending character boundaries of its text, a comma
        // between two fields ([`Batch::push`] writes them so).
        Some(unsafe { self.text.get_unchecked(start..end) })
    }

    /// The fields in order.
    pub fn iter(&self) -> impl Iterator<Item = &'a str> + 'a {
        let r = *self;
        (0..r.len()).filter_map(move |i| r.get(i))
    }

    /// Field `i` trimmed, "" when absent (or `None`).
    #[inline]
    pub(super) fn field(&self, i: Option<usize>) -> &'a str {
        crate::util::rows::trimmed(i.and_then(|i| self.get(i)), self.clean)
    }

    /// Where `s`, a slice of this row's text (a field, trimmed, as [`Record::field`] gives
    /// it), lies in the text; empty for an empty `s`. The distance between two addresses of
    /// one text: no byte of the row is read.
    pub(super) fn span_of(&self, s: &'a str) -> Span {
        let start = (s.as_ptr() as usize).wrapping_sub(self.text.as_ptr() as usize);
        if s.is_empty() {
            return Span::EMPTY;
        }
        debug_assert!(start + s.len() <= self.text.len(), "a slice of the row");
        Span { start: start as u32, end: (start + s.len()) as u32 }
    }

    /// The row as a CSV line (without its line break) when no field needs quoting.
    pub fn as_csv(&self) -> Option<&'a str> {
        self.plain.then_some(self.text)
    }
}

/// Where a field lies in its row's text, from the row's start: made only from the row's field
/// ends ([`Record::span`]), so its ends are character boundaries of the row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Span {
    start: u32,
    end: u32,
}

/// Where the business, the user and the id (trimmed) of a row's event lie in the row.
pub(super) type Strings = [Span; 3];

impl Span {
    /// Nothing: an absent or empty field.
    pub(super) const EMPTY: Span = Span { start: 0, end: 0 };

    /// Where the span lies in a text in which its row starts at `start`.
    pub(super) fn within(self, start: usize) -> std::ops::Range<usize> {
        start + self.start as usize..start + self.end as usize
    }
}

/// Whether a field holding `bytes` must be quoted in CSV: it holds a comma, a quote or a line
/// break. Branch-free over each block of 16 bytes, so that it vectorises.
pub(super) fn needs_quotes(bytes: &[u8]) -> bool {
    let special = |b: u8| (b == b',') | (b == b'"') | (b == b'\n') | (b == b'\r');
    let mut blocks = bytes.chunks_exact(16);
    blocks.by_ref().any(|block| block.iter().fold(false, |any, &b| any | special(b)))
        || blocks.remainder().iter().any(|&b| special(b))
}

/// Refuses a row with a field longer than [`MAX_FIELD`], naming its column.
pub(super) fn check_lengths(record: &RowBuf, header: &StringRecord) -> Result<(), Problem> {
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

/// Parses the columns of a row other than the timestamp into an event.
#[inline(always)]
pub(super) fn parse_event<'r>(
    c: &Columns,
    record: Record<'r>,
    timestamp: DateTime<Utc>,
) -> Result<Event<'r>, Problem> {
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
        s => Some(Country::parse_text(s)?),
    };
    let id = Some(field(c.id)).filter(|s| !s.is_empty());
    let (business, user) = (field(Some(c.business)), field(Some(c.user)));
    let (kind, duration, extras) =
        if c.of_2026 { parse_2026(c, record, direction, kind)? } else { (kind, 0, Extras::default()) };
    // `extras` is the flag `Facts::of` sets; `event` takes the extras themselves.
    let facts = Facts { timestamp, direction, kind, status, entry_point, country, duration, extras: false };
    Ok(facts.event(business, user, id, extras))
}

/// The columns of docs/rules.md §12 of a row whose direction and kind (from `category`) are
/// read: a call's kind and duration, and the extras.
fn parse_2026<'r>(
    c: &Columns,
    record: Record<'r>,
    direction: Direction,
    kind: Kind,
) -> Result<(Kind, u32, Extras<'r>), Problem> {
    let field = |i: Option<usize>| record.field(i);
    let call = Kind::parse_call(field(c.kind))?;
    if call && direction == Direction::Mt && kind != Kind::NonTemplate {
        return Err(Problem::column("category", "must be empty for a call", field(c.category)));
    }
    // A message with a duration is refused by the engine, as from any caller.
    let (kind, duration) = (if call { Kind::Call } else { kind }, parse_seconds(field(c.duration))?);
    Ok((kind, duration, parse_extras(c, record)?))
}

/// A call's `duration`: whole seconds, empty for 0 (not answered).
fn parse_seconds(s: &str) -> Result<u32, Problem> {
    match s {
        "" => Ok(0),
        s => s.parse().map_err(|_| Problem::column("duration", "not a whole number of seconds", s)),
    }
}

/// The few columns most rows leave empty (see [`Extras`]): `group`, `bsuid`, and `cost` with
/// `cost_currency` (empty: the WABA's).
pub(super) fn parse_extras<'r>(c: &Columns, record: Record<'r>) -> Result<Extras<'r>, Problem> {
    let [group, bsuid, cost, currency] = c.extras.map(|i| Some(record.field(i)).filter(|s| !s.is_empty()));
    let cost = cost.map(|amount| Cost::parse(amount, currency)).transpose()?;
    if let Some(b) = bsuid.filter(|b| crate::domain::user::bsuid_country(b).is_none()) {
        return Err(Problem::column("bsuid", "not a business-scoped user id (CC.…)", b));
    }
    Ok(Extras { group, bsuid, cost })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/rules.md §2 and §12: a call (`kind` `call`) has a duration and no template category;
    /// Meta's observed `cost` carries its currency.
    #[test]
    fn the_2026_columns_of_a_row() {
        let header = StringRecord::from(vec![
            "timestamp",
            "business",
            "user",
            "direction",
            "category",
            "kind",
            "duration",
            "cost",
            "cost_currency",
        ]);
        let c = Columns::of_header(&header);
        let parse = |row: &str| {
            let ends: Vec<usize> = row.match_indices(',').map(|(i, _)| i).chain([row.len()]).collect();
            let record = Record { text: row, ends: &ends, plain: true, clean: false };
            parse_event(&c, record, DateTime::<Utc>::UNIX_EPOCH)
                .map(|e| (e.kind, e.duration, e.cost.map(|c| c.amount)))
        };
        assert_eq!(parse("t,B,33612345678,mt,,CALL,56,,").unwrap(), (Kind::Call, 56, None));
        assert_eq!(parse("t,B,33612345678,mo,,call,,,").unwrap(), (Kind::Call, 0, None));
        assert_eq!(
            parse("t,B,33612345678,mt,marketing,call,5,,").unwrap_err().to_string(),
            "category: must be empty for a call (marketing)"
        );
        assert_eq!(
            parse("t,B,33612345678,mt,,call,5s,,").unwrap_err().to_string(),
            "duration: not a whole number of seconds (5s)"
        );
        let lite = parse("t,B,33612345678,mt,marketing_lite,,,0.0291,USD").unwrap();
        assert_eq!(lite.2, Some("0.0291".parse().unwrap()));
        assert_eq!(
            parse("t,B,33612345678,mt,marketing_lite,,,0.03,US").unwrap_err().to_string(),
            "cost_currency: not an ISO 4217 currency code (US)"
        );
    }

    proptest::proptest! {
        /// A field's span holds the field as `Record::field` gives it (trimmed), whatever its
        /// spaces and characters; an absent field's is empty.
        #[test]
        fn a_span_is_where_its_trimmed_field_is(fields in proptest::collection::vec("[ \t\u{a0}aé!~]{0,6}", 1..6)) {
            let text = fields.join(",");
            let ends: Vec<usize> = fields
                .iter()
                .scan(0, |at, f| {
                    let end = *at + f.len();
                    *at = end + 1;
                    Some(end)
                })
                .collect();
            let record = Record { text: &text, ends: &ends, plain: true, clean: false };
            for i in 0..fields.len() {
                let field = record.field(Some(i));
                let span = record.span_of(field);
                proptest::prop_assert_eq!(&text[span.within(0)], field);
                proptest::prop_assert_eq!(&format!("..{text}")[span.within(2)], field);
            }
            proptest::prop_assert_eq!(record.span_of(record.field(None)), Span::EMPTY);
        }
    }
}
