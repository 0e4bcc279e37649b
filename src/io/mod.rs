//! The boundary with files: CSV logs read into events, priced in a two-thread pipeline, and
//! priced lines and rejected rows written back as CSV, each line checked against Meta's
//! verdict for `reconcile`; the options of a run ([`setup::Setup`]) and the files they name
//! read; with the `arrow` and `parquet` features, logs and priced lines as Arrow record
//! batches and Parquet files too.

pub(crate) mod aliases;
#[cfg(feature = "arrow")]
pub(crate) mod arrow;
pub(crate) mod batch;
pub(crate) mod lines;
pub(crate) mod log;
#[cfg(feature = "parquet")]
pub(crate) mod parquet;
pub(crate) mod pipeline;
pub(crate) mod reconcile;
pub(crate) mod setup;
pub(crate) mod summary;
pub(crate) mod timestamp;
pub(crate) mod webhook;
