//! The words of the domain: events and their verdicts, money, time, user ids, and the one
//! error type. Nothing here knows of prices, rules or files.

pub(crate) mod error;
pub(crate) mod event;
pub(crate) mod money;
pub(crate) mod time;
pub(crate) mod user;
