//! Accounts: which WABA and portfolio a business number belongs to, and the WABA's time zone,
//! currency, country and authentication-international start (docs/rules.md §3).
//!
//! A business absent from the accounts gets every default: its own WABA and portfolio, UTC,
//! USD, no country. Every date-based choice uses the local date in the WABA's time zone.

use std::collections::HashMap;
use std::io::Read;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use crate::domain::error::{Error, Problem};
use crate::domain::money::{Country, Currency};
use crate::util::table::{At, Table};

/// From when a WABA pays authentication-international rates (docs/rules.md §6): a local date, or an
/// instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthIntlFrom {
    /// From this local date on.
    Date(NaiveDate),
    /// From this instant on.
    Instant(DateTime<Utc>),
}

impl AuthIntlFrom {
    /// Whether an event at `at`, on local date `local`, is on or after this start.
    pub fn reached(&self, at: DateTime<Utc>, local: NaiveDate) -> bool {
        match *self {
            AuthIntlFrom::Date(d) => local >= d,
            AuthIntlFrom::Instant(i) => at >= i,
        }
    }
}

crate::domain::error::from_str_by_parse_text!(AuthIntlFrom);

impl AuthIntlFrom {
    /// Reads the value from its text, or says what is wrong with it.
    pub(crate) fn parse_text(s: &str) -> Result<AuthIntlFrom, Problem> {
        let t = s.trim();
        if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
            return Ok(AuthIntlFrom::Date(d));
        }
        DateTime::parse_from_rfc3339(t).map(|i| AuthIntlFrom::Instant(i.with_timezone(&Utc))).map_err(|_| {
            Problem::column("auth_intl_from", "not a date (YYYY-MM-DD) or an RFC 3339 instant", s)
        })
    }
}

/// What wabill knows of one business number's account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The WABA the number belongs to (default: the number itself).
    pub waba: String,
    /// The WABA's portfolio (default: the WABA).
    pub portfolio: String,
    /// The WABA's time zone, which decides every local date (default: UTC).
    pub timezone: Tz,
    /// The WABA's billing currency (default: USD).
    pub currency: Currency,
    /// The WABA's primary business location.
    pub country: Option<Country>,
    /// When the WABA starts paying authentication-international rates (docs/rules.md §6).
    pub auth_intl_from: Option<AuthIntlFrom>,
}

impl Account {
    /// The account of a business absent from the accounts: every default.
    pub fn default_for(business: &str) -> Account {
        Account {
            waba: business.to_string(),
            portfolio: business.to_string(),
            timezone: Tz::UTC,
            currency: Currency::USD,
            country: None,
            auth_intl_from: None,
        }
    }
}

/// The accounts of the businesses of a log. Immutable once built.
#[derive(Debug, Clone, Default)]
pub struct Accounts {
    by_business: HashMap<String, Account>,
    /// The businesses in the order listed.
    listed: Vec<String>,
}

/// The columns of an accounts file.
const COLUMNS: [&str; 7] =
    ["business", "waba", "portfolio", "timezone", "currency", "country", "auth_intl_from"];

impl Accounts {
    /// Builds accounts from (business, account) pairs, checking that a business appears once
    /// and that the accounts of one WABA agree.
    pub fn new(accounts: impl IntoIterator<Item = (String, Account)>) -> Result<Accounts, Error> {
        let mut b = Builder::default();
        for (business, account) in accounts {
            b.add(business, account, 0).map_err(|p| Error::config(p.to_string()))?;
        }
        Ok(Accounts { by_business: b.by_business, listed: b.listed })
    }

    /// Reads an accounts CSV (`business,waba,portfolio,timezone,currency,country,auth_intl_from`,
    /// all but `business` optional).
    pub fn from_csv<R: Read>(reader: R, file: &str) -> Result<Accounts, Error> {
        let mut t = Table::new(reader, file)?;
        t.only(&COLUMNS)?;
        let business = t.require("business")?;
        let [waba, portfolio, timezone, currency, country, auth] =
            ["waba", "portfolio", "timezone", "currency", "country", "auth_intl_from"].map(|c| t.find(c));
        let mut b = Builder::default();
        while t.next_row()? {
            let pos = || t.position();
            let name = t.get(Some(business));
            if name.is_empty() {
                return Err(Problem::column("business", "must not be empty", name).at(pos()));
            }
            let waba_id = non_empty(t.get(waba)).unwrap_or(name).to_string();
            let account = Account {
                portfolio: non_empty(t.get(portfolio)).unwrap_or(&waba_id).to_string(),
                waba: waba_id,
                timezone: match non_empty(t.get(timezone)) {
                    None => Tz::UTC,
                    Some(z) => parse_zone(z).at(pos)?,
                },
                currency: non_empty(t.get(currency))
                    .map_or(Ok(Currency::USD), Currency::parse_text)
                    .at(pos)?,
                country: non_empty(t.get(country)).map(Country::parse_text).transpose().at(pos)?,
                auth_intl_from: non_empty(t.get(auth)).map(AuthIntlFrom::parse_text).transpose().at(pos)?,
            };
            b.add(name.to_string(), account, t.line()).at(pos)?;
        }
        Ok(Accounts { by_business: b.by_business, listed: b.listed })
    }

