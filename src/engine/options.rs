//! How an engine prices: which rules, which card date, the allowances that are parameters.

use chrono::{NaiveDate, TimeDelta};

use crate::rules::RuleChoice;

/// How an engine prices: which rules, which card date, the allowances that are parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// `auto` (the rule set of each event's local date) or one rule set for every event.
    pub rules: RuleChoice,
    /// Price every event with the rate card (and markets table) in force on this local date.
    pub rates_date: Option<NaiveDate>,
    /// pmp-2026: free non-template messages per business phone number per local month.
    pub service_allowance: u64,
    /// cbp: free conversations per WABA per local month.
    pub free_conversations: u64,
    /// How long a message id is remembered: a row repeating an id seen less than this long
    /// before is a duplicate. Meta retries a webhook for up to 7 days, the default.
    pub dedup_window: TimeDelta,
    /// Drop the state of pairs whose windows have all closed (prices are the same either way;
    /// `false` keeps every pair, for checking exactly that).
    pub evict_expired: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            rules: RuleChoice::Auto,
            rates_date: None,
            service_allowance: 1000,
            free_conversations: 1000,
            dedup_window: TimeDelta::days(7),
            evict_expired: true,
        }
    }
}
