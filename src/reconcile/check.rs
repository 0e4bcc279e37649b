//! The comparison of each message's line with Meta's verdict on it (docs/rules.md §11): which
//! way they differ, what each side implies it cost, and a likely reason read from what came
//! before it in the log.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, TimeDelta, Utc};
use rust_decimal::Decimal;

use super::analytics::Figures;
use super::words::{MetaSays, UnknownWord};
use crate::domain::error::Position;
use crate::domain::event::{named_enum, Direction, Event, Month, PricingCategory, PricingModel, PricingType};
use crate::domain::money::Currency;
use crate::domain::time::{rfc3339, DAY};
use crate::engine::PricedLine;
use crate::rules::state::FEP_WINDOW;
use crate::rules::RuleSet;

named_enum! {
    /// How wabill's verdict on a message differs from Meta's: the first of these that does.
    pub enum Mismatch ("disagreement") {
        /// wabill has the message undelivered or refused (a violation); Meta priced it.
        Delivery = "delivery",
        /// A word of Meta's verdict is not in wabill's table.
        UnknownWord = "unknown_word",
        /// Priced under another model (PMP, CBP).
        Model = "pricing_model",
        /// Charged by one side only (PMP), or billable by one side only (CBP).
        Charged = "charged",
        /// Both free, for different reasons (PMP).
        Type = "pricing_type",
        /// Another category.
        Category = "pricing_category",
        /// Both charged, at different amounts (when Meta sends its cost).
        Cost = "cost",
    }
}

/// One message on which wabill and Meta disagree, with what each side implies it cost and a
/// likely reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disagreement {
    /// The first way they differ.
    pub mismatch: Mismatch,
    /// The message's row.
    pub at: Position,
    /// What Meta said, as read (`None` for a word not in the table).
    pub meta: Option<MetaSays>,
    /// What wabill charged.
    pub wabill_charge: Decimal,
    /// What Meta's verdict implies: its `cost` when it sends one, 0 when free, else the
    /// rate of Meta's category in the message's market (wabill's own charge where the
    /// categories agree).
    pub meta_charge: Decimal,
    /// A likely reason, from the messages before it in the log.
    pub reason: String,
}

/// The columns of the disagreements file, in order ([`Disagreement::record`]).
pub const DISAGREEMENT_COLUMNS: [&str; 20] = [
    "id",
    "timestamp",
    "business",
    "user",
    "file",
    "line",
    "disagreement",
    "rules",
    "pricing_model",
    "pricing_type",
    "pricing_category",
    "meta_pricing_model",
    "meta_pricing_type",
    "meta_pricing_category",
    "meta_billable",
    "currency",
    "wabill_charge",
    "meta_charge",
    "difference",
    "likely_reason",
];

impl Disagreement {
    /// Its row of the disagreements file ([`DISAGREEMENT_COLUMNS`]).
    pub fn record(&self, event: &Event, line: &PricedLine) -> Vec<String> {
        let opt = |o: Option<&dyn std::fmt::Display>| o.map_or_else(String::new, |v| v.to_string());
        let m = self.meta.as_ref();
        vec![
            event.id.unwrap_or("").to_string(),
            rfc3339(line.timestamp),
            line.business().to_string(),
            event.user.to_string(),
            self.at.file.to_string(),
            self.at.line.to_string(),
            self.mismatch.to_string(),
            line.rules.to_string(),
            line.pricing_model.to_string(),
            line.pricing_type.to_string(),
            opt(line.pricing_category.as_ref().map(|c| c as _)),
            opt(m.map(|m| &m.model as _)),
            opt(m.and_then(|m| m.pricing_type.as_ref()).map(|t| t as _)),
            opt(m.and_then(|m| m.category.as_ref()).map(|c| c as _)),
            opt(m.and_then(|m| m.billable.as_ref()).map(|b| b as _)),
            line.currency.to_string(),
            self.wabill_charge.normalize().to_string(),
            self.meta_charge.normalize().to_string(),
            (self.meta_charge - self.wabill_charge).normalize().to_string(),
            self.reason.clone(),
        ]
    }
}

/// The counts of the comparison of messages.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct MessageCounts {
    /// Business messages with Meta's verdict, compared.
    pub compared: u64,
    /// Of which wabill and Meta agree on.
    pub agree: u64,
    /// Of which they disagree on, by the first way they differ ([`Mismatch::ALL`]'s order).
    pub disagree: Vec<(Mismatch, u64)>,
    /// Delivered business messages without Meta's verdict (not compared).
    pub without_verdict: u64,
}

impl MessageCounts {
    /// Messages that disagree, in all.
    pub fn disagreements(&self) -> u64 {
        self.disagree.iter().map(|(_, n)| n).sum()
    }
}

