//! Machinery with no word of pricing in it: tables, filters, queues, numbering, the CSV row
//! reader, and every CPU-specific path. Private to the crate, each behind a small interface.

pub(crate) mod bloom;
pub(crate) mod cpu;
pub(crate) mod handoff;
pub(crate) mod numbering;
pub(crate) mod rows;
pub(crate) mod slots;
pub(crate) mod table;
