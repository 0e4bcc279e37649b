//! Summaries: counts and charges of priced lines, grouped by the keys the user chooses
//! (docs/rules.md §7), rendered as an aligned table, CSV or JSON ([`Render`]).
//!
//! Sums are exact (checked: an overflow is an error naming the group); the table shows every
//! amount of a currency at one scale so columns align, CSV and JSON give exact decimal strings.
//! A summary equals the sum of its lines: it is built by adding lines, and summaries of parts
//! of a log add up ([`Summary::merge`]).

use std::collections::BTreeMap;
use std::sync::Arc;

use std::io::{self, Write};

use foldhash::{HashMap, HashMapExt};

use rust_decimal::Decimal;

use super::render::{write_rows, Render, RowKind};
use crate::domain::error::{Error, Problem};
use crate::domain::event::{named_enum, Month, PricingCategory, PricingModel, PricingType};
use crate::domain::money::{checked_add, format_amount, format_fixed, Country, Currency};
use crate::engine::{AccountNames, PricedLine};
use crate::rules::RuleSet;

named_enum! {
    /// A key a summary can group by.
    pub enum GroupBy ("summary key") {
        Month = "month",
        Business = "business",
        Waba = "waba",
        Portfolio = "portfolio",
        Market = "market",
        Country = "country",
        Category = "category",
        Type = "type",
        Rules = "rules",
        Model = "model",
    }
}

impl GroupBy {
    /// The default grouping: local month, business, market, category, pricing type.
    pub const DEFAULT: [GroupBy; 5] =
        [GroupBy::Month, GroupBy::Business, GroupBy::Market, GroupBy::Category, GroupBy::Type];
}

/// A key a summary can group by: one of the priced line's ([`GroupBy`]) or any column of the
/// log, by its name (`campaign`). A name that is a [`GroupBy`] word is that key, whatever the
/// log's columns.
///
/// ```
/// use wabill::report::{GroupBy, GroupKey};
///
/// assert_eq!("month".parse::<GroupKey>()?, GroupKey::Line(GroupBy::Month));
/// assert_eq!(" Campaign ".parse::<GroupKey>()?, GroupKey::Column("campaign".into()));
/// # Ok::<(), wabill::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum GroupKey {
    /// A key of the priced line.
    Line(GroupBy),
    /// A column of the log, by its name as the log's header has it (trimmed, lower-cased).
    Column(Box<str>),
}

impl std::str::FromStr for GroupKey {
    type Err = Error;

    /// A [`GroupBy`] word, or else a column's name (trimmed and lower-cased, as logs' headers
    /// are read); an empty name is an error.
    fn from_str(s: &str) -> Result<GroupKey, Error> {
        let name = s.trim().to_lowercase();
        if name.is_empty() {
            return Err(Error::config("a summary key must not be empty"));
        }
        Ok(match name.parse::<GroupBy>() {
            Ok(g) => GroupKey::Line(g),
            Err(_) => GroupKey::Column(name.into()),
        })
    }
}

impl std::fmt::Display for GroupKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GroupKey::Line(g) => g.fmt(f),
            GroupKey::Column(name) => f.pad(name),
        }
    }
}

impl From<GroupBy> for GroupKey {
    fn from(g: GroupBy) -> GroupKey {
        GroupKey::Line(g)
    }
}

/// The values of the chosen keys of one group; unchosen keys stay `None`. Names are owned
/// (`Key<Box<str>>`) in the groups.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
struct Key<S> {
    month: Option<Month>,
    business: Option<S>,
    waba: Option<S>,
    portfolio: Option<S>,
    market: Option<S>,
    country: Option<Option<Country>>,
    category: Option<Option<PricingCategory>>,
    pricing_type: Option<PricingType>,
    rules: Option<RuleSet>,
    model: Option<PricingModel>,
    currency: Option<Currency>,
    /// The values of the log's columns chosen, in the order of [`Summary::columns`].
    columns: Vec<S>,
}

impl<S> Key<S> {
    fn map<T>(self, f: impl Fn(S) -> T) -> Key<T> {
        Key {
            month: self.month,
            business: self.business.map(&f),
            waba: self.waba.map(&f),
            portfolio: self.portfolio.map(&f),
            market: self.market.map(&f),
            country: self.country,
            category: self.category,
            pricing_type: self.pricing_type,
            rules: self.rules,
            model: self.model,
            currency: self.currency,
            columns: self.columns.into_iter().map(&f).collect(),
        }
    }
}