/// The money each side implies for the messages compared, in one currency, and wabill's
/// charges of the messages without Meta's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Money {
    /// The currency.
    pub currency: Currency,
    /// wabill's charges of the messages compared.
    pub wabill: Decimal,
    /// What Meta's verdicts imply for them (see [`Disagreement::meta_charge`]).
    pub meta: Decimal,
    /// wabill's charges of the messages without Meta's verdict.
    pub without_verdict: Decimal,
}

/// What the log said before a message: each pair's last user message and last entry point,
/// and the pmp-2026 allowance's count of each business number and local month.
#[derive(Default)]
pub(super) struct History {
    /// By business, then user: looked up by the line's `&str`s, a key copied only when new.
    pairs: HashMap<Box<str>, HashMap<Box<str>, Seen>>,
    allowance: HashMap<Box<str>, HashMap<Month, u64>>,
}

#[derive(Default)]
struct Seen {
    user_message: Option<(DateTime<Utc>, Position)>,
    entry_point: Option<(DateTime<Utc>, Position)>,
}

/// The messages of a pmp-2026 business number's month that reach the allowance rule.
fn reaches_allowance(line: &PricedLine) -> bool {
    line.rules == RuleSet::Pmp2026
        && line.pricing_category == Some(PricingCategory::Service)
        && matches!(line.pricing_type, PricingType::FreeCustomerService | PricingType::Regular)
}

/// The messages compared, tallied by the words each side gives them: the pricing type (none in
/// CBP, which has none), the category, and the currency.
pub(super) type Tally =
    BTreeMap<(Option<PricingType>, Option<PricingCategory>, Currency), (Figures, Figures)>;

/// The per-message comparison: counts, money, the tally by words, and each disagreement.
#[derive(Default)]
pub(super) struct Messages {
    compared: u64,
    without_verdict: u64,
    pub(super) disagree: [u64; Mismatch::ALL.len()],
    pub(super) money: Vec<Money>,
    pub(super) tally: Tally,
    /// The first and last message compared.
    pub(super) span: Option<(DateTime<Utc>, DateTime<Utc>)>,
    pub(super) history: History,
}

/// Adds a message of `charge` to figures.
fn add(f: &mut Figures, charge: Decimal) {
    f.volume += 1;
    *f.cost.get_or_insert(Decimal::ZERO) += charge;
}

impl Messages {
    /// Compares one priced row; `meta` is Meta's verdict as read, if the row has one.
    pub(super) fn message(
        &mut self,
        event: &Event,
        line: &PricedLine,
        meta: Option<Result<MetaSays, UnknownWord>>,
        at: &Position,
    ) -> Option<Disagreement> {
        if line.direction == Direction::Mo {
            self.history.user_message(event, line, at);
            return None;
        }
        if line.pricing_type == PricingType::Duplicate {
            return None;
        }
        let allowance_before = if reaches_allowance(line) { self.history.count_allowance(line) } else { 0 };
        let money = match self.money.iter().position(|m| m.currency == line.currency) {
            Some(i) => &mut self.money[i],
            None => {
                let z = Decimal::ZERO;
                self.money.push(Money { currency: line.currency, wabill: z, meta: z, without_verdict: z });
                self.money.last_mut().expect("just pushed")
            }
        };
        let Some(meta) = meta else {
            if line.pricing_type != PricingType::Undelivered {
                self.without_verdict += 1;
                money.without_verdict += line.charge;
            }
            return None;
        };
        self.compared += 1;
        let (mismatch, says, unknown) = match meta {
            Ok(says) => (mismatch(line, &says), Some(says), None),
            Err(word) => (Some(Mismatch::UnknownWord), None, Some(word)),
        };
        let meta_charge = says.as_ref().map_or(line.charge, |s| meta_charge(line, s));
        money.wabill += line.charge;
        money.meta += meta_charge;
        let (first, _) = self.span.get_or_insert((line.timestamp, line.timestamp));
        self.span = Some((*first, line.timestamp));
        let per_message = |model| (model == PricingModel::Pmp).then_some(());
        let ours = (per_message(line.pricing_model).map(|()| line.pricing_type), line.pricing_category);
        add(&mut self.tally.entry((ours.0, ours.1, line.currency)).or_default().0, line.charge);
        if let Some(m) = &says {
            let theirs = (per_message(m.model).and(m.pricing_type), m.category);
            add(&mut self.tally.entry((theirs.0, theirs.1, line.currency)).or_default().1, meta_charge);
        }
        let mismatch = mismatch?;
        self.disagree[mismatch as usize] += 1;
        let reason = match (&says, unknown) {
            (Some(says), _) => self.history.reason(mismatch, event, line, says, allowance_before),
            (None, word) => word.map_or_else(String::new, |w| w.to_string()),
        };
        Some(Disagreement {
            mismatch,
            at: at.clone(),
            meta: says,
            wabill_charge: line.charge,
            meta_charge,
            reason,
        })
    }

