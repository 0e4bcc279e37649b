//! Markets: the rate-card region of a recipient, from the country calling code of the user's
//! number (longest prefix in force) or from an explicit country (docs/rules.md §5).
//!
//! The table is date-versioned: for each prefix, the row with the latest `effective_from` on or
//! before the event's local date is in force. A number no prefix matches is in market `Other`
//! with no country. A country maps through the rows in force that carry it, shortest prefix
//! first (a row with an empty prefix only serves this mapping, e.g. `CA` → North America).

use foldhash::{HashMap, HashMapExt};
use std::io::Read;

use chrono::NaiveDate;

use crate::domain::error::{Error, Problem};
use crate::domain::money::Country;
use crate::util::table::{At, Table};

/// The name of the market of numbers and countries no row matches.
pub const OTHER: &str = "Other";

/// A market, by its index in [`Markets`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct MarketId(pub(crate) u16);

#[derive(Debug, Clone, Copy)]
struct Row {
    from: NaiveDate,
    country: Option<Country>,
    market: MarketId,
}

/// The calling-code table. Immutable once built; cheap to share behind an `Arc`.
#[derive(Debug, Clone)]
pub struct Markets {
    names: Vec<Box<str>>,
    ids: HashMap<Box<str>, MarketId>,
    /// A digit trie of the prefixes; node 0 is the root (the empty prefix, which has no rows:
    /// empty-prefix rows are under `countries`).
    nodes: Vec<Node>,
    /// Per country: its empty-prefix rows (sorted by date) and the trie nodes of the prefixes
    /// that carry it, shortest first.
    countries: HashMap<Country, CountryRows>,
}

/// A country's empty-prefix rows, and the (length, trie node) of the prefixes that carry it.
type CountryRows = (Vec<Row>, Vec<(usize, u32)>);

/// One prefix of the trie: its children by next digit (0: none) and its rows, by date.
#[derive(Debug, Clone, Default)]
struct Node {
    children: [u32; 10],
    rows: Vec<Row>,
    /// The nearest node above with rows (0: none).
    up: u32,
}

const COLUMNS: [&str; 5] = ["effective_from", "prefix", "country", "market", "source"];

impl Markets {
    /// The table compiled into wabill (`data/markets.csv`, sources in `data/markets.md`).
    pub fn embedded() -> Markets {
        Markets::from_csv(include_str!("../../data/markets.csv").as_bytes(), "<embedded markets>")
            .expect("the embedded markets table is valid")
    }

