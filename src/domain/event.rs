//! Domain types: one message of a log ([`Event`]) and the words that describe how it was priced.
//!
//! Every scalar type here has `FromStr` and `Display` that round-trip (the canonical spelling is
//! the one of docs/rules.md §2 and §7); parsing is lenient where the log format is (`MO`, `inbound`).

use std::fmt;

use chrono::{DateTime, Utc};

use crate::domain::error::Problem;
use crate::domain::money::Country;

/// Writes `args` through `f`, honouring the width, fill and alignment asked for (`{:>12}`): a
/// domain word lines up in a table like a string does. Formats to a string only when a width
/// is asked.
pub(crate) fn pad(f: &mut fmt::Formatter<'_>, args: fmt::Arguments<'_>) -> fmt::Result {
    match (f.width(), f.precision()) {
        (None, None) => f.write_fmt(args),
        _ => f.pad(&args.to_string()),
    }
}

/// Defines a fieldless enum whose `Display` and `FromStr` use the given names.
macro_rules! named_enum {
    ($(#[$m:meta])* $vis:vis enum $name:ident ($what:literal) { $($(#[$vm:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name { $($(#[$vm])* #[doc = concat!("\n\nSpelt `", $text, "`.")] $variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The canonical name.
            pub fn as_str(&self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.pad(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::domain::error::Error;
            fn from_str(s: &str) -> Result<$name, $crate::domain::error::Error> {
                $(if s == $text { return Ok($name::$variant); })+
                Err($crate::domain::error::Problem::new(format!(concat!("unknown ", $what, " (expected {})"),
                    [$($text),+].join(", "))).into())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}
pub(crate) use named_enum;

named_enum! {
    /// Who sent the message: the user (`mo`) or the business (`mt`).
    pub enum Direction ("direction") { Mo = "mo", Mt = "mt" }
}

impl Direction {
    /// Parses the log's spellings: `mo`/`in`/`inbound` and `mt`/`out`/`outbound`, any case.
    pub(crate) fn parse_log(s: &str) -> Result<Direction, Problem> {
        match s {
            "mo" => return Ok(Direction::Mo),
            "mt" => return Ok(Direction::Mt),
            _ => {}
        }
        let t = s.trim();
        for (names, d) in
            [(["mo", "in", "inbound"], Direction::Mo), (["mt", "out", "outbound"], Direction::Mt)]
        {
            if names.iter().any(|n| n.eq_ignore_ascii_case(t)) {
                return Ok(d);
            }
        }
        Err(Problem::column("direction", "unknown direction, expected mo or mt", s))
    }
}

named_enum! {
    /// The category of a template message.
    pub enum Category ("template category") {
        Marketing = "marketing",
        Utility = "utility",
        Authentication = "authentication",
        /// A marketing template sent through the Marketing Messages API (Meta's
        /// `marketing_lite`): priced as marketing, labelled apart.
        MarketingLite = "marketing_lite",
    }
}

impl Category {
    /// The family a template is priced and counted in: marketing for `marketing_lite`, else
    /// itself.
    pub fn family(self) -> Category {
        match self {
            Category::MarketingLite => Category::Marketing,
            c => c,
        }
    }
}

/// What kind of message an event is: for an MT, a template of a category or a non-template
/// ("service", free-form) message; for either direction, a call (Calling API).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A template of this category.
    Template(Category),
    /// Any other business message: text, media, interactive (a "service" message).
    NonTemplate,
    /// A voice call (either direction), lasting [`Event::duration`] seconds (0: not answered).
    Call,
}

impl Kind {
    /// Parses the log's `category` column: empty or `service` is a non-template.
    // Inlined into the batch parse, where it runs for every row (callgrind, 300,000 rows: 8M
    // instructions as a call); the spellings other than the canonical ones apart.
    #[inline(always)]
    pub(crate) fn parse_log(s: &str) -> Result<Kind, Problem> {
        if let Some(&c) = Category::ALL.iter().find(|c| c.as_str() == s) {
            return Ok(Kind::Template(c));
        }
        if s.is_empty() || s == "service" {
            return Ok(Kind::NonTemplate);
        }
        Kind::parse_other(s)
    }

    /// [`Kind::parse_log`] of a spelling that is not a canonical one.
    #[cold]
    fn parse_other(s: &str) -> Result<Kind, Problem> {
        let t = s.trim();
        if t.is_empty() || t.eq_ignore_ascii_case("service") {
            return Ok(Kind::NonTemplate);
        }
        Category::ALL
            .iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(t))
            .map(|&c| Kind::Template(c))
            .ok_or_else(|| {
                Problem::column(
                    "category",
                    "unknown category, expected marketing, utility, authentication, marketing_lite, service or empty",
                    s,
                )
            })
    }

    /// Parses the log's `kind` column: empty or `message` is a message, `call` a call (any
    /// case); a message's kind is then its `category`.
    pub(crate) fn parse_call(s: &str) -> Result<bool, Problem> {
        match s.trim() {
            "" => Ok(false),
            t if t.eq_ignore_ascii_case("message") => Ok(false),
            t if t.eq_ignore_ascii_case("call") => Ok(true),
            _ => Err(Problem::column("kind", "unknown kind, expected message, call or empty", s)),
        }
    }

    /// The pricing category a message of this kind has on its own: its template category,
    /// `service` for a non-template, `call` for a call.
    pub fn pricing_category(self) -> PricingCategory {
        match self {
            Kind::Template(c) => PricingCategory::from(c),
            Kind::NonTemplate => PricingCategory::Service,
            Kind::Call => PricingCategory::Call,
        }
    }
}

named_enum! {
    /// The final status of an MT. Only delivered (and read) messages are charged or open anything.
    pub enum Status ("status") { Delivered = "delivered", Read = "read", Sent = "sent", Failed = "failed" }
}

impl Status {
    /// Parses the log's `status` column: empty means delivered; any case.
    pub(crate) fn parse_log(s: &str) -> Result<Status, Problem> {
        if let Some(&v) = Status::ALL.iter().find(|v| v.as_str() == s) {
            return Ok(v);
        }
        let t = s.trim();
        if t.is_empty() {
            return Ok(Status::Delivered);
        }
        Status::ALL.iter().copied().find(|v| v.as_str().eq_ignore_ascii_case(t)).ok_or_else(|| {
            Problem::column("status", "unknown status, expected delivered, read, sent, failed or empty", s)
        })
    }

    /// Delivered or read (read implies delivered).
    pub fn is_delivered(self) -> bool {
        matches!(self, Status::Delivered | Status::Read)
    }
}

/// One message of a log, borrowed from wherever it was read.
///
/// `user` is the user's WhatsApp id as written (E.164 digits, where `+`, spaces and `-` are
/// ignored), or an opaque id when `country` is given. For an MO, `kind` is
/// [`Kind::NonTemplate`] and `status` is [`Status::Delivered`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event<'a> {
    /// For an MT, the moment it was delivered (or failed).
    pub timestamp: DateTime<Utc>,
    /// The business phone number (or its id).
    pub business: &'a str,
    /// The user's WhatsApp id: E.164 digits (`+`, spaces and `-` ignored), or an opaque id with a country.
    pub user: &'a str,
    /// Who sent it.
    pub direction: Direction,
    /// A template of a category, or a non-template (MTs only).
    pub kind: Kind,
    /// What became of an MT; only delivered ones are charged or open anything.
    pub status: Status,
    /// The user came through a free entry point (MO only).
    pub entry_point: bool,
    /// The message id; a repeated id is a duplicate.
    pub id: Option<&'a str>,
    /// The recipient's country, overriding the calling-code lookup.
    pub country: Option<Country>,
    /// A call's length in seconds (0: not answered); 0 for a message.
    pub duration: u32,
    /// The group the message was sent in (Groups API): its members share one window.
    pub group: Option<&'a str>,
    /// The user's business-scoped user id, when `user` is their phone number: the two ids
    /// are one person.
    pub bsuid: Option<&'a str>,
    /// What Meta charged, when the row says (a Marketing Messages API delivery with a maximum
    /// price): the line's charge instead of the list rate.
    pub cost: Option<Cost>,
}

/// An amount Meta says it charged for one message, in a currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cost {
    /// The amount, exact as written.
    pub amount: rust_decimal::Decimal,
    /// Its currency; `None`: the WABA's.
    pub currency: Option<crate::domain::money::Currency>,
}

impl Cost {
    /// Reads a cost as a log's `cost` and `cost_currency` columns (or a webhook's
    /// `pricing.cost`) give it: an exact amount, not negative, and the currency's ISO code when
    /// given. A problem names the column of the part that is wrong.
    pub(crate) fn parse(amount: &str, currency: Option<&str>) -> Result<Cost, Problem> {
        let not_a_code = |c: &str| Problem::column("cost_currency", "not an ISO 4217 currency code", c);
        Ok(Cost {
            amount: crate::domain::money::parse_amount("cost", amount)?,
            currency: currency
                .map(|c| crate::domain::money::Currency::parse_text(c).map_err(|_| not_a_code(c)))
                .transpose()?,
        })
    }
}

impl<'a> Event<'a> {
    /// A user message (MO).
    pub fn mo(timestamp: DateTime<Utc>, business: &'a str, user: &'a str) -> Event<'a> {
        Event {
            timestamp,
            business,
            user,
            direction: Direction::Mo,
            kind: Kind::NonTemplate,
            status: Status::Delivered,
            entry_point: false,
            id: None,
            country: None,
            duration: 0,
            group: None,
            bsuid: None,
            cost: None,
        }
    }

    /// A delivered business message (MT) of the given kind.
    pub fn mt(timestamp: DateTime<Utc>, business: &'a str, user: &'a str, kind: Kind) -> Event<'a> {
        Event { direction: Direction::Mt, kind, ..Event::mo(timestamp, business, user) }
    }

    /// The event with this status.
    pub fn with_status(self, status: Status) -> Event<'a> {
        Event { status, ..self }
    }

    /// The event marked as coming through a free entry point (an MO).
    pub fn with_entry_point(self) -> Event<'a> {
        Event { entry_point: true, ..self }
    }

    /// The event with this message id (for duplicates).
    pub fn with_id(self, id: &'a str) -> Event<'a> {
        Event { id: Some(id), ..self }
    }

    /// The event with the recipient's country, which overrides the number's prefix.
    pub fn with_country(self, country: Country) -> Event<'a> {
        Event { country: Some(country), ..self }
    }

    /// A call lasting `seconds` (0: not answered), placed by the user (`Mo`) or the business.
    pub fn call(
        timestamp: DateTime<Utc>,
        business: &'a str,
        user: &'a str,
        direction: Direction,
        seconds: u32,
    ) -> Event<'a> {
        Event { direction, kind: Kind::Call, duration: seconds, ..Event::mo(timestamp, business, user) }
    }

    /// The event sent in `group`.
    pub fn in_group(self, group: &'a str) -> Event<'a> {
        Event { group: Some(group), ..self }
    }

    /// The event with the user's business-scoped id, `user` being their phone number.
    pub fn with_bsuid(self, bsuid: &'a str) -> Event<'a> {
        Event { bsuid: Some(bsuid), ..self }
    }

    /// The event with what Meta charged for it.
    pub fn with_cost(self, cost: Cost) -> Event<'a> {
        Event { cost: Some(cost), ..self }
    }
}

