//! Meta's aggregates as the Graph API returns them (`pricing_analytics`, and
//! `conversation_analytics` for the conversation eras), and wabill's lines counted into the
//! same buckets (docs/rules.md §11).

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::Value;

use super::words::{pmp_word, MetaSays};
use crate::domain::error::Error;
use crate::domain::event::{named_enum, PricingCategory, PricingModel, PricingType};
use crate::domain::money::Currency;
use crate::engine::PricedLine;

named_enum! {
    /// Which of Meta's aggregates a response holds.
    pub enum Source ("source") {
        /// The messages compared, by the words of each side's verdict (wabill's tally, not a
        /// response of Meta's).
        Messages = "messages",
        /// Messages by pricing type and category (per-message pricing).
        Pricing = "pricing_analytics",
        /// Conversations by type and category (the conversation eras).
        Conversation = "conversation_analytics",
    }
}

/// How far apart a bucket's costs may be and still agree: an amount in the WABA's currency
/// (`0.01`), or a share of Meta's cost (`0.5%`). Meta says its figures are approximate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tolerance {
    /// At most this amount apart.
    Amount(Decimal),
    /// At most this share of Meta's cost apart (0.005 for `0.5%`).
    Share(Decimal),
}

impl Default for Tolerance {
    /// A cent (0.01 of the currency).
    fn default() -> Tolerance {
        Tolerance::Amount(Decimal::new(1, 2))
    }
}

impl FromStr for Tolerance {
    type Err = String;
    fn from_str(s: &str) -> Result<Tolerance, String> {
        let bad = || format!("not a tolerance (an amount like 0.01, or a share like 0.5%): {s}");
        let t = s.trim();
        let (number, share) = match t.strip_suffix('%') {
            Some(n) => (n.trim(), true),
            None => (t, false),
        };
        let n = Decimal::from_str_exact(number).map_err(|_| bad())?;
        if n.is_sign_negative() {
            return Err(bad());
        }
        Ok(if share { Tolerance::Share(n / Decimal::ONE_HUNDRED) } else { Tolerance::Amount(n) })
    }
}

impl fmt::Display for Tolerance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tolerance::Amount(a) => write!(f, "{}", a.normalize()),
            Tolerance::Share(s) => write!(f, "{}%", (s * Decimal::ONE_HUNDRED).normalize()),
        }
    }
}

impl Tolerance {
    /// Whether two costs agree.
    pub fn allows(self, wabill: Decimal, meta: Decimal) -> bool {
        let gap = (wabill - meta).abs();
        match self {
            Tolerance::Amount(a) => gap <= a,
            Tolerance::Share(s) => gap <= s * meta.abs(),
        }
    }
}

/// The dimensions of a bucket: Meta's words, upper-cased; `None` where the response does not
/// break the figures down by it. A tier is kept as its band's last message (`MAX` for an open
/// end), which names a band whichever way its first is written (`0:750000`, `1:750000`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) struct Dims {
    pub(super) country: Option<String>,
    pub(super) phone: Option<String>,
    pub(super) pricing_type: Option<String>,
    pub(super) category: Option<String>,
    pub(super) direction: Option<String>,
    pub(super) tier: Option<String>,
}

impl Dims {
    /// These words (type, category, direction) with `base`'s country, phone and tier.
    fn with(self, base: &Dims) -> Dims {
        Dims { country: base.country.clone(), phone: base.phone.clone(), tier: base.tier.clone(), ..self }
    }
}

/// One data point of Meta's.
#[derive(Debug, Clone)]
struct Point {
    start: i64,
    end: i64,
    dims: Dims,
    /// The tier as Meta wrote it.
    tier_text: Option<String>,
    volume: u64,
    cost: Option<Decimal>,
}

/// One response of Meta's (all its pages): which aggregate, the WABA it is of (the response's
/// `id`, when kept), and its data points.
#[derive(Debug, Clone)]
pub struct Analytics {
    source: Source,
    waba: Option<String>,
    file: String,
    points: Vec<Point>,
}

