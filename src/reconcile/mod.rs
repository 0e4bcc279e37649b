//! wabill checked against Meta (docs/rules.md §11): each message's line against Meta's verdict
//! on it, and wabill's lines counted into the buckets of Meta's `pricing_analytics` (or
//! `conversation_analytics`) responses, side by side.
//!
//! ```
//! use wabill::reconcile::{MetaSays, Reconciler, Tolerance};
//! use wabill::{Accounts, Category, Engine, Event, Kind, Options, Position, Pricebook};
//!
//! let mut engine = Engine::new(Pricebook::embedded(Accounts::default()).into(), Options::default());
//! let mut check = Reconciler::new(Vec::new(), Tolerance::default());
//! let t = "2025-09-01T08:00:00Z".parse().unwrap();
//! let event = Event::mt(t, "my-number", "+91 98765 43210", Kind::Template(Category::Utility));
//! let line = engine.push(&event)?;
//! // Meta's webhook said: free, inside the customer service window.
//! let meta = MetaSays::read("false", "PMP", "free_customer_service", "utility", "").unwrap();
//! let at = Position { file: "log.csv".into(), line: 2 };
//! let disagreement = check.message(&event, line, meta.map(Ok), &at, Default::default()).unwrap();
//! assert_eq!(disagreement.mismatch.as_str(), "charged");
//! assert!(disagreement.reason.starts_with("no user message in the log within 24h before"));
//! assert_eq!(check.finish().messages.disagreements(), 1);
//! # Ok::<(), wabill::Error>(())
//! ```

mod analytics;
mod check;
mod render;
mod words;

use std::collections::HashMap;

use chrono::{DateTime, TimeDelta, Utc};

pub use analytics::{Analytics, Bucket, Figures, Source, Tolerance, DIMENSIONS};
pub use check::{Disagreement, MessageCounts, Mismatch, Money, DISAGREEMENT_COLUMNS};
pub use words::{meta_category, meta_type, MetaSays, UnknownWord};

use crate::domain::error::Position;
use crate::domain::event::{Direction, Event, PricingCategory, PricingType};
use crate::domain::money::Currency;
use crate::domain::time::DAY;
use crate::engine::PricedLine;
use crate::rules::state::FEP_WINDOW;
use crate::rules::RuleSet;
use analytics::Join;
use check::Messages;

/// What a log says of a message's account beyond wabill's accounts file: the WABA (a webhook's
/// `entry[].id`) and the business number as displayed (`display_phone_number`), which Meta's
/// analytics name.
#[derive(Debug, Clone, Copy, Default)]
pub struct Names<'a> {
    /// The WABA, when the log names it.
    pub waba: Option<&'a str>,
    /// The business number as displayed, when the log gives it.
    pub phone: Option<&'a str>,
}

/// Values by user id.
type ByUser<V> = HashMap<Box<str>, V>;

/// The check as it goes: feed it every priced line in order ([`Reconciler::message`]), then
/// [`Reconciler::finish`].
pub struct Reconciler {
    messages: Messages,
    joins: Vec<Join>,
    tolerance: Tolerance,
    /// When each pair's last entry-point conversation opened (conversation eras), by business
    /// then user, to count the entry-point conversations.
    entry_points: HashMap<Box<str>, ByUser<Option<DateTime<Utc>>>>,
}

/// The result: the comparison of messages and the buckets. It renders as a table, CSV or
/// JSON (`wabill::report::Render`).
#[derive(Debug, Clone)]
pub struct Reconciliation {
    /// The counts of the messages compared.
    pub messages: MessageCounts,
    /// The money each side implies, per currency.
    pub money: Vec<Money>,
    /// The messages compared by the words each side gives them ([`Reconciliation::tally`]).
    tally: check::Tally,
    /// The first and last message compared.
    pub span: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// Every bucket of every response, Meta's and wabill's figures side by side.
    pub buckets: Vec<Bucket>,
    /// Each response's file, and how many of wabill's lines of its WABA fell outside its
    /// period (not compared).
    pub analytics: Vec<(String, u64)>,
    /// How far apart a bucket's costs may be.
    pub tolerance: Tolerance,
}

impl Reconciliation {
    /// The messages compared, by the words of each side's verdict: the pricing type (none in
    /// CBP) and category, the currency, and each side's figures (wabill's of the messages it
    /// words so, Meta's of those Meta words so).
    #[allow(clippy::type_complexity)]
    pub fn tally(
        &self,
    ) -> impl Iterator<Item = (Option<PricingType>, Option<PricingCategory>, Currency, &Figures, &Figures)>
    {
        self.tally.iter().map(|((t, c, cur), (w, m))| (*t, *c, *cur, w, m))
    }

    /// Whether nothing disagrees: no message, no bucket's volume, no bucket's cost.
    pub fn agrees(&self) -> bool {
        self.messages.disagreements() == 0 && self.buckets.iter().all(|b| b.volume_agrees && b.cost_agrees)
    }
}

impl Reconciler {
    /// A check against these responses of Meta's (none: messages only), costs of a bucket
    /// agreeing within `tolerance`.
    pub fn new(analytics: Vec<Analytics>, tolerance: Tolerance) -> Reconciler {
        Reconciler {
            messages: Messages::default(),
            joins: analytics.into_iter().map(Join::new).collect(),
            tolerance,
            entry_points: HashMap::new(),
        }
    }

    /// Compares one priced line (every line of the log, in order: user messages tell the
    /// reasons of later disagreements) with Meta's verdict on it, if the log has one; `at` is
    /// its row. Returns the disagreement, if they disagree.
    pub fn message(
        &mut self,
        event: &Event,
        line: &PricedLine,
        meta: Option<Result<MetaSays, UnknownWord>>,
        at: &Position,
        names: Names,
    ) -> Option<Disagreement> {
        let delivered = line.direction == Direction::Mt
            && !matches!(
                line.pricing_type,
                PricingType::Duplicate | PricingType::Undelivered | PricingType::Violation
            );
        let says = meta.as_ref().and_then(|m| m.as_ref().ok());
        if (delivered || says.is_some()) && line.direction == Direction::Mt && !self.joins.is_empty() {
            let opens = delivered && self.opens_entry_point(event, line);
            for join in &mut self.joins {
                join.add(line, names, delivered, opens, says);
            }
        }
        self.messages.message(event, line, meta, at)
    }

    /// Whether a line opens a conversation: any conversation era line but one covered by an
    /// open conversation, and of a pair's entry-point lines the first of each window (24 hours
    /// in cbp-2022, 72 after).
    fn opens_entry_point(&mut self, event: &Event, line: &PricedLine) -> bool {
        match line.pricing_type {
            PricingType::Conversation => false,
            PricingType::FreeEntryPoint => {
                let window = if line.rules == RuleSet::Cbp2022 { DAY } else { FEP_WINDOW };
                let opened = check::entry(check::entry(&mut self.entry_points, line.business()), event.user);
                let open = opened.is_some_and(|t| line.timestamp - t < TimeDelta::nanoseconds(window));
                if !open {
                    *opened = Some(line.timestamp);
                }
                !open
            }
            _ => true,
        }
    }

    /// The result.
    pub fn finish(self) -> Reconciliation {
        let mut buckets = Vec::new();
        let mut analytics = Vec::new();
        for join in self.joins {
            analytics.push((join.file().to_string(), join.outside));
            buckets.extend(join.buckets(self.tolerance));
        }
        Reconciliation {
            messages: self.messages.counts(),
            money: self.messages.money.clone(),
            tally: self.messages.tally,
            span: self.messages.span,
            buckets,
            analytics,
            tolerance: self.tolerance,
        }
    }
}
