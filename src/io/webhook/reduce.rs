//! Statuses reduced to one row per message, and every row released in time order once no
//! status can still change it (docs/rules.md §2: a log holds one row per message).
//!
//! A message in flight keeps its best status (`read` > `delivered` > `sent`; `failed` when
//! nothing passed `sent`), its time (the delivery, else the read, else the failure or send),
//! and Meta's verdict (the `pricing` of a `delivered` or `read` status; one on `sent` only
//! tells the category). Each row waits in a heap ordered by its time until the latest time met
//! is a reorder window past it. A status for a message already released, or an item older than
//! what was released, is late: reported, never dropped in silence.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::hash::BuildHasher;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};

#[cfg(test)]
use super::json::Place;
use super::json::{Extra, Item, MessageStatus, MetaVerdict, Stage, Verdict};
use super::{View, ViewVerdict};
use crate::domain::error::Problem;
use crate::domain::event::{Category, Cost, Direction, Kind, Status};
#[cfg(test)]
use crate::engine::seen::SeenIds;
use crate::util::cpu;
use crate::util::slots::Slots as Table;

/// One message of a webhook log, reduced: the row a CSV log would hold, with Meta's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookMessage {
    /// For an MT, its delivery (else its read, failure or send); for an MO, when it was sent.
    pub timestamp: DateTime<Utc>,
    /// The WABA (`entry[].id`; the business number when the document does not say).
    pub waba: Arc<str>,
    /// The business number (`metadata.phone_number_id`).
    pub business: Arc<str>,
    /// The business number as displayed (`metadata.display_phone_number`), empty when absent.
    pub phone: Arc<str>,
    /// The user: `from` or `recipient_id` (a call's caller or callee), else the
    /// business-scoped user id.
    pub user: String,
    /// The user's business-scoped id when `user` is their phone number (the two are one
    /// person).
    pub bsuid: Option<String>,
    /// An MO (`messages[]`, a user's call) or an MT (`statuses[]`, a business's call).
    pub direction: Direction,
    /// A template of a category, or a non-template (docs/rules.md §10); or a call.
    pub kind: Kind,
    /// A call's length in seconds: 0 when not answered (and for a message).
    pub duration: u32,
    /// The group a message was sent in.
    pub group: Option<String>,
    /// What Meta charged a `marketing_lite` delivery with a maximum price: the line's charge.
    pub cost: Option<Cost>,
    /// The best status reached.
    pub status: Status,
    /// An MO through a free entry point (a `referral`).
    pub entry_point: bool,
    /// The message id (`wamid…`).
    pub id: Option<String>,
    /// Meta's verdict, from a `delivered` or `read` status's `pricing`.
    pub verdict: Option<MetaVerdict>,
    /// The category Meta gave the message anywhere (its verdict, a `sent` status's pricing, a
    /// CBP conversation's origin), lower case.
    pub meta_category: Option<String>,
    /// The document line of the item that last changed it.
    pub line: u64,
}

/// The strings of a message held, one after another in one buffer: one allocation for them
/// all, reused by the next message of the slot, and the few cache lines a message is read
/// from when a status comes and when it is written out.
#[derive(Debug, Default)]
struct Strings {
    text: String,
    /// Where each string ends in `text` (by [`Str`]).
    ends: [u32; Str::COUNT],
    /// Which are given (a bit by [`Str`]); the others are empty.
    given: u16,
}

/// The strings of a message held, in the order [`Strings`] keeps them.
#[derive(Debug, Clone, Copy)]
enum Str {
    User,
    Id,
    Bsuid,
    Group,
    /// The category Meta gave the message anywhere.
    Category,
    /// The words of Meta's verdict.
    PricingModel,
    PricingType,
    PricingCategory,
    Cost,
}

impl Str {
    const COUNT: usize = 9;
}

impl Strings {
    fn clear(&mut self) {
        self.text.clear();
        self.ends = [0; Str::COUNT];
        self.given = 0;
    }

    fn range(&self, s: Str) -> std::ops::Range<usize> {
        let i = s as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        start..self.ends[i] as usize
    }

    fn get(&self, s: Str) -> Option<&str> {
        (self.given & (1 << s as u16) != 0).then(|| &self.text[self.range(s)])
    }

    /// The string, empty when not given.
    fn str(&self, s: Str) -> &str {
        &self.text[self.range(s)]
    }

    /// Sets a string; nothing is moved when it is the same.
    fn set(&mut self, s: Str, value: Option<&str>) {
        let range = self.range(s);
        let bit = 1 << s as u16;
        if value == self.get(s) {
            return;
        }
        let new = value.unwrap_or("");
        if range.start == self.text.len() {
            self.text.push_str(new);
        } else {
            self.text.replace_range(range.clone(), new);
        }
        let delta = new.len().wrapping_sub(range.len()) as u32;
        self.ends[s as usize..].iter_mut().for_each(|end| *end = end.wrapping_add(delta));
        self.given = if value.is_some() { self.given | bit } else { self.given & !bit };
    }
}

