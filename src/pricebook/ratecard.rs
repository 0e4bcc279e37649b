//! Rate cards: dated prices per (currency, market, category), flat or in volume tiers (docs/rules.md §5).
//!
//! A row applies to events whose local date is on or after its `effective_from`; for a given
//! (currency, market, category) the latest applicable date wins, and all rows of that date form
//! the price: one flat row, or several tier rows `[tier_from, tier_to]` (inclusive bounds, an
//! empty `tier_to` is open). Each currency has its own card; nothing is converted.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::domain::error::{Error, Position, Problem};
use crate::domain::event::{named_enum, pad, Category};
use crate::domain::money::{parse_amount, Currency};
use crate::pricebook::market::parse_date;
use crate::util::table::{At, Table};

named_enum! {
    /// A rate-card category: the key a rate is looked up under.
    pub enum RateCategory ("rate category") {
        Template = "template",
        UserInitiated = "user_initiated",
        BusinessInitiated = "business_initiated",
        Marketing = "marketing",
        Utility = "utility",
        Authentication = "authentication",
        AuthenticationInternational = "authentication_international",
        Service = "service",
        /// A business-initiated call, per minute (Calling API); tiered in minutes.
        Call = "call",
    }
}

impl RateCategory {
    /// The volume-tier family this category counts in: authentication-international shares
    /// authentication's counter (docs/rules.md §5).
    pub(crate) fn family(self) -> RateCategory {
        match self {
            RateCategory::AuthenticationInternational => RateCategory::Authentication,
            c => c,
        }
    }
}

impl From<Category> for RateCategory {
    fn from(c: Category) -> RateCategory {
        match c {
            Category::Marketing | Category::MarketingLite => RateCategory::Marketing,
            Category::Utility => RateCategory::Utility,
            Category::Authentication => RateCategory::Authentication,
        }
    }
}

/// One band of a price: the k-th message of a month with `from <= k <= to` pays `rate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Band {
    /// The first message of the band (1-based; 0 reads as 1).
    pub from: u64,
    /// The last; `None`: open end (`MAX`).
    pub to: Option<u64>,
    /// The rate of each message in the band.
    pub rate: Decimal,
}

impl Band {
    fn holds(&self, k: u64) -> bool {
        self.from <= k && self.to.is_none_or(|to| k <= to)
    }
}

/// A tier as shown in the output: `from:to`, `MAX` for an open end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tier {
    /// The first message of the band (1-based).
    pub from: u64,
    /// The last message of the band; `None` for an open end (`MAX`).
    pub to: Option<u64>,
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to {
            Some(to) => pad(f, format_args!("{}:{}", self.from, to)),
            None => pad(f, format_args!("{}:MAX", self.from)),
        }
    }
}

/// The price of one (currency, market, category) from one date: a flat rate or tiers, and
/// where its figures come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Price {
    bands: Vec<Band>,
    tiered: bool,
    /// The card's `source` of its figures (empty when the card has none); its bands' sources
    /// joined by `; ` when they differ.
    source: Box<str>,
    /// No source of its figures is marked `?` (kept, not computed, for the pricing path).
    verified: bool,
}

impl Price {
    /// A flat rate, without a source.
    pub fn flat(rate: Decimal) -> Price {
        Price {
            bands: vec![Band { from: 1, to: None, rate }],
            tiered: false,
            source: "".into(),
            verified: true,
        }
    }

    /// The price with its figures' source.
    pub(crate) fn with_source(mut self, source: &str) -> Price {
        self.source = source.into();
        self.verified = !source.split("; ").any(|s| s.trim_end().ends_with('?'));
        self
    }

    /// Where its figures come from: a key of the card's sources (e.g. `C26`; data/rates.md for
    /// the embedded cards), empty when the card does not say.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Whether its figures are verified: a source marked `?` is an estimate or rests on an
    /// assumption. A card without sources is taken as its owner gives it: verified.
    pub fn verified(&self) -> bool {
        self.verified
    }