impl Analytics {
    /// Reads a response as the Graph API returns it: `{"pricing_analytics":{"data":[{
    /// "data_points":[…]}]},"id":WABA}` (or `conversation_analytics`), the field's own object
    /// (`{"data":[…]}`), or a JSON array of pages of either. `file` names it in errors.
    pub fn from_json(text: &str, file: &str) -> Result<Analytics, Error> {
        let value: Value = serde_json::from_str(text).map_err(|e| {
            Error::config(format!("{file}:{}: not JSON at column {}: {e}", e.line(), e.column()))
        })?;
        let mut out =
            Analytics { source: Source::Pricing, waba: None, file: file.to_string(), points: Vec::new() };
        let mut sources = Vec::new();
        match &value {
            Value::Array(pages) => {
                for (i, page) in pages.iter().enumerate() {
                    out.page(page, &format!("$[{i}]"), &mut sources)?;
                }
            }
            page => out.page(page, "$", &mut sources)?,
        }
        sources.dedup();
        match sources.as_slice() {
            [s] => out.source = *s,
            [] => return Err(out.bad("$", "neither pricing_analytics nor conversation_analytics", "")),
            _ => {
                return Err(out.bad("$", "both pricing_analytics and conversation_analytics: one a file", ""))
            }
        }
        Ok(out)
    }

    /// Which aggregate it is.
    pub fn source(&self) -> Source {
        self.source
    }

    /// The WABA it is of, when the response says.
    pub fn waba(&self) -> Option<&str> {
        self.waba.as_deref()
    }

    /// Its file, as named.
    pub fn file(&self) -> &str {
        &self.file
    }

    fn bad(&self, path: &str, what: &str, value: &str) -> Error {
        let value = if value.is_empty() { String::new() } else { format!(" ({value})") };
        Error::config(format!("{}: {path}: {what}{value}", self.file))
    }

    fn page(&mut self, page: &Value, path: &str, sources: &mut Vec<Source>) -> Result<(), Error> {
        let Some(object) = page.as_object() else {
            return Err(self.bad(path, "not an object", ""));
        };
        if let Some(id) = object.get("id") {
            let id = id.as_str().ok_or_else(|| self.bad(&format!("{path}.id"), "not a string", ""))?;
            match &self.waba {
                Some(w) if w != id => {
                    return Err(self.bad(&format!("{path}.id"), "another WABA than the first page's", id))
                }
                _ => self.waba = Some(id.to_string()),
            }
        }
        for source in [Source::Pricing, Source::Conversation] {
            if let Some(field) = object.get(source.as_str()) {
                sources.push(source);
                self.data(field, &format!("{path}.{source}"), source)?;
            }
        }
        if object.contains_key("data") {
            let source = if self.conversation_points(&object["data"]) {
                Source::Conversation
            } else {
                Source::Pricing
            };
            sources.push(source);
            self.data(page, path, source)?;
        }
        Ok(())
    }

    /// Whether a bare `data` holds conversation_analytics' points.
    fn conversation_points(&self, data: &Value) -> bool {
        let points = data.as_array().into_iter().flatten().filter_map(|d| d.get("data_points"));
        points.filter_map(Value::as_array).flatten().any(|p| p.get("conversation").is_some())
    }

    fn data(&mut self, field: &Value, path: &str, source: Source) -> Result<(), Error> {
        let data = field.get("data").and_then(Value::as_array);
        let data = data.ok_or_else(|| self.bad(&format!("{path}.data"), "missing, or not an array", ""))?;
        for (d, item) in data.iter().enumerate() {
            let here = format!("{path}.data[{d}].data_points");
            let points = item.get("data_points").and_then(Value::as_array);
            let points = points.ok_or_else(|| self.bad(&here, "missing, or not an array", ""))?;
            for (i, p) in points.iter().enumerate() {
                let point = self.point(p, &format!("{here}[{i}]"), source)?;
                self.points.push(point);
            }
        }
        Ok(())
    }