/// A message held until no status can change it: an MO, or an MT and its statuses so far.
///
/// A slot's message is written over by the next message it holds, in its strings' room: a
/// message held allocates only for more text than its slot has held.
#[derive(Debug)]
struct Held {
    strings: Strings,
    /// The WABA, the business number and the number as displayed ([`Names`]).
    names: u32,
    /// For an MT, its delivery (else its read, failure or send); for an MO, when it was sent.
    timestamp: DateTime<Utc>,
    direction: Direction,
    kind: Kind,
    status: Status,
    entry_point: bool,
    duration: u32,
    cost: Option<Cost>,
    /// Meta's verdict is given (its words in the strings), with its `billable`.
    verdict: Option<Option<bool>>,
    /// The document line of the item that last changed it.
    line: u64,
    /// The times of an MT's statuses, by stage (none for an MO).
    delivered: Option<DateTime<Utc>>,
    read: Option<DateTime<Utc>>,
    failed: Option<DateTime<Utc>>,
    sent: Option<DateTime<Utc>>,
    /// An MT's id's fingerprint, as the reducer's table of ids keeps it.
    id_key: u64,
}

impl Held {
    /// Its row's time: an MT's delivery, else its read, else its failure, else its send; an
    /// MO's own.
    fn time(&self) -> DateTime<Utc> {
        self.delivered.or(self.read).or(self.failed).or(self.sent).unwrap_or(self.timestamp)
    }

    /// An empty slot's message.
    fn empty(names: u32) -> Held {
        Held {
            strings: Strings::default(),
            names,
            timestamp: DateTime::UNIX_EPOCH,
            direction: Direction::Mo,
            kind: Kind::NonTemplate,
            status: Status::Delivered,
            entry_point: false,
            duration: 0,
            cost: None,
            verdict: None,
            line: 0,
            delivered: None,
            read: None,
            failed: None,
            sent: None,
            id_key: 0,
        }
    }

    /// Writes a message's first row over the one held before, at its first item: its names
    /// copied, nothing said yet of its kind or verdict; an MO delivered, an MT sent.
    #[allow(clippy::too_many_arguments)]
    fn start(
        &mut self,
        at: DateTime<Utc>,
        names: u32,
        user: &str,
        id: Option<&str>,
        bsuid: Option<&str>,
        direction: Direction,
        line: u64,
    ) {
        let mut strings = std::mem::take(&mut self.strings);
        strings.clear();
        strings.set(Str::User, Some(user));
        strings.set(Str::Id, id);
        strings.set(Str::Bsuid, bsuid);
        let status = if direction == Direction::Mo { Status::Delivered } else { Status::Sent };
        *self = Held { strings, timestamp: at, direction, status, line, ..Held::empty(names) };
    }

    /// Sets Meta's verdict, unless the one held says the same words (then the charge read
    /// first stays: a cost's currency is not one of the words).
    fn set_verdict(&mut self, v: &Verdict<'_>) {
        let s = &mut self.strings;
        let words: [(Str, &str); 4] = [
            (Str::PricingModel, v.pricing_model),
            (Str::PricingType, &v.pricing_type),
            (Str::PricingCategory, &v.category),
            (Str::Cost, &v.cost),
        ];
        if self.verdict == Some(v.billable) && words.iter().all(|&(w, word)| s.get(w) == Some(word)) {
            return;
        }
        words.iter().for_each(|&(w, word)| s.set(w, Some(word)));
        self.verdict = Some(v.billable);
        self.cost = v.charge;
    }

    /// The message as its row gives it, borrowed (its names from `names`).
    fn view<'a>(&'a self, names: &'a Names) -> View<'a> {
        let s = &self.strings;
        let [waba, business, phone] = &names.list[self.names as usize];
        View {
            timestamp: self.timestamp,
            waba,
            business,
            phone,
            user: s.str(Str::User),
            bsuid: s.get(Str::Bsuid),
            direction: self.direction,
            kind: self.kind,
            duration: self.duration,
            group: s.get(Str::Group),
            cost: self.cost,
            status: self.status,
            entry_point: self.entry_point,
            id: s.get(Str::Id),
            verdict: self.verdict.map(|billable| ViewVerdict {
                billable,
                pricing_model: s.str(Str::PricingModel),
                pricing_type: s.str(Str::PricingType),
                category: s.str(Str::PricingCategory),
                cost: s.str(Str::Cost),
            }),
            meta_category: s.get(Str::Category),
            line: self.line,
        }
    }
}

/// What became of the message of an MT's id.
#[derive(Debug, Clone, Copy)]
enum State {
    /// Held, in this slot.
    Held(u32),
    /// Released at this time: a status for it is late.
    Gone(DateTime<Utc>),
}

/// An empty entry's value in the table of ids (never read).
impl Default for State {
    fn default() -> State {
        State::Held(u32::MAX)
    }
}