    /// A tiered price. Bands must start at 0 or 1 (0 is kept as 1), follow each other without
    /// gap or overlap, and only the last may be open.
    pub(crate) fn tiers(mut bands: Vec<Band>) -> Result<Price, Problem> {
        bands.sort_by_key(|b| b.from);
        // Meta's cards start the first band at 0: it is the band of the first message.
        if let Some(first) = bands.first_mut().filter(|b| b.from == 0) {
            first.from = 1;
        }
        let Some(first) = bands.first() else {
            return Err(Problem::new("a tiered price needs bands"));
        };
        if first.from > 1 {
            return Err(Problem::column(
                "tier_from",
                "the first band must start at 0 or 1",
                first.from.to_string(),
            ));
        }
        for pair in bands.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            let Some(to) = a.to else {
                return Err(Problem::column("tier_to", "only the last band may be open", ""));
            };
            if to.checked_add(1) != Some(b.from) {
                let what = if b.from <= to {
                    "overlaps the band before"
                } else {
                    "leaves a gap after the band before"
                };
                return Err(Problem::column("tier_from", what, b.from.to_string()));
            }
        }
        if let Some(b) = bands.iter().find(|b| b.to.is_some_and(|to| to < b.from)) {
            return Err(Problem::column("tier_to", "ends before it starts", b.to.unwrap_or(0).to_string()));
        }
        Ok(Price { bands, tiered: true, source: "".into(), verified: true })
    }

    /// The rate of the k-th message of the month (1-based) and its tier, if the price is tiered.
    pub fn for_message(&self, k: u64) -> Option<(Decimal, Option<Tier>)> {
        let band = self.bands.iter().find(|b| b.holds(k))?;
        Some((band.rate, self.tiered.then_some(Tier { from: band.from, to: band.to })))
    }

    /// The rate outside the volume-tier rules: the first band's. No tier: the tier rules did
    /// not choose it (docs/rules.md §5, §7).
    pub fn first(&self) -> Decimal {
        self.bands[0].rate
    }

    /// Its bands, in order (one open band for a flat rate).
    pub fn bands(&self) -> &[Band] {
        &self.bands
    }

    /// Whether it is a tiered price (volume tiers), not a flat rate.
    pub fn is_tiered(&self) -> bool {
        self.tiered
    }
}

/// A rate card. Immutable once built.
#[derive(Debug, Clone, Default)]
pub struct RateCard {
    prices: BTreeMap<PriceKey, Vec<(NaiveDate, Price)>>,
}

/// What a price is for: currency, market, category.
pub(crate) type PriceKey = (Currency, String, RateCategory);

/// The embedded cards, one a currency (16 from 2026-07-01; some have no source yet and are
/// empty: data/rates.md).
const EMBEDDED: [(&str, &str); 16] = [
    ("<embedded rates-usd.csv>", include_str!("../../data/rates-usd.csv")),
    ("<embedded rates-aed.csv>", include_str!("../../data/rates-aed.csv")),
    ("<embedded rates-ars.csv>", include_str!("../../data/rates-ars.csv")),
    ("<embedded rates-aud.csv>", include_str!("../../data/rates-aud.csv")),
    ("<embedded rates-brl.csv>", include_str!("../../data/rates-brl.csv")),
    ("<embedded rates-clp.csv>", include_str!("../../data/rates-clp.csv")),
    ("<embedded rates-cop.csv>", include_str!("../../data/rates-cop.csv")),
    ("<embedded rates-eur.csv>", include_str!("../../data/rates-eur.csv")),
    ("<embedded rates-gbp.csv>", include_str!("../../data/rates-gbp.csv")),
    ("<embedded rates-idr.csv>", include_str!("../../data/rates-idr.csv")),
    ("<embedded rates-inr.csv>", include_str!("../../data/rates-inr.csv")),
    ("<embedded rates-mxn.csv>", include_str!("../../data/rates-mxn.csv")),
    ("<embedded rates-myr.csv>", include_str!("../../data/rates-myr.csv")),
    ("<embedded rates-pen.csv>", include_str!("../../data/rates-pen.csv")),
    ("<embedded rates-sar.csv>", include_str!("../../data/rates-sar.csv")),
    ("<embedded rates-sgd.csv>", include_str!("../../data/rates-sgd.csv")),
];

const COLUMNS: [&str; 8] =
    ["effective_from", "currency", "market", "category", "rate", "tier_from", "tier_to", "source"];