    /// Whether `business` is listed (else it gets the defaults: see [`Accounts::get`]).
    pub fn contains(&self, business: &str) -> bool {
        self.by_business.contains_key(business)
    }

    /// The businesses listed, in the order listed.
    pub fn businesses(&self) -> &[String] {
        &self.listed
    }

    /// The account of `business`, or the defaults when it is not listed.
    pub fn get(&self, business: &str) -> Account {
        self.by_business.get(business).cloned().unwrap_or_else(|| Account::default_for(business))
    }

    /// The number of businesses listed.
    pub fn len(&self) -> usize {
        self.by_business.len()
    }

    /// Whether no business is listed.
    pub fn is_empty(&self) -> bool {
        self.by_business.is_empty()
    }
}

/// Parses an IANA time zone name, e.g. `Europe/Paris`.
pub fn parse_zone(s: &str) -> Result<Tz, Problem> {
    s.trim().parse::<Tz>().map_err(|_| Problem::column("timezone", "unknown IANA time zone", s))
}

fn non_empty(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}

#[derive(Default)]
struct Builder {
    by_business: HashMap<String, Account>,
    listed: Vec<String>,
    business_lines: HashMap<String, u64>,
    /// The first account seen for each WABA, and where (0 when not from a file).
    wabas: HashMap<String, (Account, u64)>,
}

impl Builder {
    fn add(&mut self, business: String, account: Account, line: u64) -> Result<(), Problem> {
        let place = |l: u64| {
            if l > 0 {
                format!(" on line {l}")
            } else {
                String::new()
            }
        };
        if let Some(first_line) = self.business_lines.get(&business) {
            let what = format!("listed twice{}", place(*first_line));
            return Err(Problem::column("business", what, business));
        }
        if let Some((first, first_line)) = self.wabas.get(&account.waba) {
            let differ = [
                ("portfolio", first.portfolio != account.portfolio),
                ("timezone", first.timezone != account.timezone),
                ("currency", first.currency != account.currency),
                ("country", first.country != account.country),
                ("auth_intl_from", first.auth_intl_from != account.auth_intl_from),
            ];
            if let Some((column, _)) = differ.iter().find(|d| d.1) {
                return Err(Problem::column(
                    *column,
                    format!("WABA {} is described differently{}", account.waba, place(*first_line)),
                    business,
                ));
            }
        } else {
            self.wabas.insert(account.waba.clone(), (account.clone(), line));
        }
        self.business_lines.insert(business.clone(), line);
        self.listed.push(business.clone());
        self.by_business.insert(business, account);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Accounts, Error> {
        Accounts::from_csv(text.as_bytes(), "accounts.csv")
    }

    #[test]
    fn defaults_follow_the_chain_business_waba_portfolio() {
        let a = load("business,waba\nB1,W1\nB2,\n").unwrap();
        let b1 = a.get("B1");
        assert_eq!((b1.waba.as_str(), b1.portfolio.as_str()), ("W1", "W1"));
        assert_eq!(b1.timezone, Tz::UTC);
        assert_eq!(b1.currency, Currency::USD);
        assert_eq!(a.get("B2").waba, "B2");
        assert_eq!(a.get("absent"), Account::default_for("absent"));
        assert!(a.contains("B1") && !a.contains("absent"));
        assert_eq!(a.businesses(), ["B1", "B2"]);
    }

    #[test]
    fn reads_every_column() {
        let a = load(
            "business,waba,portfolio,timezone,currency,country,auth_intl_from\n\
             B1,W1,P1,Asia/Kolkata,usd,in,2025-09-01\n\
             B2,W2,P1,Europe/Paris,EUR,FR,2025-09-01T00:00:00+02:00\n",
        )
        .unwrap();
        let b1 = a.get("B1");
        assert_eq!(b1.timezone, chrono_tz::Asia::Kolkata);
        assert_eq!(b1.country.unwrap().code(), "IN");
        assert_eq!(b1.auth_intl_from, Some(AuthIntlFrom::Date(NaiveDate::from_ymd_opt(2025, 9, 1).unwrap())));
        assert!(matches!(a.get("B2").auth_intl_from, Some(AuthIntlFrom::Instant(_))));
    }

    #[test]
    fn bad_accounts_are_positioned_errors() {
        let e = load("business,timezone\nB1,Mars/Olympus\n").unwrap_err();
        assert_eq!(e.to_string(), "accounts.csv:2: column timezone: unknown IANA time zone (Mars/Olympus)");
        let e = load("business,waba\nB1,W1\nB1,W2\n").unwrap_err();
        assert_eq!(e.to_string(), "accounts.csv:3: column business: listed twice on line 2 (B1)");
        let e = load("business,waba,timezone\nB1,W1,Europe/Paris\nB2,W1,UTC\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "accounts.csv:3: column timezone: WABA W1 is described differently on line 2 (B2)"
        );
        let e = load("business,tz\nB1,UTC\n").unwrap_err();
        assert!(e.to_string().starts_with("accounts.csv:1: unknown column tz (expected business,"));
    }
}
