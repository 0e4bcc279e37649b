//! Each priced line in words (docs/rules.md §13): a sentence and the facts behind it, read from
//! the line's [`Why`] and its event, with the place of the user message that opened its window.

use std::fmt::Write;

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use foldhash::HashMap;

use crate::domain::error::Position;
use crate::domain::event::{Category, Direction, Event, Kind, PricingCategory, PricingType};
use crate::domain::time::rfc3339;
use crate::engine::{PricedLine, Why};

/// The columns an explained line adds to the priced lines, in order.
pub const EXPLAIN_COLUMNS: [&str; 9] = [
    "why",
    "window_opened_by",
    "window_opened",
    "window_closes",
    "free_until",
    "conversation_opened",
    "tier_position",
    "pulses",
    "allowance_used",
];

/// Explains lines in the order they are priced: remembers where each pair's latest user
/// message was read, to name it when a later line is inside the window it opened.
#[derive(Debug, Default)]
pub struct Explainer {
    /// The latest inbound line of each pair ([`Why::pair`]): where it was read, when, and
    /// whether it was a call.
    inbound: HashMap<u64, (Position, DateTime<Utc>, bool)>,
    zones: HashMap<Box<str>, Tz>,
}

/// One line explained: the sentence, then the facts as the columns of [`EXPLAIN_COLUMNS`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    /// The sentence.
    pub sentence: String,
    /// The facts after the sentence, as written in the columns (empty when none).
    pub facts: [String; EXPLAIN_COLUMNS.len() - 1],
}

impl Explainer {
    /// An explainer that has seen no line.
    pub fn new() -> Explainer {
        Explainer::default()
    }

    /// Explains `line`, priced from `event` read at `at`. Lines must come in the order they
    /// were priced, each with its [`Why`] filled (an engine with `Options::explain`).
    pub fn explain(&mut self, event: &Event, line: &PricedLine, at: &Position) -> Explanation {
        let why = &line.why;
        if line.pricing_type == PricingType::Inbound {
            self.inbound.insert(why.pair, (at.clone(), line.timestamp, event.kind == Kind::Call));
        }
        let zone = self.zone(line);
        let time = |t: DateTime<Utc>| local(t, zone);
        let opening =
            why.window_opened.and_then(|t| self.inbound.get(&why.pair).filter(|(_, at, _)| *at == t));
        let opened_by = opening.map(|(p, _, _)| p.to_string());
        let by_call = opening.is_some_and(|&(_, _, call)| call);
        let sentence = sentence(event, line, (opened_by.as_deref(), by_call), &time);
        let day = TimeDelta::days(1);
        let facts = [
            opened_by.unwrap_or_default(),
            why.window_opened.map(|t| rfc3339_in(t, zone)).unwrap_or_default(),
            why.window_opened.map(|t| rfc3339_in(t + day, zone)).unwrap_or_default(),
            why.free_until.map(|t| rfc3339_in(t, zone)).unwrap_or_default(),
            why.conversation_opened.map(|t| rfc3339_in(t, zone)).unwrap_or_default(),
            why.tier_position.map(|k| k.to_string()).unwrap_or_default(),
            why.pulses.map(|p| p.to_string()).unwrap_or_default(),
            why.allowance.map(|(n, of)| format!("{n}/{of}")).unwrap_or_default(),
        ];
        Explanation { sentence, facts }
    }

    fn zone(&mut self, line: &PricedLine) -> Tz {
        if let Some(&z) = self.zones.get(line.business()) {
            return z;
        }
        let z = line.account.book.accounts.get(line.business()).timezone;
        self.zones.insert(line.business().into(), z);
        z
    }
}

/// An instant in the WABA's zone, to the minute: `2026-10-05 09:00 (+03:00)`, or
/// `2025-09-01 08:00 UTC`.
fn local(t: DateTime<Utc>, zone: Tz) -> String {
    let format = if zone == Tz::UTC { "%Y-%m-%d %H:%M UTC" } else { "%Y-%m-%d %H:%M (%:z)" };
    t.with_timezone(&zone).format(format).to_string()
}