/// The most words a line's key takes: two a key (a name takes two), and the currency.
const MAX_WORDS: usize = 2 * GroupBy::ALL.len() + 1;

/// A line's key as words ([`Summary::words`]): the key of the lines' index. Names are
/// words of their address (a line's names are shared by every line of its business, and a
/// market's name is its pricebook's and number), so a line's group is found without hashing
/// or comparing a string; two addresses of one name find the same group, by its name.
///
/// The words past `len` are left over from earlier keys (one is rewritten for each line, not
/// zeroed), and count for nothing. The words are folded into `hash` as they are pushed.
#[derive(Debug, Clone, Copy)]
struct Words {
    len: usize,
    hash: u64,
    words: [u64; MAX_WORDS],
}

impl PartialEq for Words {
    /// The words in use, one by one (a key is a few words: no call to `memcmp`).
    fn eq(&self, other: &Words) -> bool {
        self.hash == other.hash
            && self.len == other.len
            && (0..self.len.min(MAX_WORDS)).all(|i| self.words[i] == other.words[i])
    }
}

impl Eq for Words {}

impl Words {
    /// `hash` with `word` folded in.
    #[inline(always)]
    fn fold(hash: u64, word: u64) -> u64 {
        (hash.rotate_left(23) ^ word).wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }
}

impl std::hash::Hash for Words {
    /// The words as folded: one write to the hasher.
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

/// The totals of a group of lines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Totals {
    /// Lines in the group.
    pub lines: u64,
    /// Lines with a non-zero charge.
    pub charged: u64,
    /// Lines priced at a rate whose figure is not verified (its card's source is marked `?`).
    pub unverified: u64,
    /// The exact sum of the charges.
    #[serde(with = "rust_decimal::serde::str")]
    pub charge: Decimal,
}

impl Totals {
    /// Adds `other`'s counts and charge (`what` names the sum if it overflows).
    pub(crate) fn add(&mut self, other: &Totals, what: &dyn std::fmt::Display) -> Result<(), Problem> {
        self.lines += other.lines;
        self.charged += other.charged;
        self.unverified += other.unverified;
        self.charge = checked_add(self.charge, other.charge, what)?;
        Ok(())
    }
}

/// Counts and charges grouped by the chosen keys, per currency.
#[derive(Debug, Clone)]
pub struct Summary {
    /// The keys in the order asked (each once).
    keys: Vec<GroupKey>,
    /// The line's keys of `keys`, in their order.
    by: Vec<GroupBy>,
    /// The log's columns of `keys`, in their order.
    columns: Vec<Box<str>>,
    /// With columns: the line's part of each key met ([`Summary::add_with_columns`]), and
    /// each one's number by the line's key as words.
    bases: Vec<Key<Box<str>>>,
    bases_by_address: HashMap<Words, usize>,
    /// With columns: a line's base number and column values, as text (each value with its
    /// length ahead), to its group; and the text of the line being added.
    by_columns: HashMap<Box<str>, usize>,
    text: String,
    /// Each group's key and totals.
    groups: Vec<(Key<Box<str>>, Totals)>,
    index: HashMap<Key<Box<str>>, usize>,
    /// Lines' keys with their names by address (a business's names by where its text is, a
    /// market by its pricebook and number), so a line finds its group without hashing or
    /// comparing a string. The names and pricebooks of these keys are `held`: an address
    /// stands for one name as long as the summary lives.
    by_address: HashMap<Words, usize>,
    held: Held,
    /// The key of the line being added.
    words: Words,
    /// The keys of `by`, bit `g as u16` for key `g` ([`Summary::words`]).
    chosen: u16,
}

/// What a summary's keys by address point into: each business's names met, and with them the
/// pricebooks naming their markets, kept alive so that their addresses are not reused for
/// other names.
#[derive(Debug, Clone, Default)]
struct Held {
    /// Each business's names (with its pricebook), by address.
    accounts: HashMap<usize, Arc<AccountNames>>,
}

impl Held {
    fn hold(&mut self, line: &PricedLine) {
        self.accounts.entry(Arc::as_ptr(&line.account) as usize).or_insert_with(|| line.account.clone());
    }
}

