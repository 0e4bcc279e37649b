//! Aggregator tariffs (docs/rules.md §8): what an aggregator bills its customers on top of, or instead
//! of, Meta's fees. A tariff stacks optional parts: Meta fees passed through with a markup,
//! per-message fees, per-user (monthly active user) fees, fixed monthly fees, a monthly minimum.
//!
//! A [`Tariff`] is a plain value: build it in code, or read it from TOML with
//! [`Tariff::from_toml`], which refuses unknown keys, floats for money, tiers out of order and
//! the like with the file, line and key. [`crate::billing::invoice`] turns priced lines into invoices.

use std::sync::Arc;

use rust_decimal::Decimal;
use serde::Deserialize;
use toml::Spanned;

use crate::domain::error::{Error, Position, Problem};
use crate::domain::event::{named_enum, Kind, Status};
use crate::domain::money::{parse_amount, Currency};

named_enum! {
    /// What an invoice (or a fixed fee) is per.
    pub enum Unit ("unit") { Business = "business", Waba = "waba", Portfolio = "portfolio" }
}

named_enum! {
    /// Which messages a per-message fee applies to.
    pub enum DirectionMatch ("direction") { Mo = "mo", Mt = "mt", Any = "any" }
}

named_enum! {
    /// When a user counts as active in a month.
    pub enum ActiveWhen ("active_when") { Mo = "mo", Mt = "mt", Any = "any", Both = "both" }
}

named_enum! {
    /// How per-user bands price the users: each band its own users (`graduated`), or every
    /// user at the band holding the total (`volume`).
    pub enum UserPricing ("pricing") { Graduated = "graduated", Volume = "volume" }
}

named_enum! {
    /// A message's category as tariffs see it: its template category, or `service`.
    pub enum MessageCategory ("category") {
        Marketing = "marketing",
        Utility = "utility",
        Authentication = "authentication",
        Service = "service",
        /// A business-initiated call (Calling API).
        Call = "call",
    }
}

impl MessageCategory {
    /// The category a per-message rule matches for a message of this kind.
    pub fn of(kind: Kind) -> MessageCategory {
        match kind {
            // A Marketing Messages API template is marketing to a tariff.
            Kind::Template(
                crate::domain::event::Category::Marketing | crate::domain::event::Category::MarketingLite,
            ) => MessageCategory::Marketing,
            Kind::Template(crate::domain::event::Category::Utility) => MessageCategory::Utility,
            Kind::Template(crate::domain::event::Category::Authentication) => MessageCategory::Authentication,
            Kind::NonTemplate => MessageCategory::Service,
            Kind::Call => MessageCategory::Call,
        }
    }
}

/// Meta's fees on the invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaFees {
    /// Whether Meta's fees appear on the invoice.
    pub pass_through: bool,
    /// Percent of the exact sum of the invoice's Meta fees, added as its own line.
    pub markup_percent: Decimal,
}

/// A fee on every matching message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PerMessage {
    /// The direction of the messages the rule prices.
    pub direction: DirectionMatch,
    /// When given, the MT's category must be one of these (never matches an MO).
    pub categories: Option<Vec<MessageCategory>>,
    /// The MT statuses that match (an MO always matches its direction).
    pub statuses: Vec<Status>,
    /// The price added for each matching message.
    pub price: Decimal,
}

impl PerMessage {
    /// Whether a (non-duplicate) message matches this rule.
    pub fn matches(&self, direction: crate::domain::event::Direction, kind: Kind, status: Status) -> bool {
        use crate::domain::event::Direction::{Mo, Mt};
        match (self.direction, direction) {
            (DirectionMatch::Mo, Mt) | (DirectionMatch::Mt, Mo) => return false,
            _ => {}
        }
        match direction {
            Mo => self.categories.is_none(),
            Mt => {
                self.statuses.contains(&status)
                    && self.categories.as_ref().is_none_or(|c| c.contains(&MessageCategory::of(kind)))
            }
        }
    }

    /// A short description, e.g. `mt marketing delivered/read`.
    pub fn describe(&self) -> String {
        let mut d = self.direction.to_string();
        if let Some(c) = &self.categories {
            d.push(' ');
            d.push_str(&c.iter().map(|c| c.as_str()).collect::<Vec<_>>().join("/"));
        }
        if self.direction != DirectionMatch::Mo {
            d.push(' ');
            d.push_str(&self.statuses.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("/"));
        }
        d
    }
}

