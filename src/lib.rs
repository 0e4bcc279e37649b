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
//! assert_eq!(line.market(), "India");
//! # Ok::<(), wabill::Error>(())
//! ```

#![deny(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]

pub mod billing;
mod domain;
mod engine;
mod io;
mod pricebook;
pub mod reconcile;
pub mod report;
mod rules;
mod util;

pub use domain::error::{Error, ErrorKind, Position};
pub use domain::event::{
    Category, Direction, Event, Kind, Month, PricingCategory, PricingModel, PricingType, Status,
};
pub use domain::money::{Country, Currency};
pub use engine::{Engine, Options, OptionsBuilder, Priced, PricedLine, Why};
pub use pricebook::account::{Account, Accounts, AuthIntlFrom};
pub use pricebook::market::Markets;
pub use pricebook::ratecard::{Band, Price, RateCard, RateCategory, Tier};
pub use pricebook::Pricebook;
pub use rules::{RuleChoice, RuleSet};

/// The types a caller names with wabill's: exact decimals, instants and dates, time zones.
pub use chrono::{DateTime, NaiveDate, Utc};
pub use chrono_tz::Tz;
pub use rust_decimal::Decimal;

pub mod log {
    //! Logs as files hold them: CSV logs (docs/rules.md §2) read, merged by timestamp and
    //! priced on two threads ([`price_logs`]), every priced line and rejected row handed to a
    //! [`Sink`]; the options of a run as the command line and Python take them ([`Setup`]),
    //! and the files they name opened (gzip and Parquet recognised by their first bytes); and
    //! the writers of priced lines and rejected rows back to CSV.
    pub use crate::io::aliases::link_aliases;
    pub use crate::io::lines::{LinesWriter, RejectsWriter};
    pub use crate::io::log::{is_parquet, Record, PARQUET_MAGIC};
    pub use crate::io::pipeline::{price_logs, Counts, InputFormat, LogInput, ReadOptions, Row, Sink};
    pub use crate::io::reconcile::{read_templates, Disagreements, NoSink, ReconcileSink};
    pub use crate::io::setup::{
        gunzipped, open_file, open_log, open_log_through, parse_duration, read_text, AccountsCheck,
        Businesses, CardFile, Setup,
    };
    pub use crate::io::summary::RowSummary;
    pub use crate::io::webhook::{
        MetaVerdict, WebhookMessage, WebhookOptions, WebhookReader, COLUMNS as WEBHOOK_COLUMNS,
    };

    /// Logs and priced lines as Arrow record batches (feature `arrow`).
    #[cfg(feature = "arrow")]
    pub use crate::io::arrow::{money, ArrowLines, ArrowLog, LINES_BATCH, MONEY};
    /// Parquet logs and priced lines (feature `parquet`).
    #[cfg(feature = "parquet")]
    pub use crate::io::parquet::{open_parquet_log, ParquetLinesWriter, ParquetLog};
    #[cfg(feature = "parquet")]
    pub use parquet;
    /// The Arrow and Parquet crates whose types the Arrow and Parquet functions take.
    #[cfg(feature = "arrow")]
    pub use {arrow_array, arrow_schema};
}

/// The README's Rust examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