impl RateCard {
    /// The card compiled into wabill: Meta's cards of every currency Meta bills in, each as
    /// Meta publishes it for that currency (`data/rates-<currency>.csv`; sources, coverage and
    /// what is verified in `data/rates.md`).
    pub fn embedded() -> RateCard {
        let mut card = RateCard::default();
        for (name, text) in EMBEDDED {
            let this = RateCard::from_csv(text.as_bytes(), name).expect("the embedded rate cards are valid");
            card = card.merge(this).expect("the embedded rate cards price each currency once");
        }
        card
    }

    /// Reads a rate card CSV:
    /// `effective_from,currency,market,category,rate[,tier_from,tier_to,source]`: a `source`
    /// ending in `?` marks a figure as not verified ([`Price::verified`]).
    pub fn from_csv<R: Read>(reader: R, file: &str) -> Result<RateCard, Error> {
        let mut t = Table::new(reader, file)?;
        t.only(&COLUMNS)?;
        let [from, currency, market, category, rate] =
            ["effective_from", "currency", "market", "category", "rate"].map(|c| t.require(c).map(Some));
        let (from, currency, market, category, rate) = (from?, currency?, market?, category?, rate?);
        let (tier_from, tier_to, source) = (t.find("tier_from"), t.find("tier_to"), t.find("source"));
        type Group = Vec<(Option<Band>, Decimal, Position, String)>;
        let mut groups: BTreeMap<(Currency, String, RateCategory, NaiveDate), Group> = BTreeMap::new();
        while t.next_row()? {
            let pos = || t.position();
            let date = parse_date("effective_from", t.get(from)).at(pos)?;
            let cur = Currency::parse_text(t.get(currency)).at(pos)?;
            let name = t.get(market);
            if name.is_empty() {
                return Err(Problem::column("market", "must not be empty", name).at(pos()));
            }
            let cat = t.get(category);
            let cat = cat
                .parse::<RateCategory>()
                .map_err(|_| Problem::column("category", "unknown rate category", cat))
                .at(pos)?;
            let r = parse_amount("rate", t.get(rate)).at(pos)?;
            let band = match (t.get(tier_from), t.get(tier_to)) {
                ("", "") => None,
                ("", to) => {
                    return Err(Problem::column("tier_from", "missing for a tier ending at", to).at(pos()))
                }
                (f, to) => Some(Band {
                    from: parse_count("tier_from", f).at(pos)?,
                    to: match to {
                        "" => None,
                        t if t.eq_ignore_ascii_case("max") => None,
                        t => Some(parse_count("tier_to", t).at(pos)?),
                    },
                    rate: r,
                }),
            };
            let row = (band, r, pos(), t.get(source).to_string());
            groups.entry((cur, name.to_string(), cat, date)).or_default().push(row);
        }
        let mut card = RateCard::default();
        for ((cur, name, cat, date), rows) in groups {
            let price = group_price(&cur, &name, cat, date, &rows)?;
            card.prices.entry((cur, name, cat)).or_default().push((date, price));
        }
        Ok(card)
    }

    /// The price in force on `date`, if any.
    pub fn price(
        &self,
        currency: Currency,
        market: &str,
        category: RateCategory,
        date: NaiveDate,
    ) -> Option<&Price> {
        let dated = self.prices.get(&(currency, market.to_string(), category))?;
        in_force(dated, date)
    }

    /// Every price of the card: currency, market, category, the date it takes effect, and the
    /// price; by currency, market, category and date.
    pub fn prices(&self) -> impl Iterator<Item = (Currency, &str, RateCategory, NaiveDate, &Price)> {
        self.prices.iter().flat_map(|((currency, market, category), dated)| {
            dated.iter().map(move |(date, price)| (*currency, market.as_str(), *category, *date, price))
        })
    }

    /// The prices in force on `date`: of each currency, market and category, the latest from
    /// `date` or before.
    pub fn in_force_on(
        &self,
        date: NaiveDate,
    ) -> impl Iterator<Item = (Currency, &str, RateCategory, NaiveDate, &Price)> {
        self.prices.iter().filter_map(move |((currency, market, category), dated)| {
            latest_by(dated, date, |(from, _)| *from)
                .map(|(from, price)| (*currency, market.as_str(), *category, *from, price))
        })
    }

    /// Adds a price from `date` (replacing one of the same date).
    pub(crate) fn insert(&mut self, key: PriceKey, date: NaiveDate, price: Price) {
        let dated = self.prices.entry(key).or_default();
        match dated.binary_search_by_key(&date, |(d, _)| *d) {
            Ok(i) => dated[i].1 = price,
            Err(i) => dated.insert(i, (date, price)),
        }
    }