    fn point(&self, p: &Value, path: &str, source: Source) -> Result<Point, Error> {
        let field = |name: &str| format!("{path}.{name}");
        let whole = |name: &str| -> Result<Option<u64>, Error> {
            match p.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::Number(n)) => n
                    .as_u64()
                    .map(Some)
                    .ok_or_else(|| self.bad(&field(name), "not a whole number", &n.to_string())),
                Some(Value::String(s)) => {
                    s.parse().map(Some).map_err(|_| self.bad(&field(name), "not a whole number", s))
                }
                Some(v) => Err(self.bad(&field(name), "not a whole number", &v.to_string())),
            }
        };
        let word = |name: &str| -> Result<Option<String>, Error> {
            match p.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.trim().to_ascii_uppercase())),
                Some(v) => Err(self.bad(&field(name), "not a string", &v.to_string())),
            }
        };
        let required = |name: &str| whole(name)?.ok_or_else(|| self.bad(&field(name), "missing", ""));
        let (start, end) = (required("start")?, required("end")?);
        if end <= start {
            return Err(self.bad(&field("end"), "not after start", &end.to_string()));
        }
        let cost = match p.get("cost") {
            None | Some(Value::Null) => None,
            // A JSON number, written back as the shortest decimal that reads as the same
            // double: the figure Meta wrote when it has fewer than 16 digits.
            Some(Value::Number(n)) => Some(
                Decimal::from_str_exact(&n.to_string())
                    .or_else(|_| Decimal::from_scientific(&n.to_string()))
                    .map_err(|_| self.bad(&field("cost"), "not an amount", &n.to_string()))?,
            ),
            Some(Value::String(s)) => Some(
                Decimal::from_str_exact(s.trim())
                    .map_err(|_| self.bad(&field("cost"), "not an amount", s))?,
            ),
            Some(v) => return Err(self.bad(&field("cost"), "not an amount", &v.to_string())),
        };
        let (volume, dims) = match source {
            Source::Pricing => (
                whole("volume")?.unwrap_or(0),
                Dims {
                    country: word("country")?,
                    phone: word("phone")?.map(digits),
                    pricing_type: word("pricing_type")?,
                    category: word("pricing_category")?,
                    direction: None,
                    tier: None,
                },
            ),
            Source::Messages => unreachable!("not a response's"),
            Source::Conversation => (
                whole("conversation")?.unwrap_or(0),
                Dims {
                    country: word("country")?,
                    phone: word("phone_number")?.or(word("phone")?).map(digits),
                    pricing_type: word("conversation_type")?,
                    category: word("conversation_category")?,
                    direction: word("conversation_direction")?,
                    tier: None,
                },
            ),
        };
        let tier_text = word("tier")?;
        let tier = match &tier_text {
            Some(t) => Some(tier_end(t).ok_or_else(|| self.bad(&field("tier"), "not a tier (FROM:TO)", t))?),
            None => None,
        };
        let (start, end) = (start as i64, end as i64);
        Ok(Point { start, end, dims: Dims { tier, ..dims }, tier_text, volume, cost })
    }
}

/// A category as Meta's analytics write it.
pub(super) fn upper(c: Option<PricingCategory>) -> String {
    c.map_or_else(String::new, |c| c.as_str().to_ascii_uppercase())
}

/// A phone number's digits (Meta's `phone` is the display number, which logs may write with
/// `+` and spaces).
fn digits(s: String) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// The last message of a tier band written `FROM:TO` (`TO` a number or `MAX`).
fn tier_end(text: &str) -> Option<String> {
    let (from, to) = text.split_once(':')?;
    from.trim().parse::<u64>().ok()?;
    match to.trim() {
        "MAX" => Some("MAX".into()),
        to => to.parse::<u64>().ok().map(|n| n.to_string()),
    }
}

