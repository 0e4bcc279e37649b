//! Meta's webhook documents as serde reads them (borrowing the document's text), and the items
//! they hold: user messages and statuses of business messages, each with its JSON path.
//!
//! A document is a notification (`{"object":…,"entry":[{"id":WABA,"changes":[{"field":
//! "messages","value":…}]}]}`), a BSP envelope carrying one unchanged (Gupshup v3 adds
//! `gs_app_id` beside `object` and `entry`; any other key beside them is ignored), or a bare
//! `value` object (`{"messaging_product":…,"metadata":…,"messages"|"statuses":[…]}`).

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::domain::error::Problem;

/// One document: a notification, or a bare value (every field optional, so that the shape is
/// told by what is there). A notification's changes hold values of the same shape.
#[derive(Debug, Deserialize)]
pub(super) struct Document<'a> {
    #[serde(borrow, default)]
    entry: Option<Vec<Entry<'a>>>,
    #[serde(borrow)]
    metadata: Option<Metadata<'a>>,
    #[serde(borrow, default)]
    messages: Vec<Incoming<'a>>,
    #[serde(borrow, default)]
    statuses: Vec<StatusItem<'a>>,
}

#[derive(Debug, Deserialize)]
struct Entry<'a> {
    #[serde(borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    changes: Vec<Change<'a>>,
}

#[derive(Debug, Deserialize)]
struct Change<'a> {
    #[serde(borrow)]
    field: Option<Cow<'a, str>>,
    /// A value: a document without `entry`.
    #[serde(borrow)]
    value: Option<Document<'a>>,
}

#[derive(Debug, Deserialize)]
struct Metadata<'a> {
    #[serde(borrow)]
    phone_number_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    display_phone_number: Option<Cow<'a, str>>,
}

#[derive(Debug, Deserialize)]
struct Incoming<'a> {
    #[serde(borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    from: Option<Cow<'a, str>>,
    #[serde(borrow)]
    from_user_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    timestamp: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "type")]
    kind: Option<Cow<'a, str>>,
    referral: Option<serde::de::IgnoredAny>,
}

#[derive(Debug, Deserialize)]
struct StatusItem<'a> {
    #[serde(borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    status: Option<Cow<'a, str>>,
    #[serde(borrow)]
    timestamp: Option<Cow<'a, str>>,
    #[serde(borrow)]
    recipient_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    recipient_user_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pricing: Option<Pricing<'a>>,
    #[serde(borrow)]
    conversation: Option<Conversation<'a>>,
}

#[derive(Debug, Deserialize)]
struct Pricing<'a> {
    billable: Option<bool>,
    #[serde(borrow)]
    pricing_model: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "type")]
    pricing_type: Option<Cow<'a, str>>,
    #[serde(borrow)]
    category: Option<Cow<'a, str>>,
    #[serde(borrow)]
    cost: Option<Cost<'a>>,
}

/// Meta's `cost` of a charged message: an amount, or `{"amount":…,"currency":…}`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Cost<'a> {
    Number(serde_json::Number),
    Text(Cow<'a, str>),
    Object { amount: Option<Box<Cost<'a>>> },
}

impl Cost<'_> {
    /// The amount as written.
    fn amount(&self) -> String {
        match self {
            Cost::Number(n) => n.to_string(),
            Cost::Text(t) => t.trim().to_string(),
            Cost::Object { amount, .. } => amount.as_ref().map_or_else(String::new, |a| a.amount()),
        }
    }
}

#[derive(Debug, Deserialize)]
struct Conversation<'a> {
    #[serde(borrow)]
    origin: Option<Origin<'a>>,
}

#[derive(Debug, Deserialize)]
struct Origin<'a> {
    #[serde(borrow, rename = "type")]
    kind: Option<Cow<'a, str>>,
}

/// What a status says of its message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Stage {
    Sent,
    Delivered,
    Read,
    Failed,
}

/// Meta's verdict on a charged message, as its `pricing` object gives it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetaVerdict {
    /// `billable` (deprecated by Meta from v24; absent then).
    pub billable: Option<bool>,
    /// `pricing_model`: `PMP`, `CBP`.
    pub pricing_model: String,
    /// `type`: `regular`, `free_customer_service`, `free_entry_point` (PMP).
    pub pricing_type: String,
    /// `category`: `marketing`, `utility`, `authentication`, `service`, … (a conversation's
    /// category in CBP).
    pub category: String,
    /// `cost` (its `amount` when an object), as written: what Meta charged, when it says.
    pub cost: String,
}

