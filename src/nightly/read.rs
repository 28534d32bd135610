//! Reading result files for `anemia-engine report`: a polars lazy scan of the few columns the
//! report needs (CSV, TSV, Parquet, NDJSON, Arrow IPC), streamed in batches into a
//! [`Collector`], so memory stays bounded whatever the file size. The run summary JSON next
//! to a result file (or given with `--summary`) supplies the ledger; without one, the ledger
//! is derived from the result rows and the default rejects file.

use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use polars::prelude::*;

use super::collect::{Collector, ReportRow};
use super::{Ledger, ReportError};
use crate::report::{neutralise, OutputFormat};
use crate::vocab::Label;

/// What reading one result file found besides its rows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FileInfo {
    pub name: String,
    pub rows: u64,
    /// `ruleset_checksum` values of its rows (sorted, distinct).
    pub ruleset_checksums: Vec<String>,
}

/// Undoes the CSV writer's spreadsheet protection (`'=x` was written for `=x`).
fn unneutralise(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if neutralise(rest) != rest => rest,
        _ => cell,
    }
}

const TEXT_COLUMNS: [&str; 3] = ["site", "analyzer_id", "ruleset_checksum"];
const VALUE_COLUMNS: [&str; 4] = ["hb_g_dl", "ferritin_ug_l", "stfr_mg_l", "ret_he_pg"];

fn scan(path: &Path, format: OutputFormat) -> PolarsResult<LazyFrame> {
    let p = PlRefPath::new(path.to_string_lossy().as_ref());
    match format {
        OutputFormat::Csv | OutputFormat::Tsv => LazyCsvReader::new(p)
            .with_has_header(true)
            .with_separator(if format == OutputFormat::Tsv {
                b'\t'
            } else {
                b','
            })
            .with_infer_schema_length(Some(0))
            .with_glob(false)
            .finish(),
        OutputFormat::Ndjson => {
            // The columns read get their output types whatever the first rows hold (a column
            // null in every inferred row would otherwise be typed null).
            let mut overwrite = Schema::default();
            for c in VALUE_COLUMNS {
                overwrite.insert(c.into(), DataType::Float64);
            }
            for c in TEXT_COLUMNS
                .iter()
                .chain(["classification", "collected_at"].iter())
            {
                overwrite.insert((*c).into(), DataType::String);
            }
            overwrite.insert("flags".into(), DataType::List(Box::new(DataType::String)));
            LazyJsonLineReader::new(p)
                .with_infer_schema_length(NonZeroUsize::new(1000))
                .with_schema_overwrite(Some(Arc::new(overwrite)))
                .finish()
        }
        OutputFormat::Parquet => LazyFrame::scan_parquet(
            p,
            ScanArgsParquet {
                glob: false,
                ..ScanArgsParquet::default()
            },
        ),
        OutputFormat::Arrow => LazyFrame::scan_ipc(
            p,
            Default::default(),
            UnifiedScanArgs {
                glob: false,
                ..UnifiedScanArgs::default()
            },
        ),
    }
}

/// Days since 1970-01-01 of each `collected_at` (text or a timestamp column).
fn days(column: &Column) -> PolarsResult<Vec<Option<i32>>> {
    Ok(match column.dtype() {
        DataType::String => column
            .str()?
            .iter()
            .map(|v| {
                v.and_then(crate::isotime::iso_days)
                    .and_then(|d| i32::try_from(d).ok())
            })
            .collect(),
        DataType::Date => column.cast(&DataType::Int32)?.i32()?.iter().collect(),
        DataType::Null => vec![None; column.len()],
        _ => column
            .cast(&DataType::Datetime(TimeUnit::Microseconds, None))?
            .cast(&DataType::Int64)?
            .i64()?
            .iter()
            .map(|t| t.and_then(|t| i32::try_from(t.div_euclid(86_400_000_000)).ok()))
            .collect(),
    })
}

/// A column as text (cast once; rows are read as borrowed `&str`).
fn text_column(df: &DataFrame, name: &str) -> PolarsResult<Column> {
    df.column(name)?.cast(&DataType::String)
}

fn borrowed(column: &Column) -> PolarsResult<Vec<Option<&str>>> {
    Ok(column.str()?.iter().map(|v| v.map(unneutralise)).collect())
}

