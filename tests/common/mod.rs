//! Shared helpers of the integration tests: a small pricebook and time helpers.
#![allow(dead_code)]

use chrono::{DateTime, TimeDelta, Utc};
use wabill::{Accounts, Engine, Markets, Options, Pricebook, RateCard};

pub const MARKETS: &str = "effective_from,prefix,country,market\n\
    2000-01-01,33,FR,France\n\
    2000-01-01,91,IN,India\n\
    2000-01-01,55,BR,Brazil\n";

pub const RATES: &str = "effective_from,currency,market,category,rate,tier_from,tier_to\n\
    2018-01-01,USD,France,template,0.0500,,\n\
    2018-01-01,USD,India,template,0.0066,,\n\
    2018-01-01,USD,Brazil,template,0.0500,,\n\
    2022-02-01,USD,France,user_initiated,0.0859,,\n\
    2022-02-01,USD,France,business_initiated,0.1432,,\n\
    2022-02-01,USD,India,user_initiated,0.0040,,\n\
    2022-02-01,USD,India,business_initiated,0.0066,,\n\
    2022-02-01,USD,Brazil,user_initiated,0.0300,,\n\
    2022-02-01,USD,Brazil,business_initiated,0.0500,,\n\
    2023-06-01,USD,India,marketing,0.0099,,\n\
    2023-06-01,USD,India,utility,0.0042,,\n\
    2023-06-01,USD,India,authentication,0.0042,,\n\
    2023-06-01,USD,India,service,0.0040,,\n\
    2023-06-01,USD,Brazil,marketing,0.0625,,\n\
    2023-06-01,USD,Brazil,utility,0.0350,,\n\
    2023-06-01,USD,Brazil,authentication,0.0315,,\n\
    2023-06-01,USD,Brazil,service,0.0300,,\n\
    2026-10-01,USD,France,service,0.0300,,\n\
    2026-10-01,USD,India,service,0.0014,,\n\
    2026-10-01,USD,Brazil,service,0.0068,,\n\
    2023-06-01,USD,France,marketing,0.1432,,\n\
    2023-06-01,USD,France,utility,0.0768,,\n\
    2023-06-01,USD,France,authentication,0.0691,,\n\
    2023-06-01,USD,France,service,0.0859,,\n\
    2025-07-01,USD,France,marketing,0.0859,,\n\
    2025-07-01,USD,France,utility,0.0300,,\n\
    2025-07-01,USD,France,authentication,0.0300,,\n\
    2025-07-01,USD,Brazil,marketing,0.0625,,\n\
    2025-07-01,USD,Brazil,utility,0.0068,,\n\
    2025-07-01,USD,Brazil,authentication,0.0068,,\n\
    2025-07-01,USD,India,marketing,0.0107,,\n\
    2025-07-01,USD,India,utility,0.0014,,\n\
    2025-07-01,USD,India,authentication,0.0014,1,3\n\
    2025-07-01,USD,India,authentication,0.0011,4,\n\
    2025-07-01,USD,France,call,0.0400,,\n";

pub fn book(accounts: &str) -> Pricebook {
    let markets = Markets::from_csv(MARKETS.as_bytes(), "markets.csv").unwrap();
    let card = RateCard::from_csv(RATES.as_bytes(), "rates.csv").unwrap();
    let accounts = Accounts::from_csv(accounts.as_bytes(), "accounts.csv").unwrap();
    Pricebook::new(markets, &card, accounts)
}

pub fn engine(options: Options) -> Engine {
    Engine::new(book("business\n").into(), options)
}

pub fn instant(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// `base` plus `h` hours.
pub fn h(base: DateTime<Utc>, hours: i64) -> DateTime<Utc> {
    base + TimeDelta::hours(hours)
}

/// A directory of its own for a test's files, removed when dropped (a path through `Deref`).
pub struct Scratch(tempfile::TempDir);

impl Scratch {
    pub fn new() -> Scratch {
        Scratch(tempfile::Builder::new().prefix("wabill-test-").tempdir().expect("a temporary directory"))
    }

    /// A file of it holding `bytes`.
    pub fn file(&self, name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let path = self.0.path().join(name);
        std::fs::write(&path, bytes).expect("written");
        path
    }
}

impl std::ops::Deref for Scratch {
    type Target = std::path::Path;
    fn deref(&self) -> &std::path::Path {
        self.0.path()
    }
}

impl AsRef<std::path::Path> for Scratch {
    fn as_ref(&self) -> &std::path::Path {
        self.0.path()
    }
}
