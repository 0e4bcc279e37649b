//! A comparison of tariffs rendered as a table, CSV or JSON.
//!
//! Every rendering means the same by the same words: a tariff's amount `above cheapest` is
//! that amount less the cheapest tariff's amount for the same invoice (or in total), 0 for the
//! cheapest. The table's rows are invoices (a unit and a month) or tariffs, named in a column
//! of their own, so that no row label can be mistaken for a tariff's name (a tariff may be
//! named `total`); in CSV the totals' rows have an empty invoice and month, which no invoice
//! has; JSON lists each tariff's figures in an array, in the tariffs' order, each with its name.

use std::io::{self, Write};

use rust_decimal::Decimal;

use super::render::{write_aligned, Render};
use crate::billing::compare::{per, Comparison, Crossing};
use crate::domain::money::format_fixed;

impl Comparison {
    /// Why there is no comparison per invoice, when there is none.
    fn invoices_omitted(&self) -> Option<String> {
        self.units_differ().then(|| {
            let units: Vec<String> =
                self.tariffs.iter().zip(&self.invoice_by).map(|(t, u)| format!("{t} by {u}")).collect();
            format!("the tariffs invoice by different units ({})", units.join(", "))
        })
    }

    /// The sentence of one pair's break-even level.
    pub(super) fn break_even_line(&self, a: usize, b: usize, crossing: &Crossing) -> String {
        let (name_a, name_b) = (&self.tariffs[a], &self.tariffs[b]);
        match crossing {
            Crossing::At { level, below, above } => {
                let (level, above) = (format_fixed(*level, 2), &self.tariffs[*above]);
                let sides = match below {
                    Some(below) => format!("below, {} is cheaper; above, {above}", self.tariffs[*below]),
                    None => format!("below, they cost the same; above, {above} is cheaper"),
                };
                format!("{name_a} and {name_b} cost the same at {level} messages per active user: {sides}")
            }
            Crossing::Never { cheaper } => format!(
                "{name_a} and {name_b} never cost the same from 0.01x to 100x this traffic: {} is cheaper",
                self.tariffs[*cheaper]
            ),
            Crossing::Always => format!("{name_a} and {name_b} cost the same at every traffic level"),
        }
    }
}

impl Render for Comparison {
    /// Two aligned tables, per invoice (or why there is none) and per tariff, then the
    /// break-even levels.
    fn table(&self, out: &mut dyn Write) -> io::Result<()> {
        let minor = self.currency.minor_units();
        let money = |d: Decimal| format_fixed(d, minor);
        let ratio = |d: Option<Decimal>| d.map_or_else(|| "-".into(), |d| format_fixed(d, 4));
        match self.invoices_omitted() {
            Some(why) => writeln!(out, "no comparison per invoice: {why}")?,
            None => {
                let mut header = vec!["invoice".to_string(), "month".to_string()];
                header.extend(self.tariffs.iter().cloned());
                header.extend(["cheapest", "dearest above cheapest"].map(String::from));
                let rows: Vec<Vec<String>> = self
                    .invoices
                    .iter()
                    .map(|r| {
                        let mut row = vec![r.unit.clone(), r.month.clone()];
                        row.extend(r.amounts.iter().map(|a| money(*a)));
                        row.extend([self.tariffs[r.cheapest].clone(), money(r.dearest_above_cheapest())]);
                        row
                    })
                    .collect();
                write_aligned(out, &header, &rows, 2..usize::MAX, |_| false)?;
            }
        }
        writeln!(out)?;
        let header: Vec<String> = [
            "tariff".to_string(),
            format!("total ({})", self.currency),
            "above cheapest".to_string(),
            "per active user".to_string(),
            "per delivered message".to_string(),
        ]
        .into();
        let rows: Vec<Vec<String>> = (0..self.tariffs.len())
            .map(|i| {
                vec![
                    self.tariffs[i].clone(),
                    money(self.totals[i]),
                    money(self.above_cheapest(i)),
                    ratio(self.per_active_user(i)),
                    ratio(self.per_delivered(i)),
                ]
            })
            .collect();
        write_aligned(out, &header, &rows, 1..usize::MAX, |_| false)?;
        writeln!(out)?;
        let today = self.messages_per_user().map_or_else(|| "-".into(), |x| format_fixed(x, 2));
        writeln!(
            out,
            "{} messages, {} delivered, {} active users (summed over invoices): {today} messages per active user",
            self.messages, self.delivered, self.active_users
        )?;
        writeln!(out, "cheapest in total: {}", self.tariffs[self.cheapest()])?;
        for be in &self.break_even {
            writeln!(out, "{}", self.break_even_line(be.a, be.b, &be.crossing))?;
        }
        Ok(())
    }

