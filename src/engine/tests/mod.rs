//! The engine's tests, and each rule set's, priced through the engine on a small pricebook.

mod cbp2022;
mod cbp2023;
mod nbp;
mod pmp;
mod y2026;

use super::*;
use crate::domain::event::{Category, Event, Kind, Status};
use crate::pricebook::account::Accounts;
use crate::pricebook::market::Markets;
use crate::pricebook::ratecard::RateCard;
use rust_decimal::Decimal;

pub(crate) const MARKETS: &str = "effective_from,prefix,country,market\n\
    2000-01-01,33,FR,France\n\
    2000-01-01,91,IN,India\n\
    2000-01-01,62,ID,Indonesia\n\
    2000-01-01,1,US,North America\n";

/// India authentication in tiers of 2 messages: 0.0014, then 0.0012, then 0.0010; France
/// calls in tiers of 2 minutes: 0.0400 a minute, then 0.0300.
pub(crate) const RATES: &str = "effective_from,currency,market,category,rate,tier_from,tier_to\n\
    2018-01-01,USD,France,template,0.0500,,\n\
    2022-02-01,USD,France,user_initiated,0.0859,,\n\
    2022-02-01,USD,France,business_initiated,0.1432,,\n\
    2023-06-01,USD,France,marketing,0.1432,,\n\
    2023-06-01,USD,France,utility,0.0768,,\n\
    2023-06-01,USD,France,authentication,0.0691,,\n\
    2023-06-01,USD,France,service,0.0859,,\n\
    2025-07-01,USD,France,marketing,0.0859,,\n\
    2025-07-01,USD,France,utility,0.0300,,\n\
    2025-07-01,USD,France,authentication,0.0300,,\n\
    2026-10-01,USD,France,service,0.0300,,\n\
    2025-07-01,USD,India,marketing,0.0107,,\n\
    2025-07-01,USD,India,utility,0.0014,,\n\
    2025-07-01,USD,India,authentication,0.0014,1,2\n\
    2025-07-01,USD,India,authentication,0.0012,3,4\n\
    2025-07-01,USD,India,authentication,0.0010,5,\n\
    2025-07-01,USD,Indonesia,authentication,0.0250,,\n\
    2025-07-01,USD,Indonesia,authentication_international,0.1360,,\n\
    2025-07-01,USD,North America,marketing,0.0250,,\n\
    2025-07-01,USD,France,call,0.0400,1,2\n\
    2025-07-01,USD,France,call,0.0300,3,\n\
    2025-07-01,USD,India,call,0.0050,,\n";

pub(crate) const FR: &str = "33612345678";
pub(crate) const IN: &str = "919876543210";
pub(crate) const ID: &str = "6281234567890";

/// 2025-09-10T00:00:00Z, a day inside pmp-2025, plus `h` hours and `s` seconds.
pub(crate) fn at(h: i64, s: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_757_462_400 + h * 3600 + s, 0).expect("in range")
}

pub(crate) fn engine_with(accounts: &str, options: Options) -> Engine {
    let markets = Markets::from_csv(MARKETS.as_bytes(), "markets.csv").expect("valid");
    let card = RateCard::from_csv(RATES.as_bytes(), "rates.csv").expect("valid");
    let accounts = Accounts::from_csv(accounts.as_bytes(), "accounts.csv").expect("valid");
    Engine::new(Pricebook::new(markets, &card, accounts).into(), options)
}

impl Engine {
    /// The live state, for checking that a failed push changed nothing.
    pub(crate) fn debug_state(&self) -> String {
        let pairs: Vec<_> = self.businesses.iter().map(|b| format!("{:?}", b.pairs)).collect();
        format!("{:?} {:?} {:?} {pairs:?}", self.counters, self.seen, self.last)
    }
}

