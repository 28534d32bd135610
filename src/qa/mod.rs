//! Quality assurance tooling: the subcommands that show what the engine does and what a
//! change does, beside the classification pipeline and never part of it.
//!
//! - [`rules_cmd`]: `anemia-engine rules [ID]`, the rules, flags and guidance entries;
//! - [`ranges`]: `anemia-engine ranges show`, the tables of the ruleset in use;
//! - [`explain`]: `anemia-engine explain`, one panel's trace (`explain/mod.rs` finds the
//!   panel, `cells.rs` reads its row again, `trace.rs` is the serialisable trace,
//!   `render.rs` its text form);
//! - [`diff`]: `anemia-engine diff`, two result files compared panel by panel (`diff/mod.rs`
//!   matches them; `model.rs` holds the report, `read.rs` the CSV, NDJSON and Parquet
//!   readers, `text.rs` the printed report, `changes.rs` the `-o` CSV of changed panels);
//! - [`impact`]: `classify --compare-ruleset`, the same inputs classified with two rulesets
//!   and the results compared with [`diff`].

pub mod diff;
pub mod explain;
pub mod impact;
pub mod ranges;
pub mod rules_cmd;
