//! Integration tests: one test crate (each `tests/*.rs` would link polars again).

// Tests may panic on broken fixtures; the library and binary may not.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cli;
mod common;
mod corpus;
mod guidance;
mod long_layout;
mod properties;
mod qa;
mod ruleset;
mod scale;