/// A bucket's figures on one side.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Figures {
    /// Messages (pricing_analytics) or conversations (conversation_analytics).
    pub volume: u64,
    /// Their cost; `None` where Meta does not say (a WABA on a partner's credit line).
    pub cost: Option<Decimal>,
}

/// One bucket of Meta's aggregate, side by side with wabill's lines counted the same way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    /// The response it is of.
    pub source: Source,
    /// The WABA, when the response says.
    pub waba: Option<String>,
    /// The response's file (none for the messages' rows).
    pub file: Option<String>,
    /// Its start and end (Unix seconds, UTC): the data point's own, or for figures of
    /// wabill's alone, the slot of the response's granularity they fall in.
    pub start: i64,
    /// See `start`.
    pub end: i64,
    /// `country`, `phone`, the pricing (or conversation) type and category, the
    /// conversation's direction and the tier, as Meta words them; empty where the response
    /// does not break the figures down by it.
    pub dims: [String; 6],
    /// wabill's figures.
    pub wabill: Figures,
    /// Meta's.
    pub meta: Figures,
    /// The currency of the costs (the WABA's).
    pub currency: Option<Currency>,
    /// The volumes are equal.
    pub volume_agrees: bool,
    /// The costs agree within the tolerance (true when Meta gives none).
    pub cost_agrees: bool,
    /// Why they may differ, when they do.
    pub note: String,
}

/// The names of [`Bucket::dims`].
pub const DIMENSIONS: [&str; 6] = ["country", "phone", "type", "category", "direction", "tier"];

/// One response and wabill's lines counted into its buckets.
pub(super) struct Join {
    analytics: Analytics,
    /// Which dimensions its points use.
    used: [bool; 6],
    /// Its points' distinct intervals, by start.
    intervals: Vec<(i64, i64)>,
    longest: i64,
    /// The most common interval length: wabill's figures outside every point's interval fall
    /// in slots of it.
    step: i64,
    span: (i64, i64),
    tiers: HashMap<String, String>,
    wabill: HashMap<(i64, i64, Dims), Figures>,
    /// The log's messages counted where Meta's verdicts on them put them.
    by_verdict: HashMap<(i64, i64, Dims), u64>,
    /// Whether any message had a verdict that places it.
    verdicts: bool,
    currency: Option<Currency>,
    /// wabill's lines of its WABA outside its period.
    pub(super) outside: u64,
}

impl Join {
    pub(super) fn new(analytics: Analytics) -> Join {
        let mut used = [false; 6];
        let mut intervals = Vec::new();
        let mut lengths: BTreeMap<i64, u64> = BTreeMap::new();
        let mut tiers = HashMap::new();
        for p in &analytics.points {
            for (u, d) in used.iter_mut().zip(dims_of(&p.dims)) {
                *u |= d.is_some();
            }
            intervals.push((p.start, p.end));
            *lengths.entry(p.end - p.start).or_default() += 1;
            if let (Some(end), Some(text)) = (&p.dims.tier, &p.tier_text) {
                tiers.entry(end.clone()).or_insert_with(|| text.clone());
            }
        }
        intervals.sort_unstable();
        intervals.dedup();
        let step = lengths.iter().max_by_key(|(len, n)| (**n, **len)).map_or(86_400, |(len, _)| *len);
        let span = (intervals.first().map_or(0, |i| i.0), intervals.iter().map(|i| i.1).max().unwrap_or(0));
        let longest = intervals.iter().map(|(s, e)| e - s).max().unwrap_or(0);
        Join {
            analytics,
            used,
            intervals,
            longest,
            step,
            span,
            tiers,
            wabill: HashMap::new(),
            by_verdict: HashMap::new(),
            verdicts: false,
            currency: None,
            outside: 0,
        }
    }

    pub(super) fn file(&self) -> &str {
        &self.analytics.file
    }

