//! Money: currencies, exact amounts, rounding to the minor unit, fixed formatting.
//!
//! Every amount is a [`Decimal`]. Line charges stay exact; invoice lines are rounded to the
//! currency's ISO 4217 minor unit, half away from zero ([`Currency::round`]). Sums that could
//! grow without bound use [`checked_add`], which reports overflow instead of panicking.

use std::fmt;
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};

use crate::error::Problem;

/// An ISO 4217 currency code, e.g. `USD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

impl Currency {
    pub const USD: Currency = Currency(*b"USD");

    /// The code, e.g. `"USD"`.
    pub fn code(&self) -> &str {
        std::str::from_utf8(&self.0).expect("currency codes are ASCII")
    }

    /// Digits after the decimal point of the currency's minor unit (ISO 4217).
    pub fn minor_units(&self) -> u32 {
        match &self.0 {
            b"BIF" | b"CLP" | b"DJF" | b"GNF" | b"ISK" | b"JPY" | b"KMF" | b"KRW" | b"PYG" | b"RWF"
            | b"UGX" | b"UYI" | b"VND" | b"VUV" | b"XAF" | b"XOF" | b"XPF" => 0,
            b"BHD" | b"IQD" | b"JOD" | b"KWD" | b"LYD" | b"OMR" | b"TND" => 3,
            b"CLF" | b"UYW" => 4,
            _ => 2,
        }
    }

    /// `amount` rounded to the minor unit, half away from zero, at exactly that scale.
    pub fn round(&self, amount: Decimal) -> Decimal {
        let mut r = amount.round_dp_with_strategy(self.minor_units(), RoundingStrategy::MidpointAwayFromZero);
        r.rescale(self.minor_units());
        r
    }
}

impl FromStr for Currency {
    type Err = Problem;
    fn from_str(s: &str) -> Result<Currency, Problem> {
        let b = s.trim().as_bytes();
        if b.len() == 3 && b.iter().all(u8::is_ascii_alphabetic) {
            Ok(Currency([b[0].to_ascii_uppercase(), b[1].to_ascii_uppercase(), b[2].to_ascii_uppercase()]))
        } else {
            Err(Problem::column("currency", "not an ISO 4217 currency code", s))
        }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// An ISO 3166-1 alpha-2 country code, e.g. `FR`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Country([u8; 2]);

impl Country {
    pub fn code(&self) -> &str {
        std::str::from_utf8(&self.0).expect("country codes are ASCII")
    }
}

impl FromStr for Country {
    type Err = Problem;
    fn from_str(s: &str) -> Result<Country, Problem> {
        let b = s.trim().as_bytes();
        if b.len() == 2 && b.iter().all(u8::is_ascii_alphabetic) {
            Ok(Country([b[0].to_ascii_uppercase(), b[1].to_ascii_uppercase()]))
        } else {
            Err(Problem::column("country", "not an ISO 3166-1 alpha-2 country code", s))
        }
    }
}

impl fmt::Display for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Parses an exact, non-negative decimal (a rate or a price). Refuses floats' spellings
/// (`1e-3`), signs other than none, and anything the exact parser would have to round.
pub fn parse_amount(column: &'static str, s: &str) -> Result<Decimal, Problem> {
    let t = s.trim();
    let plain = !t.is_empty()
        && t.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && t.bytes().filter(|&b| b == b'.').count() <= 1
        && t.bytes().any(|b| b.is_ascii_digit());
    if !plain {
        return Err(if t.starts_with('-') && Decimal::from_str_exact(t).is_ok() {
            Problem::column(column, "must not be negative", s)
        } else {
            Problem::column(column, "not a decimal number", s)
        });
    }
    Decimal::from_str_exact(t).map_err(|_| Problem::column(column, "not an exact decimal number", s))
}

/// `a + b`, or an error naming what was being summed.
pub fn checked_add(a: Decimal, b: Decimal, what: &dyn fmt::Display) -> Result<Decimal, Problem> {
    a.checked_add(b).ok_or_else(|| Problem::new(format!("amount overflows in {what}")))
}

/// Formats an exact amount with at least `min_scale` decimals and no needless trailing zeros
/// beyond them: `0.025` stays `0.025`, `3` in USD is `3.00`, `0.0250` is `0.025`.
pub fn format_amount(amount: Decimal, min_scale: u32) -> String {
    let mut n = amount.normalize();
    if n.scale() < min_scale {
        n.rescale(min_scale);
    }
    n.to_string()
}

/// Formats an amount at exactly `scale` decimals (for aligned tables).
pub fn format_fixed(amount: Decimal, scale: u32) -> String {
    let mut n = amount;
    n.rescale(scale);
    n.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str_exact(s).unwrap()
    }

    #[test]
    fn rounds_half_away_from_zero_to_minor_unit() {
        assert_eq!(Currency::USD.round(dec("0.125")), dec("0.13"));
        assert_eq!(Currency::USD.round(dec("0.124999")), dec("0.12"));
        let jpy: Currency = "jpy".parse().unwrap();
        assert_eq!(jpy.round(dec("2.5")), dec("3"));
        let kwd: Currency = "KWD".parse().unwrap();
        assert_eq!(kwd.round(dec("1.0005")), dec("1.001"));
    }

    #[test]
    fn amounts_parse_exactly_or_not_at_all() {
        assert_eq!(parse_amount("rate", "0.0250").unwrap(), dec("0.025"));
        assert_eq!(parse_amount("rate", " 3 ").unwrap(), dec("3"));
        assert_eq!(
            parse_amount("rate", "-0.01").unwrap_err().to_string(),
            "column rate: must not be negative (-0.01)"
        );
        assert_eq!(
            parse_amount("rate", "1e-3").unwrap_err().to_string(),
            "column rate: not a decimal number (1e-3)"
        );
        assert!(parse_amount("rate", ".").is_err());
        assert!(parse_amount("rate", "").is_err());
    }

    #[test]
    fn formatting_is_independent_of_spelling() {
        assert_eq!(format_amount(dec("0.0250"), 2), "0.025");
        assert_eq!(format_amount(dec("3"), 2), "3.00");
        assert_eq!(format_amount(dec("0"), 0), "0");
        assert_eq!(format_fixed(dec("0.5"), 4), "0.5000");
    }
}
