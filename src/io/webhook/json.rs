//! Meta's webhook documents as serde reads them (borrowing the document's text), and the items
//! they hold: user messages and statuses of business messages, each with its JSON path.
//!
//! A document is a notification (`{"object":…,"entry":[{"id":WABA,"changes":[{"field":
//! "messages"|"calls","value":…}]}]}`), a BSP envelope carrying one unchanged (Gupshup v3 adds
//! `gs_app_id` beside `object` and `entry`; any other key beside them is ignored), or a bare
//! `value` object (`{"messaging_product":…,"metadata":…,"messages"|"statuses"|"calls":[…]}`).

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::domain::error::Problem;
use crate::domain::event::Direction;
use crate::domain::user::bsuid_country;
use crate::engine::seen::SeenIds;

/// A document as read: the values it holds (each change's, or the bare value the document is)
/// and their items' fields, in vectors kept from one document to the next (emptied by
/// [`Fields::clear`]). Reading fills them in place: no vector and no struct of the document
/// is made for one document alone.
#[derive(Debug, Default)]
pub(super) struct Fields<'a> {
    /// The document has `entry` (a notification): its values are its changes'; else it is a
    /// bare value, `values[0]`.
    notification: bool,
    /// Each entry's `id` (its WABA).
    entries: Vec<Option<Text<'a>>>,
    values: Vec<Value<'a>>,
    contacts: Vec<Contact<'a>>,
    messages: Vec<Incoming<'a>>,
    statuses: Vec<StatusItem<'a>>,
    calls: Vec<CallItem<'a>>,
}

/// A value: a change's (of entry `entry`, with its `field`), or the document's own.
#[derive(Debug, Default)]
struct Value<'a> {
    /// The entry and the change that hold it; `None` for a bare value.
    change: Option<(u32, u32)>,
    field: Option<Text<'a>>,
    /// A change's value was given (and was not `null`).
    given: bool,
    metadata: Option<Metadata<'a>>,
    /// Who the users of the value are: a phone number (`wa_id`) and a business-scoped id
    /// (`user_id`), either or both.
    contacts: std::ops::Range<usize>,
    messages: std::ops::Range<usize>,
    statuses: std::ops::Range<usize>,
    /// The Calling API's events (`field: "calls"`).
    calls: std::ops::Range<usize>,
}

impl Fields<'_> {
    /// Empties the fields, keeping their vectors.
    pub(super) fn clear(&mut self) {
        self.notification = false;
        self.entries.clear();
        self.values.clear();
        self.contacts.clear();
        self.messages.clear();
        self.statuses.clear();
        self.calls.clear();
    }
}

/// Which of a map's keys were met, to refuse one given twice as serde's derive does.
#[derive(Default)]
struct Seen(u8);

impl Seen {
    fn first<E: serde::de::Error>(&mut self, bit: u8, name: &'static str) -> Result<(), E> {
        if self.0 & bit != 0 {
            return Err(E::duplicate_field(name));
        }
        self.0 |= bit;
        Ok(())
    }
}

/// An object of a document read a key at a time into [`Fields`]: the document itself, an
/// entry, a change, a value.
trait Object<'a> {
    /// Its name in a problem, as serde's derive would give it.
    const NAME: &'static str;

    /// Begins reading it: e.g. makes its room in the fields.
    fn begin(&mut self, fields: &mut Fields<'a>);

    /// Reads the value of `key`.
    fn key<'de: 'a, M: serde::de::MapAccess<'de>>(
        &mut self,
        fields: &mut Fields<'a>,
        key: Key,
        map: &mut M,
        seen: &mut Seen,
    ) -> Result<(), M::Error>;
}

/// Reads an object into the fields.
struct Read<'f, 'a, O>(&'f mut Fields<'a>, O);

impl<'de: 'a, 'a, O: Object<'a>> serde::de::DeserializeSeed<'de> for Read<'_, 'a, O> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de: 'a, 'a, O: Object<'a>> serde::de::Visitor<'de> for Read<'_, 'a, O> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(O::NAME)
    }

    fn visit_map<M: serde::de::MapAccess<'de>>(self, mut map: M) -> Result<(), M::Error> {
        let Read(fields, mut object) = self;
        object.begin(fields);
        let mut seen = Seen::default();
        while let Some(key) = map.next_key::<Key>()? {
            object.key(fields, key, &mut map, &mut seen)?;
        }
        Ok(())
    }
}