/// One group of a summary, ready to show: its key values (in the order of the grouping) and
/// currency, and its totals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// The group's keys, in the order of the grouping.
    pub keys: Vec<String>,
    /// The currency of its charges.
    pub currency: Currency,
    /// Its counts and charges.
    pub totals: Totals,
}

impl Summary {
    /// An empty summary grouping lines by `by` (and always by currency).
    pub fn new(by: &[GroupBy]) -> Summary {
        let keys: Vec<GroupKey> = by.iter().map(|&g| g.into()).collect();
        Summary::with_keys(&keys)
    }

    /// An empty summary grouping lines by `keys`, the line's and the log's columns (and always
    /// by currency). Lines are added with their columns' values by
    /// [`Summary::add_with_columns`].
    pub fn with_keys(keys: &[GroupKey]) -> Summary {
        let mut unique: Vec<GroupKey> = Vec::new();
        for k in keys {
            if !unique.contains(k) {
                unique.push(k.clone());
            }
        }
        let by: Vec<GroupBy> = unique
            .iter()
            .filter_map(|k| match k {
                GroupKey::Line(g) => Some(*g),
                GroupKey::Column(_) => None,
            })
            .collect();
        let columns = unique
            .iter()
            .filter_map(|k| match k {
                GroupKey::Column(c) => Some(c.clone()),
                GroupKey::Line(_) => None,
            })
            .collect();
        Summary {
            chosen: by.iter().fold(0, |bits, &g| bits | 1 << g as u16),
            keys: unique,
            by,
            columns,
            bases: Vec::new(),
            bases_by_address: HashMap::new(),
            by_columns: HashMap::new(),
            text: String::new(),
            groups: Vec::new(),
            index: HashMap::new(),
            by_address: HashMap::new(),
            held: Held::default(),
            words: Words { len: 0, hash: 0, words: [0; MAX_WORDS] },
        }
    }

    /// The line's keys it groups by (without the log's columns: [`Summary::keys`]).
    pub fn grouping(&self) -> &[GroupBy] {
        &self.by
    }

    /// Every key it groups by, in order.
    pub fn keys(&self) -> &[GroupKey] {
        &self.keys
    }

    /// The log's columns it groups by, in the order [`Summary::add_with_columns`] takes their
    /// values.
    pub fn columns(&self) -> &[Box<str>] {
        &self.columns
    }

