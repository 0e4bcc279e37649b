//! What an aggregator bills on top of Meta: tariffs, the invoices they make of priced lines,
//! and several tariffs compared on one log.

pub(crate) mod compare;
pub(crate) mod invoice;
pub(crate) mod tariff;
