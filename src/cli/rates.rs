//! `wabill rates`: the card in force on a date (for a currency, a market), or every price of
//! Meta's files written as wabill's dated card (`wabill rates import`).

use chrono::NaiveDate;
use clap::{Args, Subcommand};
use wabill::report::{CardFigures, Format, Render};
use wabill::{Currency, Error, RateCategory, RuleSet};

use wabill::log::CardFile;

use super::cards::{BookArgs, ReadArgs};
use super::output::Output;
use super::{emit, io_error};

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(super) struct RatesArgs {
    #[command(subcommand)]
    pub(super) import: Option<Import>,
    /// The date whose card to show (default: every dated price).
    #[arg(long, value_name = "DATE")]
    date: Option<NaiveDate>,
    /// Only this currency's prices (ISO code, e.g. INR).
    #[arg(long, value_name = "CODE")]
    currency: Option<Currency>,
    /// Only this market's prices (as the markets table names it, e.g. India).
    #[arg(long, value_name = "NAME")]
    market: Option<String>,
    #[command(flatten)]
    pub(super) book: BookArgs,
    /// `table`, `csv` or `json`.
    #[arg(long, value_name = "FORMAT", default_value = "table")]
    format: Format,
}

#[derive(Subcommand)]
pub(super) enum Import {
    /// Write Meta's card files (`FILE@DATE`) as wabill's dated card CSV.
    Import {
        /// Meta's files (or wabill's cards), each `FILE@DATE`.
        #[arg(required = true, value_name = "FILE@DATE")]
        files: Vec<CardFile>,
        #[command(flatten)]
        read: ReadArgs,
        /// Write the card there (`-` for stdout).
        #[arg(long, value_name = "FILE")]
        out: String,
    },
}

pub(super) fn rates(args: RatesArgs) -> Result<(), Error> {
    if let Some(Import::Import { files, read, out }) = args.import {
        let setup = read.setup(&files);
        let card = setup.card(&setup.markets()?)?;
        let mut output = Output::create(&out)?;
        let name = output.name();
        let figures = CardFigures { prices: card.prices().collect(), verified_column: false };
        figures.csv(&mut output).map_err(|e| io_error(&name, e))?;
        return output.finish();
    }
    let setup = args.book.setup();
    let card = setup.card(&setup.markets()?)?;
    let prices: Vec<_> = match args.date {
        // The categories the rules of that date price with, not those of earlier eras.
        Some(date) => {
            let used = categories(RuleSet::for_date(date));
            card.in_force_on(date).filter(|(_, _, category, ..)| used.contains(category)).collect()
        }
        None => card.prices().collect(),
    };
    let prices = prices
        .into_iter()
        .filter(|(cur, market, ..)| {
            args.currency.is_none_or(|c| c == *cur) && args.market.as_deref().is_none_or(|m| m == *market)
        })
        .collect();
    let mut text = Vec::new();
    let figures = CardFigures { prices, verified_column: true };
    figures.render(args.format, &mut text).map_err(|e| io_error("<rates>", e))?;
    emit(&text, false)
}

/// The rate categories a rule set prices with (docs/rules.md §4, §5).
fn categories(rules: RuleSet) -> &'static [RateCategory] {
    use RateCategory::*;
    match rules {
        RuleSet::Nbp => &[Template],
        RuleSet::Cbp2022 => &[UserInitiated, BusinessInitiated],
        _ => &[Marketing, Utility, Authentication, AuthenticationInternational, Service],
    }
}
