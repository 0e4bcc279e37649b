//! How a run prices logs: every option the pricing commands share (`wabill price`, `compare`,
//! `report`, `reconcile`) and the Python functions take, in one [`Setup`] that reads the files
//! they name and builds from them the engine and how logs are read.
//!
//! ```
//! use wabill::log::Setup;
//!
//! let mut setup = Setup::default();
//! setup.set("accounts", Some("fixtures/example/accounts.csv"))?;
//! setup.set("service_allowance", Some("500"))?;
//! let engine = setup.engine()?;
//! assert_eq!(engine.options().service_allowance(), 500);
//! assert_eq!(
//!     setup.set("allowance", Some("500")).unwrap_err().to_string(),
//!     format!("unknown option allowance (the options: {})", Setup::OPTIONS.join(", "))
//! );
//! # Ok::<(), wabill::Error>(())
//! ```
//!
//! Each file is read as [`open_file`] reads it: gunzipped when its first two bytes say gzip,
//! whatever its name. A log is read as [`open_log`] reads it: a Parquet log (by its name or its
//! first bytes) as the CSV log it stands for.

use std::fs::File;
use std::io::{self, Read};
use std::path::PathBuf;
use std::str::FromStr;

use chrono::{NaiveDate, TimeDelta};
use chrono_tz::Tz;

use crate::domain::error::{Error, Position};
use crate::domain::money::Currency;
use crate::engine::{Engine, Options};
use crate::io::aliases::link_aliases;
use crate::io::log::is_parquet;
use crate::io::pipeline::{InputFormat, ReadOptions, Row, Sink};
use crate::io::reconcile::read_templates;
use crate::io::webhook::WebhookOptions;
use crate::pricebook::account::Accounts;
use crate::pricebook::market::Markets;
use crate::pricebook::ratecard::RateCard;
use crate::pricebook::Pricebook;
use crate::rules::RuleChoice;

/// Every option of a pricing run. [`Setup::default`] is the command line's defaults: the
/// embedded card and markets table, no accounts (each business its own WABA, in UTC, paying
/// USD), the rules of each event's date, a 7-day dedup window, 1,000 free service messages, a
/// 24-hour reorder window for webhook logs.
///
/// Set its fields, or its options by name and as text ([`Setup::set`]); then
/// [`Setup::engine`] and [`Setup::read_options`] are what [`price_logs`](crate::io::pipeline::price_logs)
/// takes.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Setup {
    /// Rate cards instead of the embedded one (`rates`, once per file): the files make one card.
    pub rates: Vec<CardFile>,
    /// The date from which Meta's files named without `@DATE` apply (`rates_effective`).
    pub rates_effective: Option<NaiveDate>,
    /// A markets table instead of the embedded one: wabill's dated CSV, or Meta's calling-code
    /// table (`markets`).
    pub markets: Option<CardFile>,
    /// The accounts file (`accounts`): business,waba,portfolio,timezone,currency,country,
    /// auth_intl_from.
    pub accounts: Option<PathBuf>,
    /// Refuse a log whose businesses are not all in the accounts file (`strict_accounts`).
    pub strict_accounts: bool,
    /// The aliases file (`aliases`, `phone,bsuid`): each row's phone number and business-scoped
    /// user id are one person.
    pub aliases: Option<PathBuf>,
    /// The rule set of each event's date, or one for every event (`rules`).
    pub rules: RuleChoice,
    /// Price every event with the card in force on this local date (`rates_date`).
    pub rates_date: Option<NaiveDate>,
    /// Accept an unsorted log, read whole into memory to sort it (`sort`).
    pub sort: bool,
    /// Skip bad rows instead of stopping at the first (`skip_invalid`).
    pub skip_invalid: bool,
    /// The zone of timestamps written without an offset (`naive_zone`).
    pub naive_zone: Option<Tz>,
    /// The logs' format; by default each log's name or first byte tells (`input_format`).
    pub input_format: Option<InputFormat>,
    /// A row repeating a message id seen less than this many days before is a duplicate
    /// (`dedup_days`).
    pub dedup_days: u32,
    /// pmp-2026: free non-template messages per business number per local month
    /// (`service_allowance`).
    pub service_allowance: u64,
    /// Webhook logs: how long, in event time, a message may still receive statuses
    /// (`reorder_window`: `24h`, `90m`, `2d`).
    pub reorder_window: TimeDelta,
    /// Webhook logs: `id,category` of the messages the sender knows (`templates`).
    pub templates: Option<PathBuf>,
    /// Fill each line's facts, for an explanation of it (not an option by name: the caller
    /// that writes explanations sets it).
    pub explain: bool,
}