fn values(df: &DataFrame, name: &str) -> PolarsResult<Vec<Option<f64>>> {
    let c = df.column(name)?.cast(&DataType::Float64)?;
    Ok(c.f64()?.iter().collect())
}

/// The flag codes of a batch (a list column, or `;`-separated text in CSV).
fn count_flags(column: &Column, collector: &mut Collector) -> PolarsResult<()> {
    match column.dtype() {
        DataType::List(_) => {
            let flat = column.as_materialized_series().explode(ExplodeOptions {
                empty_as_null: true,
                keep_nulls: true,
            })?;
            let flat = flat.cast(&DataType::String)?;
            for code in flat.str()?.iter().flatten() {
                collector.count_flag(code);
            }
        }
        DataType::Null => {}
        _ => {
            let text = column.cast(&DataType::String)?;
            for cell in text.str()?.iter().flatten() {
                for code in cell.split(';').filter(|c| !c.is_empty()) {
                    collector.count_flag(code);
                }
            }
        }
    }
    Ok(())
}

/// Adds one batch of result rows to the collector; returns the checksums it saw.
fn add_batch(df: &DataFrame, collector: &mut Collector) -> PolarsResult<Vec<String>> {
    let label_column = text_column(df, "classification")?;
    let labels = borrowed(&label_column)?;
    let day = days(df.column("collected_at")?)?;
    let [hb, ferritin, stfr, ret_he] = [
        values(df, VALUE_COLUMNS[0])?,
        values(df, VALUE_COLUMNS[1])?,
        values(df, VALUE_COLUMNS[2])?,
        values(df, VALUE_COLUMNS[3])?,
    ];
    let site_column = text_column(df, "site")?;
    let site = borrowed(&site_column)?;
    let analyzer_column = text_column(df, "analyzer_id")?;
    let analyzer = borrowed(&analyzer_column)?;
    for i in 0..df.height() {
        let Some(label) = labels[i].and_then(Label::from_code) else {
            // The cell is not quoted: in a file that is not a result file it could be anything.
            return Err(PolarsError::ComputeError(
                format!(
                    "row {}: the classification is not a label code of this engine",
                    collector.rows() + 1
                )
                .into(),
            ));
        };
        let row = ReportRow {
            day: day[i],
            hb_g_dl: hb[i],
            ferritin_ug_l: ferritin[i],
            stfr_mg_l: stfr[i],
            ret_he_pg: ret_he[i],
            site: site[i].unwrap_or(""),
            analyzer_id: analyzer[i].unwrap_or(""),
        };
        collector.add(label, &row, std::iter::empty());
    }
    count_flags(df.column("flags")?, collector)?;
    let checksum_column = text_column(df, "ruleset_checksum")?;
    let mut checksums: Vec<String> = Vec::new();
    for c in checksum_column.str()?.iter().flatten() {
        if !checksums.iter().any(|seen| seen == c) {
            checksums.push(c.to_string());
        }
    }
    checksums.sort();
    Ok(checksums)
}

/// Streams the rows of one result file into `collector`.
pub fn read_results(
    path: &Path,
    collector: &Arc<Mutex<Collector>>,
) -> Result<FileInfo, ReportError> {
    let name = path.display().to_string();
    let unreadable = |e: PolarsError| ReportError::Unreadable {
        file: name.clone(),
        message: e.to_string(),
    };
    let format = OutputFormat::from_path(path).ok_or_else(|| {
        ReportError::Usage(format!(
            "cannot tell the format of {name} from its extension; report reads result files ending in .csv, .tsv, .parquet, .ndjson, .jsonl, .arrow or .ipc"
        ))
    })?;
    let mut lf = scan(path, format).map_err(unreadable)?;
    let schema = lf.collect_schema().map_err(unreadable)?;
    if schema.get("classification").is_none() {
        return Err(ReportError::Unreadable {
            file: name,
            message: "no classification column: is this a result file of anemia-engine?".into(),
        });
    }
    let mut select = vec![col("classification")];
    for c in ["collected_at", "flags"]
        .iter()
        .chain(VALUE_COLUMNS.iter())
        .chain(TEXT_COLUMNS.iter())
    {
        select.push(if schema.get(c).is_some() {
            col(*c)
        } else {
            lit(NULL).alias(*c)
        });
    }
    let before = collector.lock().map(|c| c.rows()).unwrap_or(0);
    let checksums: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = {
        let collector = Arc::clone(collector);
        let checksums = Arc::clone(&checksums);
        PlanCallback::new(move |df: DataFrame| -> PolarsResult<bool> {
            let mut c = collector
                .lock()
                .map_err(|_| PolarsError::ComputeError("report collector poisoned".into()))?;
            let seen = add_batch(&df, &mut c)?;
            if let Ok(mut all) = checksums.lock() {
                all.extend(seen);
                all.sort();
                all.dedup();
            }
            Ok(false)
        })
    };
    lf.select(select)
        .sink_batches(sink, true, None)
        .and_then(|lf| lf.collect_with_engine(Engine::Streaming))
        .map_err(unreadable)?;
    let after = collector.lock().map(|c| c.rows()).unwrap_or(0);
    let ruleset_checksums = checksums.lock().map(|c| c.clone()).unwrap_or_default();
    Ok(FileInfo {
        name,
        rows: after - before,
        ruleset_checksums,
    })
}

