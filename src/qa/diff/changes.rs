//! The `diff -o` file: one CSV row per changed panel, in NEW's order.

use std::io::Write;
use std::path::Path;

use super::model::{DiffError, DiffReport, EVIDENCE_SEPARATOR};
use crate::report::atomic::AtomicOutputs;
use crate::report::neutralise;

/// Columns of the `-o` file of changed panels. `changed_columns`: the compared (decision)
/// columns that differ, `;`-separated, in output column order.
pub const CHANGES_COLUMNS: [&str; 9] = [
    "patient_id",
    "specimen_id",
    "old_classification",
    "new_classification",
    "flags_gained",
    "flags_lost",
    "changed_columns",
    "old_evidence",
    "new_evidence",
];

impl DiffReport {
    /// Writes the changed panels as CSV ([`CHANGES_COLUMNS`]), in NEW's order, through
    /// [`AtomicOutputs`] like `classify`'s outputs: the file appears only when complete.
    pub fn write_changes_csv(&self, path: &Path) -> Result<(), DiffError> {
        let write_err = |message: String| DiffError::Write {
            path: path.display().to_string(),
            message,
        };
        let mut outputs = AtomicOutputs::new();
        let file = outputs
            .create(path)
            .map_err(|e| write_err(e.source.to_string()))?;
        let mut w = csv::Writer::from_writer(file);
        w.write_record(CHANGES_COLUMNS)
            .map_err(|e| write_err(e.to_string()))?;
        for c in &self.changed {
            let record = [
                c.key.patient_id.clone(),
                c.key.specimen_id.clone(),
                c.old_classification().to_string(),
                c.new_classification().to_string(),
                c.flags_gained().join(";"),
                c.flags_lost().join(";"),
                c.changed_columns().join(";"),
                c.old_evidence.join(EVIDENCE_SEPARATOR),
                c.new_evidence.join(EVIDENCE_SEPARATOR),
            ];
            w.write_record(record.iter().map(|f| neutralise(f).into_owned()))
                .map_err(|e| write_err(e.to_string()))?;
        }
        let mut inner = w.into_inner().map_err(|e| write_err(e.to_string()))?;
        inner.flush().map_err(|e| write_err(e.to_string()))?;
        drop(inner);
        outputs
            .commit()
            .map_err(|e| write_err(e.source.to_string()))
    }
}