impl Default for Setup {
    fn default() -> Setup {
        Setup {
            rates: Vec::new(),
            rates_effective: None,
            markets: None,
            accounts: None,
            strict_accounts: false,
            aliases: None,
            rules: RuleChoice::Auto,
            rates_date: None,
            sort: false,
            skip_invalid: false,
            naive_zone: None,
            input_format: None,
            dedup_days: 7,
            service_allowance: 1000,
            reorder_window: TimeDelta::hours(24),
            templates: None,
            explain: false,
        }
    }
}

impl Setup {
    /// The options [`Setup::set`] takes, by name: the command line's, `_` for `-`.
    pub const OPTIONS: &'static [&'static str] = &[
        "rates",
        "rates_effective",
        "markets",
        "accounts",
        "strict_accounts",
        "aliases",
        "rules",
        "rates_date",
        "sort",
        "skip_invalid",
        "naive_zone",
        "input_format",
        "dedup_days",
        "service_allowance",
        "reorder_window",
        "templates",
    ];

    /// Whether option `name` may be given several times (each adds a value), as `rates` may.
    pub fn repeats(name: &str) -> bool {
        name == "rates"
    }

    /// Sets the option `name` (one of [`Setup::OPTIONS`]) from its text as the command line
    /// takes it: a path, `FILE[@DATE[@CURRENCY]]` for a card, a date `YYYY-MM-DD`, `true` or
    /// `false`, a number, a duration (`24h`). `rates` adds a card file each time. `None` leaves
    /// the option as it is (the name is still checked).
    pub fn set(&mut self, name: &str, value: Option<&str>) -> Result<(), Error> {
        let Some(text) = value else {
            return match Setup::OPTIONS.contains(&name) {
                true => Ok(()),
                false => Err(unknown(name)),
            };
        };
        let bad = |why: String| Error::config(format!("{name}: {why}"));
        let path = || Some(PathBuf::from(text));
        let flag = || match text {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(bad(format!("not true or false: {text}"))),
        };
        let date = || text.parse::<NaiveDate>().map_err(|_| bad(format!("not a date (YYYY-MM-DD): {text}")));
        let number = || bad(format!("not a whole number: {text}"));
        match name {
            "rates" => self.rates.push(text.parse().map_err(|e: Error| bad(e.to_string()))?),
            "rates_effective" => self.rates_effective = Some(date()?),
            "markets" => {
                let file: CardFile = text.parse().map_err(|e: Error| bad(e.to_string()))?;
                if file.currency.is_some() {
                    return Err(bad(format!("a markets table has no currency: {text}")));
                }
                self.markets = Some(file);
            }
            "accounts" => self.accounts = path(),
            "strict_accounts" => self.strict_accounts = flag()?,
            "aliases" => self.aliases = path(),
            "rules" => self.rules = text.parse().map_err(|e: Error| bad(e.to_string()))?,
            "rates_date" => self.rates_date = Some(date()?),
            "sort" => self.sort = flag()?,
            "skip_invalid" => self.skip_invalid = flag()?,
            "naive_zone" => {
                self.naive_zone =
                    Some(text.parse().map_err(|_| bad(format!("not an IANA time zone: {text}")))?)
            }
            "input_format" => self.input_format = Some(text.parse().map_err(|e: Error| bad(e.to_string()))?),
            "dedup_days" => {
                self.dedup_days = text.parse().map_err(|_| number())?;
                if self.dedup_days == 0 {
                    return Err(bad(format!("must be positive: {text}")));
                }
            }
            "service_allowance" => self.service_allowance = text.parse().map_err(|_| number())?,
            "reorder_window" => self.reorder_window = parse_duration(text).map_err(bad)?,
            "templates" => self.templates = path(),
            _ => return Err(unknown(name)),
        }
        Ok(())
    }

    /// The markets table (none named: the embedded one).
    pub fn markets(&self) -> Result<Markets, Error> {
        let Some(f) = &self.markets else { return Ok(Markets::embedded()) };
        let name = f.path.display().to_string();
        let bytes = read_all(&name)?;
        Markets::from_either(&bytes, &name, f.date.or(self.rates_effective))
    }

    /// The card of [`Setup::rates`] (none: the embedded card), each file read as its first
    /// line tells (wabill's CSV or Meta's list-rate card), merged.
    pub fn card(&self, markets: &Markets) -> Result<RateCard, Error> {
        if self.rates.is_empty() {
            return Ok(RateCard::embedded());
        }
        let mut card = RateCard::default();
        for f in &self.rates {
            let name = f.path.display().to_string();
            let bytes = read_all(&name)?;
            let date = f
                .date
                .or(self.rates_effective)
                .filter(|_| f.date.is_some() || !RateCard::is_wabill_csv(&bytes));
            card = card.merge(RateCard::from_either(&bytes, &name, date, f.currency, markets)?)?;
        }
        Ok(card)
    }

    /// The accounts of the accounts file (none named: none, every business priced with the
    /// defaults).
    pub fn accounts(&self) -> Result<Accounts, Error> {
        match &self.accounts {
            Some(p) => {
                let name = p.display().to_string();
                Accounts::from_csv(open_file(&name)?, &name)
            }
            None => Ok(Accounts::default()),
        }
    }

    /// The pricebook: the markets table, the card, the accounts.
    pub fn pricebook(&self) -> Result<Pricebook, Error> {
        let markets = self.markets()?;
        let card = self.card(&markets)?;
        Ok(Pricebook::new(markets, &card, self.accounts()?))
    }

    /// The engine's options.
    pub fn options(&self) -> Result<Options, Error> {
        Options::builder()
            .rules(self.rules)
            .rates_date(self.rates_date)
            .service_allowance(self.service_allowance)
            .dedup_window(TimeDelta::days(i64::from(self.dedup_days)))
            .explain(self.explain)
            .build()
    }

    /// The engine of the pricebook and options, with the aliases linked.
    pub fn engine(&self) -> Result<Engine, Error> {
        if self.strict_accounts && self.accounts.is_none() {
            return Err(Error::config(
                "strict_accounts: needs accounts (the accounts file to check against)",
            ));
        }
        let mut engine = Engine::new(self.pricebook()?.into(), self.options()?);
        if let Some(p) = &self.aliases {
            let name = p.display().to_string();
            link_aliases(&mut engine, open_file(&name)?, &name)?;
        }
        Ok(engine)
    }

    /// How the logs are read (the templates file read).
    pub fn read_options(&self) -> Result<ReadOptions, Error> {
        let mut webhooks =
            WebhookOptions { reorder_window: self.reorder_window, ..WebhookOptions::default() };
        if let Some(p) = &self.templates {
            let name = p.display().to_string();
            webhooks.templates = read_templates(open_file(&name)?, &name)?;
        }
        Ok(ReadOptions {
            sort: self.sort,
            skip_invalid: self.skip_invalid,
            naive_zone: self.naive_zone,
            input_format: self.input_format,
            webhooks,
        })
    }

    /// What the accounts file says of the businesses of a run priced by `engine`: those it
    /// does not list (priced with the defaults: a typo there moves a business to UTC and USD)
    /// and those it lists that no row names. With [`Setup::strict_accounts`], the first of the
    /// former is an error instead. Without an accounts file, nothing.
    pub fn check_accounts(&self, engine: &Engine, businesses: &Businesses) -> Result<AccountsCheck, Error> {
        let Some(path) = &self.accounts else { return Ok(AccountsCheck::default()) };
        let file = path.display().to_string();
        let accounts = &engine.pricebook().accounts;
        let missing: Vec<(String, Position)> =
            businesses.0.iter().filter(|(name, _)| !accounts.contains(name)).cloned().collect();
        if let (true, Some((name, first))) = (self.strict_accounts, missing.first()) {
            let what = format!("not in the accounts file {file} (--strict-accounts)");
            return Err(Error::data(first.clone(), "business", &what, name));
        }
        let seen: std::collections::HashSet<&str> =
            businesses.0.iter().map(|(name, _)| name.as_str()).collect();
        let unused = accounts.businesses().iter().filter(|b| !seen.contains(b.as_str())).cloned().collect();
        Ok(AccountsCheck { file, missing, unused })
    }
}

