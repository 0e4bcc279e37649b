//! Money: currencies, exact amounts, rounding to the minor unit, fixed formatting.
//!
//! Every amount is a [`Decimal`]. Line charges stay exact; invoice lines are rounded to the
//! currency's ISO 4217 minor unit, half away from zero ([`Currency::round`]). Sums that could
//! grow without bound use [`checked_add`], which reports overflow instead of panicking.

use std::fmt;

use rust_decimal::{Decimal, RoundingStrategy};

use crate::domain::error::Problem;

/// An ISO 4217 currency code, e.g. `USD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

impl Currency {
    /// The US dollar, the default currency of a WABA.
    pub const USD: Currency = Currency(*b"USD");

    /// The code's three bytes as one number.
    pub(crate) fn as_u32(&self) -> u32 {
        u32::from_le_bytes([self.0[0], self.0[1], self.0[2], 0])
    }

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

crate::domain::error::from_str_by_parse_text!(Currency);

impl Currency {
    /// Reads the value from its text, or says what is wrong with it.
    pub(crate) fn parse_text(s: &str) -> Result<Currency, Problem> {
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
        f.pad(self.code())
    }
}

/// An ISO 3166-1 alpha-2 country code, e.g. `FR`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Country([u8; 2]);

impl Country {
    /// The code's two bytes as one number.
    pub(crate) fn as_u16(&self) -> u16 {
        u16::from_le_bytes(self.0)
    }

    /// The country whose [`Country::as_u16`] is `n`.
    pub(crate) fn from_u16(n: u16) -> Country {
        Country(n.to_le_bytes())
    }

    /// The ISO 3166-1 alpha-2 code, e.g. `FR`.
    pub fn code(&self) -> &str {
        std::str::from_utf8(&self.0).expect("country codes are ASCII")
    }
}

crate::domain::error::from_str_by_parse_text!(Country);

impl Country {
    /// Reads the value from its text, or says what is wrong with it.
    pub(crate) fn parse_text(s: &str) -> Result<Country, Problem> {
        let b = s.trim().as_bytes();
        let code = match b {
            [a, b] => [a.to_ascii_uppercase(), b.to_ascii_uppercase()],
            _ => [0, 0],
        };
        if ISO_3166.binary_search(&code).is_ok() {
            Ok(Country(code))
        } else {
            Err(Problem::column("country", "not an ISO 3166-1 alpha-2 country code", s))
        }
    }
}

impl fmt::Display for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.code())
    }
}

