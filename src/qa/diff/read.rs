//! Reading result files (CSV, NDJSON, Parquet) into rows normalised for comparison, so that
//! the same result reads the same whatever the format it was written in.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use super::model::{
    list, DiffError, DiffSide, PanelKey, COMPARED_COLUMNS, EVIDENCE_SEPARATOR, KEY_COLUMNS,
};
use crate::report::columns::META_RULESET_CHECKSUM as CHECKSUM_KEY;
use crate::report::{neutralise, OutputFormat};

/// One row of a result file, normalised for comparison.
#[derive(Clone, Debug)]
pub(super) struct ResultRow {
    pub(super) key: PanelKey,
    /// Normalised values of [`COMPARED_COLUMNS`].
    pub(super) values: [String; 10],
    /// Empty unless asked for.
    pub(super) evidence: String,
    /// Line (CSV, NDJSON) or 1-based row (Parquet).
    pub(super) position: u64,
}

/// The format of a result file, from its extension.
pub fn result_format(path: &Path) -> Result<OutputFormat, DiffError> {
    OutputFormat::from_path(path).ok_or_else(|| {
        DiffError::Usage(format!(
            "cannot tell the format of {} from its extension; diff reads result files ending in .csv, .tsv, .parquet, .ndjson, .jsonl, .arrow or .ipc",
            path.display()
        ))
    })
}

/// `line 3` (CSV, NDJSON) or `row 3` (Parquet).
pub(super) fn location(format: OutputFormat, position: u64) -> String {
    match format {
        OutputFormat::Parquet | OutputFormat::Arrow => format!("row {position}"),
        _ => format!("line {position}"),
    }
}

/// Normalises one compared value so that the same result reads the same in every format.
fn normalise(column: &str, raw: &str) -> String {
    let t = raw.trim();
    match column {
        // 10.5 (CSV), 10.5 (NDJSON number) and 10.50 all mean the same cutoff.
        "hb_threshold_g_dl" => t
            .parse::<f64>()
            .map_or_else(|_| t.to_string(), |x| format!("{x:.1}")),
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

/// The function each row read is given to, in file order.
pub(super) type Visit<'a> = &'a mut dyn FnMut(ResultRow) -> Result<(), DiffError>;

/// Reads every row of a result file, in file order.
pub(super) fn read_results(
    path: &Path,
    format: OutputFormat,
    want_evidence: bool,
    side: &mut DiffSide,
    visit: Visit,
) -> Result<(), DiffError> {
    let file = path.display().to_string();
    let f = File::open(path).map_err(|e| unreadable(&file, e.to_string()))?;
    match format {
        OutputFormat::Csv => read_csv(f, b',', &file, want_evidence, side, visit),
        OutputFormat::Tsv => read_csv(f, b'\t', &file, want_evidence, side, visit),
        OutputFormat::Ndjson => read_ndjson(f, &file, want_evidence, side, visit),
        OutputFormat::Parquet => read_parquet(f, &file, want_evidence, side, visit),
        OutputFormat::Arrow => read_arrow(f, &file, want_evidence, side, visit),
    }
}

fn unreadable(file: &str, message: String) -> DiffError {
    DiffError::Unreadable {
        file: file.to_string(),
        message,
    }
}

fn read_csv(
    f: File,
    delimiter: u8,
    file: &str,
    want_evidence: bool,
    side: &mut DiffSide,
    visit: Visit,
) -> Result<(), DiffError> {
    let unreadable = |message: String| unreadable(file, message);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(BufReader::with_capacity(1 << 20, f));
    let names: Vec<String> = reader
        .headers()
        .map_err(|e| unreadable(e.to_string()))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').trim().to_ascii_lowercase())
        .collect();
    check_header(file, &names)?;
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
        visit(build_row(
            file,
            OutputFormat::Csv,
            line,
            want_evidence,
            get,
            side,
        )?)?;
    }
    Ok(())
}

fn read_ndjson(
    f: File,
    file: &str,
    want_evidence: bool,
    side: &mut DiffSide,
    visit: Visit,
) -> Result<(), DiffError> {
    let unreadable = |message: String| unreadable(file, message);
    for (i, line) in BufReader::with_capacity(1 << 20, f).lines().enumerate() {
        let line = line.map_err(|e| unreadable(e.to_string()))?;
        if line.trim().is_empty() {
            continue;
        }
        let object: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&line).map_err(|e| unreadable(format!("line {}: {e}", i + 1)))?;
        let get = |c: &str| object.get(c).map(|v| json_text(c, v));
        let position = i as u64 + 1;
        visit(build_row(
            file,
            OutputFormat::Ndjson,
            position,
            want_evidence,
            get,
            side,
        )?)?;
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

fn note_checksum(side: &mut DiffSide, checksum: &str) {
    if !side.ruleset_checksums.iter().any(|c| c == checksum) {
        side.ruleset_checksums.push(checksum.to_string());
    }
}

fn read_parquet(
    f: File,
    file: &str,
    want_evidence: bool,
    side: &mut DiffSide,
    visit: Visit,
) -> Result<(), DiffError> {
    use polars::prelude::*;
    let unreadable = |message: String| unreadable(file, message);
    let mut reader = ParquetReader::new(f);
    let metadata = reader
        .get_metadata()
        .map_err(|e| unreadable(e.to_string()))?;
    if let Some(kv) = &metadata.key_value_metadata {
        for entry in kv {
            if entry.key == CHECKSUM_KEY {
                if let Some(v) = &entry.value {
                    note_checksum(side, v);
                }
            }
        }
    }
    let df = reader.finish().map_err(|e| unreadable(e.to_string()))?;
    read_frame(&df, OutputFormat::Parquet, file, want_evidence, side, visit)
}

fn read_arrow(
    f: File,
    file: &str,
    want_evidence: bool,
    side: &mut DiffSide,
    visit: Visit,
) -> Result<(), DiffError> {
    use polars::prelude::*;
    let unreadable = |message: String| unreadable(file, message);
    let mut reader = IpcReader::new(f);
    if let Ok(Some(meta)) = reader.custom_metadata() {
        if let Some(v) = meta.get(CHECKSUM_KEY) {
            note_checksum(side, v);
        }
    }
    let df = reader.finish().map_err(|e| unreadable(e.to_string()))?;
    read_frame(&df, OutputFormat::Arrow, file, want_evidence, side, visit)
}

/// Reads the rows of a result frame (Parquet, Arrow IPC).
fn read_frame(
    df: &polars::prelude::DataFrame,
    format: OutputFormat,
    file: &str,
    want_evidence: bool,
    side: &mut DiffSide,
    visit: Visit,
) -> Result<(), DiffError> {
    let unreadable = |message: String| unreadable(file, message);
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
        visit(build_row(file, format, position, want_evidence, get, side)?)?;
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
    fn json_lists_join_like_csv() {
        let v = serde_json::json!(["A", "B"]);
        assert_eq!(json_text("flags", &v), "A;B");
        assert_eq!(json_text("evidence", &v), "A | B");
        assert_eq!(json_text("anemia", &serde_json::json!(true)), "true");
        assert_eq!(json_text("severity", &serde_json::Value::Null), "");
    }
}