/// The names of the businesses met (WABA, number, number as displayed), each three kept once
/// and shared by their messages: a few per log, where messages are millions. Found in one
/// lookup of the three.
#[derive(Debug, Default)]
struct Names {
    /// Each three names met, by number.
    list: Vec<[Arc<str>; 3]>,
    /// The numbers of `list`, by business number.
    table: hashbrown::HashTable<u32>,
    hasher: foldhash::fast::RandomState,
}

impl Names {
    /// The number of these names.
    fn of(&mut self, names: [&str; 3]) -> u32 {
        let hash = self.hasher.hash_one(names);
        let list = &self.list;
        let same = |&n: &u32| list[n as usize].iter().zip(names).all(|(k, n)| **k == *n);
        if let Some(&n) = self.table.find(hash, same) {
            return n;
        }
        let n = self.list.len() as u32;
        self.list.push(names.map(Arc::from));
        let (hasher, list) = (&self.hasher, &self.list);
        // The three hashed as `[&str; 3]` hashes them.
        self.table.insert_unique(hash, n, |&n| hasher.hash_one(&list[n as usize]));
        n
    }
}

/// A row's time as the heap orders it: its Unix seconds (a webhook's times are whole seconds).
fn key(t: DateTime<Utc>) -> i64 {
    debug_assert_eq!(t.timestamp_subsec_nanos(), 0);
    t.timestamp()
}

/// The messages held, each in a slot of a vector (the slots of those released are used
/// again, their messages written over): a message is found by its slot, without a hash.
#[derive(Debug, Default)]
struct Slots {
    /// Each slot's message, whether it is held, and how many messages it has held: a message
    /// is named by its slot and that count.
    slots: Vec<(Held, bool, u32)>,
    free: Vec<u32>,
    len: usize,
}

impl Slots {
    /// A slot for a new message: its number, its count, and the message it held before, to be
    /// written over ([`Held::start`]).
    fn insert(&mut self) -> (u32, u32, &mut Held) {
        self.len += 1;
        let slot = match self.free.pop() {
            Some(slot) => slot,
            None => {
                self.slots.push((Held::empty(0), false, 0));
                (self.slots.len() - 1) as u32
            }
        };
        let (held, used, count) = &mut self.slots[slot as usize];
        *used = true;
        *count = count.wrapping_add(1);
        (slot, *count, held)
    }

    fn get_mut(&mut self, slot: u32) -> (&mut Held, u32) {
        let (held, _, count) = &mut self.slots[slot as usize];
        (held, *count)
    }

    fn get(&self, slot: u32) -> &Held {
        &self.slots[slot as usize].0
    }

    /// The message named by `slot` and `count`, if it is still there.
    fn of(&self, slot: u32, count: u32) -> Option<&Held> {
        match &self.slots[slot as usize] {
            (held, true, c) if *c == count => Some(held),
            _ => None,
        }
    }

    /// Asks for the memory of the message of `slot`, without waiting for it.
    fn prefetch(&self, slot: u32) {
        if let Some(held) = self.slots.get(slot as usize) {
            let at = std::ptr::from_ref(held).cast::<u8>();
            (0..std::mem::size_of_val(held))
                .step_by(64)
                .for_each(|offset| cpu::prefetch(at.wrapping_add(offset)));
        }
    }

    /// Lets the message of `slot` go: its slot is free once [`Slots::free`] gives it back.
    fn release(&mut self, slot: u32) -> &mut Held {
        self.len -= 1;
        let (held, used, _) = &mut self.slots[slot as usize];
        debug_assert!(*used, "a slot released is held");
        *used = false;
        held
    }

    /// Gives back a slot released, to hold another message.
    fn free(&mut self, slot: u32) {
        self.free.push(slot);
    }
}

/// The earlier of a time held and a new one.
fn earliest(held: Option<DateTime<Utc>>, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
    Some(held.map_or(at, |h| h.min(at)))
}

/// A row waiting: its time ([`key`]), its arrival, and its message's slot and the slot's
/// count.
type Entry = (i64, u64, u32, u32);

/// The rows waiting, in order: those that come in order (nearly all, as a log runs in time
/// order) in a queue, which costs nothing to keep and stays in cache; the others in a heap.
/// The next row is the earlier of the two firsts.
#[derive(Debug, Default)]
struct Waiting {
    queue: VecDeque<Entry>,
    heap: BinaryHeap<Reverse<Entry>>,
}

impl Waiting {
    fn push(&mut self, entry: Entry) {
        if self.queue.back().is_none_or(|last| *last <= entry) {
            self.queue.push_back(entry);
        } else {
            self.heap.push(Reverse(entry));
        }
    }

    fn peek(&self) -> Option<Entry> {
        match (self.queue.front(), self.heap.peek()) {
            (Some(&q), Some(&Reverse(h))) => Some(q.min(h)),
            (q, h) => q.copied().or(h.map(|h| h.0)),
        }
    }

    fn pop(&mut self) -> Option<Entry> {
        let next = self.peek()?;
        if self.queue.front() == Some(&next) {
            self.queue.pop_front()
        } else {
            self.heap.pop().map(|h| h.0)
        }
    }
}

