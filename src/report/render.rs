//! One way to render every tabular output (the summary, invoices, a comparison): as an aligned
//! table for a person, as CSV through the csv crate, or as JSON with money as strings. A type
//! implements [`Render`]; a new format is one more method here and one file beside.

use std::io::{self, Write};

use crate::domain::event::named_enum;

named_enum! {
    /// How a tabular output is rendered.
    pub enum Format ("format") { Table = "table", Csv = "csv", Json = "json" }
}

/// A tabular output that renders as a table, CSV or JSON.
pub trait Render {
    /// Writes an aligned table, for a person to read.
    fn table(&self, out: &mut dyn Write) -> io::Result<()>;
    /// Writes CSV, exact values, a header row first.
    fn csv(&self, out: &mut dyn Write) -> io::Result<()>;
    /// The value as JSON, money as strings.
    fn json(&self) -> io::Result<serde_json::Value>;

    /// Writes the output in `format` (JSON pretty-printed, with a final line break).
    fn render(&self, format: Format, out: &mut dyn Write) -> io::Result<()> {
        match format {
            Format::Table => self.table(out),
            Format::Csv => self.csv(out),
            Format::Json => {
                serde_json::to_writer_pretty(&mut *out, &self.json()?)?;
                writeln!(out)
            }
        }
    }
}

/// Writes rows as an aligned table: the header and a rule, then the rows, the columns in
/// `numeric` aligned right. A total row gets a rule above it and a blank line below
/// (unless it is the last).
pub(crate) fn write_aligned(
    out: &mut dyn Write,
    header: &[String],
    rows: &[Vec<String>],
    numeric: std::ops::Range<usize>,
    is_total: impl Fn(&[String]) -> bool,
) -> io::Result<()> {
    let rows: Vec<(RowKind, &[String])> = rows
        .iter()
        .map(|r| (if is_total(r) { RowKind::Total } else { RowKind::Plain }, r.as_slice()))
        .collect();
    write_rows(out, header, &rows, numeric)
}

/// What a row of an aligned table is, which says how it is set apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RowKind {
    /// A row of figures.
    Plain,
    /// The sum of the rows above it since the previous subtotal or total: a blank line follows
    /// it (unless a total does).
    Subtotal,
    /// A grand total: a rule above it, a blank line below (unless it is the last).
    Total,
}

/// [`write_aligned`] with each row's kind given.
pub(crate) fn write_rows(
    out: &mut dyn Write,
    header: &[String],
    rows: &[(RowKind, &[String])],
    numeric: std::ops::Range<usize>,
) -> io::Result<()> {
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            std::iter::once(header)
                .chain(rows.iter().map(|(_, r)| *r))
                .map(|r| r[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let rule = widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>().join("  ");
    let print = |out: &mut dyn Write, row: &[String]| {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (v, w))| if numeric.contains(&i) { format!("{v:>w$}") } else { format!("{v:<w$}") })
            .collect();
        writeln!(out, "{}", cells.join("  ").trim_end())
    };
    print(out, header)?;
    writeln!(out, "{rule}")?;
    for (n, (kind, row)) in rows.iter().enumerate() {
        let next = rows.get(n + 1).map(|(k, _)| *k);
        match kind {
            RowKind::Plain => print(out, row)?,
            RowKind::Subtotal => {
                print(out, row)?;
                if next.is_some_and(|k| k != RowKind::Total) {
                    writeln!(out)?;
                }
            }
            RowKind::Total => {
                writeln!(out, "{rule}")?;
                print(out, row)?;
                if next.is_some() {
                    writeln!(out)?;
                }
            }
        }
    }
    Ok(())
}