/// Reads a sequence of objects into the fields, the `n`th made by `make(n)`.
struct Each<'f, 'a, F>(&'f mut Fields<'a>, F);

impl<'de: 'a, 'a, O: Object<'a>, F: FnMut(u32) -> O> serde::de::DeserializeSeed<'de> for Each<'_, 'a, F> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de: 'a, 'a, O: Object<'a>, F: FnMut(u32) -> O> serde::de::Visitor<'de> for Each<'_, 'a, F> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a sequence")
    }

    fn visit_seq<S: serde::de::SeqAccess<'de>>(self, mut seq: S) -> Result<(), S::Error> {
        let Each(fields, mut make) = self;
        let mut n = 0;
        while seq.next_element_seed(Read(&mut *fields, make(n)))?.is_some() {
            n += 1;
        }
        Ok(())
    }
}

/// The document (a notification, or a bare value: every field optional, so that the shape is
/// told by what is there; other keys are skipped). Its own value is `values[0]`.
struct Document;

impl<'a> Object<'a> for Document {
    const NAME: &'static str = "struct Document";

    fn begin(&mut self, fields: &mut Fields<'a>) {
        fields.values.push(Value::default());
    }

    fn key<'de: 'a, M: serde::de::MapAccess<'de>>(
        &mut self,
        fields: &mut Fields<'a>,
        key: Key,
        map: &mut M,
        seen: &mut Seen,
    ) -> Result<(), M::Error> {
        match key {
            Key::Entry => {
                seen.first(1, "entry")?;
                let entries = Optional(Each(&mut *fields, |_| Entry(0)));
                fields.notification = map.next_value_seed(entries)?.is_some();
            }
            key => value_field(map, fields, 0, key, seen)?,
        }
        Ok(())
    }
}

/// An entry of a notification: its `id` (its WABA) and its `changes`; its number in the
/// document once begun.
struct Entry(u32);

impl<'a> Object<'a> for Entry {
    const NAME: &'static str = "struct Entry";

    fn begin(&mut self, fields: &mut Fields<'a>) {
        self.0 = fields.entries.len() as u32;
        fields.entries.push(None);
    }

