//! Meta's webhooks as a log (docs/rules.md §2): the notifications a business's webhook
//! received, one JSON document a line (NDJSON) or a JSON array of them, reduced to one message
//! a row with Meta's verdict, in time order.
//!
//! ```
//! use wabill::log::{WebhookOptions, WebhookReader};
//!
//! let dump = r#"{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},"statuses":[{"id":"wamid.1","status":"delivered","timestamp":"1750030073","recipient_id":"16505551234","pricing":{"billable":true,"pricing_model":"PMP","type":"regular","category":"marketing"}}]}}]}]}"#;
//! let messages: Vec<_> = WebhookReader::new(dump.as_bytes(), "dump.ndjson", WebhookOptions::default())
//!     .collect::<Result<_, _>>()?;
//! assert_eq!(messages.len(), 1);
//! assert_eq!(messages[0].verdict.as_ref().unwrap().category, "marketing");
//! assert_eq!(messages[0].event().user, "16505551234");
//! # Ok::<(), wabill::Error>(())
//! ```

mod chunk;
mod json;
mod reduce;

use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};

use crate::domain::error::{Error, ErrorKind, Position};
use crate::domain::event::{Cost, Direction, Event, Kind, Status};
use crate::domain::time::{rfc3339, rfc3339_seconds};
use crate::domain::user::bsuid_country;
use crate::reconcile::{MetaSays, UnknownWord};
use crate::util::rows::{RowBuf, READ_BUFFER};
use chunk::Lines;
pub use json::MetaVerdict;
use json::{Fields, Item, Place};
use reduce::Reducer;
pub use reduce::WebhookMessage;

/// How webhook logs are read.
#[derive(Debug, Clone)]
pub struct WebhookOptions {
    /// How long, in event time, a message may still receive statuses: it is priced once the
    /// log has reached this far past it. 24 hours by default.
    pub reorder_window: TimeDelta,
    /// The kind of messages by id, from the sender's own records (a template of a category,
    /// or a non-template), which wins over Meta's word.
    pub templates: std::collections::HashMap<String, Kind>,
}

impl Default for WebhookOptions {
    fn default() -> WebhookOptions {
        WebhookOptions { reorder_window: TimeDelta::hours(24), templates: Default::default() }
    }
}

/// The columns of a webhook log's rows: a CSV log's (docs/rules.md §2 and §12), the WABA, and
/// Meta's verdict.
pub const COLUMNS: [&str; 22] = [
    "timestamp",
    "business",
    "user",
    "direction",
    "category",
    "status",
    "entry_point",
    "id",
    "country",
    "kind",
    "duration",
    "group",
    "bsuid",
    "cost",
    "cost_currency",
    "waba",
    "display_phone_number",
    "meta_billable",
    "meta_pricing_model",
    "meta_pricing_type",
    "meta_pricing_category",
    "meta_cost",
];

/// A message as its row gives it, borrowed from where it is kept: a [`WebhookMessage`], or
/// the reducer's slot.
#[derive(Debug, Clone, Copy)]
pub(crate) struct View<'a> {
    pub(crate) timestamp: DateTime<Utc>,
    pub(crate) waba: &'a Arc<str>,
    pub(crate) business: &'a Arc<str>,
    pub(crate) phone: &'a Arc<str>,
    pub(crate) user: &'a str,
    pub(crate) bsuid: Option<&'a str>,
    pub(crate) direction: Direction,
    pub(crate) kind: Kind,
    pub(crate) duration: u32,
    pub(crate) group: Option<&'a str>,
    pub(crate) cost: Option<Cost>,
    pub(crate) status: Status,
    pub(crate) entry_point: bool,
    pub(crate) id: Option<&'a str>,
    pub(crate) verdict: Option<ViewVerdict<'a>>,
    pub(crate) meta_category: Option<&'a str>,
    pub(crate) line: u64,
}

/// Meta's verdict, borrowed ([`MetaVerdict`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ViewVerdict<'a> {
    pub(crate) billable: Option<bool>,
    pub(crate) pricing_model: &'a str,
    pub(crate) pricing_type: &'a str,
    pub(crate) category: &'a str,
    pub(crate) cost: &'a str,
}

impl WebhookMessage {
    /// The message as a row of [`COLUMNS`]: what a CSV log would hold of it.
    pub fn fields(&self) -> [String; COLUMNS.len()] {
        let mut fields = Vec::with_capacity(COLUMNS.len());
        self.view().each_field(|f| fields.push(f.to_string()));
        fields.try_into().expect("a field a column")
    }

