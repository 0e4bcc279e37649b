//! A comparison of tariffs rendered as a table, CSV or JSON.

use std::io::{self, Write};

use rust_decimal::Decimal;

use super::render::{write_aligned, Render};
use crate::billing::compare::{cheapest, per, Comparison, Crossing};
use crate::domain::money::format_fixed;

impl Render for Comparison {
    /// An aligned table: per invoice, then totals, then the break-even levels.
    fn table(&self, out: &mut dyn Write) -> io::Result<()> {
        let minor = self.currency.minor_units();
        let money = |d: Decimal| format_fixed(d, minor);
        let mut header = vec!["invoice".to_string(), "month".to_string()];
        header.extend(self.tariffs.iter().cloned());
        header.extend(["cheapest", "difference"].map(String::from));
        let mut rows: Vec<Vec<String>> = Vec::new();
        for r in &self.invoices {
            let mut row = vec![r.unit.clone(), r.month.clone()];
            row.extend(r.amounts.iter().map(|a| money(*a)));
            row.extend([self.tariffs[r.cheapest].clone(), money(r.difference)]);
            rows.push(row);
        }
        let (lo, hi) = (
            self.totals.iter().min().copied().unwrap_or_default(),
            self.totals.iter().max().copied().unwrap_or_default(),
        );
        let mut total = vec!["total".to_string(), self.currency.to_string()];
        total.extend(self.totals.iter().map(|a| money(*a)));
        total.extend([self.tariffs[self.cheapest()].clone(), money(hi - lo)]);
        rows.push(total);
        let ratio = |f: &dyn Fn(usize) -> Option<Decimal>| -> Vec<String> {
            (0..self.tariffs.len()).map(|i| f(i).map_or_else(|| "-".into(), |d| format_fixed(d, 4))).collect()
        };
        let mut per_user = vec!["per active user".to_string(), String::new()];
        per_user.extend(ratio(&|i| self.per_active_user(i)));
        per_user.extend([String::new(), String::new()]);
        rows.push(per_user);
        let mut per_message = vec!["per delivered message".to_string(), String::new()];
        per_message.extend(ratio(&|i| self.per_delivered(i)));
        per_message.extend([String::new(), String::new()]);
        rows.push(per_message);
        write_aligned(out, &header, &rows, 2, |r| r[0] == "total")?;
        writeln!(out)?;
        let today = self.messages_per_user().map_or_else(|| "-".into(), |x| format_fixed(x, 2));
        writeln!(
            out,
            "{} messages, {} delivered, {} active users (summed over invoices): {today} messages per active user",
            self.messages, self.delivered, self.active_users
        )?;
        for be in &self.break_even {
            let (a, b) = (&self.tariffs[be.a], &self.tariffs[be.b]);
            match &be.crossing {
                Crossing::At(x) => writeln!(
                    out,
                    "{a} and {b} cost the same at {} messages per active user",
                    format_fixed(*x, 2)
                )?,
                Crossing::Never { cheaper } => writeln!(
                    out,
                    "{a} and {b} never cost the same from 0.01x to 100x this traffic: {} is cheaper",
                    self.tariffs[*cheaper]
                )?,
                Crossing::Always => writeln!(out, "{a} and {b} cost the same at every traffic level")?,
            }
        }
        Ok(())
    }

    /// The comparison as JSON (money as strings).
    fn json(&self) -> io::Result<serde_json::Value> {
        let minor = self.currency.minor_units();
        let money = |d: Decimal| format_fixed(d, minor);
        let invoices: Vec<serde_json::Value> = self
            .invoices
            .iter()
            .map(|r| {
                let by_tariff = |f: &dyn Fn(Decimal) -> serde_json::Value| -> serde_json::Map<String, serde_json::Value> {
                    self.tariffs.iter().zip(&r.amounts).map(|(t, a)| (t.clone(), f(*a))).collect()
                };
                serde_json::json!({
                    "invoice": r.unit,
                    "month": r.month,
                    "amounts": by_tariff(&|a| money(a).into()),
                    "per_active_user": by_tariff(&|a| per(a, r.active_users).map(|d| format_fixed(d, 4)).into()),
                    "per_delivered_message": by_tariff(&|a| per(a, r.delivered).map(|d| format_fixed(d, 4)).into()),
                    "cheapest": self.tariffs[r.cheapest],
                    "difference": money(r.difference),
                    "active_users": r.active_users,
                    "delivered": r.delivered,
                })
            })
            .collect();
        let totals: Vec<serde_json::Value> = (0..self.tariffs.len())
            .map(|i| {
                serde_json::json!({
                    "tariff": self.tariffs[i],
                    "total": money(self.totals[i]),
                    "per_active_user": self.per_active_user(i).map(|d| format_fixed(d, 4)),
                    "per_delivered_message": self.per_delivered(i).map(|d| format_fixed(d, 4)),
                })
            })
            .collect();
        let break_even: Vec<serde_json::Value> = self
            .break_even
            .iter()
            .map(|be| {
                let (at, cheaper) = match &be.crossing {
                    Crossing::At(x) => (Some(format_fixed(*x, 2)), None),
                    Crossing::Never { cheaper } => (None, Some(self.tariffs[*cheaper].clone())),
                    Crossing::Always => (None, None),
                };
                serde_json::json!({
                    "a": self.tariffs[be.a],
                    "b": self.tariffs[be.b],
                    "messages_per_active_user": at,
                    "always_cheaper": cheaper,
                    "always_equal": be.crossing == Crossing::Always,
                })
            })
            .collect();
        Ok(serde_json::json!({
            "currency": self.currency.code(),
            "cheapest": self.tariffs[self.cheapest()],
            "invoices": invoices,
            "totals": totals,
            "messages": self.messages,
            "delivered": self.delivered,
            "active_users": self.active_users,
            "messages_per_active_user": self.messages_per_user().map(|x| format_fixed(x, 2)),
            "break_even": break_even,
        }))
    }

    /// The per-invoice comparison as CSV: one row per invoice and tariff, then the totals.
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
            "difference_to_cheapest",
            "per_active_user",
            "per_delivered_message",
        ])?;
        type CsvRow<'a> = (String, String, &'a [Decimal], u64, u64);
        let mut rows: Vec<CsvRow> = self
            .invoices
            .iter()
            .map(|r| (r.unit.clone(), r.month.clone(), &r.amounts[..], r.active_users, r.delivered))
            .collect();
        rows.push(("total".into(), String::new(), &self.totals[..], self.active_users, self.delivered));
        let ratio = |a: Decimal, n: u64| per(a, n).map(|d| format_fixed(d, 4)).unwrap_or_default();
        for (unit, month, amounts, users, delivered) in rows {
            let best = cheapest(amounts);
            for (i, a) in amounts.iter().enumerate() {
                w.write_record([
                    unit.as_str(),
                    month.as_str(),
                    &self.tariffs[i],
                    self.currency.code(),
                    &format_fixed(*a, minor),
                    if i == best { "yes" } else { "no" },
                    &format_fixed(*a - amounts[best], minor),
                    &ratio(*a, users),
                    &ratio(*a, delivered),
                ])?;
            }
        }
        w.flush()?;
        Ok(())
    }
}