/// How far ahead of a release [`Reducer::prefetch`] asks for a message's slot, and for its
/// strings and id entry: about the rows released while memory answers.
const SLOT_AHEAD: usize = 16;
const TEXT_AHEAD: usize = 8;

/// The load past which the table of ids grows.
const IDS_LOAD: usize = 75;

/// How many released ids are kept at least before the forgotten ones are dropped.
const PURGE: usize = 4096;

/// The reduction of a webhook log's items into messages, in time order.
#[derive(Debug)]
pub(crate) struct Reducer {
    window: TimeDelta,
    templates: std::collections::HashMap<String, Kind>,
    /// The messages held.
    held: Slots,
    names: Names,
    /// The ids of the MTs held, and of those released (to tell a late status from a new
    /// message), by fingerprint as the engine keeps ids
    /// ([`SeenIds::fingerprint`](crate::engine::seen::SeenIds::fingerprint)): one
    /// lookup a status. An id released a window before the last release is forgotten:
    /// treated as absent, its entry taken by a new id or dropped in bulk
    /// ([`Reducer::forget_gone`]).
    ids: Table<u64, State>,
    /// Rows by time, then arrival, each naming its message by its slot and the slot's count:
    /// an entry is stale when its message's time has moved since.
    waiting: Waiting,
    arrivals: u64,
    /// The latest time met.
    latest: Option<DateTime<Utc>>,
    /// The time of the last row released: nothing earlier can follow it.
    released: Option<DateTime<Utc>>,
    /// The time of the last business message released: ids released a window before it are
    /// forgotten.
    released_statuses: Option<DateTime<Utc>>,
    /// How many ids released are kept (counted again at each purge: an entry a new id takes
    /// is not counted off), and how many to keep before the forgotten ones are dropped.
    gone: usize,
    purge_at: usize,
    /// The slot of the message [`Reducer::next`] gave last, free once it is asked again.
    lent: Option<u32>,
}

/// A business message's kind: the sender's own record of its template (`templates`), else
/// Meta's category.
fn kind(templates: &std::collections::HashMap<String, Kind>, s: &Strings) -> Kind {
    let known = s.get(Str::Id).filter(|_| !templates.is_empty()).and_then(|id| templates.get(id));
    match (known, s.get(Str::Category).map(kind_of)) {
        (Some(&k), _) => k,
        (None, Some(Ok(Some(c)))) => Kind::Template(c),
        // A non-template, or nothing said: a message without a verdict is not charged.
        _ => Kind::NonTemplate,
    }
}

/// A template category as Meta's words give it; `Ok(None)` for a non-template, `Err(())` for a
/// word that says nothing of the kind.
fn kind_of(category: &str) -> Result<Option<Category>, ()> {
    match category {
        "marketing" => Ok(Some(Category::Marketing)),
        "marketing_lite" => Ok(Some(Category::MarketingLite)),
        "utility" => Ok(Some(Category::Utility)),
        "authentication" | "authentication_international" => Ok(Some(Category::Authentication)),
        // Delivered inside a free entry point: Meta accepted it, so it was not a non-template
        // outside the window; which category is hidden, and an entry point makes any free.
        "referral_conversion" => Ok(Some(Category::Utility)),
        "service" | "user_initiated" => Ok(None),
        "business_initiated" => Ok(Some(Category::Marketing)),
        _ => Err(()),
    }
}

impl Reducer {
    /// A reducer holding rows for `window` of event time; `templates` gives the kind of the
    /// message ids that the sender's own records know.
    pub(crate) fn new(window: TimeDelta, templates: std::collections::HashMap<String, Kind>) -> Reducer {
        Reducer {
            window,
            templates,
            held: Slots::default(),
            names: Names::default(),
            ids: Table::new(IDS_LOAD),
            waiting: Waiting::default(),
            arrivals: 0,
            latest: None,
            released: None,
            released_statuses: None,
            gone: 0,
            purge_at: PURGE,
            lent: None,
        }
    }

