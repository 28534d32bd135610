//! Integration tests: one test crate (each `tests/*.rs` would link polars again).

mod cli;
mod common;
mod corpus;
mod guidance;
mod properties;
mod ruleset;
