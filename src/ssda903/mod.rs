//! SSDA903, the DfE children looked after return: code lists, and the pure core of the
//! import and export (no database, no filesystem: readers in, values and writers out).
//!
//! - [`codes`]: the code lists (LS, CIN, PLACE, REC, RNE, ...), SEX in both forms.
//! - [`files`]: which file is which, in DfE column order.
//! - [`rows`]: the checks on one row, and the compact records kept until the end.
//! - [`xml`]: the XML form, streamed into the same rows as the CSV files.
//! - [`import`]: files in, [`ImportedChild`] values and a [`Report`] out.
//! - [`episodes`]: episodes chained into periods of care, legal-status changes and
//!   placements.
//! - [`report`]: counts and every refused row, as text and CSV.
//! - [`oc2`]: the OC2 cohort and its values, from the tracker's facts.
//! - [`from_tracker`]: a year's return rebuilt from what the tracker holds.
//! - [`export`]: header, episodes, UASC and OC2 CSV files and the XML form, written from
//!   [`ImportedChild`] values in DfE column order.
//! - [`generate`]: realistic invented files for N children, for benchmarks and tests.
//!
//! The rules each part applies are listed in its own module docs. The database writer
//! (periods, legal-status history, placements) consumes [`Import::children`].

pub mod codes;
pub mod episodes;
pub mod export;
pub mod files;
pub mod from_tracker;
pub mod generate;
pub mod import;
#[cfg(test)]
mod import_tests;
pub mod model;
pub mod oc2;
pub mod report;
pub mod rows;
pub mod xml;

pub use codes::*;
pub use import::{import, Import, ImportOptions, Loader};
pub use model::*;
pub use report::{Counts, FileSummary, Rejection, Report, Written};
