//! `anemia-engine diff`: what changed between two result files, panel by panel.
//!
//! Two files written by `classify` (CSV, Parquet or NDJSON, in any mix; the format follows
//! the extension) are matched by (`patient_id`, `specimen_id`). A panel present in both is
//! *changed* when any of [`COMPARED_COLUMNS`] differs; evidence and analyte values are shown
//! for changed panels but never decide. Columns other than the keys, the compared columns,
//! `evidence` and `ruleset_version`/`ruleset_checksum` are ignored, so files from versions
//! that add columns still compare.
//!
//! The report is deterministic: changed panels and panels only in NEW are listed in NEW's
//! row order, panels only in OLD in OLD's row order, and every table is sorted.
//!
//! The files: `model` (the report and its types), `read` (the CSV, NDJSON and Parquet
//! readers and the normalisation), `text` (the report as printed), `json` (the report as
//! data, `--format json`), `changes` (the `-o` CSV of changed panels); this file matches the
//! two sides.

use std::collections::HashMap;
use std::path::Path;

mod changes;
mod json;
mod model;
mod read;
mod text;

pub use changes::CHANGES_COLUMNS;
pub use model::{
    ChangedPanel, DiffError, DiffReport, DiffSide, PanelKey, COMPARED_COLUMNS, KEY_COLUMNS,
};
pub use read::result_format;

use crate::report::OutputFormat;
use model::EVIDENCE_SEPARATOR;
use read::{location, read_results, ResultRow};

/// Compares two result files by (patient_id, specimen_id); files that share no panel
/// cannot be compared.
pub fn compare(old_path: &Path, new_path: &Path) -> Result<DiffReport, DiffError> {
    compare_runs(old_path, new_path, true)
}

/// Compares two result files; `require_common_panel` makes two non-empty files without a
/// common panel an error.
pub fn compare_runs(
    old_path: &Path,
    new_path: &Path,
    require_common_panel: bool,
) -> Result<DiffReport, DiffError> {
    let old_format = result_format(old_path)?;
    let new_format = result_format(new_path)?;

    // Memory: per OLD panel only its key, interned values and position are kept; OLD's
    // evidence is read again, in a second pass, for the changed panels only.
    let mut values = Interner::default();
    let (old_side, mut old_rows) = read_old(old_path, old_format, &mut values)?;
    let mut new = match_new(new_path, new_format, &mut old_rows, &values)?;
    let matched = new.unchanged + new.changed.len();
    if require_common_panel && matched == 0 && old_side.panels > 0 && new.side.panels > 0 {
        return Err(DiffError::NoCommonPanel {
            old: old_side.name,
            new: new.side.name,
        });
    }
    fill_old_evidence(old_path, old_format, &mut new.changed)?;

    let only_in_old = in_order(
        old_rows
            .into_iter()
            .filter(|(_, row)| row.in_new.is_none())
            .map(|(k, row)| (row.index, k)),
    );
    let only_in_new = in_order(new.only_in_new.into_iter().map(|(k, (i, _))| (i, k)));
    Ok(DiffReport {
        old: old_side,
        new: new.side,
        unchanged: new.unchanged,
        changed: new.changed.into_iter().map(|(_, c)| c).collect(),
        only_in_old,
        only_in_new,
    })
}

/// What is kept of one OLD row during the comparison.
struct OldRow {
    /// Row index in OLD (0-based), for OLD's order and the evidence pass.
    index: usize,
    /// Line (CSV, NDJSON) or row (Parquet), for messages.
    position: u64,
    values: [u32; 10],
    /// Position of the same panel in NEW, once seen.
    in_new: Option<u64>,
}

/// The first pass: every OLD panel by key, without its evidence.
fn read_old(
    path: &Path,
    format: OutputFormat,
    values: &mut Interner,
) -> Result<(DiffSide, HashMap<PanelKey, OldRow>), DiffError> {
    let name = path.display().to_string();
    let mut rows: HashMap<PanelKey, OldRow> = HashMap::new();
    let mut side = DiffSide {
        name: name.clone(),
        ..DiffSide::default()
    };
    read_results(path, format, false, &mut side, &mut |row| {
        let index = rows.len();
        if let Some(first) = rows.get(&row.key) {
            return Err(duplicate(&name, format, row, first.position));
        }
        let interned = row.values.map(|v| values.id(v));
        rows.insert(
            row.key,
            OldRow {
                index,
                position: row.position,
                values: interned,
                in_new: None,
            },
        );
        Ok(())
    })?;
    side.panels = rows.len();
    Ok((side, rows))
}

