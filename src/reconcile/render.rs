//! A reconciliation rendered as a table, CSV or JSON.
//!
//! Every rendering says the same: the counts of the messages compared, the money each side
//! implies, and the rows of a bucket table. Its rows are, first, the messages compared by the
//! words of each side's verdict (source `messages`, over the span of the messages), then every
//! bucket of every analytics response, Meta's and wabill's figures side by side.

use std::io::{self, Write};

use chrono::DateTime;
use rust_decimal::Decimal;
use serde_json::json;

use super::analytics::upper;
use super::words::pmp_word;
use super::{Bucket, Reconciliation, Source, DIMENSIONS};
use crate::domain::event::PricingType;
use crate::domain::money::format_amount;
use crate::domain::time::rfc3339;
use crate::report::render::{write_aligned, Render};

/// The columns of a bucket row, in CSV.
const COLUMNS: [&str; 18] = [
    "source",
    "waba",
    "start",
    "end",
    "country",
    "phone",
    "type",
    "category",
    "direction",
    "tier",
    "currency",
    "wabill_volume",
    "meta_volume",
    "wabill_cost",
    "meta_cost",
    "volume_agrees",
    "cost_agrees",
    "note",
];

/// A pricing type as Meta's analytics write it (empty for none).
fn type_word(t: Option<PricingType>) -> String {
    t.map_or_else(String::new, |t| pmp_word(t).map_or_else(|| t.as_str().to_ascii_uppercase(), String::from))
}

fn time(t: i64) -> String {
    DateTime::from_timestamp(t, 0).map_or_else(|| t.to_string(), rfc3339)
}

fn cost(c: Option<Decimal>) -> String {
    c.map_or_else(String::new, |c| format_amount(c, 2))
}

impl Reconciliation {
    /// The rows of the bucket table: the messages compared by the words of each side's verdict
    /// ([`Reconciliation::tally`], source `messages`, over the span of the messages), then
    /// [`Reconciliation::buckets`].
    pub fn rows(&self) -> Vec<Bucket> {
        let (start, end) = self.span.map_or((0, 0), |(s, e)| (s.timestamp(), e.timestamp() + 1));
        let mut rows: Vec<Bucket> = self
            .tally()
            .map(|(t, c, currency, w, m)| Bucket {
                source: super::Source::Messages,
                waba: None,
                file: None,
                start,
                end,
                dims: [String::new(), String::new(), type_word(t), upper(c), String::new(), String::new()],
                wabill: *w,
                meta: *m,
                currency: Some(currency),
                volume_agrees: w.volume == m.volume,
                cost_agrees: w.cost.unwrap_or_default() == m.cost.unwrap_or_default(),
                note: String::new(),
            })
            .collect();
        rows.extend(self.buckets.iter().cloned());
        rows
    }

    fn cells(b: &Bucket) -> Vec<String> {
        let waba = b.waba.clone().unwrap_or_default();
        let mut row = vec![b.source.to_string(), waba, time(b.start), time(b.end)];
        row.extend(b.dims.iter().cloned());
        row.extend([
            b.currency.map_or_else(String::new, |c| c.to_string()),
            b.wabill.volume.to_string(),
            b.meta.volume.to_string(),
            cost(b.wabill.cost),
            cost(b.meta.cost),
            b.volume_agrees.to_string(),
            b.cost_agrees.to_string(),
            b.note.clone(),
        ]);
        row
    }

    fn summary_lines(&self) -> Vec<String> {
        let m = &self.messages;
        let mut lines = vec![format!("messages with Meta's verdict: {}", m.compared)];
        lines.push(format!("  agree: {}", m.agree));
        lines.push(format!("  disagree: {}", m.disagreements()));
        for (kind, n) in &m.disagree {
            lines.push(format!("    {kind}: {n}"));
        }
        lines.push(format!("delivered messages without Meta's verdict: {}", m.without_verdict));
        lines
    }
}

