//! Priced lines and rejected rows back to CSV (docs/rules.md §7), each row as read with
//! wabill's columns appended.

use std::io::Write;
use std::sync::Arc;

use csv::StringRecord;

use super::log::{needs_quotes, Record, APPENDED};
use super::pipeline::Row;
use crate::domain::error::Error;
use crate::domain::event::{PricingCategory, PricingModel, PricingType};
use crate::domain::money::{format_amount, Country, Currency};
use crate::engine::PricedLine;
use crate::pricebook::ratecard::Tier;
use crate::pricebook::Pricebook;
use crate::rules::RuleSet;

/// The union of the logs' columns, and where each log's fields go in it.
#[derive(Debug, Clone)]
pub struct Layout {
    pub(super) columns: Vec<String>,
    /// Per log: for each output column, the log's field index.
    pub(super) maps: Vec<Vec<Option<usize>>>,
    /// How many of the columns, at the end, are Meta's verdict (`meta_…`): a priced line puts
    /// them after wabill's own (docs/rules.md §10).
    pub(super) trailing: usize,
}

impl Layout {
    /// The input columns of all logs, in order of first appearance (Meta's verdict last), less
    /// those in `replaced`.
    pub fn new(headers: &[StringRecord], replaced: &[&str]) -> Layout {
        let mut columns: Vec<String> = Vec::new();
        for h in headers {
            for name in h.iter() {
                if !replaced.contains(&name) && !columns.iter().any(|c| c == name) {
                    columns.push(name.to_string());
                }
            }
        }
        let meta = |c: &String| c.starts_with("meta_");
        let (mut leading, trailing): (Vec<String>, Vec<String>) = columns.into_iter().partition(|c| !meta(c));
        let trailing_count = trailing.len();
        leading.extend(trailing);
        let columns = leading;
        let maps =
            headers.iter().map(|h| columns.iter().map(|c| h.iter().position(|n| n == c)).collect()).collect();
        Layout { columns, maps, trailing: trailing_count }
    }

    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// Appends the output's input columns of a row of log `log` to `line`, each followed by a
    /// comma.
    pub(super) fn push_fields(&self, line: &mut Vec<u8>, log: usize, record: Record) {
        self.push_part(line, log, record, 0..self.columns.len());
    }

    /// [`Layout::push_fields`] for the columns `part` of the output's.
    fn push_part(&self, line: &mut Vec<u8>, log: usize, record: Record, part: std::ops::Range<usize>) {
        for i in &self.maps[log][part] {
            push_field(line, i.and_then(|i| record.get(i)).unwrap_or(""));
        }
    }
}

/// Writes priced lines as CSV: every input column as read, then wabill's columns
/// (docs/rules.md §7) and any extra columns (e.g. `aggregator_fee`). An input column of an
/// appended name is replaced.
///
/// Fields are quoted as the csv crate quotes them (when they hold a comma, a quote or a line
/// break), but each line is put together in one buffer, and in the common case quickly:
/// - a row is copied whole, when its log's columns are the output's and the reading thread
///   found that none of its fields needs quoting (it stores rows as CSV for such a sink);
/// - the appended columns, which few lines tell apart (a rate card has few rates), are
///   formatted once per distinct set of values, and then their text is copied.
pub struct LinesWriter<W: Write> {
    pub(super) out: W,
    pub(super) layout: Layout,
    /// Per log: whether its columns are the output's input columns, in order.
    pub(super) whole: Vec<bool>,
    pub(super) appended: foldhash::HashMap<Appended, Box<[u8]>>,
    /// The pricebook whose markets the cached texts name: a line of another empties the cache.
    pub(super) book: Option<Arc<Pricebook>>,
    pub(super) line: Vec<u8>,
}

/// The values of the appended columns of a line: the key of their text.
#[derive(PartialEq, Eq, Hash)]
pub(super) struct Appended {
    pub(super) rules: RuleSet,
    pub(super) model: PricingModel,
    pub(super) pricing_type: PricingType,
    pub(super) category: Option<PricingCategory>,
    /// The market by its number in the writer's pricebook ([`LinesWriter::book`]).
    pub(super) market: u16,
    pub(super) country: Option<Country>,
    pub(super) tier: Option<Tier>,
    /// Decimals by their bits: quicker to hash than by value, and equal bits format alike.
    pub(super) rate: Option<[u8; 16]>,
    pub(super) rate_verified: Option<bool>,
    pub(super) charge: [u8; 16],
    pub(super) currency: Currency,
}