    fn key<'l>(&self, line: &'l PricedLine) -> Key<&'l str> {
        // The log's columns empty: [`Summary::add_with_columns`] sets them.
        let mut k =
            Key { currency: Some(line.currency), columns: vec![""; self.columns.len()], ..Key::default() };
        for g in &self.by {
            match g {
                GroupBy::Month => k.month = Some(line.month()),
                GroupBy::Business => k.business = Some(line.business()),
                GroupBy::Waba => k.waba = Some(line.waba()),
                GroupBy::Portfolio => k.portfolio = Some(line.portfolio()),
                GroupBy::Market => k.market = Some(line.market()),
                GroupBy::Country => k.country = Some(line.country),
                GroupBy::Category => k.category = Some(line.pricing_category),
                GroupBy::Type => k.pricing_type = Some(line.pricing_type),
                GroupBy::Rules => k.rules = Some(line.rules),
                GroupBy::Model => k.model = Some(line.pricing_model),
            }
        }
        k
    }

    /// The index of the group of `key`, created if new.
    fn group(&mut self, key: Key<Box<str>>) -> usize {
        *self.index.entry(key).or_insert_with_key(|key| {
            self.groups.push((key.clone(), Totals::default()));
            self.groups.len() - 1
        })
    }

    /// A line's key as [`Words`] (into `words`): each chosen key (`chosen` has bit `g as u16`
    /// for key `g`) in a fixed order, a name as its address and length, then the currency.
    /// Each key is computed only when chosen (looping over the grouping instead lets the
    /// compiler compute all ten ahead of the loop, for every line). Inlined into
    /// [`Summary::add`], so that the keys not chosen cost a test each (called, it costs some
    /// thirty instructions a line more: BENCHMARKS.md).
    #[inline(always)]
    fn words(chosen: u16, words: &mut Words, line: &PricedLine) {
        let has = |g: GroupBy| chosen & 1 << g as u16 != 0;
        // The length and hash are kept in locals and stored once: through `words` they would
        // be written back to memory at every word.
        let (slots, mut len, mut hash) = (&mut words.words, 0, 0);
        let mut push = |word: u64| {
            slots[len] = word;
            len += 1;
            hash = Words::fold(hash, word);
        };
        if has(GroupBy::Month) {
            let m = line.month();
            push((i64::from(m.year) * 16 + i64::from(m.month)) as u64);
        }
        if has(GroupBy::Business) {
            push(line.business().as_ptr() as u64);
            push(line.business().len() as u64);
        }
        if has(GroupBy::Waba) {
            push(line.waba().as_ptr() as u64);
            push(line.waba().len() as u64);
        }
        if has(GroupBy::Portfolio) {
            push(line.portfolio().as_ptr() as u64);
            push(line.portfolio().len() as u64);
        }
        if has(GroupBy::Market) {
            push(Arc::as_ptr(&line.account.book) as u64);
            push(u64::from(line.market.0));
        }
        if has(GroupBy::Country) {
            push(line.country.map_or(0, |c| u64::from(c.as_u16()) + 1));
        }
        if has(GroupBy::Category) {
            push(line.pricing_category.map_or(0, |c| c as u64 + 1));
        }
        if has(GroupBy::Type) {
            push(line.pricing_type as u64);
        }
        if has(GroupBy::Rules) {
            push(line.rules as u64);
        }
        if has(GroupBy::Model) {
            push(line.pricing_model as u64);
        }
        push(line.currency.as_u32().into());
        (words.len, words.hash) = (len, hash);
    }

    /// Where each of [`Summary::columns`] is in a log's header (as read: trimmed, lower-cased),
    /// in their order; a column the header lacks is an error naming the key, the log and its
    /// columns.
    pub fn find_columns<'h, I>(&self, header: I, log: &str) -> Result<Vec<usize>, Error>
    where
        I: IntoIterator<Item = &'h str>,
        I::IntoIter: Clone,
    {
        let header = header.into_iter();
        self.columns
            .iter()
            .map(|name| {
                header.clone().position(|h| h == &**name).ok_or_else(|| {
                    let keys: Vec<String> = GroupBy::ALL.iter().map(|g| g.to_string()).collect();
                    let columns: Vec<&str> = header.clone().collect();
                    Error::config(format!(
                        "summary key {name}: neither a key of the priced line ({}) nor a column of {log} ({})",
                        keys.join(", "),
                        columns.join(", ")
                    ))
                })
            })
            .collect()
    }

    /// Adds one priced line (a grouping by the log's columns takes their values as empty:
    /// [`Summary::add_with_columns`] gives them).
    pub fn add(&mut self, line: &PricedLine) -> Result<(), Error> {
        Self::words(self.chosen, &mut self.words, line);
        let i = match self.by_address.get(&self.words) {
            Some(&i) => i,
            None => {
                let i = self.group(self.key(line).map(Box::from));
                self.held.hold(line);
                self.by_address.insert(self.words, i);
                i
            }
        };
        self.tally(i, line)
    }

    /// Adds one priced line with the values of its row's columns that the summary groups by,
    /// in the order of [`Summary::columns`] (trimmed; a missing value is empty). Only a
    /// grouping by columns pays for their text: [`Summary::add`] hashes none.
    #[inline(never)]
    pub fn add_with_columns<'v, I>(&mut self, line: &PricedLine, values: I) -> Result<(), Error>
    where
        I: IntoIterator<Item = &'v str>,
        I::IntoIter: Clone,
    {
        use std::fmt::Write as _;
        let values = values.into_iter();
        Self::words(self.chosen, &mut self.words, line);
        let base = match self.bases_by_address.get(&self.words) {
            Some(&i) => i,
            None => {
                self.bases.push(self.key(line).map(Box::from));
                self.held.hold(line);
                self.bases_by_address.insert(self.words, self.bases.len() - 1);
                self.bases.len() - 1
            }
        };
        let padded = values.clone().map(str::trim).chain(std::iter::repeat("")).take(self.columns.len());
        self.text.clear();
        let _ = write!(self.text, "{base}");
        for v in padded.clone() {
            let _ = write!(self.text, ":{}:{v}", v.len());
        }
        let i = match self.by_columns.get(self.text.as_str()) {
            Some(&i) => i,
            None => {
                let mut key = self.bases[base].clone();
                key.columns = padded.map(Box::from).collect();
                let i = self.group(key);
                self.by_columns.insert(self.text.as_str().into(), i);
                i
            }
        };
        self.tally(i, line)
    }

    /// Counts a line in group `i`.
    #[inline(always)]
    fn tally(&mut self, i: usize, line: &PricedLine) -> Result<(), Error> {
        let totals = &mut self.groups[i].1;
        totals.lines += 1;
        totals.unverified += u64::from(line.rate_verified == Some(false));
        // Most lines are free: nothing to add.
        if !line.charge.is_zero() {
            totals.charged += 1;
            totals.charge =
                checked_add(totals.charge, line.charge, &format_args!("the summary of {}", line.currency))?;
        }
        Ok(())
    }

    /// Adds another summary of the same grouping (e.g. of another part of the log).
    pub fn merge(&mut self, other: &Summary) -> Result<(), Error> {
        assert_eq!(self.keys, other.keys, "summaries of different groupings");
        for (k, t) in &other.groups {
            let i = self.group(k.clone());
            self.groups[i].1.add(t, &"a merged summary")?;
        }
        Ok(())
    }

    /// The groups, sorted by currency then by their key values in grouping order.
    pub fn groups(&self) -> Vec<Group> {
        let mut out: Vec<Group> = self
            .groups
            .iter()
            .map(|(k, t)| Group {
                keys: self.cells(k),
                currency: k.currency.expect("every key has a currency"),
                totals: *t,
            })
            .collect();
        out.sort_by(|a, b| (a.currency, &a.keys).cmp(&(b.currency, &b.keys)));
        out
    }

    /// The totals per currency.
    pub fn totals(&self) -> Result<BTreeMap<Currency, Totals>, Error> {
        let mut out: BTreeMap<Currency, Totals> = BTreeMap::new();
        for (k, t) in &self.groups {
            let c = k.currency.expect("every key has a currency");
            out.entry(c).or_default().add(t, &format!("the total of {c}"))?;
        }
        Ok(out)
    }
}