    fn view(&self) -> View<'_> {
        View {
            timestamp: self.timestamp,
            waba: &self.waba,
            business: &self.business,
            phone: &self.phone,
            user: &self.user,
            bsuid: self.bsuid.as_deref(),
            direction: self.direction,
            kind: self.kind,
            duration: self.duration,
            group: self.group.as_deref(),
            cost: self.cost,
            status: self.status,
            entry_point: self.entry_point,
            id: self.id.as_deref(),
            verdict: self.verdict.as_ref().map(|v| ViewVerdict {
                billable: v.billable,
                pricing_model: &v.pricing_model,
                pricing_type: &v.pricing_type,
                category: &v.category,
                cost: &v.cost,
            }),
            meta_category: self.meta_category.as_deref(),
            line: self.line,
        }
    }

    /// Meta's verdict in wabill's words (docs/rules.md §11), if the message has one: what
    /// [`Reconciler::message`](crate::reconcile::Reconciler::message) checks its line against.
    pub fn meta_says(&self) -> Option<Result<MetaSays, UnknownWord>> {
        let v = self.verdict.as_ref()?;
        let billable = v.billable.map_or("", |b| if b { "true" } else { "false" });
        MetaSays::read(billable, &v.pricing_model, &v.pricing_type, &v.category, &v.cost).transpose()
    }

    /// The event the engine prices.
    pub fn event(&self) -> Event<'_> {
        Event {
            timestamp: self.timestamp,
            business: &self.business,
            user: &self.user,
            direction: self.direction,
            kind: self.kind,
            status: self.status,
            entry_point: self.entry_point,
            id: self.id.as_deref(),
            country: None,
            duration: self.duration,
            group: self.group.as_deref(),
            bsuid: self.bsuid.as_deref(),
            cost: self.cost,
        }
    }
}

impl View<'_> {
    /// The message, owned.
    pub(crate) fn to_message(self) -> WebhookMessage {
        WebhookMessage {
            timestamp: self.timestamp,
            waba: self.waba.clone(),
            business: self.business.clone(),
            phone: self.phone.clone(),
            user: self.user.to_string(),
            bsuid: self.bsuid.map(String::from),
            direction: self.direction,
            kind: self.kind,
            duration: self.duration,
            group: self.group.map(String::from),
            cost: self.cost,
            status: self.status,
            entry_point: self.entry_point,
            id: self.id.map(String::from),
            verdict: self.verdict.map(|v| MetaVerdict {
                billable: v.billable,
                pricing_model: v.pricing_model.to_string(),
                pricing_type: v.pricing_type.to_string(),
                category: v.category.to_string(),
                cost: v.cost.to_string(),
            }),
            meta_category: self.meta_category.map(String::from),
            line: self.line,
        }
    }

    /// Gives each field of [`WebhookMessage::fields`] in turn, without a copy.
    #[inline]
    fn each_field(&self, mut field: impl FnMut(&str)) {
        let category = match (self.direction, self.kind) {
            (Direction::Mo, _) => "",
            (Direction::Mt, Kind::NonTemplate) => "service",
            (Direction::Mt, Kind::Template(c)) => c.as_str(),
            (Direction::Mt, Kind::Call) => "",
        };
        let status = if self.direction == Direction::Mo { "" } else { self.status.as_str() };
        let v = self.verdict;
        let billable = match v.and_then(|v| v.billable) {
            Some(true) => "true",
            Some(false) => "false",
            None => "",
        };
        let mut buf = [0; 20];
        match rfc3339_seconds(self.timestamp, &mut buf) {
            Some(t) => field(t),
            None => field(&rfc3339(self.timestamp)),
        }
        for f in [&**self.business, self.user, self.direction.as_str(), category, status] {
            field(f);
        }
        field(if self.entry_point { "referral" } else { "" });
        field(self.id.unwrap_or(""));
        let country = bsuid_country(self.user);
        field(country.as_ref().map_or("", |c| c.code()));
        // Most messages have none of the 2026 columns: empty, nothing formatted.
        if self.kind == Kind::Call {
            field("call");
            field(&self.duration.to_string());
        } else {
            field("");
            field("");
        }
        field(self.group.unwrap_or(""));
        field(self.bsuid.unwrap_or(""));
        match &self.cost {
            Some(cost) => {
                field(&cost.amount.to_string());
                field(cost.currency.as_ref().map_or("", |c| c.code()));
            }
            None => {
                field("");
                field("");
            }
        }
        field(self.waba);
        field(self.phone);
        field(billable);
        field(v.map_or("", |v| v.pricing_model));
        field(v.map_or("", |v| v.pricing_type));
        field(v.map_or("", |v| v.category));
        field(v.map_or("", |v| v.cost));
    }
}

/// A webhook log read as rows of [`COLUMNS`], as the CSV pipeline reads a CSV log's: a
/// message's row has the line of the document that last changed it; a problem's row is empty,
/// with the problem's line.
pub(crate) struct WebhookRows<R> {
    /// The log is read [`READ_BUFFER`] at a time, as a CSV log is, whatever the buffer of the
    /// reader given (the pipeline's is small: it only looks at the first bytes).
    reader: WebhookReader<BufReader<R>>,
    header: csv::StringRecord,
}

impl<R: BufRead> WebhookRows<R> {
    pub(crate) fn new(input: R, file: &str, options: WebhookOptions) -> WebhookRows<R> {
        let input = BufReader::with_capacity(READ_BUFFER, input);
        WebhookRows { reader: WebhookReader::new(input, file, options), header: COLUMNS.iter().collect() }
    }

    pub(crate) fn header(&self) -> &csv::StringRecord {
        &self.header
    }

    pub(crate) fn file(&self) -> &Arc<str> {
        &self.reader.file
    }

