//! Where `wabill price` and `compare` send what the library produces: the priced lines' and
//! rejected rows' files, the summary, the tariffs' billings.

use csv::StringRecord;
use wabill::billing::Billing;
use wabill::log::{Businesses, Counts, LinesWriter, RejectsWriter, Row, RowSummary, Sink};
use wabill::report::{Explainer, Summary, EXPLAIN_COLUMNS};
use wabill::{Error, Position, PricedLine};

use super::background::Background;
use super::output::Output;
use super::progress::Progress;
use super::{csv_io, io_error};

/// Where `wabill price` sends what the library produces.
pub(super) struct PriceSink {
    /// Where the priced lines go, until the logs' headers are known.
    pub(super) lines_to: Option<Output>,
    lines: Option<(Lines, String)>,
    pub(super) rejects_to: Option<Output>,
    rejects: Option<(RejectsWriter<Output>, String)>,
    /// Rejections reported on stderr when there is no rejects file.
    shown: u64,
    summary: RowSummary,
    /// The tariffs billed as the lines go (one for `price`, one each for `compare`).
    pub(super) billings: Vec<Billing>,
    buf: String,
    /// The businesses of the logs, each with its first row, in order of appearance.
    pub(super) businesses: Businesses,
    /// With `--explain`: each line's sentence and facts, as more columns of the lines.
    pub(super) explainer: Option<Explainer>,
    /// The logs' names as given, for messages.
    pub(super) logs: Vec<String>,
    /// Progress on a terminal, while the logs are priced.
    pub(super) progress: Option<Progress>,
}

/// The priced lines' writer: CSV, or Parquet for a file named `*.parquet`. One of them a run:
/// its size is no matter.
#[allow(clippy::large_enum_variant)]
enum Lines {
    Csv(LinesWriter<Background<Output>>),
    #[cfg(feature = "parquet")]
    Parquet(wabill::log::ParquetLinesWriter<Output>),
}

const SHOWN_REJECTIONS: u64 = 20;

impl Sink for PriceSink {
    fn begin(&mut self, headers: &[StringRecord]) -> Result<(), Error> {
        self.summary.begin(headers, &self.logs)?;
        if let Some(out) = self.lines_to.take() {
            let name = out.name();
            let fee: &[&str] = if self.billings.is_empty() { &[] } else { &["aggregator_fee"] };
            #[cfg(feature = "parquet")]
            if wabill::log::is_parquet(&name, &[]) {
                if self.explainer.is_some() {
                    let e = std::io::Error::other("--explain writes its sentences to CSV lines, not Parquet");
                    return Err(io_error(&name, e));
                }
                let w = wabill::log::ParquetLinesWriter::new(out, headers, fee)
                    .map_err(|e| io_error(&name, e))?;
                self.lines = Some((Lines::Parquet(w), name));
                return self.begin_rejects(headers);
            }
            let mut extra = fee.to_vec();
            if self.explainer.is_some() {
                extra.extend(EXPLAIN_COLUMNS);
            }
            let w = Lines::Csv(
                LinesWriter::new(Background::new(out), headers, &extra)
                    .map_err(|e| io_error(&name, csv_io(e)))?,
            );
            self.lines = Some((w, name));
        }
        self.begin_rejects(headers)
    }

    fn priced(&mut self, row: &Row, line: &PricedLine) -> Result<(), Error> {
        let mut fee = None;
        // The event, read from the row only when a tariff or an explanation needs it.
        let event = (!self.billings.is_empty() || self.explainer.is_some())
            .then(|| row.event().expect("a priced row has its event"));
        for b in &mut self.billings {
            let f = b.add(event.as_ref().expect("read for the tariffs"), line)?;
            fee.get_or_insert(f);
        }
        if let Some((Lines::Csv(w), name)) = &mut self.lines {
            self.buf.clear();
            if let Some(fee) = fee {
                std::fmt::Write::write_fmt(&mut self.buf, format_args!("{}", fee.normalize()))
                    .expect("writing to a String");
            }
            let fee: &[&str] = if self.billings.is_empty() { &[] } else { &[&self.buf] };
            match &mut self.explainer {
                None => w.write(row.log(), row.record(), line, fee),
                Some(explainer) => {
                    let event = event.as_ref().expect("read for the explanation");
                    let e = explainer.explain(event, line, &row.position());
                    let words =
                        std::iter::once(e.sentence.as_str()).chain(e.facts.iter().map(String::as_str));
                    let extra: Vec<&str> = fee.iter().copied().chain(words).collect();
                    w.write(row.log(), row.record(), line, &extra)
                }
            }
            .map_err(|e| io_error(&*name, csv_io(e)))?;
        }
        #[cfg(feature = "parquet")]
        if let Some((Lines::Parquet(w), name)) = &mut self.lines {
            let extra: &[Option<wabill::Decimal>] = if self.billings.is_empty() { &[] } else { &[fee] };
            w.write(row, line, extra)?.map_err(|e| io_error(&*name, e))?;
        }
        self.summary.add(row, line)
    }

    fn rejected(&mut self, row: &Row, error: &Error) -> Result<(), Error> {
        match &mut self.rejects {
            Some((w, name)) => w.write(row, error).map_err(|e| io_error(&*name, csv_io(e))),
            None => {
                self.shown += 1;
                if self.shown <= SHOWN_REJECTIONS {
                    eprintln!("wabill: skipped {error}");
                }
                Ok(())
            }
        }
    }

    fn business(&mut self, name: &str, first: Position) {
        self.businesses.add(name, first);
    }

    fn progress(&mut self, counts: &Counts) {
        if let Some(p) = &mut self.progress {
            p.update(counts);
        }
    }
}

impl PriceSink {
    fn begin_rejects(&mut self, headers: &[StringRecord]) -> Result<(), Error> {
        if let Some(out) = self.rejects_to.take() {
            let name = out.name();
            let w = RejectsWriter::new(out, headers).map_err(|e| io_error(&name, csv_io(e)))?;
            self.rejects = Some((w, name));
        }
        Ok(())
    }

    pub(super) fn new(summary: Summary, billings: Vec<Billing>) -> PriceSink {
        PriceSink {
            lines_to: None,
            lines: None,
            rejects_to: None,
            rejects: None,
            shown: 0,
            summary: RowSummary::new(summary),
            billings,
            buf: String::new(),
            businesses: Businesses::default(),
            explainer: None,
            logs: Vec::new(),
            progress: None,
        }
    }

    /// Completes the output files.
    pub(super) fn finish(self) -> Result<(Summary, Vec<Billing>), Error> {
        match self.lines {
            Some((Lines::Csv(w), name)) => {
                w.into_inner().and_then(Background::into_inner).map_err(|e| io_error(&name, e))?.finish()?
            }
            #[cfg(feature = "parquet")]
            Some((Lines::Parquet(w), name)) => w.into_inner().map_err(|e| io_error(&name, e))?.finish()?,
            None => {}
        }
        if let Some((w, name)) = self.rejects {
            w.into_inner().map_err(|e| io_error(&name, e))?.finish()?;
        }
        if self.shown > SHOWN_REJECTIONS {
            eprintln!(
                "wabill: … and {} more skipped rows (name a --rejects file to see them all)",
                self.shown - SHOWN_REJECTIONS
            );
        }
        Ok((self.summary.into_summary(), self.billings))
    }
}