impl Summary {
    /// A key's values in the order of the grouping.
    fn cells(&self, k: &Key<Box<str>>) -> Vec<String> {
        let mut column = 0;
        self.keys
            .iter()
            .map(|key| match key {
                GroupKey::Line(g) => cell(k, *g),
                GroupKey::Column(_) => {
                    column += 1;
                    k.columns.get(column - 1).map_or_else(String::new, |v| v.to_string())
                }
            })
            .collect()
    }

    fn header(&self) -> Vec<String> {
        let mut h: Vec<String> = self.keys.iter().map(|g| g.to_string()).collect();
        h.extend(["currency", "lines", "charged", "unverified", "charge"].map(String::from));
        h
    }
}

impl Render for Summary {
    /// The summary as a JSON value (money as strings).
    fn json(&self) -> io::Result<serde_json::Value> {
        let groups: Vec<serde_json::Value> = self
            .groups()
            .into_iter()
            .map(|g| {
                let mut m = serde_json::Map::new();
                for (by, v) in self.keys.iter().zip(g.keys) {
                    m.insert(by.to_string(), v.into());
                }
                m.insert("currency".into(), g.currency.code().into());
                m.insert("lines".into(), g.totals.lines.into());
                m.insert("charged".into(), g.totals.charged.into());
                m.insert("unverified".into(), g.totals.unverified.into());
                m.insert("charge".into(), format_amount(g.totals.charge, g.currency.minor_units()).into());
                serde_json::Value::Object(m)
            })
            .collect();
        let totals: Vec<serde_json::Value> = self
            .totals()
            .map_err(io::Error::other)?
            .into_iter()
            .map(|(c, t)| {
                serde_json::json!({
                    "currency": c.code(),
                    "lines": t.lines,
                    "charged": t.charged,
                    "unverified": t.unverified,
                    "charge": format_amount(t.charge, c.minor_units()),
                    "charge_rounded": format_fixed(c.round(t.charge), c.minor_units()),
                })
            })
            .collect();
        let group_by: Vec<String> = self.keys.iter().map(|k| k.to_string()).collect();
        Ok(serde_json::json!({ "group_by": group_by, "groups": groups, "totals": totals }))
    }

