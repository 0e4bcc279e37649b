//! A summary of a run's rows: each priced line added with the values of the log's columns the
//! summary groups by (e.g. `campaign`), found in each log's header when the run begins.

use csv::StringRecord;

use crate::domain::error::Error;
use crate::engine::PricedLine;
use crate::io::pipeline::Row;
use crate::report::Summary;

/// A [`Summary`] fed from a [`Sink`](crate::io::pipeline::Sink): [`RowSummary::begin`] with the logs'
/// headers, then [`RowSummary::add`] for each priced row. A grouping by no column of the log
/// reads no field of a row.
#[derive(Debug, Clone)]
pub struct RowSummary {
    summary: Summary,
    /// Per log, where each column the summary groups by is in its rows (empty when it groups
    /// by none).
    columns_at: Vec<Vec<usize>>,
}

impl RowSummary {
    /// The summary fed by rows.
    pub fn new(summary: Summary) -> RowSummary {
        RowSummary { summary, columns_at: Vec::new() }
    }

    /// Finds the summary's columns in the header of each log (named `logs[n]` in messages, or
    /// `log N` past them); an error names a column a log lacks.
    pub fn begin(&mut self, headers: &[StringRecord], logs: &[String]) -> Result<(), Error> {
        if self.summary.columns().is_empty() {
            return Ok(());
        }
        let name = |n: usize| logs.get(n).map_or_else(|| format!("log {}", n + 1), Clone::clone);
        self.columns_at = headers
            .iter()
            .enumerate()
            .map(|(n, header)| self.summary.find_columns(header.iter(), &name(n)))
            .collect::<Result<_, Error>>()?;
        Ok(())
    }

    /// Adds a priced row; an error is placed at the row.
    pub fn add(&mut self, row: &Row, line: &PricedLine) -> Result<(), Error> {
        if self.columns_at.is_empty() {
            return self.summary.add(line).map_err(|p| p.at(row.position()));
        }
        let (record, at) = (row.record(), &self.columns_at[row.log()]);
        let values = at.iter().map(|&i| record.get(i).unwrap_or(""));
        self.summary.add_with_columns(line, values).map_err(|p| p.at(row.position()))
    }

    /// The summary so far.
    pub fn summary(&self) -> &Summary {
        &self.summary
    }

    /// The summary.
    pub fn into_summary(self) -> Summary {
        self.summary
    }
}
