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

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::report::{neutralise, OutputFormat};

/// The columns that identify a panel.
pub const KEY_COLUMNS: [&str; 2] = ["patient_id", "specimen_id"];

/// The columns whose difference makes a panel "changed".
pub const COMPARED_COLUMNS: [&str; 10] = crate::report::DECISION_COLUMNS;

/// Columns of the `-o` file of changed panels.
pub const CHANGES_COLUMNS: [&str; 8] = [
    "patient_id",
    "specimen_id",
    "old_classification",
    "new_classification",
    "flags_gained",
    "flags_lost",
    "old_evidence",
    "new_evidence",
];

const CLASSIFICATION: usize = 6;
const FLAGS: usize = 7;
const EVIDENCE_SEPARATOR: &str = " | ";
/// Panels listed by key in the "only in" sections of the text report; the counts are exact.
const MAX_LISTED_KEYS: usize = 100;

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

/// One row of a result file, normalised for comparison.
#[derive(Clone, Debug)]
struct ResultRow {
    key: PanelKey,
    /// Normalised values of [`COMPARED_COLUMNS`].
    values: [String; 10],
    /// Empty unless asked for.
    evidence: String,
    /// Line (CSV, NDJSON) or 1-based row (Parquet).
    position: u64,
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

fn list(s: &str) -> BTreeSet<&str> {
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

/// The format of a result file, from its extension.
pub fn result_format(path: &Path) -> Result<OutputFormat, DiffError> {
    OutputFormat::from_path(path).ok_or_else(|| {
        DiffError::Usage(format!(
            "cannot tell the format of {} from its extension; diff reads result files ending in .csv, .parquet, .ndjson or .jsonl",
            path.display()
        ))
    })
}

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
    let old_name = old_path.display().to_string();
    let new_name = new_path.display().to_string();

    // Memory: per OLD panel only its key, interned values and position are kept; OLD's
    // evidence is read again, in a second pass, for the changed panels only.
    let mut values = Interner::default();
    let mut old_rows: HashMap<PanelKey, OldRow> = HashMap::new();
    let mut old_side = DiffSide {
        name: old_name.clone(),
        ..DiffSide::default()
    };
    read_results(old_path, old_format, false, &mut old_side, &mut |row| {
        let index = old_rows.len();
        if let Some(first) = old_rows.get(&row.key) {
            return Err(DiffError::DuplicateKey {
                file: old_name.clone(),
                patient_id: row.key.patient_id,
                specimen_id: row.key.specimen_id,
                first: location(old_format, first.position),
                second: location(old_format, row.position),
            });
        }
        let interned = row.values.map(|v| values.id(v));
        old_rows.insert(
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
    old_side.panels = old_rows.len();

    let mut new_side = DiffSide {
        name: new_name.clone(),
        ..DiffSide::default()
    };
    let mut only_in_new: HashMap<PanelKey, (usize, u64)> = HashMap::new();
    let mut new_panels = 0usize;
    let mut unchanged = 0usize;
    // (OLD index, panel) of the changed panels, in NEW's order; OLD evidence filled later.
    let mut changed: Vec<(usize, ChangedPanel)> = Vec::new();
    read_results(new_path, new_format, true, &mut new_side, &mut |row| {
        let first = match old_rows.get(&row.key) {
            Some(old) => old.in_new,
            None => only_in_new.get(&row.key).map(|(_, p)| *p),
        };
        if let Some(first) = first {
            return Err(DiffError::DuplicateKey {
                file: new_name.clone(),
                patient_id: row.key.patient_id,
                specimen_id: row.key.specimen_id,
                first: location(new_format, first),
                second: location(new_format, row.position),
            });
        }
        new_panels += 1;
        match old_rows.get_mut(&row.key) {
            None => {
                only_in_new.insert(row.key, (new_panels, row.position));
            }
            Some(old) => {
                old.in_new = Some(row.position);
                let same = old
                    .values
                    .iter()
                    .zip(&row.values)
                    .all(|(id, v)| values.get(*id) == v);
                if same {
                    unchanged += 1;
                } else {
                    changed.push((
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
    new_side.panels = new_panels;
    let matched = unchanged + changed.len();
    if require_common_panel && matched == 0 && old_side.panels > 0 && new_side.panels > 0 {
        return Err(DiffError::NoCommonPanel {
            old: old_name,
            new: new_name,
        });
    }

    if !changed.is_empty() {
        let wanted: HashMap<usize, usize> = changed
            .iter()
            .enumerate()
            .map(|(slot, (index, _))| (*index, slot))
            .collect();
        let mut index = 0usize;
        let mut side = DiffSide::default();
        read_results(old_path, old_format, true, &mut side, &mut |row| {
            if let Some(slot) = wanted.get(&index) {
                changed[*slot].1.old_evidence = split_evidence(&row.evidence);
            }
            index += 1;
            Ok(())
        })?;
    }

    let mut only_in_old: Vec<(usize, PanelKey)> = old_rows
        .into_iter()
        .filter(|(_, row)| row.in_new.is_none())
        .map(|(k, row)| (row.index, k))
        .collect();
    only_in_old.sort();
    let mut only_in_new: Vec<(usize, PanelKey)> =
        only_in_new.into_iter().map(|(k, (i, _))| (i, k)).collect();
    only_in_new.sort();
    Ok(DiffReport {
        old: old_side,
        new: new_side,
        unchanged,
        changed: changed.into_iter().map(|(_, c)| c).collect(),
        only_in_old: only_in_old.into_iter().map(|(_, k)| k).collect(),
        only_in_new: only_in_new.into_iter().map(|(_, k)| k).collect(),
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

/// `line 3` (CSV, NDJSON) or `row 3` (Parquet).
fn location(format: OutputFormat, position: u64) -> String {
    match format {
        OutputFormat::Parquet => format!("row {position}"),
        _ => format!("line {position}"),
    }
}

fn split_evidence(s: &str) -> Vec<String> {
    s.split(EVIDENCE_SEPARATOR)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// Normalises one compared value so that the same result reads the same in every format.
fn normalise(column: &str, raw: &str) -> String {
    let t = raw.trim();
    match column {
        // 10.5 (CSV), 10.5 (NDJSON number) and 10.50 all mean the same cutoff.
        "hb_threshold_g_dl" => t
            .parse::<f64>()
            .map_or_else(|_| t.to_string(), |x| crate::report::fixed(x, 1)),
        "anemia" => t.to_ascii_lowercase(),
        "flags" => list(t).into_iter().collect::<Vec<_>>().join(";"),
        "recommended_tests" | "guidance" => t
            .split(';')
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .collect::<Vec<_>>()
            .join(";"),
        _ => t.to_string(),
    }
}

/// Undoes the CSV writer's spreadsheet protection (`'=x` was written for `=x`) so that a
/// CSV file and a Parquet or NDJSON file of the same run hold the same keys.
fn unneutralise(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if neutralise(rest) != rest => rest,
        _ => cell,
    }
}

/// Builds a row from a column accessor (None = the column does not exist).
fn build_row(
    file: &str,
    format: OutputFormat,
    position: u64,
    want_evidence: bool,
    get: impl Fn(&str) -> Option<String>,
    side: &mut DiffSide,
) -> Result<ResultRow, DiffError> {
    let need = |column: &str| {
        get(column).ok_or_else(|| DiffError::MissingColumn {
            file: file.to_string(),
            column: column.to_string(),
            location: format!(" ({})", location(format, position)),
        })
    };
    let key = PanelKey {
        patient_id: need("patient_id")?.trim().to_string(),
        specimen_id: need("specimen_id")?.trim().to_string(),
    };
    let mut values: [String; 10] = Default::default();
    for (i, c) in COMPARED_COLUMNS.iter().enumerate() {
        values[i] = normalise(c, &need(c)?);
    }
    for (column, set) in [
        ("ruleset_version", &mut side.ruleset_versions),
        ("ruleset_checksum", &mut side.ruleset_checksums),
    ] {
        if let Some(v) = get(column) {
            let v = v.trim();
            if !v.is_empty() && !set.iter().any(|x| x == v) {
                set.push(v.to_string());
                set.sort();
            }
        }
    }
    Ok(ResultRow {
        key,
        values,
        evidence: if want_evidence {
            get("evidence").unwrap_or_default()
        } else {
            String::new()
        },
        position,
    })
}

fn check_header(file: &str, names: &[String]) -> Result<(), DiffError> {
    for column in KEY_COLUMNS.iter().chain(COMPARED_COLUMNS.iter()) {
        if !names.iter().any(|n| n == column) {
            return Err(DiffError::MissingColumn {
                file: file.to_string(),
                column: column.to_string(),
                location: String::new(),
            });
        }
    }
    Ok(())
}

/// Reads every row of a result file, in file order.
fn read_results(
    path: &Path,
    format: OutputFormat,
    want_evidence: bool,
    side: &mut DiffSide,
    visit: &mut dyn FnMut(ResultRow) -> Result<(), DiffError>,
) -> Result<(), DiffError> {
    let file = path.display().to_string();
    let unreadable = |message: String| DiffError::Unreadable {
        file: file.clone(),
        message,
    };
    let f = File::open(path).map_err(|e| unreadable(e.to_string()))?;
    match format {
        OutputFormat::Csv => {
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(true)
                .flexible(true)
                .from_reader(BufReader::with_capacity(1 << 20, f));
            let names: Vec<String> = reader
                .headers()
                .map_err(|e| unreadable(e.to_string()))?
                .iter()
                .map(|h| h.trim_start_matches('\u{feff}').trim().to_ascii_lowercase())
                .collect();
            check_header(&file, &names)?;
            let index: HashMap<&str, usize> = names
                .iter()
                .enumerate()
                .map(|(i, n)| (n.as_str(), i))
                .collect();
            let mut record = csv::StringRecord::new();
            while reader
                .read_record(&mut record)
                .map_err(|e| unreadable(e.to_string()))?
            {
                let line = record.position().map_or(0, |p| p.line());
                let get = |c: &str| {
                    index
                        .get(c)
                        .map(|i| unneutralise(record.get(*i).unwrap_or("")).to_string())
                };
                visit(build_row(&file, format, line, want_evidence, get, side)?)?;
            }
        }
        OutputFormat::Ndjson => {
            for (i, line) in BufReader::with_capacity(1 << 20, f).lines().enumerate() {
                let line = line.map_err(|e| unreadable(e.to_string()))?;
                if line.trim().is_empty() {
                    continue;
                }
                let object: serde_json::Map<String, serde_json::Value> =
                    serde_json::from_str(&line)
                        .map_err(|e| unreadable(format!("line {}: {e}", i + 1)))?;
                let get = |c: &str| object.get(c).map(|v| json_text(c, v));
                let position = i as u64 + 1;
                visit(build_row(
                    &file,
                    format,
                    position,
                    want_evidence,
                    get,
                    side,
                )?)?;
            }
        }
        OutputFormat::Parquet => read_parquet(f, &file, want_evidence, side, visit)?,
    }
    Ok(())
}

fn list_separator(column: &str) -> &'static str {
    if column == "evidence" || column == "guidance_text" {
        EVIDENCE_SEPARATOR
    } else {
        ";"
    }
}

fn json_text(column: &str, v: &serde_json::Value) -> String {
    use serde_json::Value;
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .map(|x| json_text("", x))
            .collect::<Vec<_>>()
            .join(list_separator(column)),
        other => other.to_string(),
    }
}

fn read_parquet(
    f: File,
    file: &str,
    want_evidence: bool,
    side: &mut DiffSide,
    visit: &mut dyn FnMut(ResultRow) -> Result<(), DiffError>,
) -> Result<(), DiffError> {
    use polars::prelude::*;
    let unreadable = |message: String| DiffError::Unreadable {
        file: file.to_string(),
        message,
    };
    let mut reader = ParquetReader::new(f);
    let metadata = reader
        .get_metadata()
        .map_err(|e| unreadable(e.to_string()))?;
    if let Some(kv) = &metadata.key_value_metadata {
        for entry in kv {
            if entry.key == "anemia_engine.ruleset_checksum" {
                if let Some(v) = &entry.value {
                    if !side.ruleset_checksums.contains(v) {
                        side.ruleset_checksums.push(v.clone());
                    }
                }
            }
        }
    }
    let df = reader.finish().map_err(|e| unreadable(e.to_string()))?;
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|n| n.to_ascii_lowercase())
        .collect();
    check_header(file, &names)?;
    let wanted = KEY_COLUMNS
        .iter()
        .chain(COMPARED_COLUMNS.iter())
        .chain(["evidence", "ruleset_version", "ruleset_checksum"].iter());
    let mut columns: HashMap<&str, ParquetText> = HashMap::new();
    for name in wanted {
        if *name == "evidence" && !want_evidence {
            continue;
        }
        if let Some(i) = names.iter().position(|n| n == name) {
            let column = ParquetText::new(&df.columns()[i], name).map_err(unreadable)?;
            columns.insert(name, column);
        }
    }
    for row in 0..df.height() {
        let get = |c: &str| columns.get(c).map(|t| t.get(row));
        let position = row as u64 + 1;
        visit(build_row(
            file,
            OutputFormat::Parquet,
            position,
            want_evidence,
            get,
            side,
        )?)?;
    }
    Ok(())
}

/// One Parquet column read as text, row by row (lists joined as the CSV writer joins them).
enum ParquetText {
    Text(polars::prelude::StringChunked),
    List(polars::prelude::ListChunked, &'static str),
}

impl ParquetText {
    fn new(column: &polars::prelude::Column, name: &str) -> Result<ParquetText, String> {
        use polars::prelude::*;
        let series = column.as_materialized_series();
        if let DataType::List(_) = series.dtype() {
            let lists = series.list().map_err(|e| e.to_string())?;
            return Ok(ParquetText::List(lists.clone(), list_separator(name)));
        }
        let cast = series.cast(&DataType::String).map_err(|e| e.to_string())?;
        Ok(ParquetText::Text(
            cast.str().map_err(|e| e.to_string())?.clone(),
        ))
    }

    fn get(&self, row: usize) -> String {
        use polars::prelude::*;
        match self {
            ParquetText::Text(strings) => strings.get(row).unwrap_or("").to_string(),
            ParquetText::List(lists, separator) => lists
                .get_as_series(row)
                .and_then(|inner| inner.cast(&DataType::String).ok())
                .and_then(|inner| {
                    inner.str().ok().map(|s| {
                        s.iter()
                            .map(|v| v.unwrap_or(""))
                            .collect::<Vec<_>>()
                            .join(separator)
                    })
                })
                .unwrap_or_default(),
        }
    }
}

/// `;`-separated columns.
const LIST_COLUMNS: [&str; 3] = ["flags", "recommended_tests", "guidance"];

fn or_none(list: &str) -> &str {
    if list.is_empty() {
        "(none)"
    } else {
        list
    }
}

fn or_empty(s: &str) -> &str {
    if s.is_empty() {
        "(empty)"
    } else {
        s
    }
}

/// Line diff of two evidence lists: (marker, line) with ' ' common, '-' OLD only, '+' NEW only.
fn evidence_diff<'a>(old: &'a [String], new: &'a [String]) -> Vec<(char, &'a str)> {
    let (n, m) = (old.len(), new.len());
    // Longest common subsequence table, from the end.
    let mut lcs = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if old[i] == new[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::with_capacity(n.max(m));
    while i < n || j < m {
        if i < n && j < m && old[i] == new[j] {
            out.push((' ', old[i].as_str()));
            i += 1;
            j += 1;
        } else if i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1]) {
            out.push(('-', old[i].as_str()));
            i += 1;
        } else {
            out.push(('+', new[j].as_str()));
            j += 1;
        }
    }
    out
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

    /// The human-readable report.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        for (label, side) in [("OLD", &self.old), ("NEW", &self.new)] {
            let mut provenance = Vec::new();
            if !side.ruleset_versions.is_empty() {
                provenance.push(format!("ruleset {}", side.ruleset_versions.join(", ")));
            }
            if !side.ruleset_checksums.is_empty() {
                provenance.push(side.ruleset_checksums.join(", "));
            }
            s.push_str(&format!(
                "{label}: {} ({} panels{}{})\n",
                side.name,
                side.panels,
                if provenance.is_empty() { "" } else { "; " },
                provenance.join(", ")
            ));
        }
        s.push_str(&format!(
            "Panels are matched by (patient_id, specimen_id). A panel is changed when any of {} differs; evidence is shown, not compared.\n\n",
            COMPARED_COLUMNS.join(", ")
        ));
        s.push_str(&format!(
            "  unchanged    {:>7}\n  changed      {:>7}\n  only in OLD  {:>7}\n  only in NEW  {:>7}\n",
            self.unchanged,
            self.changed.len(),
            self.only_in_old.len(),
            self.only_in_new.len()
        ));
        if self.changed.is_empty() && self.only_in_old.is_empty() && self.only_in_new.is_empty() {
            s.push_str("\nNo differences.\n");
            return s;
        }

        s.push_str("\nColumns changed (panels)\n");
        push_table(
            &mut s,
            self.column_changes()
                .into_iter()
                .map(|(c, n)| (c.to_string(), n)),
        );
        s.push_str("\nClassification transitions, OLD -> NEW (panels)\n");
        push_table(
            &mut s,
            self.transitions()
                .into_iter()
                .map(|(o, n, k)| (format!("{o} -> {n}"), k)),
        );
        s.push_str("\nFlags gained (panels)\n");
        push_table(&mut s, self.flags_gained());
        s.push_str("\nFlags lost (panels)\n");
        push_table(&mut s, self.flags_lost());

        if !self.changed.is_empty() {
            s.push_str("\nChanged panels, in NEW's order (+: only in NEW, -: only in OLD)\n");
        }
        for c in &self.changed {
            s.push_str(&format!("\n{}\n", c.key));
            let changed = c.changed_columns();
            for (i, column) in COMPARED_COLUMNS.iter().enumerate() {
                let always = i == CLASSIFICATION || i == FLAGS;
                if !always && !changed.contains(column) {
                    continue;
                }
                if c.old[i] == c.new[i] {
                    let value = if LIST_COLUMNS.contains(column) {
                        or_none(&c.old[i])
                    } else {
                        or_empty(&c.old[i])
                    };
                    s.push_str(&format!("  {column:<18} {value} (unchanged)\n"));
                    continue;
                }
                if LIST_COLUMNS.contains(column) {
                    let (old, new) = (list(&c.old[i]), list(&c.new[i]));
                    let changes: Vec<String> = new
                        .difference(&old)
                        .map(|x| format!("+{x}"))
                        .chain(old.difference(&new).map(|x| format!("-{x}")))
                        .collect();
                    // Flags in full; tests and guidance as what was added and removed
                    // (in full when only their order changed).
                    if i == FLAGS || changes.is_empty() {
                        s.push_str(&format!(
                            "  {column:<18} {} -> {}",
                            or_none(&c.old[i]),
                            or_none(&c.new[i])
                        ));
                        if !changes.is_empty() {
                            s.push_str(&format!("  ({})", changes.join(", ")));
                        }
                        s.push('\n');
                    } else {
                        s.push_str(&format!("  {column:<18} {}\n", changes.join(", ")));
                    }
                } else {
                    s.push_str(&format!(
                        "  {column:<18} {} -> {}\n",
                        or_empty(&c.old[i]),
                        or_empty(&c.new[i])
                    ));
                }
            }
            s.push_str("  evidence\n");
            for (mark, line) in evidence_diff(&c.old_evidence, &c.new_evidence) {
                s.push_str(&format!("    {mark} {line}\n"));
            }
        }
        for (title, keys) in [
            ("Only in OLD, in OLD's order", &self.only_in_old),
            ("Only in NEW, in NEW's order", &self.only_in_new),
        ] {
            if keys.is_empty() {
                continue;
            }
            s.push_str(&format!("\n{title}\n"));
            for k in keys.iter().take(MAX_LISTED_KEYS) {
                s.push_str(&format!("  {k}\n"));
            }
            if keys.len() > MAX_LISTED_KEYS {
                s.push_str(&format!(
                    "  ... and {} more\n",
                    keys.len() - MAX_LISTED_KEYS
                ));
            }
        }
        s
    }

    /// Writes the changed panels as CSV ([`CHANGES_COLUMNS`]), in NEW's order; the file
    /// appears only when complete.
    pub fn write_changes_csv(&self, path: &Path) -> Result<(), DiffError> {
        let write_err = |message: String| DiffError::Write {
            path: path.display().to_string(),
            message,
        };
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let tmp = tempfile::Builder::new()
            .prefix(".anemia-engine-diff.")
            .suffix(".tmp")
            .tempfile_in(&dir)
            .map_err(|e| write_err(e.to_string()))?;
        {
            let mut w = csv::Writer::from_writer(std::io::BufWriter::new(tmp.as_file()));
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
                    c.old_evidence.join(EVIDENCE_SEPARATOR),
                    c.new_evidence.join(EVIDENCE_SEPARATOR),
                ];
                w.write_record(record.iter().map(|f| neutralise(f).into_owned()))
                    .map_err(|e| write_err(e.to_string()))?;
            }
            let mut inner = w.into_inner().map_err(|e| write_err(e.to_string()))?;
            inner.flush().map_err(|e| write_err(e.to_string()))?;
        }
        tmp.persist(path)
            .map(|_| ())
            .map_err(|e| write_err(e.error.to_string()))
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

fn push_table(s: &mut String, rows: impl IntoIterator<Item = (String, usize)>) {
    let rows: Vec<(String, usize)> = rows.into_iter().collect();
    if rows.is_empty() {
        s.push_str("  none\n");
        return;
    }
    let width = rows.iter().map(|(l, _)| l.len()).max().unwrap_or(0);
    for (label, n) in rows {
        s.push_str(&format!("  {label:<width$}  {n:>7}\n"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_normalise_across_formats() {
        assert_eq!(normalise("hb_threshold_g_dl", "12"), "12.0");
        assert_eq!(normalise("hb_threshold_g_dl", "12.0"), "12.0");
        assert_eq!(normalise("hb_threshold_g_dl", ""), "");
        assert_eq!(normalise("anemia", "True"), "true");
        assert_eq!(normalise("flags", "B;A;"), "A;B");
        assert_eq!(normalise("guidance", "b; a"), "b;a");
        assert_eq!(unneutralise("'=cmd"), "=cmd");
        assert_eq!(unneutralise("'-1.5"), "'-1.5");
        assert_eq!(unneutralise("P001"), "P001");
    }

    #[test]
    fn evidence_diff_marks_removed_and_added_lines() {
        let old: Vec<String> = ["A", "B", "C"].iter().map(|s| s.to_string()).collect();
        let new: Vec<String> = ["A", "X", "C", "D"].iter().map(|s| s.to_string()).collect();
        let d: Vec<String> = evidence_diff(&old, &new)
            .into_iter()
            .map(|(m, l)| format!("{m}{l}"))
            .collect();
        assert_eq!(d, [" A", "-B", "+X", " C", "+D"]);
    }

    #[test]
    fn json_lists_join_like_csv() {
        let v = serde_json::json!(["A", "B"]);
        assert_eq!(json_text("flags", &v), "A;B");
        assert_eq!(json_text("evidence", &v), "A | B");
        assert_eq!(json_text("anemia", &serde_json::json!(true)), "true");
        assert_eq!(json_text("severity", &serde_json::Value::Null), "");
    }
}
