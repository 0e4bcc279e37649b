//! What is made of priced lines for people and programs: the summary, and the rendering of
//! every tabular output (summary, invoices, comparisons) as a table, CSV or JSON.

mod card;
mod comparison;
mod invoices;
pub(crate) mod render;
pub(crate) mod summary;

pub use card::CardFigures;
pub use invoices::Invoices;
pub use render::{Format, Render};
pub use summary::{Group, GroupBy, GroupKey, Summary, Totals};
