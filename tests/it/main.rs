//! Integration tests: one test crate (each `tests/*.rs` would link polars again).

// Tests may panic on broken fixtures; the library and binary may not.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bad_input;
mod cli_conventions;
mod common;
mod corpus;
mod exit_codes;
mod explain_cmd;
mod formats;
mod frame_api;
mod guidance;
mod hostile;
mod interop;
mod interop_corpus;
mod line_count;
mod long_layout;
mod long_scale;
mod messy;
mod nightly;
mod output_paths;
mod properties;
mod qa;
mod registry;
mod regression;
mod rules_cmd;
mod rules_families;
mod ruleset;
mod scale;
mod shard;
mod typed_data;
