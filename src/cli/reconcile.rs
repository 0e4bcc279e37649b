//! `wabill reconcile`: the logs priced, each message's line checked against Meta's verdict on
//! it (a webhook log's, or a CSV log's `meta_*` columns), and the lines counted into the
//! buckets of Meta's analytics responses (docs/rules.md §11).

use std::path::PathBuf;

use clap::Args;
use wabill::log::{Disagreements, ReconcileSink};
use wabill::reconcile::{Analytics, Disagreement, Reconciler, Tolerance, DISAGREEMENT_COLUMNS};
use wabill::report::{Format, Render};
use wabill::{Error, Event, PricedLine};

use super::output::Output;
use super::sink::PriceSink;
use super::{csv_io, emit, io_error, run_logs, PricingArgs};

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

/// The `--disagreements` file: its header once the logs are open, then a row per message.
struct DisagreementsFile {
    to: Option<Output>,
    writer: Option<(csv::Writer<Output>, String)>,
}

impl Disagreements for DisagreementsFile {
    fn begin(&mut self) -> Result<(), Error> {
        if let Some(out) = self.to.take() {
            let name = out.name();
            let mut w = csv::Writer::from_writer(out);
            w.write_record(DISAGREEMENT_COLUMNS).map_err(|e| io_error(&name, csv_io(e)))?;
            self.writer = Some((w, name));
        }
        Ok(())
    }

    fn disagreement(&mut self, d: &Disagreement, event: &Event, line: &PricedLine) -> Result<(), Error> {
        if let Some((w, name)) = &mut self.writer {
            w.write_record(d.record(event, line)).map_err(|e| io_error(&*name, csv_io(e)))?;
        }
        Ok(())
    }
}

fn load(path: &std::path::Path) -> Result<Analytics, Error> {
    let name = path.display().to_string();
    Analytics::from_json(&wabill::log::read_text(&name)?, &name)
}

/// Runs the check; `Ok(true)` when everything agrees.
pub(super) fn reconcile(args: ReconcileArgs) -> Result<bool, Error> {
    let to = args.disagreements.as_deref().map(Output::create).transpose()?;
    let analytics = args.analytics.iter().map(|p| load(p)).collect::<Result<Vec<_>, Error>>()?;
    let price = PriceSink::new(wabill::report::Summary::new(&[]), Vec::new());
    let to = DisagreementsFile { to, writer: None };
    let mut sink = ReconcileSink::new(Reconciler::new(analytics, args.tolerance), to, price);
    run_logs(&args.logs, &args.pricing, false, &mut sink, |s| &mut s.inner)?;
    let (result, to, price) = sink.finish();
    if let Some((w, name)) = to.writer {
        w.into_inner().map_err(|e| io_error(&name, e.into_error()))?.finish()?;
    }
    price.finish()?;
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