/// One band of per-user prices: users up to `up_to` (inclusive; `None` for the last band).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserBand {
    /// The last user (1-based, inclusive) of the band; `None` for the last band.
    pub up_to: Option<u64>,
    /// The price of each user in the band.
    pub price: Decimal,
}

/// A fee per monthly active user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PerUser {
    /// What makes a user active in a month.
    pub active_when: ActiveWhen,
    /// The MT statuses that make a user active (and count towards fair use).
    pub statuses: Vec<Status>,
    /// Fair use: 0 = unlimited, else each started block of N messages counts one user.
    pub messages_per_user: u64,
    /// How the bands price the active users.
    pub pricing: UserPricing,
    /// Bands in increasing order; only the last is open.
    pub tiers: Vec<UserBand>,
}

/// A fixed monthly fee per business, WABA or portfolio with traffic in the month.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fixed {
    /// The fee's name, as invoice lines describe it.
    pub name: String,
    /// What the fee is charged for, each month with traffic.
    pub per: Unit,
    /// The fee of each business, WABA or portfolio.
    pub price: Decimal,
}

/// An aggregator's tariff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tariff {
    /// The tariff's name, as comparisons label it.
    pub name: String,
    /// The currency of its invoices.
    pub currency: Currency,
    /// The invoice unit: one invoice per unit and local month.
    pub invoice_by: Unit,
    /// Meta's fees: passed through or not, and the markup.
    pub meta: MetaFees,
    /// Per-message fees; every matching rule adds its price.
    pub per_message: Vec<PerMessage>,
    /// The per-user (monthly active user) fee, if any.
    pub per_user: Option<PerUser>,
    /// Fixed monthly fees.
    pub fixed: Vec<Fixed>,
    /// The monthly minimum: a top-up line brings a smaller invoice up to it.
    pub minimum: Option<Decimal>,
    /// Where the `currency` key was read, for messages.
    pub(crate) currency_at: Option<Position>,
}

/// The default MT statuses of per-message and per-user rules.
pub const DELIVERED: [Status; 2] = [Status::Delivered, Status::Read];

impl Tariff {
    /// A tariff with no part yet: Meta fees passed through at cost.
    pub fn new(name: impl Into<String>, currency: Currency) -> Tariff {
        Tariff {
            name: name.into(),
            currency,
            invoice_by: Unit::Portfolio,
            meta: MetaFees { pass_through: true, markup_percent: Decimal::ZERO },
            per_message: Vec::new(),
            per_user: None,
            fixed: Vec::new(),
            minimum: None,
            currency_at: None,
        }
    }

    /// Checks what TOML and code alike must respect: per-user bands in order, only the last open.
    pub fn validate(&self) -> Result<(), Error> {
        if let Some(u) = &self.per_user {
            check_bands(&u.tiers)?;
        }
        Ok(())
    }