/// NEW read against OLD: which panels are unchanged, changed, or only in NEW.
struct NewPass {
    side: DiffSide,
    unchanged: usize,
    /// (OLD index, panel) of the changed panels, in NEW's order; OLD evidence filled later.
    changed: Vec<(usize, ChangedPanel)>,
    /// (1-based order in NEW, position) of the panels OLD does not have.
    only_in_new: HashMap<PanelKey, (usize, u64)>,
}

/// The second pass: NEW row by row, matched with the OLD panels (marked as seen).
fn match_new(
    path: &Path,
    format: OutputFormat,
    old_rows: &mut HashMap<PanelKey, OldRow>,
    values: &Interner,
) -> Result<NewPass, DiffError> {
    let name = path.display().to_string();
    let mut pass = NewPass {
        side: DiffSide {
            name: name.clone(),
            ..DiffSide::default()
        },
        unchanged: 0,
        changed: Vec::new(),
        only_in_new: HashMap::new(),
    };
    let mut new_panels = 0usize;
    read_results(path, format, true, &mut pass.side, &mut |row| {
        let first = match old_rows.get(&row.key) {
            Some(old) => old.in_new,
            None => pass.only_in_new.get(&row.key).map(|(_, p)| *p),
        };
        if let Some(first) = first {
            return Err(duplicate(&name, format, row, first));
        }
        new_panels += 1;
        match old_rows.get_mut(&row.key) {
            None => {
                pass.only_in_new.insert(row.key, (new_panels, row.position));
            }
            Some(old) => {
                old.in_new = Some(row.position);
                let same = old
                    .values
                    .iter()
                    .zip(&row.values)
                    .all(|(id, v)| values.get(*id) == v);
                if same {
                    pass.unchanged += 1;
                } else {
                    pass.changed.push((
                        old.index,
                        ChangedPanel {
                            key: row.key,
                            old: old.values.map(|id| values.get(id).to_string()),
                            new: row.values,
                            old_evidence: Vec::new(),
                            new_evidence: split_evidence(&row.evidence),
                        },
                    ));
                }
            }
        }
        Ok(())
    })?;
    pass.side.panels = new_panels;
    Ok(pass)
}

/// The third pass, over OLD again: the evidence of the changed panels only.
fn fill_old_evidence(
    path: &Path,
    format: OutputFormat,
    changed: &mut [(usize, ChangedPanel)],
) -> Result<(), DiffError> {
    if changed.is_empty() {
        return Ok(());
    }
    let wanted: HashMap<usize, usize> = changed
        .iter()
        .enumerate()
        .map(|(slot, (index, _))| (*index, slot))
        .collect();
    let mut index = 0usize;
    let mut side = DiffSide::default();
    read_results(path, format, true, &mut side, &mut |row| {
        if let Some(slot) = wanted.get(&index) {
            changed[*slot].1.old_evidence = split_evidence(&row.evidence);
        }
        index += 1;
        Ok(())
    })
}

/// A panel seen a second time in one file (`first`: where it was seen before).
fn duplicate(file: &str, format: OutputFormat, row: ResultRow, first: u64) -> DiffError {
    DiffError::DuplicateKey {
        file: file.to_string(),
        patient_id: row.key.patient_id,
        specimen_id: row.key.specimen_id,
        first: location(format, first),
        second: location(format, row.position),
    }
}

/// The keys sorted by their row order.
fn in_order(keys: impl Iterator<Item = (usize, PanelKey)>) -> Vec<PanelKey> {
    let mut keys: Vec<(usize, PanelKey)> = keys.collect();
    keys.sort();
    keys.into_iter().map(|(_, k)| k).collect()
}

/// Each distinct compared value stored once (labels and guidance lists repeat heavily).
#[derive(Default)]
struct Interner {
    ids: HashMap<String, u32>,
    values: Vec<String>,
}

impl Interner {
    fn id(&mut self, value: String) -> u32 {
        if let Some(id) = self.ids.get(&value) {
            return *id;
        }
        let id = u32::try_from(self.values.len()).unwrap_or(u32::MAX);
        self.values.push(value.clone());
        self.ids.insert(value, id);
        id
    }

    fn get(&self, id: u32) -> &str {
        self.values.get(id as usize).map_or("", String::as_str)
    }
}

fn split_evidence(s: &str) -> Vec<String> {
    s.split(EVIDENCE_SEPARATOR)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}