    pub(super) fn counts(&self) -> MessageCounts {
        let disagree = Mismatch::ALL.iter().map(|&m| (m, self.disagree[m as usize])).filter(|(_, n)| *n > 0);
        let disagree: Vec<_> = disagree.collect();
        let agree = self.compared - disagree.iter().map(|(_, n)| n).sum::<u64>();
        MessageCounts { compared: self.compared, agree, disagree, without_verdict: self.without_verdict }
    }
}

/// Whether the line is billable as Meta means it in CBP: part of a billable conversation (any
/// but a free entry point's); `None` for a free service conversation, on which Meta's word is
/// not documented.
fn cbp_billable(t: PricingType) -> Option<bool> {
    match t {
        PricingType::FreeEntryPoint => Some(false),
        PricingType::FreeCustomerService => None,
        _ => Some(true),
    }
}

/// The first way wabill's line and Meta's verdict differ, if any.
fn mismatch(line: &PricedLine, says: &MetaSays) -> Option<Mismatch> {
    let m = Some;
    if matches!(line.pricing_type, PricingType::Undelivered | PricingType::Violation) {
        return m(Mismatch::Delivery);
    }
    if says.model != line.pricing_model {
        return m(Mismatch::Model);
    }
    if says.model == PricingModel::Pmp {
        if says.charged().is_some_and(|c| c != (line.pricing_type == PricingType::Regular)) {
            return m(Mismatch::Charged);
        }
        if says.pricing_type.is_some_and(|t| t != line.pricing_type) {
            return m(Mismatch::Type);
        }
    } else if let (Some(meta), Some(ours)) = (says.billable, cbp_billable(line.pricing_type)) {
        if meta != ours {
            return m(Mismatch::Charged);
        }
    }
    if says.category.is_some() && says.category != line.pricing_category {
        return m(Mismatch::Category);
    }
    if let Some(cost) = says.cost {
        // Equal at Meta's precision: wabill's exact charge rounded to as many decimals.
        if line.charge.round_dp(cost.scale()) != cost {
            return m(Mismatch::Cost);
        }
    }
    None
}

/// What Meta's verdict implies the message cost (see [`Disagreement::meta_charge`]).
fn meta_charge(line: &PricedLine, says: &MetaSays) -> Decimal {
    if let Some(cost) = says.cost {
        return cost;
    }
    let charged = match says.model {
        PricingModel::Pmp => says.charged().unwrap_or(false),
        // Billable in CBP: charged only by the message that opened the conversation, which
        // wabill knows for its own lines only.
        _ => says.billable != Some(false) && line.pricing_type == PricingType::Regular,
    };
    match says.category {
        _ if !charged => Decimal::ZERO,
        c if c == line.pricing_category && line.pricing_type == PricingType::Regular => line.charge,
        Some(c) => line.list_rate(c).unwrap_or(line.charge),
        None => line.charge,
    }
}

impl History {
    fn user_message(&mut self, event: &Event, line: &PricedLine, at: &Position) {
        let seen = entry(entry(&mut self.pairs, line.business()), event.user);
        seen.user_message = Some((line.timestamp, at.clone()));
        if event.entry_point {
            seen.entry_point = Some((line.timestamp, at.clone()));
        }
    }

    /// How many messages of the line's number and local month reached the pmp-2026 allowance
    /// before it; counts it.
    fn count_allowance(&mut self, line: &PricedLine) -> u64 {
        let count = entry(&mut self.allowance, line.business()).entry(line.month()).or_default();
        *count += 1;
        *count - 1
    }