    /// The comparison as JSON (money as strings).
    fn json(&self) -> io::Result<serde_json::Value> {
        let minor = self.currency.minor_units();
        let money = |d: Decimal| format_fixed(d, minor);
        let ratio = |d: Option<Decimal>| d.map(|d| format_fixed(d, 4));
        let invoices: Vec<serde_json::Value> = self
            .invoices
            .iter()
            .map(|r| {
                let tariffs: Vec<serde_json::Value> = (0..self.tariffs.len())
                    .map(|i| {
                        serde_json::json!({
                            "tariff": self.tariffs[i],
                            "amount": money(r.amounts[i]),
                            "cheapest": i == r.cheapest,
                            "above_cheapest": money(r.above_cheapest(i)),
                            "per_active_user": ratio(per(r.amounts[i], r.active_users)),
                            "per_delivered_message": ratio(per(r.amounts[i], r.delivered)),
                        })
                    })
                    .collect();
                serde_json::json!({
                    "invoice": r.unit,
                    "month": r.month,
                    "cheapest": self.tariffs[r.cheapest],
                    "dearest_above_cheapest": money(r.dearest_above_cheapest()),
                    "active_users": r.active_users,
                    "delivered": r.delivered,
                    "tariffs": tariffs,
                })
            })
            .collect();
        let totals: Vec<serde_json::Value> = (0..self.tariffs.len())
            .map(|i| {
                serde_json::json!({
                    "tariff": self.tariffs[i],
                    "invoice_by": self.invoice_by[i].to_string(),
                    "total": money(self.totals[i]),
                    "cheapest": i == self.cheapest(),
                    "above_cheapest": money(self.above_cheapest(i)),
                    "per_active_user": ratio(self.per_active_user(i)),
                    "per_delivered_message": ratio(self.per_delivered(i)),
                })
            })
            .collect();
        let break_even: Vec<serde_json::Value> = self
            .break_even
            .iter()
            .map(|be| {
                let name = |i: usize| self.tariffs[i].clone();
                let (at, below, above, cheaper) = match &be.crossing {
                    Crossing::At { level, below, above } => {
                        (Some(format_fixed(*level, 2)), below.map(name), Some(name(*above)), None)
                    }
                    Crossing::Never { cheaper } => (None, None, None, Some(name(*cheaper))),
                    Crossing::Always => (None, None, None, None),
                };
                serde_json::json!({
                    "a": self.tariffs[be.a],
                    "b": self.tariffs[be.b],
                    "messages_per_active_user": at,
                    "cheaper_below": below,
                    "cheaper_above": above,
                    "always_cheaper": cheaper,
                    "always_equal": be.crossing == Crossing::Always,
                    "text": self.break_even_line(be.a, be.b, &be.crossing),
                })
            })
            .collect();
        Ok(serde_json::json!({
            "currency": self.currency.code(),
            "cheapest": self.tariffs[self.cheapest()],
            "invoices": invoices,
            "invoices_omitted": self.invoices_omitted(),
            "totals": totals,
            "messages": self.messages,
            "delivered": self.delivered,
            "active_users": self.active_users,
            "messages_per_active_user": self.messages_per_user().map(|x| format_fixed(x, 2)),
            "break_even": break_even,
        }))
    }

    /// The comparison as CSV: one row per invoice and tariff, then one per tariff for the
    /// totals (invoice and month empty).
    fn csv(&self, out: &mut dyn Write) -> io::Result<()> {
        let minor = self.currency.minor_units();
        let mut w = csv::Writer::from_writer(out);
        w.write_record([
            "invoice",
            "month",
            "tariff",
            "currency",
            "amount",
            "cheapest",
            "above_cheapest",
            "per_active_user",
            "per_delivered_message",
        ])?;
        let ratio = |a: Decimal, n: u64| per(a, n).map(|d| format_fixed(d, 4)).unwrap_or_default();
        let yes = |b: bool| if b { "yes" } else { "no" };
        for r in &self.invoices {
            for (i, a) in r.amounts.iter().enumerate() {
                w.write_record([
                    r.unit.as_str(),
                    r.month.as_str(),
                    &self.tariffs[i],
                    self.currency.code(),
                    &format_fixed(*a, minor),
                    yes(i == r.cheapest),
                    &format_fixed(r.above_cheapest(i), minor),
                    &ratio(*a, r.active_users),
                    &ratio(*a, r.delivered),
                ])?;
            }
        }
        for (i, a) in self.totals.iter().enumerate() {
            w.write_record([
                "",
                "",
                &self.tariffs[i],
                self.currency.code(),
                &format_fixed(*a, minor),
                yes(i == self.cheapest()),
                &format_fixed(self.above_cheapest(i), minor),
                &ratio(*a, self.active_users),
                &ratio(*a, self.delivered),
            ])?;
        }
        w.flush()?;
        Ok(())
    }
}
