//! What an aggregator bills on top of Meta: tariffs, the invoices they make of priced lines,
//! and several tariffs compared on one log (docs/rules.md §8).
//!
//! A [`Tariff`] is a plain value, built in code or read from TOML; a [`Billing`] is fed every
//! priced line with its event and gives the [`Invoice`]s of each invoice unit and local month;
//! [`compare`] sets several billings of one log side by side.
//!
//! ```
//! use wabill::billing::{Billing, Tariff};
//! use wabill::{Accounts, Engine, Event, Kind, Category, Options, Pricebook};
//!
//! let tariff = Tariff::from_toml(r#"
//!     name = "per message"
//!     currency = "USD"
//!     [meta]
//!     pass_through = true
//!     [[per_message]]
//!     direction = "mt"
//!     price = "0.005"
//! "#, "tariff.toml")?;
//! let mut billing = Billing::new(tariff)?;
//! let mut engine = Engine::new(Pricebook::embedded(Accounts::default()).into(), Options::default());
//! let t = "2025-09-01T08:00:00Z".parse().unwrap();
//! let event = Event::mt(t, "my-number", "+91 98765 43210", Kind::Template(Category::Utility));
//! let line = engine.push(&event)?;
//! billing.add(&event, &line)?;
//! let invoices = billing.invoices()?;
//! assert_eq!(invoices.len(), 1);
//! assert_eq!(invoices[0].month.to_string(), "2025-09");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub(crate) mod compare;
pub(crate) mod invoice;
pub(crate) mod tariff;

pub use compare::{compare, BreakEven, Comparison, Crossing, InvoiceRow};
pub use invoice::{Billing, Invoice, InvoiceLine, Part, Profile};
pub use tariff::{
    ActiveWhen, DirectionMatch, Fixed, MessageCategory, MetaFees, PerMessage, PerUser, Tariff, Unit,
    UserBand, UserPricing, DELIVERED,
};