impl Appended {
    pub(super) fn of(line: &PricedLine) -> Appended {
        Appended {
            rules: line.rules,
            model: line.pricing_model,
            pricing_type: line.pricing_type,
            category: line.pricing_category,
            market: line.market.0,
            country: line.country,
            tier: line.tier,
            rate: line.rate.map(|r| r.serialize()),
            rate_verified: line.rate_verified,
            charge: line.charge.serialize(),
            currency: line.currency,
        }
    }
}

/// How many distinct sets of appended values the writer keeps the text of.
pub(super) const APPENDED_CACHE: usize = 4096;

/// Appends `field` and a comma to `line`, quoted when it must be.
pub(super) fn push_field(line: &mut Vec<u8>, field: &str) {
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
pub(super) fn end_line(line: &mut [u8]) {
    if let Some(last) = line.last_mut() {
        *last = b'\n';
    }
}

/// Appends the appended columns of `line` to `out`, each followed by a comma (once per
/// distinct set of values: see [`LinesWriter`]).
pub(super) fn push_appended(out: &mut Vec<u8>, line: &PricedLine) {
    push_field(out, line.rules.as_str());
    push_field(out, line.pricing_model.as_str());
    push_field(out, line.pricing_type.as_str());
    push_field(out, line.pricing_category.map_or("", |c| c.as_str()));
    push_field(out, line.market());
    push_field(out, line.country.as_ref().map_or("", |c| c.code()));
    push_field(out, &line.tier.map(|t| t.to_string()).unwrap_or_default());
    push_field(out, &line.rate.map(|r| format_amount(r, 0)).unwrap_or_default());
    push_field(out, line.rate_verified.map_or("", |v| if v { "true" } else { "false" }));
    push_field(out, &format_amount(line.charge, 0));
    push_field(out, line.currency.code());
}

impl<W: Write> LinesWriter<W> {
    /// A writer of the priced lines of logs with these headers, with `extra` columns after wabill's (e.g. `aggregator_fee`); writes the header line.
    pub fn new(out: W, headers: &[StringRecord], extra: &[&str]) -> csv::Result<LinesWriter<W>> {
        let replaced: Vec<&str> = APPENDED.iter().chain(extra).copied().collect();
        let layout = Layout::new(headers, &replaced);
        let whole = layout
            .maps
            .iter()
            .zip(headers)
            .map(|(map, h)| {
                layout.trailing == 0
                    && map.len() == h.len()
                    && map.iter().enumerate().all(|(i, &f)| f == Some(i))
            })
            .collect();
        let mut w =
            LinesWriter { out, layout, whole, appended: Default::default(), book: None, line: Vec::new() };
        let (leading, trailing) = w.layout.columns.split_at(w.layout.columns.len() - w.layout.trailing);
        let names = leading.iter().map(String::as_str).chain(replaced.iter().copied());
        for name in names.chain(trailing.iter().map(String::as_str)) {
            push_field(&mut w.line, name);
        }
        w.end_line()?;
        Ok(w)
    }

    /// Ends the line; writes once 64 KiB are waiting.
    pub(super) fn end_line(&mut self) -> csv::Result<()> {
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
            let leading = self.layout.columns.len() - self.layout.trailing;
            self.layout.push_part(out, log, record, 0..leading);
        }
        if self.appended.len() >= APPENDED_CACHE
            || !self.book.as_ref().is_some_and(|b| Arc::ptr_eq(b, &line.account.book))
        {
            self.appended.clear();
            self.book = Some(line.account.book.clone());
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
        let columns = self.layout.columns.len();
        self.layout.push_part(out, log, record, columns - self.layout.trailing..columns);
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
    pub(super) out: W,
    pub(super) layout: Layout,
    pub(super) line: Vec<u8>,
}

impl<W: Write> RejectsWriter<W> {
    /// A writer of the rejected rows of logs with these headers: `file,line,error`, then the row's columns; writes the header line.
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

    /// Writes one rejected row and why.
    pub fn write(&mut self, row: &Row, error: &Error) -> csv::Result<()> {
        let problem = error.problem().map_or_else(|| error.to_string(), |p| p.in_csv().to_string());
        push_field(&mut self.line, row.file());
        push_field(&mut self.line, &row.line().to_string());
        push_field(&mut self.line, &problem);
        self.layout.push_fields(&mut self.line, row.log(), row.record());
        self.end_line()
    }

    pub(super) fn end_line(&mut self) -> csv::Result<()> {
        end_line(&mut self.line);
        self.out.write_all(&self.line)?;
        self.line.clear();
        Ok(())
    }

    /// Writes what is waiting and gives the writer back, flushed.
    pub fn into_inner(mut self) -> Result<W, std::io::Error> {
        self.out.flush()?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::batch::{Bad, Batch};

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
    }
    use crate::domain::error::Problem;
    use crate::engine::samples;
    use crate::util::rows::RowBuf;

    /// A line of each kind the cache must tell apart: equal values of another scale, another
    /// market, a market of another pricebook, no rate, a tier.
    fn sample_lines() -> Vec<PricedLine> {
        let book = samples::book(&["India", "Indonesia", "Rest of \"Asia\", Pacific"]);
        let other = samples::book(&["Indonesia", "India"]);
        let base = PricedLine {
            country: "IN".parse().ok(),
            rate: Some("0.0107".parse().unwrap()),
            charge: "0.0107".parse().unwrap(),
            ..samples::line(&book, "B", "India")
        };
        let d = |s: &str| s.parse::<rust_decimal::Decimal>().unwrap();
        vec![
            base.clone(),
            PricedLine { rate: Some(d("0.01070")), charge: d("0.010700"), ..base.clone() },
            PricedLine { country: None, ..samples::line(&book, "B", "Rest of \"Asia\", Pacific") },
            PricedLine { country: None, ..samples::line(&book, "B", "Indonesia") },
            PricedLine { country: None, ..samples::line(&other, "B", "Indonesia") },
            PricedLine { country: None, ..samples::line(&other, "B", "India") },
            PricedLine { country: None, ..base.clone() },
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
                    line.market().to_string(),
                    line.country.map_or(String::new(), |c| c.code().to_string()),
                    line.tier.map_or(String::new(), |t| t.to_string()),
                    line.rate.map_or(String::new(), |r| r.normalize().to_string()),
                    line.rate_verified.map_or(String::new(), |v| v.to_string()),
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

    /// Meta's verdict (`meta_…` columns, of a webhook log) comes after wabill's columns and any
    /// extra one, so that the line reads as derived facts, wabill's verdict, then Meta's.
    #[test]
    fn metas_verdict_comes_after_wabills() {
        let header =
            StringRecord::from(vec!["timestamp", "meta_pricing_type", "user", "meta_pricing_category"]);
        let mut w = LinesWriter::new(Vec::new(), &[header], &["aggregator_fee"]).unwrap();
        let text = "2025-09-01T00:00:00Z,regular,33612345678,marketing";
        let ends = [20, 28, 40, 50];
        let record = Record { text, ends: &ends, plain: true, clean: true };
        let book = samples::book(&["France"]);
        w.write(0, record, &samples::line(&book, "B", "France"), &["0.01"]).unwrap();
        let out = String::from_utf8(w.into_inner().unwrap()).unwrap();
        let mut lines = out.lines();
        assert_eq!(
            lines.next().unwrap(),
            "timestamp,user,rules,pricing_model,pricing_type,pricing_category,market,country,tier,rate,rate_verified,\
             charge,currency,aggregator_fee,meta_pricing_type,meta_pricing_category"
        );
        assert_eq!(
            lines.next().unwrap(),
            "2025-09-01T00:00:00Z,33612345678,pmp-2025,PMP,regular,marketing,France,,,1,true,1,USD,0.01,regular,marketing"
        );
    }
}
