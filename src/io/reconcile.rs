//! The check of `wabill reconcile` as a [`Sink`]: each priced line checked against Meta's
//! verdict the log carries (a webhook log's, or a CSV log's `meta_*` columns), with the WABA
//! and displayed business number the log names, then handed on to another sink. The command
//! line and the Python package both check through it.

use std::collections::HashMap;
use std::io::Read;

use csv::StringRecord;

use crate::domain::error::{Error, Position, Problem};
use crate::domain::event::{Event, Kind};
use crate::engine::PricedLine;
use crate::io::pipeline::{Counts, Row, Sink};
use crate::reconcile::{Disagreement, MetaSays, Names, Reconciler, Reconciliation, UnknownWord};
use crate::util::table::Table;

/// The columns of Meta's verdict in a CSV log, as `wabill convert` writes them.
const META: [&str; 5] =
    ["meta_billable", "meta_pricing_model", "meta_pricing_type", "meta_pricing_category", "meta_cost"];

/// Where a log keeps what the check reads beside the event: Meta's words, the WABA and the
/// displayed business number.
#[derive(Default, Clone)]
struct Columns {
    meta: [Option<usize>; 5],
    waba: Option<usize>,
    phone: Option<usize>,
}

/// Where a [`ReconcileSink`] sends each message Meta disagrees on: a closure, or a type with a
/// `begin` (e.g. a file's header, written once the logs are open).
pub trait Disagreements {
    /// Called once, when the logs' headers are read, before any disagreement.
    fn begin(&mut self) -> Result<(), Error> {
        Ok(())
    }

    /// One disagreement, with its event and line (for [`Disagreement::record`]).
    fn disagreement(&mut self, d: &Disagreement, event: &Event, line: &PricedLine) -> Result<(), Error>;
}

impl<F: FnMut(&Disagreement, &Event, &PricedLine) -> Result<(), Error>> Disagreements for F {
    fn disagreement(&mut self, d: &Disagreement, event: &Event, line: &PricedLine) -> Result<(), Error> {
        self(d, event, line)
    }
}

/// A sink that checks every priced line with a [`Reconciler`], sends each line Meta disagrees
/// on to its [`Disagreements`], and then hands every call on to `inner`.
/// [`ReconcileSink::finish`] gives the result.
pub struct ReconcileSink<S, D> {
    check: Reconciler,
    columns: Vec<Columns>,
    disagreement: D,
    /// The sink every row goes on to.
    pub inner: S,
}

impl<S, D> ReconcileSink<S, D>
where
    S: Sink,
    D: Disagreements,
{
    /// A sink checking with `check` before `inner`.
    pub fn new(check: Reconciler, disagreement: D, inner: S) -> Self {
        ReconcileSink { check, columns: Vec::new(), disagreement, inner }
    }

    /// The reconciliation, the disagreements' receiver and the inner sink.
    pub fn finish(self) -> (Reconciliation, D, S) {
        (self.check.finish(), self.disagreement, self.inner)
    }
}

impl<S, D> Sink for ReconcileSink<S, D>
where
    S: Sink,
    D: Disagreements,
{
    fn begin(&mut self, headers: &[StringRecord]) -> Result<(), Error> {
        self.columns = headers
            .iter()
            .map(|h| {
                let find = |name: &str| h.iter().position(|c| c == name);
                Columns { meta: META.map(find), waba: find("waba"), phone: find("display_phone_number") }
            })
            .collect();
        self.disagreement.begin()?;
        self.inner.begin(headers)
    }

    fn priced(&mut self, row: &Row, line: &PricedLine) -> Result<(), Error> {
        let event = row.event().expect("a priced row has its event");
        let record = row.record();
        let c = &self.columns[row.log()];
        let field = |i: Option<usize>| i.and_then(|i| record.get(i)).map(str::trim).filter(|v| !v.is_empty());
        let [billable, model, kind, category, cost] = c.meta.map(|i| field(i).unwrap_or(""));
        let meta: Option<Result<MetaSays, UnknownWord>> =
            MetaSays::read(billable, model, kind, category, cost).transpose();
        let names = Names { waba: field(c.waba), phone: field(c.phone) };
        if let Some(d) = self.check.message(&event, line, meta, &row.position(), names) {
            self.disagreement.disagreement(&d, &event, line)?;
        }
        self.inner.priced(row, line)
    }

    fn rejected(&mut self, row: &Row, error: &Error) -> Result<(), Error> {
        self.inner.rejected(row, error)
    }

    fn business(&mut self, name: &str, first: Position) {
        self.inner.business(name, first);
    }

    fn progress(&mut self, counts: &Counts) {
        self.inner.progress(counts);
    }
}