fn unknown(name: &str) -> Error {
    Error::config(format!("unknown option {name} (the options: {})", Setup::OPTIONS.join(", ")))
}

/// What [`Setup::check_accounts`] finds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountsCheck {
    /// The accounts file, as named.
    pub file: String,
    /// The businesses of the logs the accounts file does not list, each with its first row.
    pub missing: Vec<(String, Position)>,
    /// The businesses of the accounts file no row names, in the file's order.
    pub unused: Vec<String>,
}

impl AccountsCheck {
    /// How many businesses of either kind [`AccountsCheck::notes`] names.
    pub const SHOWN: usize = 20;

    /// What it finds, a sentence each: each business missing from the accounts file (priced
    /// with the defaults), each it lists that no row names; past [`AccountsCheck::SHOWN`] of
    /// either, how many more.
    pub fn notes(&self) -> Vec<String> {
        let (file, shown) = (&self.file, AccountsCheck::SHOWN);
        let mut notes: Vec<String> = self
            .missing
            .iter()
            .take(shown)
            .map(|(name, first)| {
                format!(
                    "business {name} (first on {first}) is not in the accounts file {file}: priced \
                     with the defaults (its own WABA, UTC, USD)"
                )
            })
            .collect();
        if self.missing.len() > shown {
            let more = self.missing.len() - shown;
            notes.push(format!("… and {more} more businesses not in the accounts file {file}"));
        }
        notes.extend(
            self.unused
                .iter()
                .take(shown)
                .map(|name| format!("business {name} of the accounts file {file} has no row in the log")),
        );
        if self.unused.len() > shown {
            let more = self.unused.len() - shown;
            notes.push(format!(
                "… and {more} more businesses of the accounts file {file} with no row in the log"
            ));
        }
        notes
    }
}

