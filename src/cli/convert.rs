//! `wabill convert`: webhook logs reduced to wabill's CSV log, one row per message, with Meta's
//! verdict in `meta_*` columns, so that a user can see and keep what was derived.

use std::io::{BufRead, BufReader};
use std::iter::Peekable;
use std::path::PathBuf;

use chrono::TimeDelta;
use clap::{Args, ValueEnum};
use wabill::log::{open_file, parse_duration, Setup, WebhookReader, WEBHOOK_COLUMNS as COLUMNS};
use wabill::Error;

use super::output::Output;
use super::{csv_io, io_error};

/// What `convert` writes.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(super) enum Target {
    /// wabill's CSV log (v1), with Meta's verdict in `meta_*` columns.
    Csv,
}

#[derive(Args)]
pub(super) struct ConvertArgs {
    /// Webhook logs: NDJSON (one notification, or one bare `value`, a line) or a JSON array.
    #[arg(required = true, value_name = "LOG")]
    pub(super) logs: Vec<PathBuf>,
    /// The format to write.
    #[arg(long, value_enum)]
    to: Target,
    /// Write there (default: stdout).
    #[arg(long, value_name = "FILE", default_value = "-")]
    pub(super) output: String,
    #[command(flatten)]
    pub(super) webhooks: WebhookArgs,
    /// Report bad documents and late statuses on stderr and go on, instead of stopping.
    #[arg(long)]
    skip_invalid: bool,
}

/// How webhook logs are read, for every command that reads them.
#[derive(Args)]
pub(super) struct WebhookArgs {
    /// Webhook logs: `id,category` of the messages the sender knows: a template category, or
    /// `service` for a non-template (wins over Meta's category).
    #[arg(long, value_name = "FILE")]
    pub(super) templates: Option<PathBuf>,
    /// Webhook logs: how long, in event time, a message may still receive statuses (`24h`,
    /// `90m`, `2d`).
    #[arg(long, value_name = "DURATION", default_value = "24h", value_parser = parse_duration)]
    reorder_window: TimeDelta,
}

impl WebhookArgs {
    /// These options set in the library's setup.
    pub(super) fn set(&self, setup: &mut Setup) {
        setup.templates.clone_from(&self.templates);
        setup.reorder_window = self.reorder_window;
    }
}

type Reader = WebhookReader<Box<dyn BufRead>>;

pub(super) fn convert(args: ConvertArgs) -> Result<(), Error> {
    let Target::Csv = args.to;
    let mut setup = Setup::default();
    args.webhooks.set(&mut setup);
    let options = setup.read_options()?.webhooks;
    let mut readers: Vec<Peekable<Reader>> = Vec::new();
    for log in &args.logs {
        let name = log.display().to_string();
        let input: Box<dyn BufRead> = Box::new(BufReader::new(open_file(&name)?));
        readers.push(WebhookReader::new(input, &name, options.clone()).peekable());
    }
    let mut out = Output::create(&args.output)?;
    let name = out.name();
    let mut w = csv::Writer::from_writer(&mut out);
    w.write_record(COLUMNS).map_err(|e| io_error(&name, csv_io(e)))?;
    let mut skipped = 0u64;
    // The logs merged by time (each reader gives its messages in time order), ties by order.
    loop {
        let next = readers
            .iter_mut()
            .enumerate()
            .filter_map(|(i, r)| match r.peek()? {
                Ok(m) => Some((Some(m.timestamp), i)),
                Err(_) => Some((None, i)),
            })
            .min();
        let Some((_, i)) = next else { break };
        match readers[i].next().expect("peeked") {
            Ok(m) => w.write_record(m.fields()).map_err(|e| io_error(&name, csv_io(e)))?,
            Err(e) if args.skip_invalid => {
                skipped += 1;
                eprintln!("wabill: skipped {e}");
            }
            Err(e) => return Err(e),
        }
    }
    w.flush().map_err(|e| io_error(&name, e))?;
    drop(w);
    if skipped > 0 {
        eprintln!("wabill: {skipped} problems skipped");
    }
    out.finish()
}