/// A sink that keeps nothing: for a check alone.
#[derive(Debug, Default)]
pub struct NoSink;

impl Sink for NoSink {
    fn begin(&mut self, _: &[StringRecord]) -> Result<(), Error> {
        Ok(())
    }

    fn priced(&mut self, _: &Row, _: &PricedLine) -> Result<(), Error> {
        Ok(())
    }

    fn rejected(&mut self, _: &Row, _: &Error) -> Result<(), Error> {
        Ok(())
    }
}

/// The sender's own record of its messages, `id,category` (a header, then a row per message):
/// a template category, or `service` for a non-template; for
/// [`WebhookOptions::templates`](crate::io::webhook::WebhookOptions::templates).
pub fn read_templates<R: Read>(reader: R, file: &str) -> Result<HashMap<String, Kind>, Error> {
    let mut t = Table::new(reader, file)?;
    let [id, category] = t.require_all(["id", "category"])?;
    let mut out = HashMap::new();
    while t.next_row()? {
        let (id, category) = (t.get(Some(id)), t.get(Some(category)));
        if id.is_empty() {
            return Err(Problem::column("id", "must not be empty", id).at(t.position()));
        }
        // A category as a log's `category` column gives it.
        let kind = Kind::parse_log(category).map_err(|p| p.at(t.position()))?;
        out.insert(id.to_string(), kind);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Engine, Options};
    use crate::io::pipeline::{price_logs, LogInput, ReadOptions};
    use crate::pricebook::account::Accounts;
    use crate::pricebook::Pricebook;
    use crate::reconcile::Tolerance;

    /// A CSV log with Meta's verdicts: a utility template after the user's message is free for
    /// both; one with no user message before is charged by wabill, and Meta says free.
    #[test]
    fn each_line_is_checked_against_the_meta_columns_and_handed_on() {
        let log = "timestamp,business,user,direction,category,id,meta_billable,meta_pricing_model,meta_pricing_type,meta_pricing_category\n\
                   2025-09-01T08:00:00Z,B,919876543210,mo,,m1,,,,\n\
                   2025-09-01T08:01:00Z,B,919876543210,mt,utility,m2,false,PMP,free_customer_service,utility\n\
                   2025-09-03T08:01:00Z,B,919876543210,mt,utility,m3,false,PMP,free_customer_service,utility\n";
        let mut engine = Engine::new(Pricebook::embedded(Accounts::default()).into(), Options::default());
        let mut ids = Vec::new();
        let keep = |d: &Disagreement, event: &Event, _: &PricedLine| {
            ids.push((event.id.unwrap_or("").to_string(), d.mismatch.to_string(), d.at.line));
            Ok(())
        };
        let mut sink = ReconcileSink::new(Reconciler::new(Vec::new(), Tolerance::default()), keep, NoSink);
        let input = LogInput { name: "log.csv".to_string(), reader: log.as_bytes() };
        let counts = price_logs(vec![input], &mut engine, &ReadOptions::default(), &mut sink).unwrap();
        assert_eq!(counts.priced, 3);
        let (result, _, NoSink) = sink.finish();
        assert_eq!((result.messages.compared, result.messages.agree), (2, 1));
        assert_eq!(ids, [("m3".to_string(), "charged".to_string(), 4)]);
    }

    #[test]
    fn the_templates_file_gives_each_id_its_kind_and_a_bad_row_says_where() {
        let file = "id,category\nm1,service\nm2,marketing\n";
        let kinds = read_templates(file.as_bytes(), "templates.csv").unwrap();
        assert_eq!(kinds["m1"], Kind::NonTemplate);
        assert_eq!(kinds["m2"], Kind::Template(crate::domain::event::Category::Marketing));
        let err = read_templates("id,category\nm1,promo\n".as_bytes(), "templates.csv").unwrap_err();
        assert!(err.to_string().starts_with("templates.csv:2: column category: unknown category"), "{err}");
        let err = read_templates("id,kind\nm1,promo\n".as_bytes(), "templates.csv").unwrap_err();
        assert!(err.to_string().contains("category"), "{err}");
    }
}