/// The ISO 3166-1 alpha-2 codes, sorted, and `XK` (Kosovo, user-assigned but in general use).
const ISO_3166: [[u8; 2]; 250] = [
    *b"AD", *b"AE", *b"AF", *b"AG", *b"AI", *b"AL", *b"AM", *b"AO", *b"AQ", *b"AR", *b"AS", *b"AT", *b"AU",
    *b"AW", *b"AX", *b"AZ", *b"BA", *b"BB", *b"BD", *b"BE", *b"BF", *b"BG", *b"BH", *b"BI", *b"BJ", *b"BL",
    *b"BM", *b"BN", *b"BO", *b"BQ", *b"BR", *b"BS", *b"BT", *b"BV", *b"BW", *b"BY", *b"BZ", *b"CA", *b"CC",
    *b"CD", *b"CF", *b"CG", *b"CH", *b"CI", *b"CK", *b"CL", *b"CM", *b"CN", *b"CO", *b"CR", *b"CU", *b"CV",
    *b"CW", *b"CX", *b"CY", *b"CZ", *b"DE", *b"DJ", *b"DK", *b"DM", *b"DO", *b"DZ", *b"EC", *b"EE", *b"EG",
    *b"EH", *b"ER", *b"ES", *b"ET", *b"FI", *b"FJ", *b"FK", *b"FM", *b"FO", *b"FR", *b"GA", *b"GB", *b"GD",
    *b"GE", *b"GF", *b"GG", *b"GH", *b"GI", *b"GL", *b"GM", *b"GN", *b"GP", *b"GQ", *b"GR", *b"GS", *b"GT",
    *b"GU", *b"GW", *b"GY", *b"HK", *b"HM", *b"HN", *b"HR", *b"HT", *b"HU", *b"ID", *b"IE", *b"IL", *b"IM",
    *b"IN", *b"IO", *b"IQ", *b"IR", *b"IS", *b"IT", *b"JE", *b"JM", *b"JO", *b"JP", *b"KE", *b"KG", *b"KH",
    *b"KI", *b"KM", *b"KN", *b"KP", *b"KR", *b"KW", *b"KY", *b"KZ", *b"LA", *b"LB", *b"LC", *b"LI", *b"LK",
    *b"LR", *b"LS", *b"LT", *b"LU", *b"LV", *b"LY", *b"MA", *b"MC", *b"MD", *b"ME", *b"MF", *b"MG", *b"MH",
    *b"MK", *b"ML", *b"MM", *b"MN", *b"MO", *b"MP", *b"MQ", *b"MR", *b"MS", *b"MT", *b"MU", *b"MV", *b"MW",
    *b"MX", *b"MY", *b"MZ", *b"NA", *b"NC", *b"NE", *b"NF", *b"NG", *b"NI", *b"NL", *b"NO", *b"NP", *b"NR",
    *b"NU", *b"NZ", *b"OM", *b"PA", *b"PE", *b"PF", *b"PG", *b"PH", *b"PK", *b"PL", *b"PM", *b"PN", *b"PR",
    *b"PS", *b"PT", *b"PW", *b"PY", *b"QA", *b"RE", *b"RO", *b"RS", *b"RU", *b"RW", *b"SA", *b"SB", *b"SC",
    *b"SD", *b"SE", *b"SG", *b"SH", *b"SI", *b"SJ", *b"SK", *b"SL", *b"SM", *b"SN", *b"SO", *b"SR", *b"SS",
    *b"ST", *b"SV", *b"SX", *b"SY", *b"SZ", *b"TC", *b"TD", *b"TF", *b"TG", *b"TH", *b"TJ", *b"TK", *b"TL",
    *b"TM", *b"TN", *b"TO", *b"TR", *b"TT", *b"TV", *b"TW", *b"TZ", *b"UA", *b"UG", *b"UM", *b"US", *b"UY",
    *b"UZ", *b"VA", *b"VC", *b"VE", *b"VG", *b"VI", *b"VN", *b"VU", *b"WF", *b"WS", *b"XK", *b"YE", *b"YT",
    *b"ZA", *b"ZM", *b"ZW",
];

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
    let mut out = String::new();
    write_amount(&mut out, amount, min_scale);
    out
}

/// [`format_amount`] appended to `out` (no allocation of its own, for per-line output).
pub fn write_amount(out: &mut String, amount: Decimal, min_scale: u32) {
    use fmt::Write as _;
    let mut n = amount.normalize();
    if n.scale() < min_scale {
        n.rescale(min_scale);
    }
    write!(out, "{n}").expect("writing to a String");
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

    #[test]
    fn codes_honour_width_and_alignment() {
        assert_eq!(format!("[{:>5}|{:<3}]", Currency::USD, "FR".parse::<Country>().unwrap()), "[  USD|FR ]");
    }

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
            "rate: must not be negative (-0.01)"
        );
        assert_eq!(
            parse_amount("rate", "1e-3").unwrap_err().to_string(),
            "rate: not a decimal number (1e-3)"
        );
        assert!(parse_amount("rate", ".").is_err());
        assert!(parse_amount("rate", "").is_err());
    }

    #[test]
    fn countries_are_iso_codes() {
        assert_eq!("fr".parse::<Country>().unwrap().code(), "FR");
        assert!(ISO_3166.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(
            "ZZ".parse::<Country>().unwrap_err().to_string(),
            "country: not an ISO 3166-1 alpha-2 country code (ZZ)"
        );
    }

    #[test]
    fn formatting_is_independent_of_spelling() {
        assert_eq!(format_amount(dec("0.0250"), 2), "0.025");
        assert_eq!(format_amount(dec("3"), 2), "3.00");
        assert_eq!(format_amount(dec("0"), 0), "0");
        assert_eq!(format_fixed(dec("0.5"), 4), "0.5000");
    }
}
