//! anemia-engine: classifies anemia in laboratory exports with a versioned, cited ruleset.
//!
//! The pipeline, one way only:
//! 1. [`ruleset`] loads and validates `reference-ranges/` (every clinical number);
//! 2. [`ingest`] turns export files into typed panels in bounded batches, or rejects rows with a reason;
//! 3. [`rules`] evaluates each panel (pure functions) into labels, flags, tests and evidence;
//! 4. [`guidance`] attaches the clinician guidance the panel's results call for;
//! 5. [`report`] writes CSV, Parquet or NDJSON, the rejects file and the summary.
//!
//! [`frame::classify_frame`] is the library's door: a polars frame in, typed results and
//! rejects out. [`run`] drives these steps for `classify`; the library tells the user about a run
//! through a [`messages::Messages`] sink the caller provides, never on stderr itself.

pub mod analyte;
pub mod app;
pub mod cell;
pub mod cli;
pub mod error;
pub mod frame;
pub mod guidance;
pub mod ingest;
pub mod isotime;
pub mod messages;
pub mod nightly;
pub mod numfmt;
pub mod panel;
pub mod qa;
pub mod report;
pub mod rules;
pub mod ruleset;
pub mod run;
pub mod shard;
pub mod vocab;
