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

#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]

mod billing;
mod domain;
mod engine;
mod io;
mod pricebook;
mod report;
mod rules;
mod util;

pub use billing::compare::{compare, BreakEven, Comparison, Crossing, InvoiceRow};
pub use billing::invoice::{Billing, Invoice, InvoiceLine, Part, Profile};
pub use domain::error::{Error, ErrorKind, Position, Problem};
pub use domain::event::{
    Category, Direction, Event, Kind, Month, PricingCategory, PricingModel, PricingType, Status,
};
pub use domain::money::{Country, Currency};
pub use engine::{Engine, Options, Priced, PricedLine};
pub use io::lines::{LinesWriter, RejectsWriter};
pub use io::pipeline::{price_logs, Counts, LogInput, ReadOptions, Row, Sink};
pub use pricebook::account::{Account, Accounts, AuthIntlFrom};
pub use pricebook::market::Markets;
pub use pricebook::ratecard::{RateCard, RateCategory, Tier};
pub use pricebook::Pricebook;
pub use report::{Format, GroupBy, Invoices, Render, Summary};
pub use rules::{RuleChoice, RuleSet};

/// Aggregator tariffs: what a tariff is made of, to build one in code or read one from TOML.
pub mod tariff {
    pub use crate::billing::tariff::*;
}

/// The README's Rust examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
