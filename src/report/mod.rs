//! Writers for the classified rows (CSV, Parquet, NDJSON), the rejects file and the summary.
//! Report never decides: it renders what rules and guidance produced.

pub mod atomic;
pub mod columns;
mod csv_out;
mod ndjson;
mod parquet;
pub mod rejects;
pub mod summary;

use std::io::{self, Write};

use crate::analyte::Analyte;
use crate::cell::Cell;
use crate::guidance;
use crate::panel::Panel;
use crate::rules::{Evidence, Outcome};
use crate::ruleset::Ruleset;
use crate::vocab::GuidanceId;

pub use columns::{
    column_kind, column_names, ColumnKind, DECISION_COLUMNS, THRESHOLD_DECIMALS, VALUE_DECIMALS,
};
pub use csv_out::neutralise;

use columns::{CODE_SEPARATOR, TEXT_SEPARATOR};

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

/// Renders one classified panel into output fields (same order as [`column_names`]).
pub fn render_row(
    panel: &Panel,
    outcome: &Outcome,
    guidance_ids: &[GuidanceId],
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
        CODE_SEPARATOR,
    ));
    f.push(Field::List(
        outcome
            .recommended_tests
            .iter()
            .map(|x| x.code().to_string())
            .collect(),
        CODE_SEPARATOR,
    ));
    f.push(Field::List(
        guidance_ids.iter().map(|g| g.code().to_string()).collect(),
        CODE_SEPARATOR,
    ));
    f.push(Field::List(
        outcome.evidence.iter().map(Evidence::line).collect(),
        TEXT_SEPARATOR,
    ));
    f.push(Field::Text(rs.version.clone()));
    f.push(Field::Text(rs.checksum.clone()));
    if with_guidance_text {
        f.push(Field::List(
            guidance_ids
                .iter()
                .map(|id| guidance::render_text(*id, outcome, rs))
                .collect(),
            TEXT_SEPARATOR,
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
    fn write_row(&mut self, fields: Vec<Field>) -> io::Result<()>;
    /// Writes rows already encoded by this format's [`Encoder`].
    fn write_encoded(&mut self, bytes: &[u8]) -> io::Result<()>;
    /// Flushes and closes; returns nothing written after this.
    fn finish(self: Box<Self>) -> io::Result<()>;
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
    pub fn encode(&self, fields: &[Field], out: &mut Vec<u8>) -> io::Result<bool> {
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
) -> io::Result<(Box<dyn RowWriter>, Encoder)> {
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

/// A csv crate error as an io error, keeping the kind of an underlying io error (a closed
/// pipe stays `BrokenPipe`) and the csv error's message.
pub(crate) fn csv_io(e: csv::Error) -> io::Error {
    let kind = match e.kind() {
        csv::ErrorKind::Io(inner) => inner.kind(),
        _ => io::ErrorKind::Other,
    };
    io::Error::new(kind, e)
}

#[cfg(test)]
mod tests {
    use super::columns::{value_type, ValueType};
    use super::*;

    /// Every rendered field has the type, decimals and separator the column table gives.
    #[test]
    fn rendered_rows_follow_the_column_table() {
        let rs = Ruleset::embedded().unwrap();
        let panel = Panel::new(0, 2, "P1".into(), "S1".into());
        let outcome = crate::rules::evaluate(&panel, &rs);
        let fields = render_row(&panel, &outcome, &[GuidanceId::ALL[0]], &rs, true);
        let names = column_names(true);
        assert_eq!(fields.len(), names.len());
        for (name, field) in names.iter().zip(&fields) {
            match (value_type(name), field) {
                (ValueType::Text, Field::Text(_)) | (ValueType::Bool, Field::Bool(_)) => {}
                (ValueType::Number { decimals }, Field::Number(_, d)) => {
                    assert_eq!(decimals, *d, "{name}")
                }
                (ValueType::List { separator }, Field::List(_, s)) => {
                    assert_eq!(separator, *s, "{name}")
                }
                (t, f) => panic!("{name}: table says {t:?}, rendered {f:?}"),
            }
        }
    }
}