    fn csv(&self, out: &mut dyn Write) -> io::Result<()> {
        let mut w = csv::Writer::from_writer(out);
        w.write_record(self.header())?;
        for g in self.groups() {
            let amount = format_amount(g.totals.charge, g.currency.minor_units());
            let t = &g.totals;
            let tail = [
                g.currency.to_string(),
                t.lines.to_string(),
                t.charged.to_string(),
                t.unverified.to_string(),
                amount,
            ];
            w.write_record(g.keys.iter().chain(tail.iter()))?;
        }
        w.flush()
    }

    /// Amounts rounded to each currency's minor unit (half away from zero: the exact sums are
    /// in CSV and JSON); with two keys or more, a subtotal under each value of the first key
    /// that has several rows (unless the currency has one value: the total says it); a total
    /// per currency.
    fn table(&self, out: &mut dyn Write) -> io::Result<()> {
        let groups = self.groups();
        let totals = self.totals().map_err(io::Error::other)?;
        if totals.is_empty() {
            return writeln!(out, "(no lines)");
        }
        let keys = self.keys.len();
        let mut rows: Vec<(RowKind, Vec<String>)> = Vec::new();
        for (c, total) in &totals {
            let row = |keys: Vec<String>, t: &Totals| {
                let mut r = keys;
                r.extend([
                    c.to_string(),
                    t.lines.to_string(),
                    t.charged.to_string(),
                    t.unverified.to_string(),
                    format_fixed(c.round(t.charge), c.minor_units()),
                ]);
                r
            };
            let mine: Vec<&Group> = groups.iter().filter(|g| g.currency == *c).collect();
            let runs: Vec<&[&Group]> = mine.chunk_by(|a, b| keys < 2 || a.keys[0] == b.keys[0]).collect();
            // One value of the first key: its subtotal would be the total.
            let subtotals = keys >= 2 && runs.len() > 1;
            for run in runs {
                rows.extend(run.iter().map(|g| (RowKind::Plain, row(g.keys.clone(), &g.totals))));
                if subtotals && run.len() > 1 {
                    let mut sum = Totals::default();
                    for g in run {
                        sum.add(&g.totals, &format_args!("a subtotal of {c}")).map_err(io::Error::other)?;
                    }
                    let mut label = vec![String::new(); keys];
                    label[0] = match run[0].keys[0].as_str() {
                        "" => "subtotal".into(),
                        value => format!("{value} subtotal"),
                    };
                    rows.push((RowKind::Subtotal, row(label, &sum)));
                }
            }
            let mut label = vec![String::new(); keys];
            if let Some(first) = label.first_mut() {
                *first = "total".into();
            }
            rows.push((RowKind::Total, row(label, total)));
        }
        let rows: Vec<(RowKind, &[String])> = rows.iter().map(|(k, r)| (*k, r.as_slice())).collect();
        write_rows(out, &self.header(), &rows, keys + 1..usize::MAX)
    }
}

