//! wabill prices recorded WhatsApp Business message logs under Meta's pricing rules of each
//! era, and explains every charge.
//!
//! The core is pure: events in, priced lines out, exact decimals, no I/O, no clock. Time comes
//! from the events only, so the same input gives the same output.
//!
//! ```
//! use wabill::{Accounts, Category, Engine, Event, Kind, Options, Pricebook, PricingType};
//!
//! let mut engine = Engine::new(Pricebook::embedded(Accounts::default()).into(), Options::default());
//! let t = "2025-09-01T08:00:00Z".parse().unwrap();
//! let line = engine.push(&Event::mt(t, "my-number", "+91 98765 43210", Kind::Template(Category::Utility)))?;
//! assert_eq!(line.pricing_type, PricingType::Regular); // utility outside the window is charged
//! assert_eq!(&*line.market, "India");
//! # Ok::<(), wabill::Problem>(())
//! ```
//!
//! Modules, one idea each: [`event`] (domain types), [`window`] (the windows of a user),
//! [`rules`] (one file per rule set), [`ratecard`] and [`market`] (prices and markets),
//! [`account`], [`engine`] (the streaming pricer), [`report`] (summaries), [`money`],
//! [`error`], and [`csvlog`] (the CSV boundary: rows to events, positions, priced-line output).

pub mod account;
pub mod compare;
pub mod csvlog;
pub mod engine;
pub mod error;
pub mod event;
pub mod generate;
mod handoff;
mod intern;
pub mod invoice;
pub mod market;
pub mod money;
pub mod ratecard;
pub mod report;
pub mod rules;
mod seen;
mod slots;
mod table;
pub mod tariff;
pub mod window;

pub use account::{Account, Accounts, AuthIntlFrom};
pub use engine::{Engine, Options, Pricebook, Priced, PricedLine};
pub use error::{Error, ErrorKind, Position, Problem};
pub use event::{
    Category, Direction, Event, Kind, Month, PricingCategory, PricingModel, PricingType, Status,
};
pub use market::Markets;
pub use money::{Country, Currency};
pub use ratecard::{RateCard, RateCategory, Tier};
pub use rules::{RuleChoice, RuleSet};

/// The README's Rust examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