/// One item of a document: a user message or a status of a business message.
#[derive(Debug, Clone)]
pub(crate) enum Item {
    Incoming {
        at: DateTime<Utc>,
        waba: String,
        business: String,
        /// `metadata.display_phone_number`, empty when absent.
        phone: String,
        user: String,
        id: Option<String>,
        entry_point: bool,
    },
    Status {
        at: DateTime<Utc>,
        waba: String,
        business: String,
        /// `metadata.display_phone_number`, empty when absent.
        phone: String,
        user: String,
        id: String,
        stage: Stage,
        /// Meta's pricing object, when the status carries one.
        verdict: Option<MetaVerdict>,
        /// The category of a CBP conversation's origin, when given.
        origin: Option<String>,
        /// Where the status is, for a problem found later.
        place: Place,
        /// Its index in the value's `statuses`.
        index: u32,
    },
}

/// Where a value of a document is, made into a JSON path only when a problem names it: the
/// document's place in a JSON array (`None`: a document a line), and the entry and change that
/// hold the value (`None`: a bare value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Place {
    pub(crate) element: Option<u32>,
    pub(crate) change: Option<(u32, u32)>,
}

impl Place {
    /// The JSON path of the document itself.
    pub(crate) const DOCUMENT: Place = Place { element: None, change: None };

    /// The path of `field` under the value (`field` begins with `.`, or is empty for the
    /// value itself), e.g. `$.entry[0].changes[1].value.statuses[2].timestamp`.
    pub(crate) fn path(self, field: std::fmt::Arguments) -> String {
        use std::fmt::Write;
        let mut path = match self.element {
            Some(i) => format!("$[{i}]"),
            None => "$".to_string(),
        };
        if let Some((e, c)) = self.change {
            write!(path, ".entry[{e}].changes[{c}].value").expect("writing to a String");
        }
        write!(path, "{field}").expect("writing to a String");
        path
    }

    /// The path of status `i`'s field `field`.
    pub(crate) fn status(self, i: usize, field: &str) -> String {
        self.path(format_args!(".statuses[{i}].{field}"))
    }
}

/// The message types that are a user's message to the business: anything but a reaction to a
/// message, a system notice (e.g. a number change), or a type Meta could not read.
fn is_user_message(kind: Option<&str>) -> bool {
    !matches!(kind, Some("reaction" | "system" | "unsupported" | "errors"))
}

/// A Unix timestamp in seconds, as Meta writes it (a string of digits); `path` names it in a
/// problem.
fn unix_seconds(path: impl Fn() -> String, s: Option<&str>) -> Result<DateTime<Utc>, Problem> {
    let s = s.ok_or_else(|| Problem::path(path(), "missing", ""))?;
    s.parse::<i64>()
        .ok()
        .filter(|_| !s.starts_with('+'))
        .and_then(|n| DateTime::from_timestamp(n, 0))
        .ok_or_else(|| Problem::path(path(), "not Unix seconds", s))
}

fn required<'s>(path: impl Fn() -> String, value: &'s Option<Cow<'_, str>>) -> Result<&'s str, Problem> {
    match value.as_deref().map(str::trim) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(Problem::path(path(), "missing", "")),
    }
}

impl Document<'_> {
    /// The items of the document, in the order written; `element` is its place in a JSON
    /// array (`None` for a document a line).
    pub(super) fn items(&self, element: Option<u32>, out: &mut Vec<Item>) -> Result<(), Problem> {
        let root = Place { element, change: None };
        match &self.entry {
            Some(entries) => {
                for (e, entry) in entries.iter().enumerate() {
                    let waba = entry.id.as_deref().unwrap_or("").trim();
                    for (c, change) in entry.changes.iter().enumerate() {
                        if change.field.as_deref().is_some_and(|f| f != "messages") {
                            continue;
                        }
                        let place = Place { element, change: Some((e as u32, c as u32)) };
                        match &change.value {
                            Some(value) => value.value_items(place, waba, out)?,
                            None => return Err(Problem::path(place.path(format_args!("")), "missing", "")),
                        }
                    }
                }
                Ok(())
            }
            None if self.metadata.is_some() || !self.messages.is_empty() || !self.statuses.is_empty() => {
                self.value_items(root, "", out)
            }
            None => Err(Problem::path(
                root.path(format_args!("")),
                "not a webhook: neither a notification (entry) nor a value (metadata, messages, statuses)",
                "",
            )),
        }
    }
}

