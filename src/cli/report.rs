//! `wabill report`: the logs priced into one self-contained HTML page of charts
//! ([`HtmlReport`]), with tariffs compared when given.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use wabill::report::{HtmlReport, Summary};
use wabill::Error;

use super::output::Output;
use super::sink::PriceSink;
use super::{billings, io_error, run_logs, PricingArgs};

#[derive(Args)]
pub(super) struct ReportArgs {
    /// Log files (`-` for stdin); several are merged by timestamp.
    #[arg(required = true, value_name = "LOG")]
    pub(super) logs: Vec<String>,
    #[command(flatten)]
    pub(super) pricing: PricingArgs,
    /// Write the report there, as one HTML file (`-` for stdout).
    #[arg(long, value_name = "FILE", required = true)]
    pub(super) html: String,
    /// An aggregator tariff (TOML) to compare, once per tariff.
    #[arg(long = "tariff", value_name = "FILE")]
    pub(super) tariffs: Vec<PathBuf>,
}

pub(super) fn report(args: ReportArgs) -> Result<(), Error> {
    // The output is opened first: one that cannot be written fails the run before it starts.
    let mut out = Output::create(&args.html)?;
    let mut sink = PriceSink::new(Summary::new(&HtmlReport::GROUPING), billings(&args.tariffs)?);
    run_logs(&args.logs, &args.pricing, false, &mut sink, |s| s)?;
    let (summary, billings) = sink.finish()?;
    let report = HtmlReport::new(&summary)?.logs(args.logs.iter().cloned()).tariffs(&billings)?;
    let name = out.name();
    report.write_html(&mut out).and_then(|()| out.flush()).map_err(|e| io_error(&name, e))?;
    out.finish()
}