/// `<stem>.summary.json` and `<stem>.rejects.csv` next to a result file.
pub fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!("{stem}{suffix}"))
}

/// The ledger of a run summary JSON (as `classify --summary` writes it).
pub fn ledger_from_summary(path: &Path) -> Result<Ledger, ReportError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ReportError::Unreadable {
        file: name.clone(),
        message: e.to_string(),
    })?;
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| ReportError::Unreadable {
            file: name.clone(),
            message: format!("not a run summary (JSON): {e}"),
        })?;
    let n = |key: &str| v.get(key).and_then(serde_json::Value::as_u64);
    let (Some(rows_read), Some(classified), Some(rejected)) =
        (n("rows_read"), n("classified"), n("rejected"))
    else {
        return Err(ReportError::Unreadable {
            file: name,
            message: "not a run summary: rows_read, classified or rejected is missing".into(),
        });
    };
    let mut ledger = Ledger {
        source: format!("run summary {name}"),
        rows_read,
        classified,
        rejected,
        rows_used: n("rows_used").unwrap_or(classified),
        not_attached: n("not_attached").unwrap_or(0),
        balanced: v
            .get("ledger_balanced")
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false),
        ignored_known: true,
        ..Ledger::default()
    };
    if let Some(map) = v
        .get("rejected_by_reason")
        .and_then(serde_json::Value::as_object)
    {
        for (reason, count) in map {
            ledger
                .rejected_by_reason
                .push((reason.clone(), count.as_u64().unwrap_or(0)));
        }
    }
    if let Some(inputs) = v.get("inputs").and_then(serde_json::Value::as_array) {
        for input in inputs {
            let input_name = input
                .get("name")
                .and_then(serde_json::Value::as_str)
                .unwrap_or("")
                .to_string();
            if let Some(cols) = input
                .get("ignored_columns")
                .and_then(serde_json::Value::as_array)
            {
                for c in cols {
                    let s = |k: &str| {
                        c.get(k)
                            .and_then(serde_json::Value::as_str)
                            .unwrap_or("")
                            .to_string()
                    };
                    ledger
                        .ignored_columns
                        .push((input_name.clone(), s("column"), s("reason")));
                }
            }
            ledger.inputs.push(input_name);
        }
    }
    Ok(ledger)
}

/// Rejected rows by reason in a rejects file (`reason_code` column).
pub fn rejects_by_reason(path: &Path) -> Result<Vec<(String, u64)>, ReportError> {
    let name = path.display().to_string();
    let unreadable = |message: String| ReportError::Unreadable {
        file: name.clone(),
        message,
    };
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .map_err(|e| unreadable(e.to_string()))?;
    let headers = reader.headers().map_err(|e| unreadable(e.to_string()))?;
    let Some(at) = headers.iter().position(|h| h.trim() == "reason_code") else {
        return Err(unreadable(
            "no reason_code column: is this a rejects file?".into(),
        ));
    };
    let mut counts = std::collections::BTreeMap::<String, u64>::new();
    let mut record = csv::StringRecord::new();
    while reader
        .read_record(&mut record)
        .map_err(|e| unreadable(e.to_string()))?
    {
        *counts
            .entry(record.get(at).unwrap_or("").trim().to_string())
            .or_default() += 1;
    }
    Ok(counts.into_iter().collect())
}