impl Document<'_> {
    /// The items of the value this document is, at `place`, of WABA `waba` ("" when the
    /// document does not say).
    fn value_items(&self, place: Place, waba: &str, out: &mut Vec<Item>) -> Result<(), Problem> {
        let Document { metadata, messages, statuses, .. } = self;
        let business = metadata
            .as_ref()
            .and_then(|m| m.phone_number_id.as_deref().or(m.display_phone_number.as_deref()));
        let business = business.map(str::trim).filter(|b| !b.is_empty());
        let phone = metadata.as_ref().and_then(|m| m.display_phone_number.as_deref()).unwrap_or("").trim();
        let business = || -> Result<String, Problem> {
            business.map(String::from).ok_or_else(|| {
                Problem::path(place.path(format_args!(".metadata.phone_number_id")), "missing", "")
            })
        };
        let waba = if waba.is_empty() { None } else { Some(waba) };
        for (i, m) in messages.iter().enumerate() {
            if !is_user_message(m.kind.as_deref()) {
                continue;
            }
            let here = |field: &str| place.path(format_args!(".messages[{i}].{field}"));
            let business = business()?;
            let at = unix_seconds(|| here("timestamp"), m.timestamp.as_deref())?;
            let user = match (&m.from, &m.from_user_id) {
                (Some(from), _) if !from.trim().is_empty() => from.trim().to_string(),
                (_, user_id) => required(|| here("from"), user_id)?.to_string(),
            };
            let id = m.id.as_deref().map(str::trim).filter(|id| !id.is_empty()).map(String::from);
            let waba = waba.map_or_else(|| business.clone(), String::from);
            let phone = phone.to_string();
            out.push(Item::Incoming {
                at,
                waba,
                business,
                phone,
                user,
                id,
                entry_point: m.referral.is_some(),
            });
        }
        for (i, s) in statuses.iter().enumerate() {
            let here = |field: &str| place.status(i, field);
            let business = business()?;
            let id = required(|| here("id"), &s.id)?.to_string();
            let stage = match required(|| here("status"), &s.status)? {
                "sent" => Stage::Sent,
                "delivered" => Stage::Delivered,
                "read" | "played" => Stage::Read,
                "failed" => Stage::Failed,
                // A status Meta may add (e.g. `deleted`, `warning`) says nothing of delivery.
                _ => continue,
            };
            let at = unix_seconds(|| here("timestamp"), s.timestamp.as_deref())?;
            let user = match (&s.recipient_id, &s.recipient_user_id) {
                (Some(to), _) if !to.trim().is_empty() => to.trim().to_string(),
                (_, user_id) => required(|| here("recipient_id"), user_id)?.to_string(),
            };
            let verdict = s.pricing.as_ref().map(|p| MetaVerdict {
                billable: p.billable,
                pricing_model: p.pricing_model.as_deref().unwrap_or("").trim().to_string(),
                pricing_type: p.pricing_type.as_deref().unwrap_or("").trim().to_lowercase(),
                category: p.category.as_deref().unwrap_or("").trim().to_lowercase(),
                cost: p.cost.as_ref().map_or_else(String::new, Cost::amount),
            });
            let origin =
                s.conversation.as_ref().and_then(|c| c.origin.as_ref()).and_then(|o| o.kind.as_deref());
            let origin = origin.map(|o| o.trim().to_lowercase()).filter(|o| !o.is_empty());
            let waba = waba.map_or_else(|| business.clone(), String::from);
            out.push(Item::Status {
                at,
                waba,
                business,
                phone: phone.to_string(),
                user,
                id,
                stage,
                verdict,
                origin,
                place,
                index: i as u32,
            });
        }
        Ok(())
    }
}

/// Reads one document of NDJSON.
pub(super) fn document(text: &str) -> Result<Document<'_>, Problem> {
    serde_json::from_str(text).map_err(|e| problem(&e, Place::DOCUMENT))
}

impl Document<'_> {
    /// A document of a JSON array, read from its value.
    pub(super) fn of_value(value: &serde_json::Value, element: u32) -> Result<Document<'_>, Problem> {
        let place = Place { element: Some(element), change: None };
        Deserialize::deserialize(value).map_err(|e: serde_json::Error| problem(&e, place))
    }
}

/// What serde could not read, and where it stopped (the column within the document).
pub(super) fn problem(e: &serde_json::Error, place: Place) -> Problem {
    let what = match e.classify() {
        serde_json::error::Category::Eof => "truncated JSON",
        serde_json::error::Category::Syntax => "not JSON",
        _ => "not a webhook document",
    };
    // serde's message ends with where it stopped, which the column says again.
    let message = e.to_string();
    let message = message.rsplit_once(" at line ").map_or(message.as_str(), |(m, _)| m);
    Problem::path(place.path(format_args!("")), format!("{what} at column {}: {message}", e.column()), "")
}