    /// Counts a business message: `names` says its row's WABA and displayed number, when the
    /// log gives them; `delivered`, whether wabill has it delivered (else only Meta's verdict
    /// places it); `opens`, whether it opened a conversation (for conversation_analytics);
    /// `meta`, Meta's verdict on it, which puts it in the bucket Meta's words name.
    pub(super) fn add(
        &mut self,
        line: &PricedLine,
        names: super::Names,
        delivered: bool,
        opens: bool,
        meta: Option<&MetaSays>,
    ) {
        if let Some(w) = &self.analytics.waba {
            if names.waba.unwrap_or(line.waba()) != w && line.waba() != w {
                return;
            }
        }
        let base = Dims {
            country: line.country.map(|c| c.code().to_string()),
            phone: Some(digits(names.phone.unwrap_or(line.business()).to_string())),
            tier: Some(line.tier.and_then(|t| t.to).map_or_else(|| "MAX".to_string(), |to| to.to_string())),
            ..Dims::default()
        };
        let ours = if delivered { self.words(line, opens) } else { None };
        let ours = ours.map(|d| self.mask(d.with(&base)));
        // Where Meta's verdict puts it (per-message pricing only: a conversation's verdict
        // does not say which message opened it).
        let theirs = match meta {
            Some(m) if self.analytics.source == Source::Pricing && m.model == PricingModel::Pmp => {
                m.pricing_type.and_then(pmp_word).map(|t| {
                    let words = Dims {
                        pricing_type: Some(t.into()),
                        category: Some(upper(m.category)),
                        ..Dims::default()
                    };
                    self.mask(words.with(&base))
                })
            }
            _ => None,
        };
        if ours.is_none() && theirs.is_none() {
            return;
        }
        let t = line.timestamp.timestamp();
        if self.intervals.is_empty() || t < self.span.0 || t >= self.span.1 {
            self.outside += u64::from(ours.is_some());
            return;
        }
        self.currency.get_or_insert(line.currency);
        let first_after = self.intervals.partition_point(|iv| iv.0 <= t);
        let mut found = false;
        for i in (0..first_after).rev() {
            let (start, end) = self.intervals[i];
            if start < t - self.longest {
                break;
            }
            if t < end {
                found = true;
                self.count((start, end), ours.as_ref(), theirs.as_ref(), line);
            }
        }
        if !found {
            let start = self.span.0 + (t - self.span.0).div_euclid(self.step) * self.step;
            self.count((start, start + self.step), ours.as_ref(), theirs.as_ref(), line);
        }
    }

    fn count(
        &mut self,
        (start, end): (i64, i64),
        ours: Option<&Dims>,
        theirs: Option<&Dims>,
        line: &PricedLine,
    ) {
        if let Some(ours) = ours {
            let f = self.wabill.entry((start, end, ours.clone())).or_default();
            f.volume += 1;
            *f.cost.get_or_insert(Decimal::ZERO) += line.charge;
        }
        if let Some(theirs) = theirs {
            *self.by_verdict.entry((start, end, theirs.clone())).or_default() += 1;
            self.verdicts = true;
        }
    }

    /// The words wabill's line gives a bucket: its type, category and (conversations) the
    /// direction; `None` for a line Meta does not count in this aggregate.
    fn words(&self, line: &PricedLine, opens: bool) -> Option<Dims> {
        let upper = |c: PricingCategory| upper(Some(c));
        match self.analytics.source {
            Source::Pricing => {
                if line.pricing_model != PricingModel::Pmp {
                    return None;
                }
                Some(Dims {
                    pricing_type: Some(pmp_word(line.pricing_type)?.to_string()),
                    category: line.pricing_category.map(upper),
                    ..Dims::default()
                })
            }
            Source::Messages => None,
            Source::Conversation => {
                if line.pricing_model != PricingModel::Cbp || !opens {
                    return None;
                }
                let (category, direction) = match line.pricing_category {
                    Some(c @ (PricingCategory::UserInitiated | PricingCategory::BusinessInitiated)) => {
                        (None, Some(upper(c)))
                    }
                    Some(c @ (PricingCategory::Service | PricingCategory::ReferralConversion)) => {
                        (Some(upper(c)), Some("USER_INITIATED".into()))
                    }
                    Some(c) => (Some(upper(c)), Some("BUSINESS_INITIATED".into())),
                    None => (None, None),
                };
                let kind = match line.pricing_type {
                    PricingType::FreeCustomerService => "FREE_CUSTOMER_SERVICE",
                    t => pmp_word(t)?,
                };
                Some(Dims { pricing_type: Some(kind.into()), category, direction, ..Dims::default() })
            }
        }
    }

