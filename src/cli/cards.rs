//! The rate cards `--rates` names: wabill's dated CSV, or Meta's list-rate card as Meta
//! publishes it (`FILE@DATE`, or `--rates-effective DATE`, says from when it applies; a
//! currency after a second `@` says which its `$` tokens are). Several files make one card.

use std::io::Read;
use std::path::PathBuf;
use std::str::FromStr;

use chrono::NaiveDate;
use wabill::{Currency, Error, Markets, RateCard};

use super::{io_error, open};

/// One `--rates` value: `FILE`, `FILE@DATE` or `FILE@DATE@CURRENCY`.
#[derive(Debug, Clone)]
pub(super) struct CardFile {
    pub(super) path: PathBuf,
    date: Option<NaiveDate>,
    currency: Option<Currency>,
}

impl FromStr for CardFile {
    type Err = String;
    fn from_str(s: &str) -> Result<CardFile, String> {
        let mut path = s;
        let (mut date, mut currency) = (None, None);
        // From the right, as long as the parts read as a currency, then a date.
        if let Some((rest, tail)) = path.rsplit_once('@') {
            if let Ok(c) = tail.parse::<Currency>() {
                currency = Some(c);
                path = rest;
            }
        }
        if let Some((rest, tail)) = path.rsplit_once('@') {
            if let Ok(d) = tail.parse::<NaiveDate>() {
                date = Some(d);
                path = rest;
            }
        }
        if currency.is_some() && date.is_none() {
            return Err(format!("{s}: a currency after @ comes after a date (FILE@DATE@CURRENCY)"));
        }
        Ok(CardFile { path: PathBuf::from(path), date, currency })
    }
}

/// The card of all the files, each read as its first line tells (wabill's CSV or Meta's
/// list-rate card), merged.
pub(super) fn load(
    files: &[CardFile],
    effective: Option<NaiveDate>,
    markets: &Markets,
) -> Result<RateCard, Error> {
    let mut card = RateCard::default();
    for f in files {
        let name = f.path.display().to_string();
        let mut bytes = Vec::new();
        open(&name)?.read_to_end(&mut bytes).map_err(|e| io_error(&f.path, e))?;
        let date = f.date.or(effective).filter(|_| f.date.is_some() || !RateCard::is_wabill_csv(&bytes));
        card = card.merge(RateCard::from_either(&bytes, &name, date, f.currency, markets)?)?;
    }
    Ok(card)
}
