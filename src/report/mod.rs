//! Writers for the classified rows (CSV, Parquet, NDJSON), the rejects file and the summary.
//! Report never decides: it renders what rules and guidance produced.

mod csv_out;
mod ndjson;
mod parquet;
pub mod rejects;
pub mod summary;

use std::io::Write;

use crate::analyte::Analyte;
use crate::cell::Cell;
use crate::guidance;
use crate::panel::Panel;
use crate::rules::Outcome;
use crate::ruleset::Ruleset;

pub use csv_out::neutralise;

/// Decimals of canonical analyte values and `age_years` in every output.
pub const VALUE_DECIMALS: usize = 2;
/// Decimals of `hb_threshold_g_dl`.
pub const THRESHOLD_DECIMALS: usize = 1;

/// Output format of the classified rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Csv,
    Parquet,
    Ndjson,
}

impl OutputFormat {
    /// Infers the format from an output path's extension.
    pub fn from_path(path: &std::path::Path) -> Option<OutputFormat> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "csv" => Some(OutputFormat::Csv),
            "parquet" => Some(OutputFormat::Parquet),
            "ndjson" | "jsonl" => Some(OutputFormat::Ndjson),
            _ => None,
        }
    }
}

/// One rendered output value.
#[derive(Clone, Debug, PartialEq)]
pub enum Field {
    Text(String),
    /// Fixed-precision number; None = empty.
    Number(Option<f64>, usize),
    Bool(Option<bool>),
    /// A list: `;`-joined in CSV/Parquet (evidence: ` | `), an array in NDJSON.
    List(Vec<String>, &'static str),
}

/// The typed kind of an output column (Parquet column types; fixed, whatever the rows).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnKind {
    Text,
    Number,
    Bool,
}

pub fn column_kind(name: &str) -> ColumnKind {
    match name {
        "age_years" | "hb_threshold_g_dl" => ColumnKind::Number,
        "anemia" => ColumnKind::Bool,
        _ => ColumnKind::Text,
    }
}

/// The columns that carry the engine's decisions for a panel, in output order (a change in
/// any of them is a changed result; `diff` compares these).
pub const DECISION_COLUMNS: [&str; 10] = [
    "anemia",
    "hb_threshold_g_dl",
    "severity",
    "morphology",
    "inflammation",
    "iron_status",
    "classification",
    "flags",
    "recommended_tests",
    "guidance",
];

/// Column names, in output order.
pub fn column_names(with_guidance_text: bool) -> Vec<String> {
    let mut cols: Vec<String> = [
        "patient_id",
        "specimen_id",
        "collected_at",
        "sex",
        "age_years",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    cols.extend(Analyte::ALL.iter().map(|a| a.canonical_column()));
    cols.extend(
        DECISION_COLUMNS
            .iter()
            .chain(&["evidence", "ruleset_version", "ruleset_checksum"])
            .map(|s| s.to_string()),
    );
    if with_guidance_text {
        cols.push("guidance_text".to_string());
    }
    cols
}

/// Renders one classified panel into output fields (same order as [`column_names`]).
pub fn render_row(
    panel: &Panel,
    outcome: &Outcome,
    guidance_ids: &[crate::vocab::GuidanceId],
    rs: &Ruleset,
    with_guidance_text: bool,
) -> Vec<Field> {
    let mut f = Vec::with_capacity(45);
    f.push(Field::Text(panel.patient_id.clone()));
    f.push(Field::Text(panel.specimen_id.clone()));
    f.push(Field::Text(panel.collected_at.clone()));
    f.push(Field::Text(panel.sex_raw.clone()));
    f.push(Field::Number(outcome.age_years, VALUE_DECIMALS));
    for a in Analyte::ALL {
        f.push(Field::Text(match panel.cell(a) {
            Cell::Value(m) => m.render(VALUE_DECIMALS),
            _ => String::new(),
        }));
    }
    f.push(Field::Bool(outcome.anemia));
    f.push(Field::Number(outcome.hb_threshold_g_dl, THRESHOLD_DECIMALS));
    f.push(Field::Text(
        outcome.severity.map_or("", |s| s.code()).to_string(),
    ));
    f.push(Field::Text(outcome.morphology.code().to_string()));
    f.push(Field::Text(outcome.inflammation.code().to_string()));
    f.push(Field::Text(outcome.iron_status.code().to_string()));
    f.push(Field::Text(outcome.classification.code().to_string()));
    f.push(Field::List(
        outcome.flags.iter().map(|x| x.code().to_string()).collect(),
        ";",
    ));
    f.push(Field::List(
        outcome
            .recommended_tests
            .iter()
            .map(|x| x.code().to_string())
            .collect(),
        ";",
    ));
    f.push(Field::List(
        guidance_ids.iter().map(|s| s.to_string()).collect(),
        ";",
    ));
    f.push(Field::List(
        outcome.evidence.iter().map(|e| e.to_string()).collect(),
        " | ",
    ));
    f.push(Field::Text(rs.version.clone()));
    f.push(Field::Text(rs.checksum.clone()));
    if with_guidance_text {
        f.push(Field::List(
            guidance_ids
                .iter()
                .map(|id| guidance::render_text(*id, outcome, rs))
                .collect(),
            " | ",
        ));
    }
    f
}

/// Formats a number with fixed decimals (no exponent, no `-0`).
pub fn fixed(x: f64, decimals: usize) -> String {
    let s = format!("{x:.decimals$}");
    if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
        s[1..].to_string()
    } else {
        s
    }
}

/// A sink for classified rows.
pub trait RowWriter {
    fn write_row(&mut self, fields: Vec<Field>) -> Result<(), String>;
    /// Writes rows already encoded by this format's [`Encoder`].
    fn write_encoded(&mut self, bytes: &[u8]) -> Result<(), String>;
    /// Flushes and closes; returns nothing written after this.
    fn finish(self: Box<Self>) -> Result<(), String>;
}

/// Encodes rows to bytes independently of the sink, so rows can be encoded on several
/// threads and written in order. Parquet buffers typed columns instead.
#[derive(Clone, Debug)]
pub enum Encoder {
    Csv,
    Ndjson(Vec<String>),
    Buffered,
}

impl Encoder {
    /// Appends the encoded row to `out`; false when the format does not encode rows (Parquet).
    pub fn encode(&self, fields: &[Field], out: &mut Vec<u8>) -> Result<bool, String> {
        match self {
            Encoder::Csv => {
                csv_out::encode_row(fields, out);
                Ok(true)
            }
            Encoder::Ndjson(columns) => {
                ndjson::encode_row(columns, fields, out)?;
                Ok(true)
            }
            Encoder::Buffered => Ok(false),
        }
    }
}

/// Creates the writer of a format over any byte sink, with its row encoder.
pub fn writer(
    format: OutputFormat,
    out: Box<dyn Write + Send>,
    columns: Vec<String>,
    metadata: Vec<(String, String)>,
) -> Result<(Box<dyn RowWriter>, Encoder), String> {
    Ok(match format {
        OutputFormat::Csv => (
            Box::new(csv_out::CsvRows::new(out, &columns)?),
            Encoder::Csv,
        ),
        OutputFormat::Ndjson => (
            Box::new(ndjson::NdjsonRows::new(out, columns.clone())),
            Encoder::Ndjson(columns),
        ),
        OutputFormat::Parquet => (
            Box::new(parquet::ParquetRows::new(out, columns, metadata)?),
            Encoder::Buffered,
        ),
    })
}