named_enum! {
    /// How a line was priced (docs/rules.md §7).
    pub enum PricingType ("pricing type") {
        Regular = "regular",
        Conversation = "conversation",
        FreeCustomerService = "free_customer_service",
        FreeEntryPoint = "free_entry_point",
        /// A service message to a group within the number's allowance (Groups API).
        FreeGroupCustomerService = "free_group_customer_service",
        FreeTier = "free_tier",
        Inbound = "inbound",
        Undelivered = "undelivered",
        Violation = "violation",
        Duplicate = "duplicate",
    }
}

named_enum! {
    /// The category a line is reported under (Meta's `pricing.category`).
    pub enum PricingCategory ("pricing category") {
        Marketing = "marketing",
        Utility = "utility",
        Authentication = "authentication",
        AuthenticationInternational = "authentication_international",
        MarketingLite = "marketing_lite",
        Service = "service",
        /// A business-initiated call (Calling API), or a free one.
        Call = "call",
        /// A message to a group (Groups API), by its one-to-one category.
        GroupMarketing = "group_marketing",
        GroupUtility = "group_utility",
        GroupService = "group_service",
        ReferralConversion = "referral_conversion",
        UserInitiated = "user_initiated",
        BusinessInitiated = "business_initiated",
    }
}

impl From<Category> for PricingCategory {
    fn from(c: Category) -> PricingCategory {
        match c {
            Category::Marketing => PricingCategory::Marketing,
            Category::Utility => PricingCategory::Utility,
            Category::Authentication => PricingCategory::Authentication,
            Category::MarketingLite => PricingCategory::MarketingLite,
        }
    }
}

