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

use super::render::{write_aligned, Render};
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
    /// Empties the key (its words are not zeroed).
    fn clear(&mut self) {
        (self.len, self.hash) = (0, 0);
    }

    fn push(&mut self, word: u64) {
        self.words[self.len] = word;
        self.len += 1;
        self.hash = (self.hash.rotate_left(23) ^ word).wrapping_mul(0x9E37_79B9_7F4A_7C15);
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
    fn add(&mut self, other: &Totals, what: &dyn std::fmt::Display) -> Result<(), Problem> {
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
    by: Vec<GroupBy>,
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
        let mut unique = Vec::new();
        for k in by {
            if !unique.contains(k) {
                unique.push(*k);
            }
        }
        Summary {
            chosen: unique.iter().fold(0, |bits, &g| bits | 1 << g as u16),
            by: unique,
            groups: Vec::new(),
            index: HashMap::new(),
            by_address: HashMap::new(),
            held: Held::default(),
            words: Words { len: 0, hash: 0, words: [0; MAX_WORDS] },
        }
    }

    /// The keys it groups by.
    pub fn grouping(&self) -> &[GroupBy] {
        &self.by
    }

    fn key<'l>(&self, line: &'l PricedLine) -> Key<&'l str> {
        let mut k = Key { currency: Some(line.currency), ..Key::default() };
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
    /// compiler compute all ten ahead of the loop, for every line).
    fn words(chosen: u16, words: &mut Words, line: &PricedLine) {
        words.clear();
        let has = |g: GroupBy| chosen & 1 << g as u16 != 0;
        let name = |words: &mut Words, s: &str| {
            words.push(s.as_ptr() as u64);
            words.push(s.len() as u64);
        };
        if has(GroupBy::Month) {
            let m = line.month();
            words.push((i64::from(m.year) * 16 + i64::from(m.month)) as u64);
        }
        if has(GroupBy::Business) {
            name(words, line.business());
        }
        if has(GroupBy::Waba) {
            name(words, line.waba());
        }
        if has(GroupBy::Portfolio) {
            name(words, line.portfolio());
        }
        if has(GroupBy::Market) {
            words.push(Arc::as_ptr(&line.account.book) as u64);
            words.push(u64::from(line.market.0));
        }
        if has(GroupBy::Country) {
            words.push(line.country.map_or(0, |c| u64::from(c.as_u16()) + 1));
        }
        if has(GroupBy::Category) {
            words.push(line.pricing_category.map_or(0, |c| c as u64 + 1));
        }
        if has(GroupBy::Type) {
            words.push(line.pricing_type as u64);
        }
        if has(GroupBy::Rules) {
            words.push(line.rules as u64);
        }
        if has(GroupBy::Model) {
            words.push(line.pricing_model as u64);
        }
        words.push(line.currency.as_u32().into());
    }

    /// Adds one priced line.
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
        assert_eq!(self.by, other.by, "summaries of different groupings");
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
                keys: self.by.iter().map(|g| cell(k, *g)).collect(),
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
    fn header(&self) -> Vec<String> {
        let mut h: Vec<String> = self.by.iter().map(|g| g.to_string()).collect();
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
                for (by, v) in self.by.iter().zip(g.keys) {
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
        Ok(serde_json::json!({ "group_by": self.by, "groups": groups, "totals": totals }))
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

    fn table(&self, out: &mut dyn Write) -> io::Result<()> {
        let groups = self.groups();
        let totals = self.totals().map_err(io::Error::other)?;
        if totals.is_empty() {
            return writeln!(out, "(no lines)");
        }
        let keys = self.by.len();
        // Per currency: its rows and its total row, amounts at one scale so they align.
        let blocks: Vec<(Vec<Vec<String>>, Vec<String>)> = totals
            .iter()
            .map(|(c, t)| {
                let mine: Vec<&Group> = groups.iter().filter(|g| g.currency == *c).collect();
                let scale = mine.iter().map(|g| g.totals.charge.normalize().scale()).max().unwrap_or(0);
                let scale = scale.max(c.minor_units());
                let row = |keys: Vec<String>, t: &Totals| {
                    let mut r = keys;
                    r.extend([
                        c.to_string(),
                        t.lines.to_string(),
                        t.charged.to_string(),
                        t.unverified.to_string(),
                        format_fixed(t.charge, scale),
                    ]);
                    r
                };
                let mut total_keys = vec![String::new(); keys];
                if let Some(first) = total_keys.first_mut() {
                    *first = "total".into();
                }
                (mine.iter().map(|g| row(g.keys.clone(), &g.totals)).collect(), row(total_keys, t))
            })
            .collect();
        let header = self.header();
        let rows: Vec<Vec<String>> =
            blocks.into_iter().flat_map(|(rows, total)| rows.into_iter().chain([total])).collect();
        write_aligned(out, &header, &rows, keys + 1..usize::MAX, |r| r.first().is_some_and(|c| c == "total"))
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
}