    /// The dimensions the response uses, and no others.
    fn mask(&self, dims: Dims) -> Dims {
        let keep = |used: bool, v: Option<String>| if used { Some(v.unwrap_or_default()) } else { None };
        let [country, phone, pricing_type, category, direction, tier] = self.used;
        Dims {
            country: keep(country, dims.country),
            phone: keep(phone, dims.phone),
            pricing_type: keep(pricing_type, dims.pricing_type),
            category: keep(category, dims.category),
            direction: keep(direction, dims.direction),
            tier: keep(tier, dims.tier),
        }
    }

    /// The buckets, Meta's and wabill's side by side, by start and dimensions.
    pub(super) fn buckets(self, tolerance: super::Tolerance) -> Vec<Bucket> {
        let mut meta: BTreeMap<(i64, i64, Dims), Figures> = BTreeMap::new();
        for p in &self.analytics.points {
            let f = meta.entry((p.start, p.end, p.dims.clone())).or_default();
            f.volume += p.volume;
            if let Some(c) = p.cost {
                *f.cost.get_or_insert(Decimal::ZERO) += c;
            }
        }
        let mut keys: Vec<(i64, i64, Dims)> = meta.keys().cloned().collect();
        keys.extend(self.wabill.keys().filter(|k| !meta.contains_key(*k)).cloned());
        keys.sort();
        let tiered = self.used[5];
        let diff = |k: &(i64, i64, Dims)| {
            let w = self.wabill.get(k).map_or(0, |f| f.volume) as i64;
            w - meta.get(k).map_or(0, |f| f.volume) as i64
        };
        let mut buckets = Vec::with_capacity(keys.len());
        for key in &keys {
            let m = meta.get(key).copied().unwrap_or_default();
            let mut w = self.wabill.get(key).copied().unwrap_or_default();
            w.cost.get_or_insert(Decimal::ZERO);
            let volume_agrees = w.volume == m.volume;
            let cost_agrees = match (w.cost, m.cost) {
                (Some(ours), Some(theirs)) => tolerance.allows(ours, theirs),
                _ => true,
            };
            let d = diff(key);
            // Another band of the same bucket that differs the other way.
            let other_band = tiered
                && d != 0
                && keys.iter().any(|k| {
                    (k.0, k.1) == (key.0, key.1)
                        && k.2.tier != key.2.tier
                        && Dims { tier: None, ..k.2.clone() } == Dims { tier: None, ..key.2.clone() }
                        && diff(k).signum() == -d.signum()
                });
            let note = if other_band {
                "tier band differs: are messages of this portfolio missing from the log (tiers count the \
                 portfolio's month)?"
                    .to_string()
            } else if d == 0 && !cost_agrees {
                format!("costs differ beyond the tolerance ({tolerance}): rate card, currency or tier?")
            } else if d == 0 {
                String::new()
            } else if self.verdicts {
                // Meta's count = the log's messages Meta's verdicts put here + those Meta
                // counted that the log lacks (or has undelivered).
                let placed = self.by_verdict.get(key).copied().unwrap_or(0) as i64;
                let (moved, lacking) = (placed - w.volume as i64, m.volume as i64 - placed);
                let mut parts = Vec::new();
                if moved > 0 {
                    parts.push(format!("Meta's verdicts put {moved} more of the log's messages here"));
                } else if moved < 0 {
                    parts.push(format!("wabill's verdicts put {} more of the log's messages here", -moved));
                }
                if lacking > 0 {
                    parts.push(format!(
                        "Meta counted {lacking} the log lacks or has undelivered (lost webhooks?)"
                    ));
                } else if lacking < 0 {
                    parts.push(format!("Meta has not counted {} of the log's (analytics lag?)", -lacking));
                }
                parts.join("; ")
            } else if d < 0 {
                format!(
                    "Meta counted {} more: messages missing from the log, or counted in another bucket \
                     (time zone, country, category)?",
                    -d
                )
            } else {
                format!("wabill counted {d} more: messages Meta has not counted (analytics lag), or in another bucket?")
            };
            let (k, tier) = (&key.2, key.2.tier.as_ref());
            let tier = tier.map(|t| self.tiers.get(t).cloned().unwrap_or_else(|| format!("…:{t}")));
            let cell = |v: &Option<String>| v.clone().unwrap_or_default();
            buckets.push(Bucket {
                source: self.analytics.source,
                waba: self.analytics.waba.clone(),
                file: Some(self.analytics.file.clone()),
                start: key.0,
                end: key.1,
                dims: [
                    cell(&k.country),
                    cell(&k.phone),
                    cell(&k.pricing_type),
                    cell(&k.category),
                    cell(&k.direction),
                    tier.unwrap_or_default(),
                ],
                wabill: w,
                meta: m,
                currency: self.currency,
                volume_agrees,
                cost_agrees,
                note,
            });
        }
        buckets
    }
}