    /// A likely reason for a disagreement, from what the log said before the message.
    fn reason(
        &self,
        mismatch: Mismatch,
        event: &Event,
        line: &PricedLine,
        says: &MetaSays,
        allowance_before: u64,
    ) -> String {
        let seen = self.pairs.get(line.business()).and_then(|users| users.get(event.user));
        fn within<'s>(
            last: Option<&'s (DateTime<Utc>, Position)>,
            line: &PricedLine,
            window: i64,
        ) -> Option<&'s (DateTime<Utc>, Position)> {
            last.filter(|(t, _)| line.timestamp - *t <= TimeDelta::nanoseconds(window))
        }
        // The customer service window, and an entry point's.
        let user_message = within(seen.and_then(|s| s.user_message.as_ref()), line, DAY);
        let entry_point = within(seen.and_then(|s| s.entry_point.as_ref()), line, FEP_WINDOW);
        let utc_date = line.timestamp.date_naive();
        let dates = if utc_date == line.local_date {
            format!("local date {}", line.local_date)
        } else {
            format!("local date {} (UTC {utc_date})", line.local_date)
        };
        let meta_type = says.pricing_type;
        match mismatch {
            Mismatch::Delivery
                if line.pricing_type == PricingType::Violation
                    && meta_type == Some(PricingType::FreeEntryPoint) =>
            {
                "a free-form message with no user message in the log within 24h before (wabill: a \
                 violation); Meta says a free entry point: is the log missing the user's ad click (a \
                 message with a referral)?"
                    .into()
            }
            Mismatch::Delivery if line.pricing_type == PricingType::Violation => {
                "a free-form message with no user message in the log within 24h before (wabill: a \
                 violation); Meta delivered and priced it: is the log missing the user's messages?"
                    .into()
            }
            Mismatch::Delivery => "the log has it undelivered; Meta priced it as delivered: is a later \
                                   status missing from the log?"
                .into(),
            Mismatch::Model => format!(
                "wabill priced it under {} on its {dates}; Meta under {}: is the WABA's time zone \
                 right (the era changes at local midnight)?",
                line.rules, says.model
            ),
            Mismatch::Charged | Mismatch::Type => {
                let ours = line.pricing_type;
                if ours == PricingType::FreeEntryPoint {
                    return match entry_point {
                        Some((t, pos)) => format!(
                            "the free entry point that made this free is the user message at {pos} ({}), \
                             which Meta may not have counted as one",
                            rfc3339(*t)
                        ),
                        None => "free through an entry point carried over from an earlier era".into(),
                    };
                }
                let cbp_free = says.model == PricingModel::Cbp && says.billable == Some(false);
                if meta_type == Some(PricingType::FreeEntryPoint) || cbp_free {
                    return "Meta counted a free entry point: no user message with a referral in the \
                            log within 72h before: is the log missing the user's ad click?"
                        .into();
                }
                if reaches_allowance(line) {
                    let month = line.month();
                    return if ours == PricingType::Regular {
                        format!(
                            "allowance used up earlier by {allowance_before} non-templates of this number \
                             in local month {month}: are messages of another number or month in the log, \
                             or is the WABA's time zone right?"
                        )
                    } else {
                        format!(
                            "wabill counted {allowance_before} non-templates of this number in local month \
                             {month} before it, within the allowance: is the log missing messages of this \
                             number, or is the WABA's time zone right?"
                        )
                    };
                }
                match (ours, user_message) {
                    (PricingType::FreeCustomerService, Some((t, pos))) => format!(
                        "the window that made this free was opened by the user message at {pos} ({}), \
                         which Meta may not have received",
                        rfc3339(*t)
                    ),
                    (PricingType::Regular, None) if meta_type == Some(PricingType::FreeCustomerService) => {
                        "no user message in the log within 24h before: is the log missing the user's \
                         messages?"
                            .into()
                    }
                    (PricingType::Regular, Some((t, pos))) => format!(
                        "the user wrote at {pos} ({}), within 24h, and {} charges a {} template inside \
                         the window; Meta did not: are the rules of {dates} right?",
                        rfc3339(*t),
                        line.rules,
                        line.pricing_category.map_or("", |c| c.as_str())
                    ),
                    _ => format!("wabill: {ours} under {} on its {dates}", line.rules),
                }
            }
            Mismatch::Category => format!(
                "wabill priced it as {} from the log's category (or --templates); Meta as {}: did Meta \
                 recategorise the template, or is the category in the log wrong?",
                line.pricing_category.map_or("none", |c| c.as_str()),
                says.category.map_or("none", |c| c.as_str())
            ),
            Mismatch::Cost => format!(
                "Meta's cost {} differs from wabill's {} (rate {}, tier {}): is the rate card of {} \
                 the one Meta used, and are all the portfolio's messages of the month in the log \
                 (tiers count them)?",
                says.cost.unwrap_or_default(),
                line.charge.normalize(),
                line.rate.map_or_else(|| "none".into(), |r| r.normalize().to_string()),
                line.tier.map_or_else(|| "none".into(), |t| t.to_string()),
                line.rate_date
            ),
            Mismatch::UnknownWord => String::new(),
        }
    }
}

/// The value of `key` in a map keyed by owned strings, added (the key copied) when absent.
pub(super) fn entry<'m, V: Default>(map: &'m mut HashMap<Box<str>, V>, key: &str) -> &'m mut V {
    if !map.contains_key(key) {
        map.insert(key.into(), V::default());
    }
    map.get_mut(key).expect("just inserted")
}