/// docs/rules.md §2, `user`: E.164 digits with `+`, spaces and `-` ignored, or an opaque id when
/// `country` is given; a number's market comes from its calling code, an id's from its
/// country.
#[test]
fn a_user_is_a_number_or_an_id_with_a_country() {
    let mut e = engine();
    let market = |e: &mut Engine, user: &str, country: Option<&str>| {
        let ev = Event::mo(at(0, 0), "B", user);
        let ev = match country {
            Some(c) => ev.with_country(c.parse().unwrap()),
            None => ev,
        };
        e.push(&ev).map(|line| line.market().to_string()).map_err(|p| p.to_string())
    };
    assert_eq!(market(&mut e, FR, None), Ok("France".into()));
    assert_eq!(market(&mut e, " +33 6-12 34 56 78 ", None), Ok("France".into()));
    assert_eq!(market(&mut e, "hash:0a1b", Some("FR")), Ok("France".into()));
    assert_eq!(
        market(&mut e, "hash:0a1b", None),
        Err("user: not a phone number and no country given (hash:0a1b)".into())
    );
    assert_eq!(market(&mut e, " + - ", None), Err("user: must not be empty ( + - )".into()));
}

#[test]
fn ids_are_remembered_for_the_dedup_window() {
    let mut l = Log::new(engine());
    let week = chrono::TimeDelta::days(7);
    l.push(Event::mo(at(0, 0), "B", FR).with_id("wamid.1"));
    let again =
        l.push(Event::mo(at(0, 0) + week - chrono::TimeDelta::seconds(1), "B", FR).with_id("wamid.1"));
    assert_eq!(again.pricing_type, PricingType::Duplicate);
    let later = l.push(Event::mo(at(0, 0) + week, "B", FR).with_id("wamid.1"));
    assert_eq!(later.pricing_type, PricingType::Inbound);
}

/// docs/rules.md §4, order of the checks, and §7: a repeated id is a duplicate before anything
/// else, even when its status differs (a failed or read retry of a delivered message is
/// neither `undelivered` nor priced again), and it changes nothing.
#[test]
fn a_repeated_id_is_a_duplicate_whatever_its_status() {
    let mut l = Log::new(engine());
    let first = l.push(Event::mt(at(0, 0), "B", FR, MARKETING).with_id("wamid.1"));
    assert_eq!(first.pricing_type, PricingType::Regular);
    for status in [Status::Failed, Status::Read, Status::Delivered] {
        let again = l.push(Event::mt(at(0, 5), "B", FR, MARKETING).with_id("wamid.1").with_status(status));
        assert_eq!((again.pricing_type, again.pricing_category), (PricingType::Duplicate, None), "{status}");
        assert_eq!(again.charge, Decimal::ZERO);
    }
    // An MO repeated by id opens no window: a reply outside the first one's CSW is still a
    // violation.
    l.push(Event::mo(at(1, 0), "B", FR).with_id("wamid.2"));
    l.push(Event::mo(at(30, 0), "B", FR).with_id("wamid.2"));
    assert_eq!(l.mt(at(30, 1), FR, Kind::NonTemplate).pricing_type, PricingType::Violation);
}

#[test]
fn a_rate_categorys_discriminant_is_its_place_in_all() {
    assert!(RateCategory::ALL.iter().enumerate().all(|(i, c)| *c as usize == i));
}

#[test]
fn instants_beyond_what_a_stamp_holds_are_refused() {
    let mut engine = engine();
    let t: DateTime<Utc> = "2262-04-12T00:00:00Z".parse().expect("valid");
    let err = engine.push(&Event::mo(t, "B", FR)).expect_err("refused");
    assert!(err.to_string().contains("outside the years 1677 to 2262"), "{err}");
    assert_eq!(engine.live_pairs(), 0);
}

#[test]
fn pairs_whose_windows_closed_are_dropped() {
    let mut l = Log::new(engine());
    l.entry(at(0, 0), FR);
    l.mt(at(1, 0), FR, Kind::Template(Category::Marketing)); // opens a 72h FEP window
    l.mo(at(2, 0), IN);
    assert_eq!(l.engine.live_pairs(), 2);
    l.mo(at(30, 0), "33600000009"); // the day's sweep: IN's window closed at 26h
    assert_eq!(l.engine.live_pairs(), 2);
    l.mo(at(73, 0), "33600000009"); // FR's FEP window closed at 73h
    assert_eq!(l.engine.live_pairs(), 1);
}

