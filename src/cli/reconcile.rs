//! `wabill reconcile`: the logs priced, each message's line checked against Meta's verdict on
//! it (a webhook log's, or a CSV log's `meta_*` columns), and the lines counted into the
//! buckets of Meta's analytics responses (docs/rules.md §11).

use std::io::Read;
use std::path::PathBuf;

use clap::Args;
use csv::StringRecord;
use wabill::log::{Row, Sink};
use wabill::reconcile::{
    Analytics, MetaSays, Names, Reconciler, Tolerance, UnknownWord, DISAGREEMENT_COLUMNS,
};
use wabill::report::{Format, Render};
use wabill::{Error, PricedLine};

use super::output::Output;
use super::sink::PriceSink;
use super::{csv_io, emit, io_error, open, run_logs, PricingArgs};

/// The exit status of `--check` when anything disagrees.
pub(super) const DISAGREES: u8 = 3;

#[derive(Args)]
pub(super) struct ReconcileArgs {
    /// Logs with Meta's verdicts: webhook dumps, or CSV logs with `meta_*` columns (as
    /// `wabill convert` writes them).
    #[arg(required = true, value_name = "LOG")]
    pub(super) logs: Vec<String>,
    #[command(flatten)]
    pub(super) pricing: PricingArgs,
    /// Meta's `pricing_analytics` (or `conversation_analytics`) responses, as the Graph API
    /// returns them, to compare with bucket by bucket.
    #[arg(long, value_name = "FILE", num_args = 1..)]
    pub(super) analytics: Vec<PathBuf>,
    /// Write every message on which wabill and Meta disagree there, as CSV, with a likely
    /// reason (`-` for stdout).
    #[arg(long, value_name = "FILE")]
    pub(super) disagreements: Option<String>,
    /// How far apart a bucket's costs may be and still agree: an amount (`0.01`) or a share
    /// of Meta's cost (`0.5%`).
    #[arg(long, value_name = "AMOUNT", default_value = "0.01")]
    tolerance: Tolerance,
    /// `table`, `csv` or `json`.
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// Exit with status 3 when anything disagrees (for pipelines); else the status is 0
    /// whenever the check ran.
    #[arg(long)]
    pub(super) check: bool,
}

/// Where each log keeps what reconcile reads beside the event: Meta's words, the WABA and the
/// displayed business number.
#[derive(Default, Clone)]
struct Columns {
    meta: [Option<usize>; 5],
    waba: Option<usize>,
    phone: Option<usize>,
}

const META: [&str; 5] =
    ["meta_billable", "meta_pricing_model", "meta_pricing_type", "meta_pricing_category", "meta_cost"];

struct ReconcileSink {
    check: Reconciler,
    columns: Vec<Columns>,
    to: Option<Output>,
    disagreements: Option<(csv::Writer<Output>, String)>,
    /// The summary sink, for its rejected rows and businesses.
    price: PriceSink,
}

impl Sink for ReconcileSink {
    fn begin(&mut self, headers: &[StringRecord]) -> Result<(), Error> {
        self.columns = headers
            .iter()
            .map(|h| {
                let find = |name: &str| h.iter().position(|c| c == name);
                Columns { meta: META.map(find), waba: find("waba"), phone: find("display_phone_number") }
            })
            .collect();
        if let Some(out) = self.to.take() {
            let name = out.name();
            let mut w = csv::Writer::from_writer(out);
            w.write_record(DISAGREEMENT_COLUMNS).map_err(|e| io_error(&name, csv_io(e)))?;
            self.disagreements = Some((w, name));
        }
        self.price.begin(headers)
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
            if let Some((w, name)) = &mut self.disagreements {
                w.write_record(d.record(&event, line)).map_err(|e| io_error(&*name, csv_io(e)))?;
            }
        }
        self.price.priced(row, line)
    }

    fn rejected(&mut self, row: &Row, error: &Error) -> Result<(), Error> {
        self.price.rejected(row, error)
    }

    fn business(&mut self, name: &str, first: wabill::Position) {
        self.price.business(name, first);
    }

    fn progress(&mut self, counts: &wabill::log::Counts) {
        self.price.progress(counts);
    }
}

fn load(path: &PathBuf) -> Result<Analytics, Error> {
    let name = path.display().to_string();
    let mut text = String::new();
    open(&name)?.read_to_string(&mut text).map_err(|e| io_error(path, e))?;
    Analytics::from_json(&text, &name)
}

/// Runs the check; `Ok(true)` when everything agrees.
pub(super) fn reconcile(args: ReconcileArgs) -> Result<bool, Error> {
    let to = args.disagreements.as_deref().map(Output::create).transpose()?;
    let analytics = args.analytics.iter().map(load).collect::<Result<Vec<_>, Error>>()?;
    let mut sink = ReconcileSink {
        check: Reconciler::new(analytics, args.tolerance),
        columns: Vec::new(),
        to,
        disagreements: None,
        price: PriceSink::new(wabill::report::Summary::new(&[]), Vec::new()),
    };
    run_logs(&args.logs, &args.pricing, false, &mut sink, |s| &mut s.price)?;
    if let Some((w, name)) = sink.disagreements.take() {
        w.into_inner().map_err(|e| io_error(&name, e.into_error()))?.finish()?;
    }
    sink.price.finish()?;
    let result = sink.check.finish();
    if result.messages.compared == 0 {
        eprintln!(
            "wabill: no message of the logs carries Meta's verdict (a webhook's pricing, or meta_* \
             columns): nothing compared message by message"
        );
    }
    let mut text = Vec::new();
    result.render(args.format, &mut text).map_err(|e| io_error("<reconciliation>", e))?;
    emit(&text, args.disagreements.as_deref() == Some("-"))?;
    Ok(result.agrees())
}