/// The businesses of a run, each with its first row, in order of appearance
/// ([`Sink::business`]): what [`Setup::check_accounts`] checks. A sink of its own that keeps
/// nothing else, or a part of one.
#[derive(Debug, Clone, Default)]
pub struct Businesses(Vec<(String, Position)>);

impl Businesses {
    /// Adds a business met first at `first`.
    pub fn add(&mut self, name: &str, first: Position) {
        self.0.push((name.to_string(), first));
    }
}

impl Sink for Businesses {
    fn begin(&mut self, _: &[csv::StringRecord]) -> Result<(), Error> {
        Ok(())
    }

    fn priced(&mut self, _: &Row, _: &crate::engine::PricedLine) -> Result<(), Error> {
        Ok(())
    }

    fn rejected(&mut self, _: &Row, _: &Error) -> Result<(), Error> {
        Ok(())
    }

    fn business(&mut self, name: &str, first: Position) {
        self.add(name, first);
    }
}

/// A rate card or markets file as named: `FILE`, `FILE@DATE` (Meta's file, in force from
/// DATE) or `FILE@DATE@CURRENCY` (its `$` tokens are CURRENCY).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardFile {
    /// The file.
    pub path: PathBuf,
    /// From when Meta's file applies.
    pub date: Option<NaiveDate>,
    /// The currency of its bare `$` tokens.
    pub currency: Option<Currency>,
}

impl FromStr for CardFile {
    type Err = Error;
    fn from_str(s: &str) -> Result<CardFile, Error> {
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
            return Err(Error::config(format!(
                "{s}: a currency after @ comes after a date (FILE@DATE@CURRENCY)"
            )));
        }
        Ok(CardFile { path: PathBuf::from(path), date, currency })
    }
}

