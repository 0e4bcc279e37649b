//! The state the engine keeps per business number: its account, its pairs, its local day.

use std::sync::Arc;

use chrono::{NaiveDate, TimeZone};

use super::line::{AccountNames, PricedLine};
use super::options::Options;
use super::pairs::Pairs;
use crate::domain::event::Month;
use crate::domain::time::Stamp;
use crate::pricebook::account::Account;
use crate::rules::RuleSet;

pub(super) struct Business {
    pub(super) names: Arc<AccountNames>,
    pub(super) waba_id: u32,
    pub(super) portfolio_id: u32,
    pub(super) account: Account,
    /// Where its currency's prices are in the pricebook (`None`: the card has none).
    pub(super) prices: Option<u16>,
    pub(super) pairs: Pairs,
    /// The local day of the latest event, kept: events come in order, and most fall on the
    /// day of the one before.
    pub(super) today: Option<Day>,
    /// The line of its latest event, reused for the next.
    pub(super) line: Option<PricedLine>,
}

/// A local day of a WABA, and what follows from it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Day {
    /// Its first instant, and the next day's.
    pub(super) start: Stamp,
    pub(super) end: Stamp,
    pub(super) date: NaiveDate,
    pub(super) month: Month,
    pub(super) rules: RuleSet,
    /// The date whose rate card and markets apply.
    pub(super) rate_date: NaiveDate,
}

impl Business {
    /// The local day of `now` in the WABA's zone.
    pub(super) fn day(&mut self, now: Stamp, options: &Options) -> Day {
        if let Some(day) = self.today.filter(|d| d.start <= now && now < d.end) {
            return day;
        }
        let t = now.time();
        let zone = self.account.timezone;
        let date = t.with_timezone(&zone).date_naive();
        let first = |d: NaiveDate| {
            d.and_hms_opt(0, 0, 0)
                .and_then(|m| zone.from_local_datetime(&m).earliest())
                .and_then(|m| Stamp::of(m.to_utc()))
        };
        let day = |start, end| Day {
            start,
            end,
            date,
            month: Month::of(date),
            rules: options.rules.for_date(date),
            rate_date: options.rates_date.unwrap_or(date),
        };
        // A day whose midnight is skipped by a clock change is not kept: each event computes it.
        match (first(date), date.succ_opt().and_then(first)) {
            (Some(start), Some(end)) if start <= now && now < end => {
                let kept = day(start, end);
                self.today = Some(kept);
                kept
            }
            _ => {
                self.today = None;
                day(now, now)
            }
        }
    }
}
