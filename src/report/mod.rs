//! What is made of priced lines for people and programs: the summary, the rendering of every
//! tabular output (summary, invoices, comparisons) as a table, CSV or JSON, and the HTML report
//! with its charts.

mod card;
mod comparison;
mod explain;
mod html;
mod invoices;
pub(crate) mod render;
pub(crate) mod summary;

pub use card::CardFigures;
pub use explain::{Explainer, Explanation, EXPLAIN_COLUMNS};
pub use html::HtmlReport;
pub use invoices::Invoices;
pub use render::{Format, Render};
pub use summary::{Group, GroupBy, GroupKey, Summary, Totals};
