//! The run summary: the row ledger, counts and provenance, as JSON and as text.

use std::collections::BTreeMap;

/// Unknown condition/medication values that are not code-like: counted, never shown (PHI).
const FREE_TEXT_CODES: &str = "(free text, not shown)";

use serde::{Deserialize, Serialize};

use crate::ingest::RejectReason;
use crate::vocab::{Flag, Label};

/// Row counts of one input.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct InputSummary {
    pub name: String,
    pub size_bytes: Option<u64>,
    pub layout: String,
    /// `delimited`, `parquet`, `arrow` or `frame` (the library API).
    pub format: String,
    /// Delimiter of a delimited input (empty for columnar inputs).
    pub delimiter: String,
    /// Data rows read (wide: panels; long: results).
    pub rows_read: u64,
    /// Panels classified.
    pub classified: u64,
    pub rejected: u64,
    /// Rows that went into at least one panel (wide: equals classified).
    pub rows_used: u64,
    /// Long layout: results no panel used.
    pub not_attached: u64,
    /// `--partition K/N`: rows (wide) or results (long) of patients in the other parts.
    pub other_partitions: u64,
    /// Lines that repeated the header: not data, not in `rows_read`.
    pub header_repeats: u64,
    /// FHIR: `Patient` resources read (not results, not in `rows_read`).
    pub patients_read: u64,
    /// FHIR and HL7 v2: preliminary results (used, and counted here).
    pub preliminary_results: u64,
    /// FHIR: resources of other types; HL7 v2: messages without results. Not in `rows_read`.
    pub other_resources: u64,
    pub ignored_columns: Vec<IgnoredColumn>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct IgnoredColumn {
    pub column: String,
    pub reason: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct RulesetSummary {
    pub version: String,
    pub effective_date: String,
    pub checksum: String,
    pub origin: String,
}

/// Everything a morning reader needs to trust a run.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Summary {
    /// Version of the output schema (interface.md, "Output").
    pub schema_version: String,
    pub engine_version: String,
    /// The command line of the run (program name and arguments: paths and flags only).
    pub command_line: Vec<String>,
    /// When the run started, UTC (ISO 8601).
    pub started_at: String,
    pub ruleset: RulesetSummary,
    pub inputs: Vec<InputSummary>,
    pub rows_read: u64,
    pub classified: u64,
    pub rejected: u64,
    pub rows_used: u64,
    pub not_attached: u64,
    /// `--partition K/N`: rows of patients that belong to the other parts (they are
    /// classified by those parts' runs; `merge` checks that every row is counted once).
    pub other_partitions: u64,
    /// rows_read == rows_used + rejected + not_attached + other_partitions, for the run and
    /// for every input (for wide inputs rows_used == classified, so rows_read == classified +
    /// rejected in an unpartitioned run).
    pub ledger_balanced: bool,
    /// The part of a `--partition K/N` run, and how rows were assigned to parts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partition: Option<crate::shard::PartitionSummary>,
    pub rejected_by_reason: BTreeMap<String, u64>,
    /// Long layout: "results not attached to any panel", by analyte.
    pub not_attached_by_analyte: BTreeMap<String, u64>,
    pub classification_counts: BTreeMap<String, u64>,
    pub flag_counts: BTreeMap<String, u64>,
    pub unknown_context_codes: BTreeMap<String, u64>,
    pub output: Option<String>,
    pub rejects: Option<String>,
    pub elapsed_seconds: f64,
}

impl Summary {
    /// The summary of a run of this engine with `rs`, before any row.
    pub fn of_run(rs: &crate::ruleset::Ruleset) -> Summary {
        Summary::new(
            env!("CARGO_PKG_VERSION"),
            RulesetSummary {
                version: rs.version.clone(),
                effective_date: rs.effective_date.clone(),
                checksum: rs.checksum.clone(),
                origin: rs.origin.to_string(),
            },
        )
    }

