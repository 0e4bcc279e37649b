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
    id: Option<Text<'a>>,
    #[serde(borrow, default)]
    changes: Vec<Change<'a>>,
}

#[derive(Debug, Deserialize)]
struct Change<'a> {
    #[serde(borrow)]
    field: Option<Text<'a>>,
    /// A value: a document without `entry`.
    #[serde(borrow)]
    value: Option<Document<'a>>,
}

/// A string of a document: borrowed from the document's text, or owned when it holds escapes.
///
/// serde reads an `Option<Cow<str>>` as an owned string whatever `#[serde(borrow)]` says (only
/// a bare `Cow<str>` field borrows); a `Text` borrows inside an `Option` too, so a document's
/// strings cost no allocation unless they hold escapes.
#[derive(Debug)]
struct Text<'a>(Cow<'a, str>);

impl std::ops::Deref for Text<'_> {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Text<'a>, D::Error> {
        struct Visitor;

        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Text<'de>;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                // As serde says it of a `String`, so that problems read as before.
                f.write_str("a string")
            }

            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(v)))
            }

            fn visit_str<E>(self, v: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v.to_string())))
            }

            fn visit_string<E>(self, v: String) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }

        deserializer.deserialize_str(Visitor)
    }
}

#[derive(Debug, Deserialize)]
struct Metadata<'a> {
    #[serde(borrow)]
    phone_number_id: Option<Text<'a>>,
    #[serde(borrow)]
    display_phone_number: Option<Text<'a>>,
}

#[derive(Debug, Deserialize)]
struct Incoming<'a> {
    #[serde(borrow)]
    id: Option<Text<'a>>,
    #[serde(borrow)]
    from: Option<Text<'a>>,
    #[serde(borrow)]
    from_user_id: Option<Text<'a>>,
    #[serde(borrow)]
    timestamp: Option<Text<'a>>,
    #[serde(borrow, rename = "type")]
    kind: Option<Text<'a>>,
    referral: Option<serde::de::IgnoredAny>,
}

#[derive(Debug, Deserialize)]
struct StatusItem<'a> {
    #[serde(borrow)]
    id: Option<Text<'a>>,
    #[serde(borrow)]
    status: Option<Text<'a>>,
    #[serde(borrow)]
    timestamp: Option<Text<'a>>,
    #[serde(borrow)]
    recipient_id: Option<Text<'a>>,
    #[serde(borrow)]
    recipient_user_id: Option<Text<'a>>,
    #[serde(borrow)]
    pricing: Option<Pricing<'a>>,
    #[serde(borrow)]
    conversation: Option<Conversation<'a>>,
}

#[derive(Debug, Deserialize)]
struct Pricing<'a> {
    billable: Option<bool>,
    #[serde(borrow)]
    pricing_model: Option<Text<'a>>,
    #[serde(borrow, rename = "type")]
    pricing_type: Option<Text<'a>>,
    #[serde(borrow)]
    category: Option<Text<'a>>,
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
    fn amount(&self) -> Cow<'_, str> {
        match self {
            Cost::Number(n) => Cow::Owned(n.to_string()),
            Cost::Text(t) => Cow::Borrowed(trim(t)),
            Cost::Object { amount } => amount.as_ref().map_or(Cow::Borrowed(""), |a| a.amount()),
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
    kind: Option<Text<'a>>,
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

/// Meta's verdict as a status gives it, borrowed from its document: the words [`MetaVerdict`]
/// keeps (trimmed; the type and the category in lower case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Verdict<'a> {
    pub(crate) billable: Option<bool>,
    pub(crate) pricing_model: &'a str,
    pub(crate) pricing_type: Cow<'a, str>,
    pub(crate) category: Cow<'a, str>,
    pub(crate) cost: Cow<'a, str>,
}

impl Verdict<'_> {
    /// The verdict a message keeps.
    pub(crate) fn to_meta(&self) -> MetaVerdict {
        MetaVerdict {
            billable: self.billable,
            pricing_model: self.pricing_model.to_string(),
            pricing_type: self.pricing_type.to_string(),
            category: self.category.to_string(),
            cost: self.cost.to_string(),
        }
    }

    /// Whether `held` says the same.
    pub(crate) fn is(&self, held: &MetaVerdict) -> bool {
        self.billable == held.billable
            && self.pricing_model == held.pricing_model
            && self.pricing_type == held.pricing_type
            && self.category == held.category
            && self.cost == held.cost
    }
}