    /// Takes one item of document line `line`, copying what the message keeps: a status of a
    /// message already held allocates nothing unless it changes Meta's verdict or category.
    pub(crate) fn push(&mut self, item: Item<'_>, line: u64) -> Result<(), Problem> {
        let at = match &item {
            Item::Incoming { at, .. } | Item::Status(MessageStatus { at, .. }) => *at,
        };
        if self.released.is_some_and(|r| at < r) {
            return Err(self.late(&item, at));
        }
        self.latest = Some(self.latest.map_or(at, |l| l.max(at)));
        self.arrivals += 1;
        let arrival = self.arrivals;
        match item {
            Item::Incoming { at, waba, business, phone, user, id, entry_point, extra } => {
                let Extra { bsuid, group, call } = extra;
                let names = self.names.of([waba, business, phone]);
                let direction = call.map_or(Direction::Mo, |(d, _)| d);
                let (slot, count, held) = self.held.insert();
                held.start(at, names, user, id, bsuid, direction, line);
                held.entry_point = entry_point;
                held.strings.set(Str::Group, group);
                if let Some((_, seconds)) = call {
                    held.kind = Kind::Call;
                    held.duration = seconds;
                    // An MO is delivered; a business's call reached the user when answered.
                    if direction == Direction::Mt {
                        held.status = if seconds > 0 { Status::Delivered } else { Status::Failed };
                    }
                }
                self.waiting.push((key(at), arrival, slot, count));
            }
            Item::Status(status) => {
                let MessageStatus { at, user, bsuid, id, fingerprint, stage, .. } = status;
                let forgotten = self.forgotten();
                let (found, spot) = self.ids.probe(&fingerprint);
                let state = found.copied().filter(|s| !forgotten(s));
                let (slot, fresh) = match state {
                    Some(State::Held(slot)) => (slot, false),
                    Some(State::Gone(_)) => {
                        return Err(Problem::path(
                            status.path(),
                            "a status of a message already priced (later than the reorder window)",
                            id,
                        ))
                    }
                    None => {
                        // A business message's first row, at its first status.
                        let s = &status;
                        let names = self.names.of([s.waba, s.business, s.phone]);
                        let (slot, _, held) = self.held.insert();
                        held.start(s.at, names, s.user, Some(s.id), s.bsuid, Direction::Mt, line);
                        held.id_key = fingerprint;
                        // An id forgotten names a new message: its entry is taken.
                        self.ids.put(spot, fingerprint, State::Held(slot), |s| !forgotten(s));
                        (slot, true)
                    }
                };
                let (p, count) = self.held.get_mut(slot);
                let before = (!fresh).then(|| p.time());
                match stage {
                    Stage::Delivered => p.delivered = earliest(p.delivered, at),
                    Stage::Read => p.read = earliest(p.read, at),
                    Stage::Failed => p.failed = earliest(p.failed, at),
                    Stage::Sent => p.sent = earliest(p.sent, at),
                }
                p.line = line;
                // A status naming the user by phone number and business-scoped id, after one
                // naming them by the id alone: the phone number is the user.
                if let (None, Some(b)) = (p.strings.get(Str::Bsuid), bsuid) {
                    if p.strings.str(Str::User) == b {
                        p.strings.set(Str::User, Some(user));
                    }
                    p.strings.set(Str::Bsuid, Some(b));
                }
                p.status = match (p.status, stage) {
                    (Status::Read, _) | (_, Stage::Read) => Status::Read,
                    (Status::Delivered, _) | (_, Stage::Delivered) => Status::Delivered,
                    (_, Stage::Failed) | (Status::Failed, _) => Status::Failed,
                    _ => Status::Sent,
                };
                if let Some(v) = &status.verdict {
                    if !v.category.is_empty() {
                        p.strings.set(Str::Category, Some(&v.category));
                    }
                    if matches!(stage, Stage::Delivered | Stage::Read) {
                        p.set_verdict(v);
                    }
                }
                if p.strings.get(Str::Category).is_none() {
                    if let Some(origin) = status.origin.as_deref() {
                        p.strings.set(Str::Category, Some(origin));
                    }
                }
                let now = p.time();
                if before != Some(now) {
                    p.timestamp = now;
                    self.waiting.push((key(now), arrival, slot, count));
                }
            }
        }
        Ok(())
    }

    /// The problem of an item older than what was already released.
    fn late(&self, item: &Item, at: DateTime<Utc>) -> Problem {
        let released = self.released.map(crate::domain::time::rfc3339).unwrap_or_default();
        let what =
            format!("later than the reorder window: earlier than a message already priced ({released})");
        match item {
            Item::Status(status) => Problem::path(status.path(), what, status.id),
            Item::Incoming { .. } => {
                Problem::new(format!("a user message at {}: {what}", crate::domain::time::rfc3339(at)))
            }
        }
    }

