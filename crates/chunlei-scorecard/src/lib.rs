//! The standard explainable credit scorecard: weight-of-evidence binning, a logistic
//! regression on the WoE columns, and points per bin, so that every score is a sum anyone can
//! check and every low score has principal reasons (the variables that cost the most points).
//!
//! Training reads a labelled CSV file (a target column and its bad value; every other column a
//! candidate variable), bins each variable (`binning`), keeps those with enough information
//! value, fits the regression (`regression`), scales to points (`model::Scaling`) and writes a
//! versioned JSON model file (`model::file`). Scoring loads that file and scores a record
//! (column → text). `metrics` has AUC, KS and PSI.
//!
//! Sign convention: `WoE = ln(good share / bad share)`, so a positive WoE is lower risk, the
//! regression models `logit P(bad)` and its coefficients come out negative.
//!
//! The crate does no IO except in `cli`, whose functions read and write the files they are
//! given; it reads no clock (the training date is passed in) and uses no randomness. It owns
//! the JSON of its model file (`model::file`): a file format, not an HTTP wire type, and the
//! domain types still derive no serde traits.
//!
//! For the binary: `train_cli` and `evaluate_cli` are the two commands; a loan decision calls
//! `load_model` once, then `Scorecard::score` and `Scorecard::reasons` per application.

pub mod binning;
pub mod cli;
pub mod csv;
pub mod data;
mod error;
pub mod evaluate;
pub mod metrics;
pub mod model;
pub mod regression;
pub mod report;
#[cfg(test)]
mod testing;
pub mod train;

pub use cli::{evaluate_cli, load_model, train_cli};
pub use error::Error;
pub use evaluate::{Evaluation, evaluate};
pub use model::{Contribution, Reason, Record, Scaling, Scorecard, Scored};
pub use train::{TrainOptions, train};
