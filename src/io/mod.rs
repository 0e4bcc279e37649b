//! The boundary with files: CSV logs read into events, priced in a two-thread pipeline, and
//! priced lines and rejected rows written back as CSV.

pub(crate) mod aliases;
pub(crate) mod batch;
pub(crate) mod lines;
pub(crate) mod log;
pub(crate) mod pipeline;
pub(crate) mod timestamp;
pub(crate) mod webhook;