    /// The next message no status can change any more (or every one left, at the end), lent
    /// until the reducer is next asked for one.
    pub(crate) fn next(&mut self, end: bool) -> Option<View<'_>> {
        if let Some(slot) = self.lent.take() {
            self.held.free(slot);
        }
        loop {
            let (time, _, slot, count) = self.waiting.peek()?;
            let ready = end
                || self
                    .latest
                    .and_then(|l| l.checked_sub_signed(self.window))
                    // A window with a fraction of a second puts `l` within a second: the
                    // latest row's time at or before it is its whole seconds (not a `key`).
                    .is_some_and(|l| l.timestamp() >= time);
            if !ready {
                return None;
            }
            self.waiting.pop();
            self.prefetch();
            // A stale entry: the message's time moved since it was pushed.
            let Some(held) = self.held.of(slot, count) else { continue };
            let at = held.time();
            if key(at) != time {
                continue;
            }
            self.lent = Some(slot);
            self.released = Some(at);
            let held = self.held.release(slot);
            // A call is whole at its one item; a business message is its statuses.
            let of_statuses = held.direction == Direction::Mt && held.kind != Kind::Call;
            if of_statuses {
                held.kind = kind(&self.templates, &held.strings);
                self.released_statuses = Some(at);
                let fingerprint = held.id_key;
                let spot = self.ids.probe(&fingerprint).1;
                let forgotten = self.forgotten();
                self.ids.put(spot, fingerprint, State::Gone(at), |s| !forgotten(s));
                self.gone += 1;
                if self.gone >= self.purge_at {
                    self.forget_gone();
                }
            }
            return Some(self.held.get(slot).view(&self.names));
        }
    }

    /// Asks for the memory the next releases will read, which a window of other messages has
    /// pushed out of the cache since it was written: the slots of the rows [`SLOT_AHEAD`]
    /// ahead, and the strings and id entries of those [`TEXT_AHEAD`] ahead, which their slots
    /// (asked for earlier) tell.
    fn prefetch(&self) {
        if let Some(&(_, _, slot, _)) = self.waiting.queue.get(SLOT_AHEAD) {
            self.held.prefetch(slot);
        }
        if let Some(&(_, _, slot, _)) = self.waiting.queue.get(TEXT_AHEAD) {
            let held = self.held.get(slot);
            cpu::prefetch(held.strings.text.as_ptr());
            if held.id_key != 0 {
                self.ids.prefetch(&held.id_key);
            }
        }
    }

    /// The message [`Reducer::next`] gave last, copied.
    pub(crate) fn lent_message(&self) -> Option<WebhookMessage> {
        Some(self.lent()?.to_message())
    }

    /// The message [`Reducer::next`] gave last.
    pub(crate) fn lent(&self) -> Option<View<'_>> {
        Some(self.held.get(self.lent?).view(&self.names))
    }

    #[cfg(test)]
    fn next_owned(&mut self, end: bool) -> Option<WebhookMessage> {
        self.next(end)?;
        self.lent_message()
    }

    /// Drops the ids forgotten, in one pass over the table (rather than one lookup each);
    /// then waits until as many released again are kept.
    fn forget_gone(&mut self) {
        let forgotten = self.forgotten();
        let mut gone = 0;
        self.ids.retain(|_, s| {
            let keep = !forgotten(s);
            gone += usize::from(keep && matches!(s, State::Gone(_)));
            keep
        });
        self.gone = gone;
        self.purge_at = (2 * self.gone).max(PURGE);
    }

    /// Whether an id's entry is forgotten: released a window or more before the last business
    /// message released.
    fn forgotten(&self) -> impl Fn(&State) -> bool {
        let before = self.released_statuses.and_then(|r| r.checked_sub_signed(self.window));
        move |s| matches!(*s, State::Gone(t) if before.is_some_and(|f| t <= f))
    }

    /// How many messages are held.
    pub(crate) fn held(&self) -> usize {
        self.held.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_750_000_000 + s, 0).unwrap()
    }

    fn status<'a>(s: i64, id: &'a str, stage: Stage, category: Option<&'a str>) -> Item<'a> {
        let verdict = category.map(|c| Verdict {
            billable: Some(true),
            pricing_model: "PMP",
            pricing_type: "regular".into(),
            category: c.into(),
            cost: "".into(),
            charge: None,
        });
        Item::Status(MessageStatus {
            at: t(s),
            waba: "W",
            business: "B",
            phone: "",
            user: "33612345678",
            bsuid: None,
            id,
            fingerprint: SeenIds::fingerprint(id),
            stage,
            verdict,
            origin: None,
            place: Place::DOCUMENT,
            index: 0,
        })
    }

    fn incoming(s: i64) -> Item<'static> {
        Item::Incoming {
            at: t(s),
            waba: "W",
            business: "B",
            phone: "",
            user: "33612345678",
            id: None,
            entry_point: false,
            extra: Extra::default(),
        }
    }

    /// Every message left, in order, after `items` (each of document line 1).
    fn reduce(window: i64, items: Vec<Item>) -> Vec<WebhookMessage> {
        let mut r = Reducer::new(TimeDelta::seconds(window), Default::default());
        items.into_iter().for_each(|i| r.push(i, 1).unwrap());
        std::iter::from_fn(|| r.next_owned(true)).collect()
    }

    #[test]
    fn statuses_repeated_and_out_of_order_make_one_message_at_its_delivery() {
        let m = reduce(
            3600,
            vec![
                status(30, "m", Stage::Read, Some("utility")),
                status(10, "m", Stage::Sent, Some("utility")),
                status(20, "m", Stage::Delivered, Some("utility")),
                status(20, "m", Stage::Delivered, Some("utility")),
            ],
        );
        assert_eq!(m.len(), 1);
        assert_eq!(
            (m[0].timestamp, m[0].status, m[0].kind),
            (t(20), Status::Read, Kind::Template(Category::Utility))
        );
    }

    /// A verdict repeated in the same words keeps the charge read first, whatever the
    /// currency of the repeat's cost (the words do not hold it).
    #[test]
    fn a_verdict_repeated_keeps_its_first_charge() {
        let priced = |s: i64, stage, currency| {
            let Item::Status(mut status) = status(s, "m", stage, Some("marketing_lite")) else {
                unreachable!()
            };
            let v = status.verdict.as_mut().unwrap();
            v.cost = "0.05".into();
            v.charge = Some(Cost::parse("0.05", Some(currency)).unwrap());
            Item::Status(status)
        };
        let m = reduce(60, vec![priced(0, Stage::Delivered, "USD"), priced(1, Stage::Read, "EUR")]);
        assert_eq!(m[0].cost, Some(Cost::parse("0.05", Some("USD")).unwrap()));
        let m = reduce(
            60,
            vec![priced(0, Stage::Delivered, "USD"), status(1, "m", Stage::Read, Some("marketing"))],
        );
        assert_eq!((m[0].cost, m[0].verdict.as_ref().unwrap().category.as_str()), (None, "marketing"));
    }

    /// Businesses that share a number but not their other names are told apart.
    #[test]
    fn names_sharing_a_number_are_kept_apart() {
        let mut names = Names::default();
        let a = names.of(["W", "B", "1"]);
        let b = names.of(["W", "B", "2"]);
        assert_ne!(a, b);
        assert_eq!(names.of(["W", "B", "1"]), a);
        assert_eq!(&*names.list[b as usize][2], "2");
        // Found again after the table has grown (and hashed its entries anew).
        let many: Vec<String> = (0..100).map(|n| n.to_string()).collect();
        let numbers: Vec<u32> = many.iter().map(|d| names.of(["W", "B", d])).collect();
        assert_eq!(names.of(["W", "B", "1"]), a);
        assert!(many.iter().zip(numbers).all(|(d, n)| names.of(["W", "B", d]) == n));
        assert_eq!(names.list.len(), 100, "\"1\" and \"2\" were kept already");
    }

    #[test]
    fn a_failure_counts_only_when_nothing_passed_sent() {
        let failed = reduce(60, vec![status(0, "a", Stage::Sent, None), status(5, "a", Stage::Failed, None)]);
        assert_eq!((failed[0].status, failed[0].timestamp), (Status::Failed, t(5)));
        let delivered =
            reduce(60, vec![status(0, "b", Stage::Delivered, None), status(5, "b", Stage::Failed, None)]);
        assert_eq!(delivered[0].status, Status::Delivered);
    }

    /// Meta's verdict is the pricing of a delivered or read status; one on sent tells only the
    /// category.
    #[test]
    fn pricing_only_on_sent_gives_the_category_not_the_verdict() {
        let m = reduce(
            60,
            vec![status(0, "a", Stage::Sent, Some("marketing")), status(1, "a", Stage::Delivered, None)],
        );
        assert_eq!((m[0].verdict.as_ref(), m[0].kind), (None, Kind::Template(Category::Marketing)));
        let m = reduce(60, vec![status(0, "a", Stage::Delivered, Some("service"))]);
        assert_eq!(
            (m[0].verdict.as_ref().map(|v| v.category.as_str()), m[0].kind),
            (Some("service"), Kind::NonTemplate)
        );
    }

    #[test]
    fn the_senders_record_of_a_template_wins_over_metas_word() {
        let mut r = Reducer::new(
            TimeDelta::seconds(60),
            [("a".to_string(), Kind::Template(Category::Authentication))].into_iter().collect(),
        );
        r.push(status(0, "a", Stage::Delivered, Some("referral_conversion")), 1).unwrap();
        assert_eq!(r.next(true).unwrap().kind, Kind::Template(Category::Authentication));
    }

    /// Rows come out in time order, each once the log has gone a window past it.
    #[test]
    fn rows_come_out_in_time_order_once_the_window_has_passed() {
        let mut r = Reducer::new(TimeDelta::seconds(100), Default::default());
        r.push(status(50, "a", Stage::Sent, None), 1).unwrap();
        r.push(incoming(10), 2).unwrap();
        assert!(r.next(false).is_none());
        r.push(incoming(110), 3).unwrap();
        assert_eq!(r.next(false).map(|m| m.timestamp), Some(t(10)));
        assert!(r.next(false).is_none(), "the status at 50 may still be delivered");
        r.push(status(60, "a", Stage::Delivered, None), 4).unwrap();
        r.push(incoming(161), 5).unwrap();
        let a = r.next(false).unwrap();
        assert_eq!((a.timestamp, a.status, a.line), (t(60), Status::Delivered, 4));
        assert_eq!(r.held(), 2);
    }

    /// A status for a message already priced, or an item older than what was priced, is
    /// reported (later than the reorder window), never folded in silently.
    #[test]
    fn a_status_later_than_the_window_is_reported() {
        let mut r = Reducer::new(TimeDelta::seconds(100), Default::default());
        r.push(status(0, "a", Stage::Delivered, None), 1).unwrap();
        r.push(incoming(200), 2).unwrap();
        assert!(r.next(false).is_some());
        let again = r.push(status(250, "a", Stage::Read, None), 3).unwrap_err();
        assert_eq!(
            again.to_string(),
            "$.statuses[0].status: a status of a message already priced (later than the reorder window) (a)"
        );
        let old = r.push(incoming(-5), 4).unwrap_err();
        assert!(old.to_string().contains("later than the reorder window"), "{old}");
    }

    proptest::proptest! {
        /// The rows waiting come out as one heap would give them, whatever the order they come
        /// in and however pushes and pops mix.
        #[test]
        fn rows_waiting_come_out_in_order(ops in proptest::collection::vec(proptest::option::of(0i64..50), 0..200)) {
            let (mut waiting, mut heap) = (Waiting::default(), BinaryHeap::new());
            for (arrival, op) in ops.into_iter().enumerate() {
                match op {
                    Some(time) => {
                        let entry = (time, arrival as u64, 0, 0);
                        waiting.push(entry);
                        heap.push(Reverse(entry));
                    }
                    None => proptest::prop_assert_eq!(waiting.pop(), heap.pop().map(|r| r.0)),
                }
            }
            while let Some(Reverse(entry)) = heap.pop() {
                proptest::prop_assert_eq!(waiting.pop(), Some(entry));
            }
            proptest::prop_assert_eq!(waiting.pop(), None);
        }
    }

    /// An id is forgotten a window after the last business message released, whatever user
    /// messages were released since: a status for it is still late.
    #[test]
    fn user_messages_released_do_not_make_an_id_forgotten() {
        let mut r = Reducer::new(TimeDelta::seconds(100), Default::default());
        r.push(status(0, "x", Stage::Sent, None), 1).unwrap();
        for (line, s) in [(2, 10), (3, 150), (4, 260)] {
            r.push(incoming(s), line).unwrap();
            while r.next(false).is_some() {}
        }
        assert!(r.push(status(260, "x", Stage::Read, None), 5).is_err());
    }

    /// A window of a fraction of a second more than whole seconds releases what a whole
    /// window would.
    #[test]
    fn a_window_within_a_second_is_read_as_time() {
        let mut r = Reducer::new(TimeDelta::milliseconds(1500), Default::default());
        r.push(incoming(0), 1).unwrap();
        r.push(incoming(1), 2).unwrap();
        assert!(r.next(false).is_none(), "1 s is less than the window");
        r.push(incoming(2), 3).unwrap();
        assert_eq!(r.next(false).map(|m| m.timestamp), Some(t(0)));
        assert!(r.next(false).is_none());
    }

    /// The ids forgotten are dropped in bulk: memory follows the window, not the log, and an
    /// id is remembered exactly as long either side of a drop.
    #[test]
    fn forgotten_ids_are_dropped_as_the_log_goes_on() {
        let mut r = Reducer::new(TimeDelta::seconds(10), Default::default());
        let ids: Vec<String> = (0..3 * PURGE as i64).map(|n| format!("m{n}")).collect();
        for (n, id) in ids.iter().enumerate() {
            r.push(status(n as i64, id, Stage::Delivered, None), 1).unwrap();
            while r.next(false).is_some() {}
            assert!(r.ids.len() <= 2 * PURGE + 12, "{} ids kept at {n}", r.ids.len());
        }
        let last = 3 * PURGE as i64 - 1;
        // Released within the window of the last release: late. Before it: a new message.
        assert!(r.push(status(last, &ids[ids.len() - 12], Stage::Read, None), 2).is_err());
        r.push(status(last, &ids[0], Stage::Read, None), 3).unwrap();
        let rest: Vec<_> = std::iter::from_fn(|| r.next_owned(true)).filter_map(|m| m.id).collect();
        assert!(rest.contains(&ids[0]), "{rest:?}");
    }

    /// An id is remembered for a window after its message is released, then forgotten: a
    /// status for it that is not late by its time is a new message.
    #[test]
    fn an_id_is_forgotten_a_window_after_its_message() {
        let mut r = Reducer::new(TimeDelta::seconds(100), Default::default());
        r.push(status(0, "a", Stage::Delivered, None), 1).unwrap();
        r.push(status(150, "b", Stage::Delivered, None), 2).unwrap();
        assert_eq!(r.next(false).unwrap().id, Some("a"));
        assert!(r.push(status(160, "a", Stage::Read, None), 3).is_err(), "a is still remembered");
        r.push(status(300, "c", Stage::Delivered, None), 4).unwrap();
        assert_eq!(r.next(false).unwrap().id, Some("b"));
        r.push(status(310, "a", Stage::Read, None), 5).unwrap();
        let rest: Vec<_> =
            std::iter::from_fn(|| r.next_owned(true)).map(|m| (m.id.unwrap(), m.timestamp)).collect();
        assert_eq!(rest, [("c".to_string(), t(300)), ("a".to_string(), t(310))]);
        assert_eq!(r.held(), 0);
    }
}