    /// Reads a markets CSV: `effective_from,prefix,country,market` (and an optional `source`).
    pub fn from_csv<R: Read>(reader: R, file: &str) -> Result<Markets, Error> {
        let mut t = Table::new(reader, file)?;
        t.only(&COLUMNS)?;
        let [from, prefix, country, market] =
            ["effective_from", "prefix", "country", "market"].map(|c| t.require(c));
        let (from, prefix, country, market) = (Some(from?), Some(prefix?), Some(country?), Some(market?));
        let mut m = Markets::empty();
        let mut seen: HashMap<(NaiveDate, Box<str>, Option<Country>), u64> = HashMap::new();
        while t.next_row()? {
            let pos = || t.position();
            let date = parse_date("effective_from", t.get(from)).at(pos)?;
            let p = t.get(prefix).trim_start_matches('+');
            if !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(Problem::column("prefix", "not a calling-code prefix (digits)", p).at(pos()));
            }
            let c = match t.get(country) {
                "" if p.is_empty() => {
                    return Err(
                        Problem::column("country", "a row without prefix needs a country", "").at(pos())
                    )
                }
                "" => None,
                c => Some(c.parse::<Country>().at(pos)?),
            };
            let name = t.get(market);
            if name.is_empty() {
                return Err(Problem::column("market", "must not be empty", name).at(pos()));
            }
            let key = (date, p.into(), if p.is_empty() { c } else { None });
            if let Some(first) = seen.insert(key, t.line()) {
                let what = format!("repeats the prefix and date of line {first}");
                return Err(Problem::column("prefix", what, p).at(pos()));
            }
            let row = Row { from: date, country: c, market: m.intern(name) };
            m.add(p, row);
        }
        m.finish();
        Ok(m)
    }

    fn empty() -> Markets {
        let mut m = Markets {
            names: Vec::new(),
            ids: HashMap::new(),
            nodes: vec![Node::default()],
            countries: HashMap::new(),
        };
        m.intern(OTHER);
        m
    }

    pub(crate) fn intern(&mut self, name: &str) -> MarketId {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = MarketId(u16::try_from(self.names.len()).expect("fewer than 65536 markets"));
        self.names.push(name.into());
        self.ids.insert(name.into(), id);
        id
    }

    fn add(&mut self, prefix: &str, row: Row) {
        if prefix.is_empty() {
            let c = row.country.expect("checked: rows without prefix carry a country");
            self.countries.entry(c).or_default().0.push(row);
        } else {
            let mut node = 0;
            for d in prefix.bytes().map(|b| usize::from(b - b'0')) {
                if self.nodes[node].children[d] == 0 {
                    self.nodes[node].children[d] =
                        u32::try_from(self.nodes.len()).expect("fewer than 2^32 prefixes");
                    self.nodes.push(Node::default());
                }
                node = self.nodes[node].children[d] as usize;
            }
            self.nodes[node].rows.push(row);
            if let Some(c) = row.country {
                let carried = &mut self.countries.entry(c).or_default().1;
                let entry = (prefix.len(), node as u32);
                if !carried.contains(&entry) {
                    carried.push(entry);
                }
            }
        }
    }

    fn finish(&mut self) {
        for node in &mut self.nodes {
            node.rows.sort_by_key(|r| r.from);
        }
        // Children are added after their parents.
        for parent in 0..self.nodes.len() {
            let up = if self.nodes[parent].rows.is_empty() { self.nodes[parent].up } else { parent as u32 };
            for child in self.nodes[parent].children {
                if child != 0 {
                    self.nodes[child as usize].up = up;
                }
            }
        }
        for (rows, prefixes) in self.countries.values_mut() {
            rows.sort_by_key(|r| r.from);
            prefixes.sort();
        }
    }

    pub(crate) fn name(&self, id: MarketId) -> &str {
        &self.names[id.0 as usize]
    }

    pub(crate) fn other(&self) -> MarketId {
        MarketId(0)
    }

    /// The country and market of a number (its digits) on `date`.
    pub(crate) fn of_number(&self, digits: &str, date: NaiveDate) -> (Option<Country>, MarketId) {
        self.of_prefix(self.prefix_of(digits), date)
    }

    /// The longest prefix of a number's digits (ignoring `+`, spaces and `-`) that has rows,
    /// whatever their dates: what [`Markets::of_prefix`] starts from (0: none).
    pub(crate) fn prefix_of(&self, digits: &str) -> u32 {
        let (mut node, mut with_rows) = (0, 0);
        for b in digits.bytes().filter(|b| !matches!(b, b'+' | b' ' | b'-')) {
            // A byte that is not a digit has no child.
            match self.nodes[node as usize].children.get(usize::from(b.wrapping_sub(b'0'))) {
                None | Some(0) => break,
                Some(&child) => node = child,
            }
            if !self.nodes[node as usize].rows.is_empty() {
                with_rows = node;
            }
        }
        with_rows
    }

    /// The country and market on `date` of the numbers whose longest prefix with rows is
    /// `prefix` ([`Markets::prefix_of`]): its row in force then, else its nearest shorter
    /// prefix's.
    pub(crate) fn of_prefix(&self, prefix: u32, date: NaiveDate) -> (Option<Country>, MarketId) {
        let mut node = prefix;
        while node != 0 {
            if let Some(row) = in_force(&self.nodes[node as usize].rows, date) {
                return (row.country, row.market);
            }
            node = self.nodes[node as usize].up;
        }
        (None, self.other())
    }

    /// [`Markets::of_prefix`] when it is the same on every date from `first` to `last`: the
    /// row found for `last` took effect by `first` (and the longer prefixes passed over have
    /// no row yet on `last`, so none before). `None` when it may change between them.
    pub(crate) fn of_prefix_from(
        &self,
        prefix: u32,
        first: NaiveDate,
        last: NaiveDate,
    ) -> Option<(Option<Country>, MarketId)> {
        let mut node = prefix;
        while node != 0 {
            if let Some(row) = in_force(&self.nodes[node as usize].rows, last) {
                return (row.from <= first).then_some((row.country, row.market));
            }
            node = self.nodes[node as usize].up;
        }
        Some((None, self.other()))
    }

    /// The market of a country on `date`.
    pub(crate) fn of_country(&self, country: Country, date: NaiveDate) -> MarketId {
        let Some((own, prefixes)) = self.countries.get(&country) else {
            return self.other();
        };
        if let Some(row) = in_force(own, date) {
            return row.market;
        }
        prefixes
            .iter()
            .filter_map(|&(_, node)| in_force(&self.nodes[node as usize].rows, date))
            .find(|row| row.country == Some(country))
            .map_or(self.other(), |row| row.market)
    }

    /// Looks up a number's (or a country's) market by name: the library's public face of the
    /// table, for tools and tests.
    pub fn lookup(&self, digits: &str, country: Option<Country>, date: NaiveDate) -> (Option<Country>, &str) {
        let (c, id) = match country {
            Some(c) => (Some(c), self.of_country(c, date)),
            None => self.of_number(digits, date),
        };
        (c, self.name(id))
    }

    /// The markets some row in force on `date` leads to.
    pub fn in_force(&self, date: NaiveDate) -> std::collections::BTreeSet<&str> {
        let prefixed = self.nodes.iter().filter_map(|n| in_force(&n.rows, date));
        let own = self.countries.values().filter_map(|(rows, _)| in_force(rows, date));
        prefixed.chain(own).map(|r| &*self.names[r.market.0 as usize]).collect()
    }

    /// Every market name the table knows.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(|n| &**n)
    }
}