    /// Reads a tariff from TOML text; `file` names it in messages.
    pub fn from_toml(text: &str, file: &str) -> Result<Tariff, Error> {
        let file: Arc<str> = file.into();
        let at =
            |span: Option<std::ops::Range<usize>>| Position { file: file.clone(), line: line_of(text, span) };
        let raw: RawTariff = toml::from_str(text).map_err(|e| {
            let message = e.message().trim().to_string();
            let problem = match e.span().and_then(|span| key_at(text, span.start)) {
                Some(key) => Problem::new(message).at_key(key),
                None => Problem::new(message),
            };
            problem.at(at(e.span()))
        })?;
        let err = |span: std::ops::Range<usize>, key: &str, what: String, value: String| {
            Problem::key(key.to_string(), what, value).at(at(Some(span)))
        };
        let currency_span = raw.currency.span();
        let currency = raw.currency.get_ref().parse::<Currency>().map_err(|_| {
            err(
                currency_span.clone(),
                "currency",
                "not an ISO 4217 currency code".into(),
                raw.currency.get_ref().clone(),
            )
        })?;
        let mut t = Tariff::new(raw.name, currency);
        t.currency_at = Some(at(Some(currency_span)));
        t.invoice_by = raw.invoice_by.unwrap_or(Unit::Portfolio);
        if let Some(m) = raw.meta {
            t.meta = MetaFees {
                pass_through: m.pass_through.unwrap_or(true),
                markup_percent: m.markup_percent.map_or(Decimal::ZERO, |d| d.0),
            };
        }
        for rule in raw.per_message {
            let span = rule.span();
            let r = rule.into_inner();
            let direction = r.direction.unwrap_or(DirectionMatch::Any);
            if direction == DirectionMatch::Mo && r.categories.is_some() {
                let what = "categories never match an MO; use direction = \"mt\" or \"any\"".into();
                return Err(err(span, "per_message.categories", what, String::new()));
            }
            t.per_message.push(PerMessage {
                direction,
                categories: r.categories,
                statuses: r.statuses.unwrap_or_else(|| DELIVERED.to_vec()),
                price: r.price.0,
            });
        }
        if let Some(u) = raw.per_user {
            let tiers_span = u.tiers.span();
            let tiers: Vec<UserBand> = u
                .tiers
                .into_inner()
                .into_iter()
                .map(|b| UserBand { up_to: b.up_to, price: b.price.0 })
                .collect();
            check_bands(&tiers).map_err(|p| p.at_key("per_user.tiers").at(at(Some(tiers_span))))?;
            t.per_user = Some(PerUser {
                active_when: u.active_when.unwrap_or(ActiveWhen::Any),
                statuses: u.statuses.unwrap_or_else(|| DELIVERED.to_vec()),
                messages_per_user: u.messages_per_user.unwrap_or(0),
                pricing: u.pricing.unwrap_or(UserPricing::Graduated),
                tiers,
            });
        }
        t.fixed = raw
            .fixed
            .into_iter()
            .map(|f| Fixed { name: f.name, per: f.per.unwrap_or(Unit::Business), price: f.price.0 })
            .collect();
        t.minimum = raw.minimum.map(|m| m.monthly.0);
        Ok(t)
    }
}

fn check_bands(tiers: &[UserBand]) -> Result<(), Problem> {
    let Some((last, rest)) = tiers.split_last() else {
        return Err(Problem::new("needs at least one band"));
    };
    let mut before = 0u64;
    for b in rest {
        let Some(up_to) = b.up_to else {
            return Err(Problem::new("only the last band may leave out up_to"));
        };
        if up_to <= before {
            return Err(Problem::new(format!("bands out of order: up_to = {up_to} after {before}")));
        }
        before = up_to;
    }
    match last.up_to {
        Some(up_to) => Err(Problem::new(format!("the last band must leave out up_to (it has {up_to})"))),
        None => Ok(()),
    }
}

/// The key whose value starts at `offset`, with its table: `per_user.price` for
/// `price = 0.09` under `[per_user]`, or inside an inline table of its array.
fn key_at(text: &str, offset: usize) -> Option<String> {
    let before = text.get(..offset)?;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let on_line = &before[line_start..];
    let eq = on_line.rfind('=')?;
    let name = on_line[..eq].trim_end();
    let name = name.rsplit(|c: char| c.is_whitespace() || c == '{' || c == ',').next()?.trim();
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    let table = before[..line_start]
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .map(|l| l.trim_matches(|c| c == '[' || c == ']').trim().to_string());
    Some(match table {
        Some(t) => format!("{t}.{name}"),
        None => name.to_string(),
    })
}

/// The 1-based line of a byte offset.
fn line_of(text: &str, span: Option<std::ops::Range<usize>>) -> u64 {
    let offset = span.map_or(0, |s| s.start).min(text.len());
    1 + text.as_bytes()[..offset].iter().filter(|&&b| b == b'\n').count() as u64
}

/// An exact amount in TOML: a string (`"0.005"`) or an integer; a float is refused, since it
/// may already have been rounded.
#[derive(Debug, Clone, Copy)]
struct Amount(Decimal);

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Amount, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Amount;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an amount as a string, e.g. \"0.005\"")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Amount, E> {
                parse_amount("price", s)
                    .map(Amount)
                    .map_err(|_| E::custom(format!("not a non-negative decimal amount ({s})")))
            }
            fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<Amount, E> {
                u64::try_from(n)
                    .map(|n| Amount(n.into()))
                    .map_err(|_| E::custom(format!("must not be negative ({n})")))
            }
            fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<Amount, E> {
                Ok(Amount(n.into()))
            }
            fn visit_f64<E: serde::de::Error>(self, f: f64) -> Result<Amount, E> {
                Err(E::custom(format!("write amounts as strings, e.g. \"{f}\", so they stay exact")))
            }
        }
        d.deserialize_any(V)
    }
}