/// A positive duration of whole seconds, minutes, hours or days: `30s`, `90m`, `24h`, `2d`.
pub fn parse_duration(s: &str) -> Result<TimeDelta, String> {
    let not = || format!("not a duration (24h, 90m, 2d): {s}");
    let t = s.trim();
    let (n, unit) = ["s", "m", "h", "d"]
        .into_iter()
        .find_map(|unit| Some((t.strip_suffix(unit)?, unit)))
        .ok_or_else(not)?;
    let n: i64 = n.parse().map_err(|_| not())?;
    let d = match unit {
        "s" => TimeDelta::try_seconds(n),
        "m" => TimeDelta::try_minutes(n),
        "h" => TimeDelta::try_hours(n),
        _ => TimeDelta::try_days(n),
    };
    let d = d.ok_or_else(|| format!("too long: {s}"))?;
    if d > TimeDelta::zero() {
        Ok(d)
    } else {
        Err(format!("must be positive: {s}"))
    }
}

/// A file's bytes (`-`: stdin, as on the command line), gunzipped when its first two bytes
/// say gzip, whatever its name.
pub fn open_file(path: &str) -> Result<Box<dyn Read + Send>, Error> {
    if path == "-" {
        return gunzipped(Box::new(io::stdin()), path);
    }
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    gunzipped(Box::new(file), path)
}

/// `reader`'s bytes (`name` in messages), gunzipped when its first two bytes say gzip: several
/// members one after the other are read as one stream, as `gzip -d` does. Anything else is read
/// as it is, without a buffer of its own (the readers have theirs).
pub fn gunzipped(reader: Box<dyn Read + Send>, name: &str) -> Result<Box<dyn Read + Send>, Error> {
    let (head, rest) = head(reader, name)?;
    Ok(decompressed(head, rest))
}

/// A log file as [`price_logs`](crate::io::pipeline::price_logs) reads it: a Parquet log (by its name or its
/// first bytes) as the CSV log it stands for, any other as [`open_file`] reads a file.
pub fn open_log(path: &str) -> Result<Box<dyn Read + Send>, Error> {
    open_log_through(path, |file| file).map(|(log, _)| log)
}

/// A log file as [`open_log`] opens it, its bytes read through `through` (e.g. to count them),
/// except a Parquet log's: the second value says whether they are.
pub fn open_log_through(
    path: &str,
    through: impl FnOnce(Box<dyn Read + Send>) -> Box<dyn Read + Send>,
) -> Result<(Box<dyn Read + Send>, bool), Error> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let (head, rest) = head(through(Box::new(file)), path)?;
    if is_parquet(path, &head) {
        return Ok((open_parquet(path)?, false));
    }
    Ok((decompressed(head, rest), true))
}

/// A Parquet log, read as the CSV log it stands for.
#[cfg(feature = "parquet")]
fn open_parquet(path: &str) -> Result<Box<dyn Read + Send>, Error> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    Ok(Box::new(crate::io::parquet::open_parquet_log(file, path)?))
}

#[cfg(not(feature = "parquet"))]
fn open_parquet(path: &str) -> Result<Box<dyn Read + Send>, Error> {
    let e = io::Error::other(
        "a Parquet file, and this wabill was built without Parquet (cargo install --features parquet)",
    );
    Err(Error::io(path, e))
}

/// A file's first bytes (up to four), and the rest of it.
fn head(mut reader: Box<dyn Read + Send>, name: &str) -> Result<(Vec<u8>, Box<dyn Read + Send>), Error> {
    let mut head = Vec::with_capacity(4);
    (&mut reader).take(4).read_to_end(&mut head).map_err(|e| Error::io(name, e))?;
    Ok((head, reader))
}

/// The file whose first bytes are `head`, gunzipped when they say gzip.
fn decompressed(head: Vec<u8>, rest: Box<dyn Read + Send>) -> Box<dyn Read + Send> {
    let gzip = head.starts_with(&[0x1f, 0x8b]);
    let whole = io::Cursor::new(head).chain(rest);
    if gzip {
        Box::new(flate2::read::MultiGzDecoder::new(whole))
    } else {
        Box::new(whole)
    }
}

/// A whole file, as [`open_file`] reads it.
fn read_all(name: &str) -> Result<Vec<u8>, Error> {
    let mut bytes = Vec::new();
    open_file(name)?.read_to_end(&mut bytes).map_err(|e| Error::io(name, e))?;
    Ok(bytes)
}