/// The row of `rows` (sorted by date) in force on `date`.
fn in_force(rows: &[Row], date: NaiveDate) -> Option<&Row> {
    crate::pricebook::ratecard::latest_by(rows, date, |row| row.from)
}

/// Parses a `YYYY-MM-DD` date.
pub(crate) fn parse_date(column: &'static str, s: &str) -> Result<NaiveDate, Problem> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| Problem::column(column, "not a date (YYYY-MM-DD)", s))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str = "effective_from,prefix,country,market\n\
        2000-01-01,1,US,North America\n\
        2000-01-01,1809,DO,Rest of Latin America\n\
        2000-01-01,33,FR,France\n\
        2000-01-01,263,ZW,Other\n\
        2025-10-01,263,ZW,Rest of Africa\n\
        2026-01-01,12125,US,New York\n\
        2000-01-01,,CA,North America\n";

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn markets() -> Markets {
        Markets::from_csv(TABLE.as_bytes(), "markets.csv").unwrap()
    }

    #[test]
    fn longest_prefix_wins() {
        let m = markets();
        let d = date("2025-07-01");
        assert_eq!(m.lookup("18095551234", None, d), (Some("DO".parse().unwrap()), "Rest of Latin America"));
        assert_eq!(m.lookup("12125551234", None, d), (Some("US".parse().unwrap()), "North America"));
        assert_eq!(m.lookup("33612345678", None, d).1, "France");
        assert_eq!(m.lookup("999123", None, d), (None, "Other"));
    }

    #[test]
    fn rows_are_dated() {
        let m = markets();
        assert_eq!(m.lookup("263771234567", None, date("2025-09-30")).1, "Other");
        assert_eq!(m.lookup("263771234567", None, date("2025-10-01")).1, "Rest of Africa");
        assert_eq!(m.lookup("", Some("ZW".parse().unwrap()), date("2025-10-01")).1, "Rest of Africa");
        assert_eq!(m.lookup("33612345678", None, date("1999-12-31")).1, "Other");
        // Before a longer prefix's first row, the shorter prefix's row applies.
        assert_eq!(m.lookup("12125551234", None, date("2025-12-31")).1, "North America");
        assert_eq!(m.lookup("12125551234", None, date("2026-01-01")).1, "New York");
        assert_eq!(m.lookup("12135551234", None, date("2026-01-01")).1, "North America");
    }

    /// A number's market found for a span of dates is its market on each of them; it is found
    /// whenever no row of its prefixes takes effect within the span (here: around the dates
    /// of the table's rows, and far from them).
    #[test]
    fn markets_found_for_a_span_hold_on_each_of_its_dates() {
        let m = markets();
        let numbers = ["263771234567", "12125551234", "12135551234", "18095551234", "33612345678", "999123"];
        let starts = ["1999-12-29", "2025-09-28", "2025-12-29", "2026-01-01", "2026-06-01"];
        for number in numbers {
            let prefix = m.prefix_of(number);
            for start in starts.map(date) {
                for days in 0..5 {
                    let first = start + chrono::Days::new(days);
                    let last = first + chrono::Days::new(2);
                    let each: Vec<_> = first.iter_days().take(3).map(|d| m.of_prefix(prefix, d)).collect();
                    match m.of_prefix_from(prefix, first, last) {
                        Some(found) => {
                            assert!(each.iter().all(|&e| e == found), "{number} {first}: {each:?}")
                        }
                        None => assert!(each.windows(2).any(|w| w[0] != w[1]), "{number} {first}: {each:?}"),
                    }
                }
            }
        }
    }

    /// A number's separators are skipped on the way down the prefixes, as when it is keyed.
    #[test]
    fn prefixes_skip_separators() {
        let m = markets();
        let d = date("2025-07-01");
        assert_eq!(m.prefix_of("+1 809-555-1234"), m.prefix_of("18095551234"));
        assert_eq!(m.lookup("+33 6 12 34 56 78", None, d).1, "France");
        assert_eq!(m.prefix_of("1x809"), m.prefix_of("1"));
    }

    #[test]
    fn countries_map_through_rows_in_force() {
        let m = markets();
        let d = date("2025-07-01");
        assert_eq!(m.lookup("", Some("CA".parse().unwrap()), d).1, "North America");
        assert_eq!(m.lookup("", Some("DO".parse().unwrap()), d).1, "Rest of Latin America");
        assert_eq!(m.lookup("", Some("JP".parse().unwrap()), d).1, "Other");
    }

    #[test]
    fn bad_rows_are_positioned() {
        let bad = "effective_from,prefix,country,market\n2000-01-01,3x,FR,France\n";
        assert_eq!(
            Markets::from_csv(bad.as_bytes(), "m.csv").unwrap_err().to_string(),
            "m.csv:2: column prefix: not a calling-code prefix (digits) (3x)"
        );
        let dup = "effective_from,prefix,country,market\n2000-01-01,33,FR,France\n2000-01-01,33,FR,France\n";
        assert_eq!(
            Markets::from_csv(dup.as_bytes(), "m.csv").unwrap_err().to_string(),
            "m.csv:3: column prefix: repeats the prefix and date of line 2 (33)"
        );
    }
}
