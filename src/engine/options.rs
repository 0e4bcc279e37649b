//! How an engine prices: which rules, which card date, the allowances that are parameters.

use chrono::{NaiveDate, TimeDelta};

use crate::domain::error::{Error, Problem};
use crate::rules::RuleChoice;

/// How an engine prices: which rules, which card date, the allowances that are parameters.
/// Built by [`Options::builder`] (or [`Options::default`]), checked once, then immutable.
///
/// ```
/// use wabill::{Options, RuleChoice, RuleSet};
///
/// let options = Options::builder().rules(RuleChoice::Fixed(RuleSet::Pmp2026)).service_allowance(500).build()?;
/// assert_eq!(options.service_allowance(), 500);
/// assert_eq!(options.free_conversations(), 1000); // the default
/// # Ok::<(), wabill::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub(crate) rules: RuleChoice,
    pub(crate) rates_date: Option<NaiveDate>,
    pub(crate) service_allowance: u64,
    pub(crate) free_conversations: u64,
    pub(crate) dedup_window: TimeDelta,
    /// Drop the state of pairs whose windows have all closed (prices are the same either way;
    /// `false` keeps every pair, for the test that checks exactly that).
    pub(crate) evict_expired: bool,
    /// Fill each line's [`Why`](crate::engine::Why).
    pub(crate) explain: bool,
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
            explain: false,
        }
    }
}

impl Options {
    /// A builder starting from the defaults: rules `auto`, each event's own date's card,
    /// allowances of 1,000, a dedup window of 7 days.
    pub fn builder() -> OptionsBuilder {
        OptionsBuilder { options: Options::default() }
    }

    /// `auto` (the rule set of each event's local date) or one rule set for every event.
    pub fn rules(&self) -> RuleChoice {
        self.rules
    }

    /// The local date whose rate card (and markets table) prices every event, if one is set.
    pub fn rates_date(&self) -> Option<NaiveDate> {
        self.rates_date
    }

    /// pmp-2026: free non-template messages per business phone number per local month.
    pub fn service_allowance(&self) -> u64 {
        self.service_allowance
    }

    /// cbp: free conversations per WABA per local month.
    pub fn free_conversations(&self) -> u64 {
        self.free_conversations
    }

    /// How long a message id is remembered: a row repeating an id seen less than this long
    /// before is a duplicate.
    pub fn dedup_window(&self) -> TimeDelta {
        self.dedup_window
    }

    /// Whether each line carries the facts behind its verdict ([`PricedLine::why`](crate::engine::PricedLine)).
    pub fn explain(&self) -> bool {
        self.explain
    }
}

/// Builds [`Options`]: each setter replaces a default, [`OptionsBuilder::build`] checks them.
#[derive(Debug, Clone)]
#[must_use]
pub struct OptionsBuilder {
    options: Options,
}

impl OptionsBuilder {
    /// `auto` (the default) or one rule set for every event ("what would this log have cost
    /// under per-message pricing?").
    pub fn rules(mut self, rules: RuleChoice) -> OptionsBuilder {
        self.options.rules = rules;
        self
    }

    /// Prices every event with the rate card and markets table in force on this local date
    /// (default: each event's own local date).
    pub fn rates_date(mut self, date: Option<NaiveDate>) -> OptionsBuilder {
        self.options.rates_date = date;
        self
    }

    /// pmp-2026: free non-template messages per business number per local month (1,000).
    pub fn service_allowance(mut self, messages: u64) -> OptionsBuilder {
        self.options.service_allowance = messages;
        self
    }

    /// cbp: free conversations per WABA per local month (1,000).
    pub fn free_conversations(mut self, conversations: u64) -> OptionsBuilder {
        self.options.free_conversations = conversations;
        self
    }

    /// How long a message id is remembered for duplicates (7 days, Meta's webhook retry
    /// period); positive.
    pub fn dedup_window(mut self, window: TimeDelta) -> OptionsBuilder {
        self.options.dedup_window = window;
        self
    }

    /// Fill each line's facts ([`PricedLine::why`](crate::engine::PricedLine)); off by default, when
    /// they cost nothing.
    pub fn explain(mut self, explain: bool) -> OptionsBuilder {
        self.options.explain = explain;
        self
    }

    /// The options, checked.
    pub fn build(self) -> Result<Options, Error> {
        let window = self.options.dedup_window;
        if window <= TimeDelta::zero() {
            let what = format!("the dedup window must be positive ({}s)", window.num_seconds());
            return Err(Problem::new(what).into());
        }
        Ok(self.options)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::RuleSet;

    #[test]
    fn the_builder_sets_what_it_is_told_and_keeps_the_defaults() {
        let date = NaiveDate::from_ymd_opt(2026, 10, 1);
        let o = Options::builder().rules(RuleChoice::Fixed(RuleSet::Nbp)).rates_date(date).build().unwrap();
        assert_eq!((o.rules(), o.rates_date()), (RuleChoice::Fixed(RuleSet::Nbp), date));
        assert_eq!((o.service_allowance(), o.free_conversations()), (1000, 1000));
        assert_eq!(o.dedup_window(), TimeDelta::days(7));
        assert_eq!(Options::builder().build().unwrap(), Options::default());
    }

    #[test]
    fn a_dedup_window_must_be_positive() {
        let e = Options::builder().dedup_window(TimeDelta::zero()).build().unwrap_err();
        assert_eq!(e.to_string(), "the dedup window must be positive (0s)");
    }
}
