//! Quality assurance tooling: the subcommands that show what the engine does and what a
//! change does, beside the classification pipeline and never part of it.
//!
//! - [`diff`]: `anemia-engine diff`, two result files compared panel by panel (`diff/mod.rs`
//!   matches them; `model.rs` holds the report, `read.rs` the CSV, NDJSON and Parquet
//!   readers, `text.rs` the printed report, `changes.rs` the `-o` CSV of changed panels).

pub mod diff;