/// A log of business `B` priced under pmp-2026 with the card of 2026-10-01 (the test card's
/// service rates start then) and `allowance` free service messages a month.
pub(crate) fn pmp_2026(allowance: u64) -> Log {
    let options = Options {
        rules: crate::rules::RuleChoice::Fixed(crate::rules::RuleSet::Pmp2026),
        service_allowance: allowance,
        rates_date: Some("2026-10-01".parse().unwrap()),
        ..Options::default()
    };
    Log::new(engine_with("business\n", options))
}

pub(crate) fn engine() -> Engine {
    engine_with("business\n", Options::default())
}

/// Pushes events for business `B` and returns each line's (type, charge as a string).
pub(crate) struct Log {
    pub engine: Engine,
}

impl Log {
    pub(crate) fn new(engine: Engine) -> Log {
        Log { engine }
    }

    pub(crate) fn push(&mut self, ev: Event) -> PricedLine {
        self.engine.push(&ev).expect("priced").clone()
    }

    pub(crate) fn mo(&mut self, t: DateTime<Utc>, user: &str) -> PricedLine {
        self.push(Event::mo(t, "B", user))
    }

    pub(crate) fn entry(&mut self, t: DateTime<Utc>, user: &str) -> PricedLine {
        self.push(Event::mo(t, "B", user).with_entry_point())
    }

    pub(crate) fn mt(&mut self, t: DateTime<Utc>, user: &str, kind: Kind) -> PricedLine {
        self.push(Event::mt(t, "B", user, kind))
    }

    pub(crate) fn failed(&mut self, t: DateTime<Utc>, user: &str, kind: Kind) -> PricedLine {
        self.push(Event::mt(t, "B", user, kind).with_status(Status::Failed))
    }
}

pub(crate) const MARKETING: Kind = Kind::Template(Category::Marketing);
pub(crate) const UTILITY: Kind = Kind::Template(Category::Utility);
pub(crate) const AUTH: Kind = Kind::Template(Category::Authentication);
pub(crate) const TEXT: Kind = Kind::NonTemplate;

/// A line's pricing type and charge, for compact assertions.
pub(crate) fn tc(line: &PricedLine) -> (PricingType, String) {
    (line.pricing_type, line.charge.normalize().to_string())
}

proptest::proptest! {
    /// Dropping the state of pairs whose windows have all closed changes no line: such state
    /// behaves exactly like none (every window is half-open and time only moves forward).
    /// Gaps of up to four days let pairs expire and be swept.
    #[test]
    fn dropping_expired_state_changes_no_line(
        steps in proptest::collection::vec((0i64..4 * 86_400, 0usize..4, 0usize..7), 1..200),
    ) {
        let users = [FR, IN, "6281234567", "15551234567"];
        let (mut evicting, mut keeping) = (engine(), engine_with("business\n", Options { evict_expired: false, ..Options::default() }));
        let mut t = "2025-09-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap();
        for (gap, user, what) in steps {
            t += chrono::TimeDelta::seconds(gap / 7);
            let user = users[user];
            let ev = match what {
                0 => Event::mo(t, "B", user),
                1 => Event::mo(t, "B", user).with_entry_point(),
                2 => Event::mt(t, "B", user, Kind::NonTemplate),
                3 => Event::mt(t, "B", user, Kind::Template(Category::Marketing)),
                4 => Event::mt(t, "B", user, Kind::Template(Category::Utility)),
                5 => Event::mt(t, "B", user, Kind::Template(Category::Authentication)),
                _ => Event::mt(t, "B", user, Kind::Template(Category::Utility)).with_status(Status::Failed),
            };
            let (a, b) = (evicting.push(&ev), keeping.push(&ev));
            proptest::prop_assert_eq!(a.map_err(|e| e.to_string()), b.map_err(|e| e.to_string()));
        }
    }
}