    /// The card of several cards (each file of `--rates`): every dated price of each. Two
    /// cards pricing one currency, market and category from the same date are an error
    /// naming both sources, unless one is the tiers of the other's flat rate (Meta's tier
    /// card beside its list card: the first band is the list rate), which then wins.
    pub fn merge(mut self, other: RateCard) -> Result<RateCard, Error> {
        for (key, dated) in other.prices {
            for (date, price) in dated {
                let same_day = self.prices.get(&key).and_then(|d| d.iter().find(|(d, _)| *d == date));
                if let Some((_, mine)) = same_day {
                    // Meta's tier card details its list card's rate: its first band is it.
                    if mine.is_tiered() != price.is_tiered() && mine.first() == price.first() {
                        if price.is_tiered() {
                            self.insert(key.clone(), date, price);
                        }
                        continue;
                    }
                    let (currency, market, category) = &key;
                    return Err(Error::config(format!(
                        "two cards price {currency} {market} {category} from {date}: {} and {}",
                        mine.source(),
                        price.source()
                    )));
                }
                self.insert(key.clone(), date, price);
            }
        }
        Ok(self)
    }

    /// Every (currency, market, category) with its dated prices, in order.
    pub(crate) fn entries(&self) -> impl Iterator<Item = (&PriceKey, &Vec<(NaiveDate, Price)>)> {
        self.prices.iter()
    }
}

/// The price of the latest date on or before `date` in a date-sorted list.
pub(crate) fn in_force(dated: &[(NaiveDate, Price)], date: NaiveDate) -> Option<&Price> {
    latest_by(dated, date, |(from, _)| *from).map(|(_, price)| price)
}

/// The entry of a list sorted by the date each takes effect (`from`) that is in force on
/// `date`: the latest from `date` or before. Such lists are short (most hold one date), so a
/// scan from the latest beats a binary search.
pub(crate) fn latest_by<T>(dated: &[T], date: NaiveDate, from: impl Fn(&T) -> NaiveDate) -> Option<&T> {
    dated.iter().rev().find(|entry| from(entry) <= date)
}

fn group_price(
    cur: &Currency,
    market: &str,
    cat: RateCategory,
    date: NaiveDate,
    rows: &[(Option<Band>, Decimal, Position, String)],
) -> Result<Price, Error> {
    let last = rows.last().expect("groups have rows").2.clone();
    let mut sources: Vec<&str> = Vec::new();
    for (.., source) in rows {
        if !source.is_empty() && !sources.contains(&source.as_str()) {
            sources.push(source);
        }
    }
    let source = sources.join("; ");
    match rows {
        [(None, rate, ..)] => Ok(Price::flat(*rate).with_source(&source)),
        _ if rows.iter().any(|r| r.0.is_none()) => Err(Problem::new(format!(
            "more than one rate for {cur} {market} {cat} on {date} (first on line {})",
            rows[0].2.line
        ))
        .at(last)),
        _ => Price::tiers(rows.iter().filter_map(|r| r.0).collect())
            .map(|p| p.with_source(&source))
            .map_err(|p| Problem::new(format!("tiers of {cur} {market} {cat} on {date}: {p}")).at(last)),
    }
}