    /// The next message's row; `false` at the end.
    pub(crate) fn read_into(&mut self, row: &mut RowBuf) -> Result<bool, Error> {
        match self.reader.advance() {
            None => Ok(false),
            Some(Ok(())) => {
                // Written from where the reducer holds it. A plain line, as most are; a field
                // that needs quoting makes it fields.
                let message = self.reader.reducer.lent().expect("a message ready");
                row.clear_plain(message.line);
                message.each_field(|f| row.push_plain(f));
                if !row.finish_plain() {
                    row.clear(message.line);
                    message.each_field(|f| row.push(f));
                }
                Ok(true)
            }
            Some(Err(e)) => {
                row.clear(e.position().map_or(0, |p| p.line));
                COLUMNS.iter().for_each(|_| row.push(""));
                Err(e)
            }
        }
    }
}

/// The messages of a webhook log, in time order: an iterator of [`WebhookMessage`]s, or of
/// the problems met (each with the file, the document's number and the JSON path), after which
/// it goes on.
pub struct WebhookReader<R> {
    file: Arc<str>,
    input: R,
    /// The documents of a JSON array, read whole; `None` for NDJSON, read a chunk of lines at
    /// a time.
    array: Option<std::vec::IntoIter<serde_json::Value>>,
    started: bool,
    /// The lines of NDJSON, parsed on a second thread when they are more than a chunk.
    lines: Lines,
    /// The number of the document read last: its line (NDJSON) or its place in the array.
    line: u64,
    reducer: Reducer,
    problems: VecDeque<Error>,
    done: bool,
}

impl<R: BufRead> WebhookReader<R> {
    /// A reader of the log `input`, named `file` in messages.
    pub fn new(input: R, file: &str, options: WebhookOptions) -> WebhookReader<R> {
        WebhookReader {
            file: file.into(),
            input,
            array: None,
            started: false,
            lines: Lines::default(),
            line: 0,
            reducer: Reducer::new(options.reorder_window, options.templates),
            problems: VecDeque::new(),
            done: false,
        }
    }

    /// How many messages are held, waiting for their reorder window to pass.
    pub fn held(&self) -> usize {
        self.reducer.held()
    }

    fn at(&self, line: u64) -> Position {
        Position { file: self.file.clone(), line }
    }

    /// Reads the next document into the reducer; `false` at the end of the input.
    fn read(&mut self) -> Result<bool, Error> {
        if !self.started {
            self.started = true;
            let buf = self.input.fill_buf().map_err(|e| Error::io(&*self.file, e))?;
            if buf.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
                let mut text = String::new();
                self.input.read_to_string(&mut text).map_err(|e| Error::io(&*self.file, e))?;
                let values: Vec<serde_json::Value> = serde_json::from_str(&text)
                    .map_err(|e| json::problem(&e, Place::DOCUMENT).at(self.at(1)))?;
                self.array = Some(values.into_iter());
            }
        }
        match &mut self.array {
            Some(values) => {
                let Some(value) = values.next() else { return Ok(false) };
                self.line += 1;
                let at = Position { file: self.file.clone(), line: self.line };
                let element = self.line as u32 - 1;
                let mut fields = Fields::default();
                fields.read_value(&value, element).map_err(|p| p.at(at.clone()))?;
                let mut items = Vec::new();
                fields.items(Some(element), &mut |s| s, &mut items).map_err(|p| p.at(at))?;
                give(&mut self.reducer, &mut self.problems, &self.file, items.drain(..), self.line);
                Ok(true)
            }
            None => self.next_line(),
        }
    }

    /// Reads the next document of NDJSON into the reducer; `false` at the end of the input.
    fn next_line(&mut self) -> Result<bool, Error> {
        match self.lines.next(&mut self.input).map_err(|e| Error::io(&*self.file, e))? {
            None => Ok(false),
            Some((line, items)) => {
                self.line = line;
                let items = items.map_err(|p| p.at(Position { file: self.file.clone(), line }))?;
                give(&mut self.reducer, &mut self.problems, &self.file, items, line);
                Ok(true)
            }
        }
    }

    /// Readies the next message, which the reducer then lends ([`Reducer::lent`]), or gives
    /// the next problem; `None` at the end.
    fn advance(&mut self) -> Option<Result<(), Error>> {
        loop {
            if let Some(problem) = self.problems.pop_front() {
                return Some(Err(problem));
            }
            if self.reducer.next(self.done).is_some() {
                return Some(Ok(()));
            }
            if self.done {
                return None;
            }
            match self.read() {
                Ok(true) => {}
                Ok(false) => self.done = true,
                Err(e) => {
                    // A file that cannot be read ends the log; a bad document is one problem.
                    self.done |= e.kind() == ErrorKind::Io;
                    return Some(Err(e));
                }
            }
        }
    }
}

/// Gives the items of document `line` of `file` to the reducer, and keeps the problems it
/// finds.
fn give<'a>(
    reducer: &mut Reducer,
    problems: &mut VecDeque<Error>,
    file: &Arc<str>,
    items: impl Iterator<Item = Item<'a>>,
    line: u64,
) {
    for item in items {
        if let Err(p) = reducer.push(item, line) {
            problems.push_back(p.at(Position { file: file.clone(), line }));
        }
    }
}