impl Render for Reconciliation {
    fn table(&self, out: &mut dyn Write) -> io::Result<()> {
        for line in self.summary_lines() {
            writeln!(out, "{line}")?;
        }
        if !self.money.is_empty() {
            writeln!(out)?;
            let header =
                ["currency", "wabill", "Meta", "difference", "wabill, without verdict"].map(String::from);
            let rows: Vec<Vec<String>> = self
                .money
                .iter()
                .map(|m| {
                    let minor = m.currency.minor_units();
                    vec![
                        m.currency.to_string(),
                        format_amount(m.wabill, minor),
                        format_amount(m.meta, minor),
                        format_amount(m.meta - m.wabill, minor),
                        format_amount(m.without_verdict, minor),
                    ]
                })
                .collect();
            write_aligned(out, &header, &rows, 1..usize::MAX, |_| false)?;
        }
        let rows = self.rows();
        if rows.is_empty() {
            return Ok(());
        }
        writeln!(out)?;
        fn differ(b: &&Bucket) -> bool {
            !(b.volume_agrees && b.cost_agrees)
        }
        let messages: Vec<&Bucket> = rows.iter().filter(|b| b.source == Source::Messages).collect();
        if !messages.is_empty() {
            let n = messages.iter().filter(|b| differ(b)).count();
            let span =
                self.span.map_or_else(String::new, |(a, b)| format!(" ({} to {})", rfc3339(a), rfc3339(b)));
            writeln!(out, "messages by each side's words{span}: {} rows, {n} differ", messages.len())?;
        }
        for (file, outside) in &self.analytics {
            let of = |b: &&Bucket| b.file.as_deref() == Some(file.as_str());
            let (all, n) = (rows.iter().filter(of).count(), rows.iter().filter(of).filter(differ).count());
            let outside = match outside {
                0 => String::new(),
                n => format!("; {n} of wabill's lines outside its period, not compared"),
            };
            writeln!(out, "{file}: {all} buckets, {n} differ{outside}")?;
        }
        writeln!(out, "a bucket's costs agree within {}", self.tolerance)?;
        let shown: Vec<&Bucket> = rows.iter().filter(differ).collect();
        if shown.is_empty() {
            return Ok(());
        }
        // The rows that differ (CSV and JSON list every row), with the dimensions they use.
        let used: Vec<usize> =
            (0..DIMENSIONS.len()).filter(|&d| shown.iter().any(|b| !b.dims[d].is_empty())).collect();
        let mut header: Vec<String> = ["source", "start", "end"].map(String::from).to_vec();
        header.extend(used.iter().map(|&d| DIMENSIONS[d].to_string()));
        header
            .extend(["wabill", "Meta", "wabill cost", "Meta cost", "why they may differ"].map(String::from));
        let cells: Vec<Vec<String>> = shown
            .iter()
            .map(|b| {
                // The messages' rows span the log: the line above says when.
                let (start, end) = match b.source {
                    Source::Messages => (String::new(), String::new()),
                    _ => (time(b.start), time(b.end)),
                };
                let mut row = vec![b.source.to_string(), start, end];
                row.extend(used.iter().map(|&d| b.dims[d].clone()));
                row.extend([
                    b.wabill.volume.to_string(),
                    b.meta.volume.to_string(),
                    cost(b.wabill.cost),
                    cost(b.meta.cost),
                    b.note.clone(),
                ]);
                row
            })
            .collect();
        writeln!(out)?;
        let numeric = 3 + used.len()..3 + used.len() + 4;
        write_aligned(out, &header, &cells, numeric, |_| false)
    }

    fn csv(&self, out: &mut dyn Write) -> io::Result<()> {
        let mut w = csv::Writer::from_writer(out);
        w.write_record(COLUMNS)?;
        for b in self.rows() {
            w.write_record(Reconciliation::cells(&b))?;
        }
        w.flush()
    }

    fn json(&self) -> io::Result<serde_json::Value> {
        let m = &self.messages;
        let money: Vec<_> = self
            .money
            .iter()
            .map(|m| {
                json!({
                    "currency": m.currency.to_string(),
                    "wabill": m.wabill.normalize().to_string(),
                    "meta": m.meta.normalize().to_string(),
                    "difference": (m.meta - m.wabill).normalize().to_string(),
                    "wabill_without_verdict": m.without_verdict.normalize().to_string(),
                })
            })
            .collect();
        let rows: Vec<_> = self
            .rows()
            .iter()
            .map(|b| {
                let cells = Reconciliation::cells(b);
                let mut o = serde_json::Map::new();
                for (k, v) in COLUMNS.iter().zip(cells) {
                    let v = match *k {
                        "wabill_volume" | "meta_volume" => json!(v.parse::<u64>().unwrap_or(0)),
                        "volume_agrees" | "cost_agrees" => json!(v == "true"),
                        _ if v.is_empty() => serde_json::Value::Null,
                        _ => json!(v),
                    };
                    o.insert(k.to_string(), v);
                }
                serde_json::Value::Object(o)
            })
            .collect();
        let analytics: Vec<_> = self
            .analytics
            .iter()
            .map(|(file, outside)| json!({"file": file, "outside_period": outside}))
            .collect();
        Ok(json!({
            "agrees": self.agrees(),
            "messages": {
                "compared": m.compared,
                "agree": m.agree,
                "disagree": m.disagree.iter().map(|(k, n)| (k.to_string(), json!(n))).collect::<serde_json::Map<_, _>>(),
                "without_verdict": m.without_verdict,
            },
            "money": money,
            "tolerance": self.tolerance.to_string(),
            "analytics": analytics,
            "buckets": rows,
        }))
    }
}
