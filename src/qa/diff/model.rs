//! The data model of a comparison: a panel's key, what is known of each side, the changed
//! panels and the report with its summary counts, and why a comparison can fail.

use std::collections::{BTreeMap, BTreeSet};

use thiserror::Error;

/// The columns that identify a panel.
pub const KEY_COLUMNS: [&str; 2] = ["patient_id", "specimen_id"];

/// The columns whose difference makes a panel "changed".
pub const COMPARED_COLUMNS: [&str; 10] = crate::report::DECISION_COLUMNS;

/// Index of `classification` in [`COMPARED_COLUMNS`].
pub(super) const CLASSIFICATION: usize =
    crate::report::columns::decision_position("classification");
/// Index of `flags` in [`COMPARED_COLUMNS`].
pub(super) const FLAGS: usize = crate::report::columns::decision_position("flags");
/// The compared columns holding `;`-separated lists.
pub(super) const LIST_COLUMNS: [&str; 3] = ["flags", "recommended_tests", "guidance"];
/// How the result files join evidence lines (and guidance texts) in one cell.
pub(super) const EVIDENCE_SEPARATOR: &str = " | ";

/// Why two result files cannot be compared (exit 1), or a bad request (exit 2).
#[derive(Debug, Error)]
pub enum DiffError {
    /// A usage problem (an unknown extension): exit 2.
    #[error("{0}")]
    Usage(String),
    #[error("cannot read {file}: {message}")]
    Unreadable { file: String, message: String },
    #[error("{file}: no column {column:?}{location}; diff compares result files written by `anemia-engine classify` (it needs patient_id, specimen_id and {compared})", compared = COMPARED_COLUMNS.join(", "))]
    MissingColumn {
        file: String,
        column: String,
        /// ` (line 3)` for a row lacking the key, empty for a header.
        location: String,
    },
    #[error("{file}: panel (patient_id {patient_id:?}, specimen_id {specimen_id:?}) appears twice ({first} and {second}); the files cannot be compared by (patient_id, specimen_id): give every panel a unique specimen_id in the export and classify again")]
    DuplicateKey {
        file: String,
        patient_id: String,
        specimen_id: String,
        first: String,
        second: String,
    },
    #[error("{old} and {new} have no panel in common (no (patient_id, specimen_id) key of one is in the other); are they results of the same export?")]
    NoCommonPanel { old: String, new: String },
    #[error("writing {path}: {message}")]
    Write { path: String, message: String },
}

/// A panel's identity.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct PanelKey {
    pub patient_id: String,
    pub specimen_id: String,
}

impl std::fmt::Display for PanelKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "patient {} specimen {}",
            self.patient_id, self.specimen_id
        )
    }
}

/// What is known of one side of the comparison.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct DiffSide {
    /// The file name, or for a ruleset comparison the ruleset.
    pub name: String,
    pub panels: usize,
    /// Distinct `ruleset_version` values, sorted.
    pub ruleset_versions: Vec<String>,
    /// Distinct ruleset checksums (a `ruleset_checksum` column or Parquet metadata), sorted.
    pub ruleset_checksums: Vec<String>,
}

/// A panel present in both files whose compared columns differ.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ChangedPanel {
    pub key: PanelKey,
    /// Values of [`COMPARED_COLUMNS`] in OLD and NEW.
    pub old: [String; 10],
    pub new: [String; 10],
    pub old_evidence: Vec<String>,
    pub new_evidence: Vec<String>,
}

/// The items of a `;`-separated list cell.
pub(super) fn list(s: &str) -> BTreeSet<&str> {
    s.split(';').filter(|x| !x.is_empty()).collect()
}

impl ChangedPanel {
    pub fn old_classification(&self) -> &str {
        &self.old[CLASSIFICATION]
    }

    pub fn new_classification(&self) -> &str {
        &self.new[CLASSIFICATION]
    }

    /// The compared columns that differ, in [`COMPARED_COLUMNS`] order.
    pub fn changed_columns(&self) -> Vec<&'static str> {
        COMPARED_COLUMNS
            .iter()
            .enumerate()
            .filter(|(i, _)| self.old[*i] != self.new[*i])
            .map(|(_, c)| *c)
            .collect()
    }

    /// Flags in NEW and not in OLD, sorted.
    pub fn flags_gained(&self) -> Vec<&str> {
        let old = list(&self.old[FLAGS]);
        list(&self.new[FLAGS]).difference(&old).copied().collect()
    }

    /// Flags in OLD and not in NEW, sorted.
    pub fn flags_lost(&self) -> Vec<&str> {
        let new = list(&self.new[FLAGS]);
        list(&self.old[FLAGS]).difference(&new).copied().collect()
    }
}

/// The comparison of two result files.
#[derive(Clone, Debug, serde::Serialize)]
pub struct DiffReport {
    pub old: DiffSide,
    pub new: DiffSide,
    pub unchanged: usize,
    /// In NEW's row order.
    pub changed: Vec<ChangedPanel>,
    /// In OLD's row order.
    pub only_in_old: Vec<PanelKey>,
    /// In NEW's row order.
    pub only_in_new: Vec<PanelKey>,
}

impl DiffReport {
    /// Panels whose classification changed: (old label, new label, count), most frequent
    /// first, then by labels.
    pub fn transitions(&self) -> Vec<(String, String, usize)> {
        let mut counts: BTreeMap<(&str, &str), usize> = BTreeMap::new();
        for c in &self.changed {
            if c.old_classification() != c.new_classification() {
                *counts
                    .entry((c.old_classification(), c.new_classification()))
                    .or_default() += 1;
            }
        }
        let mut out: Vec<(String, String, usize)> = counts
            .into_iter()
            .map(|((o, n), k)| (o.to_string(), n.to_string(), k))
            .collect();
        out.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| (&a.0, &a.1).cmp(&(&b.0, &b.1))));
        out
    }

    /// Per flag, the number of panels that gained it, sorted by flag.
    pub fn flags_gained(&self) -> Vec<(String, usize)> {
        count_flags(self.changed.iter().flat_map(|c| c.flags_gained()))
    }

    /// Per flag, the number of panels that lost it, sorted by flag.
    pub fn flags_lost(&self) -> Vec<(String, usize)> {
        count_flags(self.changed.iter().flat_map(|c| c.flags_lost()))
    }

    /// Per compared column, the number of changed panels in which it differs.
    pub fn column_changes(&self) -> Vec<(&'static str, usize)> {
        COMPARED_COLUMNS
            .iter()
            .enumerate()
            .map(|(i, c)| {
                (
                    *c,
                    self.changed.iter().filter(|p| p.old[i] != p.new[i]).count(),
                )
            })
            .filter(|(_, n)| *n > 0)
            .collect()
    }
}

fn count_flags<'a>(flags: impl Iterator<Item = &'a str>) -> Vec<(String, usize)> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for f in flags {
        *counts.entry(f).or_default() += 1;
    }
    counts
        .into_iter()
        .map(|(f, n)| (f.to_string(), n))
        .collect()
}