impl<R: BufRead> Iterator for WebhookReader<R> {
    type Item = Result<WebhookMessage, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        Some(self.advance()?.map(|()| self.reducer.lent_message().expect("a message ready")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::event::Status;

    fn read(bytes: &[u8]) -> Vec<Result<WebhookMessage, String>> {
        WebhookReader::new(bytes, "w.ndjson", WebhookOptions::default())
            .map(|r| r.map_err(|e| e.to_string()))
            .collect()
    }

    /// docs/rules.md §10: Meta's `pricing.cost`, a number, a string or `{"amount", "currency"}`,
    /// is kept as written (`meta_cost`) and read by reconcile as an exact amount.
    #[test]
    fn metas_cost_is_read_in_each_of_its_shapes() {
        for (cost, expected) in [
            ("0.0107", "0.0107"),
            ("\"0.0107\"", "0.0107"),
            ("{\"amount\":0.0107,\"currency\":\"USD\"}", "0.0107"),
        ] {
            let doc = format!(
                r#"{{"metadata":{{"phone_number_id":"B"}},"statuses":[{{"id":"m","status":"delivered","timestamp":"1750000000","recipient_id":"33612345678","pricing":{{"billable":true,"pricing_model":"PMP","type":"regular","category":"marketing","cost":{cost}}}}}]}}"#
            );
            let messages = read(doc.as_bytes());
            let m = messages[0].as_ref().unwrap();
            assert_eq!(m.verdict.as_ref().unwrap().cost, expected, "{cost}");
            assert_eq!(m.meta_says().unwrap().unwrap().cost, Some(expected.parse().unwrap()));
            assert_eq!(m.fields()[COLUMNS.iter().position(|c| *c == "meta_cost").unwrap()], expected);
        }
    }

    proptest::proptest! {
        /// Arbitrary bytes, and documents cut anywhere, never make the reader panic: every
        /// problem is an error naming the file.
        #[test]
        fn arbitrary_input_is_an_error_never_a_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
            for r in read(&bytes) {
                if let Err(e) = r {
                    proptest::prop_assert!(e.starts_with("w.ndjson"), "{}", e);
                }
            }
        }

        #[test]
        fn a_document_cut_anywhere_is_an_error_never_a_panic(cut in 0usize..600) {
            let dump = include_str!("../../../fixtures/webhooks/month.ndjson");
            let line = dump.lines().nth(6).unwrap().as_bytes();
            for r in read(&line[..cut.min(line.len())]) {
                if let Err(e) = r {
                    proptest::prop_assert!(e.starts_with("w.ndjson:1: $"), "{}", e);
                }
            }
        }
    }

    /// A status written plainly, and the same with escapes, blanks around its words and Meta's
    /// words in capitals: one message.
    #[test]
    fn escaped_and_padded_strings_read_as_their_text() {
        let plain = r#"{"entry":[{"id":"1","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"15550001"},"statuses":[{"id":"wamid.\"E\"","status":"delivered","timestamp":"1750030073","recipient_id":"16505551234","pricing":{"billable":true,"pricing_model":"PMP","type":"regular","category":"marketing"},"conversation":{"origin":{"type":"marketing"}}}]}}]}]}"#;
        let escaped = r#"{"entry":[{"id":" \u0031","changes":[{"field":"mess\u0061ges","value":{"metadata":{"phone_number_id":"1555\u0030001 "},"statuses":[{"id":"wamid.\"E\"","status":"deliv\u0065red","timestamp":"1750030073","recipient_id":" 16505551234","pricing":{"billable":true,"pricing_model":"P\u004dP","type":"Regular","category":" MARKETING"},"conversation":{"origin":{"type":"Marketing"}}}]}}]}]}"#;
        let (plain, escaped) = (read(plain.as_bytes()), read(escaped.as_bytes()));
        assert_eq!(plain.len(), 1);
        assert_eq!(plain, escaped);
        assert_eq!(plain[0].as_ref().unwrap().id.as_deref(), Some("wamid.\"E\""));
    }

    /// A number where Meta writes a string is a problem that says so.
    #[test]
    fn a_number_for_a_string_is_named() {
        let dump = r#"{"entry":[{"id":"1","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"15550001"},"statuses":[{"id":17,"status":"delivered"}]}}]}]}"#;
        assert_eq!(
            read(dump.as_bytes()),
            [Err("w.ndjson:1: $: not a webhook document at column 122: invalid type: integer `17`, \
                  expected a string"
                .to_string())]
        );
    }

    /// Within statuses, user messages, their pricing, contacts and calls, a key given twice, an
    /// object of the wrong type and a misplaced `null` are refused in serde's words; `null`
    /// where a field or an object may be absent is as if it were not there.
    #[test]
    fn an_items_keys_are_read_as_serdes_derive_reads_them() {
        let status = |rest: &str| {
            value(&format!(
                r#""statuses":[{{"id":"m","timestamp":"1750000000","recipient_id":"33612345678",{rest}}}]"#
            ))
        };
        let refused = [
            (status(r#""status":"sent","status":"read""#), "duplicate field `status`"),
            (status(r#""status":"sent","pricing":5"#), "invalid type: integer `5`, expected struct Pricing"),
            (
                status(r#""status":"sent","pricing":{"billable":true,"billable":true}"#),
                "duplicate field `billable`",
            ),
            (
                status(r#""status":"sent","pricing":{"billable":"yes"}"#),
                "invalid type: string \"yes\", expected a boolean",
            ),
            (value(r#""statuses":["m"]"#), "invalid type: string \"m\", expected struct StatusItem"),
            (value(r#""statuses":[null]"#), "invalid type: null, expected struct StatusItem"),
            (value(r#""messages":[{"id":"u","id":"v"}]"#), "duplicate field `id`"),
            (value(r#""contacts":[{"wa_id":1}]"#), "invalid type: integer `1`, expected a string"),
            (value(r#""calls":[{"duration":[]}]"#), "did not match any variant of untagged enum Scalar"),
        ];
        for (doc, words) in refused {
            let e = error(&doc);
            assert!(e.contains(": not a webhook document at column ") && e.ends_with(words), "{doc}: {e}");
        }
        let m =
            one(&status(r#""status":"delivered","pricing":null,"conversation":null,"errors":[{"code":1}]"#));
        assert_eq!((m.status, m.verdict), (Status::Delivered, None));
        let mo = |referral: &str| {
            one(&value(&format!(
                r#""messages":[{{"id":"u","from":"33612345678","timestamp":"1750000000","type":"text","referral":{referral}}}]"#
            )))
        };
        assert_eq!((mo("null").entry_point, mo(r#"{"source_type":"ad"}"#).entry_point), (false, true));
    }

    /// A message's row is one plain line when no field needs quoting, its fields one after the
    /// other when one does: the same fields either way.
    #[test]
    fn a_row_holds_the_messages_fields_whether_plain_or_not() {
        for (id, plain) in [("wamid.plain", true), (r#"wamid.\"q\",x"#, false)] {
            let doc = value(&format!(
                r#""statuses":[{{"id":"{id}","status":"delivered","timestamp":"1750000000","recipient_id":"33612345678"}}]"#
            ));
            let mut rows = WebhookRows::new(doc.as_bytes(), "w.ndjson", WebhookOptions::default());
            let mut row = RowBuf::default();
            assert!(rows.read_into(&mut row).unwrap());
            let fields = one(&doc).fields();
            assert_eq!(row.iter().collect::<Vec<_>>(), fields.iter().map(String::as_str).collect::<Vec<_>>());
            assert_eq!(row.sep() == 1, plain, "{id}");
        }
    }

    /// An entry's `changes` is a sequence: `null` is refused as serde's derive refused it; a
    /// document's `entry` and a change's `value` may be `null` (a bare value; a value missing).
    #[test]
    fn null_is_refused_where_meta_writes_a_sequence() {
        assert_eq!(
            read(br#"{"entry":[{"id":"1","changes":null}]}"#),
            [Err("w.ndjson:1: $: not a webhook document at column 34: invalid type: null, expected a \
                  sequence"
                .to_string())]
        );
        assert_eq!(read(br#"{"entry":null,"metadata":{"phone_number_id":"B"}}"#), []);
        assert_eq!(
            read(br#"{"entry":[{"id":"1","changes":[{"field":"messages","value":null}]}]}"#),
            [Err("w.ndjson:1: $.entry[0].changes[0].value: missing".to_string())]
        );
    }

    /// A value with `metadata` and what else is given, as one document.
    fn value(rest: &str) -> String {
        format!(r#"{{"metadata":{{"phone_number_id":"B"}},{rest}}}"#)
    }

    fn one(doc: &str) -> WebhookMessage {
        let mut messages = read(doc.as_bytes());
        assert_eq!(messages.len(), 1, "{messages:?}");
        messages.remove(0).unwrap()
    }

    fn error(doc: &str) -> String {
        read(doc.as_bytes()).into_iter().find_map(Result::err).expect("a problem")
    }

    /// docs/rules.md §10: a user named by phone number and business-scoped id, by the item
    /// (`from_user_id`, `recipient_user_id`) or by the value's `contacts[]` (either way round),
    /// is the phone number, with the id as `bsuid`; by the id alone, the id.
    #[test]
    fn a_phone_number_and_a_business_scoped_id_name_one_user() {
        let mo = |from: &str, contacts: &str| {
            let m = one(&value(&format!(
                r#""contacts":[{contacts}],"messages":[{{{from}"id":"m","timestamp":"1790000000","type":"text"}}]"#
            )));
            (m.user, m.bsuid)
        };
        let both = ("33612345678".to_string(), Some("FR.8f3k2Q".to_string()));
        assert_eq!(mo(r#""from":"33612345678","from_user_id":"FR.8f3k2Q","#, ""), both);
        assert_eq!(mo(r#""from":"33612345678","#, r#"{"wa_id":"33612345678","user_id":"FR.8f3k2Q"}"#), both);
        assert_eq!(
            mo(r#""from_user_id":"FR.8f3k2Q","#, r#"{"wa_id":"33612345678","user_id":"FR.8f3k2Q"}"#),
            both
        );
        assert_eq!(
            mo(r#""from_user_id":"FR.8f3k2Q","#, r#"{"user_id":"FR.8f3k2Q"}"#),
            ("FR.8f3k2Q".to_string(), None)
        );
        assert_eq!(
            mo(r#""from":"33612345678","#, r#"{"wa_id":"33612345678"}"#),
            ("33612345678".to_string(), None)
        );
        // Of several contacts, the user's; another user's says nothing of this one.
        let two =
            r#"{"wa_id":"4915112345678","user_id":"DE.1"},{"wa_id":"33612345678","user_id":"FR.8f3k2Q"}"#;
        assert_eq!(mo(r#""from":"33612345678","#, two), both);
        assert_eq!(mo(r#""from":"33612345678","#, r#"{"wa_id":"4915112345678","user_id":"DE.1"}"#).1, None);
        let m = one(&value(
            r#""statuses":[{"id":"s","status":"delivered","timestamp":"1790000000","recipient_id":"33612345678","recipient_user_id":"FR.8f3k2Q"}]"#,
        ));
        assert_eq!(
            (m.user.as_str(), m.bsuid.as_deref(), m.event().bsuid),
            ("33612345678", Some("FR.8f3k2Q"), Some("FR.8f3k2Q"))
        );
        assert_eq!(m.fields()[COLUMNS.iter().position(|c| *c == "bsuid").unwrap()], "FR.8f3k2Q");
    }

    /// A status naming the recipient by the id alone, then one naming them by phone number and
    /// id: one message, to the phone number.
    #[test]
    fn a_later_status_with_the_phone_number_names_the_user_by_it() {
        let status = |status: &str, t: u32, phone: &str| {
            value(&format!(
                r#""statuses":[{{"id":"s","status":"{status}","timestamp":"{t}",{phone}"recipient_user_id":"FR.8f3k2Q"}}]"#
            ))
        };
        let dump = [
            status("sent", 1790000000, ""),
            status("delivered", 1790000005, r#""recipient_id":"33612345678","#),
        ]
        .join("\n");
        let m = one(&dump);
        assert_eq!(
            (m.user.as_str(), m.bsuid.as_deref(), m.status),
            ("33612345678", Some("FR.8f3k2Q"), Status::Delivered)
        );
    }

    /// A business-scoped id that is not one is named by its JSON path.
    #[test]
    fn a_malformed_business_scoped_id_is_named_by_its_path() {
        assert_eq!(
            error(&value(
                r#""messages":[{"from":"33612345678","from_user_id":"8f3k2Q","id":"m","timestamp":"1790000000"}]"#
            )),
            "w.ndjson:1: $.messages[0].from_user_id: not a business-scoped user id (CC.…) (8f3k2Q)"
        );
        assert_eq!(
            error(&value(
                r#""contacts":[{"wa_id":"33612345678","user_id":"fr.x y"}],"messages":[{"from":"33612345678","id":"m","timestamp":"1790000000"}]"#
            )),
            "w.ndjson:1: $.contacts[0].user_id: not a business-scoped user id (CC.…) (fr.x y)"
        );
    }

    /// docs/rules.md §10: what Meta charged a `marketing_lite` delivery (`pricing.cost`, in each
    /// of its shapes, with its currency when given) is the row's `cost`; another category's
    /// cost is only Meta's word (`meta_cost`).
    #[test]
    fn a_marketing_lite_deliverys_cost_is_its_charge() {
        let status = |category: &str, cost: &str| {
            value(&format!(
                r#""statuses":[{{"id":"s","status":"delivered","timestamp":"1790000000","recipient_id":"919876543210","pricing":{{"pricing_model":"PMP","type":"regular","category":"{category}","cost":{cost}}}}}]"#
            ))
        };
        let column = |name: &str| COLUMNS.iter().position(|c| *c == name).unwrap();
        for (cost, amount, currency) in [
            (r#"{"amount":0.0123,"currency":"USD"}"#, "0.0123", "USD"),
            (r#"{"amount":"0.0123","currency":"inr"}"#, "0.0123", "INR"),
            (r#"{"amount":0.0123}"#, "0.0123", ""),
            ("0.0123", "0.0123", ""),
            (r#""0.0123""#, "0.0123", ""),
        ] {
            let m = one(&status("marketing_lite", cost));
            let fields = m.fields();
            assert_eq!(
                (&*fields[column("cost")], &*fields[column("cost_currency")]),
                (amount, currency),
                "{cost}"
            );
            assert_eq!(m.event().cost.map(|c| c.amount.to_string()), Some(amount.to_string()));
            assert_eq!(m.kind, Kind::Template(crate::domain::event::Category::MarketingLite));
        }
        let m = one(&status("marketing", r#"{"amount":0.0123,"currency":"USD"}"#));
        assert_eq!((m.cost, m.verdict.unwrap().cost.as_str()), (None, "0.0123"));
        assert_eq!(
            error(&status("marketing_lite", r#"{"amount":"1,5","currency":"USD"}"#)),
            "w.ndjson:1: $.statuses[0].pricing.cost.amount: not a decimal number (1,5)"
        );
        assert_eq!(
            error(&status("marketing_lite", r#""about 1""#)),
            "w.ndjson:1: $.statuses[0].pricing.cost: not a decimal number (about 1)"
        );
        assert_eq!(
            error(&status("marketing_lite", r#"{"amount":1,"currency":"dollars"}"#)),
            "w.ndjson:1: $.statuses[0].pricing.cost.currency: not an ISO 4217 currency code (dollars)"
        );
    }

    /// docs/rules.md §10: a Calling API `terminate` is one call row, at the call's start (else
    /// its end less its length): a user's call an MO, a business's an MT delivered when
    /// answered; a failed call lasted nothing; `connect` and a call's statuses are not rows.
    #[test]
    fn a_terminated_call_is_one_call_row() {
        let calls = |call: &str| {
            format!(
                r#"{{"entry":[{{"id":"W","changes":[{{"field":"calls","value":{{"metadata":{{"phone_number_id":"B"}},"calls":[{call}],"statuses":[{{"id":"c","status":"RINGING","timestamp":"1790000001","recipient_id":"33612345678"}}]}}}}]}}]}}"#
            )
        };
        let call = |fields: &str| {
            calls(&format!(r#"{{"id":"c","event":"terminate","timestamp":"1790000100",{fields}}}"#))
        };
        let row = |m: &WebhookMessage| {
            (
                m.timestamp.timestamp(),
                m.user.clone(),
                m.direction,
                m.kind,
                m.status,
                m.duration,
                m.id.clone().unwrap(),
            )
        };
        let user = one(&call(
            r#""direction":"USER_INITIATED","from":"33612345678","to":"15550001","start_time":"1790000040","end_time":"1790000100","duration":60,"status":"COMPLETED""#,
        ));
        assert_eq!(
            row(&user),
            (1790000040, "33612345678".into(), Direction::Mo, Kind::Call, Status::Delivered, 60, "c".into())
        );
        let fields = user.fields();
        assert_eq!(
            (&*fields[column("kind")], &*fields[column("duration")], &*fields[column("status")]),
            ("call", "60", "")
        );
        let business = one(&call(
            r#""direction":"BUSINESS_INITIATED","from":"15550001","to":"33612345678","duration":"56","status":"completed""#,
        ));
        assert_eq!(
            row(&business),
            (1790000044, "33612345678".into(), Direction::Mt, Kind::Call, Status::Delivered, 56, "c".into())
        );
        assert_eq!(business.fields()[column("status")], "delivered");
        let failed = one(&call(
            r#""direction":"BUSINESS_INITIATED","to":"33612345678","to_user_id":"FR.8f3k2Q","start_time":"1790000090","duration":20,"status":"FAILED""#,
        ));
        assert_eq!(
            row(&failed),
            (1790000090, "33612345678".into(), Direction::Mt, Kind::Call, Status::Failed, 0, "c".into())
        );
        assert_eq!(failed.bsuid.as_deref(), Some("FR.8f3k2Q"));
        let connect = calls(
            r#"{"id":"c","event":"connect","timestamp":"1790000000","direction":"USER_INITIATED","from":"33612345678"}"#,
        );
        assert_eq!(read(connect.as_bytes()), []);
        assert_eq!(
            error(&call(r#""direction":"SIDEWAYS","from":"33612345678""#)),
            "w.ndjson:1: $.entry[0].changes[0].value.calls[0].direction: not USER_INITIATED nor BUSINESS_INITIATED (SIDEWAYS)"
        );
        assert_eq!(
            error(&call(r#""direction":"USER_INITIATED","from":"33612345678","duration":-3"#)),
            "w.ndjson:1: $.entry[0].changes[0].value.calls[0].duration: not whole seconds (-3)"
        );
        assert_eq!(
            error(&call(r#""direction":"BUSINESS_INITIATED","from":"15550001""#)),
            "w.ndjson:1: $.entry[0].changes[0].value.calls[0].to: missing"
        );
        assert_eq!(
            error(&call(r#""direction":"USER_INITIATED","from":"33612345678","start_time":"soon""#)),
            "w.ndjson:1: $.entry[0].changes[0].value.calls[0].start_time: not Unix seconds (soon)"
        );
    }

    fn column(name: &str) -> usize {
        COLUMNS.iter().position(|c| *c == name).unwrap()
    }

    /// docs/rules.md §10: a member's message in a group carries the group (`group_id`); a
    /// group's own status names no member and is not a row.
    #[test]
    fn a_group_message_carries_its_group() {
        let m = one(&value(
            r#""messages":[{"from":"33612345678","group_id":"Y2FwaV9ncm91cDox","id":"g","timestamp":"1790000000","type":"text"}]"#,
        ));
        assert_eq!(
            (m.group.as_deref(), m.event().group),
            (Some("Y2FwaV9ncm91cDox"), Some("Y2FwaV9ncm91cDox"))
        );
        assert_eq!(m.fields()[column("group")], "Y2FwaV9ncm91cDox");
        let group_status = value(
            r#""statuses":[{"id":"s","status":"sent","timestamp":"1790000000","recipient_id":"Y2FwaV9ncm91cDox","recipient_type":"group"}]"#,
        );
        assert_eq!(read(group_status.as_bytes()), []);
    }

    /// docs/rules.md §10: Meta reports a user's new business-scoped id as a `system` message
    /// (`user_changed_number`, `user_changed_user_id`; `user_id_update` is not a webhook field):
    /// not a row. A later message naming the user by phone number and new id links the two.
    #[test]
    fn a_changed_business_scoped_id_is_linked_by_the_next_message() {
        let changed = value(
            r#""messages":[{"from_user_id":"FR.new1","id":"sys","timestamp":"1790000000","type":"system","system":{"body":"…","type":"user_changed_user_id","user_id":"FR.new1","previous_user_id":"FR.old1"}}]"#,
        );
        assert_eq!(read(changed.as_bytes()), []);
        let next = value(
            r#""contacts":[{"wa_id":"33612345678","user_id":"FR.new1"}],"messages":[{"from":"33612345678","id":"m","timestamp":"1790000060","type":"text"}]"#,
        );
        let m = one(&[changed, next].join("\n"));
        assert_eq!((m.user.as_str(), m.bsuid.as_deref()), ("33612345678", Some("FR.new1")));
    }

    /// Reads `bytes` in chunks of `size` bytes of lines, through a buffer of `buffer` bytes.
    fn read_in_chunks(
        bytes: impl std::io::Read,
        buffer: usize,
        size: usize,
    ) -> Vec<Result<WebhookMessage, String>> {
        let mut reader = WebhookReader::new(
            BufReader::with_capacity(buffer, bytes),
            "w.ndjson",
            WebhookOptions::default(),
        );
        reader.lines.size = size;
        let chain = |e: Error| match std::error::Error::source(&e) {
            Some(cause) => format!("{e}: {cause}"),
            None => e.to_string(),
        };
        reader.map(|r| r.map_err(chain)).collect()
    }

    /// A log parsed a chunk at a time on a second thread reads as one parsed where it is read:
    /// the same messages and problems, in the same order, at the same lines.
    #[test]
    fn chunks_parsed_on_a_second_thread_read_alike() {
        let dump = include_str!("../../../fixtures/webhooks/month.ndjson");
        let mut lines: Vec<&[u8]> = dump.lines().map(str::as_bytes).collect();
        let cut = &lines[6][..100];
        let late = lines[3];
        let missing = br#"{"metadata":{"phone_number_id":"B"},"statuses":[{"id":"x","status":"sent"}]}"#;
        for (at, line) in
            [(2, &b""[..]), (5, b"\xff{}"), (8, cut), (9, b"   "), (12, missing), (lines.len() - 1, late)]
        {
            lines.insert(at, line);
        }
        let mut log = lines.join(&b"\n"[..]);
        let whole = read(&log);
        assert_eq!(whole.iter().filter(|r| r.is_err()).count(), 3, "{whole:?}");
        for (buffer, size) in [(1, 1), (7, 1), (64, 300), (4096, 2000), (8192, chunk::CHUNK)] {
            assert_eq!(
                read_in_chunks(&log[..], buffer, size),
                whole,
                "{buffer}-byte buffer, {size}-byte chunks"
            );
        }
        // A last line with its line break reads as without.
        log.push(b'\n');
        assert_eq!(read_in_chunks(&log[..], 64, 100), whole);
    }

    /// An input that fails: the documents of the lines before the failure, the failure, then
    /// the messages held.
    #[test]
    fn a_failing_input_gives_the_lines_before_it() {
        struct Failing<'a>(&'a [u8]);
        impl std::io::Read for Failing<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                if self.0.is_empty() {
                    return Err(std::io::Error::other("disk on fire"));
                }
                let n = buf.len().min(self.0.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let dump = include_str!("../../../fixtures/webhooks/month.ndjson");
        let cut = dump.len() / 2;
        let whole = dump[..cut].rfind('\n').unwrap() + 1;
        let before: Vec<_> = read(&dump.as_bytes()[..whole]).into_iter().filter_map(Result::ok).collect();
        for (buffer, size) in [(7, 1), (64, 300), (8192, chunk::CHUNK)] {
            let read = read_in_chunks(Failing(&dump.as_bytes()[..cut]), buffer, size);
            let errors: Vec<_> = read.iter().filter_map(|r| r.as_ref().err()).collect();
            assert_eq!(errors.len(), 1, "{read:?}");
            assert_eq!(errors[0], "w.ndjson: disk on fire");
            let messages: Vec<_> = read.into_iter().filter_map(Result::ok).collect();
            assert_eq!(messages, before, "{buffer}-byte buffer, {size}-byte chunks");
        }
    }

    /// A bare value, a document a line, and a JSON array of documents read alike.
    #[test]
    fn an_array_and_ndjson_read_alike() {
        let dump = include_str!("../../../fixtures/webhooks/month.ndjson");
        let array = format!("[{}]", dump.lines().collect::<Vec<_>>().join(",\n"));
        let (lines, elements) = (read(dump.as_bytes()), read(array.as_bytes()));
        let strip = |v: Vec<Result<WebhookMessage, String>>| -> Vec<WebhookMessage> {
            v.into_iter().map(|m| WebhookMessage { line: 0, ..m.unwrap() }).collect()
        };
        assert_eq!(strip(lines), strip(elements));
    }
}