macro_rules! deserialize_by_name {
    ($($t:ty),+) => {$(
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<$t, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(|e: Error| serde::de::Error::custom(format!("{e}: {s}")))
            }
        }
    )+};
}
deserialize_by_name!(Unit, DirectionMatch, ActiveWhen, UserPricing, MessageCategory, Status);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTariff {
    name: String,
    currency: Spanned<String>,
    invoice_by: Option<Unit>,
    meta: Option<RawMeta>,
    #[serde(default)]
    per_message: Vec<Spanned<RawPerMessage>>,
    per_user: Option<RawPerUser>,
    #[serde(default)]
    fixed: Vec<RawFixed>,
    minimum: Option<RawMinimum>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMeta {
    pass_through: Option<bool>,
    markup_percent: Option<Amount>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPerMessage {
    direction: Option<DirectionMatch>,
    categories: Option<Vec<MessageCategory>>,
    statuses: Option<Vec<Status>>,
    price: Amount,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPerUser {
    active_when: Option<ActiveWhen>,
    statuses: Option<Vec<Status>>,
    messages_per_user: Option<u64>,
    pricing: Option<UserPricing>,
    tiers: Spanned<Vec<RawBand>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBand {
    up_to: Option<u64>,
    price: Amount,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFixed {
    name: String,
    per: Option<Unit>,
    price: Amount,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMinimum {
    monthly: Amount,
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &str = r#"name = "per message"
currency = "USD"
invoice_by = "portfolio"

[meta]
pass_through = true
markup_percent = "10"

[[per_message]]
direction = "mt"
categories = ["marketing"]
statuses = ["delivered", "read"]
price = "0.005"

[per_user]
active_when = "any"
statuses = ["delivered", "read"]
messages_per_user = 0
pricing = "graduated"
tiers = [{ up_to = 1000, price = "0" }, { up_to = 10000, price = "0.05" }, { price = "0.03" }]

[[fixed]]
name = "number licence"
per = "business"
price = "49"

[minimum]
monthly = "100"
"#;

    fn load(text: &str) -> Result<Tariff, Error> {
        Tariff::from_toml(text, "t.toml")
    }

    #[test]
    fn reads_the_spec_example() {
        let t = load(SPEC).unwrap();
        assert_eq!(
            (t.name.as_str(), t.currency, t.invoice_by),
            ("per message", Currency::USD, Unit::Portfolio)
        );
        assert_eq!(t.meta.markup_percent, Decimal::TEN);
        assert_eq!(t.per_message[0].describe(), "mt marketing delivered/read");
        let u = t.per_user.unwrap();
        assert_eq!(u.tiers.len(), 3);
        assert_eq!(u.tiers[2].up_to, None);
        assert_eq!(t.fixed[0].price, Decimal::from(49));
        assert_eq!(t.minimum, Some(Decimal::from(100)));
    }

    #[test]
    fn bad_tariffs_name_file_line_and_key() {
        let e = load(&SPEC.replace("pricing = ", "pricng = ")).unwrap_err();
        assert!(e.to_string().starts_with("t.toml:19: unknown field `pricng`, expected one of"), "{e}");
        let e = load(&SPEC.replace("price = \"0.005\"", "price = 0.005")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "t.toml:13: key per_message.price: write amounts as strings, e.g. \"0.005\", so they stay exact"
        );
        let e = load(&SPEC.replace("price = \"0.005\"", "price = \"0,005\"")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "t.toml:13: key per_message.price: not a non-negative decimal amount (0,005)"
        );
        let e = load(&SPEC.replace("up_to = 10000", "up_to = 500")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "t.toml:20: key per_user.tiers: bands out of order: up_to = 500 after 1000"
        );
        let e = load(&SPEC.replace("currency = \"USD\"", "currency = \"dollars\"")).unwrap_err();
        assert_eq!(e.to_string(), "t.toml:2: key currency: not an ISO 4217 currency code (dollars)");
        let e = load(&SPEC.replace("direction = \"mt\"", "direction = \"sideways\"")).unwrap_err();
        assert!(e.to_string().starts_with("t.toml:10: key per_message.direction: unknown direction"), "{e}");
    }
}