impl PricingCategory {
    /// The category Meta reports a message to a group under (Groups API): `group_marketing`,
    /// `group_utility`, `group_service`; any other stays itself.
    pub fn in_group(self) -> PricingCategory {
        match self {
            PricingCategory::Marketing | PricingCategory::MarketingLite => PricingCategory::GroupMarketing,
            PricingCategory::Utility => PricingCategory::GroupUtility,
            PricingCategory::Service => PricingCategory::GroupService,
            c => c,
        }
    }

    /// The one-to-one category of a group category (itself for any other).
    pub fn one_to_one(self) -> PricingCategory {
        match self {
            PricingCategory::GroupMarketing => PricingCategory::Marketing,
            PricingCategory::GroupUtility => PricingCategory::Utility,
            PricingCategory::GroupService => PricingCategory::Service,
            c => c,
        }
    }
}

named_enum! {
    /// Meta's pricing model of a line.
    pub enum PricingModel ("pricing model") { Nbp = "NBP", Cbp = "CBP", Pmp = "PMP" }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Domain words line up in tables: width, fill and alignment are honoured.
    #[test]
    fn words_honour_width_and_alignment() {
        assert_eq!(format!("[{:>10}]", PricingType::Regular), "[   regular]");
        assert_eq!(format!("[{:<4}]", Direction::Mo), "[mo  ]");
        assert_eq!(format!("[{:*^9}]", Month { year: 2025, month: 7 }), "[*2025-07*]");
        assert_eq!(format!("[{}]", Month { year: 2025, month: 7 }), "[2025-07]");
    }

    #[test]
    fn names_round_trip() {
        for t in PricingType::ALL {
            assert_eq!(t.as_str().parse::<PricingType>().unwrap(), *t);
        }
        for c in PricingCategory::ALL {
            assert_eq!(c.to_string().parse::<PricingCategory>().unwrap(), *c);
        }
        for m in PricingModel::ALL {
            assert_eq!(m.to_string().parse::<PricingModel>().unwrap(), *m);
        }
    }

    #[test]
    fn log_spellings() {
        assert_eq!(Direction::parse_log("Inbound").unwrap(), Direction::Mo);
        assert_eq!(Direction::parse_log(" OUT ").unwrap(), Direction::Mt);
        assert_eq!(
            Direction::parse_log("sideways").unwrap_err().to_string(),
            "direction: unknown direction, expected mo or mt (sideways)"
        );
        assert_eq!(Kind::parse_log("").unwrap(), Kind::NonTemplate);
        assert_eq!(Kind::parse_log("Service").unwrap(), Kind::NonTemplate);
        assert_eq!(Kind::parse_log("UTILITY").unwrap(), Kind::Template(Category::Utility));
        assert_eq!(Status::parse_log("").unwrap(), Status::Delivered);
        assert!(Status::parse_log("READ").unwrap().is_delivered());
        assert!(!Status::Failed.is_delivered());
    }
}

/// A calendar month (`YYYY-MM`), always a local month of some WABA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Month {
    /// The year.
    pub year: i32,
    /// The month of the year, 1 to 12.
    pub month: u32,
}

impl Month {
    /// The month of a date.
    pub fn of(date: chrono::NaiveDate) -> Month {
        use chrono::Datelike;
        Month { year: date.year(), month: date.month() }
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        pad(f, format_args!("{:04}-{:02}", self.year, self.month))
    }
}

crate::domain::error::from_str_by_parse_text!(Month);

impl Month {
    /// Reads the value from its text, or says what is wrong with it.
    pub(crate) fn parse_text(s: &str) -> Result<Month, Problem> {
        chrono::NaiveDate::parse_from_str(&format!("{}-01", s.trim()), "%Y-%m-%d")
            .map(Month::of)
            .map_err(|_| Problem::column("month", "not a month (YYYY-MM)", s))
    }
}

impl serde::Serialize for Month {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}