    fn key<'de: 'a, M: serde::de::MapAccess<'de>>(
        &mut self,
        fields: &mut Fields<'a>,
        key: Key,
        map: &mut M,
        seen: &mut Seen,
    ) -> Result<(), M::Error> {
        let entry = self.0;
        match key {
            Key::Id => {
                seen.first(1, "id")?;
                fields.entries[entry as usize] = map.next_value()?;
            }
            Key::Changes => {
                seen.first(2, "changes")?;
                // A sequence, as Meta writes it (`null` is not one).
                let changes = Each(&mut *fields, |change| Change { change: (entry, change), at: 0 });
                map.next_value_seed(changes)?;
            }
            _ => {
                map.next_value::<serde::de::IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

/// A change of an entry: its `field` and its `value`, which is value `at` of the fields once
/// begun.
struct Change {
    change: (u32, u32),
    at: usize,
}

impl<'a> Object<'a> for Change {
    const NAME: &'static str = "struct Change";

    fn begin(&mut self, fields: &mut Fields<'a>) {
        self.at = fields.values.len();
        fields.values.push(Value { change: Some(self.change), ..Value::default() });
    }

    fn key<'de: 'a, M: serde::de::MapAccess<'de>>(
        &mut self,
        fields: &mut Fields<'a>,
        key: Key,
        map: &mut M,
        seen: &mut Seen,
    ) -> Result<(), M::Error> {
        match key {
            Key::Field => {
                seen.first(1, "field")?;
                fields.values[self.at].field = map.next_value()?;
            }
            Key::Value => {
                seen.first(2, "value")?;
                let value = Optional(Read(&mut *fields, ChangeValue(self.at)));
                fields.values[self.at].given = map.next_value_seed(value)?.is_some();
            }
            _ => {
                map.next_value::<serde::de::IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

/// A change's value: value `at` of the fields.
struct ChangeValue(usize);

impl<'a> Object<'a> for ChangeValue {
    const NAME: &'static str = "struct Document";

    fn begin(&mut self, _: &mut Fields<'a>) {}

    fn key<'de: 'a, M: serde::de::MapAccess<'de>>(
        &mut self,
        fields: &mut Fields<'a>,
        key: Key,
        map: &mut M,
        seen: &mut Seen,
    ) -> Result<(), M::Error> {
        value_field(map, fields, self.0, key, seen)
    }
}

/// A key of a document, an entry, a change or a value that is read; any other is skipped.
enum Key {
    Entry,
    Id,
    Changes,
    Field,
    Value,
    Metadata,
    Messages,
    Statuses,
    Contacts,
    Calls,
    Other,
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Key, D::Error> {
        struct Visitor;

        impl serde::de::Visitor<'_> for Visitor {
            type Value = Key;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("field identifier")
            }

            fn visit_str<E>(self, v: &str) -> Result<Key, E> {
                Ok(match v {
                    "entry" => Key::Entry,
                    "id" => Key::Id,
                    "changes" => Key::Changes,
                    "field" => Key::Field,
                    "value" => Key::Value,
                    "metadata" => Key::Metadata,
                    "messages" => Key::Messages,
                    "statuses" => Key::Statuses,
                    "contacts" => Key::Contacts,
                    "calls" => Key::Calls,
                    _ => Key::Other,
                })
            }
        }

        deserializer.deserialize_identifier(Visitor)
    }
}

/// Reads the value of `key`, one of a value's fields, into value `at` of `fields`; a key that
/// is not one is skipped.
fn value_field<'de: 'a, 'a, M: serde::de::MapAccess<'de>>(
    map: &mut M,
    fields: &mut Fields<'a>,
    at: usize,
    key: Key,
    seen: &mut Seen,
) -> Result<(), M::Error> {
    match key {
        Key::Metadata => {
            seen.first(2, "metadata")?;
            fields.values[at].metadata = map.next_value()?;
        }
        Key::Messages => {
            seen.first(4, "messages")?;
            fields.values[at].messages = many(map, &mut fields.messages)?;
        }
        Key::Statuses => {
            seen.first(8, "statuses")?;
            fields.values[at].statuses = many(map, &mut fields.statuses)?;
        }
        Key::Contacts => {
            seen.first(16, "contacts")?;
            fields.values[at].contacts = many(map, &mut fields.contacts)?;
        }
        Key::Calls => {
            seen.first(32, "calls")?;
            fields.values[at].calls = many(map, &mut fields.calls)?;
        }
        _ => {
            map.next_value::<serde::de::IgnoredAny>()?;
        }
    }
    Ok(())
}

/// Reads the value, a sequence of `T`, onto `vec`: the range of it that the sequence fills.
fn many<'de, T: Deserialize<'de>, M: serde::de::MapAccess<'de>>(
    map: &mut M,
    vec: &mut Vec<T>,
) -> Result<std::ops::Range<usize>, M::Error> {
    let start = vec.len();
    map.next_value_seed(Many(&mut *vec))?;
    Ok(start..vec.len())
}

/// A sequence whose elements are pushed onto a vector, as they are read.
struct Many<'v, T>(&'v mut Vec<T>);

impl<'de, T: Deserialize<'de>> serde::de::DeserializeSeed<'de> for Many<'_, T> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for Many<'_, T> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a sequence")
    }

    fn visit_seq<S: serde::de::SeqAccess<'de>>(self, mut seq: S) -> Result<(), S::Error> {
        while let Some(element) = seq.next_element()? {
            self.0.push(element);
        }
        Ok(())
    }
}

/// A seed of a value that may be `null`: `None` then.
struct Optional<S>(S);

impl<'de, S: serde::de::DeserializeSeed<'de>> serde::de::DeserializeSeed<'de> for Optional<S> {
    type Value = Option<S::Value>;

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_option(self)
    }
}

impl<'de, S: serde::de::DeserializeSeed<'de>> serde::de::Visitor<'de> for Optional<S> {
    type Value = Option<S::Value>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("option")
    }

    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        self.0.deserialize(deserializer).map(Some)
    }
}

#[derive(Debug, Deserialize)]
struct Contact<'a> {
    #[serde(borrow)]
    wa_id: Option<Text<'a>>,
    #[serde(borrow)]
    user_id: Option<Text<'a>>,
}

