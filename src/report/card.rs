//! A rate card's figures rendered as a table, CSV or JSON (`wabill rates`): one row per band
//! of each price, with the date it takes effect, its source and whether it is verified. The
//! CSV is wabill's own dated card (docs/rules.md §5), with a `verified` column more unless it
//! is to be read back as a card (`wabill rates import`).

use std::io::{self, Write};

use chrono::NaiveDate;

use super::render::{write_aligned, Render};
use crate::domain::money::{format_amount, Currency};
use crate::pricebook::ratecard::{Price, RateCategory};

/// Prices of a card, as `RateCard::prices` or `RateCard::in_force_on` give
/// them, to render.
pub struct CardFigures<'a> {
    /// Currency, market, category, the date each takes effect, and the price.
    pub prices: Vec<(Currency, &'a str, RateCategory, NaiveDate, &'a Price)>,
    /// Whether the CSV has the `verified` column: without it, it is exactly wabill's card.
    pub verified_column: bool,
}

/// The columns of the CSV: wabill's card, and whether each figure is verified.
const COLUMNS: [&str; 9] = [
    "effective_from",
    "currency",
    "market",
    "category",
    "rate",
    "tier_from",
    "tier_to",
    "source",
    "verified",
];

impl CardFigures<'_> {
    /// One row a band: the columns of [`COLUMNS`].
    fn rows(&self) -> Vec<[String; 9]> {
        let mut rows = Vec::new();
        for (currency, market, category, from, price) in &self.prices {
            for band in price.bands() {
                let (tier_from, tier_to) = match (price.is_tiered(), band.to) {
                    (false, _) => (String::new(), String::new()),
                    (true, Some(to)) => (band.from.to_string(), to.to_string()),
                    (true, None) => (band.from.to_string(), "MAX".into()),
                };
                rows.push([
                    from.to_string(),
                    currency.to_string(),
                    market.to_string(),
                    category.to_string(),
                    format_amount(band.rate, 0),
                    tier_from,
                    tier_to,
                    price.source().to_string(),
                    price.verified().to_string(),
                ]);
            }
        }
        rows
    }
}

impl Render for CardFigures<'_> {
    fn table(&self, out: &mut dyn Write) -> io::Result<()> {
        let rows = self.rows();
        if rows.is_empty() {
            return writeln!(out, "(no rates)");
        }
        let header = ["from", "currency", "market", "category", "rate", "tier", "source", "verified"]
            .map(String::from);
        let rows: Vec<Vec<String>> = rows
            .into_iter()
            .map(|[from, cur, market, cat, rate, tf, tt, source, verified]| {
                let tier = if tf.is_empty() { String::new() } else { format!("{tf}:{tt}") };
                vec![from, cur, market, cat, rate, tier, source, verified]
            })
            .collect();
        write_aligned(out, &header, &rows, 4..5, |_| false)
    }

    fn csv(&self, out: &mut dyn Write) -> io::Result<()> {
        let n = if self.verified_column { COLUMNS.len() } else { COLUMNS.len() - 1 };
        let mut w = csv::Writer::from_writer(out);
        w.write_record(&COLUMNS[..n])?;
        for row in self.rows() {
            w.write_record(&row[..n])?;
        }
        w.flush()
    }

    fn json(&self) -> io::Result<serde_json::Value> {
        let rows: Vec<serde_json::Value> = self
            .rows()
            .into_iter()
            .map(|row| {
                let mut o = serde_json::Map::new();
                for (k, v) in COLUMNS.iter().zip(row) {
                    let v = match *k {
                        "verified" => serde_json::Value::Bool(v == "true"),
                        _ if v.is_empty() => serde_json::Value::Null,
                        _ => v.into(),
                    };
                    o.insert(k.to_string(), v);
                }
                serde_json::Value::Object(o)
            })
            .collect();
        Ok(serde_json::Value::Array(rows))
    }
}