/// An instant in the WABA's zone, as RFC 3339.
fn rfc3339_in(t: DateTime<Utc>, zone: Tz) -> String {
    let local = t.with_timezone(&zone);
    if zone == Tz::UTC {
        return rfc3339(t);
    }
    local.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

/// What the message is, in words: `a marketing template`, `an authentication template`, `a
/// free-form message`, `a 56-second call`, with `in a group` for a group's member.
fn what(event: &Event) -> String {
    let mut s = match event.kind {
        Kind::Template(Category::Authentication) => "an authentication template".to_string(),
        Kind::Template(c) => format!("a {c} template"),
        Kind::NonTemplate => "a free-form message".to_string(),
        Kind::Call => format!("a {}-second call", event.duration),
    };
    if event.group.is_some() {
        s.push_str(" in a group");
    }
    s
}

/// The sentence of docs/rules.md §13 for a line.
fn sentence(
    event: &Event,
    line: &PricedLine,
    (opened_by, by_call): (Option<&str>, bool),
    time: &dyn Fn(DateTime<Utc>) -> String,
) -> String {
    let why: &Why = &line.why;
    let mut s = String::new();
    let window = |s: &mut String| {
        if let Some(t) = why.window_opened {
            let by = opened_by.map_or(String::new(), |p| format!(" ({p})"));
            let what = if by_call { "call" } else { "message" };
            let _ = write!(
                s,
                "inside the customer service window opened by the user's {what} of {}{by}, open until {}",
                time(t),
                time(t + TimeDelta::days(1))
            );
        }
    };
    let band = |s: &mut String| {
        if let (Some(tier), Some(k)) = (line.tier, why.tier_position) {
            let unit = if event.kind == Kind::Call { "minute" } else { "message" };
            let _ = write!(s, " (band {tier}: {unit} {k} of the month's count)");
        }
    };
    let charged = |s: &mut String| {
        let _ = write!(s, "Charged {} {}: ", line.charge.normalize(), line.currency);
    };
    let market = line.market();
    match line.pricing_type {
        PricingType::Duplicate => {
            let _ = write!(
                s,
                "A repeat of message {}, already priced: not charged again.",
                event.id.unwrap_or("")
            );
        }
        PricingType::Inbound => {
            let what = match (event.kind, event.group) {
                (Kind::Call, _) => "The user's call",
                (_, Some(_)) => "A member's message in a group",
                _ => "The user's message",
            };
            let whose = if event.group.is_some() { "the group's" } else { "the" };
            let close = time(line.timestamp + TimeDelta::days(1));
            let _ = write!(s, "{what}: free; it opens {whose} customer service window until {close}");
            if event.entry_point {
                s.push_str(
                    ", and as a free entry point, a reply within 24 hours opens a free entry point window",
                );
            }
            s.push('.');
        }
        PricingType::Undelivered if event.kind == Kind::Call => s.push_str("A call not answered: free."),
        PricingType::Undelivered => {
            let _ = write!(s, "Not delivered (status {}): free.", event.status);
        }
        PricingType::Violation => {
            let _ = write!(
                s,
                "Not charged, but a violation: {} outside any customer service window (no user message in the 24 hours before)",
                what(event)
            );
            if why.free_until.is_some() {
                s.push_str(", even inside a free entry point window");
            }
            s.push_str("; Meta requires the window for free-form messages.");
        }
        PricingType::FreeEntryPoint => {
            let until = why.free_until.map_or(String::new(), |t| format!(" until {}", time(t)));
            let _ = write!(s, "Free: {} inside the free entry point window{until}.", what(event));
        }
        PricingType::FreeCustomerService | PricingType::FreeGroupCustomerService => {
            let _ = write!(s, "Free: {} ", what(event));
            window(&mut s);
            if let Some((n, of)) = why.allowance {
                let _ = write!(s, "; service message {n} of the number's {of} free this month");
            }
            s.push('.');
        }
        PricingType::FreeTier => {
            let category = line.pricing_category.map_or("", |c| c.as_str());
            let _ = write!(s, "Free: {} opens a {category} conversation", what(event));
            if let Some(t) = why.conversation_opened {
                let _ = write!(s, " (open until {})", time(t + TimeDelta::days(1)));
            }
            if let Some((n, of)) = why.allowance {
                let _ = write!(s, ", conversation {n} of the WABA's {of} free this month");
            }
            s.push('.');
        }
        PricingType::Conversation => {
            let category = line.pricing_category.map_or("", |c| c.as_str());
            let _ = write!(s, "Free: {} covered by the {category} conversation", what(event));
            if let Some(t) = why.conversation_opened {
                let _ = write!(s, " opened {}, open until {}", time(t), time(t + TimeDelta::days(1)));
            }
            s.push('.');
        }
        PricingType::Regular if line.rate.is_none() => {
            charged(&mut s);
            s.push_str("Meta's observed price of a Marketing Messages API delivery with a maximum price.");
        }
        PricingType::Regular if event.kind == Kind::Call => {
            charged(&mut s);
            let pulses = why.pulses.unwrap_or(0);
            let rate = line.rate.unwrap_or_default().normalize();
            let _ = write!(s, "{} to {market} is {pulses} six-second pulses at {rate} a minute", what(event));
            band(&mut s);
            s.push('.');
        }
        PricingType::Regular => {
            charged(&mut s);
            let rate = line.rate.unwrap_or_default().normalize();
            let _ = write!(s, "{} to {market} at {rate}", what(event));
            band(&mut s);
            if let Some((n, of)) = why.allowance {
                let _ = write!(s, ", service message {n} of the month, beyond the number's {of} free");
            }
            let template = matches!(event.kind, Kind::Template(_));
            let category = line.pricing_category.map(PricingCategory::one_to_one);
            if why.conversation_opened == Some(line.timestamp) {
                let close = time(line.timestamp + TimeDelta::days(1));
                let _ = write!(s, "; it opens a conversation, open until {close}");
            } else if template && why.window_opened.is_some() && line.direction == Direction::Mt {
                let kind = category.map_or("these", |c| c.as_str());
                let _ = write!(s, "; {kind} templates are charged inside the customer service window too");
            } else if template {
                s.push_str(", outside any customer service window");
            }
            s.push('.');
        }
    }
    s
}