/// A Calling API event: `connect` when a call is set up, `terminate` when it ends (with its
/// outcome).
#[derive(Debug, Deserialize)]
struct CallItem<'a> {
    #[serde(borrow)]
    id: Option<Text<'a>>,
    #[serde(borrow)]
    event: Option<Text<'a>>,
    #[serde(borrow)]
    direction: Option<Text<'a>>,
    #[serde(borrow)]
    from: Option<Text<'a>>,
    #[serde(borrow)]
    from_user_id: Option<Text<'a>>,
    #[serde(borrow)]
    to: Option<Text<'a>>,
    #[serde(borrow)]
    to_user_id: Option<Text<'a>>,
    #[serde(borrow)]
    timestamp: Option<Text<'a>>,
    #[serde(borrow)]
    start_time: Option<Text<'a>>,
    #[serde(borrow)]
    end_time: Option<Text<'a>>,
    duration: Option<Scalar<'a>>,
    #[serde(borrow)]
    status: Option<Text<'a>>,
}

/// A number, or the same written as a string: Meta writes a call's `duration` and a
/// message's `cost` either way.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Scalar<'a> {
    Number(serde_json::Number),
    Text(Cow<'a, str>),
}

impl Scalar<'_> {
    /// The value as written (a string trimmed).
    fn text(&self) -> Cow<'_, str> {
        match self {
            Scalar::Number(n) => Cow::Owned(n.to_string()),
            Scalar::Text(t) => Cow::Borrowed(trim(t)),
        }
    }

    /// Whole seconds, or the text that is not.
    fn whole(&self) -> Result<u32, String> {
        let text = self.text();
        text.parse().map_err(|_| text.to_string())
    }
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
    /// The group the message was sent in (Groups API).
    #[serde(borrow)]
    group_id: Option<Text<'a>>,
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
    /// `group` when the recipient is a group (`recipient_id` then is the group's id).
    #[serde(borrow)]
    recipient_type: Option<Text<'a>>,
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
    Scalar(Scalar<'a>),
    Object { amount: Option<Box<Cost<'a>>>, currency: Option<Cow<'a, str>> },
}

impl Cost<'_> {
    /// The amount as written.
    fn amount(&self) -> Cow<'_, str> {
        match self {
            Cost::Scalar(s) => s.text(),
            Cost::Object { amount, .. } => amount.as_ref().map_or(Cow::Borrowed(""), |a| a.amount()),
        }
    }

    /// The currency, when an object names one.
    fn currency(&self) -> Option<&str> {
        match self {
            Cost::Object { currency: Some(c), .. } => Some(trim(c)).filter(|c| !c.is_empty()),
            _ => None,
        }
    }

    /// What the cost charges, read exactly as a log's `cost` and `cost_currency` columns are;
    /// `None` when it gives no amount; `path` names the cost in a problem.
    fn charge(&self, path: impl Fn(&str) -> String) -> Result<Option<crate::domain::event::Cost>, Problem> {
        let amount = self.amount();
        if amount.is_empty() {
            return Ok(None);
        }
        let object = matches!(self, Cost::Object { .. });
        let cost = crate::domain::event::Cost::parse(&amount, self.currency()).map_err(|p| {
            p.at_path(|column| match (column, object) {
                ("cost_currency", _) => path(".currency"),
                (_, true) => path(".amount"),
                (_, false) => path(""),
            })
        })?;
        Ok(Some(cost))
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
    /// What a `marketing_lite` delivery with a maximum price was charged (`cost`, read).
    pub(crate) charge: Option<crate::domain::event::Cost>,
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
        /// The user's business-scoped id (the user being their phone number), the group, and
        /// for a call, its direction and length.
        extra: Extra<'a>,
    },
    Status(MessageStatus<'a>),
}

/// A status of a business message, borrowed from its document.
#[derive(Debug, Clone)]
pub(crate) struct MessageStatus<'a> {
    pub(crate) at: DateTime<Utc>,
    pub(crate) waba: &'a str,
    pub(crate) business: &'a str,
    /// `metadata.display_phone_number`, empty when absent.
    pub(crate) phone: &'a str,
    pub(crate) user: &'a str,
    /// The user's business-scoped id, the user being their phone number.
    pub(crate) bsuid: Option<&'a str>,
    pub(crate) id: &'a str,
    /// The id's fingerprint ([`SeenIds::fingerprint`]), made where the document is parsed.
    pub(crate) fingerprint: u64,
    pub(crate) stage: Stage,
    /// Meta's pricing object, when the status carries one.
    pub(crate) verdict: Option<Verdict<'a>>,
    /// The category of a CBP conversation's origin, when given, in lower case.
    pub(crate) origin: Option<Cow<'a, str>>,
    /// Where the status is, for a problem found later.
    pub(crate) place: Place,
    /// Its index in the value's `statuses`.
    pub(crate) index: u32,
}