    pub fn new(engine_version: &str, ruleset: RulesetSummary) -> Summary {
        Summary {
            schema_version: super::columns::SCHEMA_VERSION.to_string(),
            engine_version: engine_version.to_string(),
            command_line: Vec::new(),
            started_at: String::new(),
            ruleset,
            inputs: Vec::new(),
            rows_read: 0,
            classified: 0,
            rejected: 0,
            rows_used: 0,
            not_attached: 0,
            other_partitions: 0,
            ledger_balanced: true,
            partition: None,
            rejected_by_reason: BTreeMap::new(),
            not_attached_by_analyte: BTreeMap::new(),
            classification_counts: Label::ALL
                .iter()
                .map(|l| (l.code().to_string(), 0))
                .collect(),
            flag_counts: Flag::ALL
                .iter()
                .map(|f| (f.code().to_string(), 0))
                .collect(),
            unknown_context_codes: BTreeMap::new(),
            output: None,
            rejects: None,
            elapsed_seconds: 0.0,
        }
    }

    pub fn count_reject(&mut self, input: usize, reason: RejectReason) {
        self.rejected += 1;
        self.rows_read += 1;
        if let Some(i) = self.inputs.get_mut(input) {
            i.rejected += 1;
            i.rows_read += 1;
        }
        *self
            .rejected_by_reason
            .entry(reason.code().to_string())
            .or_default() += 1;
    }

    pub fn count_not_attached(&mut self, input: usize, analyte: crate::analyte::Analyte) {
        self.not_attached += 1;
        self.rows_read += 1;
        if let Some(i) = self.inputs.get_mut(input) {
            i.not_attached += 1;
            i.rows_read += 1;
        }
        *self
            .not_attached_by_analyte
            .entry(analyte.code().to_string())
            .or_default() += 1;
    }

    /// Rows (or results) of another part's patients, read and left to that part.
    pub fn count_other_partition(&mut self, input: usize, rows: u64) {
        self.other_partitions += rows;
        self.rows_read += rows;
        if let Some(i) = self.inputs.get_mut(input) {
            i.other_partitions += rows;
            i.rows_read += rows;
        }
    }