fn dims_of(d: &Dims) -> [&Option<String>; 6] {
    [&d.country, &d.phone, &d.pricing_type, &d.category, &d.direction, &d.tier]
}

#[cfg(test)]
mod tests {
    use super::*;

    const META_EXAMPLE: &str = r#"{"pricing_analytics":{"data":[{"data_points":[
        {"start":1749193200,"end":1749279600,"country":"IN","pricing_type":"FREE_CUSTOMER_SERVICE","pricing_category":"SERVICE","volume":2,"cost":0},
        {"start":1749106800,"end":1749279600,"country":"IN","tier":"0:750000","pricing_type":"REGULAR","pricing_category":"AUTHENTICATION_INTERNATIONAL","volume":2,"cost":4.6}
    ]}]},"id":"102290129340398"}"#;

    #[test]
    fn metas_example_response_is_read() {
        let a = Analytics::from_json(META_EXAMPLE, "a.json").unwrap();
        assert_eq!(a.source(), Source::Pricing);
        assert_eq!(a.waba(), Some("102290129340398"));
        assert_eq!(a.points.len(), 2);
        assert_eq!(a.points[1].cost, Some("4.6".parse().unwrap()));
        assert_eq!(a.points[1].dims.tier.as_deref(), Some("750000"));
        assert_eq!(a.points[0].dims.category.as_deref(), Some("SERVICE"));
    }

    #[test]
    fn pages_and_bare_fields_are_read() {
        let page =
            r#"{"data":[{"data_points":[{"start":0,"end":86400,"pricing_type":"REGULAR","volume":1}]}]}"#;
        let a = Analytics::from_json(&format!("[{page},{page}]"), "a.json").unwrap();
        assert_eq!(a.points.len(), 2);
        let c = r#"{"conversation_analytics":{"data":[{"data_points":[{"start":0,"end":86400,"conversation":3,"conversation_type":"FREE_TIER","cost":0}]}]}}"#;
        let c = Analytics::from_json(c, "c.json").unwrap();
        assert_eq!((c.source(), c.points[0].volume), (Source::Conversation, 3));
    }

    #[test]
    fn bad_responses_name_the_json_path() {
        let e = Analytics::from_json(
            r#"{"pricing_analytics":{"data":[{"data_points":[{"start":0,"end":1,"volume":"x"}]}]}}"#,
            "a.json",
        )
        .unwrap_err()
        .to_string();
        assert_eq!(e, r#"a.json: $.pricing_analytics.data[0].data_points[0].volume: not a whole number (x)"#);
        let e = Analytics::from_json(
            r#"{"pricing_analytics":{"data":[{"data_points":[{"start":0,"end":1,"tier":"big"}]}]}}"#,
            "a.json",
        )
        .unwrap_err()
        .to_string();
        assert!(e.ends_with("data_points[0].tier: not a tier (FROM:TO) (BIG)"), "{e}");
        let e = Analytics::from_json("{\"pricing_analytics\":", "a.json").unwrap_err().to_string();
        assert!(e.starts_with("a.json:1: not JSON"), "{e}");
        let e = Analytics::from_json(r#"{"paging":{}}"#, "a.json").unwrap_err().to_string();
        assert!(e.contains("neither pricing_analytics nor conversation_analytics"), "{e}");
    }

    /// docs/rules.md §11: Meta's tier text (`0:3`, `3:MAX`) names wabill's bands (`1:3`,
    /// `4:MAX`) by their last message; lines of each band count in Meta's bucket of it.
    #[test]
    fn metas_tier_text_names_wabills_bands() {
        use crate::engine::{samples, PricedLine};
        use crate::pricebook::ratecard::Tier;
        let point = |tier: &str| {
            format!(
                r#"{{"start":1756684800,"end":1759276800,"country":"FR","pricing_type":"REGULAR","pricing_category":"UTILITY","tier":"{tier}","volume":1,"cost":1}}"#
            )
        };
        let text = format!(
            r#"{{"pricing_analytics":{{"data":[{{"data_points":[{},{}]}}]}}}}"#,
            point("0:3"),
            point("3:MAX")
        );
        let mut join = Join::new(Analytics::from_json(&text, "a.json").unwrap());
        let book = samples::book(&["France"]);
        let first = PricedLine {
            pricing_category: Some(PricingCategory::Utility),
            country: Some("FR".parse().unwrap()),
            tier: Some(Tier { from: 1, to: Some(3) }),
            ..samples::line(&book, "B", "France")
        };
        let later = PricedLine { tier: Some(Tier { from: 4, to: None }), ..first.clone() };
        for line in [&first, &later] {
            join.add(line, super::super::Names::default(), true, false, None);
        }
        let buckets = join.buckets(Tolerance::default());
        let tiers: Vec<(&str, u64, u64)> =
            buckets.iter().map(|b| (b.dims[5].as_str(), b.wabill.volume, b.meta.volume)).collect();
        assert_eq!(tiers, [("0:3", 1, 1), ("3:MAX", 1, 1)]);
        assert!(buckets.iter().all(|b| b.volume_agrees && b.cost_agrees));
    }

    #[test]
    fn tiers_are_named_by_their_last_message() {
        assert_eq!(tier_end("0:750000").as_deref(), Some("750000"));
        assert_eq!(tier_end("750001:2000000").as_deref(), Some("2000000"));
        assert_eq!(tier_end("0:MAX").as_deref(), Some("MAX"));
        assert_eq!(tier_end("750000"), None);
    }

    #[test]
    fn tolerances_are_amounts_or_shares() {
        let cent: Tolerance = "0.01".parse().unwrap();
        assert!(cent.allows("1.005".parse().unwrap(), "1.0".parse().unwrap()));
        assert!(!cent.allows("1.02".parse().unwrap(), "1.0".parse().unwrap()));
        let share: Tolerance = "0.5%".parse().unwrap();
        assert_eq!(share, Tolerance::Share("0.005".parse().unwrap()));
        assert!(share.allows("100.5".parse().unwrap(), "100".parse().unwrap()));
        assert!(!share.allows("100.6".parse().unwrap(), "100".parse().unwrap()));
        assert_eq!(share.to_string(), "0.5%");
        assert!("-1".parse::<Tolerance>().is_err());
        assert!("1e-2".parse::<Tolerance>().is_err());
    }
}