impl MessageStatus<'_> {
    /// Where the status is, as a problem names it.
    pub(crate) fn path(&self) -> String {
        self.place.status(self.index as usize, "status")
    }
}

impl<'a> Item<'a> {
    /// The item with each of its borrowed strings given by `keep`: e.g. the same text, in
    /// another place that lives longer.
    pub(crate) fn keep<'b>(self, keep: &mut impl FnMut(&'a str) -> &'b str) -> Item<'b> {
        fn cow<'a, 'b>(c: Cow<'a, str>, keep: &mut impl FnMut(&'a str) -> &'b str) -> Cow<'b, str> {
            match c {
                Cow::Borrowed(s) => Cow::Borrowed(keep(s)),
                Cow::Owned(s) => Cow::Owned(s),
            }
        }
        match self {
            Item::Incoming { at, waba, business, phone, user, id, entry_point, extra } => Item::Incoming {
                at,
                waba: keep(waba),
                business: keep(business),
                phone: keep(phone),
                user: keep(user),
                id: id.map(&mut *keep),
                entry_point,
                extra: Extra {
                    bsuid: extra.bsuid.map(&mut *keep),
                    group: extra.group.map(&mut *keep),
                    call: extra.call,
                },
            },
            Item::Status(s) => Item::Status(MessageStatus {
                at: s.at,
                waba: keep(s.waba),
                business: keep(s.business),
                phone: keep(s.phone),
                user: keep(s.user),
                bsuid: s.bsuid.map(&mut *keep),
                id: keep(s.id),
                fingerprint: s.fingerprint,
                stage: s.stage,
                verdict: s.verdict.map(|v| Verdict {
                    billable: v.billable,
                    pricing_model: keep(v.pricing_model),
                    pricing_type: cow(v.pricing_type, keep),
                    category: cow(v.category, keep),
                    cost: cow(v.cost, keep),
                    charge: v.charge,
                }),
                origin: s.origin.map(|o| cow(o, keep)),
                place: s.place,
                index: s.index,
            }),
        }
    }
}

/// What a user message or a call says beside the names of its business and user.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Extra<'a> {
    /// The user's business-scoped id, when the user is named by their phone number.
    pub(crate) bsuid: Option<&'a str>,
    /// The group of a message sent in one.
    pub(crate) group: Option<&'a str>,
    /// A call's direction and length in seconds (0: not answered).
    pub(crate) call: Option<(Direction, u32)>,
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