fn cell(k: &Key<Box<str>>, g: GroupBy) -> String {
    let opt = |v: Option<String>| v.unwrap_or_default();
    match g {
        GroupBy::Month => opt(k.month.map(|m| m.to_string())),
        GroupBy::Business => opt(k.business.as_deref().map(String::from)),
        GroupBy::Waba => opt(k.waba.as_deref().map(String::from)),
        GroupBy::Portfolio => opt(k.portfolio.as_deref().map(String::from)),
        GroupBy::Market => opt(k.market.as_deref().map(String::from)),
        GroupBy::Country => opt(k.country.flatten().map(|c| c.to_string())),
        GroupBy::Category => opt(k.category.flatten().map(|c| c.to_string())),
        GroupBy::Type => opt(k.pricing_type.map(|t| t.to_string())),
        GroupBy::Rules => opt(k.rules.map(|r| r.to_string())),
        GroupBy::Model => opt(k.model.map(|m| m.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::samples;

    /// docs/rules.md §7: the summary counts the lines priced at a rate not verified.
    #[test]
    fn lines_at_unverified_rates_are_counted() {
        let book = samples::book(&["India"]);
        let mut summary = Summary::new(&[GroupBy::Market]);
        let verified = samples::line(&book, "B", "India");
        let unverified = PricedLine { rate_verified: Some(false), ..verified.clone() };
        let free = PricedLine { rate: None, rate_verified: None, ..verified.clone() };
        for l in [&verified, &unverified, &unverified, &free] {
            summary.add(l).expect("adds");
        }
        let t = &summary.groups()[0].totals;
        assert_eq!((t.lines, t.unverified), (4, 2));
    }

    /// Lines of one name from several places: market names of two pricebooks, business names
    /// of separate allocations. Each name is one group, whatever its address.
    #[test]
    fn names_are_told_apart_by_their_text_whatever_their_address() {
        let (one, two) = (samples::book(&["India", "IndiaIndia"]), samples::book(&["IndiaIndia", "India"]));
        let lines = [
            samples::line(&one, "B", "India"),
            samples::line(&one, "B", "IndiaIndia"),
            samples::line(&two, "B", "India"),
            samples::line(&two, "B", "India"),
        ];
        let mut summary = Summary::new(&[GroupBy::Market, GroupBy::Business]);
        for l in &lines {
            summary.add(l).expect("adds");
        }
        let groups: Vec<(String, u64)> =
            summary.groups().into_iter().map(|g| (g.keys[0].clone(), g.totals.lines)).collect();
        assert_eq!(groups, [("India".to_string(), 3), ("IndiaIndia".to_string(), 1)]);
        assert!(summary.groups().iter().all(|g| g.keys[1] == "B"));
    }

    /// docs/rules.md §7: any log column is a key; its values group lines whatever else
    /// groups them, trimmed, and a line added without them has them empty.
    #[test]
    fn a_log_column_is_a_key() {
        let book = samples::book(&["India", "France"]);
        let keys: Vec<GroupKey> = ["campaign", "market"].iter().map(|k| k.parse().unwrap()).collect();
        assert_eq!(keys[0], GroupKey::Column("campaign".into()));
        let mut summary = Summary::with_keys(&keys);
        let (india, france) = (samples::line(&book, "B", "India"), samples::line(&book, "B", "France"));
        summary.add_with_columns(&india, ["spring"]).unwrap();
        summary.add_with_columns(&france, [" spring "]).unwrap();
        summary.add_with_columns(&india, ["autumn"]).unwrap();
        summary.add_with_columns(&india, ["spring"]).unwrap();
        summary.add(&india).unwrap();
        let groups: Vec<(Vec<String>, u64)> =
            summary.groups().into_iter().map(|g| (g.keys, g.totals.lines)).collect();
        let k = |c: &str, m: &str| vec![c.to_string(), m.to_string()];
        assert_eq!(
            groups,
            [
                (k("", "India"), 1),
                (k("autumn", "India"), 1),
                (k("spring", "France"), 1),
                (k("spring", "India"), 2)
            ]
        );
        let header = ["timestamp", "campaign"];
        assert_eq!(summary.find_columns(header, "log.csv").unwrap(), [1]);
        let error = summary.find_columns(["timestamp"], "log.csv").unwrap_err();
        assert_eq!(
            error.to_string(),
            "summary key campaign: neither a key of the priced line (month, business, waba, portfolio, \
             market, country, category, type, rules, model) nor a column of log.csv (timestamp)"
        );
    }

    /// The table rounds each amount to the currency's minor unit (half away from zero) and
    /// adds a subtotal under each value of the first key that has several rows.
    #[test]
    fn the_table_rounds_and_subtotals() {
        let book = samples::book(&["India", "France"]);
        let mut summary = Summary::new(&[GroupBy::Business, GroupBy::Market]);
        let charged = |b: &str, m: &str, charge: &str| PricedLine {
            charge: charge.parse().unwrap(),
            ..samples::line(&book, b, m)
        };
        for l in [
            charged("A", "India", "0.0125"),
            charged("A", "France", "0.0125"),
            charged("B", "India", "1.005"),
        ] {
            summary.add(&l).unwrap();
        }
        let mut out = Vec::new();
        summary.table(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let rows: Vec<&str> = text.lines().map(str::trim_end).collect();
        assert_eq!(
            rows[2..5],
            [
                "A           France  USD           1        1           0    0.01",
                "A           India   USD           1        1           0    0.01",
                "A subtotal          USD           2        2           0    0.03"
            ]
        );
        assert_eq!(rows[5], "");
        assert_eq!(rows[6], "B           India   USD           1        1           0    1.01");
        assert_eq!(rows[8], "total               USD           3        3           0    1.03");
    }
}
