//! The rate cards `--rates` names: wabill's dated CSV, or Meta's list-rate card as Meta
//! publishes it (`FILE@DATE`, or `--rates-effective DATE`, says from when it applies; a
//! currency after a second `@` says which its `$` tokens are). Several files make one card.

use std::io::Read;
use std::path::PathBuf;
use std::str::FromStr;

use chrono::NaiveDate;
use clap::Args;
use wabill::{Currency, Error, Markets, RateCard};

use super::paths::Named;
use super::{io_error, open};

/// The rate cards and markets table a command prices with.
#[derive(Args)]
pub(super) struct BookArgs {
    /// Rate cards instead of the embedded one: wabill's dated CSV, or Meta's list-rate or tier
    /// card as published, CSV or XLSX (`FILE@DATE`: in force from DATE; `FILE@DATE@CURRENCY`
    /// when its tokens are a bare `$`). Give it once per file; the files make one card.
    #[arg(long, value_name = "FILE[@DATE]")]
    pub(super) rates: Vec<CardFile>,
    #[command(flatten)]
    pub(super) read: ReadArgs,
}

/// How Meta's files are read: from when, and the markets table.
#[derive(Args)]
pub(super) struct ReadArgs {
    /// The date from which Meta's files named without `@DATE` apply.
    #[arg(long, value_name = "DATE")]
    pub(super) rates_effective: Option<NaiveDate>,
    /// Markets table instead of the embedded one: wabill's dated CSV, or Meta's calling-code
    /// table (`FILE@DATE`).
    #[arg(long, value_name = "FILE[@DATE]")]
    pub(super) markets: Option<CardFile>,
}

impl BookArgs {
    /// The files it reads.
    pub(super) fn files(&self) -> impl Iterator<Item = Named<'_>> {
        self.rates.iter().map(|f| Named::new("--rates", &f.path)).chain(self.read.files())
    }

    /// The markets table and the card.
    pub(super) fn book(&self) -> Result<(Markets, RateCard), Error> {
        let markets = self.read.markets()?;
        let card = self.read.card(&self.rates, &markets)?;
        Ok((markets, card))
    }
}

impl ReadArgs {
    pub(super) fn files(&self) -> impl Iterator<Item = Named<'_>> {
        self.markets.iter().map(|f| Named::new("--markets", &f.path))
    }

    /// The markets table (none named: the embedded one).
    pub(super) fn markets(&self) -> Result<Markets, Error> {
        let Some(f) = &self.markets else { return Ok(Markets::embedded()) };
        let name = f.path.display().to_string();
        let mut bytes = Vec::new();
        open(&name)?.read_to_end(&mut bytes).map_err(|e| io_error(&f.path, e))?;
        Markets::from_either(&bytes, &name, f.date.or(self.rates_effective))
    }

    /// The card of the files (none: the embedded card).
    pub(super) fn card(&self, files: &[CardFile], markets: &Markets) -> Result<RateCard, Error> {
        if files.is_empty() {
            return Ok(RateCard::embedded());
        }
        load(files, self.rates_effective, markets)
    }
}

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
fn load(files: &[CardFile], effective: Option<NaiveDate>, markets: &Markets) -> Result<RateCard, Error> {
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
