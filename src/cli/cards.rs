//! The rate cards `--rates` names: wabill's dated CSV, or Meta's list-rate card as Meta
//! publishes it (`FILE@DATE`, or `--rates-effective DATE`, says from when it applies; a
//! currency after a second `@` says which its `$` tokens are). Several files make one card
//! ([`Setup::card`]).

use chrono::NaiveDate;
use clap::Args;
use wabill::log::{CardFile, Setup};

use super::paths::Named;

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

    /// The library's setup of these options.
    pub(super) fn setup(&self) -> Setup {
        self.read.setup(&self.rates)
    }
}

impl ReadArgs {
    pub(super) fn files(&self) -> impl Iterator<Item = Named<'_>> {
        self.markets.iter().map(|f| Named::new("--markets", &f.path))
    }

    /// The library's setup of these options and the card files.
    pub(super) fn setup(&self, files: &[CardFile]) -> Setup {
        let mut setup = Setup::default();
        setup.rates = files.to_vec();
        setup.rates_effective = self.rates_effective;
        setup.markets.clone_from(&self.markets);
        setup
    }
}