    /// The key under which unknown condition or medication values that are not code-like
    /// are counted.
    pub fn free_text_key() -> &'static str {
        FREE_TEXT_CODES
    }

    pub fn count_classified(
        &mut self,
        input: usize,
        label: Label,
        flags: &[Flag],
        unknown_codes: &[String],
        rows_used: u64,
    ) {
        self.classified += 1;
        self.rows_read += rows_used;
        self.rows_used += rows_used;
        if let Some(i) = self.inputs.get_mut(input) {
            i.classified += 1;
            i.rows_read += rows_used;
            i.rows_used += rows_used;
        }
        *self
            .classification_counts
            .entry(label.code().to_string())
            .or_default() += 1;
        for f in flags {
            *self.flag_counts.entry(f.code().to_string()).or_default() += 1;
        }
        for c in unknown_codes {
            // Only code-like values are named; free text (a name, a note) is only counted.
            let key = if crate::messages::looks_like_code(c) {
                c.clone()
            } else {
                FREE_TEXT_CODES.to_string()
            };
            *self.unknown_context_codes.entry(key).or_default() += 1;
        }
    }

    /// Recomputes the ledger check.
    pub fn close_ledger(&mut self) {
        self.ledger_balanced = self.rows_read
            == self.rows_used + self.rejected + self.not_attached + self.other_partitions
            && self.inputs.iter().all(|i| {
                i.rows_read == i.rows_used + i.rejected + i.not_attached + i.other_partitions
            })
            && self.inputs.iter().map(|i| i.rows_read).sum::<u64>() == self.rows_read;
    }

    /// Human-readable summary for stderr.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let others = |n: u64| {
            if self.partition.is_some() {
                format!(" + {n} of other parts")
            } else {
                String::new()
            }
        };
        s.push_str(&format!(
            "anemia-engine {} with ruleset {} ({}, {})\n",
            self.engine_version, self.ruleset.version, self.ruleset.origin, self.ruleset.checksum
        ));
        for i in &self.inputs {
            let size = i.size_bytes.map_or("?".to_string(), |b| b.to_string());
            if i.layout == "fhir" || i.layout == "hl7" {
                let (format, unit) = if i.layout == "fhir" {
                    ("FHIR NDJSON", "Observation resources")
                } else {
                    ("HL7 v2", "OBX segments")
                };
                s.push_str(&format!(
                    "input {} ({format}, {size} bytes): {} {unit} read = {} used in {} panels + {} rejected + {} not attached to any panel\n",
                    i.name, i.rows_read, i.rows_used, i.classified, i.rejected, i.not_attached
                ));
                if i.layout == "fhir" {
                    s.push_str(&format!("  Patient resources read: {}\n", i.patients_read));
                }
                if i.preliminary_results > 0 {
                    s.push_str(&format!(
                        "  preliminary results (used): {}\n",
                        i.preliminary_results
                    ));
                }
                if i.other_resources > 0 {
                    let what = if i.layout == "fhir" {
                        "resources of other types"
                    } else {
                        "messages without results"
                    };
                    s.push_str(&format!("  {what} (not results): {}\n", i.other_resources));
                }
            } else if i.layout == "long" {
                s.push_str(&format!(
                    "input {} (long layout, delimiter {}, {size} bytes): {} results read = {} used in {} panels + {} rejected + {} not attached to any panel{}\n",
                    i.name, i.delimiter, i.rows_read, i.rows_used, i.classified, i.rejected, i.not_attached, others(i.other_partitions)
                ));
            } else {
                s.push_str(&format!(
                    "input {} (wide layout, delimiter {}, {size} bytes): {} rows read = {} classified + {} rejected{}\n",
                    i.name, i.delimiter, i.rows_read, i.classified, i.rejected, others(i.other_partitions)
                ));
            }
            for c in &i.ignored_columns {
                s.push_str(&format!("  ignored column {:?}: {}\n", c.column, c.reason));
            }
            if i.header_repeats > 0 {
                s.push_str(&format!(
                    "  {} line(s) repeating the header skipped (not data)\n",
                    i.header_repeats
                ));
            }
        }
        let balance = if self.ledger_balanced {
            ""
        } else {
            "  LEDGER DOES NOT BALANCE"
        };
        if self.not_attached == 0 && self.rows_used == self.classified {
            s.push_str(&format!(
                "rows read {} = classified {} + rejected {}{}{balance}\n",
                self.rows_read,
                self.classified,
                self.rejected,
                others(self.other_partitions)
            ));
        } else {
            s.push_str(&format!(
                "rows read {} = used {} (in {} classified panels) + rejected {} + not attached {}{}{balance}\n",
                self.rows_read, self.rows_used, self.classified, self.rejected, self.not_attached, others(self.other_partitions)
            ));
            for (a, n) in &self.not_attached_by_analyte {
                s.push_str(&format!("  results not attached to any panel, {a}: {n}\n"));
            }
        }
        if let Some(p) = &self.partition {
            s.push_str(&format!(
                "  partition {}/{}: {} of the rows read belong to the other parts' patients ({})\n",
                p.index, p.count, self.other_partitions, p.hash
            ));
        }
        for (r, n) in &self.rejected_by_reason {
            s.push_str(&format!("  rejected {r}: {n}\n"));
        }
        s.push_str("classification:\n");
        for (l, n) in self.classification_counts.iter().filter(|(_, n)| **n > 0) {
            s.push_str(&format!("  {l}: {n}\n"));
        }
        let flags: Vec<String> = self
            .flag_counts
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(f, n)| format!("{f} {n}"))
            .collect();
        if !flags.is_empty() {
            s.push_str(&format!("flags: {}\n", flags.join(", ")));
        }
        if !self.unknown_context_codes.is_empty() {
            let codes: Vec<String> = self
                .unknown_context_codes
                .iter()
                .map(|(c, n)| format!("{c} {n}"))
                .collect();
            s.push_str(&format!(
                "unknown condition/medication codes (ignored): {}\n",
                codes.join(", ")
            ));
        }
        if let Some(o) = &self.output {
            s.push_str(&format!("output: {o}\n"));
        }
        if let Some(r) = &self.rejects {
            s.push_str(&format!("rejects: {r}\n"));
        }
        s.push_str(&format!("elapsed: {:.2} s\n", self.elapsed_seconds));
        s
    }
}