/// The user and, when both are known, their business-scoped id: the phone number when given
/// (by the item, or for the item's business-scoped id by the value's `contacts[]`, at `place`),
/// else the business-scoped id. `here` names a field of the item in a problem.
fn identity<'s>(
    [phone, user_id]: [&'s Option<Text<'_>>; 2],
    contacts: &'s [Contact<'_>],
    [phone_field, id_field]: [&str; 2],
    place: Place,
    here: impl Fn(&str) -> String,
) -> Result<(&'s str, Option<&'s str>), Problem> {
    fn given<'s>(t: &'s Option<Text<'_>>) -> Option<&'s str> {
        t.as_deref().map(trim).filter(|s| !s.is_empty())
    }
    // Most values name a user by phone number in one contact without a user id: one look.
    let (user, bsuid, contact) = match (given(phone), given(user_id)) {
        (None, None) => return Err(Problem::path(here(phone_field), "missing", "")),
        (Some(p), Some(u)) => (p, u, None),
        (Some(p), None) => {
            let found = contacts
                .iter()
                .enumerate()
                .find_map(|(j, c)| given(&c.user_id).filter(|_| given(&c.wa_id) == Some(p)).map(|u| (j, u)));
            match found {
                None => return Ok((p, None)),
                Some((j, u)) => (p, u, Some(j)),
            }
        }
        (None, Some(u)) => {
            match contacts.iter().find(|c| given(&c.user_id) == Some(u)).and_then(|c| given(&c.wa_id)) {
                None => return Ok((u, None)),
                Some(p) => (p, u, None),
            }
        }
    };
    if bsuid_country(bsuid).is_none() {
        let at = match contact {
            Some(j) => place.path(format_args!(".contacts[{j}].user_id")),
            None => here(id_field),
        };
        return Err(Problem::path(at, "not a business-scoped user id (CC.…)", bsuid));
    }
    Ok((user, Some(bsuid)))
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

impl<'a> Fields<'a> {
    /// Reads one document of NDJSON into the fields (emptied first).
    pub(super) fn read(&mut self, text: &'a str) -> Result<(), Problem> {
        self.clear();
        let mut deserializer = serde_json::Deserializer::from_str(text);
        serde::de::DeserializeSeed::deserialize(Read(self, Document), &mut deserializer)
            .and_then(|()| deserializer.end())
            .map_err(|e| problem(&e, Place::DOCUMENT))
    }

    /// Reads a document of a JSON array, element `element`, from its value.
    pub(super) fn read_value(&mut self, value: &'a serde_json::Value, element: u32) -> Result<(), Problem> {
        self.clear();
        let place = Place { element: Some(element), change: None };
        serde::de::DeserializeSeed::deserialize(Read(self, Document), value).map_err(|e| problem(&e, place))
    }

    /// The items of the document, in the order written, each string given by `keep` (e.g.
    /// the same text, in a place that lives longer); `element` is its place in a JSON array
    /// (`None` for a document a line).
    pub(super) fn items<'d, 'o>(
        &'d self,
        element: Option<u32>,
        keep: &mut impl FnMut(&'d str) -> &'o str,
        out: &mut Vec<Item<'o>>,
    ) -> Result<(), Problem> {
        let root = Place { element, change: None };
        if self.notification {
            for value in &self.values[1..] {
                let (e, c) = value.change.expect("a change's value");
                // A `calls` change's statuses are a call's (ringing, accepted), not a
                // message's.
                let calls = match value.field.as_deref() {
                    None | Some("messages") => false,
                    Some("calls") => true,
                    Some(_) => continue,
                };
                let place = Place { element, change: Some((e, c)) };
                if !value.given {
                    return Err(Problem::path(place.path(format_args!("")), "missing", ""));
                }
                let waba = trim(self.entries[e as usize].as_deref().unwrap_or(""));
                self.value_items(value, place, waba, calls, keep, out)?;
            }
            return Ok(());
        }
        let value = &self.values[0];
        if value.metadata.is_some()
            || !value.messages.is_empty()
            || !value.statuses.is_empty()
            || !value.calls.is_empty()
        {
            return self.value_items(value, root, "", false, keep, out);
        }
        Err(Problem::path(
            root.path(format_args!("")),
            "not a webhook: neither a notification (entry) nor a value (metadata, messages, statuses, calls)",
            "",
        ))
    }

    /// The items of `value`, at `place`, of WABA `waba` ("" when the document does not say);
    /// of a `calls` change (`calls`), only its calls.
    fn value_items<'d, 'o>(
        &'d self,
        value: &'d Value<'a>,
        place: Place,
        waba: &'d str,
        calls: bool,
        keep: &mut impl FnMut(&'d str) -> &'o str,
        out: &mut Vec<Item<'o>>,
    ) -> Result<(), Problem> {
        let Value { metadata, .. } = value;
        let contacts = &self.contacts[value.contacts.clone()];
        let (messages, statuses) = match calls {
            true => (&[][..], &[][..]),
            false => (&self.messages[value.messages.clone()], &self.statuses[value.statuses.clone()]),
        };
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
            let names = [&m.from, &m.from_user_id];
            let (user, bsuid) = identity(names, contacts, ["from", "from_user_id"], place, here)?;
            let id = m.id.as_deref().map(trim).filter(|id| !id.is_empty());
            let group = m.group_id.as_deref().map(trim).filter(|g| !g.is_empty());
            let waba = waba.unwrap_or(business);
            let item = Item::Incoming {
                at,
                waba,
                business,
                phone,
                user,
                id,
                entry_point: m.referral.is_some(),
                extra: Extra { bsuid, group, call: None },
            };
            out.push(item.keep(keep));
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
            // A group's own status (`recipient_id` the group) names no member, and a group
            // message is charged per delivered member: not a row (docs/rules.md §10).
            if s.recipient_type.as_deref().is_some_and(|t| trim(t).eq_ignore_ascii_case("group")) {
                continue;
            }
            let at = unix_seconds(|| here("timestamp"), s.timestamp.as_deref())?;
            let names = [&s.recipient_id, &s.recipient_user_id];
            let (user, bsuid) =
                identity(names, contacts, ["recipient_id", "recipient_user_id"], place, here)?;
            let verdict = match &s.pricing {
                None => None,
                Some(p) => {
                    let category = lower(trim(p.category.as_deref().unwrap_or("")));
                    let charge = match &p.cost {
                        Some(cost) if category == "marketing_lite" => {
                            cost.charge(|field| here(&format!("pricing.cost{field}")))?
                        }
                        _ => None,
                    };
                    Some(Verdict {
                        billable: p.billable,
                        pricing_model: trim(p.pricing_model.as_deref().unwrap_or("")),
                        pricing_type: lower(trim(p.pricing_type.as_deref().unwrap_or(""))),
                        category,
                        cost: p.cost.as_ref().map_or(Cow::Borrowed(""), Cost::amount),
                        charge,
                    })
                }
            };
            let origin =
                s.conversation.as_ref().and_then(|c| c.origin.as_ref()).and_then(|o| o.kind.as_deref());
            let origin = origin.map(|o| lower(trim(o))).filter(|o| !o.is_empty());
            let waba = waba.unwrap_or(business);
            let item = Item::Status(MessageStatus {
                at,
                waba,
                business,
                phone,
                user,
                bsuid,
                id,
                fingerprint: SeenIds::fingerprint(id),
                stage,
                verdict,
                origin,
                place,
                index: i as u32,
            });
            out.push(item.keep(keep));
        }
        for (i, c) in self.calls[value.calls.clone()].iter().enumerate() {
            if let Some(item) = call_item(i, c, contacts, place, waba, phone, &business)? {
                out.push(item.keep(keep));
            }
        }
        Ok(())
    }
}

/// The row of call event `i`, `c`: a `terminate` (which tells the outcome), at the call's
/// start; none for another event (`connect`). `contacts` are its value's.
fn call_item<'d>(
    i: usize,
    c: &'d CallItem<'_>,
    contacts: &'d [Contact<'_>],
    place: Place,
    waba: Option<&'d str>,
    phone: &'d str,
    business: &dyn Fn() -> Result<&'d str, Problem>,
) -> Result<Option<Item<'d>>, Problem> {
    if !c.event.as_deref().is_some_and(|e| trim(e).eq_ignore_ascii_case("terminate")) {
        return Ok(None);
    }
    let here = |field: &str| place.path(format_args!(".calls[{i}].{field}"));
    let business = business()?;
    let id = required(|| here("id"), &c.id)?;
    let direction = match required(|| here("direction"), &c.direction)? {
        d if d.eq_ignore_ascii_case("USER_INITIATED") => Direction::Mo,
        d if d.eq_ignore_ascii_case("BUSINESS_INITIATED") => Direction::Mt,
        d => return Err(Problem::path(here("direction"), "not USER_INITIATED nor BUSINESS_INITIATED", d)),
    };
    // The user is the caller of a user's call, the callee of a business's.
    let (names, fields) = match direction {
        Direction::Mo => ([&c.from, &c.from_user_id], ["from", "from_user_id"]),
        Direction::Mt => ([&c.to, &c.to_user_id], ["to", "to_user_id"]),
    };
    let (user, bsuid) = identity(names, contacts, fields, place, here)?;
    let seconds = match &c.duration {
        None => 0,
        Some(d) => d.whole().map_err(|d| Problem::path(here("duration"), "not whole seconds", d))?,
    };
    // Answered: completed (or no status said) with a length; a failed call lasted nothing.
    let completed = c.status.as_deref().is_none_or(|s| trim(s).eq_ignore_ascii_case("completed"));
    let seconds = if completed { seconds } else { 0 };
    let at = match c.start_time.as_deref() {
        Some(_) => unix_seconds(|| here("start_time"), c.start_time.as_deref())?,
        None => {
            let (field, end) = match c.end_time.as_deref() {
                Some(_) => ("end_time", &c.end_time),
                None => ("timestamp", &c.timestamp),
            };
            let end = unix_seconds(|| here(field), end.as_deref())?;
            end - chrono::TimeDelta::seconds(seconds.into())
        }
    };
    Ok(Some(Item::Incoming {
        at,
        waba: waba.unwrap_or(business),
        business,
        phone,
        user,
        id: Some(id),
        entry_point: false,
        extra: Extra { bsuid, group: None, call: Some((direction, seconds)) },
    }))
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