fn parse_count(column: &'static str, s: &str) -> Result<u64, Problem> {
    s.trim().parse::<u64>().map_err(|_| Problem::column(column, "not a whole number", s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_honour_width_and_alignment() {
        assert_eq!(
            format!("[{:>8}|{:<7}]", Tier { from: 1, to: Some(750) }, Tier { from: 751, to: None }),
            "[   1:750|751:MAX]"
        );
    }

    fn dec(s: &str) -> Decimal {
        Decimal::from_str_exact(s).unwrap()
    }

    fn card(text: &str) -> Result<RateCard, Error> {
        RateCard::from_csv(text.as_bytes(), "rates.csv")
    }

    const HEADER: &str = "effective_from,currency,market,category,rate,tier_from,tier_to\n";

    #[test]
    fn latest_applicable_date_wins() {
        let c = card(&format!(
            "{HEADER}2025-07-01,USD,France,marketing,0.0859,,\n2026-01-01,USD,France,marketing,0.0800,,\n"
        ))
        .unwrap();
        let at = |d: &str| c.price(Currency::USD, "France", RateCategory::Marketing, d.parse().unwrap());
        assert!(at("2025-06-30").is_none());
        assert_eq!(at("2025-12-31").unwrap().first(), dec("0.0859"));
        assert_eq!(at("2026-01-01").unwrap().first(), dec("0.08"));
    }

    /// docs/rules.md §5: a source ending in `?` marks a figure as not verified; a card without
    /// sources is verified; a tiered price is verified only if every band is.
    #[test]
    fn a_source_marked_with_a_question_mark_is_not_verified() {
        let c = card(
            "effective_from,currency,market,category,rate,tier_from,tier_to,source\n\
             2025-07-01,USD,France,marketing,0.0859,,,C26\n\
             2025-07-01,USD,France,utility,0.03,,,E?\n\
             2025-07-01,USD,India,utility,0.0014,1,10,C25\n\
             2025-07-01,USD,India,utility,0.0012,11,,E?\n",
        )
        .unwrap();
        let p = |m: &str, cat| c.price(Currency::USD, m, cat, "2025-08-01".parse().unwrap()).unwrap();
        assert!(p("France", RateCategory::Marketing).verified());
        assert!(!p("France", RateCategory::Utility).verified());
        let tiers = p("India", RateCategory::Utility);
        assert_eq!((tiers.source(), tiers.verified()), ("C25; E?", false));
        let unsourced = card(&format!("{HEADER}2025-07-01,USD,France,marketing,0.0859,,\n")).unwrap();
        assert!(unsourced
            .price(Currency::USD, "France", RateCategory::Marketing, "2025-08-01".parse().unwrap())
            .unwrap()
            .verified());
    }

    #[test]
    fn tiers_are_read_by_message_number() {
        let c = card(&format!(
            "{HEADER}2025-07-01,USD,India,authentication,0.0014,1,3\n\
             2025-07-01,USD,India,authentication,0.0012,4,\n"
        ))
        .unwrap();
        let p = c
            .price(Currency::USD, "India", RateCategory::Authentication, "2025-07-02".parse().unwrap())
            .unwrap();
        assert_eq!(p.for_message(3).unwrap(), (dec("0.0014"), Some(Tier { from: 1, to: Some(3) })));
        assert_eq!(p.for_message(4).unwrap().0, dec("0.0012"));
        assert_eq!(p.for_message(4).unwrap().1.unwrap().to_string(), "4:MAX");
    }

    #[test]
    fn outside_the_tier_rules_a_tiered_price_is_read_at_its_first_band() {
        let c = card(&format!(
            "{HEADER}2021-01-01,USD,India,template,0.0066,1,250000\n2021-01-01,USD,India,template,0.0050,250001,\n"
        ))
        .unwrap();
        let p =
            c.price(Currency::USD, "India", RateCategory::Template, "2021-06-01".parse().unwrap()).unwrap();
        // Its rate only: no tier band was chosen (docs/rules.md §7).
        assert_eq!(p.first(), dec("0.0066"));
    }

    #[test]
    fn bad_cards_are_refused_with_positions() {
        let e = card(&format!("{HEADER}2025-07-01,USD,India,utility,abc,,\n")).unwrap_err();
        assert_eq!(e.to_string(), "rates.csv:2: column rate: not a decimal number (abc)");
        let e = card(&format!("{HEADER}2025-07-01,USD,India,utility,-0.1,,\n")).unwrap_err();
        assert_eq!(e.to_string(), "rates.csv:2: column rate: must not be negative (-0.1)");
        let e = card(&format!("{HEADER}2025-07-01,USD,India,utlity,0.1,,\n")).unwrap_err();
        assert_eq!(e.to_string(), "rates.csv:2: column category: unknown rate category (utlity)");
        let e = card(&format!(
            "{HEADER}2025-07-01,USD,India,utility,0.1,1,10\n2025-07-01,USD,India,utility,0.09,5,\n"
        ))
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "rates.csv:3: tiers of USD India utility on 2025-07-01: tier_from: overlaps the band before (5)"
        );
        let e = card(&format!(
            "{HEADER}2025-07-01,USD,India,utility,0.1,,\n2025-07-01,USD,India,utility,0.2,,\n"
        ))
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "rates.csv:3: more than one rate for USD India utility on 2025-07-01 (first on line 2)"
        );
    }
}