/// One item of a document, borrowed from it: a user message or a status of a business
/// message. The reducer copies what it keeps, once per message.
#[derive(Debug, Clone)]
pub(crate) enum Item<'a> {
    Incoming {
        at: DateTime<Utc>,
        waba: &'a str,
        business: &'a str,
        /// `metadata.display_phone_number`, empty when absent.
        phone: &'a str,
        user: &'a str,
        id: Option<&'a str>,
        entry_point: bool,
    },
    Status {
        at: DateTime<Utc>,
        waba: &'a str,
        business: &'a str,
        /// `metadata.display_phone_number`, empty when absent.
        phone: &'a str,
        user: &'a str,
        id: &'a str,
        stage: Stage,
        /// Meta's pricing object, when the status carries one.
        verdict: Option<Verdict<'a>>,
        /// The category of a CBP conversation's origin, when given, in lower case.
        origin: Option<Cow<'a, str>>,
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

/// The user: the phone number when given, else the business-scoped user id; `path` names the
/// phone number's field in a problem.
fn user_of<'s>(
    phone: &'s Option<Text<'_>>,
    user_id: &'s Option<Text<'_>>,
    path: impl Fn() -> String,
) -> Result<&'s str, Problem> {
    match phone {
        Some(p) if !trim(p).is_empty() => Ok(trim(p)),
        _ => required(path, user_id),
    }
}

fn required<'s>(path: impl Fn() -> String, value: &'s Option<Text<'_>>) -> Result<&'s str, Problem> {
    match value.as_deref().map(trim) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(Problem::path(path(), "missing", "")),
    }
}

/// `s` without the whitespace around it. Meta's words have none, which a look at each end
/// tells without decoding characters.
fn trim(s: &str) -> &str {
    match (s.as_bytes().first(), s.as_bytes().last()) {
        (Some(a), Some(z)) if a.is_ascii_graphic() && z.is_ascii_graphic() => s,
        _ => s.trim(),
    }
}

/// `s` in lower case: borrowed when it is already, as Meta writes its words.
fn lower(s: &str) -> Cow<'_, str> {
    if s.bytes().any(|b| b.is_ascii_uppercase() || !b.is_ascii()) {
        Cow::Owned(s.to_lowercase())
    } else {
        Cow::Borrowed(s)
    }
}

impl Document<'_> {
    /// The items of the document, in the order written; `element` is its place in a JSON
    /// array (`None` for a document a line).
    pub(super) fn items<'d>(&'d self, element: Option<u32>, out: &mut Vec<Item<'d>>) -> Result<(), Problem> {
        let root = Place { element, change: None };
        match &self.entry {
            Some(entries) => {
                for (e, entry) in entries.iter().enumerate() {
                    let waba = trim(entry.id.as_deref().unwrap_or(""));
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
    fn value_items<'d>(
        &'d self,
        place: Place,
        waba: &'d str,
        out: &mut Vec<Item<'d>>,
    ) -> Result<(), Problem> {
        let Document { metadata, messages, statuses, .. } = self;
        let business = metadata
            .as_ref()
            .and_then(|m| m.phone_number_id.as_deref().or(m.display_phone_number.as_deref()));
        let business = business.map(trim).filter(|b| !b.is_empty());
        let phone = metadata.as_ref().and_then(|m| m.display_phone_number.as_deref()).map_or("", trim);
        let business = || -> Result<&'d str, Problem> {
            business.ok_or_else(|| {
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
            let user = user_of(&m.from, &m.from_user_id, || here("from"))?;
            let id = m.id.as_deref().map(trim).filter(|id| !id.is_empty());
            let waba = waba.unwrap_or(business);
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
            let id = required(|| here("id"), &s.id)?;
            let stage = match required(|| here("status"), &s.status)? {
                "sent" => Stage::Sent,
                "delivered" => Stage::Delivered,
                "read" | "played" => Stage::Read,
                "failed" => Stage::Failed,
                // A status Meta may add (e.g. `deleted`, `warning`) says nothing of delivery.
                _ => continue,
            };
            let at = unix_seconds(|| here("timestamp"), s.timestamp.as_deref())?;
            let user = user_of(&s.recipient_id, &s.recipient_user_id, || here("recipient_id"))?;
            let verdict = s.pricing.as_ref().map(|p| Verdict {
                billable: p.billable,
                pricing_model: trim(p.pricing_model.as_deref().unwrap_or("")),
                pricing_type: lower(trim(p.pricing_type.as_deref().unwrap_or(""))),
                category: lower(trim(p.category.as_deref().unwrap_or(""))),
                cost: p.cost.as_ref().map_or(Cow::Borrowed(""), Cost::amount),
            });
            let origin =
                s.conversation.as_ref().and_then(|c| c.origin.as_ref()).and_then(|o| o.kind.as_deref());
            let origin = origin.map(|o| lower(trim(o))).filter(|o| !o.is_empty());
            let waba = waba.unwrap_or(business);
            out.push(Item::Status {
                at,
                waba,
                business,
                phone,
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
