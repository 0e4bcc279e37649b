//! Invoices rendered as a table, CSV (docs/rules.md §8's columns and a description) or JSON.

use std::io::{self, Write};

use super::render::{write_aligned, Render};
use crate::billing::invoice::Invoice;
use crate::billing::tariff::Tariff;
use crate::domain::money::{format_amount, format_fixed};

/// A tariff's invoices, to render.
#[derive(Debug, Clone, Copy)]
pub struct Invoices<'a> {
    /// The tariff that made them.
    pub tariff: &'a Tariff,
    /// The invoices, in order.
    pub invoices: &'a [Invoice],
}

/// The columns of the invoice lines CSV (docs/rules.md §8, and a description).
const CSV_COLUMNS: [&str; 8] =
    ["invoice", "month", "currency", "part", "quantity", "unit_price", "amount", "description"];

impl Render for Invoices<'_> {
    /// Invoice lines as CSV, the total of each invoice being the sum of its lines.
    fn csv(&self, out: &mut dyn Write) -> io::Result<()> {
        let mut w = csv::Writer::from_writer(out);
        w.write_record(CSV_COLUMNS)?;
        for inv in self.invoices {
            let minor = inv.currency.minor_units();
            for l in &inv.lines {
                w.write_record([
                    &*inv.unit,
                    &inv.month.to_string(),
                    inv.currency.code(),
                    l.part.as_str(),
                    &format_amount(l.quantity, 0),
                    &l.unit_price.map(|p| format_amount(p, 0)).unwrap_or_default(),
                    &format_fixed(l.amount, minor),
                    &l.description,
                ])?;
            }
        }
        w.flush()
    }

    /// Invoices as JSON, with their tariff's name.
    fn json(&self) -> io::Result<serde_json::Value> {
        let invoices: Vec<serde_json::Value> = self
            .invoices
            .iter()
            .map(|inv| {
                let minor = inv.currency.minor_units();
                let lines: Vec<serde_json::Value> = inv
                    .lines
                    .iter()
                    .map(|l| {
                        serde_json::json!({
                            "part": l.part,
                            "description": l.description,
                            "quantity": format_amount(l.quantity, 0),
                            "unit_price": l.unit_price.map(|p| format_amount(p, 0)),
                            "amount": format_fixed(l.amount, minor),
                        })
                    })
                    .collect();
                serde_json::json!({
                    "invoice": &*inv.unit,
                    "month": inv.month,
                    "currency": inv.currency.code(),
                    "lines": lines,
                    "total": format_fixed(inv.total, minor),
                    "active_users": inv.active_users,
                    "messages": inv.messages,
                    "delivered": inv.delivered,
                })
            })
            .collect();
        Ok(serde_json::json!({ "tariff": self.tariff.name, "invoices": invoices }))
    }

    /// Invoices as an aligned table, a total under each invoice.
    fn table(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "Invoices of tariff \"{}\" ({})", self.tariff.name, self.tariff.currency)?;
        if self.invoices.is_empty() {
            return writeln!(out, "(no invoices)");
        }
        let header = ["invoice", "month", "part", "description", "quantity", "unit_price", "amount"]
            .map(String::from)
            .to_vec();
        let mut rows: Vec<Vec<String>> = Vec::new();
        for inv in self.invoices {
            let minor = inv.currency.minor_units();
            for l in &inv.lines {
                rows.push(vec![
                    inv.unit.to_string(),
                    inv.month.to_string(),
                    l.part.to_string(),
                    l.description.clone(),
                    format_amount(l.quantity, 0),
                    l.unit_price.map(|p| format_amount(p, 0)).unwrap_or_default(),
                    format_fixed(l.amount, minor),
                ]);
            }
            rows.push(vec![
                inv.unit.to_string(),
                inv.month.to_string(),
                "total".into(),
                String::new(),
                String::new(),
                inv.currency.to_string(),
                format_fixed(inv.total, minor),
            ]);
        }
        write_aligned(out, &header, &rows, 4..usize::MAX, |row| row[2] == "total")
    }
}