/// A text file's content as [`open_file`] reads it (gunzipped when it is gzip): a tariff, an
/// analytics response.
pub fn read_text(name: &str) -> Result<String, Error> {
    let mut text = String::new();
    open_file(name)?.read_to_string(&mut text).map_err(|e| Error::io(name, e))?;
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn every_option_is_set_by_its_name() {
        let values = [
            ("rates", "card.csv@2025-07-01@USD"),
            ("rates_effective", "2025-07-01"),
            ("markets", "markets.csv"),
            ("accounts", "accounts.csv"),
            ("strict_accounts", "true"),
            ("aliases", "aliases.csv"),
            ("rules", "pmp-2025"),
            ("rates_date", "2025-08-01"),
            ("sort", "true"),
            ("skip_invalid", "true"),
            ("naive_zone", "Europe/Paris"),
            ("input_format", "webhooks"),
            ("dedup_days", "3"),
            ("service_allowance", "10"),
            ("reorder_window", "90m"),
            ("templates", "templates.csv"),
        ];
        assert_eq!(values.map(|(n, _)| n), Setup::OPTIONS);
        let mut setup = Setup::default();
        for (name, value) in values {
            setup.set(name, Some(value)).unwrap();
            setup.set(name, None).unwrap();
        }
        let card = CardFile {
            path: "card.csv".into(),
            date: NaiveDate::from_ymd_opt(2025, 7, 1),
            currency: Some("USD".parse().unwrap()),
        };
        assert_eq!(setup.rates, [card]);
        assert_eq!(setup.markets.as_ref().map(|m| m.path.as_path()), Some(Path::new("markets.csv")));
        assert!(setup.strict_accounts && setup.sort && setup.skip_invalid);
        assert_eq!(setup.naive_zone, Some(chrono_tz::Europe::Paris));
        assert_eq!(setup.input_format, Some(InputFormat::Webhooks));
        assert_eq!((setup.dedup_days, setup.service_allowance), (3, 10));
        assert_eq!(setup.reorder_window, TimeDelta::minutes(90));
    }

    #[test]
    fn a_bad_option_or_value_says_which() {
        let message =
            |name: &str, value: Option<&str>| Setup::default().set(name, value).unwrap_err().to_string();
        assert!(message("explain", None).starts_with("unknown option explain (the options: rates, "));
        for (name, value, expected) in [
            ("sort", "yes", "sort: not true or false: yes"),
            ("rates_date", "2025-13-01", "rates_date: not a date (YYYY-MM-DD): 2025-13-01"),
            ("naive_zone", "Mars/Olympus", "naive_zone: not an IANA time zone: Mars/Olympus"),
            ("dedup_days", "-1", "dedup_days: not a whole number: -1"),
            ("reorder_window", "0h", "reorder_window: must be positive: 0h"),
            ("reorder_window", "5é", "reorder_window: not a duration (24h, 90m, 2d): 5é"),
            ("reorder_window", "9999999999999999s", "reorder_window: too long: 9999999999999999s"),
            ("reorder_window", "999999999999d", "reorder_window: too long: 999999999999d"),
            ("dedup_days", "0", "dedup_days: must be positive: 0"),
            (
                "markets",
                "m.csv@2025-01-01@EUR",
                "markets: a markets table has no currency: m.csv@2025-01-01@EUR",
            ),
            ("input_format", "xml", "input_format: not a log format (csv, webhooks): xml"),
            (
                "rates",
                "card.csv@USD",
                "rates: card.csv@USD: a currency after @ comes after a date (FILE@DATE@CURRENCY)",
            ),
        ] {
            assert_eq!(message(name, Some(value)), expected);
        }
        let mut setup = Setup::default();
        setup.set("rates", Some("a.csv")).unwrap();
        setup.set("rates", Some("b.csv")).unwrap();
        assert_eq!(setup.rates.len(), 2);
        assert!(Setup::repeats("rates") && !Setup::repeats("accounts"));
        // Strict accounts need an accounts file to check against, as on the command line.
        let strict = Setup { strict_accounts: true, ..Setup::default() };
        assert_eq!(
            strict.engine().err().map(|e| e.to_string()),
            Some("strict_accounts: needs accounts (the accounts file to check against)".to_string())
        );
    }
}
